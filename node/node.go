// Package node composes one eventide node: its listeners, the Raft-backed
// store, membership, the node-to-node gRPC service, the eventing
// supervisor, the Qinling service, the SQL++ UDF libraries and every REST
// API. node.New builds a
// node, Start runs it and Close stops it in order (REST → workers → gRPC →
// membership → Raft); tests use it to start real nodes.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"eventide/clustersec"
	"eventide/consensus"
	"eventide/eventing"
	"eventide/eventing/dataplane"
	"eventide/membership"
	"eventide/node/rest/clusterapi"
	"eventide/node/rpc"
	"eventide/qinling"
	"eventide/query/engine"
	"eventide/query/library"
	"eventide/query/udf"
)

// API names one of the node's listeners.
type API string

// The node's listeners.
const (
	APIMgmt        API = "mgmt"
	APIEventing    API = "eventing"
	APISyncGateway API = "sync-gateway"
	APIQinling     API = "qinling"
	APIQuery       API = "query"
	APIGRPC        API = "grpc"
)

// Node is one running eventide node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	uuid    string // this node's UUID, kept in the data dir
	store   *consensus.Store
	members *membership.Membership
	coord   *membership.Coordinator
	client  *rpc.Client
	grpc    *rpc.Server
	sup     *dataplane.Supervisor
	svc     *eventing.Service
	qinling *qinling.Service
	// libraries are the SQL++ UDF libraries (the query port's library
	// APIs; the query engine will read them too).
	libraries *library.Service
	// udfs are the SQL++ user-defined functions; query is the SQL++
	// engine over the replicated store, serving /query/service and the
	// handlers' N1QL.
	udfs  *udf.Service
	query *engine.Engine
	// qinlingEngs are the engines the Qinling service runs code on,
	// closed after it.
	qinlingEngs []qinling.Engine
	// secret is the cluster secret; the Qinling API derives its token key
	// from it, so every node verifies every node's tokens.
	secret []byte
	keys   *clustersec.Keys     // derived from the cluster secret
	ident  *clustersec.Identity // this node's TLS certificate, issued at New

	mgmt      *clusterapi.Server
	rest      map[API]http.Handler
	listeners map[API]net.Listener
	servers   []*http.Server

	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines
	closed sync.Once
}

// New validates cfg, binds every listener, opens the store and builds the
// node's services. Nothing is served until Start.
func New(cfg Config) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("node", cfg.NodeID)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: create data dir: %w", err)
	}
	n := &Node{cfg: cfg, log: log, listeners: make(map[API]net.Listener)}
	defer func() {
		if err != nil {
			n.release()
		}
	}()
	if n.uuid, err = loadNodeUUID(cfg.DataDir); err != nil {
		return nil, err
	}
	secret, err := clusterSecret(cfg, log)
	if err != nil {
		return nil, err
	}
	n.secret = secret
	if n.keys, err = clustersec.Derive(secret); err != nil {
		return nil, fmt.Errorf("node: cluster secret: %w", err)
	}
	if n.ident, err = n.keys.Issue(cfg.NodeID); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	for api, port := range map[API]int{
		APIMgmt: cfg.Ports.Mgmt, APIEventing: cfg.Ports.Eventing,
		APISyncGateway: cfg.Ports.SyncGateway, APIQinling: cfg.Ports.Qinling, APIQuery: cfg.Ports.Query,
		APIGRPC: cfg.Ports.GRPC,
	} {
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("node: listen %s: %w", api, err)
		}
		n.listeners[api] = l
	}
	ccfg := rpc.ClientConfig{Logger: log.With("component", "rpc-client"), TLS: n.ident.ClientTLS()}
	var raftNet consensus.Network // nil: plain TCP
	if nw := cfg.Network; nw != nil {
		n.listeners[APIGRPC] = nw.WrapListener(n.listeners[APIGRPC])
		ccfg.Dialer = func(ctx context.Context, addr string) (net.Conn, error) { return nw.DialContext(ctx, "tcp", addr) }
		raftNet = nw
	}
	if n.client, err = rpc.NewClient(ccfg); err != nil {
		return nil, fmt.Errorf("node: rpc client: %w", err)
	}
	// The forwarder resolves the leader's gRPC address through membership,
	// which needs the store's Raft address first: bind it late.
	fwd, err := rpc.NewForwarder(n.client, rpc.ResolverFunc(func(id string) (string, bool) {
		if n.members == nil {
			return "", false
		}
		return n.members.GRPCAddr(id)
	}))
	if err != nil {
		return nil, fmt.Errorf("node: forwarder: %w", err)
	}
	n.store, err = consensus.Open(consensus.Config{
		NodeID:        cfg.NodeID,
		DataDir:       filepath.Join(cfg.DataDir, "raft"),
		BindAddr:      net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.Ports.Raft)),
		AdvertiseAddr: net.JoinHostPort(cfg.advertise(), strconv.Itoa(cfg.Ports.Raft)),
		Bootstrap:     len(cfg.Join) == 0,
		NumVBuckets:   cfg.VBuckets,
		Forwarder:     fwd,
		Logger:        log.With("component", "raft"),
		Network:       raftNet,
		IndexCompiler: indexCompiler(),
		ServerTLS:     n.ident.ServerTLS(),
		ClientTLS:     n.ident.ClientTLS(),
	})
	if err != nil {
		return nil, fmt.Errorf("node: open store: %w", err)
	}
	if err := n.wire(); err != nil {
		return nil, err
	}
	if cfg.Network != nil {
		cfg.Network.Register(n.store.Addr(), n.Addr(APIGRPC), n.members.Addr())
	}
	return n, nil
}

// release frees what New acquired, after a failed New or at the end of Close.
func (n *Node) release() {
	n.closeQinling()
	if n.udfs != nil {
		n.udfs.Close()
		n.udfs = nil
	}
	for _, l := range n.listeners {
		_ = l.Close()
	}
	if n.members != nil {
		_ = n.members.Shutdown()
	}
	if n.store != nil {
		_ = n.store.Close()
	}
	if n.client != nil {
		_ = n.client.Close()
	}
}

// Start joins the cluster (or bootstraps one), waits until this node has a
// leader and has caught up with the Raft log, then starts the supervisor
// and serves every API.
func (n *Node) Start(ctx context.Context) error {
	bg, stop := context.WithCancel(context.Background())
	n.cancel = stop
	grpcL := n.listeners[APIGRPC]
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.grpc.Serve(grpcL); err != nil {
			n.log.Error("gRPC server stopped", "err", err)
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := n.members.Join(wctx); err != nil {
		return fmt.Errorf("node: join cluster: %w", err)
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.coord.Run(bg) }()
	// A joining node gets a leader once the leader's coordinator adds it.
	if err := n.store.WaitLeader(wctx); err != nil {
		return fmt.Errorf("node: no raft leader: %w", err)
	}
	// Act only on the replicated state as of now, never on a state that the
	// log replay has not yet moved past.
	if err := n.store.CatchUp(wctx); err != nil {
		return fmt.Errorf("node: catch up with the raft log: %w", err)
	}
	if n.store.IsLeader() {
		// The vbucket map exists before any function runs.
		if err := n.coord.Reconcile(wctx); err != nil {
			n.log.Warn("first cluster reconcile", "err", err)
		}
	}
	if err := n.ensureClusterUUID(wctx); err != nil {
		return fmt.Errorf("node: cluster uuid: %w", err)
	}
	n.wg.Add(4)
	go func() { defer n.wg.Done(); n.sup.Run(bg) }()
	go func() { defer n.wg.Done(); n.qinlingSweeps(bg) }()
	go func() { defer n.wg.Done(); n.expiryPager(bg) }()
	go func() { defer n.wg.Done(); n.savePeers(bg) }()
	for api, h := range n.rest {
		srv := newRESTServer(h, defaultRESTLimits, n.log)
		if api == APIMgmt {
			srv.RegisterOnShutdown(n.mgmt.Close) // ends streaming cluster-map responses
		}
		n.servers = append(n.servers, srv)
		l := n.listeners[api]
		go func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("REST listener stopped", "api", api, "err", err)
			}
		}()
	}
	n.log.Info("eventide node started", "mgmt", n.Addr(APIMgmt), "eventing", n.Addr(APIEventing),
		"sync_gateway", n.Addr(APISyncGateway), "qinling", n.Addr(APIQinling), "query", n.Addr(APIQuery), "grpc", n.Addr(APIGRPC), "raft", n.store.Addr(), "gossip", n.members.Addr())
	return nil
}

// Addr returns the host:port a listener is bound to.
func (n *Node) Addr(api API) string {
	if l := n.listeners[api]; l != nil {
		return l.Addr().String()
	}
	return ""
}

// ID returns the node id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Store returns the node's replicated store (tests and benchmarks read it).
func (n *Node) Store() *consensus.Store { return n.store }

// Close stops the node gracefully: REST, then the workers and background
// duties, then gRPC, then it leaves the membership and closes Raft.
func (n *Node) Close() error {
	var err error
	n.closed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, srv := range n.servers {
			_ = srv.Shutdown(ctx)
		}
		if n.cancel != nil {
			n.cancel()
		}
		n.grpc.Stop(ctx)
		n.wg.Wait()
		// While Raft still runs: the executions it ends are recorded.
		n.closeQinling()
		if err := n.members.Leave(2 * time.Second); err != nil {
			n.log.Warn("leave cluster", "err", err)
		}
		_ = n.members.Shutdown()
		err = n.store.Close()
		n.store = nil // closed; release must not close it again
		n.release()
	})
	return err
}

// Kill stops the node abruptly, as a crash would: no graceful leave, no
// draining. Tests use it; the data dir stays as it is.
func (n *Node) Kill() {
	n.closed.Do(func() {
		for _, srv := range n.servers {
			_ = srv.Close()
		}
		_ = n.members.Shutdown()
		if n.cancel != nil {
			n.cancel()
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n.grpc.Stop(ctx)
		_ = n.store.Close()
		n.wg.Wait()
		// After Raft: a crash records nothing; this only stops the
		// executions' goroutines and the engines' workers.
		n.closeQinling()
		n.store = nil
		n.release()
	})
}

// Run starts a node and serves until ctx ends, then closes it.
func Run(ctx context.Context, cfg Config) error {
	n, err := New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		_ = n.Close()
		return err
	}
	<-ctx.Done()
	n.log.Info("shutting down")
	return n.Close()
}

// expiryPager replicates the expiry of due documents, from the leader only.
func (n *Node) expiryPager(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !n.store.IsLeader() {
			continue
		}
		now := time.Now()
		if !n.store.Docs().HasExpired(uint32(now.Unix())) {
			continue
		}
		if _, err := n.store.Expire(ctx, now); err != nil && ctx.Err() == nil {
			n.log.Warn("expiry pager", "err", err)
		}
	}
}
