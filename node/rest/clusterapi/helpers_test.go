package clusterapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	numVB    = 64
)

// fakeKeyspaces replicates nothing: it applies changes straight to a real
// *docstore.Store, as a one-node consensus would. fail, when set, is returned by
// every change instead.
type fakeKeyspaces struct {
	store *docstore.Store
	mu    sync.Mutex
	fail  error
}

func (f *fakeKeyspaces) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail
}

func (f *fakeKeyspaces) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func (f *fakeKeyspaces) CreateBucket(_ context.Context, spec docstore.BucketSpec) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.store.CreateBucket(spec)
}

func (f *fakeKeyspaces) DeleteBucket(_ context.Context, name string) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.store.DeleteBucket(name)
}

func (f *fakeKeyspaces) CreateScope(_ context.Context, bucket, scope string) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.store.CreateScope(bucket, scope)
}

func (f *fakeKeyspaces) DeleteScope(_ context.Context, bucket, scope string) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.store.DeleteScope(bucket, scope)
}

func (f *fakeKeyspaces) CreateCollection(_ context.Context, ks docstore.Keyspace) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.store.CreateCollection(ks)
}

func (f *fakeKeyspaces) DeleteCollection(_ context.Context, ks docstore.Keyspace) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.store.DeleteCollection(ks)
}

// WriteDocs applies each mutation to the store at the wall clock, as a
// one-node consensus would (fakeKeyspaces is the tests' DocWriter too).
func (f *fakeKeyspaces) WriteDocs(_ context.Context, ms []docstore.Mutation) ([]consensus.DocResult, error) {
	if err := f.failure(); err != nil {
		return nil, err
	}
	res := make([]consensus.DocResult, len(ms))
	for i, m := range ms {
		d, err := f.store.Apply(m, uint64(time.Now().UnixNano()))
		res[i] = consensus.DocResult{Doc: d, Err: err}
	}
	return res, nil
}

// fakeCluster is a settable Cluster.
type fakeCluster struct {
	mu     sync.Mutex
	nodes  []NodeInfo
	leader string
	owners []int // nil: every vbucket on node 0
}

func (c *fakeCluster) Nodes() []NodeInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]NodeInfo, len(c.nodes))
	copy(out, c.nodes)
	return out
}

func (c *fakeCluster) RaftLeader() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

func (c *fakeCluster) VBucketOwners(n int) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owners != nil {
		return append([]int(nil), c.owners...)
	}
	return make([]int, n)
}

func (c *fakeCluster) ClusterUUID() string { return "c0ffee00c0ffee00c0ffee00c0ffee00" }

func (c *fakeCluster) set(fn func(c *fakeCluster)) {
	c.mu.Lock()
	fn(c)
	c.mu.Unlock()
}

func oneNode(host string, eventingPort int) NodeInfo {
	return NodeInfo{
		ID:       "n1",
		UUID:     "0123456789abcdef0123456789abcdef",
		Hostname: host,
		Healthy:  true,
		Services: []string{"kv", "eventing"},
		Ports:    Ports{Eventing: eventingPort, SyncGateway: 4984, Raft: 9097, GRPC: 9096},
		ThisNode: true,
	}
}

// testEnv is a handler over a real docstore.Store and a fake cluster.
type testEnv struct {
	h       *Server
	srv     *httptest.Server
	store   *docstore.Store
	ks      *fakeKeyspaces
	cluster *fakeCluster
}

func newTestEnv(t *testing.T, mutate ...func(*Config)) *testEnv {
	t.Helper()
	store := docstore.NewStore(numVB)
	ks := &fakeKeyspaces{store: store}
	cl := &fakeCluster{leader: "n1"}
	cfg := Config{Credentials: restauth.NewAdmin(testUser, testPass), Logger: testLogger(t), StreamPollInterval: 20 * time.Millisecond,
		Keyspaces: ks, Catalog: store, Cluster: cl, Docs: store, Writer: ks}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(h)
	u, _ := url.Parse(srv.URL)
	cl.nodes = []NodeInfo{oneNode(u.Host, 8096)}
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return &testEnv{h: h, srv: srv, store: store, ks: ks, cluster: cl}
}

// newServer serves h on a fresh httptest server, closed at cleanup.
func newServer(t *testing.T, h *Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return srv
}

// testLogger routes the handler's logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with admin credentials; form, if non-nil, is the
// url-encoded body.
func (e *testEnv) do(t *testing.T, method, path string, form url.Values) response {
	t.Helper()
	return e.doAuth(t, method, path, form, testUser, testPass)
}

func (e *testEnv) doAuth(t *testing.T, method, path string, form url.Values, user, pass string) response {
	t.Helper()
	if form == nil {
		return e.send(t, method, path, "", nil, user, pass)
	}
	return e.send(t, method, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), user, pass)
}

// send sends a request with any body and content type ("": none).
func (e *testEnv) send(t *testing.T, method, path, contentType string, body io.Reader, user, pass string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (r response) expect(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %q", r.status, status, r.body)
	}
	return r
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json; body %q", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// errorsOf decodes an ns_server error body {"errors": {...}}.
func (r response) errorsOf(t *testing.T) map[string]string {
	t.Helper()
	var v struct {
		Errors map[string]string `json:"errors"`
	}
	r.json(t, &v)
	return v.Errors
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func (e *testEnv) mustCreateBucket(t *testing.T, name string, kv ...string) {
	t.Helper()
	f := form("name", name, "ramQuota", "100")
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	e.do(t, "POST", "/pools/default/buckets", f).expect(t, http.StatusAccepted)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listenFreshLoopback listens on port of a random 127.0.0.0/8 address, so
// that a test can use a fixed port (gocb's couchbase:// scheme only reaches
// HTTP on 8091) without colliding with anything.
func listenFreshLoopback(t *testing.T, port int) net.Listener {
	t.Helper()
	var lastErr error
	for range 50 {
		ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, fmt.Sprint(port)))
		if err == nil {
			return ln
		}
		lastErr = err
	}
	t.Fatalf("no free loopback address for port %d: %v", port, lastErr)
	return nil
}
