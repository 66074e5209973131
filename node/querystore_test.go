package node

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/internal/testlog"
)

// TestQueryStore_OverTheReplicatedStore drives the engine's Store as the
// engine will: writes through Raft, reads of live documents only, primary
// index changes, and request_plus.
func TestQueryStore_OverTheReplicatedStore(t *testing.T) {
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
	if err := s.CreateBucket(ctx, docstore.BucketSpec{Name: "b", UUID: "u", RAMQuotaMB: 100, Type: docstore.BucketTypeMembase}); err != nil {
		t.Fatal(err)
	}
	q := queryStore{s}
	ks := docstore.Keyspace{Bucket: "b", Scope: "_default", Collection: "_default"}
	if err := q.CheckKeyspace(ks); err != nil {
		t.Fatalf("CheckKeyspace: %v", err)
	}
	if err := q.CheckKeyspace(docstore.Keyspace{Bucket: "nope", Scope: "_default", Collection: "_default"}); !errors.Is(err, docstore.ErrBucketNotFound) {
		t.Fatalf("CheckKeyspace of a missing bucket: %v", err)
	}
	if bs := q.Buckets(); len(bs) != 1 || bs[0].Name != "b" {
		t.Fatalf("Buckets: %+v", bs)
	}

	rs, err := q.Write(ctx, []docstore.Mutation{
		{Keyspace: ks, Key: "a", Op: docstore.OpUpsert, Body: []byte(`{"n":1}`)},
		{Keyspace: ks, Key: "old", Op: docstore.OpUpsert, Body: []byte(`{"n":2}`), Expiry: uint32(time.Now().Add(-time.Hour).Unix())},
		{Keyspace: ks, Key: "a", Op: docstore.OpInsert, Body: []byte(`{"n":3}`)},
	})
	if err != nil || len(rs) != 3 || rs[0].Doc == nil || rs[0].Err != nil || !errors.Is(rs[2].Err, docstore.ErrExists) {
		t.Fatalf("Write: %+v, %v", rs, err)
	}
	if d, err := q.Get(ks, "a"); err != nil || string(d.Body) != `{"n":1}` {
		t.Fatalf("Get a: %+v, %v", d, err)
	}
	if _, err := q.Get(ks, "old"); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("Get of an expired document: %v", err)
	}
	if rs, err := q.Write(ctx, []docstore.Mutation{{Keyspace: ks, Key: "a", Op: docstore.OpDelete}}); err != nil || rs[0].Err != nil {
		t.Fatalf("delete: %+v, %v", rs, err)
	}
	if _, err := q.Get(ks, "a"); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("Get of a deleted document: %v", err)
	}

	if err := q.CreateIndex(ctx, ks, "#primary", nil, true, false); err != nil {
		t.Fatalf("CreateIndex: %v", err)
	}
	if err := q.CreateIndex(ctx, ks, "#primary", nil, true, true); err != nil {
		t.Fatalf("CreateIndex IF NOT EXISTS: %v", err)
	}
	if err := q.CreateIndex(ctx, ks, "#primary", nil, true, false); !errors.Is(err, docstore.ErrExists) {
		t.Fatalf("CreateIndex again: %v", err)
	}
	if err := q.WaitConsistent(ctx); err != nil {
		t.Fatalf("WaitConsistent: %v", err)
	}
	if is, err := q.Indexes(ks); err != nil || len(is) != 1 || !is[0].Primary || is[0].State != docstore.IndexOnline {
		t.Fatalf("Indexes: %+v, %v", is, err)
	}
	if all := q.AllIndexes(); len(all) != 1 || all[0].Name != "#primary" {
		t.Fatalf("AllIndexes: %+v", all)
	}
	if _, err := q.Index(ks, "#primary"); err != nil {
		t.Fatalf("Index: %v", err)
	}
	if err := q.DropIndex(ctx, ks, "#primary", false); err != nil {
		t.Fatalf("DropIndex: %v", err)
	}
	if err := q.DropIndex(ctx, ks, "#primary", true); err != nil {
		t.Fatalf("DropIndex IF EXISTS: %v", err)
	}
	if err := q.DropIndex(ctx, ks, "#primary", false); !errors.Is(err, docstore.ErrIndexNotFound) {
		t.Fatalf("DropIndex of a missing index: %v", err)
	}
}
