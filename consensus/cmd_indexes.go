package consensus

import (
	"errors"

	"eventide/docstore"
)

// Index commands: secondary and primary indexes of the document store's
// collections (docstore builds and keeps them; their definitions are
// opaque here). Their errors are docstore's sentinels.
//
// A definition is compiled by Config.IndexCompiler twice: by the proposer
// before proposing (CreateIndex), so that a bad one never reaches the log,
// and by every FSM while applying. The compiler is deterministic and the
// same on every node, so a definition that still fails at apply time (a
// race with nothing: only a different build could disagree) fails with
// the same error on every node, and nothing changes anywhere.

// Index command flag bits.
const (
	indexPrimary     = 1 << 0 // create_index: a primary index
	indexIfNotExists = 1 << 1 // create_index: an existing name is success
	indexIfExists    = 1 << 0 // drop_index: a missing index is success
)

// createIndex creates an index and builds it from the collection's live
// documents. Fields: keyspace name:string flags:uvarint definition:bytes
type createIndex struct {
	ks    docstore.Keyspace
	name  string
	flags uint64
	def   []byte
}

func encodeCreateIndex(spec *IndexSpec) []byte {
	c := createIndex{ks: spec.Keyspace, name: spec.Name, def: spec.Definition}
	if spec.Primary {
		c.flags |= indexPrimary
	}
	if spec.IfNotExists {
		c.flags |= indexIfNotExists
	}
	e := newCommand(kindCreateIndex, keyspaceSize(c.ks)+len(c.name)+len(c.def)+8)
	c.encode(e)
	return e.b
}

func (c *createIndex) encode(e *encoder) {
	e.keyspace(c.ks)
	e.string(c.name)
	e.uvarint(c.flags)
	e.bytes(c.def)
}

func (c *createIndex) decode(d *decoder) {
	c.ks = d.keyspace()
	c.name = d.string()
	c.flags = d.uvarint()
	c.def = d.bytes()
}

func (c *createIndex) apply(f *fsm, _ uint64) (cmdResult, bool) {
	err := f.docs.CreateIndex(c.ks, c.name, c.def, c.flags&indexPrimary != 0)
	if c.flags&indexIfNotExists != 0 && errors.Is(err, docstore.ErrExists) {
		err = nil
	}
	return cmdResult{err: err}, false
}

// dropIndex removes an index. Fields: keyspace name:string flags:uvarint
type dropIndex struct {
	ks    docstore.Keyspace
	name  string
	flags uint64
}

func encodeDropIndex(ks docstore.Keyspace, name string, ifExists bool) []byte {
	c := dropIndex{ks: ks, name: name}
	if ifExists {
		c.flags |= indexIfExists
	}
	e := newCommand(kindDropIndex, keyspaceSize(ks)+len(name)+4)
	c.encode(e)
	return e.b
}

func (c *dropIndex) encode(e *encoder) {
	e.keyspace(c.ks)
	e.string(c.name)
	e.uvarint(c.flags)
}

func (c *dropIndex) decode(d *decoder) {
	c.ks = d.keyspace()
	c.name = d.string()
	c.flags = d.uvarint()
}

func (c *dropIndex) apply(f *fsm, _ uint64) (cmdResult, bool) {
	err := f.docs.DropIndex(c.ks, c.name)
	if c.flags&indexIfExists != 0 && errors.Is(err, docstore.ErrIndexNotFound) {
		err = nil
	}
	return cmdResult{err: err}, false
}
