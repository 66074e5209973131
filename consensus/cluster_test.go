package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// newCluster starts n nodes (n1 bootstraps and adds the others as voters)
// over raft's in-memory transport, or loopback TCP when tcp is set; opts
// adjust each node's config.
func newCluster(t *testing.T, n int, tcp bool, opts ...func(*Config)) []*Store {
	t.Helper()
	var trans []*raft.InmemTransport
	if !tcp {
		for i := range n {
			_, tr := raft.NewInmemTransportWithTimeout(raft.ServerAddress(fmt.Sprintf("n%d", i+1)), 5*time.Second)
			trans = append(trans, tr)
		}
		for _, a := range trans {
			for _, b := range trans {
				if a != b {
					a.Connect(b.LocalAddr(), b)
				}
			}
		}
	}
	nodes := make([]*Store, n)
	for i := range n {
		cfg := testConfig(t, fmt.Sprintf("n%d", i+1))
		cfg.Bootstrap = i == 0
		// Three nodes (and the race detector) on two loaded cores: be
		// lenient with timeouts, so that leadership stays put. n1 starts
		// with a shorter heartbeat timeout to win its first election
		// quickly, and gets the long one below.
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
		if i == 0 {
			cfg.HeartbeatTimeout, cfg.ElectionTimeout = 500*time.Millisecond, 500*time.Millisecond
		}
		for _, o := range opts {
			o(&cfg)
		}
		if tcp {
			nodes[i] = mustOpen2(t, cfg)
		} else {
			nodes[i] = mustOpenWith(t, cfg, trans[i])
		}
	}
	waitFor(t, 10*time.Second, nodes[0].IsLeader)
	if err := nodes[0].raft.ReloadConfig(raft.ReloadableConfig{
		HeartbeatTimeout: time.Second, ElectionTimeout: time.Second,
		TrailingLogs: nodes[0].cfg.TrailingLogs, SnapshotInterval: nodes[0].cfg.SnapshotInterval, SnapshotThreshold: nodes[0].cfg.SnapshotThreshold,
	}); err != nil {
		t.Fatalf("ReloadConfig: %v", err)
	}
	for _, s := range nodes[1:] {
		if err := nodes[0].AddVoter(ctxT(t), s.cfg.NodeID, s.Addr()); err != nil {
			t.Fatalf("AddVoter %s: %v", s.cfg.NodeID, err)
		}
	}
	for _, s := range nodes {
		waitFor(t, 10*time.Second, func() bool {
			id, _ := s.Leader()
			return id == "n1" && s.Stats().AppliedIndex >= nodes[0].Stats().AppliedIndex
		})
	}
	return nodes
}

// mustOpen2 opens a TCP node without waiting for leadership.
func mustOpen2(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestCluster_FollowerWritesReturnErrNotLeader(t *testing.T) {
	nodes := newCluster(t, 3, false)
	leader, follower := nodes[0], nodes[1]
	ctx := ctxT(t)
	mustBucket(t, leader, "b")
	doc := mustWrite(t, leader, upsert(testKS, "k", `{"v":1}`))[0]
	f := deploy(t, leader, "fn", "inst", BoundaryEverything)

	// Followers apply the same log: same document, same record.
	for _, s := range nodes[1:] {
		waitFor(t, 5*time.Second, func() bool {
			d, err := s.Docs().Get(testKS, "k")
			return err == nil && d.CAS == doc.CAS && d.Seqno == doc.Seqno && d.RevID == doc.RevID
		})
		waitFor(t, 5*time.Second, func() bool {
			got, err := s.Function("fn")
			return err == nil && got.Version == f.Version && got.InstanceID == "inst" && len(got.Checkpoints) == 64
		})
	}

	if follower.IsLeader() {
		t.Fatal("follower claims leadership")
	}
	if id, _ := follower.Leader(); id != "n1" {
		t.Fatalf("follower sees leader %q", id)
	}
	_, err := follower.WriteDocs(ctx, []docstore.Mutation{upsert(testKS, "k2", `1`)})
	wantErr(t, err, ErrNotLeader)
	_, err = follower.ChangeFunction(ctx, FunctionChange{Name: "g", Definition: json.RawMessage(`{}`)})
	wantErr(t, err, ErrNotLeader)
	_, err = follower.CommitBatch(ctx, Batch{Function: "fn", InstanceID: "inst"})
	wantErr(t, err, ErrNotLeader)
	wantErr(t, follower.SetConfig(ctx, "k", json.RawMessage(`1`)), ErrNotLeader)
	wantErr(t, follower.AddVoter(ctx, "n9", "n9"), ErrNotLeader)
	if _, err := follower.Docs().Get(testKS, "k2"); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("rejected write visible: %v", err)
	}
}

func TestCluster_Membership(t *testing.T) {
	nodes := newCluster(t, 3, false)
	leader := nodes[0]
	srv, err := leader.Servers()
	if err != nil {
		t.Fatalf("Servers: %v", err)
	}
	want := []Server{
		{ID: "n1", Address: "n1", Suffrage: SuffrageVoter},
		{ID: "n2", Address: "n2", Suffrage: SuffrageVoter},
		{ID: "n3", Address: "n3", Suffrage: SuffrageVoter},
	}
	if fmt.Sprint(srv) != fmt.Sprint(want) {
		t.Fatalf("Servers = %+v, want %+v", srv, want)
	}
	// Followers see the same configuration.
	waitFor(t, 5*time.Second, func() bool {
		got, err := nodes[2].Servers()
		return err == nil && fmt.Sprint(got) == fmt.Sprint(want)
	})

	ctx := ctxT(t)
	if err := leader.RemoveServer(ctx, "n3"); err != nil {
		t.Fatalf("RemoveServer: %v", err)
	}
	// n3 rejoins as a non-voter.
	if err := leader.AddNonvoter(ctx, "n3", "n3"); err != nil {
		t.Fatalf("AddNonvoter: %v", err)
	}
	srv, _ = leader.Servers()
	if len(srv) != 3 || srv[2] != (Server{ID: "n3", Address: "n3", Suffrage: SuffrageNonvoter}) {
		t.Fatalf("after re-adding n3 as non-voter: %+v", srv)
	}
	wantErr(t, leader.AddVoter(ctx, "", "x"), ErrInvalid)
	wantErr(t, leader.RemoveServer(ctx, ""), ErrInvalid)

	// A cancelled context is honoured before anything starts.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantErr(t, leader.AddVoter(cctx, "n4", "n4"), context.Canceled)
}

// TestCluster_NewLeaderAfterLeaderCloses closes the leader; a follower takes
// over with all committed state and accepts writes.
func TestCluster_NewLeaderAfterLeaderCloses(t *testing.T) {
	nodes := newCluster(t, 3, false)
	mustBucket(t, nodes[0], "b")
	mustWrite(t, nodes[0], upsert(testKS, "before", `1`))
	idx := nodes[0].Stats().AppliedIndex
	for _, s := range nodes[1:] {
		waitFor(t, 5*time.Second, func() bool { return s.Stats().AppliedIndex >= idx })
	}
	if err := nodes[0].Close(); err != nil {
		t.Fatalf("Close leader: %v", err)
	}
	// As with a stopped process, calls to it now fail at once.
	for _, s := range nodes[1:] {
		s.trans.(*raft.InmemTransport).Disconnect("n1")
	}
	var leader *Store
	waitFor(t, 10*time.Second, func() bool {
		for _, s := range nodes[1:] {
			if s.IsLeader() {
				leader = s
				return true
			}
		}
		return false
	})
	if _, err := leader.Docs().Get(testKS, "before"); err != nil {
		t.Fatalf("new leader lost a committed write: %v", err)
	}
	mustWrite(t, leader, upsert(testKS, "after", `2`))
}

// TestCluster_TCP runs a 3-node cluster over loopback TCP transports;
// followers write through the forwarder.
func TestCluster_TCP(t *testing.T) {
	nodes, _ := newForwardCluster(t, 3, true)
	mustBucket(t, nodes[0], "b")
	d := mustWrite(t, nodes[0], upsert(testKS, "k", `{"tcp":true}`))[0]
	for _, s := range nodes[1:] {
		waitFor(t, 5*time.Second, func() bool {
			got, err := s.Docs().Get(testKS, "k")
			return err == nil && got.CAS == d.CAS
		})
	}
	fd := mustWrite(t, nodes[2], upsert(testKS, "from-n3", `{"tcp":true}`))[0]
	if got, err := nodes[2].Docs().Get(testKS, "from-n3"); err != nil || got.CAS != fd.CAS {
		t.Fatalf("n3 reads its forwarded write as %+v, %v", got, err)
	}
	waitFor(t, 5*time.Second, func() bool {
		got, err := nodes[0].Docs().Get(testKS, "from-n3")
		return err == nil && got.CAS == fd.CAS
	})
	srv, err := nodes[0].Servers()
	if err != nil || len(srv) != 3 || srv[1].Address != nodes[1].Addr() {
		t.Fatalf("Servers = %+v, %v", srv, err)
	}
}
