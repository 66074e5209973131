// Package clusterapi serves Couchbase's cluster manager REST API (port 8091,
// ns_server's "menelaus" endpoints) for an eventide node: the pool and node
// descriptions, buckets, scopes and collections, and the terse bucket
// configurations ("cluster maps") from which Couchbase SDKs bootstrap, and
// the documents of every datatype (the web console's document browser).
//
// Every node serves the whole API. Reads come from the node's replica of the
// keyspace catalog (a *docstore.Store); changes are proposed through the
// replicated Keyspaces interface (a *consensus.Store). Node facts (members,
// ports, health, the Raft leader and the vbucket ownership map) come from the
// Cluster interface that the node composition root implements.
//
// Response bodies, status codes and error messages follow Couchbase Server
// 7.6 so that its SDKs and tools work unchanged. See DESIGN.md for what the
// Go SDK (gocb v2 / gocbcore v10) needs to bootstrap against a node that has
// no memcached (KV) listener.
package clusterapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"eventide/docstore"
	"eventide/node/rest/restauth"
)

// Config configures the cluster manager API.
type Config struct {
	// Credentials authenticate every request (HTTP basic auth). Required.
	Credentials restauth.Credentials
	// Logger receives request errors and recovered panics. Default: discard.
	Logger *slog.Logger

	// Keyspaces replicates keyspace changes. Required.
	Keyspaces Keyspaces
	// Catalog reads the node's replica of the keyspaces. Required.
	Catalog Catalog
	// Cluster describes the cluster's members. Required.
	Cluster Cluster
	// Docs and Writer serve the documents API. Required.
	Docs   DocReader
	Writer DocWriter

	// Version is reported as implementationVersion and as every node's
	// version, in Couchbase's "<version>-<build>-<edition>" form so that tools
	// which parse it accept it. Default "7.6.0-0000-enterprise".
	Version string
	// MemoryQuotaMB is the per-node data RAM quota in MiB (ns_server's
	// memoryQuota). Bucket RAM quotas are informational in eventide, but their
	// sum per node may not exceed it, as in Couchbase. Default 16384.
	MemoryQuotaMB int
	// StreamPollInterval is how often an open streaming response (terse
	// bucket configs, nodeServices, pools) re-reads the cluster state and
	// pushes a new version if it changed. Default 1s.
	StreamPollInterval time.Duration
	// MaxBodyBytes bounds a request body. Default 1 MiB.
	MaxBodyBytes int64
}

// DefaultConfig returns a Config with every setting's default filled in;
// the credentials and the collaborators are the caller's.
func DefaultConfig() Config {
	return Config{
		Logger:             slog.New(slog.DiscardHandler),
		Version:            "7.6.0-0000-enterprise",
		MemoryQuotaMB:      16384,
		StreamPollInterval: time.Second,
		MaxBodyBytes:       1 << 20,
	}
}

// withDefaults fills zero settings from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.MemoryQuotaMB == 0 {
		c.MemoryQuotaMB = d.MemoryQuotaMB
	}
	if c.StreamPollInterval == 0 {
		c.StreamPollInterval = d.StreamPollInterval
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	return c
}

// Validate reports every invalid setting (ErrInvalidConfig). Zero values
// that have defaults are valid. New also requires the credentials and the
// collaborators.
func (c Config) Validate() error {
	var errs []error
	if c.MemoryQuotaMB < 0 {
		errs = append(errs, fmt.Errorf("%w: memory quota %d MiB is negative", ErrInvalidConfig, c.MemoryQuotaMB))
	}
	if c.StreamPollInterval < 0 {
		errs = append(errs, fmt.Errorf("%w: stream poll interval %s is negative", ErrInvalidConfig, c.StreamPollInterval))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: max body bytes %d is negative", ErrInvalidConfig, c.MaxBodyBytes))
	}
	return errors.Join(errs...)
}

// missingDependencies reports every nil collaborator (ErrMissingDependency).
func (c Config) missingDependencies() error {
	var errs []error
	for name, missing := range map[string]bool{
		"Credentials": c.Credentials == nil, "Keyspaces": c.Keyspaces == nil, "Catalog": c.Catalog == nil,
		"Cluster": c.Cluster == nil, "Docs": c.Docs == nil, "Writer": c.Writer == nil,
	} {
		if missing {
			errs = append(errs, fmt.Errorf("%w: %s", ErrMissingDependency, name))
		}
	}
	return errors.Join(errs...)
}

// Sentinel errors.
var (
	// ErrInvalidConfig: New was given an invalid setting.
	ErrInvalidConfig = errors.New("clusterapi: invalid config")
	// ErrMissingDependency: New was given no credentials or a nil
	// collaborator.
	ErrMissingDependency = errors.New("clusterapi: missing dependency")
)

// Keyspaces replicates keyspace changes. *consensus.Store satisfies it;
// errors are dcp's sentinels (docstore.ErrExists, docstore.ErrBucketNotFound, ...) or
// consensus.ErrNotLeader / consensus.ErrClosed.
type Keyspaces interface {
	CreateBucket(ctx context.Context, spec docstore.BucketSpec) error
	DeleteBucket(ctx context.Context, name string) error
	CreateScope(ctx context.Context, bucket, scope string) error
	DeleteScope(ctx context.Context, bucket, scope string) error
	CreateCollection(ctx context.Context, ks docstore.Keyspace) error
	DeleteCollection(ctx context.Context, ks docstore.Keyspace) error
}

// Catalog reads the node's replica of the keyspaces. *docstore.Store satisfies it.
type Catalog interface {
	Buckets() []docstore.BucketInfo
	Bucket(name string) (docstore.BucketInfo, error)
	NumVBuckets() int
}

// Cluster describes the cluster's members as this node sees them. The node
// composition root implements it. Methods are called on every request and
// must be cheap and safe for concurrent use.
type Cluster interface {
	// Nodes lists the members in a stable order (the vbucket map indexes it).
	Nodes() []NodeInfo
	// RaftLeader is the node ID of the current Raft leader, "" if unknown.
	RaftLeader() string
	// VBucketOwners returns, for each of numVBuckets vbuckets, the index in
	// Nodes() of the node that owns it (-1: none). Entries out of range and a
	// result of the wrong length are tolerated (rendered as -1).
	VBucketOwners(numVBuckets int) []int
	// ClusterUUID identifies the cluster (hex); the same on every node.
	ClusterUUID() string
}

// NodeInfo describes one member.
type NodeInfo struct {
	// ID is the node ID (the Raft server ID), e.g. "n1".
	ID string
	// UUID is the node's UUID (hex), stable across restarts.
	UUID string
	// Hostname is "host:mgmtPort" as clients reach this API on that node,
	// e.g. "127.0.0.2:8091" or "[::1]:8091". An unspecified host (0.0.0.0)
	// on this node is replaced by the host the client connected to.
	Hostname string
	// Healthy is false when membership considers the node failed.
	Healthy bool
	// Services lists the Couchbase service names the node runs, e.g.
	// "kv", "n1ql", "eventing". "eventing" advertises Ports.Eventing to SDKs;
	// "n1ql" advertises Ports.Query (gocb's default WaitUntilReady then pings
	// GET /admin/ping on it).
	Services []string
	// Ports are the node's listeners.
	Ports Ports
	// ThisNode is true for the node serving the request.
	ThisNode bool
}

// Ports are a node's listener ports; 0 means not served.
type Ports struct {
	// Mgmt is this API's port (8091). 0 means the port of Hostname.
	Mgmt int
	// KV is the memcached port advertised in cluster maps. eventide serves
	// no memcached protocol, but SDKs refuse a cluster map without a KV
	// endpoint (gocbcore routeConfig.IsValid), so one is always advertised:
	// 0 means the Couchbase default 11210. Nothing needs to listen on it.
	KV int
	// Eventing is the eventing REST port (8096), "eventingAdminPort".
	Eventing int
	// SyncGateway is the Sync Gateway public REST port (4984).
	SyncGateway int
	// Query is the query REST port (8093), "n1ql".
	Query int
	// Raft is the Raft transport port (9097).
	Raft int
	// GRPC is the node-to-node gRPC port (9096).
	GRPC int
}

// Server serves the API. It is safe for concurrent use.
type Server struct {
	cfg     Config
	ks      Keyspaces
	cat     Catalog
	cluster Cluster
	docs    DocReader
	writer  DocWriter
	log     *slog.Logger
	started time.Time
	now     func() time.Time // for revisions; replaced in tests
	routes  []route
	revs    revTracker

	closeOnce sync.Once
	closed    chan struct{} // closed by Close; ends streaming responses
}

// New returns the API's server. Callers should register h.Close with the
// HTTP server (http.Server.RegisterOnShutdown) because streaming responses
// stay open until the client leaves or Close is called.
func New(cfg Config) (*Server, error) {
	if err := errors.Join(cfg.Validate(), cfg.missingDependencies()); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	h := &Server{
		cfg:     cfg,
		ks:      cfg.Keyspaces,
		cat:     cfg.Catalog,
		cluster: cfg.Cluster,
		docs:    cfg.Docs,
		writer:  cfg.Writer,
		log:     cfg.Logger,
		started: time.Now(),
		now:     time.Now,
		closed:  make(chan struct{}),
	}
	h.routes = h.buildRoutes()
	return h, nil
}

// Close ends every open streaming response. It does not wait for them;
// http.Server.Shutdown does. Safe to call more than once.
func (h *Server) Close() {
	h.closeOnce.Do(func() { close(h.closed) })
}
