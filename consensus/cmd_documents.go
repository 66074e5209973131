package consensus

import (
	"encoding/json"
	"slices"

	"eventide/docstore"
)

// Document commands: writes through the documents API and the expiry
// pager. Eventing workers' writes travel in commit_batch (cmd_batches.go)
// with the same mutation encoding.

// writeDocs applies each mutation on its own: one may fail, the others
// still apply. Fields: cas:uvarint mutations
type writeDocs struct {
	cas uint64
	ms  []docstore.Mutation
}

// encodeWriteDocs encodes ms with CAS base cas; size is their estimated
// encoded size (mutationSize), 0 if unknown.
func encodeWriteDocs(cas uint64, ms []docstore.Mutation, size int) []byte {
	e := newCommand(kindWriteDocs, size)
	(&writeDocs{cas, ms}).encode(e)
	return e.b
}

func (c *writeDocs) encode(e *encoder) {
	e.uvarint(c.cas)
	e.mutations(c.ms)
}

func (c *writeDocs) decode(d *decoder) {
	c.cas = d.uvarint()
	c.ms = d.mutations()
}

func (c *writeDocs) apply(f *fsm, _ uint64) (cmdResult, bool) {
	res := cmdResult{docs: make([]*docstore.Document, len(c.ms)), docErrs: make([]error, len(c.ms))}
	for i := range c.ms {
		res.docs[i], res.docErrs[i] = f.docs.Apply(c.ms[i], c.cas)
		if res.docErrs[i] != nil {
			res.docs[i] = nil
		}
	}
	return res, false
}

// expire expires every document due at now, the proposing leader's time.
// Fields: now:uvarint (Unix s) cas:uvarint
type expire struct {
	now uint32
	cas uint64
}

func encodeExpire(now uint32, cas uint64) []byte {
	e := newCommand(kindExpire, 0)
	(&expire{now, cas}).encode(e)
	return e.b
}

func (c *expire) encode(e *encoder) {
	e.uvarint(uint64(c.now))
	e.uvarint(c.cas)
}

func (c *expire) decode(d *decoder) {
	c.now = d.uint32()
	c.cas = d.uvarint()
}

func (c *expire) apply(f *fsm, _ uint64) (cmdResult, bool) {
	return cmdResult{n: f.docs.ExpireDue(c.now, c.cas)}, false
}

// Mutation field presence bits.
const (
	mutHasBody     = 1 << 0
	mutHasXattrs   = 1 << 1
	mutRequireRev  = 1 << 2
	mutPreserveExp = 1 << 3
)

// mutationSize estimates a mutation's encoded size (for buffer sizing and
// chunking; it need not be exact).
func mutationSize(m *docstore.Mutation) int {
	n := 48 + len(m.Keyspace.Bucket) + len(m.Keyspace.Scope) + len(m.Keyspace.Collection) +
		len(m.Key) + len(m.Body) + len(m.IfRev) + len(m.Origin)
	for k, v := range m.Xattrs {
		n += len(k) + len(v) + 8
	}
	return n
}

// mutation = flags:uvarint keyspace key:string op:byte datatype:byte
// flags:uvarint expiry:uvarint ifRev:string ifCAS:uvarint origin:string
// [body:bytes] [count:uvarint {name:string value:bytes}] (xattrs, by name)
func (e *encoder) mutation(m *docstore.Mutation) {
	var flags uint64
	if m.Body != nil {
		flags |= mutHasBody
	}
	if m.Xattrs != nil {
		flags |= mutHasXattrs
	}
	if m.RequireRev {
		flags |= mutRequireRev
	}
	if m.PreserveExpiry {
		flags |= mutPreserveExp
	}
	e.uvarint(flags)
	e.keyspace(m.Keyspace)
	e.string(m.Key)
	e.byte(byte(m.Op))
	e.byte(byte(m.Datatype))
	e.uvarint(uint64(m.Flags))
	e.uvarint(uint64(m.Expiry))
	e.string(m.IfRev)
	e.uvarint(m.IfCAS)
	e.string(m.Origin)
	if m.Body != nil {
		e.bytes(m.Body)
	}
	if m.Xattrs != nil {
		keys := make([]string, 0, len(m.Xattrs))
		for k := range m.Xattrs {
			keys = append(keys, k)
		}
		slices.Sort(keys) // stable bytes for the same input
		e.uvarint(uint64(len(keys)))
		for _, k := range keys {
			e.string(k)
			e.bytes(m.Xattrs[k])
		}
	}
}

func (d *decoder) mutation(m *docstore.Mutation) {
	flags := d.uvarint()
	m.Keyspace = d.keyspace()
	m.Key = d.string()
	m.Op = docstore.OpKind(d.byte())
	m.Datatype = docstore.Datatype(d.byte())
	m.Flags = d.uint32()
	m.Expiry = d.uint32()
	m.IfRev = d.string()
	m.IfCAS = d.uvarint()
	m.Origin = d.string()
	m.RequireRev = flags&mutRequireRev != 0
	m.PreserveExpiry = flags&mutPreserveExp != 0
	if flags&mutHasBody != 0 {
		m.Body = d.bytes()
	}
	if flags&mutHasXattrs != 0 {
		n := d.count(2)
		m.Xattrs = make(map[string]json.RawMessage, n)
		for range n {
			k := d.string()
			m.Xattrs[k] = d.bytes()
		}
	}
}

func (e *encoder) mutations(ms []docstore.Mutation) {
	e.uvarint(uint64(len(ms)))
	for i := range ms {
		e.mutation(&ms[i])
	}
}

func (d *decoder) mutations() []docstore.Mutation {
	// A mutation encodes to at least 12 bytes.
	n := d.count(12)
	if d.err != nil {
		return nil
	}
	ms := make([]docstore.Mutation, n)
	for i := range ms {
		d.mutation(&ms[i])
		if d.err != nil {
			return nil
		}
	}
	return ms
}
