package docstore

import (
	"errors"
	"strings"
	"testing"
)

func TestCreateBucket_Names(t *testing.T) {
	cases := []struct {
		name    string
		bucket  string
		wantErr error
	}{
		{"simple", "travel-sample", nil},
		{"all chars", "Az09_.%-", nil},
		{"max length", strings.Repeat("a", 100), nil},
		{"empty", "", ErrInvalid},
		{"too long", strings.Repeat("a", 101), ErrInvalid},
		{"leading dot", ".hidden", ErrInvalid},
		{"bracket", "[bucket]", ErrInvalid},
		{"space", "my bucket", ErrInvalid},
		{"slash", "a/b", ErrInvalid},
		{"non-ascii", "bücket", ErrInvalid},
		{"reserved replicator", "_replicator.couch.1", ErrInvalid},
		{"reserved users", "_USERS.couch.x", ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStore(16)
			err := s.CreateBucket(BucketSpec{Name: c.bucket})
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("CreateBucket(%q) = %v", c.bucket, err)
				}
				if err := s.CheckKeyspace(Keyspace{Bucket: c.bucket, Scope: DefaultScope, Collection: DefaultCollection}); err != nil {
					t.Fatalf("default collection missing: %v", err)
				}
				return
			}
			wantErr(t, err, c.wantErr)
			if len(s.Buckets()) != 0 {
				t.Fatal("a rejected bucket was created")
			}
		})
	}
}

func TestCreateBucket_SpecAndDuplicates(t *testing.T) {
	s := NewStore(16)
	if err := s.CreateBucket(BucketSpec{Name: "b", UUID: "abc", RAMQuotaMB: 100}); err != nil {
		t.Fatal(err)
	}
	bi, err := s.Bucket("b")
	if err != nil {
		t.Fatal(err)
	}
	if bi.Type != BucketTypeMembase || bi.UUID != "abc" || bi.RAMQuotaMB != 100 || bi.ManifestUID != 0 {
		t.Fatalf("bucket info = %+v", bi)
	}
	wantErr(t, s.CreateBucket(BucketSpec{Name: "b"}), ErrExists)
	wantErr(t, s.CreateBucket(BucketSpec{Name: "B"}), ErrExists) // case-insensitive, as ns_server
	wantErr(t, s.CreateBucket(BucketSpec{Name: "c", Type: "nosql"}), ErrInvalid)
	wantErr(t, s.CreateBucket(BucketSpec{Name: "c", RAMQuotaMB: -1}), ErrInvalid)
	if err := s.CreateBucket(BucketSpec{Name: "e", Type: "ephemeral"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(BucketSpec{Name: "a", Type: "couchbase"}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range s.Buckets() {
		names = append(names, b.Name+":"+b.Type)
	}
	if got := strings.Join(names, ","); got != "a:membase,b:membase,e:ephemeral" {
		t.Fatalf("Buckets() = %s", got)
	}
	wantErr(t, s.DeleteBucket("nope"), ErrBucketNotFound)
	if err := s.DeleteBucket("b"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Bucket("b")
	wantErr(t, err, ErrBucketNotFound)
	if err := s.CreateBucket(BucketSpec{Name: "B"}); err != nil {
		t.Fatalf("recreate after delete: %v", err)
	}
}

func TestScopesAndCollections_Lifecycle(t *testing.T) {
	s := NewStore(16)
	if err := s.CreateBucket(BucketSpec{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"scope in missing bucket", func() error { return s.CreateScope("x", "s") }, ErrBucketNotFound},
		{"scope bad name", func() error { return s.CreateScope("b", "_s") }, ErrInvalid},
		{"scope percent start", func() error { return s.CreateScope("b", "%s") }, ErrInvalid},
		{"scope dot", func() error { return s.CreateScope("b", "a.b") }, ErrInvalid},
		{"scope too long", func() error { return s.CreateScope("b", strings.Repeat("s", 252)) }, ErrInvalid},
		{"scope empty", func() error { return s.CreateScope("b", "") }, ErrInvalid},
		{"default scope exists", func() error { return s.CreateScope("b", DefaultScope) }, ErrExists},
		{"create inventory", func() error { return s.CreateScope("b", "inventory") }, nil},               // uid 8, manifest 1
		{"create max-length", func() error { return s.CreateScope("b", strings.Repeat("s", 251)) }, nil}, // uid 9, manifest 2
		{"dup scope", func() error { return s.CreateScope("b", "inventory") }, ErrExists},
		{"coll in missing scope", func() error { return s.CreateCollection(Keyspace{"b", "nope", "c"}) }, ErrScopeNotFound},
		{"coll in missing bucket", func() error { return s.CreateCollection(Keyspace{"x", "inventory", "c"}) }, ErrBucketNotFound},
		{"coll bad name", func() error { return s.CreateCollection(Keyspace{"b", "inventory", "_c"}) }, ErrInvalid},
		{"coll _default elsewhere", func() error { return s.CreateCollection(Keyspace{"b", "inventory", DefaultCollection}) }, ErrInvalid},
		{"coll airline", func() error { return s.CreateCollection(Keyspace{"b", "inventory", "airline"}) }, nil},   // uid 8, manifest 3
		{"coll hotel-%", func() error { return s.CreateCollection(Keyspace{"b", "inventory", "hotel-%"}) }, nil},   // uid 9, manifest 4
		{"coll in default", func() error { return s.CreateCollection(Keyspace{"b", DefaultScope, "extra"}) }, nil}, // uid 10, manifest 5
		{"dup coll", func() error { return s.CreateCollection(Keyspace{"b", "inventory", "airline"}) }, ErrExists},
		{"dup default coll", func() error { return s.CreateCollection(Keyspace{"b", DefaultScope, DefaultCollection}) }, ErrExists},
		{"drop default scope", func() error { return s.DeleteScope("b", DefaultScope) }, ErrInvalid},
		{"drop missing scope", func() error { return s.DeleteScope("b", "nope") }, ErrScopeNotFound},
		{"drop scope missing bucket", func() error { return s.DeleteScope("x", "inventory") }, ErrBucketNotFound},
		{"drop missing coll", func() error { return s.DeleteCollection(Keyspace{"b", "inventory", "nope"}) }, ErrCollectionNotFound},
		{"drop hotel", func() error { return s.DeleteCollection(Keyspace{"b", "inventory", "hotel-%"}) }, nil}, // manifest 6
	}
	for _, st := range steps {
		if err := st.do(); !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("%s: error = %v, want %v", st.name, err, st.want)
		}
	}
	bi, err := s.Bucket("b")
	if err != nil {
		t.Fatal(err)
	}
	if bi.ManifestUID != 6 {
		t.Errorf("manifest uid = %d, want 6", bi.ManifestUID)
	}
	if len(bi.Scopes) != 3 || bi.Scopes[0].Name != DefaultScope || bi.Scopes[1].Name != "inventory" || bi.Scopes[0].UID != 0 || bi.Scopes[1].UID != 8 || bi.Scopes[2].UID != 9 {
		t.Fatalf("scopes = %+v", bi.Scopes)
	}
	def := bi.Scopes[0].Collections
	if len(def) != 2 || def[0].Name != DefaultCollection || def[0].UID != 0 || def[1].Name != "extra" || def[1].UID != 10 {
		t.Fatalf("default scope collections = %+v", def)
	}
	inv := bi.Scopes[1].Collections
	if len(inv) != 1 || inv[0].Name != "airline" || inv[0].UID != 8 {
		t.Fatalf("inventory collections = %+v", inv)
	}
	// A new collection never reuses a dropped uid.
	if err := s.CreateCollection(Keyspace{"b", "inventory", "hotel-%"}); err != nil {
		t.Fatal(err)
	}
	bi, _ = s.Bucket("b")
	if c := bi.Scopes[1].Collections[1]; c.Name != "hotel-%" || c.UID != 11 || bi.ManifestUID != 7 {
		t.Fatalf("recreated collection = %+v manifest %d", c, bi.ManifestUID)
	}
	// Dropping _default collection is allowed (Couchbase 7) but it cannot be recreated.
	if err := s.DeleteCollection(Keyspace{"b", DefaultScope, DefaultCollection}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.CreateCollection(Keyspace{"b", DefaultScope, DefaultCollection}), ErrInvalid)
	wantErr(t, s.CheckKeyspace(Keyspace{Bucket: "b"}), ErrCollectionNotFound)
}

func TestDeleteScope_DropsDocuments(t *testing.T) {
	s := mustNewStore(t, 16)
	c1 := Keyspace{"b", "s1", "c1"}
	mustApply(t, s, upsert(c1, "k", `1`), 0)
	mustApply(t, s, Mutation{Keyspace: c1, Key: "e", Op: OpUpsert, Body: []byte(`1`), Expiry: 10}, 0)
	mustApply(t, s, upsert(defKS, "d", `1`), 0)
	if err := s.DeleteScope("b", "s1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.CheckKeyspace(c1), ErrScopeNotFound)
	_, err := s.Get(c1, "k")
	wantErr(t, err, ErrScopeNotFound)
	bi, _ := s.Bucket("b")
	if bi.ItemCount != 1 {
		t.Errorf("item count = %d, want 1", bi.ItemCount)
	}
	// The dropped documents leave the vbucket streams and the expiry index.
	for vb := range s.NumVBuckets() {
		evs, err := s.ReadVBucket("b", uint16(vb), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Keyspace != defKS {
				t.Errorf("event from dropped keyspace %s", ev.Keyspace)
			}
		}
	}
	if n := s.ExpireDue(100, 0); n != 0 {
		t.Errorf("ExpireDue expired %d documents of a dropped scope", n)
	}
	// Recreating the scope gives an empty one.
	if err := s.CreateScope("b", "s1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCollection(c1); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(c1, "k")
	wantErr(t, err, ErrNotFound)
}

func TestKeyspace_ParseAndCheck(t *testing.T) {
	s := mustNewStore(t, 16)
	cases := []struct {
		ks   Keyspace
		want error
	}{
		{Keyspace{Bucket: "b"}, nil}, // empty scope and collection: the default collection
		{defKS, nil},
		{Keyspace{"b", "s1", "c1"}, nil},
		{Keyspace{"x", "s1", "c1"}, ErrBucketNotFound},
		{Keyspace{"b", "s2", "c1"}, ErrScopeNotFound},
		{Keyspace{"b", "s1", "c3"}, ErrCollectionNotFound},
		{Keyspace{"b", "", "c1"}, ErrScopeNotFound},
	}
	for _, c := range cases {
		if err := s.CheckKeyspace(c.ks); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("CheckKeyspace(%+v) = %v, want %v", c.ks, err, c.want)
		}
	}
	ks, err := ParseKeyspace("b.s1.c1")
	if err != nil || ks != (Keyspace{"b", "s1", "c1"}) || ks.String() != "b.s1.c1" {
		t.Fatalf("ParseKeyspace = %+v, %v", ks, err)
	}
	for _, bad := range []string{"", "a.b", "a..c", "a.b.c.d"} {
		if _, err := ParseKeyspace(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseKeyspace(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
