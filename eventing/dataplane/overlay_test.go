package dataplane

import (
	"errors"
	"slices"
	"testing"
	"time"

	"eventide/docstore"
)

var ovKS = docstore.Keyspace{Bucket: "b", Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}

// newOverlayStore returns a store with bucket b holding the given JSON docs.
func newOverlayStore(t *testing.T, docs map[string]string) *docstore.Store {
	t.Helper()
	s := docstore.NewStore(16)
	if err := s.CreateBucket(docstore.BucketSpec{Name: "b", UUID: "u", Type: "membase"}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	for k, v := range docs {
		storeWrite(t, s, docstore.Mutation{Keyspace: ovKS, Key: k, Op: docstore.OpUpsert, Body: []byte(v)})
	}
	return s
}

func storeWrite(t *testing.T, s *docstore.Store, m docstore.Mutation) *docstore.Document {
	t.Helper()
	d, err := s.Apply(m, uint64(time.Now().UnixNano()))
	if err != nil {
		t.Fatalf("Apply %s: %v", m.Key, err)
	}
	return d
}

func mustApply(t *testing.T, o *overlay, m docstore.Mutation, recurse bool) *docstore.Document {
	t.Helper()
	m.Keyspace = ovKS
	d, err := o.Apply(m, recurse)
	if err != nil {
		t.Fatalf("overlay Apply %d %s: %v", m.Op, m.Key, err)
	}
	return d
}

func wantApplyErr(t *testing.T, o *overlay, m docstore.Mutation, want error) {
	t.Helper()
	m.Keyspace = ovKS
	if _, err := o.Apply(m, false); !errors.Is(err, want) {
		t.Fatalf("overlay Apply %d %s = %v, want %v", m.Op, m.Key, err, want)
	}
}

func TestOverlay_PreconditionsAgainstBatchView(t *testing.T) {
	s := newOverlayStore(t, map[string]string{"old": `{"v":0}`})
	stored, _ := s.Get(ovKS, "old")
	o := newOverlay(s, "fiid", noTimers(s))

	ins := mustApply(t, o, docstore.Mutation{Key: "new", Op: docstore.OpInsert, Body: []byte(`{"v":1}`)}, false)
	wantApplyErr(t, o, docstore.Mutation{Key: "new", Op: docstore.OpInsert, Body: []byte(`{}`)}, docstore.ErrExists)
	got, err := o.Get(ovKS, "new")
	if err != nil || got.CAS != ins.CAS || string(got.Body) != `{"v":1}` {
		t.Fatalf("Get of the batch's insert = %+v, %v; want CAS %d", got, err, ins.CAS)
	}
	wantApplyErr(t, o, docstore.Mutation{Key: "new", Op: docstore.OpReplace, IfCAS: ins.CAS + 1, Body: []byte(`{}`)}, docstore.ErrCASMismatch)
	rep := mustApply(t, o, docstore.Mutation{Key: "new", Op: docstore.OpReplace, IfCAS: ins.CAS, Body: []byte(`{"v":2}`)}, false)
	if rep.CAS <= ins.CAS {
		t.Fatalf("provisional CAS did not advance: %d after %d", rep.CAS, ins.CAS)
	}
	wantApplyErr(t, o, docstore.Mutation{Key: "new", Op: docstore.OpDelete, IfCAS: ins.CAS}, docstore.ErrCASMismatch)

	// The stored document: its real CAS works, and the batch's write gives
	// it a provisional one above it.
	wantApplyErr(t, o, docstore.Mutation{Key: "old", Op: docstore.OpReplace, IfCAS: stored.CAS - 1, Body: []byte(`{}`)}, docstore.ErrCASMismatch)
	up := mustApply(t, o, docstore.Mutation{Key: "old", Op: docstore.OpReplace, IfCAS: stored.CAS, Body: []byte(`{"v":9}`)}, false)
	if up.CAS <= stored.CAS {
		t.Fatalf("provisional CAS %d not above the stored %d", up.CAS, stored.CAS)
	}
	wantApplyErr(t, o, docstore.Mutation{Key: "missing", Op: docstore.OpReplace, Body: []byte(`{}`)}, docstore.ErrNotFound)
	wantApplyErr(t, o, docstore.Mutation{Key: "missing", Op: docstore.OpTouch, Expiry: 5}, docstore.ErrNotFound)
	wantApplyErr(t, o, docstore.Mutation{Key: "missing", Op: docstore.OpDelete}, docstore.ErrNotFound)

	// Delete then insert again in the same batch.
	mustApply(t, o, docstore.Mutation{Key: "new", Op: docstore.OpDelete, IfCAS: rep.CAS}, false)
	if _, err := o.Get(ovKS, "new"); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("Get after the batch's delete = %v", err)
	}
	mustApply(t, o, docstore.Mutation{Key: "new", Op: docstore.OpInsert, Body: []byte(`{"v":3}`)}, false)

	ms := o.mutations()
	if len(ms) != 2 {
		t.Fatalf("mutations = %+v, want 2", ms)
	}
	if m := ms[0]; m.Key != "new" || m.Op != docstore.OpInsert || m.IfCAS != 0 || string(m.Body) != `{"v":3}` || m.Origin != "fiid" {
		t.Errorf("new: %+v, want an insert stamped fiid", m)
	}
	if m := ms[1]; m.Key != "old" || m.Op != docstore.OpUpsert || m.IfCAS != stored.CAS || string(m.Body) != `{"v":9}` {
		t.Errorf("old: %+v, want an upsert conditional on the stored CAS %d", m, stored.CAS)
	}
	if _, err := s.ApplyAll(ms, uint64(time.Now().UnixNano())); err != nil {
		t.Fatalf("commit: %v", err)
	}
	for k, want := range map[string]string{"new": `{"v":3}`, "old": `{"v":9}`} {
		if d, err := s.Get(ovKS, k); err != nil || string(d.Body) != want || d.Origin != "fiid" {
			t.Errorf("committed %s = %+v, %v; want %s", k, d, err, want)
		}
	}
}

func TestOverlay_NetMutations(t *testing.T) {
	s := newOverlayStore(t, map[string]string{"t": `{"keep":1}`, "d": `{}`, "dc": `{}`, "b": `{}`})
	dc, _ := s.Get(ovKS, "dc")
	o := newOverlay(s, "fiid", noTimers(s))
	mustApply(t, o, docstore.Mutation{Key: "t", Op: docstore.OpTouch, Expiry: 4102444800}, false)
	mustApply(t, o, docstore.Mutation{Key: "d", Op: docstore.OpDelete}, true)
	mustApply(t, o, docstore.Mutation{Key: "dc", Op: docstore.OpDelete, IfCAS: dc.CAS}, false)
	if err := o.Upsert(ovKS, "b", []byte(`{"blind":1}`), docstore.DatatypeJSON); err != nil {
		t.Fatal(err)
	}
	mustApply(t, o, docstore.Mutation{Key: "gone", Op: docstore.OpInsert, Body: []byte(`1`)}, false)
	mustApply(t, o, docstore.Mutation{Key: "gone", Op: docstore.OpDelete}, false)
	if existed, err := o.Delete(ovKS, "never"); existed || err != nil {
		t.Fatalf("Delete of a missing key = %v, %v", existed, err)
	}
	if d, err := o.Get(ovKS, "t"); err != nil || d.Expiry != 4102444800 || string(d.Body) != `{"keep":1}` {
		t.Fatalf("Get after touch = %+v, %v", d, err)
	}
	ms := o.mutations()
	want := []struct {
		key    string
		op     docstore.OpKind
		ifCAS  bool
		origin string
	}{
		{"t", docstore.OpTouch, true, "fiid"},
		{"d", docstore.OpDelete, false, ""},
		{"dc", docstore.OpDelete, true, "fiid"},
		{"b", docstore.OpUpsert, false, "fiid"},
	}
	if len(ms) != len(want) {
		t.Fatalf("mutations = %+v, want %d", ms, len(want))
	}
	for i, w := range want {
		m := ms[i]
		if m.Key != w.key || m.Op != w.op || (m.IfCAS != 0) != w.ifCAS || m.Origin != w.origin {
			t.Errorf("mutation %d = %+v, want %+v", i, m, w)
		}
	}
	if ms[0].Expiry != 4102444800 || ms[0].Body != nil {
		t.Errorf("touch = %+v, want only the expiry", ms[0])
	}
	if _, err := s.ApplyAll(ms, uint64(time.Now().UnixNano())); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if d, _ := s.Get(ovKS, "t"); string(d.Body) != `{"keep":1}` || d.Expiry != 4102444800 {
		t.Errorf("touched doc = %+v", d)
	}
}

// TestOverlay_ConcurrentChangeFailsCommit: a write that relied on the state
// the batch saw is rejected at commit when another writer changed the
// document in between, so the supervisor re-runs the batch; a blind write
// is not.
func TestOverlay_ConcurrentChangeFailsCommit(t *testing.T) {
	cases := []struct {
		name  string
		write func(t *testing.T, o *overlay, stored *docstore.Document)
		blind bool
	}{
		{"replace with cas", func(t *testing.T, o *overlay, d *docstore.Document) {
			mustApply(t, o, docstore.Mutation{Key: "k", Op: docstore.OpReplace, IfCAS: d.CAS, Body: []byte(`2`)}, false)
		}, false},
		{"counter", func(t *testing.T, o *overlay, d *docstore.Document) {
			mustApply(t, o, docstore.Mutation{Key: "k", Op: docstore.OpReplace, IfCAS: d.CAS, Body: []byte(`{"count":1}`)}, false)
		}, false},
		{"replace", func(t *testing.T, o *overlay, d *docstore.Document) {
			mustApply(t, o, docstore.Mutation{Key: "k", Op: docstore.OpReplace, Body: []byte(`2`)}, false)
		}, false},
		{"touch", func(t *testing.T, o *overlay, d *docstore.Document) {
			mustApply(t, o, docstore.Mutation{Key: "k", Op: docstore.OpTouch, Expiry: 4102444800}, false)
		}, false},
		{"delete with cas", func(t *testing.T, o *overlay, d *docstore.Document) {
			mustApply(t, o, docstore.Mutation{Key: "k", Op: docstore.OpDelete, IfCAS: d.CAS}, false)
		}, false},
		{"insert", func(t *testing.T, o *overlay, d *docstore.Document) {
			mustApply(t, o, docstore.Mutation{Key: "fresh", Op: docstore.OpInsert, Body: []byte(`1`)}, false)
		}, false},
		{"blind upsert", func(t *testing.T, o *overlay, d *docstore.Document) {
			if err := o.Upsert(ovKS, "k", []byte(`2`), docstore.DatatypeJSON); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newOverlayStore(t, map[string]string{"k": `1`})
			stored, _ := s.Get(ovKS, "k")
			o := newOverlay(s, "fiid", noTimers(s))
			c.write(t, o, stored)
			// Another writer changes (or creates) the document.
			storeWrite(t, s, docstore.Mutation{Keyspace: ovKS, Key: "k", Op: docstore.OpUpsert, Body: []byte(`"other"`)})
			storeWrite(t, s, docstore.Mutation{Keyspace: ovKS, Key: "fresh", Op: docstore.OpUpsert, Body: []byte(`"other"`)})
			_, err := s.ApplyAll(o.mutations(), uint64(time.Now().UnixNano()))
			var be *docstore.BatchError
			if c.blind {
				if err != nil {
					t.Fatalf("blind write rejected: %v", err)
				}
				return
			}
			if !errors.As(err, &be) {
				t.Fatalf("commit = %v, want a *docstore.BatchError", err)
			}
		})
	}
}

// A get-then-replace whose key another writer changes in between does not
// fail in the handler: the batch keeps its first read, and the commit
// carries a precondition on it, so the conflict re-runs the batch.
func TestOverlay_ReadKeptForTheBatch(t *testing.T) {
	s := newOverlayStore(t, map[string]string{"total": `{"count":1}`})
	o := newOverlay(s, "fiid", noTimers(s))
	first, err := o.Get(ovKS, "total")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	moved := storeWrite(t, s, docstore.Mutation{Keyspace: ovKS, Key: "total", Op: docstore.OpUpsert, Body: []byte(`{"count":2}`)})
	again, err := o.Get(ovKS, "total")
	if err != nil || again.CAS != first.CAS {
		t.Fatalf("second Get = %+v, %v; want the batch's first read (cas %d)", again, err, first.CAS)
	}
	mustApply(t, o, docstore.Mutation{Key: "total", Op: docstore.OpReplace, IfCAS: first.CAS, Body: []byte(`{"count":2}`)}, false)
	// A blind upsert of a key read first is a read-modify-write too.
	if _, err := o.Get(ovKS, "absent"); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("Get absent = %v, want ErrNotFound", err)
	}
	mustApply(t, o, docstore.Mutation{Key: "absent", Op: docstore.OpUpsert, Body: []byte(`{"v":1}`)}, false)

	ms := o.mutations()
	if len(ms) != 2 {
		t.Fatalf("mutations = %+v, want 2", ms)
	}
	if ms[0].IfCAS != first.CAS || ms[0].IfCAS == moved.CAS {
		t.Fatalf("replace committed with IfCAS %d, want the first read's %d", ms[0].IfCAS, first.CAS)
	}
	if ms[1].Op != docstore.OpInsert {
		t.Fatalf("upsert of a key read absent committed as op %d, want OpInsert", ms[1].Op)
	}
	var be *docstore.BatchError
	if _, err := s.ApplyAll(ms, uint64(time.Now().UnixNano())); !errors.As(err, &be) {
		t.Fatalf("ApplyAll over the moved key = %v, want a *docstore.BatchError", err)
	}
}

func TestOverlay_PendingKeys(t *testing.T) {
	s := newOverlayStore(t, map[string]string{"old": `{"v":0}`, "gone": `{"v":0}`, "read": `{"v":0}`})
	other := docstore.Keyspace{Bucket: "b", Scope: docstore.DefaultScope, Collection: "other"}
	if err := s.CreateCollection(other); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	o := newOverlay(s, "fiid", noTimers(s))
	if got := o.PendingKeys(ovKS); len(got) != 0 {
		t.Fatalf("fresh batch: PendingKeys = %q, want none", got)
	}
	if _, err := o.Get(ovKS, "read"); err != nil {
		t.Fatalf("Get read: %v", err)
	}
	mustApply(t, o, docstore.Mutation{Key: "new", Op: docstore.OpInsert, Body: []byte(`{"v":1}`)}, false)
	mustApply(t, o, docstore.Mutation{Key: "gone", Op: docstore.OpDelete}, false)
	mustApply(t, o, docstore.Mutation{Key: "old", Op: docstore.OpUpsert, Body: []byte(`{"v":2}`)}, false)
	mustApply(t, o, docstore.Mutation{Key: "new", Op: docstore.OpReplace, Body: []byte(`{"v":3}`)}, false)
	wantApplyErr(t, o, docstore.Mutation{Key: "absent", Op: docstore.OpReplace, Body: []byte(`{}`)}, docstore.ErrNotFound)
	if err := o.Upsert(other, "elsewhere", []byte(`{}`), docstore.DatatypeJSON); err != nil {
		t.Fatalf("Upsert other: %v", err)
	}

	// Written keys once each, in first-write order, deletes included; a
	// key only read, or whose write failed, is not pending.
	got := o.PendingKeys(ovKS)
	if want := []string{"new", "gone", "old"}; !slices.Equal(got, want) {
		t.Fatalf("PendingKeys = %q, want %q", got, want)
	}
	got[0] = "changed by the caller"
	if again := o.PendingKeys(ovKS); again[0] != "new" {
		t.Fatalf("PendingKeys shares its slice: %q", again)
	}
	if got := o.PendingKeys(other); !slices.Equal(got, []string{"elsewhere"}) {
		t.Fatalf("PendingKeys(other) = %q", got)
	}
	if got := o.PendingKeys(docstore.Keyspace{Bucket: "nobucket", Scope: "s", Collection: "c"}); len(got) != 0 {
		t.Fatalf("PendingKeys(unknown keyspace) = %q", got)
	}
}
