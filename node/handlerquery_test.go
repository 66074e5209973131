package node

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/handler"
	"eventide/internal/testlog"
	"eventide/query/engine"
)

// TestHandlerQuerier_BoundsResults: a handler's statement runs on the
// engine and its rows come back in order; one whose rows outgrow the
// bound fails with a clear error instead of growing the node's heap.
func TestHandlerQuerier_BoundsResults(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := consensus.OpenSingle(consensus.Config{DataDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Store: queryStore{s}})
	if err != nil {
		t.Fatal(err)
	}
	q := handlerQuerier{&Node{store: s, query: eng}}

	rows, err := q.Query(ctx, handler.Query{Statement: "SELECT RAW i * 2 FROM ARRAY_RANGE(0, 3) AS i"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		r, ok, err := rows.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, string(r))
	}
	if strings.Join(got, ",") != "0,2,4" {
		t.Fatalf("rows %v", got)
	}

	old := maxHandlerQueryBytes
	maxHandlerQueryBytes = 1 << 20
	t.Cleanup(func() { maxHandlerQueryBytes = old })
	_, err = q.Query(ctx, handler.Query{Statement: `SELECT RAW REPEAT("x", 100000) FROM ARRAY_RANGE(0, 100) AS i`})
	var qe *handler.QueryError
	if !errors.As(err, &qe) || !strings.Contains(qe.Msg, "exceed 1 MiB") {
		t.Fatalf("oversized results: %v", err)
	}
	if _, err := q.Query(ctx, handler.Query{Statement: "SELEC 1"}); !errors.As(err, &qe) || qe.Code != 3000 {
		t.Fatalf("syntax error: %v", err)
	}
}
