package queryapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couchbase/gocb/v2"

	"eventide/docstore"
	"eventide/internal/restclient"
	"eventide/node/rest/clusterapi"
	"eventide/query/engine"
	"eventide/query/value"
)

// oneNodeCluster describes a single node that runs kv and n1ql, its
// query service on queryPort.
type oneNodeCluster struct {
	hostname  string
	queryPort int
}

func (c oneNodeCluster) Nodes() []clusterapi.NodeInfo {
	return []clusterapi.NodeInfo{{
		ID: "n1", UUID: "0123456789abcdef", Hostname: c.hostname, Healthy: true,
		Services: []string{"kv", "n1ql"}, Ports: clusterapi.Ports{Query: c.queryPort}, ThisNode: true,
	}}
}
func (oneNodeCluster) RaftLeader() string { return "n1" }
func (oneNodeCluster) VBucketOwners(n int) []int {
	return make([]int, n)
}
func (oneNodeCluster) ClusterUUID() string { return "fedcba9876543210" }

// preparingEngine answers as Couchbase does for SDKs: PREPARE returns the
// plan's name (and an encoded plan, which older SDKs send back), and a
// prepared request runs the statement prepared under that name. Every row
// echoes the request the engine received.
type preparingEngine struct {
	fakeEngine
	mu       sync.Mutex
	prepared map[string]string
}

func newPreparingEngine() *preparingEngine {
	p := &preparingEngine{prepared: map[string]string{}}
	p.run = p.execute
	return p
}

// forget drops every prepared statement, as a node that never saw them.
func (p *preparingEngine) forget() {
	p.mu.Lock()
	clear(p.prepared)
	p.mu.Unlock()
}

func (p *preparingEngine) execute(_ context.Context, req engine.Request, emit engine.Emit) engine.Result {
	res := engine.Result{RequestID: "r-" + strconv.Itoa(rand.IntN(1e6)), Status: "success",
		Metrics: engine.Metrics{ExecutionTime: 2 * time.Millisecond}}
	stmt := req.Statement
	if text, ok := strings.CutPrefix(stmt, "PREPARE "); ok {
		p.mu.Lock()
		name := fmt.Sprintf("p%d", len(p.prepared)+1)
		p.prepared[name] = text
		p.mu.Unlock()
		_ = emit([]byte(fmt.Sprintf(`{"encoded_plan":"plan-of-%s","name":%q,"text":%q}`, name, name, stmt)))
		return res
	}
	if req.Prepared != "" {
		p.mu.Lock()
		text, ok := p.prepared[req.Prepared]
		p.mu.Unlock()
		if !ok {
			res.Status = "fatal"
			res.Errors = []*engine.Error{{Code: 4040, Msg: "No such prepared statement: " + req.Prepared}}
			return res
		}
		stmt = text
	}
	if strings.HasPrefix(stmt, "SELEC ") {
		res.Status = "fatal"
		res.Errors = []*engine.Error{{Code: 3000, Msg: "syntax error - line 1, column 1, near 'SELEC'"}}
		return res
	}
	pos := make([]value.Value, len(req.Positional))
	copy(pos, req.Positional)
	row := value.NewObjectMap(map[string]value.Value{
		"statement":    value.NewString(stmt),
		"positional":   value.NewArray(pos),
		"named":        value.NewObjectMap(req.Named),
		"queryContext": value.NewString(req.QueryContext),
	})
	for range 2 {
		_ = emit(row.AppendJSON(nil))
	}
	res.Signature = value.MustFromJSON(`{"*":"*"}`)
	return res
}

// gocbQueryEnv serves the cluster manager API on <fresh loopback>:8091
// and the query API on another port of that address, advertised as n1ql.
type gocbQueryEnv struct {
	ip     string
	eng    *preparingEngine
	posts  atomic.Int64 // POST /query/service requests
	opened chan struct{}
	once   sync.Once
}

func newGocbQueryEnv(t *testing.T) *gocbQueryEnv {
	t.Helper()
	eng := newPreparingEngine()
	h := newHarness(t, func(c *Config) {
		c.Engine = eng
		c.IsReadOnly = isReadOnly
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.store.CreateBucket(ctx, docstore.BucketSpec{Name: "default", UUID: "aa", RAMQuotaMB: 100, Type: docstore.BucketTypeMembase}); err != nil {
		t.Fatal(err)
	}
	mgmtLn := listenFreshLoopback(t, 8091)
	ip, _, _ := net.SplitHostPort(mgmtLn.Addr().String())
	queryLn, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	_, qp, _ := net.SplitHostPort(queryLn.Addr().String())
	queryPort, _ := strconv.Atoi(qp)
	mgmt, err := clusterapi.New(clusterapi.Config{
		Credentials: h.api.cfg.Credentials, Logger: h.api.log, StreamPollInterval: 50 * time.Millisecond,
		Keyspaces: h.store, Catalog: h.store.Docs(), Cluster: oneNodeCluster{hostname: mgmtLn.Addr().String(), queryPort: queryPort},
		Docs: h.store.Docs(), Writer: h.store,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &gocbQueryEnv{ip: ip, eng: eng, opened: make(chan struct{})}
	mgmtSrv := &http.Server{Handler: holdConfigStreams(mgmt, e.opened)}
	querySrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/query/service" {
			e.posts.Add(1)
		}
		h.api.ServeHTTP(w, r)
	})}
	go func() { _ = mgmtSrv.Serve(mgmtLn) }()
	go func() { _ = querySrv.Serve(queryLn) }()
	t.Cleanup(func() {
		mgmt.Close()
		_ = mgmtSrv.Close()
		_ = querySrv.Close()
	})
	return e
}

// holdConfigStreams delays the bucket config streams until the client's
// Cluster.Bucket has returned: gocbcore can otherwise lose its first
// cluster map to a race of its own (clusterapi DESIGN.md, finding 12).
func holdConfigStreams(h http.Handler, opened <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/pools/default/bs/") || strings.HasPrefix(r.URL.Path, "/pools/default/bucketsStreaming/") {
			select {
			case <-opened:
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (e *gocbQueryEnv) connect(t *testing.T) (*gocb.Cluster, *gocb.Bucket) {
	t.Helper()
	c, err := gocb.Connect("couchbase://"+e.ip+"?bootstrap_on=http", gocb.ClusterOptions{
		Authenticator:  gocb.PasswordAuthenticator{Username: restclient.AdminUser, Password: restclient.AdminPassword},
		TimeoutsConfig: gocb.TimeoutsConfig{QueryTimeout: 20 * time.Second, ManagementTimeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatalf("gocb.Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(nil) })
	b := c.Bucket("default")
	e.once.Do(func() { close(e.opened) })
	// The default services include n1ql once it is advertised: this pings
	// the query port's /admin/ping.
	if err := c.WaitUntilReady(30*time.Second, nil); err != nil {
		t.Fatalf("WaitUntilReady: %v", err)
	}
	return c, b
}

type echoRow struct {
	Statement    string         `json:"statement"`
	Positional   []any          `json:"positional"`
	Named        map[string]any `json:"named"`
	QueryContext string         `json:"queryContext"`
}

func allRows(t *testing.T, res *gocb.QueryResult) []echoRow {
	t.Helper()
	var rows []echoRow
	for res.Next() {
		var r echoRow
		if err := res.Row(&r); err != nil {
			t.Fatalf("Row: %v", err)
		}
		rows = append(rows, r)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("result: %v", err)
	}
	return rows
}

// TestGocb_ClusterAndScopeQuery drives gocb's cluster.Query and
// scope.Query, prepared (gocb's default: PREPARE with auto_execute, then
// the name) and ad hoc, with positional and named parameters, against the
// query service found through the cluster map.
func TestGocb_ClusterAndScopeQuery(t *testing.T) {
	e := newGocbQueryEnv(t)
	c, b := e.connect(t)

	// Prepared by default: one request PREPAREs and runs the plan with the
	// arguments (the engine sees both steps).
	res, err := c.Query("SELECT $1 AS a, $name AS b", &gocb.QueryOptions{
		PositionalParameters: []any{1, "two"},
		NamedParameters:      map[string]any{"name": "v", "$other": true},
		ScanConsistency:      gocb.QueryScanConsistencyRequestPlus,
		Metrics:              true,
		ClientContextID:      "my-ctx",
	})
	if err != nil {
		t.Fatalf("cluster.Query: %v", err)
	}
	rows := allRows(t, res)
	if len(rows) != 2 || rows[0].Statement != "SELECT $1 AS a, $name AS b" || len(rows[0].Positional) != 2 ||
		rows[0].Positional[1] != "two" || rows[0].Named["name"] != "v" || rows[0].Named["other"] != true || rows[0].QueryContext != "" {
		t.Fatalf("rows %+v", rows)
	}
	meta, err := res.MetaData()
	if err != nil {
		t.Fatalf("MetaData: %v", err)
	}
	if meta.Status != gocb.QueryStatusSuccess || meta.ClientContextID != "my-ctx" || !strings.HasPrefix(meta.RequestID, "r-") ||
		meta.Metrics.ResultCount != 2 || meta.Metrics.ResultSize == 0 || meta.Metrics.ExecutionTime != 2*time.Millisecond ||
		meta.Metrics.ElapsedTime <= 0 || meta.Signature == nil {
		t.Fatalf("metadata %+v, metrics %+v", meta, meta.Metrics)
	}
	// The cluster map claims enhanced prepared statements: one request.
	if n := e.posts.Load(); n != 1 {
		t.Fatalf("the first prepared query took %d requests", n)
	}
	reqs := e.eng.requests()
	if len(reqs) != 2 || reqs[0].Statement != "PREPARE SELECT $1 AS a, $name AS b" || reqs[1].Prepared != "p1" ||
		reqs[1].Statement != "" || reqs[1].Consistency != engine.RequestPlus || reqs[1].Timeout <= 0 ||
		reqs[1].Timeout > 20*time.Second || reqs[1].ClientContextID != "my-ctx" {
		t.Fatalf("engine requests %+v", reqs)
	}

	// The same statement again runs the cached name only.
	res, err = c.Query("SELECT $1 AS a, $name AS b", &gocb.QueryOptions{PositionalParameters: []any{3, "four"}, NamedParameters: map[string]any{"name": "w"}})
	if err != nil {
		t.Fatalf("second cluster.Query: %v", err)
	}
	if rows := allRows(t, res); len(rows) != 2 || rows[0].Positional[0] != float64(3) || rows[0].Named["name"] != "w" {
		t.Fatalf("second rows %+v", rows)
	}
	if reqs := e.eng.requests(); len(reqs) != 3 || reqs[2].Prepared != "p1" {
		t.Fatalf("engine requests after the second query %+v", reqs)
	}

	// A node that does not know the name answers 4040: gocb prepares
	// again and runs the new plan.
	e.eng.forget()
	res, err = c.Query("SELECT $1 AS a, $name AS b", &gocb.QueryOptions{PositionalParameters: []any{5, "six"}, NamedParameters: map[string]any{"name": "x"}})
	if err != nil {
		t.Fatalf("query after the name was forgotten: %v", err)
	}
	if rows := allRows(t, res); len(rows) != 2 || rows[0].Positional[0] != float64(5) {
		t.Fatalf("rows after re-preparing %+v", rows)
	}
	if reqs := e.eng.requests(); len(reqs) != 6 || reqs[3].Prepared != "p1" || reqs[4].Statement != "PREPARE SELECT $1 AS a, $name AS b" ||
		reqs[5].Prepared != "p1" || reqs[5].Named["name"].String() != `"x"` {
		t.Fatalf("engine requests after re-preparing %+v", reqs[3:])
	}

	// scope.Query sends the scope as query_context; ad hoc sends the text.
	res, err = b.Scope("inventory").Query("SELECT 1", &gocb.QueryOptions{Adhoc: true, Readonly: true})
	if err != nil {
		t.Fatalf("scope.Query: %v", err)
	}
	if rows := allRows(t, res); len(rows) != 2 || rows[0].QueryContext != "default:`default`.`inventory`" || rows[0].Statement != "SELECT 1" {
		t.Fatalf("scope rows %+v", rows)
	}
	last := e.eng.requests()[6]
	if last.Statement != "SELECT 1" || last.QueryContext != "default:`default`.`inventory`" || !last.Readonly || last.Consistency != engine.NotBounded {
		t.Fatalf("scope request %+v", last)
	}

	// A syntax error reaches gocb as its parsing failure, with Couchbase's
	// code and message.
	_, err = c.Query("SELEC 1", &gocb.QueryOptions{Adhoc: true})
	var qerr *gocb.QueryError
	if !errors.Is(err, gocb.ErrParsingFailure) || !errors.As(err, &qerr) || len(qerr.Errors) != 1 || qerr.Errors[0].Code != 3000 ||
		qerr.HTTPStatusCode != 400 {
		t.Fatalf("syntax error: %v", err)
	}
}

// listenFreshLoopback listens on port of a random 127.x.y.z address, so
// that tests can each have the fixed port gocb reaches (8091).
func listenFreshLoopback(t *testing.T, port int) net.Listener {
	t.Helper()
	var lastErr error
	for range 50 {
		ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err == nil {
			return ln
		}
		lastErr = err
	}
	t.Fatalf("no free loopback address for port %d: %v", port, lastErr)
	return nil
}
