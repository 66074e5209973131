package qinling

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/internal/testzip"
)

// storeExecutions writes n finished execution records of fn (version
// 0) straight into the replicated table, in large batches: far faster
// than running them, and the same records.
func (h *harness) storeExecutions(fn Function, n int) {
	h.t.Helper()
	const batch = 2000
	changes := make([]consensus.RecordChange, 0, batch)
	for i := range n {
		rec := executionRec{Execution: Execution{
			ID: fmt.Sprintf("bench-%s-%07d", fn.ID, i), FunctionID: fn.ID, Status: ExecutionSuccess,
			ProjectID: fn.ProjectID, CreatedAt: Time{h.clock.Now()}, UpdatedAt: Time{h.clock.Now()},
			Result: NullString(formatResult(0, []byte(`"ok"`))),
		}, NodeID: "n1"}
		changes = append(changes, putChange(tableExecutions, rec.ID, 0, rec))
		if len(changes) == batch || i == n-1 {
			if _, err := h.store.PutRecords(ctxT(h.t), changes...); err != nil {
				h.t.Fatal(err)
			}
			changes = changes[:0]
		}
	}
}

// BenchmarkGetFunction_100kExecutions is GET function (its count
// included) with 100,000 executions stored: "quiet" while nothing
// changes, "changing" with one execution record written before each GET
// (the write is not timed).
func BenchmarkGetFunction_100kExecutions(b *testing.B) {
	h := newHarness(b)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	h.storeExecutions(f, 100_000)
	ctx := ctxT(b)
	get := func(b *testing.B, want int) {
		got, err := h.svc.GetFunction(ctx, alice, f.ID)
		if err != nil || got.Count != want {
			b.Fatalf("count %d, %v; want %d", got.Count, err, want)
		}
	}
	b.Run("quiet", func(b *testing.B) {
		for b.Loop() {
			get(b, 100_000)
		}
	})
	b.Run("changing", func(b *testing.B) {
		extra := 0
		for b.Loop() {
			b.StopTimer()
			rec := executionRec{Execution: Execution{ID: fmt.Sprintf("extra-%d", extra), FunctionID: f.ID,
				Status: ExecutionSuccess, ProjectID: f.ProjectID, CreatedAt: Time{h.clock.Now()}}}
			if _, err := h.store.PutRecord(ctx, putChange(tableExecutions, rec.ID, 0, rec)); err != nil {
				b.Fatal(err)
			}
			extra++
			b.StartTimer()
			get(b, 100_000+extra)
		}
	})
}

// scanCounts is the reference: every execution record of the store
// decoded, counted per function version.
func (h *harness) scanCounts() map[countKey]int {
	counts := make(map[countKey]int)
	for _, r := range h.store.Records(tableExecutions) {
		var e executionRec
		if json.Unmarshal(r.Body, &e) == nil {
			counts[countKey{e.FunctionID, e.FunctionVersion}]++
		}
	}
	return counts
}

// TestExecutionCounts_MatchFullScan: through random runs, deletions,
// garbage collection and changes written by other nodes straight into
// the replicated table (new records, status updates, deletions,
// undecodable bodies), every count GET and list functions and versions
// show equals a full scan of the records, and the execution list holds
// exactly the decodable records.
func TestExecutionCounts_MatchFullScan(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ExecutionRetention = time.Hour })
	ctx := ctxT(t)
	rt := h.mustRuntime()
	f1 := h.mustFunction(alice, rt, testzip.Of(map[string]string{"hello.js": "v1"}))
	if _, err := h.svc.CreateVersion(ctx, alice, f1.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.UpdateFunction(ctx, alice, f1.ID, FunctionUpdate{Package: testzip.Of(map[string]string{"hello.js": "v2"})}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.CreateVersion(ctx, alice, f1.ID, ""); err != nil {
		t.Fatal(err)
	}
	f2 := h.mustFunction(alice, rt, testzip.Of(map[string]string{"hello.js": "f2"}))
	f3 := h.mustFunction(bob, rt, testzip.Of(map[string]string{"hello.js": "f3"}))
	type fv struct {
		f Function
		v int
	}
	targets := []fv{{f1, 0}, {f1, 1}, {f1, 2}, {f2, 0}, {f3, 0}}
	callerOf := func(f Function) Caller {
		if f.ProjectID == bob.ProjectID {
			return bob
		}
		return alice
	}

	check := func(step int, op string) {
		t.Helper()
		want := h.scanCounts()
		for _, c := range []Caller{alice, bob} {
			fs, err := h.svc.ListFunctions(ctx, c, ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if w := want[countKey{f.ID, 0}]; f.Count != w {
					t.Fatalf("step %d (%s): list functions: %s count %d, full scan %d", step, op, f.ID, f.Count, w)
				}
			}
		}
		for _, tg := range targets {
			w := want[countKey{tg.f.ID, tg.v}]
			c := callerOf(tg.f)
			if tg.v == 0 {
				got, err := h.svc.GetFunction(ctx, c, tg.f.ID)
				if err != nil || got.Count != w {
					t.Fatalf("step %d (%s): GET function %s count %d (%v), full scan %d", step, op, tg.f.ID, got.Count, err, w)
				}
			} else {
				got, err := h.svc.GetVersion(ctx, c, tg.f.ID, tg.v)
				if err != nil || got.Count != w {
					t.Fatalf("step %d (%s): GET version %d count %d (%v), full scan %d", step, op, tg.v, got.Count, err, w)
				}
			}
		}
		vs, err := h.svc.ListVersions(ctx, alice, f1.ID)
		if err != nil || len(vs) != 2 {
			t.Fatalf("versions %+v, %v", vs, err)
		}
		for _, v := range vs {
			if w := want[countKey{f1.ID, v.VersionNumber}]; v.Count != w {
				t.Fatalf("step %d (%s): list versions: version %d count %d, full scan %d", step, op, v.VersionNumber, v.Count, w)
			}
		}
		all := 0
		for _, n := range want {
			all += n
		}
		es, err := h.svc.ListExecutions(ctx, admin, ExecutionFilter{ListOptions: ListOptions{AllProjects: true}})
		if err != nil || len(es) != all {
			t.Fatalf("step %d (%s): %d executions listed (%v), full scan %d", step, op, len(es), err, all)
		}
	}

	rng := rand.New(rand.NewPCG(10, 1))
	pick := func() string { // a random execution record id, "" when none
		rs := h.store.Records(tableExecutions)
		if len(rs) == 0 {
			return ""
		}
		return rs[rng.IntN(len(rs))].ID
	}
	foreign := 0
	for step := range 400 {
		var op string
		switch k := rng.IntN(10); {
		case k < 4:
			op = "run"
			tg := targets[rng.IntN(len(targets))]
			if _, err := h.svc.CreateExecution(ctx, callerOf(tg.f), ExecutionSpec{FunctionID: tg.f.ID, FunctionVersion: tg.v}); err != nil {
				t.Fatal(err)
			}
		case k == 4:
			op = "delete"
			if id := pick(); id != "" {
				e, err := h.svc.GetExecution(ctx, alice, id)
				if err != nil {
					e, err = h.svc.GetExecution(ctx, bob, id)
				}
				if err == nil {
					c := alice
					if e.ProjectID == bob.ProjectID {
						c = bob
					}
					if err := h.svc.DeleteExecution(ctx, c, id); err != nil {
						t.Fatal(err)
					}
				}
			}
		case k == 5:
			op = "collect"
			h.clock.Add(time.Duration(rng.IntN(90)) * time.Minute)
			if _, err := h.svc.CollectExecutions(ctx); err != nil {
				t.Fatal(err)
			}
		case k == 6:
			op = "another node runs"
			tg := targets[rng.IntN(len(targets))]
			foreign++
			rec := executionRec{Execution: Execution{ID: fmt.Sprintf("foreign-%d", foreign), FunctionID: tg.f.ID,
				FunctionVersion: tg.v, Status: ExecutionRunning, ProjectID: tg.f.ProjectID, CreatedAt: Time{h.clock.Now()}}, NodeID: "n2"}
			if _, err := h.store.PutRecord(ctx, putChange(tableExecutions, rec.ID, 0, rec)); err != nil {
				t.Fatal(err)
			}
		case k == 7:
			op = "another node updates"
			if id := pick(); id != "" {
				r, _ := h.store.Record(tableExecutions, id)
				var e executionRec
				if json.Unmarshal(r.Body, &e) == nil {
					e.Status, e.UpdatedAt = ExecutionFailed, Time{h.clock.Now()}
					if _, err := h.store.PutRecord(ctx, putChange(tableExecutions, id, r.Version, e)); err != nil {
						t.Fatal(err)
					}
				}
			}
		case k == 8:
			op = "another node deletes"
			if id := pick(); id != "" {
				if _, err := h.store.PutRecord(ctx, deleteChange(tableExecutions, id, 0)); err != nil {
					t.Fatal(err)
				}
			}
		default:
			op = "undecodable"
			if id := pick(); id != "" && rng.IntN(2) == 0 {
				r, _ := h.store.Record(tableExecutions, id)
				if _, err := h.store.PutRecord(ctx, consensus.RecordChange{Table: tableExecutions, ID: id, ExpectVersion: r.Version, Body: []byte("{not json")}); err != nil {
					t.Fatal(err)
				}
			} else {
				foreign++
				if _, err := h.store.PutRecord(ctx, consensus.RecordChange{Table: tableExecutions, ID: fmt.Sprintf("bad-%d", foreign), Body: []byte("[")}); err != nil {
					t.Fatal(err)
				}
			}
		}
		check(step, op)
	}
}
