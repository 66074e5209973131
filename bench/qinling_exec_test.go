package bench

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/internal/testzip"
	"eventide/node"
	"eventide/node/nodetest"
)

// BenchmarkQinlingSyncExecution: warm synchronous executions of a hello
// function over loopback HTTP on one node, for the JavaScript (goja) and
// Python (python3 workers) engines. Each execution is a POST
// /v1/executions answered with its result: its records are written
// through Raft before and after the run. Reports the latency of one client
// (p50/p99 ms) and the throughput of 16 concurrent clients (executions/s).
// Targets: JavaScript p50 ≤ 2 ms, p99 ≤ 10 ms, ≥ 1,000/s; Python p50 ≤ 15 ms.
func BenchmarkQinlingSyncExecution(b *testing.B) {
	for _, tc := range []struct {
		name, image, file, entry, code string
	}{
		{"js", "openstackqinling/nodejs-runtime", "hello.js", "hello.main", `exports.main = (context, input) => "Hello, " + input.name`},
		{"python", "openstackqinling/python3-runtime", "hello.py", "hello.main", "def main(name, **kwargs):\n    return 'Hello, ' + name\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := nodetest.NewNode(b, nodetest.Options{})
			q := &qinlingClient{b: b, base: n.URL(node.APIQinling)}
			rt := q.call("POST", "/v1/runtimes", "application/json", strings.NewReader(`{"name":"`+tc.name+`","image":"`+tc.image+`"}`), http.StatusCreated)
			ctype, form := restclient.FunctionForm("hello", rt["id"].(string), tc.entry,
				testzip.Of(map[string]string{tc.file: tc.code}), nil)
			fn := q.call("POST", "/v1/functions", ctype, form, http.StatusCreated)["id"].(string)
			body := `{"function_id":"` + fn + `","input":{"name":"bench"},"sync":true}`
			exec := func() {
				ex := q.call("POST", "/v1/executions", "application/json", strings.NewReader(body), http.StatusCreated)
				if ex["status"] != "success" {
					b.Fatalf("execution: %v", ex)
				}
			}
			for range 20 { // warm the runtime and the connections
				exec()
			}
			b.ResetTimer()
			const sequential = 500
			lat := make([]float64, 0, sequential)
			for range sequential {
				t0 := time.Now()
				exec()
				lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
			}
			slices.Sort(lat)
			const clients, each = 16, 100
			var wg sync.WaitGroup
			t0 := time.Now()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range each {
						ex := q.callErr("POST", "/v1/executions", "application/json", strings.NewReader(body))
						if ex != nil {
							b.Error(ex)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(lat[len(lat)/2], "p50-ms")
			b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
			b.ReportMetric(float64(clients*each)/time.Since(t0).Seconds(), "executions/s")
		})
	}
}
