package consensus

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"eventide/docstore"
)

// errTestDef is what testIndexCompiler returns for a definition it rejects.
var errTestDef = errors.New("test compiler: bad definition")

// testIndexCompiler compiles a definition naming a JSON field: the key is
// the field's JSON text (a document without the field is not indexed);
// "bad" does not compile.
func testIndexCompiler(_ docstore.Keyspace, def []byte) (docstore.IndexKeys, error) {
	field := string(def)
	if field == "bad" || field == "" {
		return nil, errTestDef
	}
	return func(d *docstore.Document) [][]byte {
		var m map[string]json.RawMessage
		if json.Unmarshal(d.Body, &m) != nil || m[field] == nil {
			return nil
		}
		return [][]byte{[]byte(m[field])}
	}, nil
}

func withIndexCompiler(c *Config) { c.IndexCompiler = testIndexCompiler }

// scanIndex returns an index's entries as "key doc" strings.
func scanIndex(t testing.TB, s *Store, ks docstore.Keyspace, name string, r docstore.ScanRange) []string {
	t.Helper()
	out := []string{}
	if err := s.Docs().ScanIndex(ks, name, r, docstore.ScanOptions{}, func(k []byte, doc string) bool {
		out = append(out, string(k)+" "+doc)
		return true
	}); err != nil {
		t.Fatalf("ScanIndex %s: %v", name, err)
	}
	return out
}

func wantStrings(t testing.TB, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestStore_IndexesThroughRaft(t *testing.T) {
	cfg := testConfig(t, "n1")
	cfg.IndexCompiler = testIndexCompiler
	s, err := OpenSingle(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := ctxT(t)
	mustBucket(t, s, "b")
	mustWrite(t, s, upsert(testKS, "a", `{"city":"Oslo"}`), upsert(testKS, "b", `{"city":"Bergen"}`), upsert(testKS, "c", `{}`))
	if err := s.CreateIndex(ctx, IndexSpec{Keyspace: testKS, Name: "by_city", Definition: []byte("city")}); err != nil {
		t.Fatalf("CreateIndex: %v", err)
	}
	if err := s.CreateIndex(ctx, IndexSpec{Keyspace: testKS, Name: "#primary", Primary: true}); err != nil {
		t.Fatalf("CreateIndex primary: %v", err)
	}
	wantStrings(t, scanIndex(t, s, testKS, "by_city", docstore.ScanRange{}), `"Bergen" b`, `"Oslo" a`)
	// Writes through Raft keep it in step, seen as soon as they return.
	mustWrite(t, s, upsert(testKS, "c", `{"city":"Alta"}`))
	mustWrite(t, s, docstore.Mutation{Keyspace: testKS, Key: "a", Op: docstore.OpDelete})
	wantStrings(t, scanIndex(t, s, testKS, "by_city", docstore.ScanRange{}), `"Alta" c`, `"Bergen" b`)
	wantStrings(t, scanIndex(t, s, testKS, "#primary", docstore.ScanRange{}), `b b`, `c c`)

	cases := []struct {
		name string
		spec IndexSpec
		want error
	}{
		{"duplicate", IndexSpec{Keyspace: testKS, Name: "by_city", Definition: []byte("other")}, docstore.ErrExists},
		{"bad definition", IndexSpec{Keyspace: testKS, Name: "x", Definition: []byte("bad")}, errTestDef},
		{"bad definition is invalid", IndexSpec{Keyspace: testKS, Name: "x", Definition: []byte("bad")}, docstore.ErrInvalid},
		{"bad name", IndexSpec{Keyspace: testKS, Name: "", Definition: []byte("city")}, docstore.ErrInvalid},
		{"no bucket", IndexSpec{Keyspace: docstore.Keyspace{Bucket: "nope"}, Name: "x", Definition: []byte("city")}, docstore.ErrBucketNotFound},
		{"no collection", IndexSpec{Keyspace: docstore.Keyspace{Bucket: "b", Scope: "_default", Collection: "nope"}, Name: "x", Definition: []byte("city")}, docstore.ErrCollectionNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, s.CreateIndex(ctx, tc.spec), tc.want) })
	}
	if err := s.CreateIndex(ctx, IndexSpec{Keyspace: testKS, Name: "by_city", Definition: []byte("other"), IfNotExists: true}); err != nil {
		t.Fatalf("CreateIndex IfNotExists of an existing index: %v", err)
	}
	infos, err := s.Docs().Indexes(testKS)
	if err != nil || len(infos) != 2 || string(infos[1].Definition) != "city" {
		t.Fatalf("indexes after failed creates: %+v, %v", infos, err)
	}
	wantErr(t, s.DropIndex(ctx, testKS, "nope", false), docstore.ErrIndexNotFound)
	if err := s.DropIndex(ctx, testKS, "nope", true); err != nil {
		t.Fatalf("DropIndex ifExists of a missing index: %v", err)
	}
	wantErr(t, s.DropIndex(ctx, docstore.Keyspace{Bucket: "nope"}, "by_city", true), docstore.ErrBucketNotFound)
	if err := s.DropIndex(ctx, testKS, "by_city", false); err != nil {
		t.Fatalf("DropIndex: %v", err)
	}
	_, err = s.Docs().Index(testKS, "by_city")
	wantErr(t, err, docstore.ErrIndexNotFound)
	// Dropping the bucket drops its indexes.
	if err := s.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if all := s.Docs().AllIndexes(); len(all) != 0 {
		t.Fatalf("indexes after the bucket was dropped: %+v", all)
	}
}

// TestFSM_CreateIndexCompileFailureIsAResult: a definition that reaches the
// log and does not compile (a proposer without the check) fails as the
// command's result on every replica alike, and changes nothing.
func TestFSM_CreateIndexCompileFailureIsAResult(t *testing.T) {
	replicas := []*fsm{newTestFSM(t), newTestFSM(t)}
	for _, f := range replicas {
		f.docs.SetIndexCompiler(testIndexCompiler)
		res := applyEntry(t, f, 2,
			encodeCreateIndex(&IndexSpec{Keyspace: testKS, Name: "i", Definition: []byte("bad")}),
			encodeCreateIndex(&IndexSpec{Keyspace: testKS, Name: "j", Definition: []byte("v")}),
			encodeWriteDocs(1e18, []docstore.Mutation{upsert(testKS, "k", `{"v":1}`)}, 0),
		)
		if !errors.Is(res[0].err, docstore.ErrInvalid) || !errors.Is(res[0].err, errTestDef) || res[1].err != nil {
			t.Fatalf("results %v, %v", res[0].err, res[1].err)
		}
	}
	a, b := dumpIndexes(t, replicas[0].docs), dumpIndexes(t, replicas[1].docs)
	want := map[string][]string{"b._default._default/j/online/v": {"1 k"}}
	if !reflect.DeepEqual(a, want) || !reflect.DeepEqual(b, want) {
		t.Fatalf("replicas' indexes %v and %v, want %v", a, b, want)
	}
}

func TestCluster_IndexesAgreeOnEveryNode(t *testing.T) {
	nodes := newCluster(t, 3, false, withIndexCompiler)
	leader := nodes[0]
	ctx := ctxT(t)
	mustBucket(t, leader, "b")
	var ms []docstore.Mutation
	for i := range 40 {
		ms = append(ms, upsert(testKS, fmt.Sprintf("k%02d", i), fmt.Sprintf(`{"g":%d}`, i%5)))
	}
	mustWrite(t, leader, ms...)
	if err := leader.CreateIndex(ctx, IndexSpec{Keyspace: testKS, Name: "by_g", Definition: []byte("g")}); err != nil {
		t.Fatal(err)
	}
	if err := leader.CreateIndex(ctx, IndexSpec{Keyspace: testKS, Name: "#primary", Primary: true}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, leader, upsert(testKS, "k00", `{"g":9}`), docstore.Mutation{Keyspace: testKS, Key: "k01", Op: docstore.OpDelete})
	want := dumpIndexes(t, leader.Docs())
	if len(want["b._default._default/by_g/online/g"]) != 39 || want["b._default._default/by_g/online/g"][38] != "9 k00" {
		t.Fatalf("leader's index: %v", want)
	}
	target := leader.Stats().AppliedIndex
	for _, s := range nodes[1:] {
		waitFor(t, 10*time.Second, func() bool { return s.Stats().AppliedIndex >= target })
		if got := dumpIndexes(t, s.Docs()); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s's indexes differ:\n got  %v\n want %v", s.cfg.NodeID, got, want)
		}
	}
}

// TestStore_IndexesSurviveRestart: a restarted node rebuilds its indexes
// from the snapshot's definitions and replays later creates and writes.
func TestStore_IndexesSurviveRestart(t *testing.T) {
	cfg := testConfig(t, "n1")
	cfg.IndexCompiler = testIndexCompiler
	s := mustOpen(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, s, "b")
	mustWrite(t, s, upsert(testKS, "a", `{"x":"1"}`), upsert(testKS, "b", `{"x":"2"}`))
	if err := s.CreateIndex(ctx, IndexSpec{Keyspace: testKS, Name: "x", Definition: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	mustWrite(t, s, upsert(testKS, "c", `{"x":"0","y":true}`))
	if err := s.CreateIndex(ctx, IndexSpec{Keyspace: testKS, Name: "y", Definition: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	want := dumpState(t, s.Docs(), s.fsm)
	wantIndex := s.Stats().AppliedIndex
	cfg.BindAddr = s.Addr()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, cfg)
	waitFor(t, 5*time.Second, func() bool { return s2.Stats().AppliedIndex >= wantIndex })
	got := dumpState(t, s2.Docs(), s2.fsm)
	sameState(t, got, want)
	wantStrings(t, got.Indexes["b._default._default/x/online/x"], `"0" c`, `"1" a`, `"2" b`)
}
