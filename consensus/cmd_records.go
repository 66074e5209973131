package consensus

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/btree"
)

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

// recordDegree is the B-tree degree of a records table.
const recordDegree = 16

// recordTable holds one table's records by ID. Records are immutable once
// installed; the tree is copy-on-write, so a snapshot clones it in O(1).
type recordTable = btree.BTreeG[*Record]

func newRecordTable() *recordTable {
	return btree.NewG(recordDegree, func(a, b *Record) bool { return a.ID < b.ID })
}

// putRecords applies RecordChanges all or nothing.
// Fields: count:uvarint { table:string id:string expect:uvarint
// delete:bool [body:bytes] }; body is present unless delete.
type putRecords struct{ changes []RecordChange }

func encodePutRecords(cs []RecordChange) []byte {
	n := 8
	for i := range cs {
		n += len(cs[i].Table) + len(cs[i].ID) + len(cs[i].Body) + 24
	}
	e := newCommand(kindPutRecords, n)
	(&putRecords{cs}).encode(e)
	return e.b
}

func (c *putRecords) encode(e *encoder) {
	e.uvarint(uint64(len(c.changes)))
	for i := range c.changes {
		ch := &c.changes[i]
		e.string(ch.Table)
		e.string(ch.ID)
		e.uvarint(ch.ExpectVersion)
		e.bool(ch.Delete)
		if !ch.Delete {
			e.bytes(ch.Body)
		}
	}
}

func (c *putRecords) decode(d *decoder) {
	n := d.count(4)
	c.changes = make([]RecordChange, 0, n)
	for range n {
		ch := RecordChange{Table: d.string(), ID: d.string(), ExpectVersion: d.uvarint(), Delete: d.bool()}
		if !ch.Delete {
			ch.Body = d.bytes()
		}
		if d.err != nil {
			return
		}
		c.changes = append(c.changes, ch)
	}
}

// validateRecordChanges checks what can be checked without the state.
func validateRecordChanges(cs []RecordChange) error {
	if len(cs) == 0 {
		return fmt.Errorf("%w: no record changes", ErrInvalid)
	}
	type key struct{ table, id string }
	seen := make(map[key]bool, len(cs))
	for i := range cs {
		ch := &cs[i]
		switch {
		case ch.Table == "" || len(ch.Table) > maxNameLen:
			return fmt.Errorf("%w: record table must have 1 to %d bytes", ErrInvalid, maxNameLen)
		case ch.ID == "" || len(ch.ID) > maxNameLen:
			return fmt.Errorf("%w: record id must have 1 to %d bytes", ErrInvalid, maxNameLen)
		case seen[key{ch.Table, ch.ID}]:
			return fmt.Errorf("%w: record %s/%s changed twice in one batch", ErrInvalid, ch.Table, ch.ID)
		}
		seen[key{ch.Table, ch.ID}] = true
	}
	return nil
}

func (c *putRecords) apply(f *fsm, index uint64) (cmdResult, bool) {
	if err := validateRecordChanges(c.changes); err != nil {
		return cmdResult{err: err}, false
	}
	// Check every condition before changing anything: all or nothing.
	for i := range c.changes {
		ch := &c.changes[i]
		var cur *Record
		if t := f.records[ch.Table]; t != nil {
			cur, _ = t.Get(&Record{ID: ch.ID})
		}
		switch {
		case cur == nil && (ch.Delete || ch.ExpectVersion != 0):
			return cmdResult{err: fmt.Errorf("%w: %s/%s", ErrRecordNotFound, ch.Table, ch.ID)}, false
		case cur != nil && !ch.Delete && ch.ExpectVersion == 0:
			return cmdResult{err: fmt.Errorf("%w: %s/%s", ErrRecordExists, ch.Table, ch.ID)}, false
		case cur != nil && ch.ExpectVersion != 0 && cur.Version != ch.ExpectVersion:
			return cmdResult{err: fmt.Errorf("%w: %s/%s is at version %d, not %d", ErrRecordVersion, ch.Table, ch.ID, cur.Version, ch.ExpectVersion)}, false
		}
	}
	out := make([]Record, len(c.changes))
	f.rmu.Lock()
	for i := range c.changes {
		ch := &c.changes[i]
		t := f.records[ch.Table]
		if ch.Delete {
			t.Delete(&Record{ID: ch.ID})
			if t.Len() == 0 {
				delete(f.records, ch.Table)
			}
			out[i] = Record{Table: ch.Table, ID: ch.ID, Version: index}
			continue
		}
		if t == nil {
			t = newRecordTable()
			f.records[ch.Table] = t
		}
		rec := &Record{Table: ch.Table, ID: ch.ID, Version: index, Body: ch.Body}
		t.ReplaceOrInsert(rec)
		out[i] = *rec
	}
	close(f.recordsChanged)
	f.recordsChanged = make(chan struct{})
	f.rmu.Unlock()
	// Records are not "function records, config or the vbucket map":
	// their watchers use RecordsChanged, not Changed.
	return cmdResult{records: out}, false
}

// Read side.

func (f *fsm) record(table, id string) (Record, error) {
	f.rmu.RLock()
	defer f.rmu.RUnlock()
	if t := f.records[table]; t != nil {
		if r, ok := t.Get(&Record{ID: id}); ok {
			return *r, nil
		}
	}
	return Record{}, fmt.Errorf("%w: %s/%s", ErrRecordNotFound, table, id)
}

func (f *fsm) recordsWithPrefix(table, prefix string) []Record {
	f.rmu.RLock()
	defer f.rmu.RUnlock()
	t := f.records[table]
	if t == nil {
		return nil
	}
	var out []Record
	t.AscendGreaterOrEqual(&Record{ID: prefix}, func(r *Record) bool {
		if !strings.HasPrefix(r.ID, prefix) {
			return false
		}
		out = append(out, *r)
		return true
	})
	return out
}

func (f *fsm) recordsChangedCh() <-chan struct{} {
	f.rmu.RLock()
	defer f.rmu.RUnlock()
	return f.recordsChanged
}

// copyRecords clones every table (O(1) each, copy-on-write) for a snapshot,
// sorted by table name.
func (f *fsm) copyRecords() []recordSnap {
	f.rmu.Lock() // Clone must not run concurrently with itself
	defer f.rmu.Unlock()
	out := make([]recordSnap, 0, len(f.records))
	for name, t := range f.records {
		out = append(out, recordSnap{table: name, tree: t.Clone()})
	}
	slices.SortFunc(out, func(a, b recordSnap) int { return strings.Compare(a.table, b.table) })
	return out
}

// recordSnap is one table in a snapshot.
type recordSnap struct {
	table string
	tree  *recordTable
}

// Store methods.

// PutRecord applies one conditional record change (see RecordChange) and
// returns the record written (a deleted one without body).
func (s *Store) PutRecord(ctx context.Context, c RecordChange) (Record, error) {
	rs, err := s.PutRecords(ctx, c)
	if err != nil {
		return Record{}, err
	}
	return rs[0], nil
}

// PutRecords applies changes atomically: all of them, or, when any
// condition fails, none (the error names the first that failed). The
// records written are returned in order. All changes travel in one
// command, so their bodies together must stay under the largest command
// (64 MiB): ErrTooLarge otherwise.
func (s *Store) PutRecords(ctx context.Context, cs ...RecordChange) ([]Record, error) {
	if err := validateRecordChanges(cs); err != nil {
		return nil, err
	}
	res := s.submit(ctx, encodePutRecords(cs))
	if res.err != nil {
		return nil, res.err
	}
	return res.records, nil
}

// Record returns one record (ErrRecordNotFound when absent). Its Body is
// shared with the replica (records may be packages of many megabytes):
// read it, never modify it.
func (s *Store) Record(table, id string) (Record, error) { return s.fsm.record(table, id) }

// Records returns every record of a table, sorted by ID (Bodies shared
// as Record's).
func (s *Store) Records(table string) []Record { return s.fsm.recordsWithPrefix(table, "") }

// RecordsWithPrefix returns the records of a table whose ID starts with
// prefix, sorted by ID (Bodies shared as Record's).
func (s *Store) RecordsWithPrefix(table, prefix string) []Record {
	return s.fsm.recordsWithPrefix(table, prefix)
}

// RecordsChanged returns a channel closed at the next change of any
// record.
func (s *Store) RecordsChanged() <-chan struct{} { return s.fsm.recordsChangedCh() }
