package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
)

// lockedResolver is a Resolver whose entries change during a test.
type lockedResolver struct {
	mu    sync.Mutex
	addrs map[string]string
}

func (r *lockedResolver) GRPCAddr(id string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.addrs[id]
	return a, ok
}

func (r *lockedResolver) set(id, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addrs[id] = addr
}

func openStore(t *testing.T, id string, bootstrap bool, fwd consensus.Forwarder) *consensus.Store {
	t.Helper()
	cfg := consensus.DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.BindAddr, cfg.Bootstrap = id, t.TempDir(), "127.0.0.1:0", bootstrap
	cfg.NumVBuckets = 16
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	cfg.Forwarder = fwd
	cfg.Logger = testLogger(t).With("node", id)
	s, err := consensus.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// recordingForwarder keeps the last entry it forwarded successfully.
type recordingForwarder struct {
	*Forwarder
	mu   sync.Mutex
	last []byte
}

func (r *recordingForwarder) Forward(ctx context.Context, leaderID, leaderAddr string, entry []byte) error {
	err := r.Forwarder.Forward(ctx, leaderID, leaderAddr, entry)
	if err == nil {
		r.mu.Lock()
		r.last = append([]byte(nil), entry...)
		r.mu.Unlock()
	}
	return err
}

func TestForwarder_RealStores(t *testing.T) {
	res := &lockedResolver{addrs: map[string]string{}}
	client := mustClient(t)
	f, err := NewForwarder(client, res)
	if err != nil {
		t.Fatal(err)
	}
	fwd := &recordingForwarder{Forwarder: f}
	leader := openStore(t, "n1", true, fwd)
	waitFor(t, 10*time.Second, "n1 to lead", leader.IsLeader)
	follower := openStore(t, "n2", false, fwd)
	if err := leader.AddVoter(ctxTimeout(t, 10*time.Second), "n2", follower.Addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "n2 to know its leader", func() bool {
		id, _ := follower.Leader()
		return id == "n1"
	})

	// n1's gRPC server is not up yet: the follower's write waits (consensus
	// retries) and ends with its ctx, without being applied.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res.set("n1", l.Addr().String())
	err = follower.SetConfig(ctxTimeout(t, 500*time.Millisecond), "early", json.RawMessage(`1`))
	if err == nil {
		t.Fatal("a write forwarded to a leader without a gRPC server succeeded")
	}
	if leader.Config("early") != nil {
		t.Fatal("the failed write was applied")
	}

	serveOn(t, ServerConfig{Applier: leader, Runtime: &fakeRuntime{}}, l)
	for i := range 5 {
		key := fmt.Sprintf("k%d", i)
		if err := follower.SetConfig(ctxTimeout(t, 10*time.Second), key, json.RawMessage(`"v"`)); err != nil {
			t.Fatalf("forwarded write %d: %v", i, err)
		}
		// The write returns once the follower applied it itself.
		if got := string(follower.Config(key)); got != `"v"` {
			t.Fatalf("follower reads %s = %q after its own write", key, got)
		}
		if got := string(leader.Config(key)); got != `"v"` {
			t.Fatalf("leader reads %s = %q", key, got)
		}
	}

	fwd.mu.Lock()
	entry := fwd.last
	fwd.mu.Unlock()
	if entry == nil {
		t.Fatal("no entry was forwarded")
	}
	applied := leader.Stats().AppliedIndex

	// A follower's server refuses an entry: it is not the leader.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ServerConfig{Applier: follower, Runtime: &fakeRuntime{}}, l2)
	toFollower, _ := NewForwarder(client, mapResolver{"n2": l2.Addr().String()})
	if err := toFollower.Forward(ctxTimeout(t, 5*time.Second), "n2", "", entry); !errors.Is(err, consensus.ErrNotLeader) {
		t.Fatalf("Forward to a follower = %v, want ErrNotLeader", err)
	}
	// Resending an entry whose reply was lost is harmless: the leader
	// answers success without applying it twice.
	toLeader, _ := NewForwarder(client, res)
	if err := toLeader.Forward(ctxTimeout(t, 5*time.Second), "n1", "", entry); err != nil {
		t.Fatalf("resent entry = %v", err)
	}
	if err := toLeader.Forward(ctxTimeout(t, 5*time.Second), "n1", "", []byte{0xff, 1, 2}); !errors.Is(err, consensus.ErrInvalid) {
		t.Fatalf("garbage entry = %v, want the leader's ErrInvalid", err)
	}
	if got := leader.Stats().AppliedIndex; got > applied+1 {
		t.Fatalf("applied index went %d → %d on a resent entry", applied, got)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := toLeader.Forward(cancelled, "n1", "", entry); !errors.Is(err, context.Canceled) {
		t.Fatalf("Forward with a cancelled ctx = %v, want Canceled", err)
	}
}
