// Package nodetest starts real eventide nodes in-process for tests: fresh
// free ports on loopback, a temporary data dir, logs routed to t.Log, and
// restart with the same data dir and ports.
package nodetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"eventide/clustersec"
	"eventide/internal/faultnet"
	"eventide/internal/testlog"
	"eventide/node"
)

// Node is a test node; it is closed when the test ends.
type Node struct {
	t   testing.TB
	Cfg node.Config
	*node.Node
}

// Options adjust a test node's configuration.
type Options struct {
	// VBuckets per bucket; default 64 to keep tests fast.
	VBuckets int
	// Verbose routes the node's logs to t.Log.
	Verbose bool
	// FailoverTimeout overrides the default 5s.
	FailoverTimeout time.Duration
	// Mgmt8091 binds the node to a fresh loopback address (127.x.y.z) with
	// the cluster manager API on port 8091, the only HTTP port Couchbase
	// SDKs reach with a couchbase:// connection string.
	Mgmt8091 bool
	// ClusterSecret is the nodes' cluster secret. Default: NewNode leaves
	// it empty (the node generates one in its data dir, as `make run`
	// does); NewCluster generates one for its nodes (Cluster.Secret).
	ClusterSecret string
	// QinlingJobMinLead overrides the 60 s a Qinling job's first
	// execution time must be ahead, so tests need not wait a minute.
	QinlingJobMinLead time.Duration
	// DockerHost gives the node a container engine for Qinling image
	// functions (containerstest.Host()). Default: none.
	DockerHost string
}

// NewNode starts a one-node cluster.
func NewNode(t testing.TB, o Options) *Node {
	t.Helper()
	n := newNode(t, "n1", o)
	n.start()
	return n
}

// newNode configures (but does not start) a test node.
func newNode(t testing.TB, id string, o Options) *Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.NodeID = id
	cfg.DataDir = t.TempDir()
	cfg.VBuckets = 64
	if o.VBuckets > 0 {
		cfg.VBuckets = o.VBuckets
	}
	// Each node on an address of its own: the ports freePorts finds free
	// are released until the node binds them, and on 127.0.0.1 any
	// outgoing connection (whose source is 127.0.0.1) could take one
	// meanwhile.
	mgmt := 0
	if o.Mgmt8091 {
		mgmt = 8091
	}
	cfg.BindAddr = FreshLoopback(t, mgmt)
	ports := freePorts(t, cfg.BindAddr, 8)
	if o.Mgmt8091 {
		ports[0] = 8091
	}
	cfg.Ports = node.Ports{
		Mgmt: ports[0], Query: ports[1], Eventing: ports[2], SyncGateway: ports[3],
		Qinling: ports[4], GRPC: ports[5], Raft: ports[6], Gossip: ports[7],
	}
	if o.Verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.FailoverTimeout > 0 {
		cfg.FailoverTimeout = o.FailoverTimeout
	}
	cfg.ClusterSecret = o.ClusterSecret
	cfg.DockerHost = o.DockerHost
	if o.QinlingJobMinLead > 0 {
		cfg.QinlingJobMinLead = o.QinlingJobMinLead
	}
	n := &Node{t: t, Cfg: cfg}
	t.Cleanup(func() {
		if n.Node != nil {
			_ = n.Node.Close()
		}
	})
	return n
}

func (n *Node) start() {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.TryStart(ctx); err != nil {
		n.t.Fatalf("nodetest: %v", err)
	}
}

// TryStart starts a stopped node within ctx and returns why it could not
// (tests of nodes that must not get in use it); a failed node is closed.
func (n *Node) TryStart(ctx context.Context) error {
	if n.Node != nil {
		return nil
	}
	nd, err := node.New(n.Cfg)
	if err != nil {
		return fmt.Errorf("new node: %w", err)
	}
	if err := nd.Start(ctx); err != nil {
		_ = nd.Close()
		return fmt.Errorf("start node: %w", err)
	}
	n.Node = nd
	return nil
}

// Restart closes the node cleanly and starts it again on the same data dir
// and ports.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	n.start()
}

// Stop closes the node cleanly (it leaves the cluster gracefully).
func (n *Node) Stop() {
	n.t.Helper()
	if n.Node == nil {
		return
	}
	if err := n.Node.Close(); err != nil {
		n.t.Fatalf("nodetest: close: %v", err)
	}
	n.Node = nil
}

// Kill stops the node abruptly, as a crash would.
func (n *Node) Kill() {
	if n.Node != nil {
		n.Node.Kill()
		n.Node = nil
	}
}

// Start starts a stopped or killed node again on its data dir and ports.
func (n *Node) Start() {
	n.t.Helper()
	if n.Node == nil {
		n.start()
	}
}

// Running reports whether the node is up.
func (n *Node) Running() bool { return n.Node != nil }

// GossipAddr is the node's memberlist address.
func (n *Node) GossipAddr() string {
	return net.JoinHostPort(n.Cfg.BindAddr, strconv.Itoa(n.Cfg.Ports.Gossip))
}

// Cluster is a set of real in-process nodes forming one cluster. Their
// Raft, gRPC and gossip traffic runs over one faultnet.Net, so a test can
// Partition them.
type Cluster struct {
	t     testing.TB
	Nodes []*Node
	// Net is the nodes' fault-injecting network.
	Net *faultnet.Net
	// Secret is the nodes' cluster secret.
	Secret string
	opts   Options
}

// NewCluster starts k nodes: n1 bootstraps the cluster, the others join it
// with every other node as a seed. They share o.ClusterSecret, or a fresh
// random one.
func NewCluster(t testing.TB, k int, o Options) *Cluster {
	t.Helper()
	if o.ClusterSecret == "" {
		s, err := clustersec.GenerateSecret()
		if err != nil {
			t.Fatalf("nodetest: %v", err)
		}
		o.ClusterSecret = s
	}
	c := &Cluster{t: t, Net: faultnet.New(), Secret: o.ClusterSecret, opts: o}
	for i := range k {
		n := newNode(t, fmt.Sprintf("n%d", i+1), o)
		n.Cfg.Network = c.Net.Endpoint(n.Cfg.NodeID)
		c.Nodes = append(c.Nodes, n)
	}
	for i, n := range c.Nodes {
		for j, m := range c.Nodes {
			if i > 0 && j != i {
				n.Cfg.Join = append(n.Cfg.Join, m.GossipAddr())
			}
		}
	}
	for _, n := range c.Nodes {
		n.start()
	}
	return c
}

// Joiner configures, without starting it, one more node id that joins
// the cluster through every node of it, on its network and with its
// options; secret is its cluster secret ("": the cluster's). It is not
// added to Nodes. Start it with Start or TryStart.
func (c *Cluster) Joiner(id, secret string) *Node {
	c.t.Helper()
	o := c.opts
	if secret != "" {
		o.ClusterSecret = secret
	}
	n := newNode(c.t, id, o)
	n.Cfg.Network = c.Net.Endpoint(id)
	for _, m := range c.Nodes {
		n.Cfg.Join = append(n.Cfg.Join, m.GossipAddr())
	}
	return n
}

// Leader returns the running node that is the Raft leader, waiting up to
// 30s for one.
func (c *Cluster) Leader() *Node {
	c.t.Helper()
	var leader *Node
	WaitFor(c.t, 30*time.Second, "a leader", func() bool {
		for _, n := range c.Nodes {
			if n.Running() && n.Store().IsLeader() {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

// WaitFor polls cond until it holds, failing the test after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("nodetest: timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Followers returns the running nodes that are not the leader.
func (c *Cluster) Followers() []*Node {
	l := c.Leader()
	var out []*Node
	for _, n := range c.Nodes {
		if n.Running() && n != l {
			out = append(out, n)
		}
	}
	return out
}

// Partition cuts the network between the groups of nodes (indexes into
// Nodes): Partition([]int{0}, []int{1, 2}) isolates node 0 from nodes 1
// and 2, in both directions, for Raft, gRPC and gossip; open connections
// across the cut are closed. Nodes in no group keep talking to everyone.
// Partitions add up until Heal. Client traffic to the REST APIs is not
// affected.
func (c *Cluster) Partition(groups ...[]int) {
	c.t.Helper()
	seen := make(map[int]bool)
	ids := make([][]string, len(groups))
	for g, idx := range groups {
		for _, i := range idx {
			if i < 0 || i >= len(c.Nodes) {
				c.t.Fatalf("nodetest: partition: node %d out of range [0, %d)", i, len(c.Nodes))
			}
			if seen[i] {
				c.t.Fatalf("nodetest: partition: node %d in two groups", i)
			}
			seen[i] = true
			ids[g] = append(ids[g], c.Nodes[i].Cfg.NodeID)
		}
	}
	c.Net.Partition(ids...)
}

// Heal removes every partition; the nodes reconnect by themselves.
func (c *Cluster) Heal() { c.Net.Heal() }

// URL returns http://host:port of an API.
func (n *Node) URL(api node.API) string { return "http://" + n.Addr(api) }

// FreshLoopback returns a random 127.x.y.z address on which port is free
// (any address, for port 0).
func FreshLoopback(t testing.TB, port int) string {
	t.Helper()
	var lastErr error
	for range 50 {
		ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err == nil {
			_ = l.Close()
			return ip
		}
		lastErr = err
	}
	t.Fatalf("nodetest: no loopback address with port %d free: %v", port, lastErr)
	return ""
}

func freePorts(t testing.TB, ip string, k int) []int {
	t.Helper()
	ls := make([]net.Listener, 0, k)
	ports := make([]int, 0, k)
	for range k {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("nodetest: free port: %v", err)
		}
		ls = append(ls, l)
		_, p, _ := net.SplitHostPort(l.Addr().String())
		port, _ := strconv.Atoi(p)
		ports = append(ports, port)
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return ports
}
