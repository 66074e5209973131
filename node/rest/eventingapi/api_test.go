package eventingapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"eventide/consensus"
	"eventide/eventing"
	"eventide/eventing/eventingtest"
	"eventide/internal/testlog"
	"eventide/node/rest/eventingapi"
	"eventide/node/rest/restauth"
)

const (
	user = "Administrator"
	pass = "password"
)

// env is the REST handler over a real Service on a single-node Raft
// store, with stand-ins for what the node reports about its workers and
// the other nodes.
type env struct {
	t   *testing.T
	be  *eventingtest.Store
	rt  *eventingtest.Runtime
	cl  *eventingtest.Fleet
	svc *eventing.Service
	h   http.Handler
}

func newEnv(t *testing.T, mods ...func(*eventing.Config, *eventingapi.Config)) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := &env{
		t:  t,
		be: eventingtest.NewStore(t, 4, "src", "meta", "dst", "travel.inventory.hotels", "travel.inventory.meta"),
		rt: eventingtest.NewRuntime(),
	}
	e.cl = &eventingtest.Fleet{Nodes: 1, Deployed: map[string]int{}, Runtime: e.rt}
	scfg := eventing.Config{Backend: e.be, Keyspaces: e.be.Docs(), Compiler: eventing.HandlerCompiler, Fleet: e.cl, Runtime: e.rt, Logger: log}
	acfg := eventingapi.Config{Credentials: restauth.NewAdmin(user, pass), Logger: log}
	for _, m := range mods {
		m(&scfg, &acfg)
	}
	svc, err := eventing.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	acfg.Service = svc
	h, err := eventingapi.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc, e.h = svc, h
	return e
}

// resp is a recorded response.
type resp struct {
	code   int
	header http.Header
	body   string
}

// do sends an authenticated request.
func (e *env) do(method, path, body string) resp {
	e.t.Helper()
	return e.doAs(method, path, body, user, pass)
}

// doAs sends a request with the given credentials ("" user: none).
func (e *env) doAs(method, path, body, u, p string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if u != "" {
		req.SetBasicAuth(u, p)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{code: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// json decodes the body.
func (r resp) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	return v
}

// obj decodes the body as an object.
func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.json(t).(map[string]any)
	if !ok {
		t.Fatalf("body is not an object: %s", r.body)
	}
	return m
}

// wantOK checks a 200 {"code":0,"info":info} answer.
func (r resp) wantOK(t *testing.T, info string) {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.code, r.body)
	}
	m := r.obj(t)
	if m["code"] != float64(0) || (info != "" && m["info"] != info) {
		t.Fatalf("body %s, want code 0 info %q", r.body, info)
	}
	if r.header.Get("status") != "0" {
		t.Errorf("status header %q", r.header.Get("status"))
	}
}

// wantErr checks an error answer: HTTP status and Couchbase error name, the
// full error shape, and that description contains substr.
func (r resp) wantErr(t *testing.T, status int, name, substr string) {
	t.Helper()
	if r.code != status {
		t.Fatalf("status %d, want %d: %s", r.code, status, r.body)
	}
	m := r.obj(t)
	if m["name"] != name {
		t.Fatalf("name %v, want %s: %s", m["name"], name, r.body)
	}
	desc, _ := m["description"].(string)
	if !strings.Contains(desc, substr) {
		t.Errorf("description %q does not contain %q", desc, substr)
	}
	code, _ := m["code"].(float64)
	ri, _ := m["runtime_info"].(map[string]any)
	if ri == nil || ri["code"] != code || ri["info"] == nil {
		t.Errorf("runtime_info %v does not match code %v", m["runtime_info"], code)
	}
	if _, ok := m["attributes"].([]any); !ok {
		t.Errorf("attributes missing: %s", r.body)
	}
	if r.header.Get("status") == "" || r.header.Get("status") == "0" {
		t.Errorf("status header %q for an error", r.header.Get("status"))
	}
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", r.header.Get("Content-Type"))
	}
}

// fn renders a definition; mod edits the map.
func fn(name string, mod func(m map[string]any)) string {
	m := map[string]any{
		"appname": name,
		"appcode": "function OnUpdate(doc, meta) {\n  log(meta.id);\n}",
		"depcfg":  map[string]any{"source_bucket": "src", "metadata_bucket": "meta"},
		"settings": map[string]any{
			"dcp_stream_boundary": "everything",
		},
	}
	if mod != nil {
		mod(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func dep(m map[string]any) map[string]any { return m["depcfg"].(map[string]any) }
func set(m map[string]any) map[string]any { return m["settings"].(map[string]any) }

// mustCreate stores a function through the API.
func (e *env) mustCreate(name string, mod func(m map[string]any)) {
	e.t.Helper()
	e.do("POST", "/api/v1/functions/"+name, fn(name, mod)).wantOK(e.t, "Successfully stored")
}

// unchanged asserts that the backend equals snap.
func (e *env) unchanged(snap eventingtest.Snapshot) {
	e.t.Helper()
	if !reflect.DeepEqual(snap, e.be.Snapshot()) {
		e.t.Errorf("a rejected request changed the backend")
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	for name, c := range map[string]struct{ path, u, p string }{
		"no credentials":   {"/api/v1/functions", "", ""},
		"wrong password":   {"/api/v1/functions", user, "nope"},
		"wrong user":       {"/api/v1/status", "admin", pass},
		"unknown path too": {"/nowhere", "", ""},
		"getAppLog":        {"/getAppLog?name=f", user, "x"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.doAs("GET", c.path, "", c.u, c.p)
			r.wantErr(t, http.StatusUnauthorized, "ERR_UNAUTHENTICATED", "Unauthenticated")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// Nothing is routed before authentication: wrong methods and OPTIONS too.
	for _, m := range []string{"PUT", "OPTIONS", "PATCH", "DELETE"} {
		r := e.doAs(m, "/api/v1/status", "", "", "")
		r.wantErr(t, http.StatusUnauthorized, "ERR_UNAUTHENTICATED", "Unauthenticated")
		if r.header.Get("Allow") != "" {
			t.Errorf("%s: Allow %q on a 401", m, r.header.Get("Allow"))
		}
	}
	if r := e.do("GET", "/api/v1/functions", ""); r.code != http.StatusOK || strings.TrimSpace(r.body) != "[]" {
		t.Errorf("authenticated list: %d %s", r.code, r.body)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	cases := []struct{ method, path, allow string }{
		{"PUT", "/api/v1/functions", "GET, POST, DELETE"},
		{"PUT", "/api/v1/functions/f", "GET, POST, DELETE"},
		{"DELETE", "/api/v1/functions/f/settings", "GET, POST"},
		{"GET", "/api/v1/functions/f/deploy", "POST"},
		{"GET", "/api/v1/functions/f/undeploy", "POST"},
		{"GET", "/api/v1/functions/f/pause", "POST"},
		{"GET", "/api/v1/functions/f/resume", "POST"},
		{"DELETE", "/api/v1/functions/f/appcode", "GET, POST"},
		{"POST", "/api/v1/functions/f/appcode/checksum", ""},
		{"PUT", "/api/v1/functions/f/config", "GET, POST"},
		{"POST", "/api/v1/functions/f/applog", "GET"},
		{"POST", "/api/v1/status", "GET"},
		{"POST", "/api/v1/status/f", "GET"},
		{"POST", "/api/v1/stats", "GET"},
		{"DELETE", "/api/v1/stats/f", "GET"},
		{"PUT", "/api/v1/config", "GET, POST, DELETE"},
		{"POST", "/api/v1/export", "GET"},
		{"POST", "/api/v1/export/f", "GET"},
		{"GET", "/api/v1/import", "POST"},
		{"POST", "/api/v1/list/functions", "GET"},
		{"POST", "/getAppLog", "GET"},
		{"POST", "/getExecutionStats", "GET"},
		{"POST", "/getLatencyStats", "GET"},
		{"POST", "/getFailureStats", "GET"},
		{"DELETE", "/resetStatsCounters", "GET, POST"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			snap := e.be.Snapshot()
			r := e.do(c.method, c.path, "{}")
			r.wantErr(t, http.StatusMethodNotAllowed, "ERR_METHOD_NOT_ALLOWED", "")
			if c.allow != "" && r.header.Get("Allow") != c.allow {
				t.Errorf("Allow %q, want %q", r.header.Get("Allow"), c.allow)
			}
			e.unchanged(snap)
		})
	}
}

func TestUnknownPathAndTrailingSlash(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/api/v1/nothing", "").wantErr(t, http.StatusNotFound, "ERR_INVALID_REQUEST", "no such endpoint")
	e.do("GET", "/api/v1/functions/f/bogus", "").wantErr(t, http.StatusNotFound, "ERR_INVALID_REQUEST", "no such endpoint")
	e.do("GET", "/api/v2/functions", "").wantErr(t, http.StatusNotFound, "ERR_INVALID_REQUEST", "")
	e.do("POST", "/api/v1/functions/f/", fn("f", nil)).wantOK(t, "Successfully stored")
	if r := e.do("GET", "/api/v1/functions/f/", ""); r.code != http.StatusOK {
		t.Errorf("trailing slash GET: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/import/", "["+fn("g", nil)+"]"); r.code != http.StatusOK {
		t.Errorf("trailing slash import: %d %s", r.code, r.body)
	}
}

func TestErrorShapeAndPrettyPrinting(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/functions/missing", "")
	r.wantErr(t, http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", "Function: missing not found")
	if r.header.Get("status") != "13" {
		t.Errorf("status header %q, want 13", r.header.Get("status"))
	}
	want := "{\n \"name\": \"ERR_APP_NOT_FOUND_TS\",\n \"code\": 13,\n \"description\": \"Function: missing not found\",\n" +
		" \"attributes\": [],\n \"runtime_info\": {\n  \"code\": 13,\n  \"info\": \"Function: missing not found\"\n }\n}"
	if r.body != want {
		t.Errorf("body\n%s\nwant\n%s", r.body, want)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	e := newEnv(t)
	e.be.BeforeChange = func(consensus.FunctionChange) error { panic("boom") }
	r := e.do("POST", "/api/v1/functions/f", fn("f", nil))
	r.wantErr(t, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "internal error")
	m := r.obj(t)
	if attrs, _ := m["attributes"].([]any); len(attrs) != 1 || attrs[0] != "retry" {
		t.Errorf("attributes %v, want [retry]", m["attributes"])
	}
	// The handler still serves.
	e.be.BeforeChange = nil
	e.do("POST", "/api/v1/functions/f", fn("f", nil)).wantOK(t, "Successfully stored")
}

func TestNewValidation(t *testing.T) {
	e := newEnv(t)
	creds := restauth.NewAdmin("u", "p")
	if _, err := eventingapi.New(eventingapi.Config{Credentials: creds}); !errors.Is(err, eventingapi.ErrMissingDependency) || !strings.Contains(err.Error(), "Service") {
		t.Errorf("nil service: %v", err)
	}
	if _, err := eventingapi.New(eventingapi.Config{Service: e.svc}); !errors.Is(err, eventingapi.ErrMissingDependency) || !strings.Contains(err.Error(), "Credentials") {
		t.Errorf("no credentials: %v", err)
	}
	if _, err := eventingapi.New(eventingapi.Config{Credentials: creds, Service: e.svc, MaxBodyBytes: -1}); !errors.Is(err, eventingapi.ErrInvalidConfig) {
		t.Errorf("negative max body: %v", err)
	}
}

func TestGetErrorCodes(t *testing.T) {
	e := newEnv(t)
	m := e.do("GET", "/getErrorCodes", "").obj(t)
	if m["header_key"] != "status" {
		t.Errorf("header_key %v", m["header_key"])
	}
	errs, _ := m["errors"].([]any)
	found := false
	for _, x := range errs {
		if x.(map[string]any)["name"] == "ERR_HANDLER_COMPILATION" && x.(map[string]any)["code"] == float64(27) {
			found = true
		}
	}
	if !found || len(errs) < 40 {
		t.Errorf("error table has %d entries, ERR_HANDLER_COMPILATION found %v", len(errs), found)
	}
}
