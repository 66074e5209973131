package consensus

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// applyEntry feeds one entry of cmds to f at index and returns the results.
func applyEntry(t testing.TB, f *fsm, index uint64, cmds ...[]byte) []cmdResult {
	t.Helper()
	out := f.Apply(&raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: encodeEntry(cmds)})
	res, ok := out.([]cmdResult)
	if !ok {
		t.Fatalf("Apply returned %T (%v), want []cmdResult", out, out)
	}
	if len(res) != len(cmds) {
		t.Fatalf("Apply returned %d results for %d commands", len(res), len(cmds))
	}
	return res
}

func newTestFSM(t testing.TB) *fsm {
	t.Helper()
	f := newFSM(64, newTestLogger(t, 0))
	res := applyEntry(t, f, 1, encodeCreateBucket(docstore.BucketSpec{Name: "b", UUID: "u"}))
	if res[0].err != nil {
		t.Fatalf("create bucket: %v", res[0].err)
	}
	return f
}

// TestFSM_CommandsInOneEntryAreIndependent puts failing and succeeding
// commands in one log entry: each gets its own result, in order.
func TestFSM_CommandsInOneEntryAreIndependent(t *testing.T) {
	f := newTestFSM(t)
	res := applyEntry(t, f, 2, encodeWriteDocs(1e18, []docstore.Mutation{upsert(testKS, "k", `1`)}, 0))
	k := res[0].docs[0]

	badKS := docstore.Keyspace{Bucket: "nope", Scope: "_default", Collection: "_default"}
	fn := &FunctionChange{Name: "f", Definition: json.RawMessage(`{}`), Source: testKS}
	res = applyEntry(t, f, 3,
		encodeWriteDocs(2e18, []docstore.Mutation{upsert(badKS, "x", `1`)}, 0),                                                                   // bad keyspace
		encodeWriteDocs(2e18, []docstore.Mutation{{Keyspace: testKS, Key: "k", Op: docstore.OpInsert, Body: json.RawMessage(`2`)}}, 0),           // exists
		encodeWriteDocs(2e18, []docstore.Mutation{{Keyspace: testKS, Key: "k", Op: docstore.OpUpsert, Body: json.RawMessage(`3`), IfCAS: 5}}, 0), // cas mismatch
		[]byte{0xff, 1, 2, 3},             // unknown command
		[]byte{byte(kindWriteDocs), 0x80}, // truncated command
		encodeWriteDocs(2e18, []docstore.Mutation{upsert(testKS, "k2", `4`)}, 0),
		encodeChangeFunction(fn),
		encodeChangeFunction(fn), // exists now (same entry)
		encodeCommitBatch(2e18, &Batch{Function: "f", InstanceID: "i"}), // no instance
		encodeSetConfig("c", json.RawMessage(`true`)),
		encodeDeleteBucket("nope"),
	)
	want := []error{docstore.ErrBucketNotFound, docstore.ErrExists, docstore.ErrCASMismatch, ErrInvalid, ErrInvalid, nil, nil, ErrFunctionExists, ErrStaleInstance, nil, docstore.ErrBucketNotFound}
	for i, w := range want {
		err := res[i].err
		if err == nil && len(res[i].docErrs) == 1 {
			err = res[i].docErrs[0]
		}
		if w == nil && err != nil || w != nil && !errors.Is(err, w) {
			t.Errorf("command %d: error %v, want %v", i, err, w)
		}
	}
	if res[6].fn == nil || res[6].fn.Version != 3 {
		t.Fatalf("ChangeFunction result = %+v, want version 3 (the entry's index)", res[6].fn)
	}
	if d, _ := f.docs.Get(testKS, "k"); d != k {
		t.Fatal("failed commands changed k")
	}
	if d, err := f.docs.Get(testKS, "k2"); err != nil || string(d.Body) != `4` {
		t.Fatalf("k2 = %v, %v", d, err)
	}
	if string(f.configValue("c")) != `true` {
		t.Fatal("config not set")
	}
	if got := f.appliedIndex.Load(); got != 3 {
		t.Fatalf("applied index %d, want 3", got)
	}
}

func TestFSM_BadEntries(t *testing.T) {
	f := newTestFSM(t)
	for name, data := range map[string][]byte{
		"empty":           nil,
		"unknown version": {99, 1, 1, 1},
		"bad count":       {entryVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		out := f.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: data})
		err, ok := out.(error)
		if !ok || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Apply = %v, want ErrInvalid", name, out)
		}
	}
	// A count larger than the commands present: the missing ones fail.
	data := encodeEntry([][]byte{encodeSetConfig("a", json.RawMessage(`1`))})
	data[4] = 3 // version, empty token (node "", session 0, seq 0), count
	res, ok := f.Apply(&raft.Log{Index: 6, Type: raft.LogCommand, Data: data}).([]cmdResult)
	if !ok || len(res) != 3 || res[0].err != nil || !errors.Is(res[1].err, ErrInvalid) || !errors.Is(res[2].err, ErrInvalid) {
		t.Fatalf("entry claiming 3 commands with 1 present: %+v", res)
	}
	// Non-command logs are ignored but advance the applied index.
	if out := f.Apply(&raft.Log{Index: 7, Type: raft.LogNoop}); out != nil {
		t.Fatalf("noop Apply = %v", out)
	}
	if f.appliedIndex.Load() != 7 {
		t.Fatalf("applied index = %d", f.appliedIndex.Load())
	}
}

// TestFSM_NeverPanics feeds every truncation and random corruptions of a
// valid entry: Apply must return, never panic.
func TestFSM_NeverPanics(t *testing.T) {
	f := newTestFSM(t)
	valid := encodeTokenEntry(entryToken{node: "n1", session: 3, seq: 1}, sampleCommands())
	rng := rand.New(rand.NewPCG(1, 2))
	idx := uint64(10)
	for n := range len(valid) {
		idx++
		noInternalErrors(t, f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: valid[:n]}))
	}
	for range 2000 {
		data := append([]byte(nil), valid...)
		for range 1 + rng.IntN(4) {
			data[rng.IntN(len(data))] = byte(rng.Uint32())
		}
		idx++
		noInternalErrors(t, f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: data}))
	}
}

// noInternalErrors fails if a command panicked inside (Apply recovered it).
func noInternalErrors(t *testing.T, out any) {
	t.Helper()
	res, _ := out.([]cmdResult)
	for i, r := range res {
		if r.err != nil && strings.Contains(r.err.Error(), "internal error") {
			t.Fatalf("command %d panicked: %v", i, r.err)
		}
	}
}

func FuzzFSMApply(f *testing.F) {
	f.Add(encodeEntry(sampleCommands()))
	for _, c := range sampleCommands() {
		f.Add(encodeEntry([][]byte{c}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newTestFSM(t)
		noInternalErrors(t, m.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: data}))
	})
}

func sampleCommands() [][]byte {
	m := docstore.Mutation{
		Keyspace: testKS, Key: "k", Op: docstore.OpUpsert, Body: json.RawMessage(`{"a":1}`),
		Flags: 3, Expiry: 4, IfRev: "1-abc", IfCAS: 0, Origin: "o",
		Xattrs: map[string]json.RawMessage{"x": json.RawMessage(`1`)},
	}
	return [][]byte{
		encodeCreateBucket(docstore.BucketSpec{Name: "c", UUID: "u", RAMQuotaMB: 100, Type: "membase"}),
		encodeCreateScope("b", "s"),
		encodeCreateCollection(docstore.Keyspace{Bucket: "b", Scope: "s", Collection: "c"}),
		encodeWriteDocs(1e18, []docstore.Mutation{m, upsert(testKS, "k2", `2`)}, 0),
		encodeChangeFunction(&FunctionChange{Name: "f", Definition: json.RawMessage(`{}`), Source: testKS}),
		encodeChangeFunction(&FunctionChange{Name: "f", ExpectVersion: 2, Status: StatusDeployed, NewInstanceID: "i", Boundary: BoundaryFromNow}),
		encodeCommitBatch(1e18, &Batch{Function: "f", InstanceID: "i", Checkpoints: map[uint16]uint64{1: 2}, Mutations: []docstore.Mutation{m}}),
		encodeSetVBMap(0, append(make([]string, 63), "n1")),
		encodeReportFunction(&FunctionReport{Name: "f", InstanceID: "i", Node: "n1", Running: true}),
		encodeCommitBatch(1e18, &Batch{Function: "f", InstanceID: "i", Node: "n1", Epoch: 9, Checkpoints: map[uint16]uint64{63: 2}, Mutations: []docstore.Mutation{m}}),
		encodeSetConfig("k", json.RawMessage(`{"v":true}`)),
		encodeExpire(10, 1e18),
		encodeDeleteFunction("f", 2),
		encodeDeleteCollection(docstore.Keyspace{Bucket: "b", Scope: "s", Collection: "c"}),
		encodeDeleteScope("b", "s"),
		encodeDeleteBucket("c"),
		encodeCommitBatch(1e18, &Batch{Function: "f", InstanceID: "i", Node: "n1", Epoch: 1,
			Timers: []TimerOp{{Timer: Timer{Callback: "cb", Reference: "r", Due: 5, VB: 1, Context: []byte(`{}`)}}, {Cancel: true, Timer: Timer{Callback: "cb", Reference: "r2"}}},
			Fired:  []FiredTimer{{Callback: "cb", Reference: "r0", Seq: 1, VB: 1}}}),
		encodeChangeFunction(&FunctionChange{Name: "f", ExpectVersion: 3, Status: StatusDeploying, DropCheckpoints: true, OnDeploy: OnDeployResume}),
		encodeCommitBatch(1e18, &Batch{Function: "f", InstanceID: "i", Node: "n1", Epoch: 9, Checkpoints: map[uint16]uint64{0: 3, 63: 4}, From: map[uint16]uint64{0: 1, 63: 2}, OnDeployDone: true}),
		encodeSetConfig("k", nil),
		encodePutRecords([]RecordChange{{Table: "t", ID: "a", Body: []byte(`{"x":1}`)}, {Table: "t", ID: "b", ExpectVersion: 3, Delete: true}}),
		encodeCreateIndex(&IndexSpec{Keyspace: testKS, Name: "#primary", Primary: true}),
		encodeCreateIndex(&IndexSpec{Keyspace: testKS, Name: "by_a", Definition: []byte("a"), IfNotExists: true}),
		encodeDropIndex(testKS, "by_a", true),
	}
}

// TestFSM_RetiredKindsAreUnknown: the pre-release layouts of commit_batch
// (kind 10 without node and epoch, kind 15 without timers and OnDeploy
// completion) fail as unknown commands; their neighbours apply.
func TestFSM_RetiredKindsAreUnknown(t *testing.T) {
	f := newTestFSM(t)
	owned := encodeCommitBatch(1e18, &Batch{Function: "f", InstanceID: "i", Node: "n1", Epoch: 9})
	owned = append([]byte{15}, owned[1:len(owned)-3]...) // no timer lists, no OnDeploy flag
	e := &encoder{}
	e.byte(10)
	e.uvarint(1e18)
	e.string("f")
	e.string("i")
	e.uvarint(0) // no checkpoints
	e.uvarint(0) // no mutations
	res := applyEntry(t, f, 2, e.b, encodeSetConfig("a", json.RawMessage(`1`)), owned)
	for _, i := range []int{0, 2} {
		if !errors.Is(res[i].err, ErrInvalid) || !strings.Contains(res[i].err.Error(), "unknown command") {
			t.Errorf("command %d (kind %d): %v, want an unknown command", i, []byte{10, 0, 15}[i], res[i].err)
		}
	}
	if res[1].err != nil || string(f.configValue("a")) != "1" {
		t.Fatalf("neighbour of retired kinds: %v", res[1].err)
	}
}

// TestFuzzFSMApply_SeedsCoverEveryKind keeps FuzzFSMApply's seeds in step
// with the commands table: every kind has a seed, so the fuzzer starts from
// each decoder.
func TestFuzzFSMApply_SeedsCoverEveryKind(t *testing.T) {
	seen := map[cmdKind]bool{}
	for _, c := range sampleCommands() {
		seen[cmdKind(c[0])] = true
	}
	for k := range commands {
		if kind := cmdKind(k); kind.spec() != nil && !seen[kind] {
			t.Errorf("no FuzzFSMApply seed of %s", kind)
		}
	}
	m := newTestFSM(t)
	for _, c := range sampleCommands() {
		res, _ := m.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: encodeEntry([][]byte{c})}).([]cmdResult)
		for _, r := range res {
			if r.err != nil && strings.Contains(r.err.Error(), "command at index") {
				t.Errorf("seed of %s does not decode: %v", cmdKind(c[0]), r.err)
			}
		}
	}
}

func TestCodec_MutationRoundTrip(t *testing.T) {
	cases := map[string]docstore.Mutation{
		"zero":  {},
		"plain": upsert(testKS, "k", `{"a":1}`),
		"full": {
			Keyspace: docstore.Keyspace{Bucket: "b", Scope: "s", Collection: "c"}, Key: "käy", Op: docstore.OpTouch,
			Body: []byte{0, 1, 2, 255}, Datatype: docstore.DatatypeBinary, Flags: 0xffffffff, Expiry: 0xfffffffe,
			IfRev: "3-abc", RequireRev: true, PreserveExpiry: true, IfCAS: 1<<64 - 1, Origin: "fn-instance",
			Xattrs: map[string]json.RawMessage{"b": json.RawMessage(`2`), "a": json.RawMessage(`{"x":1}`)},
		},
		"empty body and xattrs": {Keyspace: testKS, Key: "k", Body: json.RawMessage{}, Xattrs: map[string]json.RawMessage{}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			e := &encoder{}
			e.mutation(&m)
			d := decoder{b: e.b}
			var got docstore.Mutation
			d.mutation(&got)
			if d.err != nil || d.remaining() != 0 {
				t.Fatalf("decode: %v (%d bytes left)", d.err, d.remaining())
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip:\n got  %#v\n want %#v", got, m)
			}
			if (got.Body == nil) != (m.Body == nil) || (got.Xattrs == nil) != (m.Xattrs == nil) {
				t.Fatal("nil-ness of Body or Xattrs not kept")
			}
		})
	}
}

func TestCodec_DeterministicEncoding(t *testing.T) {
	b := Batch{Function: "f", InstanceID: "i", Checkpoints: map[uint16]uint64{}}
	for vb := range uint16(200) {
		b.Checkpoints[vb] = uint64(vb) * 3
	}
	m := upsert(testKS, "k", `1`)
	m.Xattrs = map[string]json.RawMessage{}
	for _, k := range []string{"q", "w", "e", "r", "t", "y", "u", "i", "o", "p"} {
		m.Xattrs[k] = json.RawMessage(`"` + k + `"`)
	}
	b.Mutations = []docstore.Mutation{m}
	first := encodeCommitBatch(7, &b)
	for range 20 {
		if got := encodeCommitBatch(7, &b); string(got) != string(first) {
			t.Fatal("encoding depends on map iteration order")
		}
	}
}

// TestFSM_RecoversPanics: a command that panics inside becomes an error
// result; its neighbours and the FSM go on.
func TestFSM_RecoversPanics(t *testing.T) {
	f := newTestFSM(t)
	docs := f.docs
	f.docs = nil // makes the next document command panic
	out := f.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: encodeEntry([][]byte{
		encodeDeleteBucket("b"),
		encodeSetConfig("k", json.RawMessage(`1`)),
	})})
	f.docs = docs
	res := out.([]cmdResult)
	if res[0].err == nil || !strings.Contains(res[0].err.Error(), "internal error") {
		t.Fatalf("panicking command result = %v", res[0].err)
	}
	if res[1].err != nil || string(f.configValue("k")) != "1" {
		t.Fatalf("neighbour of a panicking command: %v", res[1].err)
	}
}
