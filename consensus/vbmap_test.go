package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestStore_VBMap(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	ctx := ctxT(t)
	if m := s.VBMap(); !reflect.DeepEqual(m, VBMap{}) {
		t.Fatalf("VBMap before any set = %+v", m)
	}
	owners := make([]string, 64)
	for vb := range owners {
		owners[vb] = []string{"a", "b", ""}[vb%3]
	}
	changed := s.Changed()
	m1, err := s.SetVBMap(ctx, 0, owners)
	if err != nil {
		t.Fatalf("SetVBMap: %v", err)
	}
	if !isClosed(changed) {
		t.Fatal("Changed not closed by SetVBMap")
	}
	if m1.Epoch == 0 || m1.Epoch != s.Stats().AppliedIndex || !slices.Equal(m1.Owners, owners) {
		t.Fatalf("first map = %+v", m1)
	}
	for vb, e := range m1.VBEpochs {
		if e != m1.Epoch {
			t.Fatalf("vb %d epoch %d, want %d (every vbucket is new)", vb, e, m1.Epoch)
		}
	}
	// Callers own their copies.
	m1.Owners[0] = "x"
	if s.VBMap().Owners[0] != "a" {
		t.Fatal("caller's change leaked into the map")
	}
	m1.Owners[0] = "a"

	_, err = s.SetVBMap(ctx, 0, owners)
	wantErr(t, err, ErrVersionMismatch)
	_, err = s.SetVBMap(ctx, m1.Epoch+5, owners)
	wantErr(t, err, ErrVersionMismatch)
	_, err = s.SetVBMap(ctx, m1.Epoch, owners[:63])
	wantErr(t, err, ErrInvalid)

	// The same owners: nothing changes.
	changed = s.Changed()
	same, err := s.SetVBMap(ctx, m1.Epoch, slices.Clone(owners))
	if err != nil || !reflect.DeepEqual(same, m1) || isClosed(changed) {
		t.Fatalf("no-op set = %+v, %v (changed %v)", same, err, isClosed(changed))
	}

	// Two vbuckets move, one is unassigned: only they get the new epoch.
	next := slices.Clone(owners)
	next[3], next[4], next[0] = "b", "c", ""
	m2, err := s.SetVBMap(ctx, m1.Epoch, next)
	if err != nil {
		t.Fatalf("SetVBMap: %v", err)
	}
	if m2.Epoch <= m1.Epoch {
		t.Fatalf("epoch %d after %d", m2.Epoch, m1.Epoch)
	}
	for vb, e := range m2.VBEpochs {
		want := m1.Epoch
		if vb == 0 || vb == 3 || vb == 4 {
			want = m2.Epoch
		}
		if e != want {
			t.Fatalf("vb %d epoch %d, want %d", vb, e, want)
		}
	}
	if !reflect.DeepEqual(s.VBMap(), m2) {
		t.Fatalf("VBMap() = %+v, want %+v", s.VBMap(), m2)
	}

	// Fencing on one node: the unassigned vbucket refuses everyone.
	mustBucket(t, s, "b")
	deploy(t, s, "fn", "i1", BoundaryEverything)
	for _, node := range []string{"", "a", "b"} {
		_, err := s.CommitBatch(ctx, Batch{Function: "fn", InstanceID: "i1", Node: node, Epoch: m2.Epoch, Checkpoints: map[uint16]uint64{0: 1}})
		wantErr(t, err, ErrStaleOwner)
	}
	if _, err := s.CommitBatch(ctx, Batch{Function: "fn", InstanceID: "i1", Node: "c", Epoch: m2.Epoch, Checkpoints: map[uint16]uint64{4: 1}}); err != nil {
		t.Fatalf("owner's commit: %v", err)
	}
	// A vbucket out of range is still invalid, not stale.
	_, err = s.CommitBatch(ctx, Batch{Function: "fn", InstanceID: "i1", Node: "c", Epoch: m2.Epoch, Checkpoints: map[uint16]uint64{64: 1}})
	wantErr(t, err, ErrInvalid)
}

// TestStore_ReportsWithoutMap: with no vbucket map, one node's report
// completes a transition; pausing and undeploying with nothing running
// complete at once.
func TestStore_ReportsWithoutMap(t *testing.T) {
	s := mustOpen(t, testConfig(t, "n1"))
	ctx := ctxT(t)
	mustBucket(t, s, "b")
	f := mustChange(t, s, FunctionChange{Name: "fn", Definition: json.RawMessage(`{}`), Source: testKS})
	f = mustChange(t, s, FunctionChange{Name: "fn", ExpectVersion: f.Version, Status: StatusDeploying, NewInstanceID: "i1", Boundary: BoundaryEverything})
	if f.Status != StatusDeploying {
		t.Fatalf("deploy with no reports: %+v", f)
	}
	for name, r := range map[string]FunctionReport{
		"no name":     {InstanceID: "i1", Node: "n1"},
		"no instance": {Name: "fn", Node: "n1"},
		"no node":     {Name: "fn", InstanceID: "i1"},
	} {
		if _, err := s.ReportFunction(ctx, r); err == nil {
			t.Errorf("%s: report accepted", name)
		} else {
			wantErr(t, err, ErrInvalid)
		}
	}
	_, err := s.ReportFunction(ctx, FunctionReport{Name: "nope", InstanceID: "i1", Node: "n1", Running: true})
	wantErr(t, err, ErrFunctionNotFound)
	changed := s.Changed()
	got, err := s.ReportFunction(ctx, FunctionReport{Name: "fn", InstanceID: "i1", Node: "n1", Running: true})
	if err != nil || got.Status != StatusDeployed || got.Version <= f.Version || !slices.Equal(got.Running, []string{"n1"}) {
		t.Fatalf("one report without a map: %+v, %v", got, err)
	}
	if !isClosed(changed) {
		t.Fatal("Changed not closed by a completion")
	}
	if rec, _ := s.Function("fn"); !reflect.DeepEqual(rec, got) {
		t.Fatalf("stored %+v, returned %+v", rec, got)
	}
	// Another node's report changes Running only: Version stays.
	more, err := s.ReportFunction(ctx, FunctionReport{Name: "fn", InstanceID: "i1", Node: "n0", Running: true})
	if err != nil || more.Version != got.Version || !slices.Equal(more.Running, []string{"n0", "n1"}) {
		t.Fatalf("second report: %+v, %v", more, err)
	}
	// A new instance resets Running.
	re := mustChange(t, s, FunctionChange{Name: "fn", ExpectVersion: more.Version, Status: StatusDeploying, NewInstanceID: "i2", Boundary: BoundaryEverything})
	if re.Running != nil || re.Status != StatusDeploying {
		t.Fatalf("redeploy: %+v", re)
	}
	// Nothing runs: pausing is paused at once, and undeploying undeployed.
	p := mustChange(t, s, FunctionChange{Name: "fn", ExpectVersion: re.Version, Status: StatusPausing})
	if p.Status != StatusPaused || p.InstanceID != "i2" {
		t.Fatalf("pausing with nothing running: %+v", p)
	}
	u := mustChange(t, s, FunctionChange{Name: "fn", ExpectVersion: p.Version, Status: StatusUndeploying})
	if u.Status != StatusUndeployed || u.InstanceID != "" || u.Checkpoints != nil {
		t.Fatalf("undeploying with nothing running: %+v", u)
	}
}

// TestFSM_SnapshotRoundTripClusterState: the vbucket map, reports and the
// applied-token records survive a snapshot.
func TestFSM_SnapshotRoundTripClusterState(t *testing.T) {
	f := newTestFSM(t)
	owners := make([]string, 64)
	for vb := range owners {
		owners[vb] = []string{"n1", "n2", ""}[vb%3]
	}
	tok := func(node string, seq uint64) entryToken { return entryToken{node: node, session: 9, seq: seq} }
	applyTokenEntry(f, 2, tok("n1", 1),
		encodeSetVBMap(0, owners),
		encodeChangeFunction(&FunctionChange{Name: "fn", Definition: json.RawMessage(`{}`), Source: testKS}))
	applyTokenEntry(f, 3, tok("n2", 1),
		encodeChangeFunction(&FunctionChange{Name: "fn", ExpectVersion: 2, Status: StatusDeploying, NewInstanceID: "i", Boundary: BoundaryEverything}),
		encodeReportFunction(&FunctionReport{Name: "fn", InstanceID: "i", Node: "n2", Running: true}))
	applyTokenEntry(f, 4, tok("n2", 3), encodeSetConfig("k", json.RawMessage(`1`))) // seq 2 in flight
	moved := slices.Clone(owners)
	moved[1] = "n1"
	res := applyEntry(t, f, 5, encodeSetVBMap(2, moved))
	if res[0].err != nil {
		t.Fatalf("SetVBMap: %v", res[0].err)
	}
	want := dumpState(t, f.docs, f, "k")
	if want.VBMap.Epoch != 5 || want.Functions[0].Status != StatusDeploying || !slices.Equal(want.Functions[0].Running, []string{"n2"}) {
		t.Fatalf("state before the snapshot: %+v", want)
	}
	wantSessions := f.copySessions()

	fresh := newFSM(64, f.log)
	restoreFrom(t, f, fresh)
	sameState(t, dumpState(t, fresh.docs, fresh, "k"), want)
	if got := fresh.copySessions(); !reflect.DeepEqual(got, wantSessions) {
		t.Fatalf("sessions after restore = %+v, want %+v", got, wantSessions)
	}
	// The restored record deduplicates as the original does.
	for _, c := range []struct {
		tok entryToken
		dup bool
	}{{tok("n1", 1), true}, {tok("n2", 3), true}, {tok("n2", 2), false}} {
		out := applyTokenEntry(fresh, 10, c.tok, encodeSetConfig("z", json.RawMessage(`1`)))
		if (out == duplicateEntry{}) != c.dup {
			t.Fatalf("token %+v after restore: %#v, want duplicate %v", c.tok, out, c.dup)
		}
	}
}

// TestFSM_RefusesPreReleaseSnapshots: snapshots of the pre-release
// formats 1 and 2, and of a later format, are refused before anything of
// the state is replaced.
func TestFSM_RefusesPreReleaseSnapshots(t *testing.T) {
	f := newTestFSM(t)
	applyEntry(t, f, 2, encodeSetConfig("k", json.RawMessage(`1`)))
	snap, _ := f.Snapshot()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	for _, version := range []byte{1, 2, snapshotVersion + 1} {
		b := append([]byte(nil), sink.buf.Bytes()...)
		b[len(snapshotMagic)] = version
		dst := newTestFSM(t)
		applyEntry(t, dst, 2, encodeSetConfig("mine", json.RawMessage(`2`)))
		err := dst.Restore(readCloser(b))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("format version %d", version)) {
			t.Fatalf("Restore of format %d: %v, want ErrInvalid for the version", version, err)
		}
		if string(dst.configValue("mine")) != "2" || dst.configValue("k") != nil {
			t.Fatalf("refused format %d snapshot changed the state", version)
		}
		if _, err := dst.docs.Bucket("b"); err != nil {
			t.Fatalf("refused format %d snapshot: %v", version, err)
		}
	}
	// The same bytes at the current version restore.
	fresh := newFSM(64, f.log)
	if err := fresh.Restore(readCloser(sink.buf.Bytes())); err != nil || string(fresh.configValue("k")) != "1" {
		t.Fatalf("Restore of the current format: %v", err)
	}
}
