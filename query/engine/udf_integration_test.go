package engine_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/query/engine"
	"eventide/query/engine/enginetest"
	"eventide/query/library"
	"eventide/query/udf"
)

// TestFunctions_WithUDFService runs the engine with the real UDF service
// (query/udf over a single-node Raft store): CREATE FUNCTION, calls from
// SELECT, errors from JavaScript.
func TestFunctions_WithUDFService(t *testing.T) {
	fns := newUDFService(t)
	st, err := enginetest.New("b")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Store: st, Functions: fns})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, eng: eng}
	e.query(`CREATE FUNCTION twice(x) LANGUAGE JAVASCRIPT AS "function twice(x) { return x * 2; }"`)
	sameJSON(t, "js", e.query(`SELECT RAW twice(v) FROM [1, 2.5] AS v`), `[2,5]`)
	e.query(`CREATE FUNCTION boom() LANGUAGE JAVASCRIPT AS "function boom() { throw new Error('no'); }"`)
	if err := e.fails(`SELECT boom()`); err.Code != 10109 {
		t.Fatalf("throw: %+v", err)
	}
	e.query(`CREATE FUNCTION plus(a, b) { a + b }`)
	sameJSON(t, "inline", e.query(`SELECT RAW plus(1, twice(2))`), `[5]`)
	if err := e.fails(`SELECT plus(1)`); err.Code != 10104 {
		t.Fatalf("arguments: %+v", err)
	}
	got := e.query("SELECT RAW f.identity.name FROM system:functions AS f ORDER BY f.identity.name")
	sameJSON(t, "system:functions", got, `["boom","plus","twice"]`)
	if err := e.fails(`DROP FUNCTION nope`); err.Code != 10101 {
		t.Fatalf("drop missing: %+v", err)
	}
}

// BenchmarkJavaScriptUDFCalls measures JavaScript UDF calls from a SELECT
// (calls/s over 10,000 calls per statement).
func BenchmarkJavaScriptUDFCalls(b *testing.B) {
	fns := newUDFService(b)
	st, err := enginetest.New("b")
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Store: st, Functions: fns})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if res := eng.Execute(ctx, engine.Request{Statement: `CREATE FUNCTION twice(x) LANGUAGE JAVASCRIPT AS "function twice(x) { return x * 2; }"`}, nil); len(res.Errors) > 0 {
		b.Fatal(res.Errors[0])
	}
	const calls = 10000
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		res := eng.Execute(ctx, engine.Request{Statement: `SELECT RAW SUM(twice(v)) FROM ARRAY_RANGE(0, 10000) AS v`}, func([]byte) error { return nil })
		if len(res.Errors) > 0 {
			b.Fatal(res.Errors[0])
		}
	}
	b.ReportMetric(float64(b.N*calls)/time.Since(start).Seconds(), "calls/s")
}

func newUDFService(t testing.TB) *udf.Service {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	rs, err := consensus.OpenSingle(consensus.Config{DataDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rs.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	libs, err := library.New(library.Config{Records: rs, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	fns, err := udf.New(udf.Config{Records: rs, Libraries: libs, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fns.Close)
	return fns
}
