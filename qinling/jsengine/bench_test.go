package jsengine

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"eventide/qinling"
)

// BenchmarkRunHello measures warm synchronous executions of a hello
// function (the engine's share of the HTTP target: p50 ≤ 2 ms,
// p99 ≤ 10 ms, ≥ 1,000 executions/s per node), with a small JSON input.
func BenchmarkRunHello(b *testing.B) {
	e := newTestEngine(b, DefaultConfig())
	code := codeOf(b, "hello", "", map[string]string{
		"main.js": `exports.main = (context, input) => 'Hello, ' + input.name;`,
	})
	inv := qinling.Invocation{ExecutionID: "bench", ProjectID: "p", Input: json.RawMessage(`{"name": "Qinling"}`)}
	ctx := context.Background()
	if res, err := e.Run(ctx, code, inv); err != nil || !res.Success { // warm up
		b.Fatal(res, err)
	}
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res, err := e.Run(ctx, code, inv)
		if err != nil || !res.Success {
			b.Fatal(res, err)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "runs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
