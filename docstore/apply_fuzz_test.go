package docstore

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzApply throws arbitrary mutations at a store and checks that Apply
// never panics, fails only with a package sentinel, and keeps its
// invariants: a successful write gets the next seqno of its vbucket and a
// higher CAS; a failed one changes nothing; the indexes (a primary, a
// field and an array index) hold exactly the keys of the live documents.
func FuzzApply(f *testing.F) {
	f.Add(uint8(0), "live", []byte(`{"a":1}`), uint8(0), uint32(0), uint64(0), "", false, "x", []byte(`1`), uint64(1e11))
	f.Add(uint8(1), "live", []byte(`{}`), uint8(0), uint32(5), uint64(3), "1-abc", true, "", []byte(nil), uint64(0))
	f.Add(uint8(3), "dead", []byte(nil), uint8(1), uint32(0), uint64(0), "", false, "_s", []byte(`{`), uint64(5e10))
	f.Add(uint8(4), "expd", []byte(`[`), uint8(7), uint32(1), uint64(0), "", true, "", []byte(nil), uint64(1<<63))
	f.Add(uint8(0), "live", []byte(`{"x":"a","t":["p","q","p"]}`), uint8(0), uint32(60), uint64(0), "", false, "", []byte(nil), uint64(1e11))
	f.Add(uint8(2), "expd", []byte(`{"x":""}`), uint8(0), uint32(0), uint64(1), "", false, "", []byte(nil), uint64(1e9))
	sentinels := []error{ErrNotFound, ErrBucketNotFound, ErrScopeNotFound, ErrCollectionNotFound, ErrExists, ErrConflict, ErrCASMismatch, ErrInvalid}
	f.Fuzz(func(t *testing.T, op uint8, key string, body []byte, dt uint8, exp uint32, ifCAS uint64, ifRev string, requireRev bool, xk string, xv []byte, cas uint64) {
		fx := newFixture(t)
		s := fx.s
		s.SetIndexCompiler(testCompiler)
		mustCreateIndex(t, s, defKS, "#primary", "", true)
		mustCreateIndex(t, s, defKS, "x", "x", false)
		mustCreateIndex(t, s, defKS, "t", "[]t", false)
		m := Mutation{Keyspace: defKS, Key: key, Op: OpKind(op % 6), Body: body, Datatype: Datatype(dt % 3), Expiry: exp,
			IfCAS: ifCAS, IfRev: ifRev, RequireRev: requireRev}
		if xk != "" {
			m.Xattrs = map[string]json.RawMessage{xk: xv}
		}
		if ifCAS == 1 {
			m.IfCAS = fx.live.CAS
		}
		if ifRev == "live" {
			m.IfRev = fx.live.RevID
		}
		highs, _ := s.HighSeqnos("b")
		before, _ := s.Get(defKS, key)
		d, err := s.Apply(m, cas)
		if err != nil {
			known := false
			for _, e := range sentinels {
				known = known || errors.Is(err, e)
			}
			if !known || d != nil {
				t.Fatalf("Apply = %v, %v", d, err)
			}
			after, _ := s.Get(defKS, key)
			if after != before {
				t.Fatal("a failed mutation changed the document")
			}
			checkIndexes(t, s)
			return
		}
		if d.Seqno != highs[d.VBucket]+1 || d.CAS <= fx.expd.CAS || d.CAS < cas {
			t.Fatalf("new version seqno %d (high %d) cas %d", d.Seqno, highs[d.VBucket], d.CAS)
		}
		if _, err := s.ApplyAll([]Mutation{m, m}, cas); err != nil {
			var be *BatchError
			if !errors.As(err, &be) {
				t.Fatalf("ApplyAll error %v is not a BatchError", err)
			}
		}
		s.ExpireDue(exp, cas)
		checkIndexes(t, s)
	})
}
