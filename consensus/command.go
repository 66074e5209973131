package consensus

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"eventide/docstore"
)

// A log entry is one group-committed batch of commands:
//
//	entry   = version:byte(2) token count:uvarint command*
//	token   = node:string session:uvarint seq:uvarint
//	command = length:uvarint kind:byte fields...
//
// Version 1 entries (still applied) have no token. Each command is
// length-prefixed so that one that fails to decode yields an error result
// for that command alone and the others still apply. entryVersion changes
// whenever the framing or an existing command's fields change; new
// commands get new kinds.
const (
	entryVersion1 byte = 1
	entryVersion  byte = 2
)

// entryToken identifies one proposal of an entry: the proposing node, a
// random session drawn when its store opened (so that sequences never
// repeat across restarts) and the entry's sequence in that session. An
// entry resent after an unknown outcome keeps its token; the FSM applies
// a token once. The zero token (node "") is not deduplicated.
type entryToken struct {
	node    string
	session uint64
	seq     uint64
}

// cmdKind identifies a command; the values are part of the log format.
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
	kindCommitBatch      cmdKind = 10
	kindSetConfig        cmdKind = 11
	kindExpire           cmdKind = 12
	kindSetVBMap         cmdKind = 13
	kindReportFunction   cmdKind = 14
	// kindCommitOwnedBatch is kindCommitBatch with the worker's node and
	// map epoch; kind 10 (no owner) is still applied, as Node "" epoch 0.
	kindCommitOwnedBatch cmdKind = 15
	// kindCommitTimedBatch is kindCommitOwnedBatch with timer changes,
	// fired timers and OnDeploy completion.
	kindCommitTimedBatch cmdKind = 16
)

func (k cmdKind) String() string {
	switch k {
	case kindCreateBucket:
		return "create_bucket"
	case kindDeleteBucket:
		return "delete_bucket"
	case kindCreateScope:
		return "create_scope"
	case kindDeleteScope:
		return "delete_scope"
	case kindCreateCollection:
		return "create_collection"
	case kindDeleteCollection:
		return "delete_collection"
	case kindWriteDocs:
		return "write_docs"
	case kindChangeFunction:
		return "change_function"
	case kindDeleteFunction:
		return "delete_function"
	case kindCommitBatch:
		return "commit_batch"
	case kindSetConfig:
		return "set_config"
	case kindExpire:
		return "expire"
	case kindSetVBMap:
		return "set_vbmap"
	case kindReportFunction:
		return "report_function"
	case kindCommitOwnedBatch:
		return "commit_owned_batch"
	case kindCommitTimedBatch:
		return "commit_timed_batch"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Mutation field presence bits.
const (
	mutHasBody     = 1 << 0
	mutHasXattrs   = 1 << 1
	mutRequireRev  = 1 << 2
	mutPreserveExp = 1 << 3
)

// Function change flag bits.
const (
	chgHasDefinition = 1 << 0
	chgDropCheckpts  = 1 << 1
	chgHasOnDeploy   = 1 << 2
)

func newCommand(kind cmdKind, sizeHint int) *encoder {
	e := &encoder{b: make([]byte, 0, sizeHint+16)}
	e.byte(byte(kind))
	return e
}

func (e *encoder) keyspace(ks docstore.Keyspace) {
	e.string(ks.Bucket)
	e.string(ks.Scope)
	e.string(ks.Collection)
}

func (d *decoder) keyspace() docstore.Keyspace {
	return docstore.Keyspace{
		Bucket:     d.cachedString(0),
		Scope:      d.cachedString(1),
		Collection: d.cachedString(2),
	}
}

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

// Command encoders. Each returns the command's bytes, kind first.

func encodeCreateBucket(spec docstore.BucketSpec) []byte {
	e := newCommand(kindCreateBucket, len(spec.Name)+len(spec.UUID)+len(spec.Type))
	e.string(spec.Name)
	e.string(spec.UUID)
	e.varint(int64(spec.RAMQuotaMB))
	e.string(spec.Type)
	return e.b
}

func encodeName(kind cmdKind, name string) []byte {
	e := newCommand(kind, len(name))
	e.string(name)
	return e.b
}

func encodeScope(kind cmdKind, bucket, scope string) []byte {
	e := newCommand(kind, len(bucket)+len(scope))
	e.string(bucket)
	e.string(scope)
	return e.b
}

func encodeKeyspace(kind cmdKind, ks docstore.Keyspace) []byte {
	e := newCommand(kind, len(ks.Bucket)+len(ks.Scope)+len(ks.Collection))
	e.keyspace(ks)
	return e.b
}

func encodeWriteDocs(cas uint64, ms []docstore.Mutation, size int) []byte {
	e := newCommand(kindWriteDocs, size)
	e.uvarint(cas)
	e.mutations(ms)
	return e.b
}

func encodeChangeFunction(c *FunctionChange) []byte {
	e := newCommand(kindChangeFunction, len(c.Name)+len(c.Definition)+len(c.NewInstanceID)+64)
	var flags uint64
	if c.Definition != nil {
		flags |= chgHasDefinition
	}
	if c.DropCheckpoints {
		flags |= chgDropCheckpts
	}
	if c.OnDeploy != "" {
		flags |= chgHasOnDeploy
	}
	e.uvarint(flags)
	e.string(c.Name)
	e.uvarint(c.ExpectVersion)
	if c.Definition != nil {
		e.bytes(c.Definition)
		e.keyspace(c.Source)
	}
	e.string(c.Status)
	e.string(c.NewInstanceID)
	e.string(c.Boundary)
	if c.OnDeploy != "" {
		e.string(c.OnDeploy)
	}
	return e.b
}

func encodeDeleteFunction(name string, expectVersion uint64) []byte {
	e := newCommand(kindDeleteFunction, len(name)+10)
	e.string(name)
	e.uvarint(expectVersion)
	return e.b
}

func encodeCommitBatch(cas uint64, b *Batch) []byte {
	size := len(b.Function) + len(b.InstanceID) + 22*len(b.Checkpoints)
	for i := range b.Mutations {
		size += mutationSize(&b.Mutations[i])
	}
	for i := range b.Timers {
		size += len(b.Timers[i].Timer.Callback) + len(b.Timers[i].Timer.Reference) + len(b.Timers[i].Timer.Context) + 24
	}
	for i := range b.Fired {
		size += len(b.Fired[i].Callback) + len(b.Fired[i].Reference) + 16
	}
	e := newCommand(kindCommitTimedBatch, size+len(b.Node)+10)
	e.uvarint(cas)
	e.string(b.Function)
	e.string(b.InstanceID)
	e.string(b.Node)
	e.uvarint(b.Epoch)
	type cp struct {
		vb        uint16
		from, seq uint64
	}
	cps := make([]cp, 0, len(b.Checkpoints))
	for vb, seq := range b.Checkpoints {
		cps = append(cps, cp{vb, b.From[vb], seq})
	}
	slices.SortFunc(cps, func(a, b cp) int { return cmp.Compare(a.vb, b.vb) })
	e.uvarint(uint64(len(cps)))
	for _, c := range cps {
		e.uvarint(uint64(c.vb))
		e.uvarint(c.seq)
		e.uvarint(c.from)
	}
	e.mutations(b.Mutations)
	e.uvarint(uint64(len(b.Timers)))
	for i := range b.Timers {
		e.bool(b.Timers[i].Cancel)
		e.timer(&b.Timers[i].Timer)
	}
	e.uvarint(uint64(len(b.Fired)))
	for _, ft := range b.Fired {
		e.string(ft.Callback)
		e.string(ft.Reference)
		e.uvarint(ft.Seq)
		e.uvarint(uint64(ft.VB))
	}
	e.bool(b.OnDeployDone)
	return e.b
}

func encodeSetConfig(key string, value json.RawMessage) []byte {
	e := newCommand(kindSetConfig, len(key)+len(value))
	e.string(key)
	e.bool(value != nil)
	if value != nil {
		e.bytes(value)
	}
	return e.b
}

func encodeExpire(now uint32, cas uint64) []byte {
	e := newCommand(kindExpire, 16)
	e.uvarint(uint64(now))
	e.uvarint(cas)
	return e.b
}

func encodeSetVBMap(expectEpoch uint64, owners []string) []byte {
	e := newCommand(kindSetVBMap, 2*len(owners)+64)
	e.uvarint(expectEpoch)
	e.owners(owners)
	return e.b
}

func encodeReportFunction(r *FunctionReport) []byte {
	e := newCommand(kindReportFunction, len(r.Name)+len(r.InstanceID)+len(r.Node)+8)
	e.string(r.Name)
	e.string(r.InstanceID)
	e.string(r.Node)
	e.bool(r.Running)
	return e.b
}

// owners encodes a vbucket → node table compactly: the distinct node ids
// (sorted), then one index per vbucket (0 unassigned, i+1 the i-th id).
func (e *encoder) owners(owners []string) {
	var names []string
	for _, o := range owners {
		if o != "" {
			names = append(names, o)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	e.uvarint(uint64(len(names)))
	for _, n := range names {
		e.string(n)
	}
	e.uvarint(uint64(len(owners)))
	for _, o := range owners {
		if o == "" {
			e.uvarint(0)
			continue
		}
		i, _ := slices.BinarySearch(names, o)
		e.uvarint(uint64(i + 1))
	}
}

func (d *decoder) owners() []string {
	names := make([]string, d.count(1))
	for i := range names {
		names[i] = d.string()
	}
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	owners := make([]string, n)
	for i := range owners {
		j := d.uvarint()
		if j > uint64(len(names)) {
			d.fail("owner index")
		}
		if d.err != nil {
			return nil
		}
		if j > 0 {
			owners[i] = names[j-1]
		}
	}
	return owners
}

// encodeEntry frames commands as one log entry without a token.
func encodeEntry(cmds [][]byte) []byte { return encodeTokenEntry(entryToken{}, cmds) }

// encodeTokenEntry frames commands as one log entry proposed as tok.
func encodeTokenEntry(tok entryToken, cmds [][]byte) []byte {
	size := 1 + len(tok.node) + 32
	for _, c := range cmds {
		size += len(c) + 10
	}
	e := &encoder{b: make([]byte, 0, size)}
	e.byte(entryVersion)
	e.string(tok.node)
	e.uvarint(tok.session)
	e.uvarint(tok.seq)
	e.uvarint(uint64(len(cmds)))
	for _, c := range cmds {
		e.bytes(c)
	}
	return e.b
}

// decodeEntryHeader reads an entry's version, token and command count,
// leaving d at the first command.
func decodeEntryHeader(d *decoder) (tok entryToken, n int, err error) {
	switch v := d.byte(); {
	case d.err != nil:
	case v == entryVersion:
		tok.node = d.string()
		tok.session = d.uvarint()
		tok.seq = d.uvarint()
	case v != entryVersion1:
		return entryToken{}, 0, fmt.Errorf("unknown format version %d", v)
	}
	n = d.count(1)
	if d.err != nil {
		return entryToken{}, 0, d.err
	}
	return tok, n, nil
}

// checkEntry reports whether entry is a well-formed log entry: a known
// version and exactly count length-prefixed commands.
func checkEntry(entry []byte) error {
	d := decoder{b: entry}
	_, n, err := decodeEntryHeader(&d)
	if err != nil {
		return err
	}
	for range n {
		d.span()
	}
	if d.err != nil {
		return d.err
	}
	if d.remaining() != 0 {
		return fmt.Errorf("%d bytes after the last command", d.remaining())
	}
	return nil
}
