package syncgwapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/internal/testlog"
	"eventide/node/rest/restauth"
)

const (
	testUser = "Administrator"
	testPass = "password"
)

// testClock is a settable clock shared by the handler and the writer.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// storeWriter is a DocWriter that applies mutations straight to a real
// docstore.Store, as the consensus FSM would, and records each call.
type storeWriter struct {
	store *docstore.Store
	clock *testClock

	mu    sync.Mutex
	calls [][]docstore.Mutation
	fail  error // when set, WriteDocs fails as a whole
}

func (w *storeWriter) WriteDocs(ctx context.Context, ms []docstore.Mutation) ([]consensus.DocResult, error) {
	w.mu.Lock()
	w.calls = append(w.calls, append([]docstore.Mutation(nil), ms...))
	fail := w.fail
	w.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	res := make([]consensus.DocResult, len(ms))
	for i, m := range ms {
		d, err := w.store.Apply(m, uint64(w.clock.Now().UnixNano()))
		res[i] = consensus.DocResult{Doc: d, Err: err}
	}
	return res, nil
}

func (w *storeWriter) Calls() [][]docstore.Mutation {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]docstore.Mutation(nil), w.calls...)
}

// env is one handler over a real store with bucket "db" (its _default
// collection) and collection "db.sc.col".
type env struct {
	t      *testing.T
	store  *docstore.Store
	writer *storeWriter
	clock  *testClock
	h      http.Handler
}

var (
	ksDefault = docstore.Keyspace{Bucket: "db", Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}
	ksCol     = docstore.Keyspace{Bucket: "db", Scope: "sc", Collection: "col"}
)

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith builds an env; wrap, if set, wraps the reader given to New.
func newEnvWith(t *testing.T, wrap func(DocReader) DocReader) *env {
	t.Helper()
	store := docstore.NewStore(64)
	if err := store.CreateBucket(docstore.BucketSpec{Name: "db", UUID: "0123abcd", Type: "membase"}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateScope("db", "sc"); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateCollection(ksCol); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	w := &storeWriter{store: store, clock: clock}
	var reader DocReader = store
	if wrap != nil {
		reader = wrap(store)
	}
	h, err := New(Config{
		Credentials: restauth.NewAdmin(testUser, testPass),
		Logger:      slog.New(slog.NewTextHandler(testlog.New(t), nil)),
		Docs:        reader,
		Writer:      w,
		ServerUUID:  "cluster-uuid",
		Now:         clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, writer: w, clock: clock, h: h}
}

// response is a completed request.
type response struct {
	Code   int
	Header http.Header
	Body   string
}

// JSON decodes the body into a generic value.
func (r response) JSON(t *testing.T) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("response body is not JSON: %v\n%s", err, r.Body)
	}
	return v
}

// Obj decodes the body as a JSON object.
func (r response) Obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.JSON(t).(map[string]any)
	if !ok {
		t.Fatalf("response body is not a JSON object: %s", r.Body)
	}
	return m
}

// request describes a test request; headers are name, value pairs.
type req struct {
	method, path, body string
	headers            []string
	noAuth             bool
	user, pass         string
}

func (e *env) send(r req) response {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	for i := 0; i+1 < len(r.headers); i += 2 {
		hr.Header.Set(r.headers[i], r.headers[i+1])
	}
	if !r.noAuth {
		u, p := testUser, testPass
		if r.user != "" {
			u, p = r.user, r.pass
		}
		hr.SetBasicAuth(u, p)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}

func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	return e.send(req{method: method, path: path, body: body, headers: headers})
}

// put creates or updates a document and returns its new revision.
func (e *env) put(path, body string) string {
	e.t.Helper()
	r := e.do("PUT", path, body)
	if r.Code != http.StatusCreated {
		e.t.Fatalf("PUT %s: %d %s", path, r.Code, r.Body)
	}
	return r.Obj(e.t)["rev"].(string)
}

// wantError checks an error response: status, Sync Gateway error name and
// reason (reason is matched as a prefix when it ends with "*").
func wantError(t *testing.T, r response, status int, name, reason string) {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status = %d, want %d; body %s", r.Code, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	m := r.Obj(t)
	if len(m) != 2 {
		t.Errorf("error body has %d fields, want error and reason: %s", len(m), r.Body)
	}
	if m["error"] != name {
		t.Errorf("error = %v, want %q (body %s)", m["error"], name, r.Body)
	}
	got, _ := m["reason"].(string)
	if p, ok := strings.CutSuffix(reason, "*"); ok {
		if !strings.HasPrefix(got, p) {
			t.Errorf("reason = %q, want prefix %q", got, p)
		}
	} else if got != reason {
		t.Errorf("reason = %q, want %q", got, reason)
	}
}

// snapshot is what a rejected write must leave unchanged.
type snapshot struct {
	lastSeqs map[docstore.Keyspace]uint64
	docs     map[string]*docstore.Document
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	s := snapshot{lastSeqs: map[docstore.Keyspace]uint64{}, docs: map[string]*docstore.Document{}}
	for _, ks := range []docstore.Keyspace{ksDefault, ksCol} {
		docs, last, err := e.store.Changes(ks, 0, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		s.lastSeqs[ks] = last
		for _, d := range docs {
			s.docs[ks.String()+"/"+d.Key] = d
		}
	}
	return s
}

// unchanged fails if the store differs from before.
func (e *env) unchanged(before snapshot) {
	e.t.Helper()
	after := e.snapshot()
	for ks, seq := range before.lastSeqs {
		if after.lastSeqs[ks] != seq {
			e.t.Errorf("%s last seq moved from %d to %d", ks, seq, after.lastSeqs[ks])
		}
	}
	if len(after.docs) != len(before.docs) {
		e.t.Errorf("document count changed from %d to %d", len(before.docs), len(after.docs))
	}
	for k, d := range before.docs {
		if after.docs[k] != d {
			e.t.Errorf("document %s changed", k)
		}
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jsonText renders a decoded JSON value: strings as is, others as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// jsonNumber is how a response decoder with UseNumber returns numbers.
func jsonNumber(s string) any { return json.Number(s) }
