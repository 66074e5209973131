package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"eventide/handler"
	"eventide/membership"
	"eventide/eventing"
	"eventide/node/rest/clusterapi"
	"eventide/node/rpc"
)

// configClusterUUID is the replicated config key of the cluster's UUID.
const configClusterUUID = "cluster_uuid"

// fanOutTimeout bounds one cluster-wide call to every live node.
const fanOutTimeout = 5 * time.Second

// loadNodeUUID returns the node's UUID, created once and kept in the data
// dir so that it is stable across restarts.
func loadNodeUUID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "node.uuid")
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node: read node uuid: %w", err)
	}
	id := randomHex(16)
	if err := os.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node: write node uuid: %w", err)
	}
	return id, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ensureClusterUUID replicates a cluster UUID the first time a leader
// starts.
func (n *Node) ensureClusterUUID(ctx context.Context) error {
	if n.store.Config(configClusterUUID) != nil || !n.store.IsLeader() {
		return nil
	}
	v, _ := json.Marshal(randomHex(16))
	return n.store.SetConfig(ctx, configClusterUUID, v)
}

// peersFile keeps the gossip addresses of the members last seen, so that a
// node restarted without --join finds its cluster again.
const peersFile = "peers.json"

func loadPeers(dataDir string) []string {
	b, err := os.ReadFile(filepath.Join(dataDir, peersFile))
	if err != nil {
		return nil
	}
	var peers []string
	_ = json.Unmarshal(b, &peers)
	return peers
}

// savePeers writes the other members' gossip addresses on every membership
// change.
func (n *Node) savePeers(ctx context.Context) {
	var last string
	for {
		changed := n.members.Changed()
		var peers []string
		for _, m := range n.members.Members() {
			if !m.Local && m.State != membership.StateLeft && m.GossipAddr != "" {
				peers = append(peers, m.GossipAddr)
			}
		}
		if b, _ := json.Marshal(peers); len(peers) > 0 && string(b) != last {
			tmp := filepath.Join(n.cfg.DataDir, peersFile+".tmp")
			if err := os.WriteFile(tmp, b, 0o644); err == nil {
				if err := os.Rename(tmp, filepath.Join(n.cfg.DataDir, peersFile)); err == nil {
					last = string(b)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// livePeers returns the alive members as gRPC peers.
func (n *Node) livePeers() []rpc.Peer { return n.peers(false) }

// memberPeers returns every member that has not left, dead ones included,
// so that a cluster-wide answer can name the nodes that did not answer.
func (n *Node) memberPeers() []rpc.Peer { return n.peers(true) }

func (n *Node) peers(withDead bool) []rpc.Peer {
	var peers []rpc.Peer
	for _, m := range n.members.Members() {
		if m.GRPCAddr == "" || m.State == membership.StateLeft || (!withDead && !m.Healthy()) {
			continue
		}
		peers = append(peers, rpc.Peer{ID: m.NodeID, Addr: m.GRPCAddr})
	}
	return peers
}

// clusterView implements clusterapi.Cluster from membership and the
// replicated vbucket map.
type clusterView struct{ n *Node }

var _ clusterapi.Cluster = clusterView{}

func (c clusterView) Nodes() []clusterapi.NodeInfo {
	var out []clusterapi.NodeInfo
	for _, m := range c.n.members.Members() {
		if m.State == membership.StateLeft {
			continue
		}
		out = append(out, clusterapi.NodeInfo{
			ID:       m.NodeID,
			UUID:     m.UUID,
			Hostname: net.JoinHostPort(m.Host, strconv.Itoa(m.Ports.Mgmt)),
			Healthy:  m.Healthy(),
			Services: m.Services,
			Ports: clusterapi.Ports{
				Mgmt:        m.Ports.Mgmt,
				Eventing:    m.Ports.Eventing,
				SyncGateway: m.Ports.SyncGateway,
				Query:       m.Ports.Query,
				Raft:        portOf(m.RaftAddr),
				GRPC:        portOf(m.GRPCAddr),
			},
			ThisNode: m.Local,
		})
	}
	return out
}

func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	port, _ := strconv.Atoi(p)
	return port
}

func (c clusterView) RaftLeader() string {
	id, _ := c.n.store.Leader()
	return id
}

func (c clusterView) VBucketOwners(numVBuckets int) []int {
	index := make(map[string]int)
	for i, nd := range c.Nodes() {
		index[nd.ID] = i
	}
	m := c.n.store.VBMap()
	owners := make([]int, numVBuckets)
	for vb := range owners {
		owners[vb] = -1
		if vb < len(m.Owners) {
			if i, ok := index[m.Owners[vb]]; ok {
				owners[vb] = i
			}
		}
	}
	return owners
}

func (c clusterView) ClusterUUID() string {
	var id string
	_ = json.Unmarshal(c.n.store.Config(configClusterUUID), &id)
	return id
}

// port returns the bound port of a listener.
func (n *Node) port(api API) int {
	return portOf(n.Addr(api))
}

// localRuntime exposes the supervisor to the gRPC server.
type localRuntime struct{ sup *eventing.Supervisor }

func (r localRuntime) AppLog(ctx context.Context, fn string, size int) (string, error) {
	return r.sup.AppLog(ctx, fn, size)
}

func (r localRuntime) StatsJSON(fn string) ([]byte, bool) {
	st, ok := r.sup.Stats(fn)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(st)
	return b, err == nil
}

func (r localRuntime) ResetStats(fn string) error { return r.sup.ResetStats(fn) }

func (r localRuntime) Running(fn string) bool { return r.sup.Running(fn) }

func (r localRuntime) Insight(fn string) map[int]handler.InsightLine { return r.sup.Insight(fn) }

// clusterFacts answers the eventing service's cluster-wide questions:
// node counts from membership and the replicated reports, and stats,
// application logs and code insight fanned out to every live node over gRPC.
type clusterFacts struct{ n *Node }

var (
	_ eventing.Cluster           = (*clusterFacts)(nil)
	_ eventing.Runtime           = (*clusterFacts)(nil)
	_ eventing.AppLogAggregator  = (*clusterFacts)(nil)
	_ eventing.InsightRuntime    = (*clusterFacts)(nil)
	_ eventing.InsightAggregator = (*clusterFacts)(nil)
)

// EventingNodes counts the live members (every node runs eventing).
func (c *clusterFacts) EventingNodes() int { return len(c.n.livePeers()) }

// DeployedNodes counts the nodes that reported the function's workers
// running.
func (c *clusterFacts) DeployedNodes(fn string) int {
	f, err := c.n.store.Function(fn)
	if err != nil {
		return 0
	}
	return len(f.Running)
}

// Stats sums the function's counters over every live node; nodes that do
// not answer within the deadline are left out and logged.
func (c *clusterFacts) Stats(fn string) (eventing.RuntimeStats, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), fanOutTimeout)
	defer cancel()
	res := c.n.client.FunctionStatsAll(ctx, c.n.memberPeers(), fanOutTimeout, fn)
	if len(res.Failed) > 0 {
		c.n.log.Warn("stats: nodes did not answer", "function", fn, "nodes", res.FailedIDs())
	}
	var sum eventing.RuntimeStats
	found := false
	for _, b := range res.Answers {
		if b == nil {
			continue
		}
		var st eventing.RuntimeStats
		if err := json.Unmarshal(b, &st); err != nil {
			continue
		}
		found = true
		mergeStats(&sum, &st)
	}
	if !found {
		// No node could answer (or none runs it): fall back to local counters.
		st, ok := c.n.sup.Stats(fn)
		st.UnreachableNodes = res.FailedIDs()
		return st, ok
	}
	sum.UnreachableNodes = res.FailedIDs()
	return sum, true
}

// ResetStats zeroes the function's counters on every live node.
func (c *clusterFacts) ResetStats(fn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), fanOutTimeout)
	defer cancel()
	res := c.n.client.ResetStatsAll(ctx, c.n.livePeers(), fanOutTimeout, fn)
	if len(res.Failed) > 0 {
		return fmt.Errorf("node: reset stats: nodes %v did not answer", res.FailedIDs())
	}
	return nil
}

// AppLog returns this node's log tail.
func (c *clusterFacts) AppLog(ctx context.Context, fn string, size int) (string, error) {
	return c.n.sup.AppLog(ctx, fn, size)
}

// AggregateAppLog returns every live node's log tail; nodes that do not
// answer are left out (and logged) instead of failing the call.
func (c *clusterFacts) AggregateAppLog(ctx context.Context, fn string, sizePerNode int) ([]string, error) {
	res := c.n.client.AppLogAll(ctx, c.n.memberPeers(), fanOutTimeout, fn, sizePerNode)
	if len(res.Failed) > 0 {
		c.n.log.Warn("application log: nodes did not answer", "function", fn, "nodes", res.FailedIDs())
	}
	out := make([]string, 0, len(res.Answers))
	for _, t := range res.Answers {
		out = append(out, t)
	}
	return out, nil
}

// Insight returns this node's code insight for the function.
func (c *clusterFacts) Insight(fn string) map[int]handler.InsightLine { return c.n.sup.Insight(fn) }

// AggregateInsight merges every member's code insight for each of fns, in
// node id order (so the kept texts are stable); nodes that do not answer
// within the deadline are left out, named and logged. When no node answers
// the answer is this node's own insight.
func (c *clusterFacts) AggregateInsight(ctx context.Context, fns []string) (map[string]map[int]handler.InsightLine, []string, error) {
	res := c.n.client.InsightAll(ctx, c.n.memberPeers(), fanOutTimeout, fns)
	failed := res.FailedIDs()
	if len(failed) > 0 {
		c.n.log.Warn("code insight: nodes did not answer", "nodes", failed)
	}
	ids := slices.Sorted(maps.Keys(res.Answers))
	out := make(map[string]map[int]handler.InsightLine, len(fns))
	for _, fn := range fns {
		snaps := make([]map[int]handler.InsightLine, 0, len(ids)+1)
		for _, id := range ids {
			snaps = append(snaps, res.Answers[id][fn])
		}
		if len(ids) == 0 {
			snaps = append(snaps, c.n.sup.Insight(fn))
		}
		out[fn] = handler.MergeInsight(snaps...)
	}
	return out, failed, nil
}

// mergeStats adds src's counters into dst.
func mergeStats(dst, src *eventing.RuntimeStats) {
	addAny := func(d *map[string]any, s map[string]any) {
		if *d == nil {
			*d = map[string]any{}
		}
		for k, v := range s {
			a, _ := (*d)[k].(float64)
			b, _ := v.(float64) // JSON numbers decode as float64
			(*d)[k] = a + b
		}
	}
	addU := func(d *map[string]uint64, s map[string]uint64) {
		if *d == nil {
			*d = map[string]uint64{}
		}
		for k, v := range s {
			(*d)[k] += v
		}
	}
	addAny(&dst.ExecutionStats, src.ExecutionStats)
	addAny(&dst.FailureStats, src.FailureStats)
	addAny(&dst.EventProcessingStats, src.EventProcessingStats)
	addU(&dst.LatencyHistogram, src.LatencyHistogram)
	addU(&dst.CurlLatencyHistogram, src.CurlLatencyHistogram)
	addU(&dst.LCBExceptionStats, src.LCBExceptionStats)
	dst.DCPBacklog += src.DCPBacklog
	for k, v := range src.WorkerPIDs {
		if dst.WorkerPIDs == nil {
			dst.WorkerPIDs = map[string]int{}
		}
		dst.WorkerPIDs[k] = v
	}
	for k, v := range src.VBDistribution {
		if dst.VBDistribution == nil {
			dst.VBDistribution = map[string]string{}
		}
		dst.VBDistribution[k] = v
	}
}
