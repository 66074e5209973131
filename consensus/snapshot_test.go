package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// populate writes documents, tombstones, a deployed function with progress
// and config, in the given round (so later rounds change earlier state).
func populate(t testing.TB, s *Store, round int) {
	t.Helper()
	ctx := ctxT(t)
	var ms []docstore.Mutation
	for i := range 50 {
		ms = append(ms, upsert(testKS, fmt.Sprintf("doc%02d", i), fmt.Sprintf(`{"round":%d,"i":%d}`, round, i)))
	}
	docs := mustWrite(t, s, ms...)
	mustWrite(t, s, docstore.Mutation{Keyspace: testKS, Key: fmt.Sprintf("doc%02d", round), Op: docstore.OpDelete})
	bin := docstore.Mutation{Keyspace: testKS, Key: fmt.Sprintf("bin%d", round), Op: docstore.OpUpsert, Body: []byte{0, 1, 2}, Datatype: docstore.DatatypeBinary,
		Xattrs: map[string]json.RawMessage{"meta": json.RawMessage(`{"r":` + fmt.Sprint(round) + `}`)}}
	mustWrite(t, s, bin)
	name := fmt.Sprintf("fn%d", round)
	f := deploy(t, s, name, "inst-"+name, BoundaryEverything)
	if _, err := s.CommitBatch(ctx, Batch{
		Function: name, InstanceID: f.InstanceID,
		Checkpoints: map[uint16]uint64{docs[0].VBucket: docs[0].Seqno},
		Mutations:   []docstore.Mutation{upsert(testKS, "out-"+name, `{}`)},
	}); err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	if err := s.SetConfig(ctx, fmt.Sprintf("cfg%d", round), json.RawMessage(fmt.Sprintf(`{"round":%d}`, round))); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	if err := s.SetConfig(ctx, "latest", json.RawMessage(fmt.Sprint(round))); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	if _, err := s.PutRecords(ctx,
		RecordChange{Table: "qinling.functions", ID: fmt.Sprintf("f%d", round), Body: []byte(fmt.Sprintf(`{"round":%d}`, round))},
		RecordChange{Table: fmt.Sprintf("table%d", round), ID: "big", Body: bytes.Repeat([]byte{byte(round)}, 300<<10)},
	); err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
}

var configKeys = []string{"cfg1", "cfg2", "cfg3", "latest"}

// TestStore_RestartFromDataDir writes, snapshots, writes more, restarts on
// the same data dir: the node leads again with all of it (snapshot restore
// plus log replay), and a fresh FSM restored from the snapshot file equals
// the running replica.
func TestStore_RestartFromDataDir(t *testing.T) {
	cfg := testConfig(t, "n1")
	s := mustOpen(t, cfg)
	mustBucket(t, s, "b")
	if err := s.CreateScope(ctxT(t), "b", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCollection(ctxT(t), docstore.Keyspace{Bucket: "b", Scope: "s1", Collection: "c1"}); err != nil {
		t.Fatal(err)
	}
	populate(t, s, 1)
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	snapIndex := s.Stats().AppliedIndex
	populate(t, s, 2)
	want := dumpState(t, s.Docs(), s.fsm, configKeys...)
	wantIndex := s.Stats().AppliedIndex
	cfg.BindAddr = s.Addr()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Bootstrap stays set: it must not bootstrap over existing state.
	s2 := mustOpen(t, cfg)
	waitFor(t, 5*time.Second, func() bool { return s2.Stats().AppliedIndex >= wantIndex })
	sameState(t, dumpState(t, s2.Docs(), s2.fsm, configKeys...), want)
	if n := s2.Stats().Entries; n == 0 || n > wantIndex-snapIndex {
		t.Fatalf("replayed %d entries; want 1 to %d (those after the snapshot at %d)", n, wantIndex-snapIndex, snapIndex)
	}
	// It keeps working, from the right seqnos.
	populate(t, s2, 3)
	want = dumpState(t, s2.Docs(), s2.fsm, configKeys...)

	// A fresh FSM restored from a new snapshot file equals the replica.
	if err := s2.raft.Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	metas, err := s2.snaps.List()
	if err != nil || len(metas) == 0 {
		t.Fatalf("List snapshots: %v, %d", err, len(metas))
	}
	if len(metas) > snapshotsRetained {
		t.Fatalf("%d snapshots retained, want at most %d", len(metas), snapshotsRetained)
	}
	_, rc, err := s2.snaps.Open(metas[0].ID)
	if err != nil {
		t.Fatalf("Open snapshot: %v", err)
	}
	fresh := newFSM(cfg.NumVBuckets, s2.log)
	if err := fresh.Restore(rc); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	sameState(t, dumpState(t, fresh.docs, fresh, configKeys...), want)
}

// TestFSM_SnapshotIsPointInTime takes a snapshot, applies more, then
// persists: the persisted state is the one at Snapshot time.
func TestFSM_SnapshotIsPointInTime(t *testing.T) {
	f := newTestFSM(t)
	applyEntry(t, f, 2,
		encodeWriteDocs(1e18, []docstore.Mutation{upsert(testKS, "a", `1`)}, 0),
		encodeChangeFunction(&FunctionChange{Name: "f", Definition: json.RawMessage(`{}`), Source: testKS}),
		encodeSetConfig("k", json.RawMessage(`1`)),
	)
	applyEntry(t, f, 3, encodeChangeFunction(&FunctionChange{Name: "f", ExpectVersion: 2, Status: StatusDeployed, NewInstanceID: "i", Boundary: BoundaryEverything}))
	want := dumpState(t, f.docs, f, "k")
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	applyEntry(t, f, 4,
		encodeWriteDocs(2e18, []docstore.Mutation{upsert(testKS, "a", `2`), upsert(testKS, "b", `3`)}, 0),
		encodeCommitBatch(2e18, &Batch{Function: "f", InstanceID: "i", Checkpoints: map[uint16]uint64{1: 5}}),
		encodeSetConfig("k", json.RawMessage(`2`)),
		encodeDeleteFunction("nope", 1),
	)
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed {
		t.Fatal("Persist did not close the sink")
	}
	fresh := newFSM(64, f.log)
	changed := fresh.changedCh()
	if err := fresh.Restore(io.NopCloser(bytes.NewReader(sink.buf.Bytes()))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Restore did not signal Changed")
	}
	sameState(t, dumpState(t, fresh.docs, fresh, "k"), want)
}

func TestFSM_RestoreRejectsBadSnapshots(t *testing.T) {
	f := newTestFSM(t)
	applyEntry(t, f, 2, encodeSetConfig("k", json.RawMessage(`1`)))
	snap, _ := f.Snapshot()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	good := sink.buf.Bytes()
	other := newFSM(128, f.log) // different vbucket count
	wantErr(t, other.Restore(io.NopCloser(bytes.NewReader(good))), ErrInvalid)

	target := newTestFSM(t)
	applyEntry(t, target, 2, encodeSetConfig("keep", json.RawMessage(`true`)))
	for name, data := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("NOTASNAP"), good[8:]...),
		"version":   append(append([]byte(nil), good[:8]...), append([]byte{9}, good[9:]...)...),
		"truncated": good[:len(good)-3],
		"meta len":  append(append([]byte(nil), good[:9]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
	} {
		if err := target.Restore(io.NopCloser(bytes.NewReader(data))); err == nil {
			t.Errorf("%s: Restore accepted a bad snapshot", name)
		}
	}
	// A failed restore leaves the state as it was.
	if string(target.configValue("keep")) != "true" || target.configValue("k") != nil {
		t.Fatal("failed restore changed the state")
	}
	if _, err := target.docs.Bucket("b"); err != nil {
		t.Fatalf("failed restore lost bucket b: %v", err)
	}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	buf       bytes.Buffer
	closed    bool
	cancelled bool
}

func (m *memSink) Write(p []byte) (int, error) { return m.buf.Write(p) }
func (m *memSink) Close() error                { m.closed = true; return nil }
func (m *memSink) ID() string                  { return "mem" }
func (m *memSink) Cancel() error               { m.cancelled = true; return nil }

var _ raft.SnapshotSink = (*memSink)(nil)

type failSink struct{ memSink }

func (f *failSink) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFSM_PersistErrorCancelsSink(t *testing.T) {
	f := newTestFSM(t)
	snap, _ := f.Snapshot()
	sink := &failSink{}
	if err := snap.Persist(sink); err == nil {
		t.Fatal("Persist to a failing sink succeeded")
	}
	if !sink.cancelled || sink.closed {
		t.Fatalf("sink cancelled=%v closed=%v; want cancelled only", sink.cancelled, sink.closed)
	}
	snap.Release()
}
