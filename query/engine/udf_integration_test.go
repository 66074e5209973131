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
