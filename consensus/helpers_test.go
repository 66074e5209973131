package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"eventide/docstore"
	"eventide/internal/testlog"
)

// newTestLogger routes records at level and above to t.Log until the test
// ends. Call it before starting what it logs for, so that its end-of-test
// mark comes after their Close (cleanups run last-registered first).
func newTestLogger(t testing.TB, level slog.Level) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: level}))
}

// testConfig is a fast single-node configuration in a fresh data dir.
func testConfig(t testing.TB, id string) Config {
	t.Helper()
	return Config{
		NodeID:             id,
		DataDir:            t.TempDir(),
		BindAddr:           "127.0.0.1:0",
		Bootstrap:          true,
		NumVBuckets:        64,
		HeartbeatTimeout:   50 * time.Millisecond,
		ElectionTimeout:    50 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond,
		ApplyTimeout:       5 * time.Second,
		Logger:             newTestLogger(t, slog.LevelWarn),
	}
}

// mustOpen opens a store, closes it at cleanup and waits until it leads.
func mustOpen(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	waitFor(t, 5*time.Second, s.IsLeader)
	return s
}

// mustOpenWith opens a store on a given transport, without waiting.
func mustOpenWith(t testing.TB, cfg Config, trans raft.Transport) *Store {
	t.Helper()
	s, err := open(cfg, trans)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var testKS = docstore.Keyspace{Bucket: "b", Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}

func mustBucket(t testing.TB, s *Store, name string) {
	t.Helper()
	if err := s.CreateBucket(ctxT(t), docstore.BucketSpec{Name: name, UUID: "uuid-" + name, RAMQuotaMB: 128, Type: docstore.BucketTypeMembase}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func upsert(ks docstore.Keyspace, key, body string) docstore.Mutation {
	return docstore.Mutation{Keyspace: ks, Key: key, Op: docstore.OpUpsert, Body: json.RawMessage(body)}
}

func mustWrite(t testing.TB, s *Store, ms ...docstore.Mutation) []*docstore.Document {
	t.Helper()
	res, err := s.WriteDocs(ctxT(t), ms)
	if err != nil {
		t.Fatalf("WriteDocs: %v", err)
	}
	docs := make([]*docstore.Document, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("WriteDocs[%d] %s: %v", i, ms[i].Key, r.Err)
		}
		docs[i] = r.Doc
	}
	return docs
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// state is everything a replica holds, in comparable form.
type state struct {
	Buckets   []docstore.BucketInfo
	Docs      map[string][]docstore.Document // keyspace → every version, tombstones included, by ChangeSeq
	Highs     map[string][]uint64
	Functions []Function
	Config    map[string]string
	VBMap     VBMap
	Records   map[string][]Record
	Indexes   map[string][]string // keyspace/name/state → "key doc" entries
}

func dumpState(t testing.TB, docs *docstore.Store, f *fsm, configKeys ...string) state {
	t.Helper()
	st := state{
		Buckets:   docs.Buckets(),
		Docs:      map[string][]docstore.Document{},
		Highs:     map[string][]uint64{},
		Functions: f.listFunctions(),
		Config:    map[string]string{},
		VBMap:     f.vbMap(),
		Records:   map[string][]Record{},
		Indexes:   dumpIndexes(t, docs),
	}
	f.rmu.RLock()
	var tables []string
	for name := range f.records {
		tables = append(tables, name)
	}
	f.rmu.RUnlock()
	for _, name := range tables {
		st.Records[name] = f.recordsWithPrefix(name, "")
	}
	for _, b := range st.Buckets {
		hs, err := docs.HighSeqnos(b.Name)
		if err != nil {
			t.Fatalf("HighSeqnos %s: %v", b.Name, err)
		}
		st.Highs[b.Name] = hs
		for _, sc := range b.Scopes {
			for _, c := range sc.Collections {
				ks := docstore.Keyspace{Bucket: b.Name, Scope: sc.Name, Collection: c.Name}
				ds, _, err := docs.Changes(ks, 0, 0)
				if err != nil {
					t.Fatalf("Changes %s: %v", ks, err)
				}
				for _, d := range ds {
					st.Docs[ks.String()] = append(st.Docs[ks.String()], *d)
				}
			}
		}
	}
	for _, k := range configKeys {
		if v := f.configValue(k); v != nil {
			st.Config[k] = string(v)
		}
	}
	return st
}

func sameState(t testing.TB, got, want state) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("state differs:\n got  %+v\n want %+v", got, want)
	}
}

// dumpIndexes lists every index of docs with its entries in index order.
func dumpIndexes(t testing.TB, docs *docstore.Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, in := range docs.AllIndexes() {
		id := in.Keyspace.String() + "/" + in.Name + "/" + in.State + "/" + string(in.Definition)
		out[id] = []string{}
		if in.State != docstore.IndexOnline {
			continue
		}
		v, err := docs.Index(in.Keyspace, in.Name)
		if err != nil {
			t.Fatalf("Index %s: %v", id, err)
		}
		for k, doc := range v.Entries(docstore.ScanRange{}, docstore.ScanOptions{}) {
			out[id] = append(out[id], string(k)+" "+doc)
		}
	}
	return out
}
