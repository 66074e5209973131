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

	"eventide/node/rest/clusterapi"
)

// configClusterUUID is the replicated config key of the cluster's UUID.
const configClusterUUID = "cluster_uuid"

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

// clusterView implements clusterapi.Cluster for this node. One node now;
// membership (the next issue) adds the others.
type clusterView struct{ n *Node }

var _ clusterapi.Cluster = clusterView{}

func (c clusterView) Nodes() []clusterapi.NodeInfo {
	n := c.n
	return []clusterapi.NodeInfo{{
		ID:       n.cfg.NodeID,
		UUID:     n.uuid,
		Hostname: net.JoinHostPort(n.cfg.advertise(), strconv.Itoa(n.port(APIMgmt))),
		Healthy:  true,
		Services: []string{"kv", "eventing"},
		Ports: clusterapi.Ports{
			Mgmt:        n.port(APIMgmt),
			Eventing:    n.port(APIEventing),
			SyncGateway: n.port(APISyncGateway),
			Raft:        n.cfg.Ports.Raft,
			GRPC:        n.cfg.Ports.GRPC,
		},
		ThisNode: true,
	}}
}

func (c clusterView) RaftLeader() string {
	id, _ := c.n.store.Leader()
	return id
}

func (c clusterView) VBucketOwners(numVBuckets int) []int {
	owners := make([]int, numVBuckets)
	return owners // every vbucket on node 0, the only node
}

func (c clusterView) ClusterUUID() string {
	var id string
	_ = json.Unmarshal(c.n.store.Config(configClusterUUID), &id)
	return id
}

// port returns the bound port of an API listener.
func (n *Node) port(api API) int {
	if l := n.listeners[api]; l != nil {
		if a, ok := l.Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	return 0
}
