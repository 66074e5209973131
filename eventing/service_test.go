package eventing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/eventing"
	"eventide/eventing/eventingtest"
	"eventide/internal/testlog"
)

// fixture is a Service over a single-node Raft store, with stand-ins for
// what the node reports about its workers and the other nodes.
type fixture struct {
	be  *eventingtest.Store
	rt  *eventingtest.Runtime
	cl  *eventingtest.Fleet
	svc *eventing.Service
}

// testLogger routes logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newFixture(t *testing.T, mods ...func(*eventing.Config)) *fixture {
	t.Helper()
	f := &fixture{
		be: eventingtest.NewStore(t, 8, "src", "meta", "dst", "dst2", "b1.s1.c1", "b1.s1.c2"),
		rt: eventingtest.NewRuntime(),
	}
	f.cl = &eventingtest.Fleet{Nodes: 1, Deployed: map[string]int{}, Runtime: f.rt}
	cfg := eventing.Config{
		Backend:   f.be,
		Keyspaces: f.be.Docs(),
		Compiler:  eventing.HandlerCompiler,
		Fleet:     f.cl,
		Runtime:   f.rt,
		Logger:    testLogger(t),
	}
	for _, m := range mods {
		m(&cfg)
	}
	svc, err := eventing.New(cfg)
	if err != nil {
		t.Fatalf("eventing.New: %v", err)
	}
	f.svc = svc
	return f
}

// def renders a definition; mod edits the map before encoding.
func def(name string, mod func(m map[string]any)) []byte {
	m := map[string]any{
		"appname": name,
		"appcode": "function OnUpdate(doc, meta) {\n}",
		"depcfg": map[string]any{
			"source_bucket":   "src",
			"metadata_bucket": "meta",
		},
		"settings": map[string]any{},
	}
	if mod != nil {
		mod(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func depcfg(m map[string]any) map[string]any { return m["depcfg"].(map[string]any) }
func settings(m map[string]any) map[string]any {
	return m["settings"].(map[string]any)
}

// create stores a function or fails the test.
func (f *fixture) create(t *testing.T, name string, mod func(m map[string]any)) {
	t.Helper()
	if err := f.svc.CreateFunction(context.Background(), eventing.GlobalLocation(name), def(name, mod)); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// status returns a function's record status.
func (f *fixture) status(t *testing.T, name string) string {
	t.Helper()
	rec, err := f.be.Function(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return rec.Status
}

// reach moves the created, undeployed function name to status through the
// Service and, for the supervisor's part, reports of this node's workers.
// With cps the deployed instance first commits those checkpoints. The
// deploying state is that of a handler whose workers started and wait for
// its OnDeploy (give it one), so that a later undeploy or pause has
// workers to stop.
func (f *fixture) reach(t *testing.T, name, status string, cps []uint64) {
	t.Helper()
	ctx, loc := context.Background(), eventing.GlobalLocation(name)
	if status == eventing.StatusUndeployed {
		return
	}
	if err := f.svc.Deploy(ctx, loc); err != nil {
		t.Fatal(err)
	}
	if cps != nil {
		f.be.CommitCheckpoints(t, name, cps)
	}
	if status == eventing.StatusDeploying {
		if rec := f.be.Report(t, name, true); rec.Status != eventing.StatusDeploying {
			t.Fatalf("%s is %s after its workers started; give it an OnDeploy", name, rec.Status)
		}
		return
	}
	f.be.Settle(t, name)
	switch status {
	case eventing.StatusPausing, eventing.StatusPaused:
		if err := f.svc.Pause(ctx, loc); err != nil {
			t.Fatal(err)
		}
		if status == eventing.StatusPaused {
			f.be.Settle(t, name)
		}
	case eventing.StatusUndeploying:
		if err := f.svc.Undeploy(ctx, loc); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.status(t, name); got != status {
		t.Fatalf("%s reached %s, want %s", name, got, status)
	}
}

// withOnDeploy gives a definition an OnDeploy handler.
func withOnDeploy(m map[string]any) {
	m["appcode"] = "function OnUpdate(doc, meta) {\n}\nfunction OnDeploy(action) {\n}"
}

// wantCode checks that err carries code.
func wantCode(t *testing.T, err error, code *eventing.Code) {
	t.Helper()
	if !errors.Is(err, code) {
		t.Fatalf("error = %v, want %s", err, code.Name)
	}
}

func TestCreate_FillsDefaultsAndIds(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f1", func(m map[string]any) {
		settings(m)["worker_count"] = 3
		settings(m)["sock_batch_size"] = 100 // unknown to 8.x: ignored
		settings(m)["user_prefix"] = "eventing"
	})
	d, err := f.svc.Function(eventing.GlobalLocation("f1"))
	if err != nil {
		t.Fatal(err)
	}
	want := eventing.DefaultSettings()
	want.WorkerCount = 3
	if !reflect.DeepEqual(d.Settings, want) {
		t.Errorf("settings =\n%+v\nwant\n%+v", d.Settings, want)
	}
	if d.HandlerUUID == 0 || d.FunctionInstanceID == "" {
		t.Errorf("handleruuid %d, instance %q: want both assigned", d.HandlerUUID, d.FunctionInstanceID)
	}
	if d.Version != eventing.DefaultVersion || d.FunctionScope != (eventing.FunctionScope{Bucket: "*", Scope: "*"}) {
		t.Errorf("version %q scope %+v", d.Version, d.FunctionScope)
	}
	if got := d.DepCfg.Source().String(); got != "src._default._default" {
		t.Errorf("source = %s", got)
	}
	rec, _ := f.be.Function("f1")
	if rec.Status != eventing.StatusUndeployed || rec.Source.Bucket != "src" {
		t.Errorf("record status %q source %+v", rec.Status, rec.Source)
	}
	raw, _ := json.Marshal(d)
	if strings.Contains(string(raw), "sock_batch_size") {
		t.Errorf("unknown setting kept: %s", raw)
	}

	// An update keeps the handler uuid.
	uuid := d.HandlerUUID
	f.create(t, "f1", func(m map[string]any) { settings(m)["worker_count"] = 4 })
	d, _ = f.svc.Function(eventing.GlobalLocation("f1"))
	if d.HandlerUUID != uuid || d.Settings.WorkerCount != 4 {
		t.Errorf("after update: uuid %d (want %d), worker_count %d", d.HandlerUUID, uuid, d.Settings.WorkerCount)
	}
}

func TestLanguageCompatibilityDefaults(t *testing.T) {
	f := newFixture(t)
	f.create(t, "created", nil)
	res, err := f.svc.CreateFunctions(context.Background(), []byte("["+string(def("imported", nil))+"]"), true)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("import: %v %+v", err, res)
	}
	res, err = f.svc.CreateFunctions(context.Background(), def("explicit", func(m map[string]any) {
		settings(m)["language_compatibility"] = "6.6.2"
	}), true)
	if err != nil || res[0].Err != nil {
		t.Fatalf("import: %v %+v", err, res)
	}
	for name, want := range map[string]string{"created": "7.2.0", "imported": "6.0.0", "explicit": "6.6.2"} {
		d, err := f.svc.Function(eventing.GlobalLocation(name))
		if err != nil {
			t.Fatal(err)
		}
		if d.Settings.LanguageCompatibility != want {
			t.Errorf("%s: language_compatibility %q, want %q", name, d.Settings.LanguageCompatibility, want)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	cases := map[string]any{
		"worker_count":            0,
		"timer_context_size":      19,
		"execution_timeout":       "60",
		"lcb_timeout":             4,
		"dcp_stream_boundary":     "from_prior",
		"log_level":               "VERBOSE",
		"language_compatibility":  "7.0.0",
		"n1ql_consistency":        "all",
		"app_log_max_size":        1023,
		"bucket_cache_size":       20971519,
		"max_unacked_count":       99,
		"message_flush_time":      9,
		"high_seq_check_interval": 4,
		"handler_headers":         "'use strict';",
		"n1ql_prepare_all":        "true",
		"cpp_worker_thread_count": 1.5,
		"num_timer_partitions":    0,
		"deployment_status":       "yes",
	}
	for key, val := range cases {
		t.Run(key, func(t *testing.T) {
			f := newFixture(t)
			before := f.be.Snapshot()
			err := f.svc.CreateFunction(context.Background(), eventing.GlobalLocation("f"), def("f", func(m map[string]any) {
				settings(m)[key] = val
			}))
			wantCode(t, err, eventing.CodeInvalidConfig)
			if !strings.Contains(err.Error(), key) {
				t.Errorf("error %v does not name %s", err, key)
			}
			if !reflect.DeepEqual(before, f.be.Snapshot()) {
				t.Error("rejected create changed the backend")
			}
		})
	}
}

func TestNumTimerPartitionsRounding(t *testing.T) {
	f := newFixture(t)
	for in, want := range map[int]int{1: 1, 3: 4, 100: 128, 1024: 1024, 5000: 1024} {
		f.create(t, "f", func(m map[string]any) { settings(m)["num_timer_partitions"] = in })
		s, _ := f.svc.Settings(eventing.GlobalLocation("f"))
		if s.NumTimerPartitions != want {
			t.Errorf("num_timer_partitions %d → %d, want %d", in, s.NumTimerPartitions, want)
		}
	}
}

func TestLifecycleTransitions(t *testing.T) {
	type step struct {
		op    string
		want  *eventing.Code // nil: success
		next  string
		fresh bool // a new instance id was set
	}
	ops := map[string]func(*eventing.Service, eventing.Location) error{
		"deploy":   func(s *eventing.Service, l eventing.Location) error { return s.Deploy(context.Background(), l) },
		"undeploy": func(s *eventing.Service, l eventing.Location) error { return s.Undeploy(context.Background(), l) },
		"pause":    func(s *eventing.Service, l eventing.Location) error { return s.Pause(context.Background(), l) },
		"resume":   func(s *eventing.Service, l eventing.Location) error { return s.Resume(context.Background(), l) },
	}
	table := map[string][]step{
		eventing.StatusUndeployed: {
			{op: "deploy", next: eventing.StatusDeploying, fresh: true},
			{op: "undeploy", want: eventing.CodeAppNotDeployed},
			{op: "pause", want: eventing.CodeAppNotBootstrapped},
			{op: "resume", want: eventing.CodeAppNotDeployed},
		},
		eventing.StatusDeploying: {
			{op: "deploy", want: eventing.CodeAppAlreadyDeployed},
			{op: "undeploy", next: eventing.StatusUndeploying},
			{op: "pause", want: eventing.CodeAppNotBootstrapped},
			{op: "resume", want: eventing.CodeAppAlreadyDeployed},
		},
		eventing.StatusDeployed: {
			{op: "deploy", want: eventing.CodeAppAlreadyDeployed},
			{op: "undeploy", next: eventing.StatusUndeploying},
			{op: "pause", next: eventing.StatusPausing},
			{op: "resume", want: eventing.CodeAppAlreadyDeployed},
		},
		eventing.StatusPausing: {
			{op: "deploy", want: eventing.CodeAppNotBootstrapped},
			{op: "undeploy", next: eventing.StatusUndeploying},
			{op: "pause", want: eventing.CodeAppPaused},
			{op: "resume", want: eventing.CodeAppNotBootstrapped},
		},
		eventing.StatusPaused: {
			{op: "deploy", next: eventing.StatusDeploying},
			// A paused function runs no workers anywhere, so the FSM
			// completes the undeploy at once and drops the instance.
			{op: "undeploy", next: eventing.StatusUndeployed},
			{op: "pause", want: eventing.CodeAppPaused},
			{op: "resume", next: eventing.StatusDeploying},
		},
		eventing.StatusUndeploying: {
			{op: "deploy", want: eventing.CodeAppNotBootstrapped},
			{op: "undeploy", want: eventing.CodeAppNotDeployed},
			{op: "pause", want: eventing.CodeAppNotBootstrapped},
			{op: "resume", want: eventing.CodeAppNotDeployed},
		},
	}
	for from, steps := range table {
		for _, st := range steps {
			t.Run(from+"/"+st.op, func(t *testing.T) {
				f := newFixture(t)
				var mod func(map[string]any)
				if from == eventing.StatusDeploying {
					mod = withOnDeploy
				}
				f.create(t, "f", mod)
				loc := eventing.GlobalLocation("f")
				f.reach(t, "f", from, []uint64{7, 7, 7, 7, 7, 7, 7, 7})
				before, _ := f.be.Function("f")
				snap := f.be.Snapshot()
				err := ops[st.op](f.svc, loc)
				if st.want != nil {
					wantCode(t, err, st.want)
					if !reflect.DeepEqual(snap, f.be.Snapshot()) {
						t.Error("rejected operation changed the backend")
					}
					return
				}
				if err != nil {
					t.Fatalf("%s from %s: %v", st.op, from, err)
				}
				after, _ := f.be.Function("f")
				if after.Status != st.next {
					t.Errorf("status %q, want %q", after.Status, st.next)
				}
				if st.fresh && (after.InstanceID == "" || after.InstanceID == before.InstanceID) {
					t.Errorf("instance id %q → %q, want a fresh one", before.InstanceID, after.InstanceID)
				}
				// Undeploy keeps instance and checkpoints until every node has
				// reported its workers stopped; the FSM then drops them.
				if st.next == eventing.StatusUndeployed {
					if after.InstanceID != "" || after.Checkpoints != nil {
						t.Errorf("undeployed keeps instance %q checkpoints %v", after.InstanceID, after.Checkpoints)
					}
				} else if !st.fresh && !reflect.DeepEqual(after.Checkpoints, before.Checkpoints) {
					t.Errorf("checkpoints %v → %v, want kept", before.Checkpoints, after.Checkpoints)
				}
			})
		}
	}
}

func TestDeploy_FromNowBoundaryAndInstanceInDefinition(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f", func(m map[string]any) { settings(m)["dcp_stream_boundary"] = "from_now" })
	var ms []docstore.Mutation
	for i := range 32 {
		ms = append(ms, docstore.Mutation{Keyspace: docstore.Keyspace{Bucket: "src", Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection},
			Key: fmt.Sprintf("k%d", i), Op: docstore.OpUpsert, Body: []byte(`{}`)})
	}
	if _, err := f.be.WriteDocs(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	high, err := f.be.Docs().HighSeqnos("src")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("f")); err != nil {
		t.Fatal(err)
	}
	rec, _ := f.be.Function("f")
	if len(rec.Checkpoints) != 8 || !slices.Equal(rec.Checkpoints, high) || slices.Max(high) == 0 {
		t.Errorf("checkpoints %v: want the from_now start %v", rec.Checkpoints, high)
	}
	d, err := eventing.ParseStoredDefinition(rec.Definition)
	if err != nil {
		t.Fatal(err)
	}
	if d.FunctionInstanceID != rec.InstanceID {
		t.Errorf("stored definition instance %q, record instance %q", d.FunctionInstanceID, rec.InstanceID)
	}
}

func TestDeploy_KeyspaceDroppedAfterCreate(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f", func(m map[string]any) { depcfg(m)["source_bucket"] = "dst2" })
	f.be.DropBucket(t, "dst2")
	err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("f"))
	wantCode(t, err, eventing.CodeBucketMissing)
	if st := f.status(t, "f"); st != eventing.StatusUndeployed {
		t.Errorf("status %q after refused deploy", st)
	}
}

func TestUpdate_RetriesOnConcurrentChange(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f", nil)
	races := 2
	f.be.BeforeChange = func(c consensus.FunctionChange) error {
		if races > 0 {
			races--
			f.be.Touch(t, "f") // bumps the version
		}
		return nil
	}
	if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("f")); err != nil {
		t.Fatalf("deploy with races: %v", err)
	}
	if st := f.status(t, "f"); st != eventing.StatusDeploying {
		t.Errorf("status %q", st)
	}

	// A writer that always wins exhausts the retries.
	f.be.BeforeChange = nil
	f.be.Settle(t, "f")
	f.be.BeforeChange = func(c consensus.FunctionChange) error {
		f.be.Touch(t, "f")
		return nil
	}
	err := f.svc.Pause(context.Background(), eventing.GlobalLocation("f"))
	wantCode(t, err, eventing.CodeInternal)

	// A race that changes the state makes the retry re-validate: another
	// request pauses the function and the workers stop.
	if st := f.status(t, "f"); st != eventing.StatusDeployed {
		t.Fatalf("status %q after the exhausted pause", st)
	}
	f.be.BeforeChange = func(c consensus.FunctionChange) error {
		f.be.BeforeChange = nil
		if err := f.svc.Pause(context.Background(), eventing.GlobalLocation("f")); err != nil {
			t.Fatal(err)
		}
		f.be.Settle(t, "f")
		return nil
	}
	err = f.svc.Pause(context.Background(), eventing.GlobalLocation("f"))
	wantCode(t, err, eventing.CodeAppPaused)
}

func TestUpdate_BackendFailure(t *testing.T) {
	f := newFixture(t)
	f.be.BeforeChange = func(c consensus.FunctionChange) error { return consensus.ErrNotLeader }
	err := f.svc.CreateFunction(context.Background(), eventing.GlobalLocation("f"), def("f", nil))
	wantCode(t, err, eventing.CodeInternal)
	if !errors.Is(err, consensus.ErrNotLeader) {
		t.Errorf("cause lost: %v", err)
	}
}

func TestSettingsUpdate_StateRules(t *testing.T) {
	cases := []struct {
		name   string
		status string
		body   string
		want   *eventing.Code
		next   string
	}{
		{"undeployed any", eventing.StatusUndeployed, `{"worker_count": 5, "dcp_stream_boundary": "from_now"}`, nil, eventing.StatusUndeployed},
		{"deployed log_level", eventing.StatusDeployed, `{"log_level": "DEBUG", "deployment_status": true, "processing_status": true}`, nil, eventing.StatusDeployed},
		{"deployed worker_count", eventing.StatusDeployed, `{"worker_count": 5}`, eventing.CodeInvalidRequest, ""},
		{"deployed pause with worker_count", eventing.StatusDeployed, `{"worker_count": 5, "deployment_status": true, "processing_status": false}`, nil, eventing.StatusPausing},
		{"deployed pause with boundary", eventing.StatusDeployed, `{"dcp_stream_boundary": "from_now", "deployment_status": true, "processing_status": false}`, eventing.CodeInvalidRequest, ""},
		{"paused worker_count", eventing.StatusPaused, `{"worker_count": 5}`, nil, eventing.StatusPaused},
		{"paused num_timer_partitions", eventing.StatusPaused, `{"num_timer_partitions": 64}`, eventing.CodeInvalidRequest, ""},
		{"paused resume", eventing.StatusPaused, `{"deployment_status": true, "processing_status": true}`, nil, eventing.StatusDeploying},
		// No workers run a paused function: the undeploy completes at once.
		{"paused undeploy with boundary", eventing.StatusPaused, `{"dcp_stream_boundary": "from_now", "deployment_status": false, "processing_status": false}`, nil, eventing.StatusUndeployed},
		{"undeployed deploy", eventing.StatusUndeployed, `{"deployment_status": true, "processing_status": true}`, nil, eventing.StatusDeploying},
		{"undeployed pause", eventing.StatusUndeployed, `{"deployment_status": true, "processing_status": false}`, eventing.CodeAppNotBootstrapped, ""},
		{"invalid statuses", eventing.StatusUndeployed, `{"deployment_status": false, "processing_status": true}`, eventing.CodeInvalidRequest, ""},
		{"same value while deployed", eventing.StatusDeployed, `{"worker_count": 1}`, nil, eventing.StatusDeployed},
		{"not an object", eventing.StatusUndeployed, `[1]`, eventing.CodeUnmarshalPld, ""},
		{"malformed", eventing.StatusUndeployed, `{"worker_count": `, eventing.CodeUnmarshalPld, ""},
		{"out of range", eventing.StatusUndeployed, `{"worker_count": -1}`, eventing.CodeInvalidConfig, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.create(t, "f", nil)
			f.reach(t, "f", c.status, nil)
			snap := f.be.Snapshot()
			err := f.svc.UpdateSettings(context.Background(), eventing.GlobalLocation("f"), []byte(c.body))
			if c.want != nil {
				wantCode(t, err, c.want)
				if !reflect.DeepEqual(snap, f.be.Snapshot()) {
					t.Error("rejected settings update changed the backend")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st := f.status(t, "f"); st != c.next {
				t.Errorf("status %q, want %q", st, c.next)
			}
		})
	}
}

func TestSettingsUpdate_MergesAndReportsNotAllowedField(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f", func(m map[string]any) { settings(m)["worker_count"] = 2 })
	loc := eventing.GlobalLocation("f")
	if err := f.svc.UpdateSettings(context.Background(), loc, []byte(`{"app_log_max_files": 3, "nonsense_key": 1}`)); err != nil {
		t.Fatal(err)
	}
	s, _ := f.svc.Settings(loc)
	if s.WorkerCount != 2 || s.AppLogMaxFiles != 3 {
		t.Errorf("merge lost values: worker_count %d app_log_max_files %d", s.WorkerCount, s.AppLogMaxFiles)
	}
	if err := f.svc.Deploy(context.Background(), loc); err != nil {
		t.Fatal(err)
	}
	f.be.Settle(t, "f")
	err := f.svc.UpdateSettings(context.Background(), loc, []byte(`{"execution_timeout": 10}`))
	wantCode(t, err, eventing.CodeInvalidRequest)
	if got := eventing.AsError(err).Description; got != "not allowed to change the setting: execution_timeout" {
		t.Errorf("description %q", got)
	}
}

func TestRecursionChecks(t *testing.T) {
	bind := func(alias, bucket, access string) func(m map[string]any) {
		return func(m map[string]any) {
			d := depcfg(m)
			list, _ := d["buckets"].([]any)
			d["buckets"] = append(list, map[string]any{"alias": alias, "bucket_name": bucket, "access": access})
		}
	}
	src := func(b string) func(m map[string]any) {
		return func(m map[string]any) { depcfg(m)["source_bucket"] = b }
	}
	both := func(fs ...func(m map[string]any)) func(m map[string]any) {
		return func(m map[string]any) {
			for _, f := range fs {
				f(m)
			}
		}
	}
	t.Run("inter bucket cycle", func(t *testing.T) {
		f := newFixture(t)
		f.create(t, "a", both(src("src"), bind("out", "dst", "rw")))
		f.create(t, "b", both(src("dst"), bind("out", "dst2", "rw")))
		f.create(t, "c", both(src("dst2"), bind("out", "src", "rw")))
		for _, n := range []string{"a", "b"} {
			if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation(n)); err != nil {
				t.Fatal(err)
			}
		}
		err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("c"))
		wantCode(t, err, eventing.CodeInterBucketRecursion)
		for _, n := range []string{"a", "b", "c"} {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("error %q does not name %s", err, n)
			}
		}
		// A read-only binding closes no cycle.
		f.create(t, "d", both(src("dst2"), bind("out", "src", "r")))
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("d")); err != nil {
			t.Errorf("read-only binding refused: %v", err)
		}
		// allow_interbucket_recursion lifts the check.
		if _, err := f.svc.SetGlobalConfig(context.Background(), []byte(`{"allow_interbucket_recursion": true}`)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("c")); err != nil {
			t.Errorf("deploy with allow_interbucket_recursion: %v", err)
		}
	})
	code := func(c string) func(m map[string]any) {
		return func(m map[string]any) { m["appcode"] = c }
	}
	t.Run("N1QL DML to source keyspace", func(t *testing.T) {
		f := newFixture(t)
		// Stored: SQL++ is no longer refused when the code is saved.
		f.create(t, "a", code("function OnUpdate(doc, meta) {\n  UPDATE src SET seen = true WHERE META().id = $id;\n}"))
		err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("a"))
		wantCode(t, err, eventing.CodeInterBucketRecursion)
		if !strings.Contains(err.Error(), "N1QL DML to source keyspace") {
			t.Errorf("error %q does not say N1QL DML to source keyspace", err)
		}
		// Reads of the source and DML elsewhere are fine.
		f.create(t, "b", code("function OnUpdate(doc, meta) {\n  var it = SELECT * FROM src;\n  DELETE FROM dst WHERE true;\n}"))
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("b")); err != nil {
			t.Errorf("deploy with SELECT on source and DML elsewhere: %v", err)
		}
		// allow_interbucket_recursion lifts the check.
		if _, err := f.svc.SetGlobalConfig(context.Background(), []byte(`{"allow_interbucket_recursion": true}`)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("a")); err != nil {
			t.Errorf("deploy with allow_interbucket_recursion: %v", err)
		}
	})
	t.Run("N1QL DML closes a cycle", func(t *testing.T) {
		f := newFixture(t)
		f.create(t, "a", both(src("src"), bind("out", "dst", "rw")))
		f.create(t, "b", both(src("dst"), code("function OnUpdate(doc, meta) {\n  UPSERT INTO src (KEY, VALUE) VALUES ($k, 1);\n}")))
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("a")); err != nil {
			t.Fatal(err)
		}
		err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("b"))
		wantCode(t, err, eventing.CodeInterBucketRecursion)
		if !strings.Contains(err.Error(), "cycle") {
			t.Errorf("error %q is not the cycle error", err)
		}
	})
	t.Run("analytics refused at store time", func(t *testing.T) {
		f := newFixture(t)
		err := f.svc.CreateFunction(context.Background(), eventing.GlobalLocation("a"), def("a",
			code("function OnUpdate(doc, meta) {\n  couchbase.analyticsQuery('SELECT 1');\n}")))
		wantCode(t, err, eventing.CodeHandlerCompilation)
		if !strings.Contains(err.Error(), "Analytics") {
			t.Errorf("error %q does not name Analytics", err)
		}
	})
	t.Run("self write is fine", func(t *testing.T) {
		f := newFixture(t)
		f.create(t, "a", bind("self", "src", "rw"))
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("a")); err != nil {
			t.Errorf("source-bucket mutation refused: %v", err)
		}
	})
	t.Run("inter function", func(t *testing.T) {
		f := newFixture(t)
		f.create(t, "a", bind("self", "src", "rw"))
		f.create(t, "b", bind("self", "src", "rw"))
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("a")); err != nil {
			t.Fatal(err)
		}
		err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("b"))
		wantCode(t, err, eventing.CodeInterFunctionRecursion)
		// Once a is undeployed, b may go.
		if err := f.svc.Undeploy(context.Background(), eventing.GlobalLocation("a")); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("b")); err != nil {
			t.Errorf("deploy after the other undeployed: %v", err)
		}
	})
}

func TestCompileErrorCarriesPosition(t *testing.T) {
	f := newFixture(t)
	err := f.svc.CreateFunction(context.Background(), eventing.GlobalLocation("f"), def("f", func(m map[string]any) {
		m["appcode"] = "function OnUpdate(doc, meta) {\n  var x = ;\n}"
	}))
	wantCode(t, err, eventing.CodeHandlerCompilation)
	e := eventing.AsError(err)
	if !strings.Contains(e.Description, "line 2") || !strings.Contains(e.Description, "SyntaxError") {
		t.Errorf("description %q lacks line and message", e.Description)
	}
	info, _ := json.Marshal(e.RuntimeInfo())
	var cs map[string]any
	if err := json.Unmarshal(info, &cs); err != nil {
		t.Fatal(err)
	}
	if cs["line_number"] != float64(2) || cs["compile_success"] != false || cs["language"] != "JavaScript" {
		t.Errorf("runtime info %s", info)
	}
	if _, err := f.be.Function("f"); !errors.Is(err, consensus.ErrFunctionNotFound) {
		t.Errorf("function stored despite compile error")
	}
}

func TestCodeSizeLimit(t *testing.T) {
	f := newFixture(t)
	big := "function OnUpdate(doc, meta) {\n" + strings.Repeat("// padding\n", 100) + "}"
	if _, err := f.svc.SetGlobalConfig(context.Background(), []byte(`{"force_compress": false, "function_size": 200}`)); err != nil {
		t.Fatal(err)
	}
	err := f.svc.CreateFunction(context.Background(), eventing.GlobalLocation("f"), def("f", func(m map[string]any) { m["appcode"] = big }))
	wantCode(t, err, eventing.CodeAppCodeSize)
	if _, err := f.svc.SetGlobalConfig(context.Background(), []byte(`{"force_compress": true}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CreateFunction(context.Background(), eventing.GlobalLocation("f"), def("f", func(m map[string]any) { m["appcode"] = big })); err != nil {
		t.Errorf("with force_compress: %v", err)
	}
}

func TestGlobalConfig(t *testing.T) {
	f := newFixture(t)
	if got := f.svc.GlobalConfig(); !reflect.DeepEqual(got, eventing.DefaultGlobalConfig()) {
		t.Errorf("default config %+v", got)
	}
	changed, err := f.svc.SetGlobalConfig(context.Background(), []byte(`{"ram_quota": 512, "http_request_timeout": 20, "unknown": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(changed, []string{"ram_quota", "http_request_timeout"}) {
		t.Errorf("changed %v", changed)
	}
	cfg := f.svc.GlobalConfig()
	if cfg.RAMQuota != 512 || cfg.HTTPRequestTimeout.Seconds() != 20 || !cfg.EnableCurl {
		t.Errorf("config %+v", cfg)
	}
	for _, bad := range []string{
		`{"ram_quota": -1}`, `{"enable_debugger": "yes"}`, `{"deployment_mode": "x"}`,
		`{"cursor_limit": 0}`, `{"num_nodes_running": 0}`, `{"function_size": 1.5}`,
	} {
		snap := f.be.Snapshot()
		_, err := f.svc.SetGlobalConfig(context.Background(), []byte(bad))
		wantCode(t, err, eventing.CodeInvalidConfig)
		if !reflect.DeepEqual(snap, f.be.Snapshot()) {
			t.Errorf("%s changed the backend", bad)
		}
	}
	_, err = f.svc.SetGlobalConfig(context.Background(), []byte(`[`))
	wantCode(t, err, eventing.CodeUnmarshalPld)

	// disable_curl_binding is refused while a deployed function uses curl.
	f.create(t, "c", func(m map[string]any) {
		depcfg(m)["curl"] = []any{map[string]any{"hostname": "http://localhost:9", "value": "site", "auth_type": "no-auth"}}
	})
	if err := f.svc.Deploy(context.Background(), eventing.GlobalLocation("c")); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.SetGlobalConfig(context.Background(), []byte(`{"disable_curl_binding": true}`))
	wantCode(t, err, eventing.CodeInvalidRequest)
}

func TestAppLog_NewestFirstAndAggregation(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f", nil)
	loc := eventing.GlobalLocation("f")
	f.rt.SetLog("f", "2024-01-01T00:00:01.000+00:00 [INFO] \"a\" \n2024-01-01T00:00:03.000+00:00 [INFO] \"c\" \n")
	lines, err := f.svc.AppLog(context.Background(), loc, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || !strings.Contains(lines[0], `"c"`) {
		t.Errorf("local lines %q", lines)
	}
	f.cl.Nodes = 2
	f.cl.NodeLogs = map[string][]string{"f": {
		"2024-01-01T00:00:01.000+00:00 [INFO] \"a\" \n",
		"2024-01-01T00:00:02.000+00:00 [INFO] \"b\" \n",
	}}
	lines, err = f.svc.AppLog(context.Background(), loc, 2048, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || !strings.Contains(lines[0], `"b"`) || !strings.Contains(lines[1], `"a"`) {
		t.Errorf("aggregated lines %q", lines)
	}
	if got := f.cl.Sizes; len(got) != 1 || got[0] != 1024 {
		t.Errorf("per-node sizes %v, want [1024]", got)
	}
	_, err = f.svc.AppLog(context.Background(), eventing.GlobalLocation("nope"), 0, false)
	wantCode(t, err, eventing.CodeAppNotFoundTS)
}

func TestStats_LegacyKeysAndPercentiles(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f", nil)
	f.create(t, "idle", nil)
	loc := eventing.GlobalLocation("f")
	if err := f.svc.Deploy(context.Background(), loc); err != nil {
		t.Fatal(err)
	}
	f.rt.SetStats("f", eventing.RuntimeStats{
		ExecutionStats:   eventing.Counters{"on_update_success": 10},
		LatencyHistogram: map[string]uint64{"100": 50, "200": 40, "5000": 10},
		DCPBacklog:       3,
		WorkerPIDs:       map[string]int{"worker_f_0": 1},
	})
	all := f.svc.Stats(context.Background(), false)
	if len(all) != 1 || all[0].FunctionName != "f" {
		t.Fatalf("stats list %+v: want only the deployed function", all)
	}
	st := all[0]
	if st.ExecutionStats["on_update_success"] != uint64(10) || st.ExecutionStats["on_delete_failure"] != uint64(0) {
		t.Errorf("execution stats %v", st.ExecutionStats)
	}
	if _, ok := st.ExecutionStats["curl"].(map[string]any)["post"]; !ok {
		t.Errorf("curl counters missing: %v", st.ExecutionStats["curl"])
	}
	if st.FailureStats["timeout_count"] != uint64(0) || st.EventProcessingStats["dcp_mutation_sent_to_worker"] != uint64(0) {
		t.Errorf("legacy keys missing")
	}
	want := map[string]uint64{"50": 100, "80": 200, "90": 200, "95": 5000, "99": 5000, "100": 5000}
	if !reflect.DeepEqual(st.LatencyPercentileStats, want) {
		t.Errorf("percentiles %v, want %v", st.LatencyPercentileStats, want)
	}
	if st.EventsRemaining["dcp_backlog"] != 3 || st.LatencyStats != nil {
		t.Errorf("events_remaining %v latency_stats %v", st.EventsRemaining, st.LatencyStats)
	}
	full, err := f.svc.FunctionStats(context.Background(), loc, true)
	if err != nil {
		t.Fatal(err)
	}
	if full.LatencyStats == nil || full.SeqsProcessed == nil {
		t.Errorf("type=full lacks latency_stats or seqs_processed")
	}
	if err := f.svc.ResetStats(context.Background(), loc); err != nil {
		t.Fatal(err)
	}
	if got := f.rt.Resets(); !reflect.DeepEqual(got, []string{"f"}) {
		t.Errorf("resets %v", got)
	}
	_, err = f.svc.ExecutionStats(context.Background(), eventing.GlobalLocation("nope"))
	wantCode(t, err, eventing.CodeAppNotFoundTS)
}

func TestConfigValidate(t *testing.T) {
	store := eventingtest.NewStore(t, 1)
	base := eventing.Config{Backend: store, Keyspaces: store.Docs(), Compiler: eventing.HandlerCompiler}
	for name, c := range map[string]struct {
		mod  func(*eventing.Config)
		want error
	}{
		"no backend":   {func(c *eventing.Config) { c.Backend = nil }, eventing.ErrNoBackend},
		"no keyspaces": {func(c *eventing.Config) { c.Keyspaces = nil }, eventing.ErrNoKeyspaces},
		"no compiler":  {func(c *eventing.Config) { c.Compiler = nil }, eventing.ErrNoCompiler},
	} {
		cfg := base
		c.mod(&cfg)
		if _, err := eventing.New(cfg); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if _, err := eventing.New(base); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestScopedFunctions(t *testing.T) {
	f := newFixture(t)
	loc, err := eventing.NewLocation("f", "b1", "s1")
	if err != nil {
		t.Fatal(err)
	}
	body := def("f", func(m map[string]any) {
		m["depcfg"] = map[string]any{
			"source_bucket": "b1", "source_scope": "s1", "source_collection": "c1",
			"metadata_bucket": "b1", "metadata_scope": "s1", "metadata_collection": "c2",
		}
	})
	if err := f.svc.CreateFunction(context.Background(), loc, body); err != nil {
		t.Fatal(err)
	}
	if _, err := f.be.Function("b1/s1/f"); err != nil {
		t.Fatalf("scoped record not stored under b1/s1/f: %v", err)
	}
	d, err := f.svc.Function(loc)
	if err != nil {
		t.Fatal(err)
	}
	if d.FunctionScope != (eventing.FunctionScope{Bucket: "b1", Scope: "s1"}) {
		t.Errorf("function_scope %+v", d.FunctionScope)
	}
	if _, err := f.svc.Function(eventing.GlobalLocation("f")); !errors.Is(err, eventing.CodeAppNotFoundTS) {
		t.Errorf("global lookup of a scoped function: %v", err)
	}
	missing, _ := eventing.NewLocation("f", "b1", "nope")
	err = f.svc.CreateFunction(context.Background(), missing, body)
	wantCode(t, err, eventing.CodeCollectionMissing)
	if _, err := eventing.NewLocation("f", "b1", ""); err == nil {
		t.Error("bucket without scope accepted")
	}
}

func TestSingleNodeWithoutFleetOrRuntime(t *testing.T) {
	f := newFixture(t, func(c *eventing.Config) { c.Fleet, c.Runtime = nil, nil })
	f.create(t, "f", nil)
	loc := eventing.GlobalLocation("f")
	rep := f.svc.Status(nil)
	if rep.NumEventingNodes != 1 || len(rep.Apps) != 1 || rep.Apps[0].NumDeployedNodes != 0 {
		t.Errorf("undeployed status %+v", rep)
	}
	if err := f.svc.Deploy(context.Background(), loc); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.svc.FunctionStatus(loc); st.App.NumBootstrappingNodes != 1 || st.App.NumDeployedNodes != 0 {
		t.Errorf("deploying status %+v", st.App)
	}
	f.be.Settle(t, "f")
	if st, _ := f.svc.FunctionStatus(loc); st.App.NumDeployedNodes != 1 || st.App.CompositeStatus != "deployed" {
		t.Errorf("deployed status %+v", st.App)
	}
	if stats := f.svc.Stats(context.Background(), false); len(stats) != 1 || stats[0].ExecutionStats["on_update_success"] != uint64(0) {
		t.Errorf("stats without runtime %+v", stats)
	}
	if lines, err := f.svc.AppLog(context.Background(), loc, 0, true); err != nil || len(lines) != 0 {
		t.Errorf("applog without runtime %v %v", lines, err)
	}
	if err := f.svc.ResetStats(context.Background(), loc); err != nil {
		t.Errorf("reset without runtime: %v", err)
	}
}

func TestErrorHelpers(t *testing.T) {
	if e := eventing.AsError(eventing.CodeAppPaused); e.Code != eventing.CodeAppPaused || e.Description != "ERR_APP_PAUSED" {
		t.Errorf("AsError(code) = %+v", e)
	}
	plain := errors.New("disk on fire")
	e := eventing.AsError(plain)
	if e.Code != eventing.CodeInternal || !errors.Is(e, plain) || !strings.Contains(e.Error(), "disk on fire") {
		t.Errorf("AsError(plain) = %+v", e)
	}
	if eventing.AsError(nil) != nil {
		t.Error("AsError(nil) != nil")
	}
	codes := eventing.Codes()
	seen := map[int]bool{}
	for i, c := range codes {
		if seen[c.Number] || (i > 0 && codes[i-1].Number >= c.Number) || c.HTTPStatus < 200 || c.Name == "" {
			t.Errorf("bad table entry %+v", c)
		}
		seen[c.Number] = true
	}
}

func TestQuerySettingsReachTheHandler(t *testing.T) {
	f := newFixture(t)
	f.create(t, "f", func(m map[string]any) {
		m["appcode"] = "function OnUpdate(doc, meta) {\n  var it = SELECT * FROM dst WHERE k = $meta.id;\n}"
		s := settings(m)
		s["n1ql_consistency"] = "request"
		s["n1ql_prepare_all"] = true
		s["lcb_inst_capacity"] = 3
	})
	d, err := f.svc.Function(eventing.GlobalLocation("f"))
	if err != nil {
		t.Fatal(err)
	}
	hs := d.HandlerSettings()
	if hs.N1QLConsistency != "request" || !hs.N1QLPrepareAll || hs.LCBInstCapacity != 3 {
		t.Errorf("handler settings = consistency %q prepare_all %v lcb_inst_capacity %d",
			hs.N1QLConsistency, hs.N1QLPrepareAll, hs.LCBInstCapacity)
	}
}
