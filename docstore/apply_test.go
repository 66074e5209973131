package docstore

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fixture is a store holding, in the default collection: "live" (a live
// document), "dead" (a tombstone), "expd" (expiry 50, not yet paged out)
// and no "none". Mutations in tests run at t=100s.
type fixture struct {
	s                *Store
	live, dead, expd *Document
}

const tNow = 100

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := mustNewStore(t, 64)
	f := &fixture{s: s}
	f.live = mustApply(t, s, Mutation{Keyspace: defKS, Key: "live", Op: OpUpsert, Body: []byte(`{"v":1}`), Flags: 7,
		Xattrs: map[string]json.RawMessage{"meta": []byte(`{"a":1}`)}}, sec(10))
	mustApply(t, s, upsert(defKS, "dead", `{"v":1}`), sec(11))
	f.dead = mustApply(t, s, Mutation{Keyspace: defKS, Key: "dead", Op: OpDelete}, sec(12))
	f.expd = mustApply(t, s, Mutation{Keyspace: defKS, Key: "expd", Op: OpUpsert, Body: []byte(`{"v":1}`), Expiry: 50,
		Xattrs: map[string]json.RawMessage{"meta": []byte(`1`)}}, sec(13))
	return f
}

func TestApply_Preconditions(t *testing.T) {
	body := json.RawMessage(`{"v":2}`)
	type mk func(f *fixture) Mutation
	m := func(op OpKind, key string) mk {
		return func(*fixture) Mutation { return Mutation{Keyspace: defKS, Key: key, Op: op, Body: body} }
	}
	with := func(base mk, edit func(f *fixture, m *Mutation)) mk {
		return func(f *fixture) Mutation {
			mm := base(f)
			edit(f, &mm)
			return mm
		}
	}
	cases := []struct {
		name string
		mut  mk
		want error
	}{
		{"upsert new", m(OpUpsert, "none"), nil},
		{"upsert live", m(OpUpsert, "live"), nil},
		{"upsert tombstone", m(OpUpsert, "dead"), nil},
		{"upsert expired", m(OpUpsert, "expd"), nil},
		{"insert new", m(OpInsert, "none"), nil},
		{"insert live", m(OpInsert, "live"), ErrExists},
		{"insert tombstone", m(OpInsert, "dead"), nil},
		{"insert expired", m(OpInsert, "expd"), nil},
		{"replace new", m(OpReplace, "none"), ErrNotFound},
		{"replace live", m(OpReplace, "live"), nil},
		{"replace tombstone", m(OpReplace, "dead"), ErrNotFound},
		{"replace expired", m(OpReplace, "expd"), ErrNotFound},
		{"delete new", m(OpDelete, "none"), ErrNotFound},
		{"delete live", m(OpDelete, "live"), nil},
		{"delete tombstone", m(OpDelete, "dead"), ErrNotFound},
		{"delete expired", m(OpDelete, "expd"), ErrNotFound},
		{"touch new", m(OpTouch, "none"), ErrNotFound},
		{"touch live", m(OpTouch, "live"), nil},
		{"touch tombstone", m(OpTouch, "dead"), ErrNotFound},
		{"touch expired", m(OpTouch, "expd"), ErrNotFound},

		{"cas match", with(m(OpReplace, "live"), func(f *fixture, m *Mutation) { m.IfCAS = f.live.CAS }), nil},
		{"cas match upsert", with(m(OpUpsert, "live"), func(f *fixture, m *Mutation) { m.IfCAS = f.live.CAS }), nil},
		{"cas match delete", with(m(OpDelete, "live"), func(f *fixture, m *Mutation) { m.IfCAS = f.live.CAS }), nil},
		{"cas mismatch", with(m(OpReplace, "live"), func(f *fixture, m *Mutation) { m.IfCAS = f.live.CAS + 1 }), ErrCASMismatch},
		{"cas mismatch delete", with(m(OpDelete, "live"), func(f *fixture, m *Mutation) { m.IfCAS = 1 }), ErrCASMismatch},
		{"cas on missing", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.IfCAS = 5 }), ErrNotFound},
		{"cas on tombstone", with(m(OpUpsert, "dead"), func(f *fixture, m *Mutation) { m.IfCAS = f.dead.CAS }), ErrNotFound},
		{"cas on expired", with(m(OpUpsert, "expd"), func(f *fixture, m *Mutation) { m.IfCAS = f.expd.CAS }), ErrNotFound},

		{"rev match", with(m(OpUpsert, "live"), func(f *fixture, m *Mutation) { m.IfRev = f.live.RevID }), nil},
		{"rev match delete", with(m(OpDelete, "live"), func(f *fixture, m *Mutation) { m.IfRev = f.live.RevID }), nil},
		{"rev mismatch", with(m(OpUpsert, "live"), func(f *fixture, m *Mutation) { m.IfRev = "1-abc" }), ErrConflict},
		{"rev on missing", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.IfRev = "1-abc" }), ErrConflict},
		{"rev of tombstone", with(m(OpUpsert, "dead"), func(f *fixture, m *Mutation) { m.IfRev = f.dead.RevID }), nil},
		{"rev mismatch tombstone", with(m(OpUpsert, "dead"), func(f *fixture, m *Mutation) { m.IfRev = "1-abc" }), ErrConflict},
		{"rev of expired", with(m(OpUpsert, "expd"), func(f *fixture, m *Mutation) { m.IfRev = f.expd.RevID }), nil},
		{"rev ok but cas wrong", with(m(OpUpsert, "live"), func(f *fixture, m *Mutation) { m.IfRev = f.live.RevID; m.IfCAS = 3 }), ErrCASMismatch},

		{"require rev new", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.RequireRev = true }), nil},
		{"require rev live", with(m(OpUpsert, "live"), func(f *fixture, m *Mutation) { m.RequireRev = true }), ErrConflict},
		{"require rev tombstone", with(m(OpUpsert, "dead"), func(f *fixture, m *Mutation) { m.RequireRev = true }), nil},
		{"require rev expired", with(m(OpUpsert, "expd"), func(f *fixture, m *Mutation) { m.RequireRev = true }), nil},
		{"require rev with rev", with(m(OpUpsert, "live"), func(f *fixture, m *Mutation) { m.RequireRev = true; m.IfRev = f.live.RevID }), nil},

		{"empty key", m(OpUpsert, ""), ErrInvalid},
		{"long key", m(OpUpsert, strings.Repeat("k", MaxKeyLen+1)), ErrInvalid},
		{"max key", m(OpUpsert, strings.Repeat("k", MaxKeyLen)), nil},
		{"bad utf8 key", m(OpUpsert, "k\xff"), ErrInvalid},
		{"bad json", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Body = []byte(`{"v":`) }), ErrInvalid},
		{"nil json body", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Body = nil }), ErrInvalid},
		{"binary body", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Body = []byte{0, 0xff}; m.Datatype = DatatypeBinary }), nil},
		{"empty binary body", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Body = nil; m.Datatype = DatatypeBinary }), nil},
		{"unknown datatype", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Datatype = 9 }), ErrInvalid},
		{"unknown op", m(OpKind(42), "none"), ErrInvalid},
		{"system xattr", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Xattrs = map[string]json.RawMessage{"_sync": []byte(`1`)} }), ErrInvalid},
		{"bad xattr value", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Xattrs = map[string]json.RawMessage{"a": []byte(`{`)} }), ErrInvalid},
		{"long xattr name", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) {
			m.Xattrs = map[string]json.RawMessage{strings.Repeat("x", 17): []byte(`1`)}
		}), ErrInvalid},
		{"missing bucket", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Keyspace.Bucket = "zz" }), ErrBucketNotFound},
		{"missing scope", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Keyspace.Scope = "zz" }), ErrScopeNotFound},
		{"missing collection", with(m(OpUpsert, "none"), func(f *fixture, m *Mutation) { m.Keyspace.Collection = "zz" }), ErrCollectionNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			mut := c.mut(f)
			beforeHigh, _ := f.s.HighSeqnos("b")
			before, _ := f.s.Get(defKS, mut.Key)
			d, err := f.s.Apply(mut, sec(tNow))
			if c.want != nil {
				wantErr(t, err, c.want)
				if d != nil {
					t.Fatal("failed Apply returned a document")
				}
				afterHigh, _ := f.s.HighSeqnos("b")
				after, _ := f.s.Get(defKS, mut.Key)
				if !slices.Equal(beforeHigh, afterHigh) || before != after {
					t.Fatal("a failed precondition changed the store")
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			got, err := f.s.Get(mut.Keyspace, mut.Key)
			if err != nil || got != d {
				t.Fatalf("Get after Apply = %p, %v; want the returned %p", got, err, d)
			}
			if d.Deleted != (mut.Op == OpDelete) {
				t.Fatalf("Deleted = %v after op %d", d.Deleted, mut.Op)
			}
			if d.CAS <= f.expd.CAS || d.Seqno == 0 || d.VBucket != VBucketOf(mut.Key, 64) {
				t.Fatalf("new version cas=%d seqno=%d vb=%d", d.CAS, d.Seqno, d.VBucket)
			}
		})
	}
}

func TestApply_BodiesFlagsXattrs(t *testing.T) {
	f := newFixture(t)
	s := f.s
	// Replace without Xattrs keeps the user xattrs and sets body, flags, expiry.
	d := mustApply(t, s, Mutation{Keyspace: defKS, Key: "live", Op: OpReplace, Body: []byte(`{"v":2}`), Flags: 9, Expiry: 5000}, sec(tNow))
	if string(d.Body) != `{"v":2}` || d.Flags != 9 || d.Expiry != 5000 || string(d.Xattrs["meta"]) != `{"a":1}` {
		t.Fatalf("after replace: %+v", d)
	}
	// Upsert without expiry clears it; empty non-nil Xattrs clears xattrs.
	d = mustApply(t, s, Mutation{Keyspace: defKS, Key: "live", Op: OpUpsert, Body: []byte(`{"v":3}`), Xattrs: map[string]json.RawMessage{}}, sec(tNow))
	if d.Expiry != 0 || d.Xattrs != nil || d.Flags != 0 {
		t.Fatalf("after upsert: %+v", d)
	}
	// Xattrs replace the old ones.
	d = mustApply(t, s, Mutation{Keyspace: defKS, Key: "live", Op: OpUpsert, Body: []byte(`1`), Xattrs: map[string]json.RawMessage{"x": []byte(`"y"`)}}, sec(tNow))
	if len(d.Xattrs) != 1 || string(d.Xattrs["x"]) != `"y"` {
		t.Fatalf("xattrs = %v", d.Xattrs)
	}
	// Touch changes only expiry, CAS and seqno.
	tt := mustApply(t, s, Mutation{Keyspace: defKS, Key: "live", Op: OpTouch, Expiry: 777, Body: []byte(`ignored`), Flags: 1}, sec(tNow))
	if string(tt.Body) != `1` || tt.Expiry != 777 || tt.RevID != d.RevID || tt.ChangeSeq != d.ChangeSeq || tt.Flags != d.Flags ||
		tt.CAS <= d.CAS || tt.Seqno <= d.Seqno || len(tt.Xattrs) != 1 {
		t.Fatalf("touch: %+v from %+v", tt, d)
	}
	// Delete clears body, user xattrs, flags and expiry.
	del := mustApply(t, s, Mutation{Keyspace: defKS, Key: "live", Op: OpDelete, Origin: "fn1"}, sec(tNow))
	if del.Body != nil || del.Xattrs != nil || del.Expiry != 0 || del.Flags != 0 || !del.Deleted || del.Expired || del.Origin != "fn1" {
		t.Fatalf("tombstone: %+v", del)
	}
	// Recreating over a tombstone does not resurrect xattrs.
	re := mustApply(t, s, upsert(defKS, "live", `2`), sec(tNow))
	if re.Xattrs != nil || re.Origin != "" {
		t.Fatalf("recreated: %+v", re)
	}
	// An expired (not yet paged) document's xattrs are gone too.
	e := mustApply(t, s, upsert(defKS, "expd", `2`), sec(tNow))
	if e.Xattrs != nil {
		t.Fatalf("upsert over expired kept xattrs %v", e.Xattrs)
	}
	// The store copies the caller's body.
	buf := []byte(`{"k":"v"}`)
	d = mustApply(t, s, Mutation{Keyspace: defKS, Key: "copy", Op: OpUpsert, Body: buf}, 0)
	buf[2] = 'X'
	if string(d.Body) != `{"k":"v"}` {
		t.Fatalf("stored body aliases the caller's buffer: %s", d.Body)
	}
	// Binary bodies are kept byte for byte.
	bin := []byte{0, 1, 2, 0xff, '{'}
	d = mustApply(t, s, Mutation{Keyspace: defKS, Key: "bin", Op: OpUpsert, Body: bin, Datatype: DatatypeBinary}, 0)
	if !bytes.Equal(d.Body, bin) || d.Datatype != DatatypeBinary || d.Datatype.String() != "binary" {
		t.Fatalf("binary doc: %+v", d)
	}
}

var revRE = regexp.MustCompile(`^([0-9]+)-[0-9a-f]{32}$`)

func TestApply_Revisions(t *testing.T) {
	s := mustNewStore(t, 16)
	var revs []string
	step := func(m Mutation) *Document {
		t.Helper()
		d := mustApply(t, s, m, 0)
		mm := revRE.FindStringSubmatch(d.RevID)
		if mm == nil {
			t.Fatalf("rev %q is not generation-digest", d.RevID)
		}
		if want := fmt.Sprint(len(revs) + 1); mm[1] != want {
			t.Fatalf("rev %q: generation %s, want %s", d.RevID, mm[1], want)
		}
		if len(d.RevHistory) != min(len(revs), MaxRevHistory) {
			t.Fatalf("history length %d, want %d", len(d.RevHistory), min(len(revs), MaxRevHistory))
		}
		for i, h := range d.RevHistory {
			if h != revs[len(revs)-1-i] {
				t.Fatalf("history[%d] = %q, want %q", i, h, revs[len(revs)-1-i])
			}
		}
		revs = append(revs, d.RevID)
		return d
	}
	first := step(upsert(defKS, "k", `{"a":1}`))
	if first.RevHistory != nil {
		t.Fatalf("first revision has history %v", first.RevHistory)
	}
	step(upsert(defKS, "k", `{"a":2}`))
	step(Mutation{Keyspace: defKS, Key: "k", Op: OpDelete})
	step(upsert(defKS, "k", `{"a":3}`)) // recreate continues the generation
	for i := range 25 {
		step(upsert(defKS, "k", fmt.Sprintf(`{"a":%d}`, i)))
	}
	if len(revs) != 29 {
		t.Fatalf("%d revisions", len(revs))
	}
	// The digest is deterministic: the same history gives the same revisions
	// in another store, and differs with the body or the deleted flag.
	s2 := mustNewStore(t, 16)
	a := mustApply(t, s2, upsert(defKS, "k", `{"a":1}`), 0)
	if a.RevID != revs[0] {
		t.Fatalf("revision not deterministic: %q vs %q", a.RevID, revs[0])
	}
	b := mustApply(t, s2, upsert(defKS, "x", `{"a":2}`), 0)
	if b.RevID == a.RevID {
		t.Fatal("different bodies gave the same revision")
	}
	c := mustApply(t, s2, upsert(defKS, "k", `{"a":2}`), 0)
	c2 := mustApply(t, s2, upsert(defKS, "x", `{"a":2}`), 0)
	if c.RevID == c2.RevID {
		t.Fatal("different parents gave the same revision")
	}
}

func TestApply_CASAndSeqnos(t *testing.T) {
	s := mustNewStore(t, 4)
	c1 := Keyspace{"b", "s1", "c1"}
	c2 := Keyspace{"b", "s1", "c2"}
	var last uint64
	highs := make([]uint64, 4)
	changeSeqs := map[Keyspace]uint64{}
	for i := range 200 {
		ks := []Keyspace{defKS, c1, c2}[i%3]
		// Proposer clocks may go backwards: CAS still increases.
		cas := []uint64{1000, 500, 0, 1000000}[i%4] + uint64(i)
		d := mustApply(t, s, upsert(ks, fmt.Sprintf("key-%d", i%40), `{}`), cas)
		if d.CAS <= last || d.CAS < cas {
			t.Fatalf("mutation %d: cas %d after %d (argument %d)", i, d.CAS, last, cas)
		}
		last = d.CAS
		highs[d.VBucket]++
		if d.Seqno != highs[d.VBucket] {
			t.Fatalf("mutation %d: seqno %d in vb %d, want %d (shared by all collections)", i, d.Seqno, d.VBucket, highs[d.VBucket])
		}
		changeSeqs[ks]++
		if d.ChangeSeq != changeSeqs[ks] {
			t.Fatalf("mutation %d: change seq %d in %s, want %d", i, d.ChangeSeq, ks, changeSeqs[ks])
		}
	}
	got, err := s.HighSeqnos("b")
	if err != nil || !slices.Equal(got, highs) {
		t.Fatalf("HighSeqnos = %v, %v; want %v", got, err, highs)
	}
	// A failed mutation consumes neither CAS nor seqno.
	_, err = s.Apply(Mutation{Keyspace: defKS, Key: "nope", Op: OpReplace, Body: []byte(`1`)}, 0)
	wantErr(t, err, ErrNotFound)
	d := mustApply(t, s, upsert(defKS, "next", `1`), 0)
	if d.CAS != last+1 || d.Seqno != highs[d.VBucket]+1 {
		t.Fatalf("after a failure: cas %d seqno %d", d.CAS, d.Seqno)
	}
	_, err = s.HighSeqnos("zz")
	wantErr(t, err, ErrBucketNotFound)
}

func TestApply_ExpiryUsesCASClock(t *testing.T) {
	s := mustNewStore(t, 16)
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "k", Op: OpUpsert, Body: []byte(`1`), Expiry: 100}, sec(50))
	// Before expiry the document is live for every precondition.
	_, err := s.Apply(Mutation{Keyspace: defKS, Key: "k", Op: OpInsert, Body: []byte(`1`)}, sec(99))
	wantErr(t, err, ErrExists)
	// At its expiry second it is absent, even though the pager has not run.
	_, err = s.Apply(Mutation{Keyspace: defKS, Key: "k", Op: OpReplace, Body: []byte(`1`)}, sec(100))
	wantErr(t, err, ErrNotFound)
	d := mustApply(t, s, Mutation{Keyspace: defKS, Key: "k", Op: OpInsert, Body: []byte(`2`)}, sec(100))
	if revGeneration(d.RevID) != 2 || d.Expiry != 0 {
		t.Fatalf("insert over expired: %+v", d)
	}
}

func TestApplyAll_AllOrNothing(t *testing.T) {
	s := mustNewStore(t, 8)
	c1 := Keyspace{"b", "s1", "c1"}
	base := mustApply(t, s, upsert(defKS, "a", `1`), 0)
	highsBefore, _ := s.HighSeqnos("b")

	ms := []Mutation{
		upsert(defKS, "a", `2`),
		{Keyspace: defKS, Key: "a", Op: OpReplace, Body: []byte(`3`)},
		{Keyspace: c1, Key: "new", Op: OpInsert, Body: []byte(`1`)},
		{Keyspace: c1, Key: "new", Op: OpInsert, Body: []byte(`2`)}, // exists because of index 2
		upsert(defKS, "z", `1`),
	}
	_, err := s.ApplyAll(ms, 0)
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 3 || !errors.Is(err, ErrExists) {
		t.Fatalf("ApplyAll error = %v, want BatchError index 3 wrapping ErrExists", err)
	}
	if !strings.Contains(err.Error(), "mutation 3") {
		t.Fatalf("error text %q does not name the index", err)
	}
	if got, _ := s.Get(defKS, "a"); got != base {
		t.Fatal("a failed batch changed document a")
	}
	if _, err := s.Get(c1, "new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed batch created a document: %v", err)
	}
	if h, _ := s.HighSeqnos("b"); !slices.Equal(h, highsBefore) {
		t.Fatal("a failed batch moved seqnos")
	}

	// Preconditions see earlier mutations of the batch: CAS and rev chains.
	ms = []Mutation{
		upsert(defKS, "a", `2`),
		{Keyspace: defKS, Key: "a", Op: OpReplace, Body: []byte(`3`)},
		{Keyspace: defKS, Key: "a", Op: OpDelete},
		{Keyspace: defKS, Key: "a", Op: OpInsert, Body: []byte(`4`)},
		{Keyspace: c1, Key: "new", Op: OpInsert, Body: []byte(`1`), RequireRev: true},
		{Keyspace: c1, Key: "new", Op: OpTouch, Expiry: 99},
		upsert(c1, "other", `1`),
	}
	docs, err := s.ApplyAll(ms, 500)
	if err != nil {
		t.Fatalf("ApplyAll: %v", err)
	}
	if len(docs) != len(ms) {
		t.Fatalf("%d docs for %d mutations", len(docs), len(ms))
	}
	for i := 1; i < len(docs); i++ {
		if docs[i].CAS <= docs[i-1].CAS {
			t.Fatalf("cas not increasing within batch: %d then %d", docs[i-1].CAS, docs[i].CAS)
		}
	}
	if docs[0].CAS != 500 {
		t.Fatalf("first cas = %d, want the argument 500", docs[0].CAS)
	}
	for i := 1; i < 4; i++ {
		if docs[i].Seqno != docs[i-1].Seqno+1 || docs[i].RevHistory[0] != docs[i-1].RevID {
			t.Fatalf("doc %d does not follow doc %d: %+v", i, i-1, docs[i])
		}
	}
	if docs[5].ChangeSeq != docs[4].ChangeSeq || docs[6].ChangeSeq != docs[4].ChangeSeq+1 {
		t.Fatalf("change seqs %d %d %d", docs[4].ChangeSeq, docs[5].ChangeSeq, docs[6].ChangeSeq)
	}
	if got, _ := s.Get(defKS, "a"); got != docs[3] || string(got.Body) != `4` || revGeneration(got.RevID) != 5 {
		t.Fatalf("final a = %+v", got)
	}
	bi, _ := s.Bucket("b")
	if bi.ItemCount != 3 {
		t.Fatalf("item count = %d, want 3", bi.ItemCount)
	}
	// ReadVBucket shows each key once, at its final version.
	evs, _ := s.ReadVBucket("b", docs[3].VBucket, 0, 0)
	n := 0
	for _, ev := range evs {
		if ev.Doc.Key == "a" && ev.Keyspace == defKS {
			n++
			if ev.Doc != docs[3] {
				t.Fatal("stream shows a stale version of a")
			}
		}
	}
	if n != 1 {
		t.Fatalf("key a appears %d times in its vbucket", n)
	}

	if docs, err := s.ApplyAll(nil, 0); docs != nil || err != nil {
		t.Fatalf("empty batch = %v, %v", docs, err)
	}
	_, err = s.ApplyAll([]Mutation{{Keyspace: defKS, Key: "zz", Op: OpDelete}}, 0)
	if !errors.As(err, &be) || be.Index != 0 || !errors.Is(err, ErrNotFound) {
		t.Fatalf("single-mutation batch error = %v", err)
	}
	_, err = s.ApplyAll([]Mutation{upsert(defKS, "ok", `1`), upsert(Keyspace{"b", "s1", "nope"}, "k", `1`)}, 0)
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, ErrCollectionNotFound) {
		t.Fatalf("keyspace error in batch = %v", err)
	}
}

func TestExpireDue(t *testing.T) {
	s := mustNewStore(t, 16)
	c1 := Keyspace{"b", "s1", "c1"}
	for i, ks := range []Keyspace{c1, defKS} {
		for _, k := range []string{"z", "a", "m"} {
			mustApply(t, s, Mutation{Keyspace: ks, Key: k, Op: OpUpsert, Body: []byte(`1`), Expiry: 100,
				Xattrs: map[string]json.RawMessage{"x": []byte(`1`)}}, sec(10))
		}
		mustApply(t, s, Mutation{Keyspace: ks, Key: "later", Op: OpUpsert, Body: []byte(`1`), Expiry: 200}, sec(10))
		mustApply(t, s, Mutation{Keyspace: ks, Key: "never", Op: OpUpsert, Body: []byte(`1`)}, sec(10))
		mustApply(t, s, Mutation{Keyspace: ks, Key: "early", Op: OpUpsert, Body: []byte(`1`), Expiry: 50 + uint32(i)}, sec(10))
		// A document whose expiry was removed or that was deleted is not expired.
		mustApply(t, s, Mutation{Keyspace: ks, Key: "cleared", Op: OpUpsert, Body: []byte(`1`), Expiry: 60}, sec(10))
		mustApply(t, s, Mutation{Keyspace: ks, Key: "cleared", Op: OpTouch}, sec(10))
		mustApply(t, s, Mutation{Keyspace: ks, Key: "gone", Op: OpUpsert, Body: []byte(`1`), Expiry: 60}, sec(10))
		mustApply(t, s, Mutation{Keyspace: ks, Key: "gone", Op: OpDelete}, sec(10))
	}
	docs, _ := s.AllDocs(defKS, 99, AllDocsOptions{})
	if len(docs) != 6 {
		t.Fatalf("AllDocs at 99 = %d docs, want 6", len(docs))
	}
	docs, _ = s.AllDocs(defKS, 100, AllDocsOptions{})
	if len(docs) != 3 { // later, never, cleared: expired-but-unpaged are not live
		t.Fatalf("AllDocs at 100 = %d docs, want 3", len(docs))
	}
	if s.HasExpired(49) || !s.HasExpired(50) || !s.HasExpired(100) {
		t.Fatal("HasExpired disagrees with the expiries")
	}
	if n := s.ExpireDue(49, sec(49)); n != 0 {
		t.Fatalf("ExpireDue(49) = %d", n)
	}
	_, before, _ := s.Changes(defKS, 0, 0)
	if n := s.ExpireDue(100, sec(100)); n != 8 {
		t.Fatalf("ExpireDue(100) = %d, want 8", n)
	}
	if n := s.ExpireDue(100, sec(100)); n != 0 {
		t.Fatalf("second ExpireDue(100) = %d, want 0", n)
	}
	if s.HasExpired(199) || !s.HasExpired(200) {
		t.Fatal("HasExpired after expiry disagrees")
	}
	d, err := s.Get(defKS, "a")
	if err != nil || !d.Deleted || !d.Expired || d.Body != nil || d.Xattrs != nil || revGeneration(d.RevID) != 2 || d.ChangeSeq <= before {
		t.Fatalf("expired doc = %+v, %v", d, err)
	}
	// Deterministic order: by expiry, then keyspace, then key (CAS order).
	var expired []*Event
	for vb := range uint16(16) {
		evs, _ := s.ReadVBucket("b", vb, 0, 0)
		for i := range evs {
			if evs[i].Kind == EventExpiration {
				expired = append(expired, &evs[i])
			}
		}
	}
	slices.SortFunc(expired, func(a, b *Event) int { return cmp.Compare(a.Doc.CAS, b.Doc.CAS) })
	var keys []string
	for _, ev := range expired {
		keys = append(keys, ev.Keyspace.String()+"|"+ev.Doc.Key)
	}
	want := []string{"b.s1.c1|early", "b._default._default|early", "b._default._default|a", "b._default._default|m", "b._default._default|z", "b.s1.c1|a", "b.s1.c1|m", "b.s1.c1|z"}
	if !slices.Equal(keys, want) {
		t.Fatalf("expiry order\n got %v\nwant %v", keys, want)
	}
	bi, _ := s.Bucket("b")
	if bi.ItemCount != 6 {
		t.Fatalf("item count after expiry = %d, want 6", bi.ItemCount)
	}
	if n := s.ExpireDue(1<<32-1, sec(300)); n != 2 {
		t.Fatalf("ExpireDue(max) = %d, want 2", n)
	}
}

// PreserveExpiry keeps a live document's expiry and otherwise takes the
// mutation's, so a preserve-TTL write to an absent or expired key behaves
// like a plain one.
func TestApply_PreserveExpiry(t *testing.T) {
	s := mustNewStore(t, 16)
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "k", Op: OpUpsert, Body: []byte(`1`), Expiry: 100}, sec(10))
	d := mustApply(t, s, Mutation{Keyspace: defKS, Key: "k", Op: OpUpsert, Body: []byte(`2`), Expiry: 500, PreserveExpiry: true}, sec(20))
	if d.Expiry != 100 || string(d.Body) != "2" {
		t.Fatalf("preserving upsert: expiry %d body %s, want 100 and 2", d.Expiry, d.Body)
	}
	d = mustApply(t, s, Mutation{Keyspace: defKS, Key: "k", Op: OpUpsert, Body: []byte(`3`), Expiry: 500}, sec(30))
	if d.Expiry != 500 {
		t.Fatalf("plain upsert: expiry %d, want 500", d.Expiry)
	}
	d = mustApply(t, s, Mutation{Keyspace: defKS, Key: "new", Op: OpUpsert, Body: []byte(`1`), Expiry: 700, PreserveExpiry: true}, sec(40))
	if d.Expiry != 700 {
		t.Fatalf("preserving upsert of a new key: expiry %d, want 700", d.Expiry)
	}
	// At its expiry second the old version is gone: nothing to preserve.
	d = mustApply(t, s, Mutation{Keyspace: defKS, Key: "k", Op: OpUpsert, Body: []byte(`4`), Expiry: 900, PreserveExpiry: true}, sec(500))
	if d.Expiry != 900 {
		t.Fatalf("preserving upsert over an expired version: expiry %d, want 900", d.Expiry)
	}
}
