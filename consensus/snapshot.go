package consensus

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/raft"

	"eventide/dcp"
)

// A snapshot is:
//
//	magic "EVTDSNAP" | version:byte | metaLen:uvarint | meta | documents
//
// meta holds the vbucket count, the function records (sorted by name) and
// the config (sorted by key) in the same binary encoding as commands;
// documents is dcp's own snapshot stream, to the end. Raft's file snapshot
// store checksums the whole file.
var snapshotMagic = [8]byte{'E', 'V', 'T', 'D', 'S', 'N', 'A', 'P'}

const (
	snapshotVersion byte = 1
	// maxMetaLen bounds the meta section a restore will allocate.
	maxMetaLen = 1 << 30
)

// snapshotMeta is the non-document state at the snapshot's index.
type snapshotMeta struct {
	NumVBuckets int
	Functions   []*Function // sorted by name; records are immutable
	Config      map[string]json.RawMessage
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
	docs *dcp.Snapshot
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
	if _, err := s.docs.WriteTo(w); err != nil {
		return fmt.Errorf("documents: %w", err)
	}
	return nil
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() {}

// readSnapshot reads a snapshot's header and meta, then restores the
// documents into docs. It checks the vbucket count before touching docs.
func readSnapshot(r io.Reader, docs *dcp.Store, numVB int) (snapshotMeta, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var magic [len(snapshotMagic) + 1]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return snapshotMeta{}, fmt.Errorf("header: %w", err)
	}
	if [8]byte(magic[:8]) != snapshotMagic {
		return snapshotMeta{}, fmt.Errorf("%w: not an eventide snapshot", ErrInvalid)
	}
	if v := magic[8]; v != snapshotVersion {
		return snapshotMeta{}, fmt.Errorf("%w: snapshot format version %d, this node reads %d", ErrInvalid, v, snapshotVersion)
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
	if err := docs.RestoreSnapshot(br); err != nil {
		return snapshotMeta{}, fmt.Errorf("documents: %w", err)
	}
	return meta, nil
}
