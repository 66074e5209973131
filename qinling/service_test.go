package qinling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/internal/testzip"
)

func TestRuntimes_Lifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	_, err := h.svc.CreateRuntime(ctx, alice, RuntimeSpec{Name: "x", Image: "nodejs"})
	wantStatus(t, err, http.StatusForbidden)
	_, err = h.svc.CreateRuntime(ctx, admin, RuntimeSpec{Name: "x"})
	wantStatus(t, err, http.StatusBadRequest)
	_, err = h.svc.CreateRuntime(ctx, admin, RuntimeSpec{Name: "x", Image: "openstackqinling/ruby-runtime"})
	wantStatus(t, err, http.StatusBadRequest)

	rt := h.mustRuntime()
	if rt.Status != RuntimeAvailable || !rt.IsPublic || !rt.Trusted || rt.ProjectID != admin.ProjectID {
		t.Fatalf("runtime %+v", rt)
	}
	private := false
	priv, err := h.svc.CreateRuntime(ctx, admin, RuntimeSpec{Name: "py", Image: "openstackqinling/python3-runtime", IsPublic: &private})
	if err != nil {
		t.Fatal(err)
	}
	// Public runtimes are visible to every project; private ones only to
	// their project (and the administrator).
	list, _ := h.svc.ListRuntimes(ctx, alice, ListOptions{})
	if len(list) != 1 || list[0].ID != rt.ID {
		t.Fatalf("alice lists %+v", list)
	}
	_, err = h.svc.GetRuntime(ctx, alice, priv.ID)
	wantStatus(t, err, http.StatusNotFound)
	if list, _ := h.svc.ListRuntimes(ctx, admin, ListOptions{}); len(list) != 2 {
		t.Fatalf("admin lists %d runtimes", len(list))
	}

	pool, err := h.svc.RuntimePool(ctx, alice, rt.ID)
	if err != nil || pool.Name != rt.ID || pool.Capacity != (PoolCapacity{Total: 4, Available: 3}) {
		t.Fatalf("pool %+v %v", pool, err)
	}
	h.engine.mu.Lock()
	h.engine.unavail = errors.New("python3 not found")
	h.engine.mu.Unlock()
	got, _ := h.svc.GetRuntime(ctx, alice, rt.ID)
	if got.Status != RuntimeError || got.StatusReason != "python3 not found" {
		t.Fatalf("unavailable engine: runtime %+v", got)
	}
	h.engine.mu.Lock()
	h.engine.unavail = nil
	h.engine.mu.Unlock()

	name := "node18"
	up, err := h.svc.UpdateRuntime(ctx, admin, rt.ID, RuntimeUpdate{Name: &name})
	if err != nil || up.Name != "node18" || up.UpdatedAt.IsZero() {
		t.Fatalf("update %+v %v", up, err)
	}
	f := h.mustFunction(alice, rt, testzip.Of(map[string]string{"hello.js": "x"}))
	wantStatus(t, h.svc.DeleteRuntime(ctx, admin, rt.ID), http.StatusForbidden)
	if err := h.svc.DeleteFunction(ctx, alice, f.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeleteRuntime(ctx, admin, rt.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.GetRuntime(ctx, admin, rt.ID)
	wantStatus(t, err, http.StatusNotFound)
}

func TestFunctions_CreateValidation(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPackageBytes = 1 << 10 })
	ctx := ctxT(t)
	rt := h.mustRuntime()
	pkg := testzip.Of(map[string]string{"hello.js": "exports.main = () => 1"})
	spec := func(mod func(*FunctionSpec)) FunctionSpec {
		s := FunctionSpec{Name: "f", RuntimeID: rt.ID, Entry: "hello.main", Code: FunctionCode{Source: SourcePackage, MD5Sum: md5hex(pkg)}, Package: pkg}
		mod(&s)
		return s
	}
	for _, tc := range []struct {
		name   string
		spec   FunctionSpec
		status int
		msg    string
	}{
		{"md5 mismatch", spec(func(s *FunctionSpec) { s.Code.MD5Sum = strings.Repeat("0", 32) }), 400, "md5 mismatch"},
		{"too large", spec(func(s *FunctionSpec) { s.Package = make([]byte, 2<<10); s.Code.MD5Sum = "" }), 413, "exceeds the limit"},
		{"not a zip", spec(func(s *FunctionSpec) { s.Package = []byte("hello"); s.Code.MD5Sum = "" }), 400, "not a zip"},
		{"no package", spec(func(s *FunctionSpec) { s.Package = nil; s.Code.MD5Sum = "" }), 400, "needs its package"},
		{"swift", spec(func(s *FunctionSpec) { s.Code = FunctionCode{Source: SourceSwift} }), 400, "swift"},
		{"image without docker", spec(func(s *FunctionSpec) { s.Code = FunctionCode{Source: SourceImage, Image: "hello"}; s.Package = nil }), 400, "container engine"},
		{"no code", spec(func(s *FunctionSpec) { s.Code = FunctionCode{} }), 400, "code is required"},
		{"bad source", spec(func(s *FunctionSpec) { s.Code.Source = "git" }), 400, "invalid code source"},
		{"no runtime", spec(func(s *FunctionSpec) { s.RuntimeID = "" }), 400, "runtime_id"},
		{"unknown runtime", spec(func(s *FunctionSpec) { s.RuntimeID = "nope" }), 400, "not found"},
		{"timeout", spec(func(s *FunctionSpec) { s.Timeout = 10000 }), 400, "timeout"},
		{"memory", spec(func(s *FunctionSpec) { s.MemorySize = -1 }), 400, "memory_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.CreateFunction(ctx, alice, tc.spec)
			wantStatus(t, err, tc.status)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("%v does not say %q", err, tc.msg)
			}
		})
	}
	if n := len(h.store.Records(tableFunctions)) + len(h.store.Records(tablePackages)); n != 0 {
		t.Fatalf("refused creations left %d records", n)
	}

	f, err := h.svc.CreateFunction(ctx, alice, spec(func(*FunctionSpec) {}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(f)
	for _, want := range []string{`"created_at":"2019-06-06 23:13:37"`, `"updated_at":null`, `"code":{"source":"package","md5sum":"` + md5hex(pkg) + `"}`,
		`"timeout":5`, `"memory_size":33554432`, `"cpu":100`, `"count":0`, `"latest_version":0`, `"project_id":"project-a"`, `"entry":"hello.main"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("function JSON %s lacks %s", b, want)
		}
	}
	// Without an entry the record says Qinling's default, which the
	// engines run.
	g, err := h.svc.CreateFunction(ctx, alice, spec(func(s *FunctionSpec) { s.Entry = "" }))
	if err != nil {
		t.Fatal(err)
	}
	if g.Entry != "main.main" {
		t.Errorf("entry %q, want main.main", g.Entry)
	}
}

func TestFunctions_ImageWithContainers(t *testing.T) {
	containers := newTestEngine()
	h := newHarness(t, func(c *Config) { c.Containers = containers })
	ctx := ctxT(t)
	f, err := h.svc.CreateFunction(ctx, alice, FunctionSpec{Name: "img", Code: FunctionCode{Source: SourceImage, Image: "docker/hello"}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID})
	if err != nil || e.Status != ExecutionSuccess || containers.runCount() != 1 || containers.codes[0].Image != "docker/hello" {
		t.Fatalf("image execution %+v %v", e, err)
	}
	_, err = h.svc.FunctionPackage(ctx, alice, f.ID)
	wantStatus(t, err, 400)
	_, err = h.svc.CreateVersion(ctx, alice, f.ID, "")
	wantStatus(t, err, 403)
	_, err = h.svc.UpdateFunction(ctx, alice, f.ID, FunctionUpdate{Package: testzip.Of(map[string]string{"a": "b"})})
	wantStatus(t, err, 400)
}

func TestFunctions_ProjectsAndUpdates(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	rt := h.mustRuntime()
	pkg1 := testzip.Of(map[string]string{"hello.js": "v1"})
	f := h.mustFunction(alice, rt, pkg1)
	g := h.mustFunction(bob, rt, pkg1)

	_, err := h.svc.GetFunction(ctx, bob, f.ID)
	wantStatus(t, err, http.StatusNotFound)
	wantStatus(t, h.svc.DeleteFunction(ctx, bob, f.ID), http.StatusNotFound)
	_, err = h.svc.CreateExecution(ctx, bob, ExecutionSpec{FunctionID: f.ID})
	wantStatus(t, err, http.StatusNotFound)
	if l, _ := h.svc.ListFunctions(ctx, alice, ListOptions{}); len(l) != 1 || l[0].ID != f.ID {
		t.Fatalf("alice lists %+v", l)
	}
	if l, _ := h.svc.ListFunctions(ctx, admin, ListOptions{}); len(l) != 0 {
		t.Fatalf("admin's own project lists %+v", l)
	}
	// A token is scoped to its project, the administrator's too: by id,
	// another project's function is not found.
	_, err = h.svc.GetFunction(ctx, admin, f.ID)
	wantStatus(t, err, http.StatusNotFound)
	if l, _ := h.svc.ListFunctions(ctx, admin, ListOptions{AllProjects: true}); len(l) != 2 {
		t.Fatalf("all_projects lists %d", len(l))
	}
	if l, _ := h.svc.ListFunctions(ctx, alice, ListOptions{AllProjects: true}); len(l) != 1 {
		t.Fatalf("all_projects of a non-admin lists %d", len(l))
	}
	if l, _ := h.svc.ListFunctions(ctx, admin, ListOptions{AllProjects: true, ProjectID: bob.ProjectID}); len(l) != 1 || l[0].ID != g.ID {
		t.Fatalf("all_projects of project b: %+v", l)
	}

	pkg2 := testzip.Of(map[string]string{"hello.js": "v2"})
	_, err = h.svc.UpdateFunction(ctx, alice, f.ID, FunctionUpdate{Package: pkg2, Code: &FunctionCode{MD5Sum: md5hex(pkg1)}})
	wantStatus(t, err, 400)
	timeout := 9
	up, err := h.svc.UpdateFunction(ctx, alice, f.ID, FunctionUpdate{Package: pkg2, Timeout: &timeout})
	if err != nil || up.Code.MD5Sum != md5hex(pkg2) || up.Timeout != 9 || up.UpdatedAt.IsZero() {
		t.Fatalf("update %+v %v", up, err)
	}
	got, err := h.svc.FunctionPackage(ctx, alice, f.ID)
	if err != nil || string(got) != string(pkg2) {
		t.Fatalf("download after update: %v", err)
	}
	// The old package is gone (no version kept it), the other function's
	// is not.
	if n := len(h.store.RecordsWithPrefix(tablePackages, f.ID+"/")); n != 1 {
		t.Fatalf("function %s has %d packages", f.ID, n)
	}
	if err := h.svc.ScaleUpFunction(ctx, alice, f.ID, 2); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.ScaleDownFunction(ctx, alice, f.ID, 1); err != nil {
		t.Fatal(err)
	}
	if h.engine.workers[f.ID] != 1 {
		t.Fatalf("workers after scale up 2, down 1: %d", h.engine.workers[f.ID])
	}
	wantStatus(t, h.svc.ScaleUpFunction(ctx, alice, f.ID, 0), 400)
	if err := h.svc.DetachFunction(ctx, alice, f.ID); err != nil || h.engine.workers[f.ID] != 0 || len(h.engine.detached) != 1 {
		t.Fatalf("detach: %v %v", err, h.engine.detached)
	}
}

func TestFunctionWorkers(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	rt := h.mustRuntime()
	pkg := testzip.Of(map[string]string{"hello.js": "v1"})
	f := h.mustFunction(alice, rt, pkg)
	want := func(n int) {
		t.Helper()
		ws, err := h.svc.FunctionWorkers(ctx, alice, f.ID, 0)
		if err != nil || ws == nil || len(ws) != n {
			t.Fatalf("workers = %+v, %v; want %d", ws, err, n)
		}
		for i, w := range ws {
			if w != (Worker{FunctionID: f.ID, FunctionVersion: 0, WorkerName: fmt.Sprintf("n1/w%d", i)}) {
				t.Fatalf("worker %d = %+v", i, w)
			}
		}
	}
	want(0)
	// Scaling a function that never ran hands the engine its latest code.
	if err := h.svc.ScaleUpFunction(ctx, alice, f.ID, 2); err != nil {
		t.Fatal(err)
	}
	if h.engine.runCount() != 0 || len(h.engine.scaled) != 1 {
		t.Fatalf("runs %d, scales %d", h.engine.runCount(), len(h.engine.scaled))
	}
	if c := h.engine.scaled[0]; c.FunctionID != f.ID || c.Version != 0 || c.Digest != md5hex(pkg) ||
		!bytes.Equal(c.Package, pkg) || c.Entry != string(f.Entry) || c.Image != rt.Image || c.Timeout == 0 {
		t.Fatalf("scaled with code %+v", c)
	}
	want(2)
	// The other nodes ask for this node's own names.
	if got := h.svc.LocalWorkers(f.ID, 0); !slices.Equal(got, []string{"w0", "w1"}) {
		t.Fatalf("local workers %v", got)
	}
	if got := h.svc.LocalWorkers("nope", 0); len(got) != 0 {
		t.Fatalf("local workers of an unknown function: %v", got)
	}
	if err := h.svc.ScaleUpFunction(ctx, alice, f.ID, 1); err != nil {
		t.Fatal(err)
	}
	want(3)
	if err := h.svc.ScaleDownFunction(ctx, alice, f.ID, 2); err != nil {
		t.Fatal(err)
	}
	want(1)
	if err := h.svc.DetachFunction(ctx, alice, f.ID); err != nil {
		t.Fatal(err)
	}
	want(0)

	// Another project's function is not there, as for GetFunction (the
	// administrator's project included).
	for _, c := range []Caller{bob, admin} {
		_, err := h.svc.FunctionWorkers(ctx, c, f.ID, 0)
		wantStatus(t, err, 404)
	}
	_, err := h.svc.FunctionWorkers(ctx, Caller{}, f.ID, 0)
	if err == nil {
		t.Fatal("no caller: want an error")
	}
	_, err = h.svc.FunctionWorkers(ctx, alice, "nope", 0)
	wantStatus(t, err, 404)
	_, err = h.svc.FunctionWorkers(ctx, alice, f.ID, 1) // no version 1
	wantStatus(t, err, 404)
	_, err = h.svc.FunctionWorkers(ctx, alice, f.ID, -1)
	wantStatus(t, err, 400)
	if _, err := h.svc.CreateVersion(ctx, alice, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	if ws, err := h.svc.FunctionWorkers(ctx, alice, f.ID, 1); err != nil || len(ws) != 0 || ws == nil {
		t.Fatalf("version 1's workers = %+v, %v; want an empty list", ws, err)
	}
}

// fakeFleet answers for other nodes with fixed worker names and records
// what it was asked.
type fakeFleet struct {
	mu      sync.Mutex
	answers map[string][]string
	asked   []string
}

func (f *fakeFleet) Workers(_ context.Context, functionID string, version int) map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, fmt.Sprintf("%s@%d", functionID, version))
	out := make(map[string][]string, len(f.answers))
	for n, ws := range f.answers {
		out[n] = slices.Clone(ws)
	}
	return out
}

// TestFunctionWorkers_AcrossNodes: the list joins this node's workers with
// the other nodes' answers, each named by its node, sorted by node then
// name; this node's own list wins over an answer in its name; the fleet
// is not asked about a function the caller cannot see.
func TestFunctionWorkers_AcrossNodes(t *testing.T) {
	fleet := &fakeFleet{answers: map[string][]string{"n2": {"py-b", "py-a"}, "n0": {"js-1"}, "n1": {"stale"}}}
	h := newHarness(t, func(c *Config) { c.Fleet = fleet })
	ctx := ctxT(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "v1"}))
	if err := h.svc.ScaleUpFunction(ctx, alice, f.ID, 1); err != nil {
		t.Fatal(err)
	}
	ws, err := h.svc.FunctionWorkers(ctx, alice, f.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		if w.FunctionID != f.ID || w.FunctionVersion != 0 {
			t.Fatalf("worker %+v", w)
		}
		names = append(names, w.WorkerName)
	}
	if want := []string{"n0/js-1", "n1/w0", "n2/py-a", "n2/py-b"}; !slices.Equal(names, want) {
		t.Fatalf("workers %v, want %v", names, want)
	}
	if _, err := h.svc.CreateVersion(ctx, alice, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.FunctionWorkers(ctx, alice, f.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.FunctionWorkers(ctx, bob, f.ID, 0)
	wantStatus(t, err, 404)
	_, err = h.svc.FunctionWorkers(ctx, alice, f.ID, 2)
	wantStatus(t, err, 404)
	if want := []string{f.ID + "@0", f.ID + "@1"}; !slices.Equal(fleet.asked, want) {
		t.Fatalf("fleet asked %v, want %v", fleet.asked, want)
	}
}

func TestVersionsAndAliases(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	rt := h.mustRuntime()
	pkg1 := testzip.Of(map[string]string{"hello.js": "v1"})
	f := h.mustFunction(alice, rt, pkg1)
	v1, err := h.svc.CreateVersion(ctx, alice, f.ID, "first")
	if err != nil || v1.VersionNumber != 1 || v1.FunctionID != f.ID {
		t.Fatalf("version 1: %+v %v", v1, err)
	}
	_, err = h.svc.CreateVersion(ctx, alice, f.ID, "same code")
	wantStatus(t, err, http.StatusForbidden)
	pkg2 := testzip.Of(map[string]string{"hello.js": "v2"})
	entry := "hello.other"
	if _, err := h.svc.UpdateFunction(ctx, alice, f.ID, FunctionUpdate{Package: pkg2, Entry: &entry}); err != nil {
		t.Fatal(err)
	}
	v2, err := h.svc.CreateVersion(ctx, alice, f.ID, "")
	if err != nil || v2.VersionNumber != 2 {
		t.Fatalf("version 2: %+v %v", v2, err)
	}
	if got, _ := h.svc.GetFunction(ctx, alice, f.ID); got.LatestVersion != 2 {
		t.Fatalf("latest_version %d", got.LatestVersion)
	}
	_, err = h.svc.GetVersion(ctx, bob, f.ID, 1)
	wantStatus(t, err, 404)
	_, err = h.svc.GetVersion(ctx, alice, f.ID, 3)
	wantStatus(t, err, 404)

	// Version 1 keeps the first package though the function moved on.
	if _, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, FunctionVersion: 1}); err != nil {
		t.Fatal(err)
	}
	if c := h.engine.codes[0]; c.Version != 1 || string(c.Package) != string(pkg1) || c.Entry != "hello.main" || c.Digest != md5hex(pkg1) {
		t.Fatalf("version 1 ran %+v", c)
	}

	a, err := h.svc.CreateAlias(ctx, alice, AliasSpec{Name: "prod", FunctionID: f.ID, FunctionVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.CreateAlias(ctx, alice, AliasSpec{Name: "prod", FunctionID: f.ID, FunctionVersion: 2})
	wantStatus(t, err, http.StatusConflict)
	_, err = h.svc.CreateAlias(ctx, alice, AliasSpec{Name: "bad", FunctionID: f.ID, FunctionVersion: 7})
	wantStatus(t, err, 400)
	// Names are per project.
	_, err = h.svc.GetAlias(ctx, bob, "prod")
	wantStatus(t, err, 404)
	wantStatus(t, h.svc.DeleteVersion(ctx, alice, f.ID, 1), http.StatusForbidden)
	wantStatus(t, h.svc.DeleteFunction(ctx, alice, f.ID), http.StatusForbidden)

	two := 2
	moved, err := h.svc.UpdateAlias(ctx, alice, "prod", AliasUpdate{FunctionVersion: &two})
	if err != nil || moved.FunctionVersion != 2 || moved.CreatedAt != a.CreatedAt {
		t.Fatalf("moved alias %+v %v", moved, err)
	}
	e, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionAlias: "prod"})
	if err != nil || e.FunctionVersion != 2 || e.FunctionAlias != "prod" {
		t.Fatalf("execution by alias %+v %v", e, err)
	}
	if c := h.engine.codes[1]; c.Version != 2 || string(c.Package) != string(pkg2) || c.Entry != "hello.other" {
		t.Fatalf("alias ran %+v", c)
	}
	if err := h.svc.DeleteVersion(ctx, alice, f.ID, 1); err != nil {
		t.Fatal(err)
	}
	// Version 1's package went with it; version 2 shares the latest code's.
	if n := len(h.store.RecordsWithPrefix(tablePackages, f.ID+"/")); n != 1 {
		t.Fatalf("%d packages after deleting version 1", n)
	}
	if vs, _ := h.svc.ListVersions(ctx, alice, f.ID); len(vs) != 1 || vs[0].VersionNumber != 2 || vs[0].Count != 1 {
		t.Fatalf("versions %+v", vs)
	}
	if err := h.svc.DeleteAlias(ctx, alice, "prod"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeleteFunction(ctx, alice, f.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{tableFunctions, tableVersions, tablePackages, tableAliases} {
		if n := len(h.store.Records(table)); n != 0 {
			t.Errorf("%d records left in %s", n, table)
		}
	}
}

func TestExecutions_SyncAsyncAndFilters(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	rt := h.mustRuntime()
	f := h.mustFunction(alice, rt, testzip.Of(map[string]string{"hello.js": "x"}))

	e, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Input: json.RawMessage(`"{\"name\": \"foo\"}"`), Description: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != ExecutionSuccess || !e.Sync || e.Input != `{"name": "foo"}` || e.Result != `{"duration": 0.044, "output": {"echo":{"name":"foo"}}}` {
		t.Fatalf("sync execution %+v", e)
	}
	b, _ := json.Marshal(e)
	if !strings.Contains(string(b), `"result":"{\"duration\": 0.044, `) || !strings.Contains(string(b), `"created_at":"2019-06-06 23:13:37"`) {
		t.Fatalf("execution JSON %s", b)
	}
	if log, _ := h.svc.ExecutionLog(ctx, alice, e.ID); log != "ran "+e.ID+"\n" {
		t.Fatalf("log %q", log)
	}
	// Input as an object, as plain text, failing.
	obj, _ := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Input: json.RawMessage(`{"a": 1}`)})
	if obj.Input != `{"a":1}` || string(h.engine.runs[1].Input) != `{"a":1}` {
		t.Fatalf("object input %q → %s", obj.Input, h.engine.runs[1].Input)
	}
	txt, _ := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Input: json.RawMessage(`"hello there"`)})
	if txt.Input != "hello there" || string(h.engine.runs[2].Input) != `"hello there"` {
		t.Fatalf("text input %q → %s", txt.Input, h.engine.runs[2].Input)
	}
	_, err = h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Input: json.RawMessage(`{bad`)})
	wantStatus(t, err, 400)
	failed, _ := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Input: json.RawMessage(`{"fail": true}`)})
	if failed.Status != ExecutionFailed || !strings.Contains(string(failed.Result), `"output": "boom"`) {
		t.Fatalf("failed execution %+v", failed)
	}
	_, err = h.svc.CreateExecution(ctx, alice, ExecutionSpec{})
	wantStatus(t, err, 400)

	// Async: running at once, then success.
	no := false
	async, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Sync: &no, Input: json.RawMessage(`{"block": true}`)})
	if err != nil || async.Status != ExecutionRunning || async.Result != "" || async.Sync {
		t.Fatalf("async %+v %v", async, err)
	}
	<-h.engine.started
	if got, _ := h.svc.GetExecution(ctx, alice, async.ID); got.Status != ExecutionRunning {
		t.Fatalf("async while blocked: %s", got.Status)
	}
	close(h.engine.release)
	waitFor(t, 5*time.Second, func() bool {
		got, _ := h.svc.GetExecution(ctx, alice, async.ID)
		return got.Status == ExecutionSuccess
	})

	// An unavailable engine refuses clearly and records nothing.
	before := len(h.store.Records(tableExecutions))
	h.engine.mu.Lock()
	h.engine.unavail = errors.New("python3 not found")
	h.engine.mu.Unlock()
	_, err = h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID})
	wantStatus(t, err, http.StatusConflict)
	if !strings.Contains(err.Error(), "python3 not found") || len(h.store.Records(tableExecutions)) != before {
		t.Fatalf("unavailable engine: %v, %d records", err, len(h.store.Records(tableExecutions)))
	}

	zero := 0
	for _, tc := range []struct {
		name string
		f    ExecutionFilter
		want int
	}{
		{"all", ExecutionFilter{}, 5},
		{"function", ExecutionFilter{FunctionID: f.ID}, 5},
		{"other function", ExecutionFilter{FunctionID: "x"}, 0},
		{"failed", ExecutionFilter{Status: ExecutionFailed}, 1},
		{"version 0", ExecutionFilter{FunctionVersion: &zero}, 5},
		{"async", ExecutionFilter{Sync: &no}, 1},
		{"description", ExecutionFilter{Description: "d"}, 1},
	} {
		got, err := h.svc.ListExecutions(ctx, alice, tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %d executions, want %d (%v)", tc.name, len(got), tc.want, err)
		}
	}
	if got, _ := h.svc.ListExecutions(ctx, bob, ExecutionFilter{}); len(got) != 0 {
		t.Fatalf("bob sees %d executions", len(got))
	}
	if got, _ := h.svc.GetFunction(ctx, alice, f.ID); got.Count != 5 {
		t.Fatalf("count %d", got.Count)
	}
	_, err = h.svc.GetExecution(ctx, bob, e.ID)
	wantStatus(t, err, 404)
	if err := h.svc.DeleteExecution(ctx, alice, e.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.ExecutionLog(ctx, alice, e.ID)
	wantStatus(t, err, 404)
	if _, err := h.store.Record(tableLogs, e.ID); !errors.Is(err, consensus.ErrRecordNotFound) {
		t.Fatalf("log of a deleted execution: %v", err)
	}
}

// TestExecutions_AtMostOnce: a running execution whose node is gone ends
// failed with a reason and is never run again; a late result of the lost
// run does not overwrite that; this node's own runs in flight are left
// alone, and its runs lost in a restart are failed.
func TestExecutions_AtMostOnce(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	rt := h.mustRuntime()
	f := h.mustFunction(alice, rt, testzip.Of(map[string]string{"hello.js": "x"}))
	other := newTestEngine()
	cfg2 := h.cfg
	cfg2.NodeID = "n2"
	cfg2.Engines = func(string) Engine { return other }
	svc2, err := New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	defer svc2.Close()
	no := false
	lost, err := svc2.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Sync: &no, Input: json.RawMessage(`{"block": true}`)})
	if err != nil {
		t.Fatal(err)
	}
	<-other.started
	mine, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Sync: &no, Input: json.RawMessage(`{"block": true}`)})
	if err != nil {
		t.Fatal(err)
	}
	<-h.engine.started
	// A run of an earlier process of this node: running, node n1, not in
	// flight here.
	stale := executionRec{Execution: Execution{ID: "stale", FunctionID: f.ID, Status: ExecutionRunning, ProjectID: alice.ProjectID, CreatedAt: Time{h.clock.Now()}}, NodeID: "n1"}
	if _, err := h.store.PutRecord(ctx, putChange(tableExecutions, stale.ID, 0, stale)); err != nil {
		t.Fatal(err)
	}

	n, err := h.svc.FailOrphans(ctx, func(node string) bool { return node != "n2" })
	if err != nil || n != 2 {
		t.Fatalf("FailOrphans: %d, %v", n, err)
	}
	for _, id := range []string{lost.ID, "stale"} {
		e, _ := h.svc.GetExecution(ctx, alice, id)
		if e.Status != ExecutionFailed || !strings.Contains(string(e.Result), "execution lost") {
			t.Fatalf("orphan %s: %+v", id, e)
		}
	}
	if e, _ := h.svc.GetExecution(ctx, alice, mine.ID); e.Status != ExecutionRunning {
		t.Fatalf("own run in flight: %s", e.Status)
	}
	// The lost run finishes late: its result is dropped.
	close(other.release)
	close(h.engine.release)
	waitFor(t, 5*time.Second, func() bool {
		e, _ := h.svc.GetExecution(ctx, alice, mine.ID)
		return e.Status == ExecutionSuccess
	})
	if err := svc2.Close(); err != nil {
		t.Fatal(err)
	}
	if e, _ := h.svc.GetExecution(ctx, alice, lost.ID); e.Status != ExecutionFailed {
		t.Fatalf("late result overwrote the failure: %+v", e)
	}
	if other.runCount() != 1 || h.engine.runCount() != 1 {
		t.Fatalf("runs: n2 %d, n1 %d; each execution runs once", other.runCount(), h.engine.runCount())
	}
	if n, _ := h.svc.FailOrphans(ctx, func(string) bool { return false }); n != 0 {
		t.Fatalf("second FailOrphans failed %d", n)
	}
}

// TestExecutions_CloseFailsRunning: closing the service interrupts its
// runs, which are recorded failed, not left running.
func TestExecutions_CloseFailsRunning(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	no := false
	e, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID, Sync: &no, Input: json.RawMessage(`{"block": true}`)})
	if err != nil {
		t.Fatal(err)
	}
	<-h.engine.started
	if err := h.svc.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.GetExecution(ctx, alice, e.ID); got.Status != ExecutionFailed {
		t.Fatalf("after Close: %+v", got)
	}
	_, err = h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID})
	wantStatus(t, err, http.StatusServiceUnavailable)
}

func TestCollectExecutions(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ExecutionRetention = time.Hour })
	ctx := ctxT(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	var old []string
	for range 70 { // more than one GC batch
		e, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID})
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, e.ID)
	}
	running := executionRec{Execution: Execution{ID: "running", FunctionID: f.ID, Status: ExecutionRunning, ProjectID: alice.ProjectID, CreatedAt: Time{h.clock.Now()}}, NodeID: "n9"}
	if _, err := h.store.PutRecord(ctx, putChange(tableExecutions, running.ID, 0, running)); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(2 * time.Hour)
	recent, err := h.svc.CreateExecution(ctx, alice, ExecutionSpec{FunctionID: f.ID})
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.svc.CollectExecutions(ctx)
	if err != nil || n != len(old) {
		t.Fatalf("collected %d, %v; want %d", n, err, len(old))
	}
	left := h.store.Records(tableExecutions)
	if len(left) != 2 {
		t.Fatalf("%d executions left", len(left))
	}
	for _, id := range []string{recent.ID, "running"} {
		if _, err := h.store.Record(tableExecutions, id); err != nil {
			t.Errorf("%s collected: %v", id, err)
		}
	}
	if logs := h.store.Records(tableLogs); len(logs) != 1 || logs[0].ID != recent.ID {
		t.Fatalf("logs left: %d", len(logs))
	}
}

func TestWebhooks(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.WebhookRate = 0.001; c.WebhookBurst = 2 })
	ctx := ctxT(t)
	f := h.mustFunction(alice, h.mustRuntime(), testzip.Of(map[string]string{"hello.js": "x"}))
	_, err := h.svc.CreateWebhook(ctx, alice, WebhookSpec{})
	wantStatus(t, err, 400)
	_, err = h.svc.CreateWebhook(ctx, bob, WebhookSpec{FunctionID: f.ID})
	wantStatus(t, err, 400)
	w, err := h.svc.CreateWebhook(ctx, alice, WebhookSpec{FunctionID: f.ID, Description: "hook"})
	if err != nil {
		t.Fatal(err)
	}
	if w.WebhookURL != "http://127.0.0.1:7070/v1/webhooks/"+w.ID+"/invoke" {
		t.Fatalf("url %s", w.WebhookURL)
	}
	_, err = h.svc.GetWebhook(ctx, bob, w.ID)
	wantStatus(t, err, 404)

	id, err := h.svc.InvokeWebhook(ctx, w.ID, []byte(`{"name": "hook"}`))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool {
		e, _ := h.svc.GetExecution(ctx, alice, id)
		return e.Status == ExecutionSuccess
	})
	e, _ := h.svc.GetExecution(ctx, alice, id)
	if e.ProjectID != alice.ProjectID || e.Sync || e.Description != NullString("Created by Webhook "+w.ID) || !strings.Contains(string(e.Result), `{"echo":{"name":"hook"}}`) {
		t.Fatalf("webhook execution %+v", e)
	}
	if _, err := h.svc.InvokeWebhook(ctx, w.ID, nil); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.InvokeWebhook(ctx, w.ID, nil)
	wantStatus(t, err, http.StatusTooManyRequests)
	_, err = h.svc.InvokeWebhook(ctx, "nope", nil)
	wantStatus(t, err, 404)

	// On an alias: it follows the alias; the alias cannot go while used.
	if _, err := h.svc.CreateVersion(ctx, alice, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.CreateAlias(ctx, alice, AliasSpec{Name: "live", FunctionID: f.ID, FunctionVersion: 1}); err != nil {
		t.Fatal(err)
	}
	live := "live"
	up, err := h.svc.UpdateWebhook(ctx, alice, w.ID, WebhookUpdate{FunctionAlias: &live})
	if err != nil || up.FunctionAlias != "live" || up.FunctionVersion != 1 {
		t.Fatalf("update %+v %v", up, err)
	}
	wantStatus(t, h.svc.DeleteAlias(ctx, alice, "live"), http.StatusForbidden)
	wantStatus(t, h.svc.DeleteFunction(ctx, alice, f.ID), http.StatusForbidden)
	if l, _ := h.svc.ListWebhooks(ctx, alice, ListOptions{}); len(l) != 1 {
		t.Fatalf("webhooks %d", len(l))
	}
	if err := h.svc.DeleteWebhook(ctx, alice, w.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeleteAlias(ctx, alice, "live"); err != nil {
		t.Fatal(err)
	}
}

func TestConfig_Validate(t *testing.T) {
	err := Config{MaxPackageBytes: 100 << 20}.withDefaults().Validate()
	for _, want := range []string{"NodeID", "Records", "Engines", "WebhookBaseURL", "MaxPackageBytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v does not name %s", err, want)
		}
	}
}
