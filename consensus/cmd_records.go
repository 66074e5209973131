package consensus

// Generic replicated records: (table, id) → Record, for domains whose
// model consensus need not understand (Qinling's runtimes, functions,
// packages, executions, ...). A change is conditional on the record's
// Version; a batch of changes applies all or nothing.

// Record is one replicated record. Body is opaque to consensus.
type Record struct {
	Table string
	ID    string
	// Version is the Raft index of the entry that last wrote the record:
	// unique and increasing, so a deleted and re-created record never
	// reuses one.
	Version uint64
	Body    []byte
}

// RecordChange is one conditional write of a record.
type RecordChange struct {
	Table string
	ID    string
	// ExpectVersion conditions the change: 0 for a put means the record
	// must not exist (ErrRecordExists); otherwise it must be the record's
	// Version (ErrRecordVersion; ErrRecordNotFound when absent). For a
	// delete 0 means whatever version exists (ErrRecordNotFound when
	// absent).
	ExpectVersion uint64
	// Delete removes the record; Body is ignored.
	Delete bool
	// Body is the record's new body.
	Body []byte
}
