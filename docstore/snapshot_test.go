package docstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// populate fills s with a bit of everything a snapshot must keep.
func populate(t testing.TB, s *Store) {
	t.Helper()
	c1 := Keyspace{"b", "s1", "c1"}
	if err := s.CreateBucket(BucketSpec{Name: "other", UUID: "u2", Type: "ephemeral", RAMQuotaMB: 100}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateScope("other", "empty-scope"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCollection(Keyspace{"b", "s1", "dropme"}); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		mustApply(t, s, upsert(defKS, fmt.Sprintf("k%03d", i), fmt.Sprintf(`{"i":%d}`, i)), sec(10))
	}
	// Overwrite: the high seqnos must survive although the docs that had
	// them are gone.
	for i := range 100 {
		mustApply(t, s, upsert(defKS, fmt.Sprintf("k%03d", i), `{"second":true}`), sec(11))
	}
	mustApply(t, s, upsert(Keyspace{"b", "s1", "dropme"}, "gone", `1`), sec(11))
	if err := s.DeleteCollection(Keyspace{"b", "s1", "dropme"}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, Mutation{Keyspace: c1, Key: "bin", Op: OpUpsert, Body: []byte{0, 0xff, 0x80, '"', 0}, Datatype: DatatypeBinary, Flags: 0xdeadbeef}, sec(12))
	mustApply(t, s, Mutation{Keyspace: c1, Key: "emptybin", Op: OpUpsert, Body: []byte{}, Datatype: DatatypeBinary}, sec(12))
	mustApply(t, s, Mutation{Keyspace: c1, Key: "x", Op: OpUpsert, Body: []byte(`{"a":[1,2]}`), Expiry: 500, Origin: "fn",
		Xattrs: map[string]json.RawMessage{"a": []byte(`{"b":1}`), "z": []byte(`"q"`)}}, sec(12))
	mustApply(t, s, Mutation{Keyspace: c1, Key: "del", Op: OpUpsert, Body: []byte(`1`)}, sec(12))
	mustApply(t, s, Mutation{Keyspace: c1, Key: "del", Op: OpDelete}, sec(12))
	mustApply(t, s, Mutation{Keyspace: c1, Key: "exp", Op: OpUpsert, Body: []byte(`1`), Expiry: 20}, sec(12))
	if n := s.ExpireDue(20, sec(20)); n != 1 {
		t.Fatalf("ExpireDue = %d", n)
	}
	// A doc with system xattrs (set directly: no mutation sets them yet).
	s.mu.Lock()
	sl := s.buckets["b"].scopes["s1"].colls["c1"].docs["del"]
	cp := *sl.doc
	cp.SysXattrs = map[string]json.RawMessage{"_sync": []byte(`{"rev":"1-a"}`)}
	sl.doc = &cp
	s.mu.Unlock()
	mustApply(t, s, upsert(Keyspace{"other", DefaultScope, DefaultCollection}, "o", `{}`), sec(30))
}

// dump describes everything observable in a store, for equality checks.
type dump struct {
	Buckets []BucketInfo
	Highs   map[string][]uint64
	Docs    map[string][]Document
	Changes map[string][]string
	Events  map[string][]string
	LastCAS uint64
}

func dumpStore(t *testing.T, s *Store) dump {
	t.Helper()
	d := dump{Buckets: s.Buckets(), Highs: map[string][]uint64{}, Docs: map[string][]Document{}, Changes: map[string][]string{}, Events: map[string][]string{}}
	for _, b := range d.Buckets {
		d.Highs[b.Name], _ = s.HighSeqnos(b.Name)
		for vb := range s.NumVBuckets() {
			evs, err := s.ReadVBucket(b.Name, uint16(vb), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				d.Events[b.Name] = append(d.Events[b.Name], fmt.Sprintf("%d/%d/%s/%s/%d", vb, ev.Doc.Seqno, ev.Keyspace, ev.Doc.Key, ev.Kind))
			}
		}
		for _, sc := range b.Scopes {
			for _, c := range sc.Collections {
				ks := Keyspace{b.Name, sc.Name, c.Name}
				docs, last, err := s.Changes(ks, 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, doc := range docs {
					d.Docs[ks.String()] = append(d.Docs[ks.String()], *doc)
					d.Changes[ks.String()] = append(d.Changes[ks.String()], fmt.Sprintf("%d:%s", doc.ChangeSeq, doc.Key))
				}
				d.Changes[ks.String()] = append(d.Changes[ks.String()], fmt.Sprint("last=", last))
			}
		}
	}
	s.mu.RLock()
	d.LastCAS = s.lastCAS
	s.mu.RUnlock()
	return d
}

func TestSnapshot_RoundTrip(t *testing.T) {
	s := mustNewStore(t, 16)
	populate(t, s)
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r := NewStore(16)
	if err := r.CreateBucket(BucketSpec{Name: "stale"}); err != nil {
		t.Fatal(err)
	}
	staleCh := r.Changed("stale")
	if err := r.RestoreSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("RestoreSnapshot: %v", err)
	}
	if !isClosed(staleCh) {
		t.Fatal("restore did not wake waiters of a replaced bucket")
	}
	want, got := dumpStore(t, s), dumpStore(t, r)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("restored store differs\nwant %+v\n got %+v", want, got)
	}
	bin, _ := r.Get(Keyspace{"b", "s1", "c1"}, "bin")
	if !bytes.Equal(bin.Body, []byte{0, 0xff, 0x80, '"', 0}) || bin.Datatype != DatatypeBinary {
		t.Fatalf("binary body = %v", bin.Body)
	}
	if eb, _ := r.Get(Keyspace{"b", "s1", "c1"}, "emptybin"); eb.Body == nil {
		t.Fatal("empty binary body became nil")
	}
	// The restored store continues exactly where the original stands.
	for _, st := range []*Store{s, r} {
		mustApply(t, st, upsert(defKS, "k000", `{"third":1}`), 0)
		mustApply(t, st, upsert(Keyspace{"b", "s1", "c1"}, "new", `1`), 0)
		if err := st.CreateCollection(Keyspace{"b", "s1", "c9"}); err != nil {
			t.Fatal(err)
		}
		if n := st.ExpireDue(600, sec(600)); n != 1 {
			t.Fatalf("ExpireDue after restore = %d, want 1 (x)", n)
		}
	}
	want, got = dumpStore(t, s), dumpStore(t, r)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("stores diverge after the same mutations\nwant %+v\n got %+v", want, got)
	}
	// Writing the restored store gives the same bytes (deterministic format).
	var a, b bytes.Buffer
	if err := s.WriteSnapshot(&a); err != nil {
		t.Fatal(err)
	}
	n, err := r.Snapshot().WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo = %d, %v (wrote %d)", n, err, b.Len())
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("snapshots of equal stores differ")
	}
}

func TestSnapshot_Empty(t *testing.T) {
	var buf bytes.Buffer
	if err := NewStore(8).WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	s := mustNewStore(t, 8)
	if err := s.RestoreSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if len(s.Buckets()) != 0 {
		t.Fatal("restoring an empty snapshot kept buckets")
	}
}

// TestSnapshot_CaptureIsConsistent checks that writes after Snapshot()
// do not leak into the stream written later.
func TestSnapshot_CaptureIsConsistent(t *testing.T) {
	s := mustNewStore(t, 8)
	mustApply(t, s, upsert(defKS, "a", `1`), 0)
	before := dumpStore(t, s)
	sn := s.Snapshot()
	mustApply(t, s, upsert(defKS, "a", `2`), 0)
	mustApply(t, s, upsert(defKS, "b", `2`), 0)
	if err := s.DeleteBucket("b"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if sn.Len() != 1 {
		t.Fatalf("snapshot Len = %d", sn.Len())
	}
	r := NewStore(8)
	if err := r.RestoreSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if got := dumpStore(t, r); !reflect.DeepEqual(before, got) {
		t.Fatalf("snapshot is not the state at capture\nwant %+v\n got %+v", before, got)
	}
}

func TestSnapshot_RejectsCorrupt(t *testing.T) {
	s := mustNewStore(t, 16)
	populate(t, s)
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()

	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorruptSnapshot},
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b }), ErrCorruptSnapshot},
		{"json", []byte(`{"buckets":[]}`), ErrCorruptSnapshot},
		{"future version", mutate(func(b []byte) []byte { b[len(snapMagic)] = 99; return b }), ErrCorruptSnapshot},
		{"truncated header", good[:5], ErrCorruptSnapshot},
		{"truncated middle", good[:len(good)/2], ErrCorruptSnapshot},
		{"truncated end", good[:len(good)-1], ErrCorruptSnapshot},
		{"no end record", good[:len(good)-8], ErrCorruptSnapshot},
		{"trailing garbage", append(slices.Clone(good), 'x'), ErrCorruptSnapshot},
		{"flipped body byte", mutate(func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }), ErrCorruptSnapshot},
		{"flipped near start", mutate(func(b []byte) []byte { b[20] ^= 1; return b }), ErrCorruptSnapshot},
		{"huge length", mutate(func(b []byte) []byte {
			return append(b[:len(snapMagic)+1], 'S', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
		}), ErrCorruptSnapshot},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustNewStore(t, 16)
			mustApply(t, r, upsert(defKS, "keep", `1`), 0)
			before := dumpStore(t, r)
			err := r.RestoreSnapshot(bytes.NewReader(c.data))
			if !errors.Is(err, c.want) {
				t.Fatalf("RestoreSnapshot = %v, want %v", err, c.want)
			}
			if after := dumpStore(t, r); !reflect.DeepEqual(before, after) {
				t.Fatal("a rejected snapshot changed the store")
			}
		})
	}

	// Every single-byte corruption is caught (checksums), never a panic.
	for i := 0; i < len(good); i += max(1, len(good)/500) {
		b := slices.Clone(good)
		b[i] ^= 0x10
		if err := NewStore(16).RestoreSnapshot(bytes.NewReader(b)); err == nil {
			t.Fatalf("corruption at byte %d not detected", i)
		}
	}

	// A well-formed snapshot for another vbucket count is refused.
	if err := NewStore(32).RestoreSnapshot(bytes.NewReader(good)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("vbucket count mismatch = %v, want ErrInvalid", err)
	}
}

// TestSnapshot_RejectsInconsistent forges snapshots with valid checksums
// but impossible contents.
func TestSnapshot_RejectsInconsistent(t *testing.T) {
	forge := func(edit func(sn *Snapshot)) []byte {
		s := mustNewStore(t, 4)
		mustApply(t, s, upsert(defKS, "a", `1`), 5)
		mustApply(t, s, upsert(defKS, "b", `1`), 6)
		sn := s.Snapshot()
		edit(sn)
		var buf bytes.Buffer
		if _, err := sn.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	docs := func(sn *Snapshot) []*Document { return sn.buckets[0].scopes[0].colls[0].docs }
	setDoc := func(sn *Snapshot, i int, f func(d *Document)) {
		cp := *docs(sn)[i]
		f(&cp)
		docs(sn)[i] = &cp
	}
	cases := map[string]func(sn *Snapshot){
		"seqno above high": func(sn *Snapshot) { setDoc(sn, 0, func(d *Document) { d.Seqno = 99 }) },
		"wrong vbucket":    func(sn *Snapshot) { setDoc(sn, 0, func(d *Document) { d.VBucket = (d.VBucket + 1) % 4 }) },
		"cas above clock":  func(sn *Snapshot) { setDoc(sn, 0, func(d *Document) { d.CAS = 1 << 40 }) },
		"duplicate key":    func(sn *Snapshot) { docs(sn)[1] = docs(sn)[0] },
		"change seq above": func(sn *Snapshot) { setDoc(sn, 0, func(d *Document) { d.ChangeSeq = 50 }) },
		"duplicate change": func(sn *Snapshot) { setDoc(sn, 1, func(d *Document) { d.ChangeSeq = docs(sn)[0].ChangeSeq }) },
		"no revision":      func(sn *Snapshot) { setDoc(sn, 0, func(d *Document) { d.RevID = "" }) },
		"bad bucket name":  func(sn *Snapshot) { sn.buckets[0].spec.Name = ".x" },
		"count mismatch":   func(sn *Snapshot) { sn.docs++ },
		"bad scope uid":    func(sn *Snapshot) { sn.buckets[0].scopes[1].uid = 99 },
		"no default scope": func(sn *Snapshot) { sn.buckets[0].scopes = sn.buckets[0].scopes[1:]; sn.docs = 0 },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			if err := NewStore(4).RestoreSnapshot(bytes.NewReader(forge(edit))); !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("RestoreSnapshot = %v, want ErrCorruptSnapshot", err)
			}
		})
	}
}
