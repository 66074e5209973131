package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/docstore"
)

func TestConfig_Validate(t *testing.T) {
	ok := Config{NodeID: "n1", DataDir: "/tmp/x", BindAddr: "127.0.0.1:0"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	cases := map[string]func(*Config){
		"no node id":          func(c *Config) { c.NodeID = "" },
		"no data dir":         func(c *Config) { c.DataDir = "" },
		"no bind addr":        func(c *Config) { c.BindAddr = "" },
		"vbuckets not pow2":   func(c *Config) { c.NumVBuckets = 1000 },
		"negative max batch":  func(c *Config) { c.MaxBatch = -1 },
		"tiny batch bytes":    func(c *Config) { c.MaxBatchBytes = 10 },
		"lease above hb":      func(c *Config) { c.HeartbeatTimeout = 100 * time.Millisecond; c.LeaderLeaseTimeout = time.Second },
		"election below hb":   func(c *Config) { c.HeartbeatTimeout = time.Second; c.ElectionTimeout = 100 * time.Millisecond },
		"timeouts too short":  func(c *Config) { c.HeartbeatTimeout = time.Millisecond },
		"negative apply time": func(c *Config) { c.ApplyTimeout = -time.Second },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			c := ok
			mut(&c)
			if err := c.Validate(); err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			if _, err := Open(c); err == nil {
				t.Fatalf("Open accepted %+v", c)
			}
		})
	}
}

func TestStore_WriteDocsAndRead(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	docs := mustWrite(t, s, upsert(testKS, "k1", `{"a":1}`), upsert(testKS, "k2", `{"a":2}`))
	if docs[0].Seqno == 0 || docs[0].CAS == 0 || docs[0].RevID == "" {
		t.Fatalf("document not versioned: %+v", docs[0])
	}
	if docs[1].CAS <= docs[0].CAS {
		t.Fatalf("CAS not increasing: %d then %d", docs[0].CAS, docs[1].CAS)
	}
	// Read-your-writes: the write returned after this node applied it.
	got, err := s.Docs().Get(testKS, "k2")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(got.Body) != `{"a":2}` || got.CAS != docs[1].CAS {
		t.Fatalf("Get = %+v, want the written version %+v", got, docs[1])
	}
	// A CAS base from the proposer's clock: close to now.
	if d := time.Since(time.Unix(0, int64(docs[0].CAS))); d < 0 || d > time.Minute {
		t.Fatalf("CAS %d is not a recent unix-nano time (off by %v)", docs[0].CAS, d)
	}
	if res, err := s.WriteDocs(ctxT(t), nil); err != nil || len(res) != 0 {
		t.Fatalf("WriteDocs(nil) = %v, %v", res, err)
	}
}

func TestStore_KeyspaceCommands(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	ctx := ctxT(t)
	mustBucket(t, s, "b")
	wantErr(t, s.CreateBucket(ctx, docstore.BucketSpec{Name: "b", UUID: "x"}), docstore.ErrExists)
	wantErr(t, s.CreateBucket(ctx, docstore.BucketSpec{Name: ".bad", UUID: "x"}), docstore.ErrInvalid)
	if err := s.CreateScope(ctx, "b", "s1"); err != nil {
		t.Fatalf("CreateScope: %v", err)
	}
	ks := docstore.Keyspace{Bucket: "b", Scope: "s1", Collection: "c1"}
	if err := s.CreateCollection(ctx, ks); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	if err := s.Docs().CheckKeyspace(ks); err != nil {
		t.Fatalf("CheckKeyspace after create: %v", err)
	}
	wantErr(t, s.CreateCollection(ctx, docstore.Keyspace{Bucket: "b", Scope: "nope", Collection: "c"}), docstore.ErrScopeNotFound)
	if err := s.DeleteCollection(ctx, ks); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	wantErr(t, s.Docs().CheckKeyspace(ks), docstore.ErrCollectionNotFound)
	if err := s.DeleteScope(ctx, "b", "s1"); err != nil {
		t.Fatalf("DeleteScope: %v", err)
	}
	wantErr(t, s.DeleteScope(ctx, "b", "s1"), docstore.ErrScopeNotFound)
	if err := s.DeleteBucket(ctx, "b"); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}
	wantErr(t, s.DeleteBucket(ctx, "b"), docstore.ErrBucketNotFound)
}

// TestStore_GroupCommit has 50 writers race; every result must be the
// caller's own, and the log must hold fewer entries than commands.
func TestStore_GroupCommit(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	before := s.Stats()
	const writers, each = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	docs := make([][]*docstore.Document, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				body := fmt.Sprintf(`{"writer":%d,"i":%d}`, w, i)
				res, err := s.WriteDocs(context.Background(), []docstore.Mutation{upsert(testKS, key, body)})
				switch {
				case err != nil:
					errs <- err
				case len(res) != 1 || res[0].Err != nil:
					errs <- fmt.Errorf("%s: %+v", key, res)
				case res[0].Doc.Key != key || string(res[0].Doc.Body) != body:
					errs <- fmt.Errorf("caller of %s got the result of %s", key, res[0].Doc.Key)
				default:
					docs[w] = append(docs[w], res[0].Doc)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	cas := map[uint64]bool{}
	for _, ds := range docs {
		for _, d := range ds {
			id := fmt.Sprintf("%d/%d", d.VBucket, d.Seqno)
			if seen[id] || cas[d.CAS] {
				t.Fatalf("seqno %s or CAS %d given twice", id, d.CAS)
			}
			seen[id], cas[d.CAS] = true, true
		}
	}
	after := s.Stats()
	cmds, entries := after.Commands-before.Commands, after.Entries-before.Entries
	t.Logf("%d commands in %d log entries", cmds, entries)
	if cmds != writers*each {
		t.Fatalf("applied %d commands, want %d", cmds, writers*each)
	}
	if entries >= cmds {
		t.Fatalf("no group commit: %d entries for %d commands", entries, cmds)
	}
}

func TestStore_WriteDocsPerMutationErrors(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	first := mustWrite(t, s, upsert(testKS, "exists", `1`))[0]
	ms := []docstore.Mutation{
		upsert(testKS, "ok1", `{}`),
		upsert(docstore.Keyspace{Bucket: "nope", Scope: "_default", Collection: "_default"}, "k", `{}`),
		{Keyspace: testKS, Key: "exists", Op: docstore.OpInsert, Body: json.RawMessage(`2`)},
		{Keyspace: testKS, Key: "exists", Op: docstore.OpUpsert, Body: json.RawMessage(`3`), IfCAS: first.CAS + 1},
		{Keyspace: testKS, Key: "missing", Op: docstore.OpReplace, Body: json.RawMessage(`4`)},
		upsert(testKS, "ok2", `{}`),
	}
	res, err := s.WriteDocs(ctxT(t), ms)
	if err != nil {
		t.Fatalf("WriteDocs: %v", err)
	}
	want := []error{nil, docstore.ErrBucketNotFound, docstore.ErrExists, docstore.ErrCASMismatch, docstore.ErrNotFound, nil}
	for i, w := range want {
		if w == nil {
			if res[i].Err != nil || res[i].Doc == nil || res[i].Doc.Key != ms[i].Key {
				t.Fatalf("result %d = %+v, want success", i, res[i])
			}
			continue
		}
		if !errors.Is(res[i].Err, w) || res[i].Doc != nil {
			t.Fatalf("result %d = %+v, want %v", i, res[i], w)
		}
	}
	if d, _ := s.Docs().Get(testKS, "exists"); string(d.Body) != `1` {
		t.Fatalf("failed mutations changed the document: %s", d.Body)
	}
}

func TestStore_WriteDocsSplitsLargeWrites(t *testing.T) {
	cfg := testConfig(t, "n1")
	cfg.MaxBatchBytes = 4096
	s := mustOpen(t, cfg)
	mustBucket(t, s, "b")
	before := s.Stats()
	body := fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", 180))
	var ms []docstore.Mutation
	for i := range 100 {
		ms = append(ms, upsert(testKS, fmt.Sprintf("k%03d", i), body))
	}
	ms[50].Keyspace.Bucket = "nope"
	res, err := s.WriteDocs(ctxT(t), ms)
	if err != nil {
		t.Fatalf("WriteDocs: %v", err)
	}
	for i, r := range res {
		if i == 50 {
			wantErr(t, r.Err, docstore.ErrBucketNotFound)
			continue
		}
		if r.Err != nil || r.Doc.Key != ms[i].Key {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	if cmds := s.Stats().Commands - before.Commands; cmds < 5 {
		t.Fatalf("100 documents of ~250 bytes with a 4 KiB cap went in %d commands", cmds)
	}
}

func TestStore_TooLarge(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	big := `"` + strings.Repeat("x", maxCommandBytes) + `"`
	_, err := s.ChangeFunction(ctxT(t), FunctionChange{Name: "f", Definition: json.RawMessage(big)})
	wantErr(t, err, ErrTooLarge)
}

func TestStore_Expire(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	now := time.Now()
	m := upsert(testKS, "soon", `{}`)
	m.Expiry = uint32(now.Add(time.Hour).Unix())
	mustWrite(t, s, m, upsert(testKS, "forever", `{}`))
	n, err := s.Expire(ctxT(t), now)
	if err != nil || n != 0 {
		t.Fatalf("Expire(now) = %d, %v; want 0", n, err)
	}
	n, err = s.Expire(ctxT(t), now.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Expire(now+2h) = %d, %v; want 1", n, err)
	}
	d, err := s.Docs().Get(testKS, "soon")
	if err != nil || !d.Deleted || !d.Expired {
		t.Fatalf("expired document = %+v, %v; want an expired tombstone", d, err)
	}
}

func TestStore_Config(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	ctx := ctxT(t)
	if v := s.Config("k"); v != nil {
		t.Fatalf("unset Config = %s", v)
	}
	ch := s.Changed()
	if err := s.SetConfig(ctx, "k", json.RawMessage(`{"x":1}`)); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by SetConfig")
	}
	if v := s.Config("k"); string(v) != `{"x":1}` {
		t.Fatalf("Config = %s", v)
	}
	wantErr(t, s.SetConfig(ctx, "k", json.RawMessage(`{nope`)), ErrInvalid)
	wantErr(t, s.SetConfig(ctx, "", json.RawMessage(`1`)), ErrInvalid)
	if err := s.SetConfig(ctx, "k", nil); err != nil {
		t.Fatalf("SetConfig(nil): %v", err)
	}
	if v := s.Config("k"); v != nil {
		t.Fatalf("Config after delete = %s", v)
	}
}

func TestStore_CloseThenErrClosed(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	mustWrite(t, s, upsert(testKS, "k", `1`))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := ctxT(t)
	_, err := s.WriteDocs(ctx, []docstore.Mutation{upsert(testKS, "k2", `1`)})
	wantErr(t, err, ErrClosed)
	_, err = s.ChangeFunction(ctx, FunctionChange{Name: "f", Definition: json.RawMessage(`{}`)})
	wantErr(t, err, ErrClosed)
	wantErr(t, s.CreateBucket(ctx, docstore.BucketSpec{Name: "c"}), ErrClosed)
	wantErr(t, s.SetConfig(ctx, "k", json.RawMessage(`1`)), ErrClosed)
	wantErr(t, s.WaitLeader(ctx), ErrClosed)
	wantErr(t, s.AddVoter(ctx, "n2", "127.0.0.1:1"), ErrClosed)
	_, err = s.Servers()
	wantErr(t, err, ErrClosed)
	if s.IsLeader() {
		t.Fatal("closed store claims leadership")
	}
	// Reads still see the last state.
	if _, err := s.Docs().Get(testKS, "k"); err != nil {
		t.Fatalf("Get after Close: %v", err)
	}
}

// TestStore_CloseUnderLoad closes while writers are busy: every call ends
// with a result or ErrClosed, none hangs.
func TestStore_CloseUnderLoad(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	mustBucket(t, s, "b")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	var ok, closed int
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				_, err := s.WriteDocs(context.Background(), []docstore.Mutation{upsert(testKS, fmt.Sprintf("w%d-%d", w, i), `1`)})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrClosed):
					closed++
				default:
					t.Errorf("write: %v", err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
				select {
				case <-stop:
				default:
				}
			}
		}()
	}
	waitFor(t, 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return ok > 50 })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	close(stop)
	wg.Wait()
	if closed != 8 {
		t.Fatalf("%d writers saw ErrClosed, want 8", closed)
	}
}

func TestStore_WaitLeaderAndLeader(t *testing.T) {
	cfg := testConfig(t, "n1")
	s := mustOpen(t, cfg)
	if err := s.WaitLeader(ctxT(t)); err != nil {
		t.Fatalf("WaitLeader: %v", err)
	}
	id, addr := s.Leader()
	if id != "n1" || addr != s.Addr() {
		t.Fatalf("Leader() = %q, %q; want n1, %s", id, addr, s.Addr())
	}
	srv, err := s.Servers()
	if err != nil || len(srv) != 1 || srv[0] != (Server{ID: "n1", Address: s.Addr(), Suffrage: SuffrageVoter}) {
		t.Fatalf("Servers() = %+v, %v", srv, err)
	}
}

func TestStore_NoBootstrapStaysLeaderless(t *testing.T) {
	cfg := testConfig(t, "n1")
	cfg.Bootstrap = false
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	wantErr(t, s.WaitLeader(ctx), context.DeadlineExceeded)
	_, err = s.WriteDocs(ctxT(t), []docstore.Mutation{upsert(testKS, "k", `1`)})
	wantErr(t, err, ErrNotLeader)
}

func TestStore_DataDirInUse(t *testing.T) {
	cfg := testConfig(t, "n1")
	mustOpen(t, cfg)
	start := time.Now()
	if s, err := Open(cfg); err == nil {
		s.Close()
		t.Fatal("a second store opened the same data dir")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}
