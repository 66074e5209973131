package qinling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/internal/testzip"
)

// jobExecutions returns the executions job id made, oldest first.
func (h *harness) jobExecutions(id string) []Execution {
	h.t.Helper()
	es, err := h.svc.ListExecutions(ctxT(h.t), admin, ExecutionFilter{ListOptions: ListOptions{AllProjects: true}, Description: "Created by Job " + id})
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

// fire runs one scheduler pass at the harness clock, then starts the
// firings due on the harness's node (its only executor).
func (h *harness) fire() int {
	h.t.Helper()
	n, _, err := h.svc.FireDueJobs(ctxT(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	h.svc.StartDueFirings(ctxT(h.t))
	return n
}

func (h *harness) mustJob(c Caller, spec JobSpec) Job {
	h.t.Helper()
	j, err := h.svc.CreateJob(ctxT(h.t), c, spec)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func (h *harness) getJob(id string) Job {
	h.t.Helper()
	// The administrator reaches other projects' jobs only by listing
	// across projects.
	js, err := h.svc.ListJobs(ctxT(h.t), admin, ListOptions{AllProjects: true})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, j := range js {
		if j.ID == id {
			return j
		}
	}
	h.t.Fatalf("job %s not found", id)
	return Job{}
}

// at is a time of the harness's day (2019-06-06), UTC.
func at(hms string) time.Time {
	t, err := time.Parse(TimeFormat, "2019-06-06 "+hms)
	if err != nil {
		panic(err)
	}
	return t
}

func intp(n int) *int { return &n }

func TestJobs_CreateValidation(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	// The clock is 23:13:37.
	for _, tc := range []struct {
		name   string
		spec   JobSpec
		status int
		msg    string
	}{
		{"no function", JobSpec{Pattern: "* * * * *"}, 400, "either function_alias or function_id"},
		{"no pattern nor time", JobSpec{FunctionID: f.ID}, 400, "pattern or first_execution_time must be specified"},
		{"first time too soon", JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:14:36"}, 400, "at least 1 minute in the future"},
		{"first time past", JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 20:00:00"}, 400, "at least 1 minute in the future"},
		{"count without pattern", JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:20:00", Count: intp(2)}, 400, "pattern must be provided if count is greater than 1"},
		{"bad pattern", JobSpec{FunctionID: f.ID, Pattern: "* * *"}, 400, "the specified pattern is not valid"},
		{"bad field", JobSpec{FunctionID: f.ID, Pattern: "61 * * * *"}, 400, "the specified pattern is not valid"},
		{"never fires", JobSpec{FunctionID: f.ID, Pattern: "0 0 30 2 *"}, 400, "never fires"},
		{"negative count", JobSpec{FunctionID: f.ID, Pattern: "* * * * *", Count: intp(-1)}, 400, "count must not be negative"},
		{"bad time", JobSpec{FunctionID: f.ID, FirstExecutionTime: "tomorrow"}, 400, "is not a time"},
		{"bad input", JobSpec{FunctionID: f.ID, Pattern: "* * * * *", FunctionInput: json.RawMessage(`{nope`)}, 400, "function_input"},
		{"long name", JobSpec{FunctionID: f.ID, Pattern: "* * * * *", Name: strings.Repeat("n", 300)}, 400, "name is longer"},
		{"unknown function", JobSpec{FunctionID: "nope", Pattern: "* * * * *"}, 404, "function nope not found"},
		{"another project's function", JobSpec{FunctionID: f.ID, Pattern: "* * * * *"}, 404, "not found"},
		{"unknown version", JobSpec{FunctionID: f.ID, FunctionVersion: 3, Pattern: "* * * * *"}, 404, "version 3"},
		{"unknown alias", JobSpec{FunctionAlias: "nope", Pattern: "* * * * *"}, 404, "alias"},
	} {
		c := alice
		if tc.name == "another project's function" {
			c = bob
		}
		_, err := h.svc.CreateJob(ctx, c, tc.spec)
		var e *Error
		if !errors.As(err, &e) || e.Status != tc.status || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%s: error %v, want %d %q", tc.name, err, tc.status, tc.msg)
		}
	}
	if js, _ := h.svc.ListJobs(ctx, admin, ListOptions{AllProjects: true}); len(js) != 0 || len(h.store.Records(tableJobs)) != 0 {
		t.Fatalf("refused jobs left records: %+v", js)
	}
	_, err := h.svc.CreateJob(ctx, Caller{}, JobSpec{FunctionID: f.ID, Pattern: "* * * * *"})
	wantStatus(t, err, http.StatusUnauthorized)
}

func TestJobs_CreateShapes(t *testing.T) {
	h := newHarness(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	// One shot: count 1, next = first, exactly a minute ahead is enough.
	one := h.mustJob(alice, JobSpec{Name: "once", FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:14:37", FunctionInput: json.RawMessage(`"{\"name\": \"Foo\"}"`)})
	if one.Count == nil || *one.Count != 1 || one.Status != JobRunning || one.Pattern != "" ||
		!one.FirstExecutionTime.Equal(at("23:14:37")) || !one.NextExecutionTime.Equal(at("23:14:37")) ||
		one.FunctionInput != `{"name": "Foo"}` || one.ProjectID != alice.ProjectID || !one.CreatedAt.Equal(at("23:13:37")) {
		t.Fatalf("one-shot job %+v", one)
	}
	// Pattern only: unlimited, first = next = the pattern's next time.
	every := h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "*/5 * * * *", FunctionInput: json.RawMessage(`{"a": 1}`)})
	if every.Count != nil || !every.NextExecutionTime.Equal(at("23:15:00")) || !every.FirstExecutionTime.Equal(at("23:15:00")) || every.FunctionInput != `{"a":1}` {
		t.Fatalf("pattern job %+v", every)
	}
	// Both: the pattern's first time from a minute before the first time.
	both := h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "* * * * *", FirstExecutionTime: "2019-06-06T23:30:30Z", Count: intp(5)})
	if *both.Count != 5 || !both.FirstExecutionTime.Equal(at("23:30:00")) || !both.NextExecutionTime.Equal(at("23:30:00")) {
		t.Fatalf("pattern and first time %+v", both)
	}
	b, _ := json.Marshal(one)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k, want := range map[string]any{"first_execution_time": "2019-06-06 23:14:37", "next_execution_time": "2019-06-06 23:14:37", "count": 1.0, "pattern": nil, "function_alias": nil, "updated_at": nil, "status": "running", "name": "once"} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	// Projects.
	if _, err := h.svc.GetJob(ctxT(t), bob, one.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob sees alice's job: %v", err)
	}
	if js, _ := h.svc.ListJobs(ctxT(t), bob, ListOptions{}); len(js) != 0 {
		t.Fatalf("bob lists %d jobs", len(js))
	}
	// Created in the same second: by id.
	js, _ := h.svc.ListJobs(ctxT(t), alice, ListOptions{})
	if len(js) != 3 || js[0].ID > js[1].ID || js[1].ID > js[2].ID {
		t.Fatalf("alice lists %+v", js)
	}
	if js, _ := h.svc.ListJobs(ctxT(t), admin, ListOptions{AllProjects: true}); len(js) != 3 {
		t.Fatalf("admin lists %d jobs across projects", len(js))
	}
}

func TestJobs_OneShotFiresOnce(t *testing.T) {
	h := newHarness(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	j := h.mustJob(alice, JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:15:00", FunctionInput: json.RawMessage(`"{\"name\": \"Foo\"}"`)})
	h.clock.Add(80 * time.Second) // 23:14:57
	n, next, err := h.svc.FireDueJobs(ctxT(t))
	if err != nil || n != 0 || !next.Equal(at("23:14:58")) {
		t.Fatalf("before its lookahead: fired %d, next decision %s, %v", n, next, err)
	}
	// Decided JobLookahead (2 s) ahead of its due time; it starts at the
	// due time, not before.
	h.clock.Add(time.Second)
	if n := h.fire(); n != 1 {
		t.Fatalf("fired %d at its lookahead", n)
	}
	got := h.getJob(j.ID)
	if got.Status != JobDone || *got.Count != 0 || !got.NextExecutionTime.Equal(at("23:15:00")) || !got.UpdatedAt.Equal(at("23:14:58")) {
		t.Fatalf("after its shot: %+v", got)
	}
	es := h.jobExecutions(j.ID)
	if len(es) != 1 || es[0].Status != ExecutionRunning || !es[0].CreatedAt.Equal(at("23:15:00")) {
		t.Fatalf("decided firing %+v", es)
	}
	h.clock.Add(time.Second) // 23:14:59
	if h.svc.StartDueFirings(ctxT(t)); h.engine.runCount() != 0 {
		t.Fatal("started before its due time")
	}
	h.clock.Add(time.Second) // 23:15:00
	h.svc.StartDueFirings(ctxT(t))
	waitFor(t, 5*time.Second, func() bool {
		es := h.jobExecutions(j.ID)
		return len(es) == 1 && es[0].Status == ExecutionSuccess
	})
	e := h.jobExecutions(j.ID)[0]
	if e.FunctionID != f.ID || e.Sync || e.Input != `{"name": "Foo"}` || e.ProjectID != alice.ProjectID || !strings.Contains(string(e.Result), `"echo": {"name":"Foo"}`) && !strings.Contains(string(e.Result), `{"echo":{"name":"Foo"}}`) {
		t.Fatalf("job's execution %+v", e)
	}
	h.clock.Add(time.Hour)
	if n := h.fire(); n != 0 {
		t.Fatalf("a done job fired again: %d", n)
	}
	if h.engine.runCount() != 1 {
		t.Fatalf("engine ran %d times", h.engine.runCount())
	}
}

func TestJobs_PatternCountsDownAndCatchesUpOnce(t *testing.T) {
	h := newHarness(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	j := h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "*/5 * * * *", Count: intp(3)})
	if !j.NextExecutionTime.Equal(at("23:15:00")) {
		t.Fatalf("next %s", j.NextExecutionTime)
	}
	h.clock.Add(83 * time.Second) // 23:15:00
	if n := h.fire(); n != 1 {
		t.Fatalf("first period fired %d", n)
	}
	if got := h.getJob(j.ID); *got.Count != 2 || got.Status != JobRunning || !got.NextExecutionTime.Equal(at("23:20:00")) {
		t.Fatalf("after 1: %+v", got)
	}
	if n := h.fire(); n != 0 {
		t.Fatalf("fired twice in one period: %d", n)
	}
	// The cluster had no leader from 23:19 to 23:36: the three missed
	// periods fire once, late, and the job moves past now.
	h.clock.Add(21*time.Minute + 7*time.Second) // 23:36:07
	if n := h.fire(); n != 1 {
		t.Fatalf("catch-up fired %d", n)
	}
	if got := h.getJob(j.ID); *got.Count != 1 || !got.NextExecutionTime.Equal(at("23:40:00")) {
		t.Fatalf("after the catch-up: %+v", got)
	}
	if n := h.fire(); n != 0 {
		t.Fatalf("missed periods replayed: %d", n)
	}
	h.clock.Add(3*time.Minute + 53*time.Second) // 23:40:00
	if n := h.fire(); n != 1 {
		t.Fatalf("last period fired %d", n)
	}
	if got := h.getJob(j.ID); *got.Count != 0 || got.Status != JobDone {
		t.Fatalf("spent job %+v", got)
	}
	h.clock.Add(time.Hour)
	if n := h.fire(); n != 0 {
		t.Fatalf("spent job fired %d", n)
	}
	waitFor(t, 5*time.Second, func() bool { return h.engine.runCount() == 3 })
	if es := h.jobExecutions(j.ID); len(es) != 3 {
		t.Fatalf("%d executions, want 3", len(es))
	}
}

func TestJobs_Update(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	rec := h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "*/5 * * * *"})
	shot := h.mustJob(alice, JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:30:00"})
	str := func(s string) *string { return &s }

	for _, tc := range []struct {
		name string
		id   string
		u    JobUpdate
		msg  string
	}{
		{"one-shot gets a pattern", shot.ID, JobUpdate{Pattern: str("* * * * *")}, "can not change job type"},
		{"recurring loses it", rec.ID, JobUpdate{Pattern: str("")}, "can not change job type"},
		{"bad pattern", rec.ID, JobUpdate{Pattern: str("x")}, "not valid"},
		{"done is not settable", rec.ID, JobUpdate{Status: str(JobDone)}, "invalid status"},
		{"next too soon", rec.ID, JobUpdate{NextExecutionTime: str("2019-06-06 23:14:00")}, "at least 1 minute"},
		{"bad input", rec.ID, JobUpdate{FunctionInput: json.RawMessage(`[`)}, "function_input"},
	} {
		_, err := h.svc.UpdateJob(ctx, alice, tc.id, tc.u)
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%s: %v, want 400 %q", tc.name, err, tc.msg)
		}
	}
	if _, err := h.svc.UpdateJob(ctx, bob, rec.ID, JobUpdate{Status: str(JobPaused)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob paused alice's job: %v", err)
	}

	// Paused: due, but not fired.
	p, err := h.svc.UpdateJob(ctx, alice, rec.ID, JobUpdate{Status: str(JobPaused), Name: str("renamed"), FunctionInput: json.RawMessage(`"hi"`)})
	if err != nil || p.Status != JobPaused || p.Name != "renamed" || p.FunctionInput != "hi" || !p.UpdatedAt.Equal(at("23:13:37")) {
		t.Fatalf("paused %+v %v", p, err)
	}
	h.clock.Add(10 * time.Minute) // 23:23:37
	if n := h.fire(); n != 0 {
		t.Fatalf("paused job fired %d", n)
	}
	// Resumed: next from now, not the missed time.
	r, err := h.svc.UpdateJob(ctx, alice, rec.ID, JobUpdate{Status: str(JobRunning)})
	if err != nil || r.Status != JobRunning || !r.NextExecutionTime.Equal(at("23:25:00")) {
		t.Fatalf("resumed %+v %v", r, err)
	}
	// A new pattern of a running job moves its next time.
	r, err = h.svc.UpdateJob(ctx, alice, rec.ID, JobUpdate{Pattern: str("0 * * * *")})
	if err != nil || r.Pattern != "0 * * * *" || !r.NextExecutionTime.Equal(at("00:00:00").Add(24*time.Hour)) {
		t.Fatalf("new pattern %+v %v", r, err)
	}
	// An explicit next time wins.
	r, err = h.svc.UpdateJob(ctx, alice, rec.ID, JobUpdate{NextExecutionTime: str("2019-06-06 23:50:00")})
	if err != nil || !r.NextExecutionTime.Equal(at("23:50:00")) {
		t.Fatalf("next time %+v %v", r, err)
	}
	// A one-shot job paused past its time cannot resume without a new time.
	if _, err := h.svc.UpdateJob(ctx, alice, shot.ID, JobUpdate{Status: str(JobPaused)}); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(6 * time.Minute) // 23:29:37
	_, err = h.svc.UpdateJob(ctx, alice, shot.ID, JobUpdate{Status: str(JobRunning)})
	wantStatus(t, err, 400)
	s, err := h.svc.UpdateJob(ctx, alice, shot.ID, JobUpdate{Status: str(JobRunning), NextExecutionTime: str("2019-06-06 23:45:00")})
	if err != nil || s.Status != JobRunning || !s.NextExecutionTime.Equal(at("23:45:00")) {
		t.Fatalf("one-shot resumed %+v %v", s, err)
	}
	// Cancelled is final.
	if c, err := h.svc.UpdateJob(ctx, alice, shot.ID, JobUpdate{Status: str(JobCancelled)}); err != nil || c.Status != JobCancelled {
		t.Fatalf("cancel %+v %v", c, err)
	}
	_, err = h.svc.UpdateJob(ctx, alice, shot.ID, JobUpdate{Status: str(JobRunning)})
	if err == nil || !strings.Contains(err.Error(), "can not update a finished job") {
		t.Fatalf("updating a cancelled job: %v", err)
	}
	h.clock.Add(time.Hour)
	h.fire() // the recurring job fires; the cancelled one must not
	if es := h.jobExecutions(shot.ID); len(es) != 0 {
		t.Fatalf("cancelled job fired %d", len(es))
	}
}

func TestJobs_DeleteAndInUse(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	if _, err := h.svc.CreateVersion(ctx, alice, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.CreateAlias(ctx, alice, AliasSpec{Name: "prod", FunctionID: f.ID}); err != nil {
		t.Fatal(err)
	}
	byVersion := h.mustJob(alice, JobSpec{FunctionID: f.ID, FunctionVersion: 1, Pattern: "* * * * *"})
	byAlias := h.mustJob(alice, JobSpec{FunctionAlias: "prod", Pattern: "* * * * *"})
	if byAlias.FunctionID != "" || byAlias.FunctionAlias != "prod" {
		t.Fatalf("alias job %+v", byAlias)
	}
	wantStatus(t, h.svc.DeleteVersion(ctx, alice, f.ID, 1), http.StatusForbidden)
	wantStatus(t, h.svc.DeleteAlias(ctx, alice, "prod"), http.StatusForbidden)
	wantStatus(t, h.svc.DeleteFunction(ctx, alice, f.ID), http.StatusForbidden)

	// The alias's job runs the version the alias names at each firing.
	h.clock.Add(time.Minute)
	if n := h.fire(); n != 2 {
		t.Fatalf("fired %d", n)
	}
	waitFor(t, 5*time.Second, func() bool { return h.engine.runCount() == 2 })
	if es := h.jobExecutions(byAlias.ID); len(es) != 1 || es[0].FunctionID != f.ID {
		t.Fatalf("alias job executions %+v", es)
	}

	wantStatus(t, h.svc.DeleteJob(ctx, bob, byVersion.ID), http.StatusNotFound)
	if err := h.svc.DeleteJob(ctx, alice, byVersion.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.svc.DeleteJob(ctx, alice, byVersion.ID), http.StatusNotFound)
	if es := h.jobExecutions(byVersion.ID); len(es) != 1 {
		t.Fatalf("the deleted job's executions: %d, want them kept", len(es))
	}
	if err := h.svc.DeleteVersion(ctx, alice, f.ID, 1); err != nil {
		t.Fatal(err)
	}
	// A cancelled job holds nothing.
	str := JobCancelled
	if _, err := h.svc.UpdateJob(ctx, alice, byAlias.ID, JobUpdate{Status: &str}); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeleteAlias(ctx, alice, "prod"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeleteFunction(ctx, alice, f.ID); err != nil {
		t.Fatal(err)
	}
}

// checkingEngine checks, as each run starts, that its execution is
// recorded running on this node and its job already advanced.
type checkingEngine struct {
	*testEngine
	store *consensus.Store
	mu    sync.Mutex
	bad   []string
}

func (e *checkingEngine) Run(ctx context.Context, code Code, inv Invocation) (Result, error) {
	r, err := e.store.Record(tableExecutions, inv.ExecutionID)
	var rec executionRec
	if err == nil {
		err = json.Unmarshal(r.Body, &rec)
	}
	var why string
	switch {
	case err != nil:
		why = fmt.Sprintf("no execution record: %v", err)
	case rec.Status != ExecutionRunning || rec.NodeID != "n1":
		why = fmt.Sprintf("record %+v", rec)
	default:
		id := strings.TrimPrefix(string(rec.Description), "Created by Job ")
		jr, err := e.store.Record(tableJobs, id)
		var j Job
		if err == nil {
			err = json.Unmarshal(jr.Body, &j)
		}
		if err != nil || j.Status != JobDone {
			why = fmt.Sprintf("job not advanced: %+v %v", j, err)
		}
	}
	if why != "" {
		e.mu.Lock()
		e.bad = append(e.bad, why)
		e.mu.Unlock()
	}
	return e.testEngine.Run(ctx, code, inv)
}

func TestJobs_FiringRecordedBeforeRun(t *testing.T) {
	var ce *checkingEngine
	h := newHarness(t, func(c *Config) {
		c.Engines = func(string) Engine { return ce }
	})
	ce = &checkingEngine{testEngine: h.engine, store: h.store}
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	h.mustJob(alice, JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:15:00"})
	h.clock.Add(time.Hour)
	if n := h.fire(); n != 1 {
		t.Fatalf("fired %d", n)
	}
	waitFor(t, 5*time.Second, func() bool { return h.engine.runCount() == 1 })
	ce.mu.Lock()
	defer ce.mu.Unlock()
	if len(ce.bad) > 0 {
		t.Fatal(ce.bad)
	}
}

// TestJobs_UnrunnableFiringRecordedFailed: a firing whose function cannot
// run on the leader is not lost: its execution is recorded failed with
// the reason, and the job moves on.
func TestJobs_UnrunnableFiringRecordedFailed(t *testing.T) {
	h := newHarness(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	j := h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "* * * * *", Count: intp(2)})
	h.engine.mu.Lock()
	h.engine.unavail = errors.New("no python3")
	h.engine.mu.Unlock()
	h.clock.Add(time.Minute)
	if n := h.fire(); n != 1 {
		t.Fatalf("fired %d", n)
	}
	es := h.jobExecutions(j.ID)
	if len(es) != 1 || es[0].Status != ExecutionFailed || !strings.Contains(string(es[0].Result), "no python3") {
		t.Fatalf("executions %+v", es)
	}
	if got := h.getJob(j.ID); *got.Count != 1 || got.Status != JobRunning {
		t.Fatalf("job %+v", got)
	}
	if h.engine.runCount() != 0 {
		t.Fatal("the engine ran")
	}
}

// crashingRecords commits a firing, then hangs until its context ends,
// as a node that dies right after the commit: the execution never runs.
type crashingRecords struct {
	inner     Records
	committed chan struct{}
	once      sync.Once
}

func (r *crashingRecords) Record(table, id string) (consensus.Record, error) {
	return r.inner.Record(table, id)
}
func (r *crashingRecords) Records(table string) []consensus.Record { return r.inner.Records(table) }
func (r *crashingRecords) RecordsWithPrefix(table, p string) []consensus.Record {
	return r.inner.RecordsWithPrefix(table, p)
}
func (r *crashingRecords) RecordsChanged() <-chan struct{} { return r.inner.RecordsChanged() }

func (r *crashingRecords) PutRecords(ctx context.Context, cs ...consensus.RecordChange) ([]consensus.Record, error) {
	rs, err := r.inner.PutRecords(ctx, cs...)
	if err != nil || len(cs) < 2 || cs[0].Table != tableJobs {
		return rs, err
	}
	r.once.Do(func() { close(r.committed) })
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestJobs_CrashBetweenCommitAndRun(t *testing.T) {
	h := newHarness(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	j := h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "* * * * *"})

	// n2 is the leader that crashes after committing the firing.
	crash := &crashingRecords{inner: h.store, committed: make(chan struct{})}
	cfg2 := h.cfg
	cfg2.NodeID, cfg2.Records = "n2", crash
	eng2 := newTestEngine()
	cfg2.Engines = func(string) Engine { return eng2 }
	old, err := New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Minute) // 23:14:37, the 23:14 firing is due
	octx, ocancel := context.WithCancel(context.Background())
	oldDone := make(chan struct{})
	go func() { defer close(oldDone); _, _, _ = old.FireDueJobs(octx) }()
	<-crash.committed

	es := h.jobExecutions(j.ID)
	if len(es) != 1 || es[0].Status != ExecutionRunning {
		t.Fatalf("after the commit: %+v", es)
	}
	// n1, the new leader: nothing to fire (the firing is decided), and
	// the sweep fails the run of the dead node.
	if n := h.fire(); n != 0 {
		t.Fatalf("the new leader fired the decided firing again: %d", n)
	}
	if n, err := h.svc.FailOrphans(ctxT(t), func(id string) bool { return id != "n2" }); n != 1 || err != nil {
		t.Fatalf("FailOrphans %d %v", n, err)
	}
	e, _ := h.svc.GetExecution(ctxT(t), alice, es[0].ID)
	if e.Status != ExecutionFailed || !strings.Contains(string(e.Result), "node n2") {
		t.Fatalf("orphaned firing %+v", e)
	}
	// The dead leader's write "returns" at last: it must not run the
	// execution that was failed meanwhile.
	ocancel()
	<-oldDone
	_ = old.Close()
	if eng2.runCount() != 0 || h.engine.runCount() != 0 {
		t.Fatalf("runs: old leader %d, new leader %d; the firing must not run again", eng2.runCount(), h.engine.runCount())
	}
	// The next period fires normally on the new leader.
	h.clock.Add(time.Minute)
	if n := h.fire(); n != 1 {
		t.Fatalf("next period fired %d", n)
	}
	if es := h.jobExecutions(j.ID); len(es) != 2 {
		t.Fatalf("%d executions, want the failed one and the next", len(es))
	}
}

func TestJobs_RacingSchedulersFireOnce(t *testing.T) {
	h := newHarness(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	var ids []string
	for range 20 {
		ids = append(ids, h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "* * * * *"}).ID)
	}
	cfg2 := h.cfg
	cfg2.NodeID = "n2"
	other, err := New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	h.clock.Add(time.Minute)
	var wg sync.WaitGroup
	counts := make([]int, 6)
	for i := range counts {
		svc := h.svc
		if i%2 == 1 {
			svc = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, _, err := svc.FireDueJobs(ctxT(t))
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != len(ids) {
		t.Fatalf("schedulers fired %v = %d, want %d", counts, total, len(ids))
	}
	for _, id := range ids {
		if es := h.jobExecutions(id); len(es) != 1 {
			t.Fatalf("job %s: %d executions", id, len(es))
		}
	}

	// A scheduler acting on a stale read of a job fires nothing.
	j, ver, err := getRec[Job](h.svc, tableJobs, ids[0], "job")
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Minute)
	if n := h.fire(); n != len(ids) {
		t.Fatalf("second period fired %d", n)
	}
	if _, ok, err := other.fireJob(ctxT(t), j, ver, h.svc.now()); ok || err != nil {
		t.Fatalf("stale firing: fired %v, %v", ok, err)
	}
	if es := h.jobExecutions(ids[0]); len(es) != 2 {
		t.Fatalf("%d executions after a stale firing, want 2", len(es))
	}
}

// TestJobs_RunJobs runs the scheduler on the real clock: it fires only
// while leading, within a second of the due time.
func TestJobs_RunJobs(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Now = time.Now; c.JobMinLead = time.Second })
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	var leading sync.Mutex
	lead := false
	isLeader := func() bool { leading.Lock(); defer leading.Unlock(); return lead }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.svc.RunJobs(ctx, isLeader) }()
	firings := make(chan struct{})
	go func() { defer close(firings); h.svc.RunFirings(ctx) }()
	defer func() { cancel(); <-done; <-firings }()

	due := time.Now().UTC().Truncate(time.Second).Add(2 * time.Second)
	j := h.mustJob(alice, JobSpec{FunctionID: f.ID, FirstExecutionTime: due.Format(TimeFormat)})
	time.Sleep(time.Until(due) + 600*time.Millisecond)
	if es := h.jobExecutions(j.ID); len(es) != 0 {
		t.Fatalf("a node that does not lead fired: %+v", es)
	}
	leading.Lock()
	lead = true
	leading.Unlock()
	waitFor(t, 3*time.Second, func() bool { return len(h.jobExecutions(j.ID)) == 1 })

	// A recurring job created while leading fires each second, on time.
	k := h.mustJob(alice, JobSpec{FunctionID: f.ID, Pattern: "@every 1s", Count: intp(3)})
	waitFor(t, 6*time.Second, func() bool { return h.getJob(k.ID).Status == JobDone })
	es := h.jobExecutions(k.ID)
	if len(es) != 3 {
		t.Fatalf("%d executions of a 3-count job", len(es))
	}
	if first := es[0].CreatedAt.Sub(k.NextExecutionTime.Time); first < 0 || first > time.Second {
		t.Fatalf("first firing %s after its due time", first)
	}
}

// TestJobs_FiringsOnExecutors: the leader hands firings to the other
// live nodes, which start them at their due time on their own, with no
// leader; an executor that restarts before a firing is due starts it,
// one that restarts after it began does not start it again.
func TestJobs_FiringsOnExecutors(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Executors = func() []string { return []string{"n1", "n2"} }
	})
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	newExecutor := func() (*Service, *testEngine) {
		cfg := h.cfg
		cfg.NodeID = "n2"
		eng := newTestEngine()
		cfg.Engines = func(string) Engine { return eng }
		svc, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return svc, eng
	}
	n2, eng2 := newExecutor()
	a := h.mustJob(alice, JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:15:00"})
	b := h.mustJob(alice, JobSpec{FunctionID: f.ID, FirstExecutionTime: "2019-06-06 23:15:10", FunctionInput: json.RawMessage(`"{\"Block\": true}"`)})
	h.clock.Add(81 * time.Second) // 23:14:58: a is decided, b is not
	if n := h.fire(); n != 1 {
		t.Fatalf("decided %d", n)
	}
	ea := h.jobExecutions(a.ID)
	if len(ea) != 1 {
		t.Fatalf("a: %+v", ea)
	}
	if rec, _, _ := getRec[executionRec](h.svc, tableExecutions, ea[0].ID, "execution"); rec.NodeID != "n2" {
		t.Fatalf("the leader kept the firing: %+v", rec)
	}
	// The leader is gone from now on; n2 restarts before a is due and
	// starts it at its due time.
	_ = n2.Close()
	n2, eng2 = newExecutor()
	h.clock.Add(2 * time.Second) // 23:15:00
	n2.StartDueFirings(ctxT(t))
	waitFor(t, 5*time.Second, func() bool {
		e, _ := h.svc.GetExecution(ctxT(t), alice, ea[0].ID)
		return e.Status == ExecutionSuccess
	})
	if eng2.runCount() != 1 || h.engine.runCount() != 0 {
		t.Fatalf("runs: n2 %d, leader %d", eng2.runCount(), h.engine.runCount())
	}
	if rs := h.store.Records(tableFirings); len(rs) != 0 {
		t.Fatalf("firing records left: %d", len(rs))
	}

	// b: decided, started on n2, whose process then dies mid-run and
	// comes back: the new process neither starts it again nor leaves it
	// running.
	h.clock.Add(8 * time.Second) // 23:15:08
	if n := h.fire(); n != 1 {
		t.Fatalf("decided %d", n)
	}
	h.clock.Add(2 * time.Second) // 23:15:10
	n2.StartDueFirings(ctxT(t))
	<-eng2.started
	h.clock.Add(time.Second)
	n3, eng3 := newExecutor()
	t.Cleanup(func() { _ = n3.Close() })
	n3.StartDueFirings(ctxT(t))
	if k, err := n3.FailOrphans(ctxT(t), func(string) bool { return true }); k != 1 || err != nil {
		t.Fatalf("the restarted executor failed %d lost firings, %v", k, err)
	}
	eb := h.jobExecutions(b.ID)
	if len(eb) != 1 || eb[0].Status != ExecutionFailed || !strings.Contains(string(eb[0].Result), "restarted") {
		t.Fatalf("b after the restart: %+v", eb)
	}
	if eng3.runCount() != 0 {
		t.Fatal("the restarted executor ran the firing again")
	}
	_ = n2.Close() // its run ends now; its result is dropped
	if e, _ := h.svc.GetExecution(ctxT(t), alice, eb[0].ID); e.Status != ExecutionFailed || !strings.Contains(string(e.Result), "restarted") {
		t.Fatalf("the dead process's result was written: %+v", e)
	}
	if rs := h.store.Records(tableFirings); len(rs) != 0 {
		t.Fatalf("firing records left: %d", len(rs))
	}
}
