package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/handler"
	"eventide/internal/testlog"
	"eventide/proto/nodepb"
)

// fakeApplier records entries and answers with applyErr, optionally after
// blocking until release is closed or ctx ends.
type fakeApplier struct {
	mu       sync.Mutex
	entries  [][]byte
	applyErr error
	started  chan struct{} // receives once per call when non-nil
	release  chan struct{} // blocks calls until closed when non-nil
}

func (a *fakeApplier) ApplyEntry(ctx context.Context, entry []byte) error {
	if a.started != nil {
		a.started <- struct{}{}
	}
	if a.release != nil {
		select {
		case <-a.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, bytes.Clone(entry))
	return a.applyErr
}

func (a *fakeApplier) got() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.entries
}

// fakeRuntime answers from fixed data.
type fakeRuntime struct {
	mu      sync.Mutex
	logs    map[string]string
	stats   map[string][]byte
	insight map[string]map[int]handler.InsightLine
	resets  []string
	delay   time.Duration // AppLog waits this long (or until ctx ends)
	lastLen int           // size of the last AppLog request
}

func (r *fakeRuntime) AppLog(ctx context.Context, fn string, size int) (string, error) {
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastLen = size
	text, ok := r.logs[fn]
	if !ok {
		return "", fmt.Errorf("eventing: application log of %s unavailable", fn)
	}
	if len(text) > size {
		text = text[len(text)-size:]
	}
	return text, nil
}

func (r *fakeRuntime) StatsJSON(fn string) ([]byte, bool) {
	b, ok := r.stats[fn]
	return b, ok
}

func (r *fakeRuntime) ResetStats(fn string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resets = append(r.resets, fn)
	return nil
}

func (r *fakeRuntime) Insight(fn string) map[int]handler.InsightLine {
	return maps.Clone(r.insight[fn])
}

// mapResolver resolves from a fixed map.
type mapResolver map[string]string

func (m mapResolver) GRPCAddr(id string) (string, bool) {
	a, ok := m[id]
	return a, ok
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testServer is a running Server on 127.0.0.1.
type testServer struct {
	srv  *Server
	addr string
	done chan error
}

func startServer(t *testing.T, cfg ServerConfig) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, cfg, l)
}

func serveOn(t *testing.T, cfg ServerConfig, l net.Listener) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, addr: l.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(l) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.srv.Stop(ctx)
	select {
	case err := <-ts.done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
		ts.done <- nil // later stops see it too
	case <-time.After(5 * time.Second):
		t.Error("Serve did not return after Stop")
	}
}

func mustClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{ReconnectMaxDelay: 200 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// freeAddr returns an address on which nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerConfig_Validate(t *testing.T) {
	ok := ServerConfig{Applier: &fakeApplier{}, Runtime: &fakeRuntime{}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, cfg := range map[string]ServerConfig{
		"no applier":       {Runtime: &fakeRuntime{}},
		"no runtime":       {Applier: &fakeApplier{}},
		"tiny messages":    {Applier: &fakeApplier{}, Runtime: &fakeRuntime{}, MaxMessageBytes: 1000},
		"app log too big":  {Applier: &fakeApplier{}, Runtime: &fakeRuntime{}, MaxMessageBytes: 2 << 20, MaxAppLogBytes: 2 << 20},
		"negative app log": {Applier: &fakeApplier{}, Runtime: &fakeRuntime{}, MaxAppLogBytes: -1},
	} {
		t.Run(name, func(t *testing.T) {
			err := cfg.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), "rpc: invalid server config") {
				t.Fatalf("Validate = %v, want an rpc config error", err)
			}
			if _, err := NewServer(cfg); err == nil {
				t.Fatal("NewServer accepted an invalid config")
			}
		})
	}
	if err := (ClientConfig{MaxMessageBytes: 10}).Validate(); err == nil {
		t.Fatal("client config with 10-byte messages accepted")
	}
	if err := (ClientConfig{ReconnectMaxDelay: time.Millisecond}).Validate(); err == nil {
		t.Fatal("client config with 1ms reconnect delay accepted")
	}
}

func TestForward_AppliesOnLeader(t *testing.T) {
	app := &fakeApplier{}
	ts := startServer(t, ServerConfig{Applier: app, Runtime: &fakeRuntime{}})
	f, err := NewForwarder(mustClient(t), mapResolver{"n1": ts.addr})
	if err != nil {
		t.Fatal(err)
	}
	// Larger than gRPC's default 4 MiB message limit.
	big := bytes.Repeat([]byte{7}, 10<<20)
	for _, entry := range [][]byte{[]byte("entry-1"), big} {
		if err := f.Forward(ctxTimeout(t, 10*time.Second), "n1", "127.0.0.1:9097", entry); err != nil {
			t.Fatalf("Forward(%d bytes) = %v", len(entry), err)
		}
	}
	got := app.got()
	if len(got) != 2 || string(got[0]) != "entry-1" || !bytes.Equal(got[1], big) {
		t.Fatalf("applier got %d entries, want the 2 forwarded intact", len(got))
	}
}

func TestForward_ErrorsMapBack(t *testing.T) {
	for _, tc := range []struct {
		name     string
		applyErr error
		want     error
		notWant  error
	}{
		{"not leader", fmt.Errorf("apply: %w", consensus.ErrNotLeader), consensus.ErrNotLeader, consensus.ErrLeadershipLost},
		{"leadership lost", fmt.Errorf("%w: raft says so", consensus.ErrLeadershipLost), consensus.ErrLeadershipLost, consensus.ErrNotLeader},
		{"too large", consensus.ErrTooLarge, consensus.ErrTooLarge, consensus.ErrNotLeader},
		{"stale owner", consensus.ErrStaleOwner, consensus.ErrStaleOwner, consensus.ErrNotLeader},
		{"invalid", fmt.Errorf("%w: undecodable entry", consensus.ErrInvalid), consensus.ErrInvalid, ErrRemote},
		{"leader closing", consensus.ErrClosed, consensus.ErrLeadershipLost, consensus.ErrClosed},
		{"other", errors.New("disk on fire"), ErrRemote, consensus.ErrNotLeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, ServerConfig{Applier: &fakeApplier{applyErr: tc.applyErr}, Runtime: &fakeRuntime{}})
			f, _ := NewForwarder(mustClient(t), mapResolver{"n1": ts.addr})
			err := f.Forward(ctxTimeout(t, 5*time.Second), "n1", "raft-addr", []byte("e"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Forward = %v, want errors.Is %v", err, tc.want)
			}
			if errors.Is(err, tc.notWant) {
				t.Fatalf("Forward = %v, must not be %v", err, tc.notWant)
			}
			if !strings.Contains(err.Error(), "n1") {
				t.Fatalf("error %q does not name the leader", err)
			}
		})
	}
	t.Run("remote message kept", func(t *testing.T) {
		ts := startServer(t, ServerConfig{Applier: &fakeApplier{applyErr: fmt.Errorf("%w: term 7", consensus.ErrNotLeader)}, Runtime: &fakeRuntime{}})
		f, _ := NewForwarder(mustClient(t), mapResolver{"n1": ts.addr})
		err := f.Forward(ctxTimeout(t, 5*time.Second), "n1", "", []byte("e"))
		if !strings.Contains(err.Error(), "consensus: not leader: term 7") {
			t.Fatalf("error %q lost the leader's message", err)
		}
	})
}

func TestForward_NotSent(t *testing.T) {
	c := mustClient(t)
	t.Run("no leader", func(t *testing.T) {
		f, _ := NewForwarder(c, mapResolver{})
		err := f.Forward(ctxTimeout(t, time.Second), "", "", []byte("e"))
		if !errors.Is(err, consensus.ErrNotLeader) {
			t.Fatalf("Forward = %v, want ErrNotLeader", err)
		}
	})
	t.Run("unknown leader", func(t *testing.T) {
		f, _ := NewForwarder(c, ResolverFunc(func(id string) (string, bool) {
			return mapResolver{"n2": "127.0.0.1:1"}.GRPCAddr(id)
		}))
		err := f.Forward(ctxTimeout(t, time.Second), "n1", "127.0.0.1:9097", []byte("e"))
		if !errors.Is(err, consensus.ErrNotLeader) || !errors.Is(err, ErrUnknownPeer) {
			t.Fatalf("Forward = %v, want ErrNotLeader and ErrUnknownPeer", err)
		}
	})
	t.Run("leader down", func(t *testing.T) {
		f, _ := NewForwarder(c, mapResolver{"n1": freeAddr(t)})
		start := time.Now()
		err := f.Forward(ctxTimeout(t, 5*time.Second), "n1", "", []byte("e"))
		if !errors.Is(err, consensus.ErrNotLeader) || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Forward = %v, want ErrNotLeader and ErrUnavailable", err)
		}
		if errors.Is(err, consensus.ErrLeadershipLost) {
			t.Fatalf("Forward = %v: nothing was sent, the outcome is known", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Forward to a down leader took %s; it must fail fast", d)
		}
	})
	t.Run("empty entry", func(t *testing.T) {
		f, _ := NewForwarder(c, mapResolver{"n1": "127.0.0.1:1"})
		if err := f.Forward(ctxTimeout(t, time.Second), "n1", "", nil); !errors.Is(err, ErrInvalid) || !errors.Is(err, consensus.ErrInvalid) {
			t.Fatalf("Forward(nil) = %v, want ErrInvalid (a refusal consensus does not retry)", err)
		}
	})
	t.Run("closed client", func(t *testing.T) {
		cc := mustClient(t)
		_ = cc.Close()
		f, _ := NewForwarder(cc, mapResolver{"n1": "127.0.0.1:1"})
		if err := f.Forward(ctxTimeout(t, time.Second), "n1", "", []byte("e")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Forward on a closed client = %v, want ErrClosed", err)
		}
	})
	if _, err := NewForwarder(nil, mapResolver{}); err == nil {
		t.Fatal("NewForwarder(nil client) succeeded")
	}
}

func TestForward_BrokenAfterSendIsUnknownOutcome(t *testing.T) {
	app := &fakeApplier{started: make(chan struct{}, 1), release: make(chan struct{})}
	ts := startServer(t, ServerConfig{Applier: app, Runtime: &fakeRuntime{}})
	f, _ := NewForwarder(mustClient(t), mapResolver{"n1": ts.addr})
	errc := make(chan error, 1)
	go func() { errc <- f.Forward(ctxTimeout(t, 10*time.Second), "n1", "", []byte("e")) }()
	select {
	case <-app.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the entry never reached the leader")
	}
	// A hard stop cuts the connection while the entry is being applied.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ts.srv.Stop(cancelled)
	err := <-errc
	if !errors.Is(err, consensus.ErrLeadershipLost) {
		t.Fatalf("Forward = %v, want ErrLeadershipLost (outcome unknown)", err)
	}
	if errors.Is(err, consensus.ErrNotLeader) {
		t.Fatalf("Forward = %v: the entry was sent, it must not read as not applied", err)
	}
	close(app.release)
}

func TestForward_Deadline(t *testing.T) {
	app := &fakeApplier{release: make(chan struct{})}
	defer close(app.release)
	ts := startServer(t, ServerConfig{Applier: app, Runtime: &fakeRuntime{}})
	f, _ := NewForwarder(mustClient(t), mapResolver{"n1": ts.addr})
	err := f.Forward(ctxTimeout(t, 200*time.Millisecond), "n1", "", []byte("e"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Forward = %v, want DeadlineExceeded", err)
	}
}

func TestClient_Calls(t *testing.T) {
	rt := &fakeRuntime{
		logs:  map[string]string{"b/s/f1": "line 1\nline 2\nline 3\n"},
		stats: map[string][]byte{"b/s/f1": []byte(`{"execution_stats":{"on_update_success":3}}`)},
	}
	ts := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: rt, MaxMessageBytes: 2 << 20, MaxAppLogBytes: 1 << 20})
	c := mustClient(t)
	ctx := ctxTimeout(t, 10*time.Second)

	text, err := c.AppLog(ctx, ts.addr, "b/s/f1", 14)
	if err != nil || text != "line 2\nline 3\n" {
		t.Fatalf("AppLog = %q, %v", text, err)
	}
	if _, err := c.AppLog(ctx, ts.addr, "b/s/f1", 10<<20); err != nil {
		t.Fatalf("AppLog(10 MiB) = %v", err)
	}
	if rt.lastLen != 1<<20 {
		t.Fatalf("AppLog size reached the runtime as %d, want it cut to MaxAppLogBytes", rt.lastLen)
	}
	if _, err := c.AppLog(ctx, ts.addr, "b/s/none", 10); !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "application log of b/s/none unavailable") {
		t.Fatalf("AppLog(unknown) = %v, want ErrRemote with the runtime's message", err)
	}
	if _, err := c.AppLog(ctx, ts.addr, "", 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("AppLog(\"\") = %v, want ErrInvalid", err)
	}
	// The server validates too, whatever the client sends.
	n, _ := c.Node(ts.addr)
	if _, err := n.AppLog(ctx, &nodepb.AppLogRequest{Function: "f", Size: -1}); !errors.Is(fromStatus(err), ErrInvalid) {
		t.Fatalf("raw AppLog(size -1) = %v, want InvalidArgument", err)
	}
	if _, err := n.Forward(ctx, &nodepb.ForwardRequest{}); !errors.Is(fromStatus(err), consensus.ErrInvalid) {
		t.Fatalf("raw Forward(empty) = %v, want InvalidArgument", err)
	}

	b, found, err := c.FunctionStats(ctx, ts.addr, "b/s/f1")
	if err != nil || !found {
		t.Fatalf("FunctionStats = %v, %v", found, err)
	}
	var stats map[string]map[string]int
	if err := json.Unmarshal(b, &stats); err != nil || stats["execution_stats"]["on_update_success"] != 3 {
		t.Fatalf("stats JSON %s did not travel unchanged (%v)", b, err)
	}
	if b, found, err := c.FunctionStats(ctx, ts.addr, "b/s/none"); err != nil || found || b != nil {
		t.Fatalf("FunctionStats(unknown) = %s, %v, %v; want not found", b, found, err)
	}

	if err := c.ResetStats(ctx, ts.addr, "b/s/f1"); err != nil {
		t.Fatalf("ResetStats = %v", err)
	}
	if len(rt.resets) != 1 || rt.resets[0] != "b/s/f1" {
		t.Fatalf("runtime resets = %v", rt.resets)
	}
}

func TestClient_ReconnectsAndCloses(t *testing.T) {
	rt := &fakeRuntime{logs: map[string]string{"f": "x\n"}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	ts := serveOn(t, ServerConfig{Applier: &fakeApplier{}, Runtime: rt}, l)
	c := mustClient(t)
	if _, err := c.AppLog(ctxTimeout(t, 5*time.Second), addr, "f", 10); err != nil {
		t.Fatal(err)
	}
	ts.stop(t)
	if _, err := c.AppLog(ctxTimeout(t, 5*time.Second), addr, "f", 10); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("AppLog on a stopped peer = %v, want ErrUnavailable", err)
	}
	// The peer comes back on the same address: the same connection reaches
	// it again within the reconnect backoff.
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("relisten on %s: %v", addr, err)
	}
	serveOn(t, ServerConfig{Applier: &fakeApplier{}, Runtime: rt}, l2)
	waitFor(t, 5*time.Second, "the restarted peer", func() bool {
		_, err := c.AppLog(ctxTimeout(t, time.Second), addr, "f", 10)
		return err == nil
	})
	c.Forget(addr)
	if _, err := c.AppLog(ctxTimeout(t, 5*time.Second), addr, "f", 10); err != nil {
		t.Fatalf("AppLog after Forget = %v, want a fresh connection", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Node(addr); !errors.Is(err, ErrClosed) {
		t.Fatalf("Node after Close = %v, want ErrClosed", err)
	}
	if _, err := c.Node(""); !errors.Is(err, ErrUnknownPeer) && !errors.Is(err, ErrClosed) {
		t.Fatalf("Node(\"\") = %v", err)
	}
}

func TestFanOut_ReportsWhoDidNotAnswer(t *testing.T) {
	fast := &fakeRuntime{logs: map[string]string{"f": "from fast\n"}}
	slow := &fakeRuntime{logs: map[string]string{"f": "from slow\n"}, delay: 5 * time.Second}
	other := &fakeRuntime{logs: map[string]string{"f": "from other\n"}}
	a := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: fast})
	b := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: slow})
	d := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: other})
	peers := []Peer{
		{ID: "n3", Addr: d.addr},
		{ID: "n1", Addr: a.addr},
		{ID: "n2", Addr: b.addr},      // too slow
		{ID: "n4", Addr: freeAddr(t)}, // down
		{ID: "n5"},                    // no address
		{ID: "n1", Addr: freeAddr(t)}, // repeated id: the first entry wins
	}
	c := mustClient(t)
	start := time.Now()
	res := c.AppLogAll(ctxTimeout(t, 10*time.Second), peers, 300*time.Millisecond, "f", 100)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("fan-out took %s with a 300ms deadline", d)
	}
	if len(res.Answers) != 2 || res.Answers["n1"] != "from fast\n" || res.Answers["n3"] != "from other\n" {
		t.Fatalf("answers = %v", res.Answers)
	}
	if got := strings.Join(res.FailedIDs(), ","); got != "n2,n4,n5" {
		t.Fatalf("failed = %s, want n2,n4,n5", got)
	}
	for _, f := range res.Failed {
		var want error
		switch f.Peer.ID {
		case "n2":
			want = context.DeadlineExceeded
		case "n4":
			want = ErrUnavailable
		case "n5":
			want = ErrUnknownPeer
		}
		if !errors.Is(f.Err, want) {
			t.Errorf("%s failed with %v, want %v", f.Peer.ID, f.Err, want)
		}
	}

	// The typed fan-outs carry each call's answer.
	a2 := &fakeRuntime{stats: map[string][]byte{"f": []byte(`{"a":1}`)}}
	s2 := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: a2})
	s3 := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: &fakeRuntime{}})
	two := []Peer{{ID: "x", Addr: s2.addr}, {ID: "y", Addr: s3.addr}}
	stats := c.FunctionStatsAll(ctxTimeout(t, 5*time.Second), two, time.Second, "f")
	if len(stats.Failed) != 0 || string(stats.Answers["x"]) != `{"a":1}` || stats.Answers["y"] != nil {
		t.Fatalf("FunctionStatsAll = %v / %v", stats.Answers, stats.Failed)
	}
	if _, ok := stats.Answers["y"]; !ok {
		t.Fatal("a peer without stats answered and must be among the answers")
	}
	reset := c.ResetStatsAll(ctxTimeout(t, 5*time.Second), two, time.Second, "f")
	if len(reset.Answers) != 2 || len(a2.resets) != 1 {
		t.Fatalf("ResetStatsAll = %v / %v, resets %v", reset.Answers, reset.Failed, a2.resets)
	}
	bad := c.AppLogAll(ctxTimeout(t, 5*time.Second), two, time.Second, "", 10)
	if len(bad.Failed) != 2 || !errors.Is(bad.Failed[0].Err, ErrInvalid) {
		t.Fatalf("AppLogAll with no function = %v, want both peers failing ErrInvalid", bad.Failed)
	}
}

func TestFanOut_ParentContextEnds(t *testing.T) {
	slow := &fakeRuntime{logs: map[string]string{"f": "x"}, delay: 5 * time.Second}
	s := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: slow})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	res := mustClient(t).AppLogAll(ctx, []Peer{{ID: "n1", Addr: s.addr}}, time.Minute, "f", 10)
	if time.Since(start) > 2*time.Second || len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, context.Canceled) {
		t.Fatalf("fan-out under a cancelled ctx = %v after %s", res.Failed, time.Since(start))
	}
}
