package consensus

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eventide/docstore"
)

// BenchmarkWriteDocs measures documents per second written by concurrent
// callers (as REST handlers call WriteDocs), through group commit, Raft and
// a real on-disk raft-boltdb log, with 200-byte JSON bodies. perCall > 1 is
// a _bulk_docs-style request.
func BenchmarkWriteDocs(b *testing.B) {
	for _, bc := range []struct{ callers, perCall int }{{1, 1}, {64, 1}, {256, 1}, {16, 100}} {
		b.Run(fmt.Sprintf("callers=%d/docs=%d", bc.callers, bc.perCall), func(b *testing.B) {
			cfg := testConfig(b, "bench")
			cfg.NumVBuckets = 1024
			cfg.Logger = slog.New(slog.DiscardHandler)
			s := mustOpen(b, cfg)
			mustBucket(b, s, "b")
			body := []byte(fmt.Sprintf(`{"type":"bench","pad":%q}`, strings.Repeat("x", 200-25)))
			if len(body) != 200 {
				b.Fatalf("body is %d bytes", len(body))
			}
			var next atomic.Int64
			var latMu sync.Mutex
			var lats []time.Duration
			b.SetParallelism(max(1, bc.callers/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			before := s.Stats()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				ms := make([]docstore.Mutation, bc.perCall)
				var local []time.Duration
				for pb.Next() {
					for i := range ms {
						ms[i] = docstore.Mutation{Keyspace: testKS, Key: fmt.Sprintf("doc-%d", next.Add(1)), Op: docstore.OpUpsert, Body: body}
					}
					t0 := time.Now()
					res, err := s.WriteDocs(context.Background(), ms)
					local = append(local, time.Since(t0))
					if err != nil {
						b.Error(err)
						return
					}
					for _, r := range res {
						if r.Err != nil {
							b.Error(r.Err)
							return
						}
					}
				}
				latMu.Lock()
				lats = append(lats, local...)
				latMu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			after := s.Stats()
			docs := float64(b.N * bc.perCall)
			b.ReportMetric(docs/elapsed.Seconds(), "docs/s")
			if e := after.Entries - before.Entries; e > 0 {
				b.ReportMetric(float64(after.Commands-before.Commands)/float64(e), "cmds/entry")
			}
			if len(lats) > 0 {
				slices.Sort(lats)
				b.ReportMetric(float64(lats[len(lats)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}
