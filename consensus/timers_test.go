package consensus

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func timerBatch(f Function, ops []TimerOp, fired []FiredTimer) Batch {
	return Batch{Function: f.Name, InstanceID: f.InstanceID, Timers: ops, Fired: fired}
}

func create(cb, ref string, due int64, vb uint16, ctx string) TimerOp {
	return TimerOp{Timer: Timer{Callback: cb, Reference: ref, Due: due, VB: vb, Context: []byte(ctx)}}
}

func firedOf(tm Timer) FiredTimer {
	return FiredTimer{Callback: tm.Callback, Reference: tm.Reference, Seq: tm.Seq, VB: tm.VB}
}

func TestStore_Timers(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, testKS.Bucket)
	f := deploy(t, s, "f", "i1", BoundaryEverything)
	ctx := ctxT(t)
	changed := s.TimersChanged()

	if _, err := s.CommitBatch(ctx, timerBatch(f, []TimerOp{
		create("cb", "a", 1000, 1, `{"n":1}`),
		create("cb", "b", 500, 1, `null`),
		create("cb", "c", 2000, 2, `"x"`),
		create("other", "a", 100, 3, `[]`),
	}, nil)); err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("TimersChanged not closed by a timer batch")
	}
	if n := s.PendingTimers("f"); n != 4 {
		t.Fatalf("PendingTimers = %d, want 4", n)
	}
	due := s.DueTimers("f", []uint16{1, 2}, 1000, 10)
	if len(due) != 2 || due[0].Reference != "b" || due[1].Reference != "a" || string(due[1].Context) != `{"n":1}` {
		t.Fatalf("DueTimers(1,2 at 1000) = %+v, want b then a", due)
	}
	if got := s.DueTimers("f", []uint16{1, 2, 3}, 5000, 2); len(got) != 2 || got[0].Callback != "other" {
		t.Fatalf("DueTimers limited to 2 = %+v, want the earliest two", got)
	}
	if next, ok := s.NextTimerDue("f", []uint16{2, 1}); !ok || next != 500 {
		t.Fatalf("NextTimerDue = %d, %v; want 500", next, ok)
	}
	if _, ok := s.NextTimerDue("f", []uint16{7}); ok {
		t.Fatal("NextTimerDue of an empty partition reported a timer")
	}

	// Overwrite gives a new version; firing the old version fails whole.
	old, _ := s.PendingTimer("f", "cb", "a")
	if _, err := s.CommitBatch(ctx, timerBatch(f, []TimerOp{create("cb", "a", 9000, 1, `{"n":2}`)}, nil)); err != nil {
		t.Fatal(err)
	}
	cur, ok := s.PendingTimer("f", "cb", "a")
	if !ok || cur.Seq == old.Seq || cur.Due != 9000 || string(cur.Context) != `{"n":2}` {
		t.Fatalf("overwritten timer = %+v (old %+v)", cur, old)
	}
	b, _ := s.PendingTimer("f", "cb", "b")
	_, err := s.CommitBatch(ctx, timerBatch(f, []TimerOp{create("cb", "new", 1, 1, `1`)}, []FiredTimer{firedOf(b), firedOf(old)}))
	wantErr(t, err, ErrTimerMismatch)
	if _, ok := s.PendingTimer("f", "cb", "new"); ok {
		t.Fatal("a batch that failed on a fired timer created its timers")
	}
	if _, ok := s.PendingTimer("f", "cb", "b"); !ok {
		t.Fatal("a batch that failed on a fired timer removed another")
	}

	// Fire one, cancel one (and a missing one), create one, in one batch.
	if _, err := s.CommitBatch(ctx, timerBatch(f, []TimerOp{
		{Cancel: true, Timer: Timer{Callback: "cb", Reference: "c"}},
		{Cancel: true, Timer: Timer{Callback: "cb", Reference: "missing"}},
		create("cb", "d", 3000, 4, `{}`),
	}, []FiredTimer{firedOf(b)})); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, ref := range []string{"a", "b", "c", "d"} {
		if _, ok := s.PendingTimer("f", "cb", ref); ok {
			left = append(left, ref)
		}
	}
	if !slices.Equal(left, []string{"a", "d"}) {
		t.Fatalf("pending cb timers = %v, want [a d]", left)
	}
	// Firing it again (a retried commit) is refused.
	_, err = s.CommitBatch(ctx, timerBatch(f, nil, []FiredTimer{firedOf(b)}))
	wantErr(t, err, ErrTimerMismatch)

	// Bad input changes nothing.
	_, err = s.CommitBatch(ctx, timerBatch(f, []TimerOp{create("", "x", 1, 1, `1`)}, nil))
	wantErr(t, err, ErrInvalid)
	_, err = s.CommitBatch(ctx, timerBatch(f, []TimerOp{create("cb", "x", 1, 9999, `1`)}, nil))
	wantErr(t, err, ErrInvalid)
	if n := s.PendingTimers("f"); n != 3 {
		t.Fatalf("PendingTimers after bad batches = %d, want 3", n)
	}

	// Pause keeps them; undeploy drops them, and a new instance starts empty.
	f, _ = s.Function("f")
	f = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: f.Version, Status: StatusPaused})
	if n := s.PendingTimers("f"); n != 3 {
		t.Fatalf("PendingTimers while paused = %d, want 3", n)
	}
	f = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: f.Version, Status: StatusUndeployed, DropCheckpoints: true})
	if n := s.PendingTimers("f"); n != 0 {
		t.Fatalf("PendingTimers after undeploy = %d, want 0", n)
	}
	f = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: f.Version, Status: StatusDeployed, NewInstanceID: "i2", Boundary: BoundaryEverything})
	if got := s.DueTimers("f", []uint16{1, 2, 3, 4}, 1<<40, 10); len(got) != 0 {
		t.Fatalf("new instance sees timers %+v", got)
	}
	// A batch of the old instance cannot create timers.
	_, err = s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1", Timers: []TimerOp{create("cb", "z", 1, 1, `1`)}})
	wantErr(t, err, ErrStaleInstance)
}

// Timers survive a restart (snapshot plus log replay) with their versions.
func TestStore_TimersSnapshotAndReplay(t *testing.T) {
	cfg := testConfig(t, "n1")
	s := mustOpen(t, cfg)
	mustBucket(t, s, testKS.Bucket)
	f := deploy(t, s, "f", "i1", BoundaryEverything)
	ctx := ctxT(t)
	if _, err := s.CommitBatch(ctx, timerBatch(f, []TimerOp{create("cb", "a", 10, 1, `{"k":"v"}`), create("cb", "b", 20, 2, `2`)}, nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if _, err := s.CommitBatch(ctx, timerBatch(f, []TimerOp{create("cb", "c", 30, 3, `3`)}, nil)); err != nil {
		t.Fatal(err)
	}
	want := s.DueTimers("f", []uint16{1, 2, 3}, 100, 10)
	cfg.BindAddr = s.Addr()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, cfg)
	waitFor(t, 5*time.Second, func() bool { return s2.PendingTimers("f") == 3 })
	got := s2.DueTimers("f", []uint16{1, 2, 3}, 100, 10)
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("after restart DueTimers = %s, want %s", gj, wj)
	}
	// New versions continue above the restored ones.
	if _, err := s2.CommitBatch(ctx, timerBatch(f, []TimerOp{create("cb", "a", 40, 1, `4`)}, nil)); err != nil {
		t.Fatal(err)
	}
	if a, _ := s2.PendingTimer("f", "cb", "a"); a.Seq <= want[2].Seq {
		t.Fatalf("seq after restart %d, not above %d", a.Seq, want[2].Seq)
	}
}

// OnDeploy: a pending run holds the deploy in deploying until a batch
// completes it, once.
func TestStore_OnDeployPending(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, testKS.Bucket)
	ctx := ctxT(t)
	f := mustChange(t, s, FunctionChange{Name: "f", Definition: json.RawMessage(`{}`), Source: testKS})
	_, err := s.ChangeFunction(ctx, FunctionChange{Name: "f", ExpectVersion: f.Version, Status: StatusDeploying,
		NewInstanceID: "i1", Boundary: BoundaryEverything, OnDeploy: "Later"})
	wantErr(t, err, ErrInvalid)
	f = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: f.Version, Status: StatusDeploying,
		NewInstanceID: "i1", Boundary: BoundaryEverything, OnDeploy: OnDeployDeploy})
	if f.OnDeploy != OnDeployDeploy || f.OnDeployDelay != 0 {
		t.Fatalf("record = %+v, want OnDeploy pending", f)
	}
	f, err = s.ReportFunction(ctx, FunctionReport{Name: "f", InstanceID: "i1", Node: "n1", Running: true})
	if err != nil || f.Status != StatusDeploying {
		t.Fatalf("after the running report: %+v, %v; want deploying while OnDeploy is pending", f, err)
	}
	if _, err := s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1", OnDeployDone: true,
		Timers: []TimerOp{create("cb", "x", 5, 0, `1`)}}); err != nil {
		t.Fatal(err)
	}
	f, _ = s.Function("f")
	if f.OnDeploy != "" || f.Status != StatusDeployed {
		t.Fatalf("after OnDeployDone: %+v, want deployed", f)
	}
	_, err = s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1", OnDeployDone: true})
	wantErr(t, err, ErrOnDeployDone)

	// Pause, then resume with OnDeploy: the delay is the time paused.
	f = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: f.Version, Status: StatusPausing})
	f, _ = s.ReportFunction(ctx, FunctionReport{Name: "f", InstanceID: "i1", Node: "n1", Running: false})
	if f.Status != StatusPaused || f.PausedAt == 0 {
		t.Fatalf("after pausing: %+v, want paused with PausedAt", f)
	}
	time.Sleep(30 * time.Millisecond)
	f = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: f.Version, Status: StatusDeploying, OnDeploy: OnDeployResume})
	if f.OnDeploy != OnDeployResume || f.OnDeployDelay < 30 {
		t.Fatalf("resumed record = %+v, want Resume with a delay of at least 30 ms", f)
	}
}
