package consensus

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// A snapshot is:
//
//	magic "EVTDSNAP" | version:byte | metaLen:uvarint | meta | documents
//
// meta holds the vbucket count, the function records (sorted by name), the
// config (sorted by key), the vbucket map and the applied-token records
// (sorted by node and session) in the same binary encoding as commands;
// documents is docstore's own snapshot stream, to the end. Raft's file
// snapshot store checksums the whole file. Versions 1 and 2 were
// pre-release layouts (without Running, the map and tokens; without
// OnDeploy state and timers) and are not read any more.
//
// Version 4 adds the records (cmd_records.go) between meta and documents,
// streamed rather than in meta since they may hold many megabytes:
//
//	records = tables:uvarint { table:string count:uvarint
//	          { id:string version:uvarint body:bytes } }
//
// tables sorted by name, records by id. Version 3 is read as version 4
// without records (it predates them).
var snapshotMagic = [8]byte{'E', 'V', 'T', 'D', 'S', 'N', 'A', 'P'}

const (
	snapshotVersion byte = 4
	// snapshotVersionNoRecords is the previous version, still read.
	snapshotVersionNoRecords byte = 3
	// maxMetaLen bounds the meta section a restore will allocate.
	maxMetaLen = 1 << 30
)

// snapshotMeta is the non-document state at the snapshot's index.
type snapshotMeta struct {
	NumVBuckets int
	Functions   []*Function // sorted by name; records are immutable
	Config      map[string]json.RawMessage
	VBMap       *VBMap // nil: no map set; immutable
	Sessions    []sessionSnap
	Timers      []timerSnap // sorted by function
	// Records are streamed after meta, not encoded in it.
	Records []recordSnap // sorted by table
}

func (m *snapshotMeta) encode() []byte {
	e := &encoder{}
	e.uvarint(uint64(m.NumVBuckets))
	e.uvarint(uint64(len(m.Functions)))
	for _, f := range m.Functions {
		e.string(f.Name)
		e.bool(f.Definition != nil)
		if f.Definition != nil {
			e.bytes(f.Definition)
		}
		e.keyspace(f.Source)
		e.string(f.Status)
		e.string(f.InstanceID)
		e.uvarint(uint64(len(f.Checkpoints)))
		for _, c := range f.Checkpoints {
			e.uvarint(c)
		}
		e.uvarint(f.Version)
		e.uvarint(uint64(len(f.Running)))
		for _, n := range f.Running {
			e.string(n)
		}
		e.string(f.OnDeploy)
		e.varint(f.OnDeployDelay)
		e.varint(f.PausedAt)
	}
	keys := make([]string, 0, len(m.Config))
	for k := range m.Config {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.string(k)
		e.bytes(m.Config[k])
	}
	e.bool(m.VBMap != nil)
	if m.VBMap != nil {
		e.uvarint(m.VBMap.Epoch)
		e.owners(m.VBMap.Owners)
		e.uvarint(uint64(len(m.VBMap.VBEpochs)))
		for _, ep := range m.VBMap.VBEpochs {
			e.uvarint(ep)
		}
	}
	e.uvarint(uint64(len(m.Sessions)))
	for _, s := range m.Sessions {
		e.string(s.key.node)
		e.uvarint(s.key.session)
		e.uvarint(s.rec.max)
		e.uvarint(s.rec.last)
		e.uvarint(uint64(len(s.rec.gaps)))
		for _, g := range s.rec.gaps {
			e.uvarint(g)
		}
	}
	e.timerSnaps(m.Timers)
	return e.b
}

func decodeMeta(b []byte) (snapshotMeta, error) {
	d := decoder{b: b}
	var m snapshotMeta
	m.NumVBuckets = int(d.uvarint())
	n := d.count(8)
	m.Functions = make([]*Function, 0, n)
	for range n {
		f := &Function{Name: d.string()}
		if d.bool() {
			f.Definition = d.bytes()
		}
		f.Source = d.keyspace()
		f.Status = d.string()
		f.InstanceID = d.string()
		if nc := d.count(1); nc > 0 {
			f.Checkpoints = make([]uint64, nc)
			for i := range f.Checkpoints {
				f.Checkpoints[i] = d.uvarint()
			}
		}
		f.Version = d.uvarint()
		if nr := d.count(1); nr > 0 {
			f.Running = make([]string, nr)
			for i := range f.Running {
				f.Running[i] = d.string()
			}
		}
		f.OnDeploy = d.string()
		f.OnDeployDelay = d.varint()
		f.PausedAt = d.varint()
		if d.err != nil {
			break
		}
		m.Functions = append(m.Functions, f)
	}
	nc := d.count(2)
	m.Config = make(map[string]json.RawMessage, nc)
	for range nc {
		k := d.string()
		m.Config[k] = d.bytes()
	}
	if d.bool() {
		vm := &VBMap{Epoch: d.uvarint(), Owners: d.owners()}
		vm.VBEpochs = make([]uint64, d.count(1))
		for i := range vm.VBEpochs {
			vm.VBEpochs[i] = d.uvarint()
		}
		if d.err == nil && (len(vm.Owners) != m.NumVBuckets || len(vm.VBEpochs) != m.NumVBuckets) {
			return snapshotMeta{}, fmt.Errorf("meta: vbucket map of %d owners and %d epochs for %d vbuckets", len(vm.Owners), len(vm.VBEpochs), m.NumVBuckets)
		}
		m.VBMap = vm
	}
	ns := d.count(4)
	m.Sessions = make([]sessionSnap, 0, ns)
	for range ns {
		var s sessionSnap
		s.key.node = d.string()
		s.key.session = d.uvarint()
		s.rec.max = d.uvarint()
		s.rec.last = d.uvarint()
		if ng := d.count(1); ng > 0 {
			s.rec.gaps = make([]uint64, ng)
			for i := range s.rec.gaps {
				s.rec.gaps[i] = d.uvarint()
			}
		}
		if d.err != nil {
			break
		}
		m.Sessions = append(m.Sessions, s)
	}
	m.Timers = d.timerSnaps()
	if d.err != nil {
		return snapshotMeta{}, fmt.Errorf("meta: %w", d.err)
	}
	return m, nil
}

// fsmSnapshot is the state at one index, captured by fsm.Snapshot in the
// time it takes to copy pointers (records and documents are immutable) and
// streamed by Persist while Apply goes on.
type fsmSnapshot struct {
	meta snapshotMeta
	docs *docstore.Snapshot
}

// Persist implements raft.FSMSnapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.persist(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("consensus: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) persist(w io.Writer) error {
	meta := s.meta.encode()
	hdr := make([]byte, 0, len(snapshotMagic)+1+binary.MaxVarintLen64)
	hdr = append(hdr, snapshotMagic[:]...)
	hdr = append(hdr, snapshotVersion)
	hdr = binary.AppendUvarint(hdr, uint64(len(meta)))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	if _, err := w.Write(meta); err != nil {
		return err
	}
	if err := writeRecords(w, s.meta.Records); err != nil {
		return fmt.Errorf("records: %w", err)
	}
	if _, err := s.docs.WriteTo(w); err != nil {
		return fmt.Errorf("documents: %w", err)
	}
	return nil
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() {}

// readSnapshot reads a snapshot's header and meta, then restores the
// documents into docs. It checks the vbucket count before touching docs.
func readSnapshot(r io.Reader, docs *docstore.Store, numVB int) (snapshotMeta, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var magic [len(snapshotMagic) + 1]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return snapshotMeta{}, fmt.Errorf("header: %w", err)
	}
	if [8]byte(magic[:8]) != snapshotMagic {
		return snapshotMeta{}, fmt.Errorf("%w: not an eventide snapshot", ErrInvalid)
	}
	version := magic[8]
	if version != snapshotVersion && version != snapshotVersionNoRecords {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot format version %d, this node reads %d and %d", ErrInvalid, version, snapshotVersionNoRecords, snapshotVersion)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return snapshotMeta{}, fmt.Errorf("header: %w", err)
	}
	if n > maxMetaLen {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot meta of %d bytes", ErrInvalid, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(br, buf); err != nil {
		return snapshotMeta{}, fmt.Errorf("meta: %w", err)
	}
	meta, err := decodeMeta(buf)
	if err != nil {
		return snapshotMeta{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if meta.NumVBuckets != numVB {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot has %d vbuckets per bucket, this node %d", ErrInvalid, meta.NumVBuckets, numVB)
	}
	if version >= snapshotVersion {
		if meta.Records, err = readRecords(br); err != nil {
			return snapshotMeta{}, fmt.Errorf("%w: records: %v", ErrInvalid, err)
		}
	}
	if err := docs.RestoreSnapshot(br); err != nil {
		return snapshotMeta{}, fmt.Errorf("documents: %w", err)
	}
	return meta, nil
}

// writeRecords streams the records section, one record at a time.
func writeRecords(w io.Writer, tables []recordSnap) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	e := &encoder{}
	flush := func() error {
		_, err := bw.Write(e.b)
		e.b = e.b[:0]
		return err
	}
	e.uvarint(uint64(len(tables)))
	for _, t := range tables {
		e.string(t.table)
		e.uvarint(uint64(t.tree.Len()))
		var err error
		t.tree.Ascend(func(r *Record) bool {
			e.string(r.ID)
			e.uvarint(r.Version)
			e.bytes(r.Body)
			err = flush()
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// readRecords reads the records section, checking every length before
// allocating it.
func readRecords(br *bufio.Reader) ([]recordSnap, error) {
	str := func(limit uint64) ([]byte, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, fmt.Errorf("field of %d bytes (limit %d)", n, limit)
		}
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		return b, err
	}
	nt, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	var out []recordSnap
	prevTable := ""
	for range nt {
		name, err := str(maxNameLen)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && string(name) <= prevTable || len(name) == 0 {
			return nil, fmt.Errorf("table %q out of order", name)
		}
		prevTable = string(name)
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, err
		}
		t := newRecordTable()
		prev := ""
		for i := range n {
			id, err := str(maxNameLen)
			if err != nil {
				return nil, err
			}
			if i > 0 && string(id) <= prev || len(id) == 0 {
				return nil, fmt.Errorf("table %s: record %q out of order", name, id)
			}
			prev = string(id)
			version, err := binary.ReadUvarint(br)
			if err != nil {
				return nil, err
			}
			body, err := str(2 * maxCommandBytes)
			if err != nil {
				return nil, err
			}
			t.ReplaceOrInsert(&Record{Table: prevTable, ID: prev, Version: version, Body: body})
		}
		if t.Len() > 0 {
			out = append(out, recordSnap{table: prevTable, tree: t})
		}
	}
	return out, nil
}
