package queryapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/query/engine"
	"eventide/query/value"
)

// fakeEngine records the requests it receives and answers with run (by
// default: the rows of answers[statement], or a syntax error).
type fakeEngine struct {
	mu      sync.Mutex
	reqs    []engine.Request
	run     func(ctx context.Context, req engine.Request, emit engine.Emit) engine.Result
	answers map[string][]string
}

func (f *fakeEngine) Execute(ctx context.Context, req engine.Request, emit engine.Emit) engine.Result {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	run := f.run
	f.mu.Unlock()
	if run != nil {
		return run(ctx, req, emit)
	}
	rows, ok := f.answers[req.Statement]
	if !ok {
		return engine.Result{RequestID: "req-1", Status: "fatal", Errors: []*engine.Error{{Code: 3000, Msg: "syntax error - line 1, column 1, near 'x'"}}}
	}
	for _, r := range rows {
		if err := emit([]byte(r)); err != nil {
			return engine.Result{RequestID: "req-1", Status: "stopped"}
		}
	}
	return engine.Result{
		RequestID: "req-1", Status: "success",
		Signature: value.MustFromJSON(`{"$1":"number"}`),
		Metrics:   engine.Metrics{ExecutionTime: 1500 * time.Microsecond, ResultCount: len(rows)},
	}
}

func (f *fakeEngine) requests() []engine.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Request(nil), f.reqs...)
}

// isReadOnly is a stand-in for engine.IsReadOnly: statements that start
// with SELECT read.
func isReadOnly(stmt string) (bool, *engine.Error) {
	return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(stmt)), "SELECT"), nil
}

func newServiceHarness(t testing.TB, eng *fakeEngine) *harness {
	t.Helper()
	if eng.answers == nil {
		eng.answers = map[string][]string{"SELECT 1": {`{"$1":1}`}}
	}
	return newHarness(t, func(c *Config) {
		c.Engine = eng
		c.IsReadOnly = isReadOnly
	})
}

// query sends a request to the query service with the administrator's
// credentials unless auth is false.
func (h *harness) query(method, path, contentType, body string, auth bool) (int, http.Header, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.SetBasicAuth(restclient.AdminUser, restclient.AdminPassword)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

var (
	requestIDField = regexp.MustCompile(`"requestID": "[^"]+"`)
	durationField  = regexp.MustCompile(`"(elapsedTime|executionTime)": "[0-9.]+(ns|µs|ms|s)"`)
	loadField      = regexp.MustCompile(`"serviceLoad": [0-9]+`)
)

// normalize replaces the request ID and the durations, which vary.
func normalize(body string) string {
	body = requestIDField.ReplaceAllString(body, `"requestID": "ID"`)
	body = loadField.ReplaceAllString(body, `"serviceLoad": 0`)
	return durationField.ReplaceAllString(body, `"$1": "D"`)
}

func TestQueryService_JSONBodyAnswersInCouchbaseShape(t *testing.T) {
	eng := &fakeEngine{}
	h := newServiceHarness(t, eng)
	status, hdr, body := h.query("POST", "/query/service", "application/json",
		`{"statement":"SELECT 1","client_context_id":"ctx-7","args":[1,"two"],"$name":"x","@other":{"a":[1]},`+
			`"scan_consistency":"request_plus","timeout":"10s","readonly":true,"query_context":"default:travel-sample.inventory",`+
			`"pretty":false,"metrics":true,"encoding":"UTF-8","format":"JSON","max_parallelism":4,"scan_wait":"5s","use_fts":false}`, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	want := "{\n" +
		`"requestID": "ID",` + "\n" +
		`"clientContextID": "ctx-7",` + "\n" +
		`"signature": {"$1":"number"},` + "\n" +
		`"results": [` + "\n" +
		`{"$1":1}` + "\n" +
		`],` + "\n" +
		`"status": "success",` + "\n" +
		`"metrics": {"elapsedTime": "D","executionTime": "D","resultCount": 1,"resultSize": 8,"serviceLoad": 0}` + "\n" +
		"}\n"
	if got := normalize(body); got != want {
		t.Fatalf("body\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(body, `"executionTime": "1.5ms"`) || !strings.Contains(body, `"requestID": "req-1"`) {
		t.Fatalf("engine's request ID and execution time not reported: %s", body)
	}
	reqs := eng.requests()
	if len(reqs) != 1 {
		t.Fatalf("engine saw %d requests", len(reqs))
	}
	r := reqs[0]
	if r.Statement != "SELECT 1" || r.ClientContextID != "ctx-7" || r.Consistency != engine.RequestPlus ||
		r.Timeout != 10*time.Second || !r.Readonly || r.QueryContext != "default:travel-sample.inventory" || r.Prepared != "" {
		t.Fatalf("engine request %+v", r)
	}
	if len(r.Positional) != 2 || r.Positional[0].String() != "1" || r.Positional[1].String() != `"two"` {
		t.Fatalf("positional %v", r.Positional)
	}
	if len(r.Named) != 2 || r.Named["name"].String() != `"x"` || r.Named["other"].String() != `{"a":[1]}` {
		t.Fatalf("named %v", r.Named)
	}
}

func TestQueryService_FormAndGETRequests(t *testing.T) {
	eng := &fakeEngine{}
	h := newServiceHarness(t, eng)
	// curl -d / cbq: url-encoded body; named arguments keep their JSON.
	form := url.Values{"statement": {"SELECT 1"}, "args": {`[true]`}, "$n": {`"v"`}, "$raw": {`abc`}, "scan_consistency": {"not_bounded"}, "timeout": {"1.5"}}
	if status, _, body := h.query("POST", "/query/service", "application/x-www-form-urlencoded", form.Encode(), true); status != 200 {
		t.Fatalf("form POST: %d %s", status, body)
	}
	// A GET carries its parameters in the URL and may only read.
	if status, _, body := h.query("GET", "/query/service?statement="+url.QueryEscape("SELECT 1")+"&timeout=2m", "", "", true); status != 200 {
		t.Fatalf("GET: %d %s", status, body)
	}
	// /query is the older binding of the same service.
	if status, _, body := h.query("POST", "/query", "application/json", `{"statement":"SELECT 1"}`, true); status != 200 {
		t.Fatalf("POST /query: %d %s", status, body)
	}
	// Any other body type is the statement itself.
	if status, _, body := h.query("POST", "/query/service", "text/plain", "SELECT 1", true); status != 200 {
		t.Fatalf("text/plain POST: %d %s", status, body)
	}
	reqs := eng.requests()
	if len(reqs) != 4 {
		t.Fatalf("engine saw %d requests", len(reqs))
	}
	f := reqs[0]
	if f.Statement != "SELECT 1" || len(f.Positional) != 1 || f.Positional[0].String() != "true" ||
		f.Named["n"].String() != `"v"` || f.Named["raw"].Kind() != value.Binary ||
		f.Consistency != engine.NotBounded || f.Timeout != 1500*time.Millisecond || f.Readonly {
		t.Fatalf("form request %+v", f)
	}
	if g := reqs[1]; !g.Readonly || g.Timeout != 2*time.Minute || g.Consistency != engine.NotBounded {
		t.Fatalf("GET request %+v", g)
	}

	// A write through GET is refused before the engine sees it.
	status, _, body := h.query("GET", "/query/service?statement="+url.QueryEscape("DELETE FROM b"), "", "", true)
	if status != 403 || !strings.Contains(body, `"code":1000,"msg":"The server or request is read-only and cannot accept this write statement."`) ||
		!strings.Contains(body, `"status": "fatal"`) {
		t.Fatalf("GET DELETE: %d %s", status, body)
	}
	if n := len(eng.requests()); n != 4 {
		t.Fatalf("engine ran the refused write (%d requests)", n)
	}
}

func TestQueryService_RefusesBadRequestsWithCouchbaseErrors(t *testing.T) {
	eng := &fakeEngine{}
	h := newServiceHarness(t, eng)
	for _, c := range []struct {
		name, method, ct, body string
		status                 int
		want                   string
	}{
		{"unknown parameter", "POST", "application/json", `{"statement":"SELECT 1","bogus":1}`, 400,
			`{"code":1065,"msg":"Unrecognized parameter in request: bogus"}`},
		{"unknown form parameter", "POST", "application/x-www-form-urlencoded", `statement=SELECT+1&Bogus=1`, 400,
			`{"code":1065,"msg":"Unrecognized parameter in request: bogus"}`},
		{"no statement", "POST", "application/json", `{"timeout":"1s"}`, 400,
			`{"code":1050,"msg":"No statement or prepared value"}`},
		{"statement and prepared", "POST", "application/json", `{"statement":"SELECT 1","prepared":"p"}`, 400,
			`{"code":1060,"msg":"Multiple values for statement and prepared."}`},
		{"args not an array", "POST", "application/json", `{"statement":"SELECT 1","args":{"a":1}}`, 400,
			`{"code":1070,"msg":"args has to be of type array"}`},
		{"form args not an array", "POST", "application/x-www-form-urlencoded", `statement=SELECT+1&args=[1`, 400,
			`{"code":1040,"msg":"Error processing args - cause: unable to parse args parameter as array"}`},
		{"statement not a string", "POST", "application/json", `{"statement":7}`, 400,
			`{"code":1070,"msg":"statement has to be of type string"}`},
		{"bad consistency", "POST", "application/json", `{"statement":"SELECT 1","scan_consistency":"eventually"}`, 400,
			`{"code":1030,"msg":"Unknown scan_consistency value: eventually"}`},
		{"at_plus without a vector", "POST", "application/json", `{"statement":"SELECT 1","scan_consistency":"at_plus"}`, 400,
			`{"code":1050,"msg":"No scan_vector value"}`},
		{"bad timeout", "POST", "application/json", `{"statement":"SELECT 1","timeout":"soon"}`, 400,
			`{"code":1040,"msg":"Error processing duration - cause: Unable to parse duration: soon"}`},
		{"readonly not a boolean", "POST", "application/json", `{"statement":"SELECT 1","readonly":"yes"}`, 400,
			`{"code":1070,"msg":"readonly has to be of type boolean"}`},
		{"form readonly not a boolean", "POST", "application/x-www-form-urlencoded", `statement=SELECT+1&readonly=yes`, 400,
			`{"code":1040,"msg":"Error processing readonly - cause: unable to parse tristate as a boolean"}`},
		{"readonly false on GET", "GET", "", "", 500,
			`{"code":1090,"msg":"readonly = false is invalid. This cannot be used with HTTP GET method."}`},
		{"XML format", "POST", "application/json", `{"statement":"SELECT 1","format":"XML"}`, 400,
			`{"code":1020,"msg":"XML format not yet implemented"}`},
		{"unknown format", "POST", "application/json", `{"statement":"SELECT 1","format":"YAML"}`, 400,
			`{"code":1030,"msg":"Unknown format value: YAML"}`},
		{"unknown encoding", "POST", "application/json", `{"statement":"SELECT 1","encoding":"latin1"}`, 400,
			`{"code":1030,"msg":"Unknown encoding value: latin1"}`},
		{"client context id with a quote", "POST", "application/json", `{"statement":"SELECT 1","client_context_id":"a\"b"}`, 500,
			`{"code":1110,"msg":"forbidden character (\\ or \") in client_context_id"}`},
		{"named argument twice", "POST", "application/json", `{"statement":"SELECT 1","$a":1,"@a":2}`, 400,
			`{"code":1060,"msg":"Multiple values for @a."}`},
		{"max_parallelism not a number", "POST", "application/json", `{"statement":"SELECT 1","max_parallelism":"many"}`, 400,
			`{"code":1040,"msg":"Error processing max_parallelism - cause: max_parallelism is invalid"}`},
		{"transactions", "POST", "application/json", `{"statement":"SELECT 1","txid":"t1"}`, 400,
			`{"code":1020,"msg":"\"t1\" txid not yet implemented"}`},
		{"body not JSON", "POST", "application/json", `{"statement":`, 400, `"code":1040`},
		{"method", "PUT", "application/json", `{"statement":"SELECT 1"}`, 405,
			`{"code":1010,"msg":"Unsupported http method: PUT"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/query/service"
			if c.method == "GET" {
				path += "?statement=SELECT+1&readonly=false"
			}
			status, _, body := h.query(c.method, path, c.ct, c.body, true)
			if status != c.status || !strings.Contains(body, c.want) || !strings.Contains(body, `"status": "fatal"`) ||
				strings.Contains(body, `"results"`) || !strings.Contains(body, `"errorCount": 1`) {
				t.Fatalf("%d %s, want %d with %s", status, body, c.status, c.want)
			}
		})
	}
	if n := len(eng.requests()); n != 0 {
		t.Fatalf("engine ran %d refused requests", n)
	}
}

func TestQueryService_Authentication(t *testing.T) {
	eng := &fakeEngine{}
	h := newServiceHarness(t, eng)
	status, hdr, body := h.query("POST", "/query/service", "application/json", `{"statement":"SELECT 1"}`, false)
	want := "{\n" + `"requestID": "ID",` + "\n" +
		`"errors": [{"code":2120,"msg":"Error authorizing against cluster cause: Failure to authenticate user"}],` + "\n" +
		`"status": "fatal",` + "\n" +
		`"metrics": {"elapsedTime": "D","executionTime": "D","resultCount": 0,"resultSize": 0,"serviceLoad": 0,"errorCount": 1}` + "\n}\n"
	if status != 401 || normalize(body) != want || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credentials: %d %q\n%s", status, hdr, body)
	}
	// The creds parameter authenticates too (cbq sends it), with or
	// without the "local:" domain.
	creds := fmt.Sprintf(`[{"user":"local:%s","pass":"%s"}]`, restclient.AdminUser, restclient.AdminPassword)
	if status, _, body := h.query("POST", "/query/service", "application/json", `{"statement":"SELECT 1","creds":`+creds+`}`, false); status != 200 {
		t.Fatalf("creds: %d %s", status, body)
	}
	form := url.Values{"statement": {"SELECT 1"}, "creds": {fmt.Sprintf(`[{"user":"%s","pass":"wrong"}]`, restclient.AdminUser)}}
	if status, _, body := h.query("POST", "/query/service", "application/x-www-form-urlencoded", form.Encode(), false); status != 401 {
		t.Fatalf("wrong creds: %d %s", status, body)
	}
	if n := len(eng.requests()); n != 1 {
		t.Fatalf("engine ran %d requests, want only the authenticated one", n)
	}
}

func TestQueryService_EngineErrorsMapToCouchbaseStatuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		res    engine.Result
		rows   []string
		status int
		want   string
	}{
		{"syntax error", engine.Result{Status: "fatal", Errors: []*engine.Error{{Code: 3000, Msg: "syntax error - line 1, column 8, near 'SELEC'"}}},
			nil, 400, "{\n" + `"requestID": "ID",` + "\n" + `"errors": [{"code":3000,"msg":"syntax error - line 1, column 8, near 'SELEC'"}],` + "\n" + `"status": "fatal",`},
		{"keyspace not found", engine.Result{Status: "fatal", Errors: []*engine.Error{{Code: 12003, Msg: "Keyspace not found in CB datastore: default:nope"}}},
			nil, 424, `"errors": [{"code":12003,"msg":"Keyspace not found in CB datastore: default:nope"}]`},
		{"no index", engine.Result{Status: "fatal", Errors: []*engine.Error{{Code: 4000, Msg: "No index available on keyspace `default`:`b` that matches your query.", Reason: map[string]any{"k": "v"}}}},
			nil, 404, `"errors": [{"code":4000,"msg":"No index available on keyspace ` + "`default`:`b`" + ` that matches your query.","reason":{"k":"v"}}]`},
		{"index exists", engine.Result{Status: "errors", Errors: []*engine.Error{{Code: 4300, Msg: "The index i already exists."}}},
			nil, 409, `"results": [` + "\n" + `],` + "\n" + `"errors": [{"code":4300,"msg":"The index i already exists."}],` + "\n" + `"status": "errors"`},
		{"timeout after rows", engine.Result{Status: "timeout", Errors: []*engine.Error{{Code: 1080, Msg: "Timeout 1s exceeded"}}, Metrics: engine.Metrics{MutationCount: 2}},
			[]string{`{"a":1}`}, 200, `"results": [` + "\n" + `{"a":1}` + "\n" + `],` + "\n" + `"errors": [{"code":1080,"msg":"Timeout 1s exceeded"}],` + "\n" + `"status": "timeout",` + "\n" +
				`"metrics": {"elapsedTime": "D","executionTime": "D","resultCount": 1,"resultSize": 7,"serviceLoad": 0,"mutationCount": 2,"errorCount": 1}`},
		{"warnings", engine.Result{Status: "success", Warnings: []*engine.Error{{Code: 5011, Msg: "w"}}, Signature: value.MustFromJSON(`{"*":"*"}`)},
			[]string{`{}`}, 200, `"signature": {"*":"*"},` + "\n" + `"results": [` + "\n{}\n" + `],` + "\n" + `"warnings": [{"code":5011,"msg":"w"}],` + "\n" + `"status": "success"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng := &fakeEngine{run: func(_ context.Context, _ engine.Request, emit engine.Emit) engine.Result {
				for _, r := range c.rows {
					_ = emit([]byte(r))
				}
				return c.res
			}}
			h := newServiceHarness(t, eng)
			status, _, body := h.query("POST", "/query/service", "application/json", `{"statement":"SELECT x"}`, true)
			if status != c.status || !strings.Contains(normalize(body), c.want) {
				t.Fatalf("%d %s\nwant %d with\n%s", status, body, c.status, c.want)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
		})
	}
}

func TestQueryService_PrettyAndNoMetrics(t *testing.T) {
	eng := &fakeEngine{answers: map[string][]string{"SELECT 1": {`{"a":[1,2]}`, `{"a":[]}`}}}
	h := newServiceHarness(t, eng)
	_, _, body := h.query("POST", "/query/service", "application/json", `{"statement":"SELECT 1","pretty":true}`, true)
	want := "{\n" +
		`    "requestID": "ID",` + "\n" +
		`    "signature": {` + "\n" + `        "$1": "number"` + "\n" + `    },` + "\n" +
		`    "results": [` + "\n" +
		`    {` + "\n" + `        "a": [` + "\n" + `            1,` + "\n" + `            2` + "\n" + `        ]` + "\n" + `    },` + "\n" +
		`    {` + "\n" + `        "a": []` + "\n" + `    }` + "\n" +
		`    ],` + "\n" +
		`    "status": "success",` + "\n" +
		`    "metrics": {` + "\n" +
		`        "elapsedTime": "D",` + "\n" + `        "executionTime": "D",` + "\n" +
		`        "resultCount": 2,` + "\n" + `        "resultSize": 84,` + "\n" + `        "serviceLoad": 0` + "\n" +
		`    }` + "\n}\n"
	if got := normalize(body); got != want {
		t.Fatalf("pretty body\n%s\nwant\n%s", got, want)
	}
	_, _, body = h.query("POST", "/query/service", "application/json", `{"statement":"SELECT 1","metrics":false,"signature":false}`, true)
	if strings.Contains(body, "metrics") || strings.Contains(body, "signature") {
		t.Fatalf("metrics=false, signature=false: %s", body)
	}
}

// A large answer streams: the client reads the first rows while the
// engine is still running.
func TestQueryService_StreamsLargeResults(t *testing.T) {
	release := make(chan struct{})
	row := `{"pad":"` + strings.Repeat("x", 1000) + `"}`
	eng := &fakeEngine{run: func(ctx context.Context, _ engine.Request, emit engine.Emit) engine.Result {
		for range 100 {
			if err := emit([]byte(row)); err != nil {
				return engine.Result{Status: "stopped"}
			}
		}
		select {
		case <-release:
		case <-ctx.Done():
			return engine.Result{Status: "stopped"}
		}
		_ = emit([]byte(`{"last":true}`))
		return engine.Result{Status: "errors", Signature: value.MustFromJSON(`{"pad":"json"}`), Errors: []*engine.Error{{Code: 5000, Msg: "late"}}}
	}}
	h := newServiceHarness(t, eng)
	req, _ := http.NewRequest("POST", h.url+"/query/service", strings.NewReader(`{"statement":"SELECT pad"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(restclient.AdminUser, restclient.AdminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Headers arrived before the engine finished, so the late error
	// cannot change the status.
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	seen := 0
	for seen < 60 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the streamed rows: %v", err)
		}
		if strings.Contains(line, `"pad"`) {
			seen++
		}
	}
	close(release)
	restBytes, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	rest := string(restBytes)
	if !strings.Contains(rest, `{"last":true}`+"\n],\n"+`"signature": {"pad":"json"},`+"\n"+`"errors": [{"code":5000,"msg":"late"}]`) ||
		!strings.Contains(rest, `"resultCount": 101,`) {
		t.Fatalf("end of the streamed answer: %s", rest[max(0, len(rest)-400):])
	}
}

func TestQueryService_NotServedWithoutEngineAndPing(t *testing.T) {
	h := newHarness(t)
	h.want(404, "POST", "/query/service", `{"statement":"SELECT 1"}`)
	if b := h.want(200, "GET", "/admin/ping", ""); b != `{"status":"OK"}` {
		t.Fatalf("ping: %s", b)
	}
	if _, err := New(Config{Credentials: h.api.cfg.Credentials, Libraries: h.api.libs, Engine: &fakeEngine{}}); err == nil || !strings.Contains(err.Error(), "IsReadOnly") {
		t.Fatalf("New with an engine and no IsReadOnly: %v", err)
	}
}

// A client that goes away cancels the statement's context, so the engine
// stops a runaway query.
func TestQueryService_ClientGoneCancelsTheStatement(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan error, 1)
	eng := &fakeEngine{run: func(ctx context.Context, _ engine.Request, _ engine.Emit) engine.Result {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return engine.Result{Status: "stopped"}
	}}
	h := newServiceHarness(t, eng)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.url+"/query/service", strings.NewReader(`{"statement":"SELECT forever"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(restclient.AdminUser, restclient.AdminPassword)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-stopped:
		if err == nil {
			t.Fatal("the engine's context ended without an error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the statement kept running after its client left")
	}
	<-done
}

func TestQueryService_AtPlusAndBodyLimit(t *testing.T) {
	eng := &fakeEngine{}
	h := newHarness(t, func(c *Config) {
		c.Engine = eng
		c.IsReadOnly = isReadOnly
		c.MaxQueryBodyBytes = 200
	})
	eng.answers = map[string][]string{"SELECT 1": {`{"$1":1}`}}
	// at_plus with a scan vector waits as request_plus does.
	status, _, body := h.query("POST", "/query/service", "application/json",
		`{"statement":"SELECT 1","scan_consistency":"at_plus","scan_vectors":{"b":{"0":[1,"x"]}}}`, true)
	if status != 200 {
		t.Fatalf("at_plus: %d %s", status, body)
	}
	if r := eng.requests(); len(r) != 1 || r[0].Consistency != engine.RequestPlus {
		t.Fatalf("at_plus request %+v", r)
	}
	status, _, body = h.query("POST", "/query/service", "application/json", `{"statement":"SELECT '`+strings.Repeat("x", 300)+`'"}`, true)
	if status != 400 || !strings.Contains(body, `{"code":1040,"msg":"Error processing JSON request body - cause: unable to read body of request"}`) {
		t.Fatalf("oversized body: %d %s", status, body)
	}
}

// auto_execute prepares and runs in one request and answers the name in
// "prepared"; without it, PREPARE answers the plan's row, and the name
// runs it later.
func TestQueryService_PreparedStatements(t *testing.T) {
	eng := newPreparingEngine()
	h := newHarness(t, func(c *Config) {
		c.Engine = eng
		c.IsReadOnly = isReadOnly
	})
	status, _, body := h.query("POST", "/query/service", "application/json",
		`{"statement":"PREPARE SELECT 1","auto_execute":true,"client_context_id":"c","args":[7]}`, true)
	if status != 200 || !strings.HasPrefix(normalize(body), "{\n"+`"requestID": "ID",`+"\n"+`"clientContextID": "c",`+"\n"+`"prepared": "p1",`+"\n"+`"signature": {"*":"*"},`) ||
		!strings.Contains(body, `"resultCount": 2`) {
		t.Fatalf("auto_execute: %d %s", status, body)
	}
	status, _, body = h.query("POST", "/query/service", "application/json", `{"statement":"PREPARE SELECT 2"}`, true)
	if status != 200 || !strings.Contains(body, `{"encoded_plan":"plan-of-p2","name":"p2","text":"PREPARE SELECT 2"}`) || strings.Contains(body, `"prepared"`) {
		t.Fatalf("PREPARE: %d %s", status, body)
	}
	status, _, body = h.query("POST", "/query/service", "application/json", `{"prepared":"p2","encoded_plan":"plan-of-p2"}`, true)
	if status != 200 || !strings.Contains(body, `"statement":"SELECT 2"`) {
		t.Fatalf("prepared p2: %d %s", status, body)
	}
	// An unknown name is Couchbase's 4040, a 404 that SDKs answer by
	// preparing again.
	status, _, body = h.query("POST", "/query/service", "application/json", `{"prepared":"nope","auto_execute":true}`, true)
	if status != 404 || !strings.Contains(body, `"code":4040`) {
		t.Fatalf("unknown prepared: %d %s", status, body)
	}
	reqs := eng.requests()
	if len(reqs) != 5 || reqs[0].Statement != "PREPARE SELECT 1" || reqs[1].Prepared != "p1" || reqs[1].Statement != "" ||
		len(reqs[1].Positional) != 1 || reqs[1].ClientContextID != "c" || reqs[3].Prepared != "p2" {
		t.Fatalf("engine requests %+v", reqs)
	}
}
