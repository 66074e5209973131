package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"eventide/docstore"
	"eventide/query/engine"
	"eventide/query/engine/enginetest"
	"eventide/query/value"
)

// benchEngine returns an engine over n documents {"n": i, "grp": "g<i%100>"}
// with a primary index and an index on n.
func benchEngine(b *testing.B, n int) *engine.Engine {
	b.Helper()
	st, err := enginetest.New("b")
	if err != nil {
		b.Fatal(err)
	}
	ks := docstore.Keyspace{Bucket: "b", Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}
	const batch = 10000
	ms := make([]docstore.Mutation, 0, batch)
	cas := uint64(1)
	for i := 0; i < n; i++ {
		ms = append(ms, docstore.Mutation{Keyspace: ks, Key: fmt.Sprintf("k%07d", i), Op: docstore.OpUpsert, Body: fmt.Appendf(nil, `{"n":%d,"grp":"g%d","name":"user %d"}`, i, i%100, i)})
		if len(ms) == batch || i == n-1 {
			if _, err := st.Store.ApplyAll(ms, cas); err != nil {
				b.Fatal(err)
			}
			cas += uint64(len(ms))
			ms = ms[:0]
		}
	}
	eng, err := engine.New(engine.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	for _, stmt := range []string{`CREATE PRIMARY INDEX ON b`, `CREATE INDEX ix_n ON b(n)`} {
		if res := eng.Execute(context.Background(), engine.Request{Statement: stmt}, nil); len(res.Errors) > 0 {
			b.Fatal(res.Errors[0])
		}
	}
	return eng
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkUseKeys(b *testing.B) {
	eng := benchEngine(b, 10000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req := engine.Request{Statement: `SELECT * FROM b USE KEYS $1`, Positional: []value.Value{value.NewString(fmt.Sprintf("k%07d", i%10000))}}
		res := eng.Execute(ctx, req, func([]byte) error { return nil })
		if res.Metrics.ResultCount != 1 {
			b.Fatal(res.Errors)
		}
	}
}

func BenchmarkIndexedEquality1M(b *testing.B) {
	const n = 1_000_000
	eng := benchEngine(b, n)
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		req := engine.Request{Statement: `SELECT name FROM b WHERE n = $1`, Positional: []value.Value{value.NewInt(int64(rand.IntN(n)))}}
		start := time.Now()
		res := eng.Execute(ctx, req, func([]byte) error { return nil })
		lat = append(lat, time.Since(start))
		if res.Metrics.ResultCount != 1 {
			b.Fatal(res.Errors)
		}
	}
	reportLatency(b, lat)
}

func BenchmarkAggregate100k(b *testing.B) {
	eng := benchEngine(b, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		res := eng.Execute(ctx, engine.Request{Statement: `SELECT grp, COUNT(*) AS c, SUM(n) AS s FROM b GROUP BY grp`}, func([]byte) error { return nil })
		if res.Metrics.ResultCount != 100 {
			b.Fatal(res.Errors)
		}
	}
}
