package docstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// errTestDef is what testCompiler returns for a definition it rejects.
var errTestDef = errors.New("test compiler: bad definition")

// testCompiler compiles a definition that names a JSON field: the key is
// the field's string value (a document without a string there is not in
// the index). "[]field" indexes each string element of an array field;
// "panic" makes a key function that panics; "bad" does not compile.
func testCompiler(_ Keyspace, def []byte) (IndexKeys, error) {
	d := string(def)
	switch {
	case d == "bad" || d == "":
		return nil, errTestDef
	case d == "panic":
		return func(*Document) [][]byte { panic("boom") }, nil
	case strings.HasPrefix(d, "[]"):
		field := d[2:]
		return func(doc *Document) [][]byte {
			var m map[string]json.RawMessage
			var arr []string
			if json.Unmarshal(doc.Body, &m) != nil || json.Unmarshal(m[field], &arr) != nil {
				return nil
			}
			keys := make([][]byte, len(arr))
			for i, s := range arr {
				keys[i] = []byte(s)
			}
			return keys
		}, nil
	}
	return func(doc *Document) [][]byte {
		var m map[string]json.RawMessage
		var v string
		if json.Unmarshal(doc.Body, &m) != nil || json.Unmarshal(m[d], &v) != nil {
			return nil
		}
		return [][]byte{[]byte(v)}
	}, nil
}

func mustIndexStore(t testing.TB) *Store {
	t.Helper()
	s := mustNewStore(t, 16)
	s.SetIndexCompiler(testCompiler)
	return s
}

func mustCreateIndex(t testing.TB, s *Store, ks Keyspace, name, def string, primary bool) {
	t.Helper()
	if err := s.CreateIndex(ks, name, []byte(def), primary); err != nil {
		t.Fatalf("CreateIndex %s: %v", name, err)
	}
}

// entry is one scanned (key, document key) pair.
type entry struct{ Key, Doc string }

func scanAll(t testing.TB, s *Store, ks Keyspace, name string, r ScanRange, opts ScanOptions) []entry {
	t.Helper()
	out := []entry{}
	if err := s.ScanIndex(ks, name, r, opts, func(k []byte, doc string) bool {
		out = append(out, entry{string(k), doc})
		return true
	}); err != nil {
		t.Fatalf("ScanIndex %s: %v", name, err)
	}
	return out
}

func wantEntries(t testing.TB, got []entry, want ...entry) {
	t.Helper()
	if want == nil {
		want = []entry{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries\n got  %v\n want %v", got, want)
	}
}

func TestIndex_FollowsPutsDeletesAndExpiry(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "by_city", "city", false)
	all := ScanRange{}
	mustApply(t, s, upsert(defKS, "a", `{"city":"Oslo"}`), sec(10))
	mustApply(t, s, upsert(defKS, "b", `{"city":"Bergen"}`), sec(10))
	mustApply(t, s, upsert(defKS, "c", `{"name":"no city"}`), sec(10))
	wantEntries(t, scanAll(t, s, defKS, "by_city", all, ScanOptions{}), entry{"Bergen", "b"}, entry{"Oslo", "a"})

	// A changed key moves; a change elsewhere in the body keeps it.
	mustApply(t, s, upsert(defKS, "a", `{"city":"Alta"}`), sec(11))
	mustApply(t, s, upsert(defKS, "b", `{"city":"Bergen","n":2}`), sec(11))
	mustApply(t, s, upsert(defKS, "c", `{"city":"Bergen"}`), sec(11))
	wantEntries(t, scanAll(t, s, defKS, "by_city", all, ScanOptions{}), entry{"Alta", "a"}, entry{"Bergen", "b"}, entry{"Bergen", "c"})

	// A delete leaves the index; a re-created document comes back.
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "b", Op: OpDelete}, sec(12))
	wantEntries(t, scanAll(t, s, defKS, "by_city", all, ScanOptions{}), entry{"Alta", "a"}, entry{"Bergen", "c"})
	mustApply(t, s, upsert(defKS, "b", `{"city":"Bodø"}`), sec(12))

	// Expiry: a touched document is skipped by scans with Now past its
	// expiry, and leaves the index when the pager expires it.
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "a", Op: OpTouch, Expiry: 100}, sec(13))
	wantEntries(t, scanAll(t, s, defKS, "by_city", all, ScanOptions{Now: 99}), entry{"Alta", "a"}, entry{"Bergen", "c"}, entry{"Bodø", "b"})
	wantEntries(t, scanAll(t, s, defKS, "by_city", all, ScanOptions{Now: 100}), entry{"Bergen", "c"}, entry{"Bodø", "b"})
	v, err := s.Index(defKS, "by_city")
	if err != nil {
		t.Fatal(err)
	}
	if n := v.Count(all, 100); n != 2 {
		t.Fatalf("Count at 100 = %d, want 2", n)
	}
	if n := s.ExpireDue(100, sec(100)); n != 1 {
		t.Fatalf("ExpireDue = %d", n)
	}
	wantEntries(t, scanAll(t, s, defKS, "by_city", all, ScanOptions{}), entry{"Bergen", "c"}, entry{"Bodø", "b"})
	checkIndexes(t, s)

	// Indexes of other collections are untouched.
	mustCreateIndex(t, s, Keyspace{"b", "s1", "c1"}, "by_city", "city", false)
	wantEntries(t, scanAll(t, s, Keyspace{"b", "s1", "c1"}, "by_city", all, ScanOptions{}))
}

func TestIndex_CreateBuildsFromLiveDocuments(t *testing.T) {
	s := mustIndexStore(t)
	mustApply(t, s, upsert(defKS, "x", `{"t":"1"}`), sec(10))
	mustApply(t, s, upsert(defKS, "y", `{"t":"2"}`), sec(10))
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "y", Op: OpDelete}, sec(10))
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "bin", Op: OpUpsert, Body: []byte{1, 2}, Datatype: DatatypeBinary}, sec(10))
	mustCreateIndex(t, s, defKS, "by_t", "t", false)
	mustCreateIndex(t, s, defKS, "#primary", "", true)
	wantEntries(t, scanAll(t, s, defKS, "by_t", ScanRange{}, ScanOptions{}), entry{"1", "x"})
	// The primary index holds every live key, binary documents included.
	wantEntries(t, scanAll(t, s, defKS, "#primary", ScanRange{}, ScanOptions{}), entry{"bin", "bin"}, entry{"x", "x"})
	infos, err := s.Indexes(defKS)
	if err != nil {
		t.Fatal(err)
	}
	want := []IndexInfo{
		{Keyspace: defKS, Name: "#primary", Primary: true, State: IndexOnline, Entries: 2},
		{Keyspace: defKS, Name: "by_t", Definition: []byte("t"), State: IndexOnline, Entries: 1},
	}
	if !reflect.DeepEqual(infos, want) {
		t.Fatalf("Indexes = %+v\nwant %+v", infos, want)
	}
	if all := s.AllIndexes(); !reflect.DeepEqual(all, want) {
		t.Fatalf("AllIndexes = %+v", all)
	}
}

func TestIndex_ArrayKeys(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "tags", "[]tags", false)
	mustApply(t, s, upsert(defKS, "p", `{"tags":["red","blue","red"]}`), sec(10))
	mustApply(t, s, upsert(defKS, "q", `{"tags":["blue"]}`), sec(10))
	mustApply(t, s, upsert(defKS, "r", `{"tags":[]}`), sec(10))
	wantEntries(t, scanAll(t, s, defKS, "tags", ScanRange{}, ScanOptions{}),
		entry{"blue", "p"}, entry{"blue", "q"}, entry{"red", "p"})
	mustApply(t, s, upsert(defKS, "p", `{"tags":["green"]}`), sec(11))
	wantEntries(t, scanAll(t, s, defKS, "tags", ScanRange{}, ScanOptions{}),
		entry{"blue", "q"}, entry{"green", "p"})
	checkIndexes(t, s)
}

// TestIndex_EntriesDoNotCollide: keys and document keys are compared
// separately, so pairs whose concatenations are equal stay apart and keep
// key order first.
func TestIndex_EntriesDoNotCollide(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "f", "f", false)
	mustApply(t, s, upsert(defKS, "bc", `{"f":"a"}`), sec(10))
	mustApply(t, s, upsert(defKS, "c", `{"f":"ab"}`), sec(10))
	mustApply(t, s, upsert(defKS, "a", `{"f":"a\u0000b"}`), sec(10))
	wantEntries(t, scanAll(t, s, defKS, "f", ScanRange{}, ScanOptions{}),
		entry{"a", "bc"}, entry{"a\x00b", "a"}, entry{"ab", "c"})
	wantEntries(t, scanAll(t, s, defKS, "f", ScanRange{Low: []byte("a"), High: []byte("a"), LowInclusive: true, HighInclusive: true}, ScanOptions{}),
		entry{"a", "bc"})
}

func TestIndex_ScanRangesAndOrder(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "k", "k", false)
	// Keys b, d, f with two documents each, plus c.
	var all []entry
	for _, k := range []string{"b", "d", "f"} {
		for _, doc := range []string{"1", "2"} {
			mustApply(t, s, upsert(defKS, k+doc, fmt.Sprintf(`{"k":%q}`, k)), sec(10))
			all = append(all, entry{k, k + doc})
		}
	}
	mustApply(t, s, upsert(defKS, "c1", `{"k":"c"}`), sec(10))
	all = slices.Insert(all, 2, entry{"c", "c1"})

	b := func(s string) []byte { return []byte(s) }
	cases := []struct {
		name string
		r    ScanRange
	}{
		{"unbounded", ScanRange{}},
		{"low inclusive", ScanRange{Low: b("d"), LowInclusive: true}},
		{"low exclusive", ScanRange{Low: b("d")}},
		{"high inclusive", ScanRange{High: b("d"), HighInclusive: true}},
		{"high exclusive", ScanRange{High: b("d")}},
		{"both inclusive", ScanRange{Low: b("c"), High: b("d"), LowInclusive: true, HighInclusive: true}},
		{"both exclusive", ScanRange{Low: b("b"), High: b("f")}},
		{"point", ScanRange{Low: b("d"), High: b("d"), LowInclusive: true, HighInclusive: true}},
		{"point exclusive is empty", ScanRange{Low: b("d"), High: b("d"), LowInclusive: true}},
		{"between keys", ScanRange{Low: b("bb"), High: b("e"), LowInclusive: true, HighInclusive: true}},
		{"no such key", ScanRange{Low: b("e"), High: b("e"), LowInclusive: true, HighInclusive: true}},
		{"inverted", ScanRange{Low: b("f"), High: b("b"), LowInclusive: true, HighInclusive: true}},
		{"empty low bound", ScanRange{Low: b(""), LowInclusive: true}},
		{"empty high bound", ScanRange{High: b("")}},
	}
	in := func(r ScanRange, e entry) bool {
		k := []byte(e.Key)
		if r.Low != nil {
			if c := bytes.Compare(k, r.Low); c < 0 || c == 0 && !r.LowInclusive {
				return false
			}
		}
		if r.High != nil {
			if c := bytes.Compare(k, r.High); c > 0 || c == 0 && !r.HighInclusive {
				return false
			}
		}
		return true
	}
	for _, tc := range cases {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{0, 1, 3} {
				t.Run(fmt.Sprintf("%s/desc=%v/limit=%d", tc.name, desc, limit), func(t *testing.T) {
					want := []entry{}
					for _, e := range all {
						if in(tc.r, e) {
							want = append(want, e)
						}
					}
					if desc {
						slices.Reverse(want)
					}
					if limit > 0 && len(want) > limit {
						want = want[:limit]
					}
					wantEntries(t, scanAll(t, s, defKS, "k", tc.r, ScanOptions{Descending: desc, Limit: limit}), want...)
					if limit == 0 && !desc {
						v, _ := s.Index(defKS, "k")
						if n := v.Count(tc.r, 0); n != len(want) {
							t.Fatalf("Count = %d, want %d", n, len(want))
						}
					}
				})
			}
		}
	}
	// The iterator form, stopped early by its consumer.
	v, _ := s.Index(defKS, "k")
	var got []entry
	for k, doc := range v.Entries(ScanRange{}, ScanOptions{Descending: true}) {
		got = append(got, entry{string(k), doc})
		if len(got) == 2 {
			break
		}
	}
	wantEntries(t, got, entry{"f", "f2"}, entry{"f", "f1"})
}

func TestIndex_ViewIsPointInTime(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "k", "k", false)
	mustApply(t, s, upsert(defKS, "a", `{"k":"1"}`), sec(10))
	v, err := s.Index(defKS, "k")
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := s.Index(defKS, "k") // no write between: shares the view
	mustApply(t, s, upsert(defKS, "a", `{"k":"2"}`), sec(11))
	mustApply(t, s, upsert(defKS, "b", `{"k":"3"}`), sec(11))
	if err := s.DropIndex(defKS, "k"); err != nil {
		t.Fatal(err)
	}
	for _, view := range []*IndexView{v, v2} {
		var got []entry
		view.Scan(ScanRange{}, ScanOptions{}, func(k []byte, doc string) bool { got = append(got, entry{string(k), doc}); return true })
		wantEntries(t, got, entry{"1", "a"})
		if info := view.Info(); info.Name != "k" || info.Entries != 1 {
			t.Fatalf("Info = %+v", info)
		}
	}
	_, err = s.Index(defKS, "k")
	wantErr(t, err, ErrIndexNotFound)
}

func TestIndex_Errors(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "i", "f", false)
	cases := []struct {
		name    string
		ks      Keyspace
		ix, def string
		primary bool
		want    error
	}{
		{"duplicate", defKS, "i", "g", false, ErrExists},
		{"duplicate primary", defKS, "i", "", true, ErrExists},
		{"no bucket", Keyspace{"nope", "_default", "_default"}, "j", "f", false, ErrBucketNotFound},
		{"no scope", Keyspace{"b", "nope", "c"}, "j", "f", false, ErrScopeNotFound},
		{"no collection", Keyspace{"b", "s1", "nope"}, "j", "f", false, ErrCollectionNotFound},
		{"bad definition", defKS, "j", "bad", false, errTestDef},
		{"bad definition is invalid", defKS, "j", "bad", false, ErrInvalid},
		{"empty name", defKS, "", "f", false, ErrInvalid},
		{"control character", defKS, "a\nb", "f", false, ErrInvalid},
		{"long name", defKS, strings.Repeat("x", MaxIndexNameLen+1), "f", false, ErrInvalid},
		{"long definition", defKS, "j", strings.Repeat("x", MaxIndexDefLen+1), false, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, s.CreateIndex(tc.ks, tc.ix, []byte(tc.def), tc.primary), tc.want)
			if tc.want != ErrExists && tc.ks == defKS {
				wantErr(t, s.CompileIndex(tc.ks, tc.ix, []byte(tc.def), tc.primary), tc.want)
			}
		})
	}
	if infos, _ := s.Indexes(defKS); len(infos) != 1 || string(infos[0].Definition) != "f" {
		t.Fatalf("a failed create changed the indexes: %+v", infos)
	}
	wantErr(t, s.DropIndex(defKS, "nope"), ErrIndexNotFound)
	wantErr(t, s.DropIndex(Keyspace{"b", "s1", "nope"}, "i"), ErrCollectionNotFound)
	_, err := s.Index(defKS, "nope")
	wantErr(t, err, ErrIndexNotFound)

	// Without a compiler only primary indexes can be created.
	bare := mustNewStore(t, 16)
	wantErr(t, bare.CreateIndex(defKS, "i", []byte("f"), false), ErrInvalid)
	if err := bare.CreateIndex(defKS, "#primary", nil, true); err != nil {
		t.Fatal(err)
	}
}

// TestIndex_PanickingKeyFunctionIndexesNothing: a key function that panics
// cannot take the FSM down; its documents are simply not in the index.
func TestIndex_PanickingKeyFunctionIndexesNothing(t *testing.T) {
	s := mustIndexStore(t)
	mustApply(t, s, upsert(defKS, "a", `{}`), sec(10))
	mustCreateIndex(t, s, defKS, "p", "panic", false)
	mustApply(t, s, upsert(defKS, "b", `{}`), sec(10))
	wantEntries(t, scanAll(t, s, defKS, "p", ScanRange{}, ScanOptions{}))
	panicky := func(Keyspace, []byte) (IndexKeys, error) { panic("compiler boom") }
	s.SetIndexCompiler(panicky)
	wantErr(t, s.CreateIndex(defKS, "q", []byte("x"), false), ErrInvalid)
}

func TestIndex_DroppedWithKeyspace(t *testing.T) {
	s := mustIndexStore(t)
	c1 := Keyspace{"b", "s1", "c1"}
	mustCreateIndex(t, s, c1, "i", "f", false)
	mustApply(t, s, upsert(c1, "a", `{"f":"x"}`), sec(10))
	if err := s.DeleteCollection(c1); err != nil {
		t.Fatal(err)
	}
	_, err := s.Indexes(c1)
	wantErr(t, err, ErrCollectionNotFound)
	if err := s.CreateCollection(c1); err != nil {
		t.Fatal(err)
	}
	if infos, _ := s.Indexes(c1); len(infos) != 0 {
		t.Fatalf("a re-created collection has indexes %+v", infos)
	}
	mustCreateIndex(t, s, c1, "i", "f", false)
	if err := s.DeleteScope("b", "s1"); err != nil {
		t.Fatal(err)
	}
	mustCreateIndex(t, s, defKS, "d", "f", false)
	if err := s.DeleteBucket("b"); err != nil {
		t.Fatal(err)
	}
	if all := s.AllIndexes(); len(all) != 0 {
		t.Fatalf("indexes left after dropping their bucket: %+v", all)
	}
}

// indexDump is every index's info and entries, for comparing stores.
func indexDump(t testing.TB, s *Store) map[string][]entry {
	t.Helper()
	out := map[string][]entry{}
	for _, in := range s.AllIndexes() {
		id := in.Keyspace.String() + "/" + in.Name + "/" + in.State
		if in.State != IndexOnline {
			out[id] = nil
			continue
		}
		out[id] = scanAll(t, s, in.Keyspace, in.Name, ScanRange{}, ScanOptions{})
	}
	return out
}

func TestIndex_SnapshotRoundTripRebuilds(t *testing.T) {
	s := mustIndexStore(t)
	populate(t, s)
	c1 := Keyspace{"b", "s1", "c1"}
	mustCreateIndex(t, s, defKS, "#primary", "", true)
	mustCreateIndex(t, s, defKS, "by_i", "i", false) // numbers: nothing indexed
	for i := range 20 {
		mustApply(t, s, upsert(c1, fmt.Sprintf("t%02d", i), fmt.Sprintf(`{"tags":["t%d","all"],"name":"n%d"}`, i%3, i)), sec(30))
	}
	mustCreateIndex(t, s, c1, "tags", "[]tags", false)
	mustCreateIndex(t, s, c1, "name", "name", false)
	mustCreateIndex(t, s, c1, "#primary", "WITH {}", true)
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	want := indexDump(t, s)
	wantInfos := s.AllIndexes()

	r := NewStore(16)
	r.SetIndexCompiler(testCompiler)
	if err := r.RestoreSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("RestoreSnapshot: %v", err)
	}
	if got := indexDump(t, r); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored indexes\n got  %v\n want %v", got, want)
	}
	if got := r.AllIndexes(); !reflect.DeepEqual(got, wantInfos) {
		t.Fatalf("restored index infos\n got  %+v\n want %+v", got, wantInfos)
	}
	checkIndexes(t, r)
	// The restored indexes follow later writes.
	mustApply(t, r, upsert(c1, "t00", `{"name":"renamed"}`), sec(40))
	wantEntries(t, scanAll(t, r, c1, "name", ScanRange{Low: []byte("r"), LowInclusive: true}, ScanOptions{}), entry{"renamed", "t00"})

	// A store whose compiler rejects the definitions restores them offline
	// (primary indexes need none), and can drop them.
	bare := NewStore(16)
	if err := bare.RestoreSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("RestoreSnapshot without compiler: %v", err)
	}
	infos, _ := bare.Indexes(c1)
	if len(infos) != 3 || infos[0].State != IndexOnline || infos[1].State != IndexOffline || infos[1].Error == "" || infos[2].State != IndexOffline {
		t.Fatalf("infos without compiler: %+v", infos)
	}
	_, err := bare.Index(c1, "tags")
	wantErr(t, err, ErrIndexOffline)
	if err := bare.DropIndex(c1, "tags"); err != nil {
		t.Fatal(err)
	}
	// Its snapshot still carries the offline definitions unchanged.
	var again bytes.Buffer
	if err := bare.WriteSnapshot(&again); err != nil {
		t.Fatal(err)
	}
	r2 := NewStore(16)
	r2.SetIndexCompiler(testCompiler)
	if err := r2.RestoreSnapshot(&again); err != nil {
		t.Fatal(err)
	}
	if got, _ := r2.Indexes(c1); len(got) != 2 || got[1].Name != "name" || got[1].State != IndexOnline || got[1].Entries != 20 {
		t.Fatalf("after a round trip through an offline store: %+v", got)
	}
}

// TestSnapshot_ReadsVersion1: a snapshot of the previous format (no index
// counts, no index records) restores with no indexes.
func TestSnapshot_ReadsVersion1(t *testing.T) {
	s := mustNewStore(t, 16)
	populate(t, s)
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	v1 := append([]byte(snapMagic), snapVersionNoIndexes)
	for _, r := range splitRecords(t, buf.Bytes()) {
		if r.tag == tagCollection {
			if r.payload[len(r.payload)-1] != 0 {
				t.Fatal("collection record does not end with a zero index count")
			}
			r.payload = r.payload[:len(r.payload)-1]
		}
		v1 = append(v1, r.tag)
		v1 = binary.AppendUvarint(v1, uint64(len(r.payload)))
		v1 = append(v1, r.payload...)
		v1 = binary.LittleEndian.AppendUint32(v1, crc32.Update(crc32.Update(0, castagnoli, []byte{r.tag}), castagnoli, r.payload))
	}
	r := NewStore(16)
	if err := r.RestoreSnapshot(bytes.NewReader(v1)); err != nil {
		t.Fatalf("RestoreSnapshot v1: %v", err)
	}
	var again bytes.Buffer
	if err := r.WriteSnapshot(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Fatal("a version 1 snapshot does not restore the same store")
	}
}

// TestSnapshot_CorruptIndexRecords: index records that no store writes are
// refused and the store is unchanged.
func TestSnapshot_CorruptIndexRecords(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "a", "f", false)
	mustCreateIndex(t, s, defKS, "b", "", true)
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	recs := splitRecords(t, buf.Bytes())
	var ixAt []int
	for i, r := range recs {
		if r.tag == tagIndex {
			ixAt = append(ixAt, i)
		}
	}
	cases := map[string]func(rs []rawRecord){
		"out of order":  func(rs []rawRecord) { rs[ixAt[0]], rs[ixAt[1]] = rs[ixAt[1]], rs[ixAt[0]] },
		"bad flag":      func(rs []rawRecord) { rs[ixAt[0]].payload[2] = 7 },
		"empty name":    func(rs []rawRecord) { rs[ixAt[0]].payload = []byte{0, 0, 0} },
		"missing index": func(rs []rawRecord) { copy(rs[ixAt[1]:], rs[ixAt[1]+1:]) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			rs := make([]rawRecord, len(recs))
			for i, r := range recs {
				rs[i] = rawRecord{tag: r.tag, payload: slices.Clone(r.payload)}
			}
			edit(rs)
			if name == "missing index" {
				rs = rs[:len(rs)-1]
			}
			r := mustIndexStore(t)
			mustCreateIndex(t, r, defKS, "keep", "f", false)
			wantErr(t, r.RestoreSnapshot(bytes.NewReader(frame(rs))), ErrCorruptSnapshot)
			if infos, _ := r.Indexes(defKS); len(infos) != 1 || infos[0].Name != "keep" {
				t.Fatalf("a failed restore changed the indexes: %+v", infos)
			}
		})
	}
}

// checkIndexes verifies every index of s against its definition: exactly
// the keys of each live document, nothing else, and the slots' remembered
// keys agree with the trees.
func checkIndexes(t testing.TB, s *Store) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, b := range s.buckets {
		for _, sc := range b.scopes {
			for _, c := range sc.colls {
				for _, ix := range c.indexes {
					if ix.err != nil {
						continue
					}
					want := 0
					for _, sl := range c.docs {
						keys := ix.keysOf(sl.doc, nil)
						got, exp := sl.keysIn(ix)
						if !equalKeys(got, keys) {
							t.Fatalf("index %s on %s: %q remembers keys %q, its doc has %q", ix.name, c.ks, sl.key, got, keys)
						}
						for _, k := range keys {
							e, ok := ix.tree.Get(ixEntry{key: k, doc: sl.key})
							if !ok || e.exp != exp || keys != nil && exp != sl.doc.Expiry {
								t.Fatalf("index %s on %s: entry (%q, %q) missing or with expiry %d", ix.name, c.ks, k, sl.key, e.exp)
							}
						}
						want += len(keys)
					}
					if ix.tree.Len() != want {
						t.Fatalf("index %s on %s has %d entries, its documents %d", ix.name, c.ks, ix.tree.Len(), want)
					}
				}
			}
		}
	}
}

// TestIndex_ConcurrentScansAndWrites runs scans (each on its own view)
// while writes move every document between keys: each scan sees a
// consistent point in time, in which every document has exactly one entry.
func TestIndex_ConcurrentScansAndWrites(t *testing.T) {
	s := mustIndexStore(t)
	mustCreateIndex(t, s, defKS, "k", "k", false)
	const docs = 50
	for i := range docs {
		mustApply(t, s, upsert(defKS, fmt.Sprintf("d%02d", i), `{"k":"a"}`), sec(10))
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				v, err := s.Index(defKS, "k")
				if err != nil {
					errs <- err
					return
				}
				seen := map[string]bool{}
				for k, doc := range v.Entries(ScanRange{}, ScanOptions{}) {
					if seen[doc] || len(k) != 1 {
						errs <- fmt.Errorf("document %s twice or key %q", doc, k)
						return
					}
					seen[doc] = true
				}
				if len(seen) != docs || v.Count(ScanRange{}, 0) != docs {
					errs <- fmt.Errorf("a view holds %d documents, want %d", len(seen), docs)
					return
				}
			}
		}()
	}
	for round := range 200 {
		mustApply(t, s, upsert(defKS, fmt.Sprintf("d%02d", round%docs), fmt.Sprintf(`{"k":%q}`, string(rune('a'+round%26)))), sec(11))
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkIndexes(t, s)
}
