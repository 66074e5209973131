package handler

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"eventide/docstore"
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
			w := benchWorker(b, c.code, []Binding{{Alias: "dst", Keyspace: dstKS}})
			st := newFakeStore()
			events := make([]docstore.Event, 1024)
			for i := range events {
				key := "doc-" + strconv.Itoa(i)
				events[i] = docstore.Event{Kind: docstore.EventMutation, Keyspace: srcKS, Doc: &docstore.Document{
					Key: key, Body: []byte(fmt.Sprintf(`{"id":%d,"name":"user %d","active":true,"tags":["a","b"]}`, i, i)),
					CAS: uint64(1700000000000000000 + i), VBucket: uint16(i % 1024), Seqno: uint64(i + 1),
				}}
			}
			measureCalls(b, "invocations/s", func(ctx context.Context, i int) error {
				return w.Handle(ctx, events[i%len(events)], st)
			})
		})
	}
}

// BenchmarkFireTimer measures one worker's timer callback rate and latency:
// a no-op callback, and one that re-arms itself with createTimer (a
// recurring timer), each receiving a small JSON context.
func BenchmarkFireTimer(b *testing.B) {
	cases := []struct {
		name, code string
	}{
		{"noop", `function OnUpdate(doc, meta) {}
function Cb(context) {}`},
		{"rearm", `function OnUpdate(doc, meta) {}
function Cb(context) { createTimer(Cb, new Date(context.at + 60000), context.id, context); }`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := benchWorker(b, c.code, nil)
			st := newFakeStore()
			timers := make([]Timer, 1024)
			for i := range timers {
				ref := "timer-" + strconv.Itoa(i)
				timers[i] = Timer{Callback: "Cb", Reference: ref, Due: time.UnixMilli(int64(i)),
					Context: []byte(fmt.Sprintf(`{"id":%q,"at":%d,"tags":["a","b"]}`, ref, i))}
			}
			measureCalls(b, "timers/s", func(ctx context.Context, i int) error {
				return w.FireTimer(ctx, timers[i%len(timers)], st)
			})
		})
	}
}

// benchWorker compiles code into a worker set up as on a node: with an
// application log and code insight.
func benchWorker(b *testing.B, code string, bindings []Binding) *Worker {
	p, err := Compile(code, Settings{}, nil, bindings)
	if err != nil {
		b.Fatal(err)
	}
	al, err := OpenAppLog(b.TempDir(), "bench", 1<<30, 2)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { al.Close() })
	w, err := NewWorker(p, Config{FunctionName: "bench", AppLog: al, Insight: NewInsight()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Close)
	return w
}

// measureCalls runs call b.N times and reports the rate (as unit) and the
// p50 and p99 latency of one call.
func measureCalls(b *testing.B, unit string, call func(ctx context.Context, i int) error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := call(ctx, i); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
