package docstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func docKeys(docs []*Document) string {
	ks := make([]string, len(docs))
	for i, d := range docs {
		ks[i] = d.Key
	}
	return strings.Join(ks, ",")
}

func TestAllDocs_Options(t *testing.T) {
	s := mustNewStore(t, 16)
	for _, k := range []string{"e", "a", "c", "b", "d", "f"} {
		mustApply(t, s, upsert(defKS, k, `1`), sec(10))
	}
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "c", Op: OpDelete}, sec(10))
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "e", Op: OpTouch, Expiry: 50}, sec(10))
	mustApply(t, s, upsert(Keyspace{"b", "s1", "c1"}, "a0", `1`), sec(10)) // other collection
	cases := []struct {
		name string
		now  uint32
		opts AllDocsOptions
		want string
	}{
		{"all", 20, AllDocsOptions{}, "a,b,d,e,f"},
		{"expired hidden", 50, AllDocsOptions{}, "a,b,d,f"},
		{"start", 20, AllDocsOptions{StartKey: "b"}, "b,d,e,f"},
		{"start between keys", 20, AllDocsOptions{StartKey: "bb"}, "d,e,f"},
		{"end inclusive", 20, AllDocsOptions{EndKey: "d"}, "a,b,d"},
		{"range", 20, AllDocsOptions{StartKey: "b", EndKey: "e"}, "b,d,e"},
		{"empty range", 20, AllDocsOptions{StartKey: "e", EndKey: "b"}, ""},
		{"limit", 20, AllDocsOptions{Limit: 2}, "a,b"},
		{"limit skips tombstones", 20, AllDocsOptions{StartKey: "b", Limit: 2}, "b,d"},
		{"keys in given order", 20, AllDocsOptions{Keys: []string{"f", "zz", "c", "a", "e"}}, "f,a,e"},
		{"keys limit", 20, AllDocsOptions{Keys: []string{"f", "a", "b"}, Limit: 2}, "f,a"},
		{"keys ignore range", 20, AllDocsOptions{Keys: []string{"a"}, StartKey: "x"}, "a"},
		{"empty keys", 20, AllDocsOptions{Keys: []string{}}, ""},
	}
	for _, c := range cases {
		docs, err := s.AllDocs(defKS, c.now, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := docKeys(docs); got != c.want {
			t.Errorf("%s: AllDocs = %q, want %q", c.name, got, c.want)
		}
	}
	_, err := s.AllDocs(Keyspace{"b", "s1", "zz"}, 0, AllDocsOptions{})
	wantErr(t, err, ErrCollectionNotFound)
	_, err = s.AllDocs(defKS, 0, AllDocsOptions{Limit: -1})
	wantErr(t, err, ErrInvalid)
}

func TestChanges(t *testing.T) {
	s := mustNewStore(t, 16)
	c1 := Keyspace{"b", "s1", "c1"}
	mustApply(t, s, upsert(defKS, "a", `1`), 0)                                     // cs 1
	mustApply(t, s, upsert(defKS, "b", `1`), 0)                                     // cs 2
	mustApply(t, s, upsert(c1, "x", `1`), 0)                                        // c1 cs 1
	mustApply(t, s, upsert(defKS, "c", `1`), 0)                                     // cs 3
	mustApply(t, s, upsert(defKS, "a", `2`), 0)                                     // cs 4 (a moves)
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "b", Op: OpDelete}, 0)           // cs 5
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "c", Op: OpTouch, Expiry: 9}, 0) // no new change

	cases := []struct {
		since uint64
		limit int
		want  string
	}{
		{0, 0, "c,a,b"},
		{0, 2, "c,a"},
		{3, 0, "a,b"},
		{4, 0, "b"},
		{5, 0, ""},
		{99, 0, ""},
	}
	for _, c := range cases {
		docs, last, err := s.Changes(defKS, c.since, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := docKeys(docs); got != c.want || last != 5 {
			t.Errorf("Changes(since %d, limit %d) = %q, last %d; want %q, 5", c.since, c.limit, got, last, c.want)
		}
		for i := 1; i < len(docs); i++ {
			if docs[i].ChangeSeq <= docs[i-1].ChangeSeq {
				t.Errorf("not in ChangeSeq order: %d then %d", docs[i-1].ChangeSeq, docs[i].ChangeSeq)
			}
		}
	}
	docs, last, _ := s.Changes(defKS, 0, 0)
	if !docs[2].Deleted || docs[0].Expiry != 9 {
		t.Fatalf("changes carry current versions: %+v", docs)
	}
	docs, last, _ = s.Changes(c1, 0, 0)
	if docKeys(docs) != "x" || last != 1 {
		t.Fatalf("c1 changes = %q last %d", docKeys(docs), last)
	}
	_, _, err := s.Changes(Keyspace{"zz", "a", "b"}, 0, 0)
	wantErr(t, err, ErrBucketNotFound)
	_, _, err = s.Changes(defKS, 0, -1)
	wantErr(t, err, ErrInvalid)
}

// TestReadVBucket_Dedup checks DCP deduplication and seqno order against a
// model, through enough updates that the logs are compacted many times.
func TestReadVBucket_Dedup(t *testing.T) {
	const numVB = 4
	s := mustNewStore(t, numVB)
	kss := []Keyspace{defKS, {"b", "s1", "c1"}, {"b", "s1", "c2"}}
	rng := rand.New(rand.NewPCG(1, 2))
	type ref struct {
		ks  Keyspace
		key string
	}
	current := map[ref]*Document{}
	ksOf := map[*Document]Keyspace{}
	for i := range 20000 {
		ks := kss[rng.IntN(len(kss))]
		key := fmt.Sprintf("k%d", rng.IntN(300))
		m := upsert(ks, key, fmt.Sprintf(`{"i":%d}`, i))
		if cur := current[ref{ks, key}]; cur != nil && !cur.Deleted && rng.IntN(5) == 0 {
			m = Mutation{Keyspace: ks, Key: key, Op: OpDelete}
		}
		d := mustApply(t, s, m, 0)
		current[ref{ks, key}] = d
		ksOf[d] = ks
	}
	highs, _ := s.HighSeqnos("b")
	for vb := range uint16(numVB) {
		var want []*Document
		for _, d := range current {
			if d.VBucket == vb {
				want = append(want, d)
			}
		}
		slices.SortFunc(want, func(a, b *Document) int { return int(a.Seqno) - int(b.Seqno) })
		for _, after := range []uint64{0, highs[vb] / 2, highs[vb] - 1, highs[vb]} {
			evs, err := s.ReadVBucket("b", vb, after, 0)
			if err != nil {
				t.Fatal(err)
			}
			var exp []*Document
			for _, d := range want {
				if d.Seqno > after {
					exp = append(exp, d)
				}
			}
			if len(evs) != len(exp) {
				t.Fatalf("vb %d after %d: %d events, want %d", vb, after, len(evs), len(exp))
			}
			for i, ev := range evs {
				if ev.Doc != exp[i] {
					t.Fatalf("vb %d after %d: event %d is %s seq %d, want %s seq %d", vb, after, i, ev.Doc.Key, ev.Doc.Seqno, exp[i].Key, exp[i].Seqno)
				}
				wantKind := EventMutation
				if ev.Doc.Deleted {
					wantKind = EventDeletion
				}
				if ev.Kind != wantKind || ev.Keyspace != ksOf[ev.Doc] {
					t.Fatalf("event %+v has wrong kind or keyspace", ev)
				}
			}
			// Paging with max gives the same sequence.
			var paged []*Document
			for a := after; ; {
				page, err := s.ReadVBucket("b", vb, a, 7)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				if len(page) > 7 {
					t.Fatalf("page of %d > max 7", len(page))
				}
				for _, ev := range page {
					paged = append(paged, ev.Doc)
				}
				a = page[len(page)-1].Doc.Seqno
			}
			if !slices.Equal(paged, exp) {
				t.Fatalf("vb %d after %d: paged read differs", vb, after)
			}
		}
		// Compaction keeps the log within a constant factor of the live keys.
		s.mu.RLock()
		l := &s.buckets["b"].vbs[vb].log
		if len(l.entries) > 2*len(want)+compactMin+1 {
			t.Errorf("vb %d log has %d entries for %d keys", vb, len(l.entries), len(want))
		}
		s.mu.RUnlock()
	}
	_, err := s.ReadVBucket("b", numVB, 0, 0)
	wantErr(t, err, ErrInvalid)
	_, err = s.ReadVBucket("b", 0, 0, -1)
	wantErr(t, err, ErrInvalid)
	_, err = s.ReadVBucket("zz", 0, 0, 0)
	wantErr(t, err, ErrBucketNotFound)
}
