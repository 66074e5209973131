package docstore

import (
	"encoding/json"
	"errors"
	"testing"
)

// sec is a CAS (nanoseconds) at unix second s, for expiry tests.
func sec(s uint32) uint64 { return uint64(s) * 1e9 }

var defKS = Keyspace{Bucket: "b", Scope: DefaultScope, Collection: DefaultCollection}

// mustNewStore returns a store with bucket "b" and collections b.s1.c1 and
// b.s1.c2 besides the default one.
func mustNewStore(t testing.TB, numVB int) *Store {
	t.Helper()
	s := NewStore(numVB)
	if err := s.CreateBucket(BucketSpec{Name: "b", UUID: "u1", RAMQuotaMB: 256}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if err := s.CreateScope("b", "s1"); err != nil {
		t.Fatalf("CreateScope: %v", err)
	}
	for _, c := range []string{"c1", "c2"} {
		if err := s.CreateCollection(Keyspace{Bucket: "b", Scope: "s1", Collection: c}); err != nil {
			t.Fatalf("CreateCollection %s: %v", c, err)
		}
	}
	return s
}

func upsert(ks Keyspace, key, body string) Mutation {
	return Mutation{Keyspace: ks, Key: key, Op: OpUpsert, Body: json.RawMessage(body)}
}

func mustApply(t testing.TB, s *Store, m Mutation, cas uint64) *Document {
	t.Helper()
	d, err := s.Apply(m, cas)
	if err != nil {
		t.Fatalf("Apply(%+v): %v", m, err)
	}
	return d
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}
