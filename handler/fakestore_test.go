package handler

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/docstore"
	"eventide/internal/testlog"
)

// fakeStore is an in-memory Store: documents by keyspace and key.
type fakeStore struct {
	mu   sync.Mutex
	docs map[docstore.Keyspace]map[string]*docstore.Document
	// failWith, when set, is returned by every operation.
	failWith error
	ops      []string
	cas      uint64
	// recursed records the keys written with selfRecursion.
	recursed []string
	// timers are the pending timers by callback and reference.
	timers map[[2]string]Timer
}

func newFakeStore() *fakeStore {
	return &fakeStore{docs: map[docstore.Keyspace]map[string]*docstore.Document{}}
}

func (s *fakeStore) Get(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, "get "+ks.String()+" "+key)
	if s.failWith != nil {
		return nil, s.failWith
	}
	d, ok := s.docs[ks][key]
	if !ok || d.Deleted {
		return nil, fmt.Errorf("get %s: %w", key, docstore.ErrNotFound)
	}
	return d, nil
}

func (s *fakeStore) Upsert(ks docstore.Keyspace, key string, body []byte, dt docstore.Datatype) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, "upsert "+ks.String()+" "+key)
	if s.failWith != nil {
		return s.failWith
	}
	if s.docs[ks] == nil {
		s.docs[ks] = map[string]*docstore.Document{}
	}
	s.cas++
	s.docs[ks][key] = &docstore.Document{Key: key, Body: append([]byte(nil), body...), Datatype: dt, CAS: s.cas}
	return nil
}

// Apply implements Store.Apply with the overlay's semantics: expired
// documents count as absent; Touch keeps the body.
func (s *fakeStore) Apply(m docstore.Mutation, selfRecursion bool) (*docstore.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, fmt.Sprintf("apply%d %s %s", m.Op, m.Keyspace, m.Key))
	if s.failWith != nil {
		return nil, s.failWith
	}
	cur := s.docs[m.Keyspace][m.Key]
	if !cur.Live(uint32(time.Now().Unix())) {
		cur = nil
	}
	if m.IfCAS != 0 {
		if cur == nil {
			return nil, fmt.Errorf("apply %s: %w", m.Key, docstore.ErrNotFound)
		}
		if cur.CAS != m.IfCAS {
			return nil, fmt.Errorf("apply %s: %w", m.Key, docstore.ErrCASMismatch)
		}
	}
	switch m.Op {
	case docstore.OpInsert:
		if cur != nil {
			return nil, fmt.Errorf("apply %s: %w", m.Key, docstore.ErrExists)
		}
	case docstore.OpReplace, docstore.OpDelete, docstore.OpTouch:
		if cur == nil {
			return nil, fmt.Errorf("apply %s: %w", m.Key, docstore.ErrNotFound)
		}
	}
	if selfRecursion {
		s.recursed = append(s.recursed, m.Key)
	}
	s.cas++
	if s.docs[m.Keyspace] == nil {
		s.docs[m.Keyspace] = map[string]*docstore.Document{}
	}
	var d *docstore.Document
	switch m.Op {
	case docstore.OpDelete:
		delete(s.docs[m.Keyspace], m.Key)
		return &docstore.Document{Key: m.Key, CAS: s.cas, Deleted: true}, nil
	case docstore.OpTouch:
		cp := *cur
		d = &cp
		d.Expiry = m.Expiry
	default:
		d = &docstore.Document{Key: m.Key, Body: append([]byte(nil), m.Body...), Datatype: m.Datatype, Expiry: m.Expiry}
	}
	d.CAS = s.cas
	s.docs[m.Keyspace][m.Key] = d
	cp := *d
	return &cp, nil
}

func (s *fakeStore) Delete(ks docstore.Keyspace, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, "delete "+ks.String()+" "+key)
	if s.failWith != nil {
		return false, s.failWith
	}
	_, ok := s.docs[ks][key]
	delete(s.docs[ks], key)
	return ok, nil
}

func (s *fakeStore) put(ks docstore.Keyspace, key, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs[ks] == nil {
		s.docs[ks] = map[string]*docstore.Document{}
	}
	s.cas++
	s.docs[ks][key] = &docstore.Document{Key: key, Body: []byte(body), Datatype: docstore.DatatypeJSON, CAS: s.cas}
}

func (s *fakeStore) putBinary(ks docstore.Keyspace, key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs[ks] == nil {
		s.docs[ks] = map[string]*docstore.Document{}
	}
	s.docs[ks][key] = &docstore.Document{Key: key, Body: body, Datatype: docstore.DatatypeBinary}
}

func (s *fakeStore) doc(ks docstore.Keyspace, key string) (*docstore.Document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[ks][key]
	return d, ok
}

var (
	srcKS = docstore.Keyspace{Bucket: "src", Scope: "_default", Collection: "_default"}
	dstKS = docstore.Keyspace{Bucket: "dst", Scope: "s1", Collection: "c1"}
)

// testLogger routes slog output to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// harness is a compiled handler with one worker, its app log and stats.
type harness struct {
	t      *testing.T
	w      *Worker
	store  *fakeStore
	stats  *Stats
	appLog *AppLog
	dir    string
}

type harnessOpts struct {
	settings  Settings
	constants []Constant
	bindings  []Binding
	fiid      string
	insight   *Insight     // nil: none recorded
	memory    *MemoryGuard // nil: no memory budget enforced
	querier   Querier      // nil: no query service
}

func defaultBindings() []Binding {
	return []Binding{
		{Alias: "dst", Keyspace: dstKS, Access: AccessReadWrite},
		{Alias: "src", Keyspace: srcKS, Access: AccessRead},
	}
}

func mustCompile(t *testing.T, code string, o harnessOpts) *Program {
	t.Helper()
	p, err := Compile(code, o.settings, o.constants, o.bindings)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func newHarness(t *testing.T, code string, o harnessOpts) *harness {
	t.Helper()
	if o.bindings == nil {
		o.bindings = defaultBindings()
	}
	p := mustCompile(t, code, o)
	dir := t.TempDir()
	al, err := OpenAppLog(dir, "fn", 1<<20, 3)
	if err != nil {
		t.Fatalf("OpenAppLog: %v", err)
	}
	t.Cleanup(func() { al.Close() })
	stats := NewStats()
	w, err := NewWorker(p, Config{FunctionName: "fn", FunctionInstanceID: o.fiid, AppLog: al, Stats: stats, Insight: o.insight, Logger: testLogger(t), Memory: o.memory, Querier: o.querier})
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	t.Cleanup(w.Close)
	return &harness{t: t, w: w, store: newFakeStore(), stats: stats, appLog: al, dir: dir}
}

func mutation(key, body string) docstore.Event {
	return docstore.Event{Kind: docstore.EventMutation, Keyspace: srcKS, Doc: &docstore.Document{
		Key: key, Body: []byte(body), Datatype: docstore.DatatypeJSON, CAS: 1700000000000000001, VBucket: 17, Seqno: 42,
	}}
}

func (h *harness) handle(ev docstore.Event) error {
	h.t.Helper()
	return h.w.Handle(context.Background(), ev, h.store)
}

func (h *harness) mustHandle(ev docstore.Event) {
	h.t.Helper()
	if err := h.handle(ev); err != nil {
		h.t.Fatalf("Handle(%s): %v", ev.Doc.Key, err)
	}
}

// logLines returns the application log's lines in write order.
func (h *harness) logLines() []string {
	h.t.Helper()
	if err := h.appLog.Flush(); err != nil {
		h.t.Fatalf("flush app log: %v", err)
	}
	data, err := os.ReadFile(h.appLog.Path())
	if err != nil {
		h.t.Fatalf("read app log: %v", err)
	}
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// logMessages returns the log lines without timestamps: "[LEVEL] msg".
func (h *harness) logMessages() []string {
	h.t.Helper()
	var out []string
	for _, l := range h.logLines() {
		_, rest, ok := strings.Cut(l, " ")
		if !ok {
			h.t.Fatalf("log line without timestamp: %q", l)
		}
		out = append(out, rest)
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CreateTimer implements Store.CreateTimer: timers by callback and
// reference, a new one replacing the old.
func (s *fakeStore) CreateTimer(t Timer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, "createTimer "+t.Callback+" "+t.Reference)
	if s.failWith != nil {
		return s.failWith
	}
	if s.timers == nil {
		s.timers = map[[2]string]Timer{}
	}
	t.Context = append([]byte(nil), t.Context...)
	s.timers[[2]string{t.Callback, t.Reference}] = t
	return nil
}

// PendingKeys implements Store.PendingKeys: the fake writes through at
// once and has no indexes, so nothing is pending.
func (s *fakeStore) PendingKeys(ks docstore.Keyspace) []string { return nil }

// CancelTimer implements Store.CancelTimer.
func (s *fakeStore) CancelTimer(callback, reference string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, "cancelTimer "+callback+" "+reference)
	if s.failWith != nil {
		return false, s.failWith
	}
	k := [2]string{callback, reference}
	_, ok := s.timers[k]
	delete(s.timers, k)
	return ok, nil
}

// timer returns the pending timer (callback, reference).
func (s *fakeStore) timer(callback, reference string) (Timer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.timers[[2]string{callback, reference}]
	return t, ok
}

// pendingTimers returns the number of pending timers.
func (s *fakeStore) pendingTimers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.timers)
}
