package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// testForwarder forwards entries by calling the leader Store's ApplyEntry
// directly. before runs ahead of the call (an error fails the forward
// without applying) and after once it returned (its error replaces the
// result: a lost reply).
type testForwarder struct {
	mu     sync.Mutex
	nodes  map[string]*Store
	calls  []forwardCall
	before func(n int, leaderID string, entry []byte) error
	after  func(n int, leaderID string, entry []byte, err error) error
}

type forwardCall struct {
	from, to string
	entry    []byte
}

func (f *testForwarder) Forward(ctx context.Context, leaderID, leaderAddr string, entry []byte) error {
	f.mu.Lock()
	s := f.nodes[leaderID]
	n := len(f.calls)
	d := decoder{b: entry}
	tok, _, _ := decodeEntryHeader(&d)
	f.calls = append(f.calls, forwardCall{from: tok.node, to: leaderID, entry: entry})
	before, after := f.before, f.after
	f.mu.Unlock()
	if s == nil || leaderAddr == "" {
		return fmt.Errorf("test forwarder: unknown leader %q at %q: %w", leaderID, leaderAddr, ErrNotLeader)
	}
	if before != nil {
		if err := before(n, leaderID, entry); err != nil {
			return err
		}
	}
	err := s.ApplyEntry(ctx, entry)
	if after != nil {
		return after(n, leaderID, entry, err)
	}
	return err
}

func (f *testForwarder) setHooks(before func(int, string, []byte) error, after func(int, string, []byte, error) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before, f.after = before, after
}

// callsSince returns the forward calls from call index n on.
func (f *testForwarder) callsSince(n int) []forwardCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls[n:])
}

func (f *testForwarder) numCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// newForwardCluster is newCluster with every node forwarding through one
// testForwarder.
func newForwardCluster(t *testing.T, n int, tcp bool) ([]*Store, *testForwarder) {
	t.Helper()
	fwd := &testForwarder{nodes: map[string]*Store{}}
	nodes := newCluster(t, n, tcp, func(c *Config) { c.Forwarder = fwd })
	fwd.mu.Lock()
	for _, s := range nodes {
		fwd.nodes[s.cfg.NodeID] = s
	}
	fwd.mu.Unlock()
	return nodes, fwd
}

// converge waits until every node applied what nodes[0..] applied so far
// and checks that they hold the same state.
func converge(t *testing.T, nodes []*Store, configKeys ...string) state {
	t.Helper()
	var idx uint64
	for _, s := range nodes {
		idx = max(idx, s.Stats().AppliedIndex)
	}
	for _, s := range nodes {
		waitFor(t, 10*time.Second, func() bool { return s.Stats().AppliedIndex >= idx })
	}
	want := dumpState(t, nodes[0].Docs(), nodes[0].fsm, configKeys...)
	for _, s := range nodes[1:] {
		sameState(t, dumpState(t, s.Docs(), s.fsm, configKeys...), want)
	}
	return want
}

func sameDoc(t *testing.T, what string, got, want *docstore.Document) {
	t.Helper()
	if got == nil || want == nil || got.CAS != want.CAS || got.Seqno != want.Seqno || got.RevID != want.RevID || !bytes.Equal(got.Body, want.Body) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

// TestForward_FollowerWritesEveryKind runs every write method on a
// follower: each is forwarded, returns the leader's result and is
// readable on the follower as soon as it returns.
func TestForward_FollowerWritesEveryKind(t *testing.T) {
	nodes, fwd := newForwardCluster(t, 3, false)
	f := nodes[1]
	if f.IsLeader() {
		t.Fatal("n2 leads")
	}
	ctx := ctxT(t)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s on a follower: %v", what, err)
		}
	}

	// Keyspaces.
	must("CreateBucket", f.CreateBucket(ctx, docstore.BucketSpec{Name: "b", UUID: "u-b", RAMQuotaMB: 100, Type: docstore.BucketTypeMembase}))
	must("CreateBucket b2", f.CreateBucket(ctx, docstore.BucketSpec{Name: "b2", UUID: "u-b2", RAMQuotaMB: 100, Type: docstore.BucketTypeMembase}))
	if _, err := f.Docs().Bucket("b"); err != nil {
		t.Fatalf("follower does not read its own CreateBucket: %v", err)
	}
	wantErr(t, f.CreateBucket(ctx, docstore.BucketSpec{Name: "b", UUID: "u-b"}), docstore.ErrExists)
	must("CreateScope", f.CreateScope(ctx, "b", "s1"))
	ks1 := docstore.Keyspace{Bucket: "b", Scope: "s1", Collection: "c1"}
	must("CreateCollection", f.CreateCollection(ctx, ks1))
	if err := f.Docs().CheckKeyspace(ks1); err != nil {
		t.Fatalf("follower does not read its own CreateCollection: %v", err)
	}

	// Documents: per-mutation results come back from the follower's FSM.
	res, err := f.WriteDocs(ctx, []docstore.Mutation{
		upsert(testKS, "k1", `{"v":1}`),
		{Keyspace: testKS, Key: "k1", Op: docstore.OpInsert, Body: json.RawMessage(`{"v":2}`)},
		upsert(ks1, "k2", `{"v":3}`),
	})
	must("WriteDocs", err)
	if res[0].Err != nil || !errors.Is(res[1].Err, docstore.ErrExists) || res[2].Err != nil {
		t.Fatalf("WriteDocs results = %+v", res)
	}
	got, err := f.Docs().Get(testKS, "k1")
	must("Get k1", err)
	sameDoc(t, "k1 read on the follower right after its write", got, res[0].Doc)
	lead, err := nodes[0].Docs().Get(testKS, "k1")
	must("Get k1 on the leader", err)
	sameDoc(t, "k1 on the leader", lead, res[0].Doc)

	// Functions, the vbucket map and reports.
	fn, err := f.ChangeFunction(ctx, FunctionChange{Name: "fn", Definition: json.RawMessage(`{"code":1}`), Source: testKS})
	must("ChangeFunction create", err)
	if cur, _ := f.Function("fn"); !reflect.DeepEqual(cur, fn) {
		t.Fatalf("follower reads %+v after ChangeFunction returned %+v", cur, fn)
	}
	_, err = f.ChangeFunction(ctx, FunctionChange{Name: "fn", Definition: json.RawMessage(`{}`)})
	wantErr(t, err, ErrFunctionExists)
	fn, err = f.ChangeFunction(ctx, FunctionChange{Name: "fn", ExpectVersion: fn.Version, Status: StatusDeploying, NewInstanceID: "i1", Boundary: BoundaryEverything})
	must("ChangeFunction deploy", err)
	owners := slices.Repeat([]string{"n2"}, 64)
	vm, err := f.SetVBMap(ctx, 0, owners)
	must("SetVBMap", err)
	if vm.Epoch == 0 || !reflect.DeepEqual(f.VBMap(), vm) {
		t.Fatalf("SetVBMap returned %+v; follower reads %+v", vm, f.VBMap())
	}
	_, err = f.SetVBMap(ctx, 0, owners)
	wantErr(t, err, ErrVersionMismatch)
	fn, err = f.ReportFunction(ctx, FunctionReport{Name: "fn", InstanceID: "i1", Node: "n2", Running: true})
	must("ReportFunction", err)
	if fn.Status != StatusDeployed || !slices.Equal(fn.Running, []string{"n2"}) {
		t.Fatalf("after the only owner reported running: %+v", fn)
	}
	_, err = f.ReportFunction(ctx, FunctionReport{Name: "fn", InstanceID: "old", Node: "n2", Running: true})
	wantErr(t, err, ErrStaleInstance)

	// A batch: its effects and checkpoint are readable on the follower.
	docs, err := f.CommitBatch(ctx, Batch{
		Function: "fn", InstanceID: "i1", Node: "n2", Epoch: vm.Epoch,
		Checkpoints: map[uint16]uint64{res[0].Doc.VBucket: res[0].Doc.Seqno},
		Mutations:   []docstore.Mutation{upsert(testKS, "out", `{"from":"k1"}`)},
	})
	must("CommitBatch", err)
	if len(docs) != 1 {
		t.Fatalf("CommitBatch docs = %+v", docs)
	}
	got, err = f.Docs().Get(testKS, "out")
	must("Get out", err)
	sameDoc(t, "batch output on the follower", got, docs[0])
	if cur, _ := f.Function("fn"); cur.Checkpoints[res[0].Doc.VBucket] != res[0].Doc.Seqno {
		t.Fatalf("follower's checkpoint = %d, want %d", cur.Checkpoints[res[0].Doc.VBucket], res[0].Doc.Seqno)
	}
	_, err = f.CommitBatch(ctx, Batch{Function: "fn", InstanceID: "i1", Node: "n2", Epoch: vm.Epoch,
		Checkpoints: map[uint16]uint64{res[0].Doc.VBucket: 99}})
	wantErr(t, err, ErrCheckpointMismatch)

	// Config and expiry.
	must("SetConfig", f.SetConfig(ctx, "k", json.RawMessage(`{"on":true}`)))
	if v := f.Config("k"); string(v) != `{"on":true}` {
		t.Fatalf("follower reads config %s", v)
	}
	now := time.Now()
	exp := upsert(testKS, "exp", `{}`)
	exp.Expiry = uint32(now.Add(time.Hour).Unix())
	if _, err := f.WriteDocs(ctx, []docstore.Mutation{exp}); err != nil {
		t.Fatal(err)
	}
	n, err := f.Expire(ctx, now.Add(2*time.Hour))
	must("Expire", err)
	if d, _ := f.Docs().Get(testKS, "exp"); n != 1 || d == nil || !d.Expired {
		t.Fatalf("Expire = %d; follower reads %+v", n, d)
	}

	// Deletes.
	must("DeleteCollection", f.DeleteCollection(ctx, ks1))
	must("DeleteScope", f.DeleteScope(ctx, "b", "s1"))
	must("DeleteBucket", f.DeleteBucket(ctx, "b2"))
	if _, err := f.Docs().Bucket("b2"); err == nil {
		t.Fatal("follower still reads a bucket it deleted")
	}
	fn, _ = f.Function("fn")
	must("DeleteFunction", f.DeleteFunction(ctx, "fn", fn.Version))
	if _, err := f.Function("fn"); !errors.Is(err, ErrFunctionNotFound) {
		t.Fatalf("follower still reads a deleted function: %v", err)
	}

	// Every write went through the forwarder, from n2 to n1.
	calls := fwd.callsSince(0)
	if len(calls) < 20 {
		t.Fatalf("%d forward calls for 20 follower writes", len(calls))
	}
	for _, c := range calls {
		if c.from != "n2" || c.to != "n1" {
			t.Fatalf("forward from %s to %s", c.from, c.to)
		}
	}

	// A leader write is visible on a follower once CatchUp returns.
	if err := nodes[0].SetConfig(ctx, "late", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	must("CatchUp", nodes[2].CatchUp(ctx))
	if v := nodes[2].Config("late"); string(v) != "1" {
		t.Fatalf("after CatchUp the follower reads %s", v)
	}
	converge(t, nodes, "k", "late")
}

// TestForward_RetriesApplyOnce injects failures into forwarding: a
// refusal (ErrNotLeader) before applying, and a reply lost after the leader
// applied, with the same entry delivered to the leader a second time. The
// follower's writes apply exactly once and return the first application's
// results.
func TestForward_RetriesApplyOnce(t *testing.T) {
	nodes, fwd := newForwardCluster(t, 3, false)
	leader, f := nodes[0], nodes[1]
	ctx := ctxT(t)
	if err := f.CreateBucket(ctx, docstore.BucketSpec{Name: "b", UUID: "u"}); err != nil {
		t.Fatal(err)
	}

	// ErrNotLeader once: resent, same bytes, applied once.
	mark := fwd.numCalls()
	fwd.setHooks(func(n int, _ string, _ []byte) error {
		if n == mark {
			return fmt.Errorf("stale leader: %w", ErrNotLeader)
		}
		return nil
	}, nil)
	doc := mustWrite(t, f, upsert(testKS, "refused", `1`))[0]
	calls := fwd.callsSince(mark)
	if len(calls) != 2 || !bytes.Equal(calls[0].entry, calls[1].entry) {
		t.Fatalf("after ErrNotLeader: %d calls (identical: %v), want 2 identical", len(calls), len(calls) == 2 && bytes.Equal(calls[0].entry, calls[1].entry))
	}
	if !strings.HasPrefix(doc.RevID, "1-") {
		t.Fatalf("refused then resent write has rev %s", doc.RevID)
	}

	// Lost reply: the leader applied, the entry reaches it again, the
	// follower sees an error from the forwarder and retries.
	var dupErr atomic.Value
	lose := func(n int, to string, entry []byte, err error) error {
		if err != nil {
			return err
		}
		if n == mark {
			// A network duplicate arrives at the leader.
			if e := leader.ApplyEntry(ctx, entry); e != nil {
				dupErr.Store(e)
			}
			return errors.New("connection reset by peer")
		}
		return nil
	}
	mark = fwd.numCalls()
	fwd.setHooks(nil, lose)
	src := mustWrite(t, f, upsert(testKS, "lost", `{"n":1}`))[0]
	if e := dupErr.Load(); e != nil {
		t.Fatalf("duplicate ApplyEntry: %v", e)
	}
	for _, s := range nodes {
		waitFor(t, 5*time.Second, func() bool {
			d, err := s.Docs().Get(testKS, "lost")
			return err == nil && d.CAS == src.CAS
		})
		ds, _, err := s.Docs().Changes(testKS, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var seen int
		for _, d := range ds {
			if d.Key == "lost" {
				seen++
				if !strings.HasPrefix(d.RevID, "1-") || d.Seqno != src.Seqno {
					t.Fatalf("%s: lost-reply write applied twice: %+v", s.cfg.NodeID, d)
				}
			}
		}
		if seen != 1 {
			t.Fatalf("%s: %d versions of the lost-reply write", s.cfg.NodeID, seen)
		}
	}

	// The same for a batch, which a second application would reject
	// (ErrCheckpointMismatch): the follower gets the first one's success.
	fn := deploy(t, f, "fn", "i1", BoundaryEverything)
	mark = fwd.numCalls()
	fwd.setHooks(nil, lose)
	docs, err := f.CommitBatch(ctx, Batch{Function: "fn", InstanceID: fn.InstanceID,
		Checkpoints: map[uint16]uint64{src.VBucket: src.Seqno},
		Mutations:   []docstore.Mutation{upsert(testKS, "effect", `{}`)}})
	if err != nil || len(docs) != 1 {
		t.Fatalf("CommitBatch with a lost reply = %v, %v", docs, err)
	}
	if e := dupErr.Load(); e != nil {
		t.Fatalf("duplicate ApplyEntry: %v", e)
	}
	if d, err := f.Docs().Get(testKS, "effect"); err != nil || !strings.HasPrefix(d.RevID, "1-") {
		t.Fatalf("batch effect = %+v, %v; want generation 1", d, err)
	}
	fwd.setHooks(nil, nil)

	// ApplyEntry refuses what is not a leader's to take.
	wantErr(t, f.ApplyEntry(ctx, encodeEntry(nil)), ErrNotLeader)
	wantErr(t, leader.ApplyEntry(ctx, []byte{entryVersion, 0xff}), ErrInvalid)
	wantErr(t, leader.ApplyEntry(ctx, append(encodeEntry([][]byte{encodeSetConfig("x", nil)}), 0)), ErrInvalid)
	wantErr(t, leader.ApplyEntry(ctx, make([]byte, leader.maxEntryBytes()+1)), ErrTooLarge)
	converge(t, nodes)
}

// TestForward_LeaderChangeMidStream closes the leader while followers
// write: their pending writes complete on the new leader, no caller sees an
// error, and every write is applied once.
func TestForward_LeaderChangeMidStream(t *testing.T) {
	nodes, _ := newForwardCluster(t, 3, false)
	mustBucket(t, nodes[0], "b")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()

	var (
		mu      sync.Mutex
		written = map[string]*docstore.Document{}
		errs    []error
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for _, s := range nodes[1:] {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("%s-w%d-%d", s.cfg.NodeID, w, i)
					res, err := s.WriteDocs(ctx, []docstore.Mutation{upsert(testKS, key, fmt.Sprintf(`{"i":%d}`, i))})
					mu.Lock()
					if err == nil {
						err = res[0].Err
					}
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", key, err))
					} else {
						written[key] = res[0].Doc
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(written) }
	waitFor(t, 10*time.Second, func() bool { return count() >= 40 })
	if err := nodes[0].Close(); err != nil {
		t.Fatalf("Close leader: %v", err)
	}
	for _, s := range nodes[1:] {
		s.trans.(*raft.InmemTransport).Disconnect("n1")
	}
	before := count()
	waitFor(t, 15*time.Second, func() bool { return count() >= before+40 })
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d writes failed across the leader change, first: %v", len(errs), errs[0])
	}
	survivors := nodes[1:]
	if !survivors[0].IsLeader() && !survivors[1].IsLeader() {
		t.Fatal("no survivor leads")
	}
	converge(t, survivors)
	for key, want := range written {
		for _, s := range survivors {
			d, err := s.Docs().Get(testKS, key)
			if err != nil {
				t.Fatalf("%s lost %s: %v", s.cfg.NodeID, key, err)
			}
			if d.CAS != want.CAS || !strings.HasPrefix(d.RevID, "1-") {
				t.Fatalf("%s: %s = %+v, want the one write %+v", s.cfg.NodeID, key, d, want)
			}
		}
	}
	t.Logf("%d writes, %d after the leader closed", len(written), len(written)-before)
}

// TestCluster_OwnershipAndReports runs the eventing protocol over three
// forwarding nodes: a vbucket map over all three, reports from each node
// driving deploying→deployed, pausing→paused and undeploying→undeployed,
// and batches fenced by ownership across a rebalance.
func TestCluster_OwnershipAndReports(t *testing.T) {
	nodes, _ := newForwardCluster(t, 3, false)
	ctx := ctxT(t)
	mustBucket(t, nodes[0], "b")
	byID := map[string]*Store{}
	for _, s := range nodes {
		byID[s.cfg.NodeID] = s
	}
	owners := make([]string, 64)
	for vb := range owners {
		owners[vb] = fmt.Sprintf("n%d", vb%3+1)
	}
	vm, err := nodes[2].SetVBMap(ctx, 0, owners)
	if err != nil {
		t.Fatalf("SetVBMap: %v", err)
	}

	f := mustChange(t, nodes[1], FunctionChange{Name: "fn", Definition: json.RawMessage(`{}`), Source: testKS})
	f = mustChange(t, nodes[1], FunctionChange{Name: "fn", ExpectVersion: f.Version, Status: StatusDeploying, NewInstanceID: "i1", Boundary: BoundaryEverything})
	report := func(node string, running bool) Function {
		t.Helper()
		got, err := byID[node].ReportFunction(ctx, FunctionReport{Name: "fn", InstanceID: f.InstanceID, Node: node, Running: running})
		if err != nil {
			t.Fatalf("%s reports running=%v: %v", node, running, err)
		}
		return got
	}
	// Two of three owners running: still deploying, Version unchanged.
	changed := nodes[0].Changed()
	if got := report("n1", true); got.Status != StatusDeploying || got.Version != f.Version {
		t.Fatalf("after n1's report: %+v", got)
	}
	waitFor(t, 5*time.Second, func() bool {
		select {
		case <-changed:
			return true
		default:
			return false
		}
	})
	report("n2", true)
	got := report("n3", true)
	if got.Status != StatusDeployed || got.Version <= f.Version || !slices.Equal(got.Running, []string{"n1", "n2", "n3"}) {
		t.Fatalf("after every owner reported: %+v", got)
	}
	f = got

	// Ownership fencing. vb 0 is n1's, vb 1 n2's.
	commit := func(node string, epoch uint64, vb uint16, from, to uint64) error {
		via := byID[node]
		if via == nil {
			via = nodes[0]
		}
		_, err := via.CommitBatch(ctx, Batch{Function: "fn", InstanceID: "i1", Node: node, Epoch: epoch,
			Checkpoints: map[uint16]uint64{vb: to}, From: map[uint16]uint64{vb: from},
			Mutations: []docstore.Mutation{upsert(testKS, fmt.Sprintf("by-%s-%d-%d", node, vb, to), `{}`)}})
		return err
	}
	if err := commit("n1", vm.Epoch, 0, 0, 1); err != nil {
		t.Fatalf("owner's commit: %v", err)
	}
	wantErr(t, commit("n2", vm.Epoch, 0, 1, 2), ErrStaleOwner)
	wantErr(t, commit("", vm.Epoch, 0, 1, 2), ErrStaleOwner)
	wantErr(t, commit("n1", vm.Epoch-1, 0, 1, 2), ErrStaleOwner) // ownership from before the map

	// Rebalance: vb 0 moves from n1 to n2.
	moved := slices.Clone(owners)
	moved[0] = "n2"
	_, err = nodes[0].SetVBMap(ctx, vm.Epoch+1, moved)
	wantErr(t, err, ErrVersionMismatch)
	vm2, err := nodes[0].SetVBMap(ctx, vm.Epoch, moved)
	if err != nil {
		t.Fatalf("SetVBMap: %v", err)
	}
	if vm2.VBEpochs[0] != vm2.Epoch || vm2.VBEpochs[1] != vm.Epoch || vm2.Epoch <= vm.Epoch {
		t.Fatalf("after moving vb 0: epoch %d, vb epochs %v...; want vb 0 at %d, others at %d", vm2.Epoch, vm2.VBEpochs[:3], vm2.Epoch, vm.Epoch)
	}
	wantErr(t, commit("n1", vm.Epoch, 0, 1, 2), ErrStaleOwner)  // the old owner
	wantErr(t, commit("n2", vm.Epoch, 0, 1, 2), ErrStaleOwner)  // the new owner, on the old map
	wantErr(t, commit("n1", vm2.Epoch, 0, 1, 2), ErrStaleOwner) // the old owner, on the new map
	if err := commit("n2", vm2.Epoch, 0, 1, 2); err != nil {
		t.Fatalf("new owner's commit: %v", err)
	}
	if err := commit("n2", vm.Epoch, 1, 0, 1); err != nil { // vb 1 did not move
		t.Fatalf("commit on an unmoved vbucket with the older epoch: %v", err)
	}
	if _, err := byID["n1"].Docs().Get(testKS, "by-n1-0-2"); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("a fenced batch wrote: %v", err)
	}

	// Pause: completes when the last node stops.
	f, _ = nodes[0].Function("fn")
	f = mustChange(t, nodes[0], FunctionChange{Name: "fn", ExpectVersion: f.Version, Status: StatusPausing})
	if f.Status != StatusPausing {
		t.Fatalf("pausing with workers running: %+v", f)
	}
	report("n3", false)
	if got := report("n1", false); got.Status != StatusPausing || !slices.Equal(got.Running, []string{"n2"}) {
		t.Fatalf("one node still running: %+v", got)
	}
	if got = report("n2", false); got.Status != StatusPaused || got.Running != nil || got.InstanceID != "i1" {
		t.Fatalf("after the last node stopped: %+v", got)
	}
	// A stop report again changes nothing.
	if again := report("n2", false); again.Version != got.Version {
		t.Fatalf("repeated report changed the record: %+v", again)
	}

	// Resume, with a node left out of the map: the remaining owners suffice
	// once the map drops n3.
	f = mustChange(t, nodes[2], FunctionChange{Name: "fn", ExpectVersion: got.Version, Status: StatusDeploying})
	report("n1", true)
	if got = report("n2", true); got.Status != StatusDeploying {
		t.Fatalf("n3 owns vbuckets and has not reported: %+v", got)
	}
	twoNodes := slices.Clone(moved)
	for vb := range twoNodes {
		if twoNodes[vb] == "n3" {
			twoNodes[vb] = "n1"
		}
	}
	if _, err := nodes[1].SetVBMap(ctx, vm2.Epoch, twoNodes); err != nil {
		t.Fatalf("SetVBMap: %v", err)
	}
	if got, _ = nodes[1].Function("fn"); got.Status != StatusDeployed || got.Version <= f.Version {
		t.Fatalf("after the map dropped the silent node: %+v", got)
	}

	// Undeploy: drops instance, checkpoints and reports once all stopped.
	f = mustChange(t, nodes[0], FunctionChange{Name: "fn", ExpectVersion: got.Version, Status: StatusUndeploying})
	if f.Status != StatusUndeploying || f.InstanceID != "i1" {
		t.Fatalf("undeploying: %+v", f)
	}
	report("n1", false)
	if got = report("n2", false); got.Status != StatusUndeployed || got.InstanceID != "" || got.Checkpoints != nil || got.Running != nil {
		t.Fatalf("after every node stopped: %+v", got)
	}
	_, err = nodes[0].ReportFunction(ctx, FunctionReport{Name: "fn", InstanceID: "i1", Node: "n1", Running: true})
	wantErr(t, err, ErrStaleInstance)
	converge(t, nodes)
}
