package membership

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"eventide/consensus"
)

// realNode is a consensus store, a membership and a coordinator, wired as
// a node wires them.
type realNode struct {
	id     string
	store  *consensus.Store
	mem    *Membership
	stop   context.CancelFunc
	done   chan struct{}
	closed bool
}

func startRealNode(t *testing.T, id, dataDir string, bootstrap bool, join ...string) *realNode {
	t.Helper()
	log := testLogger(t).With("node", id)
	cfg := consensus.DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.BindAddr, cfg.Bootstrap = id, dataDir, "127.0.0.1:0", bootstrap
	cfg.NumVBuckets = 64
	// Lenient timeouts: three nodes under the race detector on two cores.
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	if bootstrap {
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 300*time.Millisecond, 300*time.Millisecond, 150*time.Millisecond
	}
	cfg.Logger = log
	st, err := consensus.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := New(Config{
		NodeID: id, BindAddr: "127.0.0.1", Join: join, Logger: log,
		Meta: Meta{NodeID: id, RaftAddr: st.Addr(), GRPCAddr: "127.0.0.1:1"},
	})
	if err != nil {
		_ = st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := mem.Join(ctx); err != nil {
		t.Fatal(err)
	}
	co, err := NewCoordinator(CoordinatorConfig{
		NodeID: id, Store: st, Members: mem, NumVBuckets: 64,
		FailoverTimeout: 500 * time.Millisecond, Interval: 100 * time.Millisecond, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	n := &realNode{id: id, store: st, mem: mem, stop: stop, done: make(chan struct{})}
	go func() { defer close(n.done); co.Run(rctx) }()
	t.Cleanup(func() { n.kill() })
	return n
}

// leave stops the node cleanly: coordinator, memberlist leave, raft.
func (n *realNode) leave(t *testing.T) {
	t.Helper()
	n.stop()
	<-n.done
	if err := n.mem.Leave(2 * time.Second); err != nil {
		t.Errorf("%s leave: %v", n.id, err)
	}
	n.kill()
}

// kill stops the node without a goodbye.
func (n *realNode) kill() {
	if n.closed {
		return
	}
	n.closed = true
	n.stop()
	<-n.done
	_ = n.mem.Shutdown()
	_ = n.store.Close()
}

func serverIDs(t *testing.T, s *consensus.Store) []string {
	t.Helper()
	servers, err := s.Servers()
	if err != nil {
		return nil
	}
	var ids []string
	for _, sv := range servers {
		if sv.Suffrage == consensus.SuffrageVoter {
			ids = append(ids, sv.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func mapBalancedOver(m consensus.VBMap, ids ...string) bool {
	if m.Epoch == 0 || len(m.Owners) != 64 {
		return false
	}
	c := countOwners(m.Owners)
	if len(c) != len(ids) {
		return false
	}
	for _, id := range ids {
		if c[id] < 64/len(ids) || c[id] > (64+len(ids)-1)/len(ids) {
			return false
		}
	}
	return true
}

func TestCoordinator_RealStores(t *testing.T) {
	dirs := map[string]string{}
	for _, id := range []string{"n1", "n2", "n3"} {
		dirs[id] = filepath.Join(t.TempDir(), id)
	}
	n1 := startRealNode(t, "n1", dirs["n1"], true)
	waitFor(t, 10*time.Second, "n1 to lead with its initial map", func() bool {
		return n1.store.IsLeader() && mapBalancedOver(n1.store.VBMap(), "n1")
	})

	n2 := startRealNode(t, "n2", dirs["n2"], false, n1.mem.Addr())
	n3 := startRealNode(t, "n3", dirs["n3"], false, n1.mem.Addr())
	waitFor(t, 15*time.Second, "three voters and a three-way map", func() bool {
		return slices.Equal(serverIDs(t, n1.store), []string{"n1", "n2", "n3"}) && mapBalancedOver(n1.store.VBMap(), "n1", "n2", "n3")
	})
	// Followers replicate the map.
	waitFor(t, 5*time.Second, "n2 and n3 to see the map", func() bool {
		m := n1.store.VBMap()
		return slices.Equal(n2.store.VBMap().Owners, m.Owners) && slices.Equal(n3.store.VBMap().Owners, m.Owners)
	})

	// n3 leaves cleanly: out of raft and of the map.
	n3.leave(t)
	waitFor(t, 10*time.Second, "n3 removed", func() bool {
		return slices.Equal(serverIDs(t, n1.store), []string{"n1", "n2"}) && mapBalancedOver(n1.store.VBMap(), "n1", "n2")
	})

	// n3 restarts with its data dir (at a new raft port) and is back.
	n3 = startRealNode(t, "n3", dirs["n3"], false, n2.mem.Addr())
	waitFor(t, 15*time.Second, "n3 back", func() bool {
		return slices.Equal(serverIDs(t, n1.store), []string{"n1", "n2", "n3"}) && mapBalancedOver(n1.store.VBMap(), "n1", "n2", "n3")
	})

	// n3 is killed: failed over after the timeout, but kept in raft.
	n3.kill()
	waitFor(t, 15*time.Second, "n3 failed over", func() bool { return mapBalancedOver(n1.store.VBMap(), "n1", "n2") })
	if ids := serverIDs(t, n1.store); !slices.Equal(ids, []string{"n1", "n2", "n3"}) {
		t.Fatalf("voters after failover = %v; a dead node stays in raft", ids)
	}
}
