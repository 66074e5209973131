package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// applyTokenEntry feeds one entry proposed as tok and returns Apply's
// response.
func applyTokenEntry(f *fsm, index uint64, tok entryToken, cmds ...[]byte) any {
	return f.Apply(&raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: encodeTokenEntry(tok, cmds)})
}

func TestFSM_TokenAppliedOnce(t *testing.T) {
	f := newTestFSM(t)
	tok := entryToken{node: "n2", session: 7, seq: 1}
	w := upsert(testKS, "k", `1`)
	res, ok := applyTokenEntry(f, 2, tok, encodeWriteDocs(1e18, []docstore.Mutation{w}, 0)).([]cmdResult)
	if !ok || res[0].docErrs[0] != nil {
		t.Fatalf("first application = %+v", res)
	}
	first, _ := f.docs.Get(testKS, "k")
	before := dumpState(t, f.docs, f)
	entries := f.entries.Load()

	// The same token again, even with other content, is not applied.
	if out := applyTokenEntry(f, 3, tok, encodeWriteDocs(2e18, []docstore.Mutation{w}, 0)); out != (duplicateEntry{}) {
		t.Fatalf("resent entry: Apply = %#v, want duplicateEntry", out)
	}
	sameState(t, dumpState(t, f.docs, f), before)
	if d, _ := f.docs.Get(testKS, "k"); d != first {
		t.Fatal("resent entry changed the document")
	}
	if f.entries.Load() != entries+1 || f.appliedIndex.Load() != 3 {
		t.Fatal("a duplicate entry must still count as applied")
	}
	// Another session or node with the same sequence is another entry.
	for i, other := range []entryToken{{node: "n2", session: 8, seq: 1}, {node: "n3", session: 7, seq: 1}} {
		res, ok := applyTokenEntry(f, uint64(4+i), other, encodeSetConfig(fmt.Sprint("c", i), json.RawMessage(`1`))).([]cmdResult)
		if !ok || res[0].err != nil {
			t.Fatalf("token %+v: %#v", other, res)
		}
	}
	// Entries without a token are never deduplicated.
	for i := range 2 {
		if _, ok := applyTokenEntry(f, uint64(6+i), entryToken{}, encodeSetConfig("z", json.RawMessage(`1`))).([]cmdResult); !ok {
			t.Fatal("tokenless entry not applied")
		}
	}
}

func TestSessionRecord_GapsAndWindow(t *testing.T) {
	var r sessionRecord
	mark := func(seqs ...uint64) {
		for _, s := range seqs {
			if r.applied(s) {
				t.Fatalf("seq %d reported applied before it was", s)
			}
			r.mark(s, s+100)
		}
	}
	mark(1, 2, 5) // 3 and 4 still in flight
	for seq, want := range map[uint64]bool{1: true, 2: true, 3: false, 4: false, 5: true, 6: false} {
		if got := r.applied(seq); got != want {
			t.Errorf("applied(%d) = %v, want %v", seq, got, want)
		}
	}
	mark(4, 3)
	if len(r.gaps) != 0 || r.max != 5 {
		t.Fatalf("record = %+v, want no gaps up to 5", r)
	}
	// A jump far ahead: the gaps kept are bounded by the window, and what
	// is below the window counts as applied.
	mark(5 + 3*dedupWindow)
	if len(r.gaps) != dedupWindow-1 {
		t.Fatalf("%d gaps kept, want %d", len(r.gaps), dedupWindow-1)
	}
	if !r.applied(6) || r.applied(5+3*dedupWindow-1) {
		t.Fatal("window bounds wrong")
	}
}

func TestFSM_SessionEviction(t *testing.T) {
	f := newTestFSM(t)
	idx := uint64(10)
	apply := func(node string, session uint64) any {
		idx++
		return applyTokenEntry(f, idx, entryToken{node: node, session: session, seq: 1}, encodeSetConfig("k", json.RawMessage(`1`)))
	}
	for s := range uint64(dedupSessionsPerNode) {
		apply("n1", s+1)
	}
	apply("n2", 1)
	// A fifth session of n1 evicts n1's least recently used one (1): its
	// token is then unknown again; n2's record is untouched.
	apply("n1", 99)
	if len(f.sessions) != dedupSessionsPerNode+1 {
		t.Fatalf("%d sessions kept", len(f.sessions))
	}
	if _, ok := f.sessions[sessionKey{"n1", 1}]; ok {
		t.Fatal("oldest session of n1 kept")
	}
	if out := apply("n2", 1); out != (duplicateEntry{}) {
		t.Fatalf("n2's session lost: %#v", out)
	}
	if out := apply("n1", 2); out != (duplicateEntry{}) {
		t.Fatalf("n1's session 2 lost: %#v", out)
	}
}

// TestFSM_OwnEntriesReachTheirWaiter: the FSM hands the results of an entry
// of this node's session to the proposer waiting for it, and an error to
// one waiting for an entry a snapshot already contains.
func TestFSM_OwnEntriesReachTheirWaiter(t *testing.T) {
	f := newTestFSM(t)
	f.setSelf("n2", 42)
	w1 := f.expect(1)
	applyEntry(t, f, 2) // no token: no delivery
	applyTokenEntry(f, 3, entryToken{node: "n2", session: 41, seq: 1}, encodeSetConfig("a", json.RawMessage(`1`)))
	select {
	case r := <-w1:
		t.Fatalf("an old session's entry reached the waiter: %+v", r)
	default:
	}
	applyTokenEntry(f, 4, entryToken{node: "n2", session: 42, seq: 1}, encodeWriteDocs(1e18, []docstore.Mutation{upsert(testKS, "k", `1`)}, 0))
	select {
	case r := <-w1:
		if r.err != nil || len(r.res) != 1 || r.res[0].docs[0] == nil || r.res[0].docs[0].Key != "k" {
			t.Fatalf("delivered %+v", r)
		}
	default:
		t.Fatal("own entry's results not delivered")
	}

	// A snapshot taken after entry 2 of this session; this replica, still
	// waiting for it, restores that snapshot instead of applying it.
	other := newTestFSM(t)
	applyTokenEntry(other, 5, entryToken{node: "n2", session: 42, seq: 2}, encodeSetConfig("b", json.RawMessage(`2`)))
	w2, w3 := f.expect(2), f.expect(3)
	restoreFrom(t, other, f)
	select {
	case r := <-w2:
		if !errors.Is(r.err, ErrLeadershipLost) {
			t.Fatalf("waiter of an entry inside the snapshot got %+v", r)
		}
	default:
		t.Fatal("waiter of an entry inside the snapshot not told")
	}
	select {
	case r := <-w3:
		t.Fatalf("waiter of a later entry told: %+v", r)
	default:
	}
	f.forget(3)
}

// restoreFrom persists a snapshot of src and restores it into dst.
func restoreFrom(t *testing.T, src, dst *fsm) {
	t.Helper()
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(readCloser(sink.buf.Bytes())); err != nil {
		t.Fatalf("Restore: %v", err)
	}
}

// TestFSM_RefusesVersion1Entries: the pre-release framing without a token
// (version 1) is not applied any more.
func TestFSM_RefusesVersion1Entries(t *testing.T) {
	f := newTestFSM(t)
	e := &encoder{}
	e.byte(1)
	e.uvarint(1)
	e.bytes(encodeSetConfig("a", json.RawMessage(`1`)))
	err, ok := f.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: e.b}).(error)
	if !ok || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "unknown format version 1") {
		t.Fatalf("version 1 entry: Apply = %v, want ErrInvalid for the version", err)
	}
	if err := checkEntry(e.b); err == nil {
		t.Fatal("checkEntry accepts a version 1 entry")
	}
	if f.configValue("a") != nil {
		t.Fatal("command of a version 1 entry applied")
	}
	if f.appliedIndex.Load() != 2 {
		t.Fatalf("applied index %d after a refused entry, want 2", f.appliedIndex.Load())
	}
}

// TestForward_NeverErrNotLeader: with a Forwarder, a follower whose
// leader cannot be reached keeps retrying until the caller's deadline and
// never answers ErrNotLeader; a close ends the retries with ErrClosed.
func TestForward_NeverErrNotLeader(t *testing.T) {
	nodes, fwd := newForwardCluster(t, 3, false)
	f := nodes[1]
	fwd.setHooks(func(int, string, []byte) error { return fmt.Errorf("unreachable: %w", ErrNotLeader) }, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := f.SetConfig(ctx, "k", json.RawMessage(`1`))
	wantErr(t, err, context.DeadlineExceeded)
	if errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower surfaced %v", err)
	}
	if n := fwd.numCalls(); n < 3 {
		t.Fatalf("%d forward attempts in 300ms, want retries", n)
	}
	// CatchUp goes the same way.
	cctx, ccancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer ccancel()
	wantErr(t, f.CatchUp(cctx), context.DeadlineExceeded)

	done := make(chan error, 1)
	calls := fwd.numCalls()
	go func() { done <- f.SetConfig(context.Background(), "k", json.RawMessage(`2`)) }()
	waitFor(t, 5*time.Second, func() bool { return fwd.numCalls() >= calls+3 })
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		wantErr(t, err, ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("write still retrying after Close")
	}
	if v := nodes[0].Config("k"); v != nil {
		t.Fatalf("refused writes applied: %s", v)
	}
}
