package queryapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/internal/restclient"
	"eventide/internal/testlog"
	"eventide/node/rest/restauth"
	"eventide/node/rest/resttest"
	"eventide/query/library"
)

// harness is the API over a library service on a single-node Raft store,
// served over HTTP; the scope travel-sample.inventory exists.
type harness struct {
	t     testing.TB
	api   *Server
	url   string
	c     *restclient.Client
	store *consensus.Store
}

func newHarness(t testing.TB, mod ...func(*Config)) *harness {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := consensus.OpenSingle(consensus.Config{DataDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	libs, err := library.New(library.Config{
		Records:     store,
		ScopeExists: func(b, s string) bool { return b == "travel-sample" && s == "inventory" },
		Logger:      logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Credentials: restauth.NewAdmin(restclient.AdminUser, restclient.AdminPassword), Libraries: libs, Logger: logger}
	for _, m := range mod {
		m(&cfg)
	}
	api, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &harness{t: t, api: api, url: srv.URL, c: restclient.New("", "", ""), store: store}
}

// do sends a request as the administrator and returns status and body.
func (h *harness) do(method, path, body string) (int, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	status, b, err := h.c.Do(ctx, method, h.url+path, "application/json", []byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	return status, string(b)
}

// want sends a request and fails unless the answer has status.
func (h *harness) want(status int, method, path, body string) string {
	h.t.Helper()
	got, b := h.do(method, path, body)
	if got != status {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, got, b, status)
	}
	resttest.CheckNoGoInternals(h.t, method+" "+path, b)
	return b
}

// ok sends a write and requires Couchbase's {"status": "OK"}.
func (h *harness) ok(method, path, body string) {
	h.t.Helper()
	if b := h.want(http.StatusOK, method, path, body); b != `{"status": "OK"}` {
		h.t.Fatalf("%s %s answered %s", method, path, b)
	}
}

func decodeAs[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return v
}

type fn struct{ Name, ID, Code string }
type lib struct {
	Name      string
	Functions []fn
}

var idForm = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){7}$`)

// The seed's examples, in order.
const seedCollection = `[ {
  "name" : "math",
  "functions" : [ {
    "name" : "adder",
    "code" : "function adder(a, b) { return a + b; }"
  }, {
    "name" : "multiplier",
    "code" : "function multiplier(a, b) { return a * b; }"
  } ]
}, {
  "name" : "science",
  "functions" : [ {
    "name" : "f2c",
    "code" : "function f2c(f) { return (5/9)*(f-32); }"
  } ]
} ]`

func TestFunctionsAPI_SeedWalkthrough(t *testing.T) {
	h := newHarness(t)
	h.ok("POST", "/functions/v1/libraries", seedCollection)

	libs := decodeAs[[]lib](t, h.want(200, "GET", "/functions/v1/libraries", ""))
	if len(libs) != 2 || libs[0].Name != "math" || len(libs[0].Functions) != 2 || libs[1].Name != "science" {
		t.Fatalf("libraries: %+v", libs)
	}
	for _, l := range libs {
		for _, f := range l.Functions {
			if !idForm.MatchString(f.ID) {
				t.Fatalf("id %q is not of the form xx:xx:xx:xx:xx:xx:xx:xx", f.ID)
			}
		}
	}

	// POST a library appends; PUT replaces.
	h.ok("POST", "/functions/v1/libraries/math", `{"name":"math","functions":[{"name":"sub","code":"function sub(a, b) { let data = a - b; return data; }"}]}`)
	math := decodeAs[lib](t, h.want(200, "GET", "/functions/v1/libraries/math", ""))
	if len(math.Functions) != 3 || math.Functions[2].Name != "sub" {
		t.Fatalf("math after append: %+v", math)
	}
	h.ok("PUT", "/functions/v1/libraries/math", `{"name":"math","functions":[{"name":"add","code":"function add(a, b) { return a + b; }"}]}`)
	math = decodeAs[lib](t, h.want(200, "GET", "/functions/v1/libraries/math", ""))
	if len(math.Functions) != 1 || math.Functions[0].Name != "add" {
		t.Fatalf("math after replace: %+v", math)
	}

	// Function paths: POST and PUT create or overwrite; GET; DELETE.
	h.ok("POST", "/functions/v1/libraries/math/functions/sub", `{"name":"sub","code":"function sub(a,b) { return helper(a,b); }\n function helper(a,b) { return a - b; }"}`)
	sub := decodeAs[fn](t, h.want(200, "GET", "/functions/v1/libraries/math/functions/sub", ""))
	if sub.Name != "sub" || !strings.Contains(sub.Code, "helper") || !idForm.MatchString(sub.ID) {
		t.Fatalf("sub: %+v", sub)
	}
	h.ok("PUT", "/functions/v1/libraries/math/functions/sub", `{"name":"sub","code":"function sub(a,b) { return a - b; }"}`)
	if got := decodeAs[fn](t, h.want(200, "GET", "/functions/v1/libraries/math/functions/sub", "")); strings.Contains(got.Code, "helper") {
		t.Fatalf("sub not overwritten: %+v", got)
	}
	h.ok("DELETE", "/functions/v1/libraries/math/functions/sub", "")
	h.want(404, "GET", "/functions/v1/libraries/math/functions/sub", "")
	h.want(404, "DELETE", "/functions/v1/libraries/math/functions/sub", "")

	// A function in a new library creates it.
	h.ok("PUT", "/functions/v1/libraries/fresh/functions/f", `{"name":"f","code":"function f() { return 1; }"}`)
	h.want(200, "GET", "/functions/v1/libraries/fresh", "")

	h.ok("DELETE", "/functions/v1/libraries/science", "")
	if b := h.want(404, "GET", "/functions/v1/libraries/science", ""); b != "Library [science] not found" {
		t.Fatalf("not-found body %q", b)
	}
	h.want(404, "DELETE", "/functions/v1/libraries/science", "")

	// PUT the collection replaces every library; DELETE removes them all.
	h.ok("PUT", "/functions/v1/libraries", seedCollection)
	libs = decodeAs[[]lib](t, h.want(200, "GET", "/functions/v1/libraries", ""))
	if len(libs) != 2 || libs[0].Name != "math" || libs[1].Name != "science" {
		t.Fatalf("after replace all: %+v", libs)
	}
	h.ok("DELETE", "/functions/v1/libraries", "")
	if b := h.want(200, "GET", "/functions/v1/libraries", ""); b != "[]" {
		t.Fatalf("after delete all: %s", b)
	}
}

func TestFunctionsAPI_NameMismatchIs400AndNameDefaultsToPath(t *testing.T) {
	h := newHarness(t)
	b := h.want(400, "POST", "/functions/v1/libraries/math", `{"name":"science","functions":[]}`)
	if !strings.Contains(b, "[science]") || !strings.Contains(b, "[math]") {
		t.Fatalf("mismatch body %q", b)
	}
	h.want(400, "PUT", "/functions/v1/libraries/math", `{"name":"science","functions":[]}`)
	h.want(400, "POST", "/functions/v1/libraries/math/functions/sub", `{"name":"add","code":"function add() {}"}`)
	h.want(400, "PUT", "/functions/v1/libraries/math/functions/sub", `{"name":"add","code":"function add() {}"}`)
	h.want(404, "GET", "/functions/v1/libraries/math", "")

	// Without a name in the body, the path's is taken.
	h.ok("POST", "/functions/v1/libraries/math", `{"functions":[{"code":"function x() {}","name":"x"}]}`)
	h.ok("POST", "/functions/v1/libraries/math/functions/y", `{"code":"function y() {}"}`)
	math := decodeAs[lib](t, h.want(200, "GET", "/functions/v1/libraries/math", ""))
	if math.Name != "math" || len(math.Functions) != 2 || math.Functions[1].Name != "y" {
		t.Fatalf("math: %+v", math)
	}
	h.want(404, "GET", "/functions/v1/libraries/math/functions/z", "")
	h.want(404, "GET", "/functions/v1/libraries/nomath/functions/x", "")
}

func TestFunctionsAPI_CompileErrorHasLineAndColumn(t *testing.T) {
	h := newHarness(t)
	b := h.want(400, "POST", "/functions/v1/libraries/math/functions/adder", `{"name":"adder","code":"function adder(a, b) {\n  retur a + b; }"}`)
	if !strings.Contains(b, "SyntaxError") || !strings.Contains(b, "line 2, column") {
		t.Fatalf("compile error body %q", b)
	}
	h.want(404, "GET", "/functions/v1/libraries/math", "")
}

func TestEvaluatorAPI_GlobalAndScopedLibraries(t *testing.T) {
	h := newHarness(t)
	math := "function add(a, b) { return a + b; } function mul(a, b) { return a * b; }"
	h.ok("POST", "/evaluator/v1/libraries/math", math)
	h.ok("POST", "/evaluator/v1/libraries/science?bucket=travel-sample&scope=inventory", "function f2c(f) { return (5/9)*(f-32); }")

	if got := decodeAs[map[string]string](t, h.want(200, "GET", "/evaluator/v1/libraries/math", "")); len(got) != 1 || got["math"] != math {
		t.Fatalf("GET math: %v", got)
	}
	got := decodeAs[map[string]string](t, h.want(200, "GET", "/evaluator/v1/libraries/science?bucket=travel-sample&scope=inventory", ""))
	if got["science"] != "function f2c(f) { return (5/9)*(f-32); }" {
		t.Fatalf("GET science: %v", got)
	}
	// The scoped library is not the global one of the same name.
	if b := h.want(404, "GET", "/evaluator/v1/libraries/science", ""); b != "Library [science] not found" {
		t.Fatalf("404 body %q", b)
	}

	type text struct{ Name, Bucket, Scope, Code string }
	all := decodeAs[[]text](t, h.want(200, "GET", "/evaluator/v1/libraries/", ""))
	if len(all) != 2 || all[0] != (text{"math", "", "", math}) || all[1].Name != "science" || all[1].Bucket != "travel-sample" || all[1].Scope != "inventory" {
		t.Fatalf("all libraries: %+v", all)
	}
	scoped := decodeAs[[]text](t, h.want(200, "GET", "/evaluator/v1/libraries?bucket=travel-sample&scope=inventory", ""))
	if len(scoped) != 1 || scoped[0].Name != "science" {
		t.Fatalf("scoped libraries: %+v", scoped)
	}

	// The same store through the functions form: one object per function.
	fns := decodeAs[lib](t, h.want(200, "GET", "/functions/v1/libraries/math", ""))
	if len(fns.Functions) != 2 || fns.Functions[0].Name != "add" || fns.Functions[1].Name != "mul" {
		t.Fatalf("math as function objects: %+v", fns)
	}
	if f := decodeAs[fn](t, h.want(200, "GET", "/evaluator/v1/libraries/math/functions/mul", "")); f.Name != "mul" {
		t.Fatalf("mul: %+v", f)
	}

	// POST overwrites the whole library; PUT does the same.
	h.ok("POST", "/evaluator/v1/libraries/math", "function sub(a, b) { return a - b; }")
	h.ok("PUT", "/evaluator/v1/libraries/math", `"function neg(a) { return -a; }"`)
	if got := decodeAs[map[string]string](t, h.want(200, "GET", "/evaluator/v1/libraries/math", "")); got["math"] != "function neg(a) { return -a; }" {
		t.Fatalf("after overwrite: %v", got)
	}

	h.ok("DELETE", "/evaluator/v1/libraries/science?bucket=travel-sample&scope=inventory", "")
	h.want(404, "DELETE", "/evaluator/v1/libraries/science?bucket=travel-sample&scope=inventory", "")
	h.ok("DELETE", "/evaluator/v1/libraries/math", "")
	if b := h.want(200, "GET", "/evaluator/v1/libraries", ""); b != "[]" {
		t.Fatalf("after deletes: %s", b)
	}
}

func TestEvaluatorAPI_SyntaxErrorIsRefused(t *testing.T) {
	h := newHarness(t)
	b := h.want(400, "POST", "/evaluator/v1/libraries/math", "function adder(a, b) { retur a + b; }")
	if !strings.Contains(b, "SyntaxError") || !strings.Contains(b, "line 1, column") {
		t.Fatalf("body %q", b)
	}
	h.want(404, "GET", "/evaluator/v1/libraries/math", "")
}

func TestLibraryNames_CouchbaseRules(t *testing.T) {
	h := newHarness(t)
	const refusal = "Library name can start with characters only in range A-Z, a-z, 0-9 and can contain characters only in range A-Z, a-z, 0-9, underscore and hyphen "
	for _, name := range []string{"_libname", "lib$name", "lib@name", "lib!name", "lib*name", "lib(name", "lib+name", "lib=name",
		"lib:name", "lib,name", "lib;name", "-libname", "lib%3Fname", "lib%5Cname", "lib%23name", "lib%2Fname", "lib%20name"} {
		if b := h.want(400, "POST", "/evaluator/v1/libraries/"+name, "function add(a,b) { return a+b;}"); b != refusal {
			t.Fatalf("%s: body %q", name, b)
		}
		h.want(400, "POST", "/functions/v1/libraries/"+name+"/functions/add", `{"code":"function add() {}"}`)
	}
	for _, name := range []string{"libname", "LIBNAME", "LibName", "lib0name", "0libname", "libname0", "lib_name", "libname_", "lib-name", "libname-", "999"} {
		h.ok("POST", "/evaluator/v1/libraries/"+name, "function add(a,b) { return a+b;}")
		h.ok("DELETE", "/evaluator/v1/libraries/"+name, "")
	}
	h.want(400, "POST", "/functions/v1/libraries/math/functions/1bad", `{"code":"function f() {}"}`)
}

func TestBadInput_RefusedWithNoChange(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	h.ok("POST", "/functions/v1/libraries", seedCollection)
	before := h.want(200, "GET", "/functions/v1/libraries", "")
	huge := strings.Repeat("x", 5000)

	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"empty library name", "POST", "/functions/v1/libraries", `[{"name":"","functions":[]}]`, 400},
		{"library without functions", "POST", "/functions/v1/libraries", `[{"name":"x"}]`, 400},
		{"object for collection", "POST", "/functions/v1/libraries", `{"name":"x","functions":[]}`, 400},
		{"null collection", "PUT", "/functions/v1/libraries", `null`, 400},
		{"scoped collection", "PUT", "/functions/v1/libraries?bucket=travel-sample&scope=inventory", `[]`, 400},
		{"scoped delete all", "DELETE", "/functions/v1/libraries?bucket=travel-sample&scope=inventory", ``, 400},
		{"duplicate libraries", "PUT", "/functions/v1/libraries", `[{"name":"a","functions":[]},{"name":"a","functions":[]}]`, 400},
		{"bad id", "POST", "/functions/v1/libraries/math/functions/adder", `{"name":"adder","id":"12345","code":"function adder() {}"}`, 400},
		{"empty function name", "POST", "/functions/v1/libraries/math", `{"name":"math","functions":[{"name":"","code":"function f() {}"}]}`, 400},
		{"empty code", "POST", "/functions/v1/libraries/math/functions/adder", `{"name":"adder","code":""}`, 400},
		{"empty text", "POST", "/evaluator/v1/libraries/math", ``, 400},
		{"invalid UTF-8 text", "POST", "/evaluator/v1/libraries/math", "function f() { return '\xff'; }", 400},
		{"too large text", "POST", "/evaluator/v1/libraries/math", "//" + huge, 413},
		{"too large JSON", "POST", "/functions/v1/libraries/math/functions/adder", `{"name":"adder","code":"//` + huge + `"}`, 413},
		{"bucket without scope", "POST", "/evaluator/v1/libraries/math?bucket=travel-sample", "function f() {}", 400},
		{"scope without bucket", "GET", "/evaluator/v1/libraries?scope=inventory", "", 400},
		{"missing scope", "POST", "/evaluator/v1/libraries/math?bucket=travel-sample&scope=nowhere", "function f() {}", 404},
		{"bad bucket name", "GET", "/evaluator/v1/libraries?bucket=a/b&scope=inventory", "", 400},
		{"bad query string", "GET", "/evaluator/v1/libraries?bucket=%zz", "", 400},
		{"trailing garbage", "POST", "/functions/v1/libraries/math", `{"name":"math","functions":[]} {}`, 400},
	}
	for _, body := range resttest.MalformedJSON {
		cases = append(cases, struct {
			name, method, path, body string
			status                   int
		}{"malformed " + body, "POST", "/functions/v1/libraries/math", body, 0})
		cases = append(cases, struct {
			name, method, path, body string
			status                   int
		}{"malformed collection " + body, "PUT", "/functions/v1/libraries", body, 0})
	}
	for _, tc := range cases {
		status, b := h.do(tc.method, tc.path, tc.body)
		switch {
		case tc.status != 0 && status != tc.status:
			t.Errorf("%s: %d %q, want %d", tc.name, status, b, tc.status)
		case tc.status == 0 && (status < 400 || status >= 500):
			t.Errorf("%s: %d %q, want a 4xx", tc.name, status, b)
		}
		resttest.CheckNoGoInternals(t, tc.name, b)
	}
	if after := h.want(200, "GET", "/functions/v1/libraries", ""); after != before {
		t.Fatalf("a refused request changed the libraries:\n%s\n%s", before, after)
	}
}

func TestAuthRoutingAndMethods(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/functions/v1/libraries", "/evaluator/v1/libraries/math"} {
		req, _ := http.NewRequest("GET", h.url+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s without credentials: %d", path, resp.StatusCode)
		}
	}
	h.c.Password = "wrong"
	h.want(401, "POST", "/evaluator/v1/libraries/math", "function f() {}")
	h.c.Password = restclient.AdminPassword
	h.want(404, "GET", "/evaluator/v1/libraries/math", "")

	h.want(404, "GET", "/functions/v1/libraries/math/fakefunction", "")
	h.want(404, "GET", "/nowhere", "")
	// /query/service belongs to the query engine; without one it is not found.
	h.want(404, "POST", "/query/service", `{"statement":"SELECT 1"}`)
	b := h.want(405, "POST", "/evaluator/v1/libraries", "")
	if !strings.Contains(b, "GET") {
		t.Fatalf("405 body %q", b)
	}
}

func TestNew_RefusesMissingDependencies(t *testing.T) {
	if _, err := New(Config{MaxBodyBytes: -1}); err == nil || !strings.Contains(err.Error(), "Credentials") || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("New: %v", err)
	}
}
