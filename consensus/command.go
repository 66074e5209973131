package consensus

import "fmt"

// A command is one replicated operation, the unit a log entry carries (see
// entry.go). Its type holds the decoded fields and pairs their log
// encoding with what applying them does. Each domain's commands live in
// its own file, beside the encode functions the Store's write methods
// call:
//
//	cmd_keyspaces.go  buckets, scopes, collections
//	cmd_documents.go  document writes, expiry
//	cmd_functions.go  function records: change, delete, per-node reports
//	cmd_batches.go    eventing workers' commits (documents, checkpoints, timers)
//	cmd_config.go     config values
//	cmd_vbmap.go      the vbucket map
//	cmd_records.go    generic records (Qinling's resources)
//	cmd_indexes.go    secondary and primary indexes of collections
//
// A new command gets a new kind, a type in its domain's file and an entry
// in commands.
type command interface {
	// encode appends the fields; decode reads them back in the same order.
	encode(e *encoder)
	// decode reads the fields; a failure sticks in d.err.
	decode(d *decoder)
	// apply applies the command of the entry at index (FSM goroutine) and
	// reports whether function records, config or the vbucket map changed.
	// It returns application errors in the result.
	apply(f *fsm, index uint64) (res cmdResult, changed bool)
}

// cmdKind identifies a command: the first byte of its encoding. The values
// are part of the log format: never change or reuse one.
type cmdKind byte

const (
	kindCreateBucket     cmdKind = 1
	kindDeleteBucket     cmdKind = 2
	kindCreateScope      cmdKind = 3
	kindDeleteScope      cmdKind = 4
	kindCreateCollection cmdKind = 5
	kindDeleteCollection cmdKind = 6
	kindWriteDocs        cmdKind = 7
	kindChangeFunction   cmdKind = 8
	kindDeleteFunction   cmdKind = 9
	// 10 and 15 were pre-release layouts of commit_batch (10 without node
	// and epoch, 15 without timers and OnDeploy completion); they are
	// unknown kinds now.
	kindSetConfig      cmdKind = 11
	kindExpire         cmdKind = 12
	kindSetVBMap       cmdKind = 13
	kindReportFunction cmdKind = 14
	kindCommitBatch    cmdKind = 16
	kindPutRecords     cmdKind = 17
	kindCreateIndex    cmdKind = 18
	kindDropIndex      cmdKind = 19
)

// commandSpec is one kind of command in the table.
type commandSpec struct {
	// name is the kind in logs and errors.
	name string
	// new returns an empty command of the kind, to decode into.
	new func() command
}

// commands is the table of command kinds, indexed by kind; a zero entry is
// an unknown kind, whose commands fail with ErrInvalid.
var commands = [...]commandSpec{
	kindCreateBucket:     {"create_bucket", func() command { return new(createBucket) }},
	kindDeleteBucket:     {"delete_bucket", func() command { return new(deleteBucket) }},
	kindCreateScope:      {"create_scope", func() command { return new(createScope) }},
	kindDeleteScope:      {"delete_scope", func() command { return new(deleteScope) }},
	kindCreateCollection: {"create_collection", func() command { return new(createCollection) }},
	kindDeleteCollection: {"delete_collection", func() command { return new(deleteCollection) }},
	kindWriteDocs:        {"write_docs", func() command { return new(writeDocs) }},
	kindChangeFunction:   {"change_function", func() command { return new(changeFunction) }},
	kindDeleteFunction:   {"delete_function", func() command { return new(deleteFunction) }},
	kindSetConfig:        {"set_config", func() command { return new(setConfig) }},
	kindExpire:           {"expire", func() command { return new(expire) }},
	kindSetVBMap:         {"set_vbmap", func() command { return new(setVBMap) }},
	kindReportFunction:   {"report_function", func() command { return new(reportFunction) }},
	kindCommitBatch:      {"commit_batch", func() command { return new(commitBatch) }},
	kindPutRecords:       {"put_records", func() command { return new(putRecords) }},
	kindCreateIndex:      {"create_index", func() command { return new(createIndex) }},
	kindDropIndex:        {"drop_index", func() command { return new(dropIndex) }},
}

// spec returns k's entry in commands, nil for an unknown kind.
func (k cmdKind) spec() *commandSpec {
	if int(k) >= len(commands) || commands[k].new == nil {
		return nil
	}
	return &commands[k]
}

func (k cmdKind) String() string {
	if s := k.spec(); s != nil {
		return s.name
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// newCommand starts a command's encoding: its kind, with room for
// sizeHint bytes of fields. The encode functions then call their command's
// encode directly, not through the command interface, so that the encoder
// and the command stay on the stack.
func newCommand(kind cmdKind, sizeHint int) *encoder {
	e := &encoder{b: make([]byte, 0, sizeHint+16)}
	e.byte(byte(kind))
	return e
}

// decodeCommand reads a command's kind and fields from d: nil for an
// unknown kind.
func decodeCommand(d *decoder) (command, error) {
	spec := cmdKind(d.byte()).spec()
	if spec == nil {
		return nil, nil
	}
	c := spec.new()
	c.decode(d)
	return c, d.err
}
