package consensus

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"eventide/docstore"
)

func mustChange(t testing.TB, s *Store, c FunctionChange) Function {
	t.Helper()
	f, err := s.ChangeFunction(ctxT(t), c)
	if err != nil {
		t.Fatalf("ChangeFunction(%+v): %v", c, err)
	}
	return f
}

// deploy creates function name on testKS and deploys it with boundary.
func deploy(t testing.TB, s *Store, name, instance, boundary string) Function {
	t.Helper()
	f := mustChange(t, s, FunctionChange{Name: name, Definition: json.RawMessage(`{"code":"x"}`), Source: testKS})
	return mustChange(t, s, FunctionChange{Name: name, ExpectVersion: f.Version, Status: StatusDeployed, NewInstanceID: instance, Boundary: boundary})
}

func TestStore_ChangeFunctionVersions(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	ctx := ctxT(t)
	changed := s.Changed()
	f1 := mustChange(t, s, FunctionChange{Name: "f", Definition: json.RawMessage(`{"v":1}`), Source: testKS})
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed by ChangeFunction")
	}
	if f1.Version == 0 || f1.Status != StatusUndeployed || string(f1.Definition) != `{"v":1}` || f1.Source != testKS {
		t.Fatalf("created record = %+v", f1)
	}
	if got, err := s.Function("f"); err != nil || !reflect.DeepEqual(got, f1) {
		t.Fatalf("Function = %+v, %v; want %+v", got, err, f1)
	}

	_, err := s.ChangeFunction(ctx, FunctionChange{Name: "f", Definition: json.RawMessage(`{}`)})
	wantErr(t, err, ErrFunctionExists)
	_, err = s.ChangeFunction(ctx, FunctionChange{Name: "g", ExpectVersion: 7, Status: StatusDeployed})
	wantErr(t, err, ErrFunctionNotFound)
	_, err = s.ChangeFunction(ctx, FunctionChange{Name: "f", ExpectVersion: f1.Version + 100, Status: StatusDeployed})
	wantErr(t, err, ErrVersionMismatch)

	// A status-only change keeps the definition and bumps the version.
	f2 := mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: f1.Version, Status: StatusPaused})
	if f2.Version <= f1.Version || f2.Status != StatusPaused || string(f2.Definition) != `{"v":1}` {
		t.Fatalf("after status change: %+v", f2)
	}
	// The old version is now stale.
	_, err = s.ChangeFunction(ctx, FunctionChange{Name: "f", ExpectVersion: f1.Version, Status: StatusDeployed})
	wantErr(t, err, ErrVersionMismatch)

	// Invalid changes are rejected on the proposer.
	for name, c := range map[string]FunctionChange{
		"empty name":       {Definition: json.RawMessage(`{}`)},
		"bad status":       {Name: "f", ExpectVersion: f2.Version, Status: "running"},
		"bad boundary":     {Name: "f", ExpectVersion: f2.Version, NewInstanceID: "i", Boundary: "yesterday"},
		"new and drop":     {Name: "f", ExpectVersion: f2.Version, NewInstanceID: "i", Boundary: BoundaryEverything, DropCheckpoints: true},
		"definition json":  {Name: "h", Definition: json.RawMessage(`{`)},
		"definition empty": {Name: "h", Definition: json.RawMessage{}},
	} {
		if _, err := s.ChangeFunction(ctx, c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error = %v, want ErrInvalid", name, err)
		}
	}

	// Delete needs the current version.
	wantErr(t, s.DeleteFunction(ctx, "f", f1.Version), ErrVersionMismatch)
	wantErr(t, s.DeleteFunction(ctx, "nope", 1), ErrFunctionNotFound)
	changed = s.Changed()
	if err := s.DeleteFunction(ctx, "f", f2.Version); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed by DeleteFunction")
	}
	_, err = s.Function("f")
	wantErr(t, err, ErrFunctionNotFound)
	// The name is free again.
	f3 := mustChange(t, s, FunctionChange{Name: "f", Definition: json.RawMessage(`{"v":3}`)})
	if f3.Version <= f2.Version {
		t.Fatalf("re-created version %d not above %d", f3.Version, f2.Version)
	}
}

func TestStore_FunctionsSortedAndCopied(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	for _, n := range []string{"zeta", "alpha", "mid"} {
		deploy(t, s, n, "i-"+n, BoundaryEverything)
	}
	fs := s.Functions()
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"alpha", "mid", "zeta"}) {
		t.Fatalf("Functions order = %v", names)
	}
	// Callers own what they get.
	fs[0].Checkpoints[0] = 99
	fs[0].Definition[0] = 'X'
	again, _ := s.Function("alpha")
	if again.Checkpoints[0] != 0 || again.Definition[0] != '{' {
		t.Fatalf("caller's changes leaked into the store: %+v", again)
	}
}

func TestStore_DeployBoundaries(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	var ms []docstore.Mutation
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		ms = append(ms, upsert(testKS, k, `{}`))
	}
	mustWrite(t, s, ms...)
	mustWrite(t, s, upsert(testKS, "a", `{"again":true}`))
	highs, err := s.Docs().HighSeqnos("b")
	if err != nil {
		t.Fatalf("HighSeqnos: %v", err)
	}
	if slices.Max(highs) == 0 {
		t.Fatal("test wrote nothing")
	}

	now := deploy(t, s, "now", "inst-now", BoundaryFromNow)
	if now.InstanceID != "inst-now" || !slices.Equal(now.Checkpoints, highs) {
		t.Fatalf("from_now checkpoints = %v, want the high seqnos %v", now.Checkpoints, highs)
	}
	all := deploy(t, s, "all", "inst-all", BoundaryEverything)
	if len(all.Checkpoints) != 64 || slices.Max(all.Checkpoints) != 0 {
		t.Fatalf("everything checkpoints = %v, want 64 zeros", all.Checkpoints)
	}

	// from_now on a missing bucket fails and changes nothing.
	g := mustChange(t, s, FunctionChange{Name: "g", Definition: json.RawMessage(`{}`), Source: docstore.Keyspace{Bucket: "nope", Scope: "_default", Collection: "_default"}})
	_, err = s.ChangeFunction(ctxT(t), FunctionChange{Name: "g", ExpectVersion: g.Version, Status: StatusDeploying, NewInstanceID: "i", Boundary: BoundaryFromNow})
	wantErr(t, err, docstore.ErrBucketNotFound)
	if got, _ := s.Function("g"); !reflect.DeepEqual(got, g) {
		t.Fatalf("failed change modified the record: %+v", got)
	}

	// Undeploy drops instance and checkpoints.
	un := mustChange(t, s, FunctionChange{Name: "now", ExpectVersion: now.Version, Status: StatusUndeployed, DropCheckpoints: true})
	if un.InstanceID != "" || un.Checkpoints != nil || un.Status != StatusUndeployed {
		t.Fatalf("after undeploy: %+v", un)
	}
}

func TestStore_CommitBatch(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	ctx := ctxT(t)
	src := mustWrite(t, s, upsert(testKS, "src", `{"n":1}`))[0]
	f := deploy(t, s, "f", "i1", BoundaryEverything)
	out := docstore.Keyspace{Bucket: "b", Scope: "_default", Collection: "_default"}

	first := Batch{
		Function:    "f",
		InstanceID:  "i1",
		Checkpoints: map[uint16]uint64{src.VBucket: src.Seqno},
		Mutations: []docstore.Mutation{
			{Keyspace: out, Key: "out1", Op: docstore.OpUpsert, Body: json.RawMessage(`{"from":"src"}`), Origin: "i1"},
			{Keyspace: out, Key: "out1", Op: docstore.OpUpsert, Body: json.RawMessage(`{"from":"src","v":2}`), Origin: "i1"},
		},
	}
	docs, err := s.CommitBatch(ctx, first)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	if len(docs) != 2 || docs[1].Origin != "i1" || string(docs[1].Body) != `{"from":"src","v":2}` {
		t.Fatalf("CommitBatch docs = %+v", docs)
	}
	rec, _ := s.Function("f")
	if rec.Checkpoints[src.VBucket] != src.Seqno {
		t.Fatalf("checkpoint[%d] = %d, want %d", src.VBucket, rec.Checkpoints[src.VBucket], src.Seqno)
	}
	if rec.Version != f.Version {
		t.Fatalf("checkpoint progress changed Version %d → %d", f.Version, rec.Version)
	}

	snapshot := func() (state, *docstore.Document) {
		d, _ := s.Docs().Get(out, "out1")
		return dumpState(t, s.Docs(), s.fsm), d
	}
	before, beforeDoc := snapshot()

	// The same batch again (a retried commit whose first attempt landed)
	// starts from a checkpoint that moved: rejected whole.
	_, err = s.CommitBatch(ctx, first)
	wantErr(t, err, ErrCheckpointMismatch)
	if after, afterDoc := snapshot(); afterDoc != beforeDoc {
		t.Fatal("duplicate batch replaced a document")
	} else {
		sameState(t, after, before)
	}

	// A failing precondition rejects the whole batch: no writes, no checkpoints.
	_, err = s.CommitBatch(ctx, Batch{
		Function:    "f",
		InstanceID:  "i1",
		Checkpoints: map[uint16]uint64{src.VBucket: src.Seqno + 10, 3: 7},
		From:        map[uint16]uint64{src.VBucket: src.Seqno},
		Mutations: []docstore.Mutation{
			{Keyspace: out, Key: "out2", Op: docstore.OpUpsert, Body: json.RawMessage(`{}`)},
			{Keyspace: out, Key: "out1", Op: docstore.OpInsert, Body: json.RawMessage(`{}`)},
		},
	})
	var be *docstore.BatchError
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, docstore.ErrExists) {
		t.Fatalf("CommitBatch with a failing insert: %v, want *docstore.BatchError{Index: 1, ErrExists}", err)
	}
	after, afterDoc := snapshot()
	sameState(t, after, before)
	if afterDoc != beforeDoc {
		t.Fatal("rejected batch replaced a document")
	}

	stale := []struct {
		name string
		b    Batch
	}{
		{name: "unknown function", b: Batch{Function: "nope", InstanceID: "i1"}},
		{name: "other instance", b: Batch{Function: "f", InstanceID: "i0"}},
		{name: "no instance", b: Batch{Function: "f"}},
	}
	for _, c := range stale {
		c.b.Mutations = []docstore.Mutation{upsert(out, "stale", `{}`)}
		c.b.Checkpoints = map[uint16]uint64{0: 1000}
		_, err := s.CommitBatch(ctx, c.b)
		if !errors.Is(err, ErrStaleInstance) {
			t.Fatalf("%s: error = %v, want ErrStaleInstance", c.name, err)
		}
	}
	sameState(t, dumpState(t, s.Docs(), s.fsm), before)

	// Checkpoints only move forward; a vbucket out of range is invalid.
	if _, err := s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1",
		Checkpoints: map[uint16]uint64{src.VBucket: 1, 5: 9}, From: map[uint16]uint64{src.VBucket: src.Seqno}}); err != nil {
		t.Fatalf("checkpoint-only commit: %v", err)
	}
	rec, _ = s.Function("f")
	if rec.Checkpoints[src.VBucket] != src.Seqno || rec.Checkpoints[5] != 9 {
		t.Fatalf("checkpoints = %v; vb %d must stay %d, vb 5 must be 9", rec.Checkpoints, src.VBucket, src.Seqno)
	}
	_, err = s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1", Checkpoints: map[uint16]uint64{64: 1}})
	wantErr(t, err, ErrInvalid)

	// Paused: batches are stale; pausing (a worker still runs) still commits.
	if _, err := s.ReportFunction(ctx, FunctionReport{Name: "f", InstanceID: "i1", Node: "n1", Running: true}); err != nil {
		t.Fatalf("ReportFunction: %v", err)
	}
	rec, _ = s.Function("f")
	rec = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: rec.Version, Status: StatusPausing})
	if rec.Status != StatusPausing {
		t.Fatalf("pausing with a running worker: %+v", rec)
	}
	if _, err := s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1", Checkpoints: map[uint16]uint64{5: 10}, From: map[uint16]uint64{5: 9}}); err != nil {
		t.Fatalf("commit while pausing: %v", err)
	}
	rec, err = s.ReportFunction(ctx, FunctionReport{Name: "f", InstanceID: "i1", Node: "n1", Running: false})
	if err != nil || rec.Status != StatusPaused {
		t.Fatalf("after the last worker stopped: %+v, %v; want paused", rec, err)
	}
	_, err = s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1", Checkpoints: map[uint16]uint64{5: 11}, From: map[uint16]uint64{5: 10}})
	wantErr(t, err, ErrStaleInstance)
	// Resume keeps the instance and its checkpoints.
	rec = mustChange(t, s, FunctionChange{Name: "f", ExpectVersion: rec.Version, Status: StatusDeploying})
	if rec.Checkpoints[5] != 10 || rec.InstanceID != "i1" {
		t.Fatalf("resumed record = %+v", rec)
	}
	if _, err := s.CommitBatch(ctx, Batch{Function: "f", InstanceID: "i1", Checkpoints: map[uint16]uint64{5: 11}, From: map[uint16]uint64{5: 10}}); err != nil {
		t.Fatalf("commit after resume: %v", err)
	}
}
