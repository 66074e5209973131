package bench

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"eventide/node"
	"eventide/node/nodetest"
)

// queryClient posts SQL++ statements to a node's /query/service.
type queryClient struct {
	b    *testing.B
	base string
	http *http.Client
}

func newQueryClient(b *testing.B, n *nodetest.Node) *queryClient {
	return &queryClient{b: b, base: n.URL(node.APIQuery), http: &http.Client{
		Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// queryResponse is the part of a query service answer the benchmarks read.
type queryResponse struct {
	Results []json.RawMessage `json:"results"`
	Status  string            `json:"status"`
	Errors  []json.RawMessage `json:"errors"`
}

// run posts one request and returns its answer, or an error.
func (q *queryClient) run(req map[string]any) (queryResponse, error) {
	body, _ := json.Marshal(req)
	hr, _ := http.NewRequest(http.MethodPost, q.base+"/query/service", bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	hr.SetBasicAuth("Administrator", "password")
	resp, err := q.http.Do(hr)
	if err != nil {
		return queryResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return queryResponse{}, err
	}
	var out queryResponse
	if err := json.Unmarshal(raw, &out); err != nil || out.Status != "success" {
		return out, fmt.Errorf("%s: %d %s", req["statement"], resp.StatusCode, raw)
	}
	return out, nil
}

// must runs a statement and fails the benchmark on an error.
func (q *queryClient) must(stmt string, args ...any) queryResponse {
	q.b.Helper()
	req := map[string]any{"statement": stmt, "scan_consistency": "request_plus"}
	if len(args) > 0 {
		req["args"] = args
	}
	out, err := q.run(req)
	if err != nil {
		q.b.Fatal(err)
	}
	return out
}

// latencies runs req(i) sequentially n times and returns the sorted
// latencies in ms; then clients goroutines run each times, and it returns
// their throughput per second.
func (q *queryClient) measure(n, clients, each int, req func(i int) map[string]any, check func(queryResponse) bool) (lat []float64, perSec float64) {
	q.b.Helper()
	for i := range n {
		t0 := time.Now()
		out, err := q.run(req(i))
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
		if err != nil || !check(out) {
			q.b.Fatalf("request %d: %v %+v", i, err, out)
		}
	}
	slices.Sort(lat)
	// Throughput is measured with lean keep-alive clients (one connection
	// each, the request bytes built before the clock starts, as wrk
	// does), so the client's own HTTP stack does not take the cores the
	// node is measured on.
	conns := make([]*rawConn, clients)
	bodies := make([][][]byte, clients)
	for c := range clients {
		rc, err := dialRaw(q.base)
		if err != nil {
			q.b.Fatal(err)
		}
		defer rc.Close()
		conns[c] = rc
		for i := range each {
			body, _ := json.Marshal(req(c*each + i))
			bodies[c] = append(bodies[c], rc.request(body))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	t0 := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range bodies[c] {
				if err := conns[c].roundTrip(r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	perSec = float64(clients*each) / time.Since(t0).Seconds()
	close(errs)
	for err := range errs {
		q.b.Fatal(err)
	}
	return lat, perSec
}

// BenchmarkQueryUseKeys: SELECT ... USE KEYS point reads over
// /query/service on one node: one client's latency, and the throughput of
// 16 clients (target ≥ 20,000/s).
func BenchmarkQueryUseKeys(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, n)
	a.CreateBucket("src")
	const docs = 10_000
	a.load("k", docs, 1000, 4)
	q := newQueryClient(b, n)
	req := func(i int) map[string]any {
		return map[string]any{"statement": "SELECT s.name, s.balance FROM src AS s USE KEYS $1", "args": []any{fmt.Sprintf("k-%08d", i%docs)}}
	}
	one := func(r queryResponse) bool { return len(r.Results) == 1 }
	q.measure(200, 16, 50, req, one) // warm up
	b.ResetTimer()
	lat, perSec := q.measure(2000, 16, 2000, req, one)
	b.StopTimer()
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
	b.ReportMetric(perSec, "queries/s")
}

// BenchmarkQueryIndexedEquality: an equality WHERE on a secondary index
// over 1,000,000 documents, over /query/service on one node (target p99 ≤
// 20 ms).
func BenchmarkQueryIndexedEquality(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, n)
	a.CreateBucket("src")
	const docs = 1_000_000
	a.load("e", docs, 2000, 4)
	q := newQueryClient(b, n)
	t0 := time.Now()
	q.must("CREATE INDEX by_n ON src(n)")
	build := time.Since(t0)
	req := func(int) map[string]any {
		return map[string]any{"statement": "SELECT META(s).id, s.name FROM src AS s WHERE s.n = $1", "args": []any{rand.IntN(docs)}}
	}
	one := func(r queryResponse) bool { return len(r.Results) == 1 }
	b.ResetTimer()
	lat, perSec := q.measure(2000, 8, 500, req, one)
	b.StopTimer()
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
	b.ReportMetric(perSec, "queries/s")
	b.ReportMetric(build.Seconds(), "index-build-s")
}

// BenchmarkQueryJavaScriptUDF: a JavaScript UDF called from SELECT on
// 200,000 values in one statement (target ≥ 100,000 calls/s).
func BenchmarkQueryJavaScriptUDF(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{})
	q := newQueryClient(b, n)
	hr, _ := http.NewRequest(http.MethodPost, q.base+"/evaluator/v1/libraries/math",
		bytes.NewReader([]byte("function add(a, b) { return a + b; }")))
	hr.SetBasicAuth("Administrator", "password")
	resp, err := q.http.Do(hr)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("library: %d", resp.StatusCode)
	}
	q.must(`CREATE FUNCTION add(a, b) LANGUAGE JAVASCRIPT AS "add" AT "math"`)
	const calls = 200_000
	stmt := fmt.Sprintf("SELECT RAW SUM(add(x, 1)) FROM ARRAY_RANGE(0, %d) AS x", calls)
	q.must(stmt) // warm the runtimes
	b.ResetTimer()
	t0 := time.Now()
	out := q.must(stmt)
	el := time.Since(t0)
	b.StopTimer()
	if want := fmt.Sprint(calls * (calls + 1) / 2); len(out.Results) != 1 || string(out.Results[0]) != want {
		b.Fatalf("sum %s, want %s", out.Results, want)
	}
	b.ReportMetric(calls/el.Seconds(), "calls/s")
}

// BenchmarkHandlerQuery: end-to-end mutations/s of a handler that runs one
// indexed SELECT per mutation (a lookup in a 1,000-document keyspace)
// and writes what it found (target ≥ 5,000/s).
func BenchmarkHandlerQuery(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, n)
	for _, bk := range []string{"src", "dst", "meta", "cities"} {
		a.CreateBucket(bk)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"docs":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"_id":"city-%d","code":%d,"name":"city %d"}`, i, i, i)
	}
	buf.WriteString(`]}`)
	if _, err := a.Client.PostBulkDocs(b.Context(), "cities", buf.Bytes()); err != nil {
		b.Fatal(err)
	}
	q := newQueryClient(b, n)
	q.must("CREATE INDEX by_code ON cities(code)")
	def := map[string]any{
		"appname": "enricher",
		"appcode": "function OnUpdate(doc, meta) {\n" +
			"    var code = doc.n % 1000;\n" +
			"    var rows = SELECT RAW c.name FROM cities AS c WHERE c.code = $code;\n" +
			"    for (var name of rows) { dst[meta.id] = {n: doc.n, city: name}; }\n" +
			"}",
		"depcfg": map[string]any{
			"source_bucket": "src", "source_scope": "_default", "source_collection": "_default",
			"metadata_bucket": "meta", "metadata_scope": "_default", "metadata_collection": "_default",
			"buckets": []map[string]any{{"alias": "dst", "bucket_name": "dst", "scope_name": "_default", "collection_name": "_default", "access": "rw"}},
		},
		"settings": map[string]any{"dcp_stream_boundary": "everything", "worker_count": 2},
	}
	a.CreateFunction("enricher", def)
	a.Lifecycle("enricher", "deploy")
	a.WaitStatus("enricher", "deployed")
	docs := n.Store().Docs()
	const total = 50_000
	b.ResetTimer()
	start := time.Now()
	a.load("h", total, 1000, 4)
	for count(docs, "dst") < total {
		time.Sleep(20 * time.Millisecond)
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("only %d of %d documents enriched", count(docs, "dst"), total)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "mutations/s")
}

// rawConn is a lean HTTP/1.1 keep-alive client of the query service.
type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
	host string
}

func dialRaw(base string) (*rawConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	return &rawConn{conn: c, r: bufio.NewReader(c), host: u.Host}, nil
}

func (c *rawConn) Close() error { return c.conn.Close() }

// request is the bytes of a POST /query/service with body.
func (c *rawConn) request(body []byte) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte("Administrator:password"))
	head := fmt.Sprintf("POST /query/service HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", c.host, auth, len(body))
	return append([]byte(head), body...)
}

// roundTrip sends a request and reads its answer, which must succeed.
func (c *rawConn) roundTrip(req []byte) error {
	if _, err := c.conn.Write(req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"status": "success"`)) {
		return fmt.Errorf("query: %d %s", resp.StatusCode, body)
	}
	return nil
}
