package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/memberlist"

	"eventide/clustersec"
	"eventide/consensus"
	"eventide/docstore"
	"eventide/qinling/containers"
)

// Network carries one node's Raft, gRPC and gossip traffic. The in-process
// test cluster sets it to inject partitions between nodes
// (internal/faultnet's Endpoint implements it); production leaves it
// nil, which means plain networking. The REST listeners never go through
// it: partitions cut node-to-node traffic, not clients.
type Network interface {
	// WrapListener and DialContext carry Raft's and gRPC's connections.
	consensus.Network
	// WrapTransport wraps memberlist's transport, which carries gossip.
	WrapTransport(t memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
	// Register tells the network the addresses (host:port) this node's
	// Raft, gRPC and gossip listeners are bound to, so that it can tell
	// which node a connection or packet comes from. The node calls it once
	// they are all bound, before it starts.
	Register(addrs ...string)
}

// Ports are the TCP ports of one node's listeners. Zero picks a free port
// (tests use this; the bound ports are then reported by Node.Addrs).
type Ports struct {
	Mgmt        int // cluster manager REST; default 8091
	Query       int // query service: SQL++ (/query/service) and UDF libraries; default 8093
	Eventing    int // eventing REST; default 8096
	SyncGateway int // Sync Gateway public REST; default 4984
	Qinling     int // Qinling REST (and its Keystone login); default 7070
	GRPC        int // node-to-node gRPC; default 9096
	Raft        int // Raft transport; default 9097
	Gossip      int // memberlist; default 7946
}

// Config configures one node.
type Config struct {
	// NodeID identifies the node in Raft and memberlist. Default "n1".
	NodeID string
	// DataDir holds the Raft log, snapshots and application logs. Required.
	DataDir string
	// BindAddr is the IP every listener binds to. Default 127.0.0.1.
	BindAddr string
	// AdvertiseAddr is the IP peers and clients reach; default BindAddr.
	AdvertiseAddr string
	// Ports of the listeners.
	Ports Ports
	// Join lists gossip addresses (host:port) of an existing cluster; empty
	// bootstraps a new one-node cluster.
	Join []string
	// VBuckets per bucket, a power of two. Default 1024.
	VBuckets int
	// Username and Password guard every REST API. Default Administrator/password.
	Username, Password string
	// FailoverTimeout is how long a dead node waits before failover. Default 5s.
	FailoverTimeout time.Duration
	// Logger is the root logger. Default discards.
	Logger *slog.Logger
	// ClusterSecret is shared by every node of the cluster, at least
	// clustersec.MinSecretBytes long: gossip is encrypted with a key
	// derived from it, and gRPC and Raft run over mutual TLS with
	// certificates of a CA derived from it, so a process without it can
	// neither join, vote, forward nor read. Default empty: the secret kept
	// in DataDir/cluster-secret; if there is none, a node that knows no
	// cluster (no Join, no saved peers) generates and keeps one, and any
	// other node fails with ErrNoClusterSecret.
	ClusterSecret string
	// QinlingMaxPackageBytes bounds a Qinling function package; a larger
	// upload gets a 413. Default 50 MiB; at most 60 MiB (a package travels
	// in one Raft command).
	QinlingMaxPackageBytes int64
	// QinlingExecutionRetention is how long a finished Qinling execution
	// is kept before the leader deletes it. Default 7 days.
	QinlingExecutionRetention time.Duration
	// QinlingJobMinLead is how far ahead a Qinling job's first (or
	// updated next) execution time must be. Default 60 s, as Qinling's;
	// tests lower it.
	QinlingJobMinLead time.Duration
	// DockerHost is the Docker engine that runs Qinling's image functions
	// ("unix:///var/run/docker.sock" or "tcp://host:port"). Default empty:
	// no container engine, image functions are refused.
	DockerHost string
	// Network, when set, carries the node's Raft, gRPC and gossip traffic
	// (in-process partition tests). Default nil: plain networking.
	Network Network
}

// DefaultConfig returns the defaults of DESIGN.md.
func DefaultConfig() Config {
	return Config{
		NodeID:   "n1",
		BindAddr: "127.0.0.1",
		Ports: Ports{
			Mgmt: 8091, Query: 8093, Eventing: 8096, SyncGateway: 4984,
			Qinling: 7070, GRPC: 9096, Raft: 9097, Gossip: 7946,
		},
		VBuckets:        1024,
		Username:        "Administrator",
		Password:        "password",
		FailoverTimeout: 5 * time.Second,

		QinlingMaxPackageBytes:    50 << 20,
		QinlingExecutionRetention: 7 * 24 * time.Hour,
		QinlingJobMinLead:         time.Minute,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("node id is required"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is required"))
	}
	if net.ParseIP(c.BindAddr) == nil {
		errs = append(errs, fmt.Errorf("bind addr %q is not an IP address", c.BindAddr))
	}
	if c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil {
		errs = append(errs, fmt.Errorf("advertise addr %q is not an IP address", c.AdvertiseAddr))
	}
	// Couchbase's own limit, below what the store could hold.
	if docstore.ValidateNumVBuckets(c.VBuckets) != nil || c.VBuckets > 1024 {
		errs = append(errs, fmt.Errorf("vbuckets %d must be a power of two between 1 and 1024", c.VBuckets))
	}
	if c.Username == "" || c.Password == "" {
		errs = append(errs, errors.New("username and password are required"))
	}
	for name, p := range map[string]int{
		"mgmt": c.Ports.Mgmt, "query": c.Ports.Query, "eventing": c.Ports.Eventing,
		"sync-gateway": c.Ports.SyncGateway, "qinling": c.Ports.Qinling, "grpc": c.Ports.GRPC,
		"raft": c.Ports.Raft, "gossip": c.Ports.Gossip,
	} {
		if p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s port %d out of range", name, p))
		}
	}
	if c.QinlingMaxPackageBytes < 0 || c.QinlingMaxPackageBytes > 60<<20 {
		errs = append(errs, fmt.Errorf("qinling max package bytes %d must be between 0 (default) and %d", c.QinlingMaxPackageBytes, 60<<20))
	}
	if c.QinlingExecutionRetention < 0 {
		errs = append(errs, errors.New("qinling execution retention must not be negative"))
	}
	if c.DockerHost != "" {
		if err := (containers.Config{Host: c.DockerHost}).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("docker host: %w", err))
		}
	}
	if c.QinlingJobMinLead < 0 {
		errs = append(errs, errors.New("qinling job minimum lead time must not be negative"))
	}
	if c.FailoverTimeout <= 0 {
		errs = append(errs, errors.New("failover timeout must be positive"))
	}
	if c.ClusterSecret != "" && len(c.ClusterSecret) < clustersec.MinSecretBytes {
		errs = append(errs, fmt.Errorf("cluster secret is %d bytes, at least %d: use a long random one", len(c.ClusterSecret), clustersec.MinSecretBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("node: invalid config: %w", err)
	}
	return nil
}

func (c Config) advertise() string {
	if c.AdvertiseAddr != "" {
		return c.AdvertiseAddr
	}
	return c.BindAddr
}
