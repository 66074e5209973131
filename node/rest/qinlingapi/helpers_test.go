package qinlingapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/internal/testlog"
	"eventide/internal/testzip"
	"eventide/node/rest/restauth"
	"eventide/node/rest/resttest"
	"eventide/qinling"
)

// testSecret is the token secret of every test server.
var testSecret = []byte("qinlingapi test secret, 32 bytes")

// qinlingTime is the API's timestamp layout, as the document's examples
// show it ("2019-06-06 23:13:37").
var qinlingTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)

// testEngine runs every function by echoing its input (or "hello"),
// with Qinling's framing lines as the log.
type testEngine struct {
	mu     sync.Mutex
	runs   int
	scaled map[string]int
}

func (e *testEngine) Run(ctx context.Context, code qinling.Code, inv qinling.Invocation) (qinling.Result, error) {
	e.mu.Lock()
	e.runs++
	e.mu.Unlock()
	out := json.RawMessage(`"hello"`)
	if len(inv.Input) > 0 && string(inv.Input) != "null" {
		out = inv.Input
	}
	return qinling.Result{
		Success:  true,
		Output:   out,
		Log:      "Start execution: " + inv.ExecutionID + "\nhello from " + code.Entry + "\nFinished execution: " + inv.ExecutionID + "\n",
		Duration: 3 * time.Millisecond,
	}, nil
}

func (e *testEngine) Scale(code qinling.Code, workers int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.scaled == nil {
		e.scaled = make(map[string]int)
	}
	e.scaled[code.FunctionID] = workers
}

func (e *testEngine) Detach(functionID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.scaled, functionID)
}

// Workers names the latest code's scale as workers worker-0, worker-1, ...
func (e *testEngine) Workers(functionID string, version int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if version != 0 {
		return nil
	}
	var names []string
	for i := range e.scaled[functionID] {
		names = append(names, fmt.Sprintf("worker-%d", i))
	}
	return names
}

func (e *testEngine) Pool() qinling.PoolInfo { return qinling.PoolInfo{Total: 4, Available: 3} }

func (e *testEngine) Available() error { return nil }

func (e *testEngine) Close() error { return nil }

// users is a credentials store of the administrator and two other users.
type users map[string]string

func (u users) Authenticate(user, password string) (restauth.Identity, error) {
	if p, ok := u[user]; ok && p == password {
		return restauth.Identity{User: user}, nil
	}
	return restauth.Identity{}, restauth.ErrInvalidLogin
}

var testUsers = users{"Administrator": "password", "alice": "alicepw", "bob": "bobpw"}

// harness is an API server on a single-node Raft store with the real
// service and the test engine.
type harness struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
	svc *qinling.Service
	eng *testEngine
	cfg Config
}

// newHarness starts a server; adjust changes its Config before New.
func newHarness(t *testing.T, adjust func(*Config)) *harness {
	t.Helper()
	logw := testlog.New(t)
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := consensus.OpenSingle(consensus.Config{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	eng := &testEngine{}
	h := &harness{t: t, eng: eng}
	// The webhook URL needs the server's address, known once it listens.
	h.ts = httptest.NewUnstartedServer(nil)
	base := "http://" + h.ts.Listener.Addr().String()
	h.svc, err = qinling.New(qinling.Config{
		NodeID:         "n1",
		Records:        store,
		Engines:        func(string) qinling.Engine { return eng },
		WebhookBaseURL: base,
		Logger:         log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.svc.Close() })
	h.cfg = Config{
		Credentials: testUsers,
		Logger:      log,
		IsAdmin:     func(id restauth.Identity) bool { return id.User == "Administrator" },
		Service:     h.svc,
		TokenSecret: testSecret,
		PublicURL:   base,
	}
	if adjust != nil {
		adjust(&h.cfg)
	}
	h.srv, err = New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Config.Handler = h.srv
	h.ts.Start()
	t.Cleanup(h.ts.Close)
	return h
}

// Request options.
type reqOpt func(*http.Request)

// asUser sends basic auth as user (with its test password).
func asUser(user string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(user, testUsers[user]) }
}

// withToken sends X-Auth-Token instead of basic auth.
func withToken(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Del("Authorization"); r.Header.Set("X-Auth-Token", tok) }
}

// noAuth sends no credentials.
func noAuth(r *http.Request) { r.Header.Del("Authorization") }

// contentType sets the Content-Type.
func contentType(ct string) reqOpt { return func(r *http.Request) { r.Header.Set("Content-Type", ct) } }

// response is an answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
	what   string
}

// do sends a request as the administrator unless an option says
// otherwise. body is nil, raw bytes, a string, or a value sent as JSON.
func (h *harness) do(method, path string, body any, opts ...reqOpt) response {
	h.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.SetBasicAuth("Administrator", "password")
	for _, o := range opts {
		o(req)
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b, what: method + " " + path}
}

// expect fails the test unless the status is want; it returns r.
func (r response) expect(t *testing.T, want int) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %s", r.what, r.status, want, r.body)
	}
	return r
}

// decode decodes the JSON body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: body is not the JSON expected (%v): %s", r.what, err, r.body)
	}
}

// object returns the body as a JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// fault checks an error answer: status want, Qinling's body shape, a
// message, no Go internals. It returns the faultstring.
func (r response) fault(t *testing.T, want int) string {
	t.Helper()
	r.expect(t, want)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: error Content-Type %q, want application/json", r.what, ct)
	}
	var f map[string]json.RawMessage
	r.decode(t, &f)
	var code, msg string
	if err := errors.Join(json.Unmarshal(f["faultcode"], &code), json.Unmarshal(f["faultstring"], &msg)); err != nil {
		t.Fatalf("%s: error body is not Qinling's {faultcode, faultstring, debuginfo}: %s", r.what, r.body)
	}
	wantCode := "Client"
	if want >= 500 {
		wantCode = "Server"
	}
	if code != wantCode || msg == "" || string(f["debuginfo"]) != "null" || len(f) != 3 {
		t.Errorf("%s: error body %s, want faultcode %q, a faultstring and debuginfo null", r.what, r.body, wantCode)
	}
	resttest.CheckNoGoInternals(t, r.what, string(r.body))
	return msg
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// multipartBody builds a form as the openstack client sends it: fields,
// and the package as a file part when pkg is not nil.
func multipartBody(t *testing.T, fields map[string]string, pkg []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if pkg != nil {
		w, err := mw.CreateFormFile("package", "package.zip")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pkg); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// createRuntime creates a Node.js runtime as the administrator.
func (h *harness) createRuntime() string {
	h.t.Helper()
	rt := h.do("POST", "/v1/runtimes", map[string]any{"name": "nodejs", "image": "openstackqinling/nodejs-runtime"}).expect(h.t, http.StatusCreated).object(h.t)
	return rt["id"].(string)
}

// createFunction uploads a package function with opts' credentials.
func (h *harness) createFunction(runtimeID string, opts ...reqOpt) map[string]any {
	h.t.Helper()
	pkg := testzip.Of(map[string]string{"hello.js": "exports.main = (ctx, input) => 'hello'"})
	body, ct := multipartBody(h.t, map[string]string{
		"name": "hello", "runtime_id": runtimeID, "entry": "hello.main",
		"code": `{"source": "package", "md5sum": "` + md5hex(pkg) + `"}`,
	}, pkg)
	return h.do("POST", "/v1/functions", body, append(opts, contentType(ct))...).expect(h.t, http.StatusCreated).object(h.t)
}

// login issues a token for user in project.
func (h *harness) login(user, project string) string {
	h.t.Helper()
	r := h.do("POST", "/v3/auth/tokens", passwordAuth(user, testUsers[user], project), noAuth).expect(h.t, http.StatusCreated)
	tok := r.header.Get("X-Subject-Token")
	if tok == "" {
		h.t.Fatalf("login %s/%s: no X-Subject-Token", user, project)
	}
	return tok
}

// passwordAuth is the body keystoneauth's password plugin sends.
func passwordAuth(user, password, project string) map[string]any {
	return map[string]any{"auth": map[string]any{
		"identity": map[string]any{
			"methods": []string{"password"},
			"password": map[string]any{"user": map[string]any{
				"name": user, "password": password, "domain": map[string]any{"name": "Default"},
			}},
		},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"name": "Default"}}},
	}}
}
