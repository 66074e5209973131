// Package node composes one eventide node: its listeners, the Raft-backed
// store, the eventing supervisor and every REST API. node.New builds a node,
// Start runs it and Close stops it in order (REST → workers → Raft); tests
// use it to start real nodes.
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

	"eventide/consensus"
	"eventide/node/eventing"
	"eventide/node/rest/clusterapi"
)

// API names one of the node's REST listeners.
type API string

// The node's REST APIs.
const (
	APIMgmt        API = "mgmt"
	APIEventing    API = "eventing"
	APISyncGateway API = "sync-gateway"
)

// Node is one running eventide node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	store *consensus.Store
	sup   *eventing.Supervisor
	svc   *eventing.Service

	uuid      string // this node's UUID, kept in the data dir
	mgmt      *clusterapi.Handler
	rest      map[API]http.Handler
	listeners map[API]net.Listener
	servers   []*http.Server

	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines (supervisor, expiry pager)
	closed sync.Once
}

// New validates cfg, opens the store and binds every listener. Nothing is
// served until Start.
func New(cfg Config) (*Node, error) {
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
	for api, port := range map[API]int{
		APIMgmt: cfg.Ports.Mgmt, APIEventing: cfg.Ports.Eventing, APISyncGateway: cfg.Ports.SyncGateway,
	} {
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(port)))
		if err != nil {
			n.closeListeners()
			return nil, fmt.Errorf("node: listen %s: %w", api, err)
		}
		n.listeners[api] = l
	}
	store, err := consensus.Open(consensus.Config{
		NodeID:        cfg.NodeID,
		DataDir:       filepath.Join(cfg.DataDir, "raft"),
		BindAddr:      net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.Ports.Raft)),
		AdvertiseAddr: net.JoinHostPort(cfg.advertise(), strconv.Itoa(cfg.Ports.Raft)),
		Bootstrap:     len(cfg.Join) == 0,
		NumVBuckets:   cfg.VBuckets,
		Logger:        log.With("component", "raft"),
	})
	if err != nil {
		n.closeListeners()
		return nil, fmt.Errorf("node: open store: %w", err)
	}
	n.store = store
	if err := n.wire(); err != nil {
		_ = store.Close()
		n.closeListeners()
		return nil, err
	}
	return n, nil
}

func (n *Node) closeListeners() {
	for _, l := range n.listeners {
		_ = l.Close()
	}
}

// Start waits for a Raft leader, then starts the supervisor and serves
// every REST API.
func (n *Node) Start(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := n.store.WaitLeader(wctx); err != nil {
		return fmt.Errorf("node: no raft leader: %w", err)
	}
	// Act only on the replicated state as of now, never on a state that the
	// log replay has not yet moved past.
	if err := n.store.CatchUp(wctx); err != nil {
		return fmt.Errorf("node: catch up with the raft log: %w", err)
	}
	if err := n.ensureClusterUUID(wctx); err != nil {
		return fmt.Errorf("node: cluster uuid: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	n.cancel = stop
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.sup.Run(bg) }()
	go func() { defer n.wg.Done(); n.expiryPager(bg) }()
	for api, h := range n.handlers() {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelWarn)}
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
	n.log.Info("eventide node started", "mgmt", n.Addr(APIMgmt), "eventing", n.Addr(APIEventing), "sync_gateway", n.Addr(APISyncGateway))
	return nil
}

// Addr returns the host:port an API listens on.
func (n *Node) Addr(api API) string {
	if l := n.listeners[api]; l != nil {
		return l.Addr().String()
	}
	return ""
}

// Store returns the node's replicated store (tests and benchmarks read it).
func (n *Node) Store() *consensus.Store { return n.store }

// Close stops the node: REST, then workers, then Raft.
func (n *Node) Close() error {
	var err error
	n.closed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, srv := range n.servers {
			_ = srv.Shutdown(ctx)
		}
		n.closeListeners()
		if n.cancel != nil {
			n.cancel()
		}
		n.wg.Wait()
		err = n.store.Close()
	})
	return err
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
