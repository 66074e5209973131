package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"eventide/membership"
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
