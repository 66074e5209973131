package consensus

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestFSM_PutRecords_Conditions: create, conditional update and delete
// succeed on the right version and fail with their sentinels otherwise,
// and a failed batch changes nothing.
func TestFSM_PutRecords_Conditions(t *testing.T) {
	f := newTestFSM(t)
	put := func(index uint64, cs ...RecordChange) cmdResult {
		t.Helper()
		return applyEntry(t, f, index, encodePutRecords(cs))[0]
	}
	res := put(2, RecordChange{Table: "t", ID: "a", Body: []byte("1")}, RecordChange{Table: "t", ID: "b", Body: []byte("2")})
	if res.err != nil || len(res.records) != 2 || res.records[0].Version != 2 || string(res.records[1].Body) != "2" {
		t.Fatalf("create: %+v", res)
	}
	changed := f.recordsChangedCh()
	for _, tc := range []struct {
		name   string
		change RecordChange
		want   error
	}{
		{"create existing", RecordChange{Table: "t", ID: "a", Body: []byte("x")}, ErrRecordExists},
		{"update stale", RecordChange{Table: "t", ID: "a", ExpectVersion: 1, Body: []byte("x")}, ErrRecordVersion},
		{"update missing", RecordChange{Table: "t", ID: "zz", ExpectVersion: 2, Body: []byte("x")}, ErrRecordNotFound},
		{"delete missing", RecordChange{Table: "u", ID: "a", Delete: true}, ErrRecordNotFound},
		{"delete stale", RecordChange{Table: "t", ID: "b", ExpectVersion: 7, Delete: true}, ErrRecordVersion},
		{"no id", RecordChange{Table: "t", Body: []byte("x")}, ErrInvalid},
		{"no table", RecordChange{ID: "x", Body: []byte("x")}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The valid first change must not apply when the second fails.
			res := put(3, RecordChange{Table: "t", ID: "c", Body: []byte("3")}, tc.change)
			wantErr(t, res.err, tc.want)
			if _, err := f.record("t", "c"); !errors.Is(err, ErrRecordNotFound) {
				t.Fatalf("half-applied batch: record c %v", err)
			}
		})
	}
	select {
	case <-changed:
		t.Fatal("failed changes signalled RecordsChanged")
	default:
	}
	wantErr(t, put(3, RecordChange{Table: "t", ID: "a", Body: []byte("1")}, RecordChange{Table: "t", ID: "a", Delete: true}).err, ErrInvalid)

	res = put(4, RecordChange{Table: "t", ID: "a", ExpectVersion: 2, Body: []byte("new")}, RecordChange{Table: "t", ID: "b", ExpectVersion: 2, Delete: true})
	if res.err != nil {
		t.Fatalf("update+delete: %v", res.err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("RecordsChanged not signalled")
	}
	if r, err := f.record("t", "a"); err != nil || r.Version != 4 || string(r.Body) != "new" {
		t.Fatalf("record a = %+v, %v", r, err)
	}
	if _, err := f.record("t", "b"); !errors.Is(err, ErrRecordNotFound) {
		t.Fatalf("deleted record b: %v", err)
	}
	// Unconditional delete of whatever version is there.
	if res := put(5, RecordChange{Table: "t", ID: "a", Delete: true}); res.err != nil {
		t.Fatal(res.err)
	}
	if got := f.recordsWithPrefix("t", ""); len(got) != 0 {
		t.Fatalf("table t not empty: %+v", got)
	}
}

// TestStore_Records: the Store's methods over a real single-node Raft:
// prefix scans in id order, and a package-sized record fits.
func TestStore_Records(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	ctx := ctxT(t)
	for _, id := range []string{"f1/2", "f2/1", "f1/1", "f10/1"} {
		if _, err := s.PutRecord(ctx, RecordChange{Table: "v", ID: id, Body: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, r := range s.RecordsWithPrefix("v", "f1/") {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, " ") != "f1/1 f1/2" {
		t.Fatalf("prefix f1/: %v", ids)
	}
	if n := len(s.Records("v")); n != 4 {
		t.Fatalf("Records: %d", n)
	}
	big := bytes.Repeat([]byte("z"), 50<<20)
	// 2 s alone; far slower under -race on a loaded machine.
	slow, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := s.PutRecord(slow, RecordChange{Table: "p", ID: "pkg", Body: big})
	if err != nil {
		t.Fatalf("50 MiB record: %v", err)
	}
	if got, err := s.Record("p", "pkg"); err != nil || got.Version != r.Version || len(got.Body) != len(big) {
		t.Fatalf("Record: %d bytes, %v", len(got.Body), err)
	}
	if _, err := s.PutRecord(ctx, RecordChange{Table: "p", ID: "huge", Body: make([]byte, 65<<20)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("65 MiB record: %v, want ErrTooLarge", err)
	}
	_, err = s.PutRecord(ctx, RecordChange{Table: "p", ID: "pkg", ExpectVersion: r.Version + 1, Delete: true})
	wantErr(t, err, ErrRecordVersion)
}

// TestFSM_SnapshotRecords: records survive a snapshot round trip, and a
// version 3 snapshot (before records) still restores, with none.
func TestFSM_SnapshotRecords(t *testing.T) {
	f := newTestFSM(t)
	applyEntry(t, f, 2, encodePutRecords([]RecordChange{
		{Table: "b", ID: "2", Body: []byte("two")}, {Table: "b", ID: "1", Body: nil}, {Table: "a", ID: "x", Body: []byte{0, 1}},
	}))
	want := dumpState(t, f.docs, f)
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Changes after the snapshot are not in it.
	applyEntry(t, f, 3, encodePutRecords([]RecordChange{{Table: "b", ID: "2", Delete: true}, {Table: "c", ID: "new", Body: []byte("n")}}))
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	fresh := newTestFSM(t)
	applyEntry(t, fresh, 2, encodePutRecords([]RecordChange{{Table: "stale", ID: "x", Body: []byte("x")}}))
	changed := fresh.recordsChangedCh()
	if err := fresh.Restore(io.NopCloser(bytes.NewReader(sink.buf.Bytes()))); err != nil {
		t.Fatal(err)
	}
	sameState(t, dumpState(t, fresh.docs, fresh), want)
	if len(want.Records) != 2 || len(want.Records["b"]) != 2 {
		t.Fatalf("records before the snapshot: %+v", want.Records)
	}
	select {
	case <-changed:
	case <-time.After(time.Second):
		t.Fatal("Restore did not signal RecordsChanged")
	}

	// A version 3 snapshot: the same stream without the records section.
	empty := newTestFSM(t)
	snap3, _ := empty.Snapshot()
	sink3 := &memSink{}
	if err := snap3.Persist(sink3); err != nil {
		t.Fatal(err)
	}
	v3 := v3Snapshot(t, sink3.buf.Bytes())
	if err := fresh.Restore(io.NopCloser(bytes.NewReader(v3))); err != nil {
		t.Fatalf("version 3 snapshot: %v", err)
	}
	if n := len(dumpState(t, fresh.docs, fresh).Records); n != 0 {
		t.Fatalf("version 3 snapshot left %d tables", n)
	}
}

// v3Snapshot rewrites a version 4 snapshot without records as version 3.
func v3Snapshot(t *testing.T, v4 []byte) []byte {
	t.Helper()
	if v4[8] != 4 {
		t.Fatalf("snapshot version %d", v4[8])
	}
	metaLen, n := binary.Uvarint(v4[9:])
	metaEnd := 9 + n + int(metaLen)
	if v4[metaEnd] != 0 { // tables:uvarint 0
		t.Fatal("snapshot has records")
	}
	out := append([]byte(nil), v4[:metaEnd]...)
	out[8] = 3
	return append(out, v4[metaEnd+1:]...)
}
