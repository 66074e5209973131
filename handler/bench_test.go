package handler

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"eventide/dcp"
)

// BenchmarkWorkerHandle measures one worker's invocation rate and latency
// for trivial handlers (a no-op, a log line to the application log file, a
// bucket write); the target is at least 50,000 invocations/s per worker.
// Each event carries a small JSON document that is parsed and a meta object.
func BenchmarkWorkerHandle(b *testing.B) {
	cases := []struct {
		name, code string
	}{
		{"noop", `function OnUpdate(doc, meta) {}`},
		{"log_meta_id", `function OnUpdate(doc, meta) { log(meta.id); }`},
		{"bucket_copy", `function OnUpdate(doc, meta) { dst[meta.id] = doc; }`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p, err := Compile(c.code, Settings{}, nil, []Binding{{Alias: "dst", Keyspace: dstKS}})
			if err != nil {
				b.Fatal(err)
			}
			al, err := OpenAppLog(b.TempDir(), "bench", 1<<30, 2)
			if err != nil {
				b.Fatal(err)
			}
			defer al.Close()
			w, err := NewWorker(p, Config{FunctionName: "bench", AppLog: al})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			st := newFakeStore()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := make([]dcp.Event, 1024)
			for i := range events {
				key := "doc-" + strconv.Itoa(i)
				events[i] = dcp.Event{Kind: dcp.EventMutation, Keyspace: srcKS, Doc: &dcp.Document{
					Key: key, Body: []byte(fmt.Sprintf(`{"id":%d,"name":"user %d","active":true,"tags":["a","b"]}`, i, i)),
					CAS: uint64(1700000000000000000 + i), VBucket: uint16(i % 1024), Seqno: uint64(i + 1),
				}}
			}
			lat := make([]time.Duration, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if err := w.Handle(ctx, events[i%len(events)], st); err != nil {
					b.Fatal(err)
				}
				lat[i] = time.Since(t0)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "invocations/s")
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}
