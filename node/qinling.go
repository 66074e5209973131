package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"eventide/membership"
	"eventide/node/rest/qinlingapi"
	"eventide/node/rest/restauth"
	"eventide/node/rpc"
	"eventide/qinling"
	"eventide/qinling/containers"
	"eventide/qinling/jsengine"
	"eventide/qinling/pyengine"
)

// Qinling sweeps, run by the leader only.
const (
	// qinlingOrphanSweep is how often the leader fails the running
	// executions of nodes that died.
	qinlingOrphanSweep = 2 * time.Second
	// qinlingCollectSweep is how often the leader deletes executions past
	// their retention.
	qinlingCollectSweep = time.Minute
)

// qinlingEngines returns what runs code on this node: the engine of a
// package runtime's image, and every engine (to close). Images of the
// Node.js family (any "*nodejs*") run in goja in-process; images of the
// Python family (any "*python*") in python3 worker processes, whose
// packages are unpacked under the data dir. Other images have no engine:
// their runtimes report status "error".
func (n *Node) qinlingEngines() (byImage func(image string) qinling.Engine, all []qinling.Engine) {
	jcfg := jsengine.DefaultConfig()
	jcfg.Logger = n.log.With("component", "qinling-js")
	js := jsengine.New(jcfg)
	pcfg := pyengine.DefaultConfig()
	pcfg.WorkDir = filepath.Join(n.cfg.DataDir, "qinling", "python")
	pcfg.Logger = n.log.With("component", "qinling-python")
	py := pyengine.New(pcfg)
	return func(image string) qinling.Engine {
		switch img := strings.ToLower(image); {
		case strings.Contains(img, "nodejs"):
			return js
		case strings.Contains(img, "python"):
			return py
		}
		return nil
	}, []qinling.Engine{js, py}
}

// qinlingURL is the node's Qinling base URL as clients reach it.
func (n *Node) qinlingURL() string {
	return "http://" + net.JoinHostPort(n.cfg.advertise(), strconv.Itoa(n.port(APIQinling)))
}

// wireQinling builds the Qinling service over the replicated records and
// its REST API.
func (n *Node) wireQinling(creds restauth.Credentials) (http.Handler, error) {
	byImage, engines := n.qinlingEngines()
	var ctr qinling.Engine
	if n.cfg.DockerHost != "" {
		ccfg := containers.DefaultConfig()
		ccfg.Host = n.cfg.DockerHost
		ccfg.Logger = n.log.With("component", "qinling-containers")
		c, err := containers.New(ccfg)
		if err != nil {
			return nil, fmt.Errorf("node: qinling containers: %w", err)
		}
		// An unreachable daemon does not stop the node: its image
		// executions fail with the reason until it is back.
		if err := c.Available(); err != nil {
			n.log.Warn("qinling: the Docker engine is not reachable", "err", err)
		}
		ctr = c
		engines = append(engines, c)
	}
	n.qinlingEngs = engines
	svc, err := qinling.New(qinling.Config{
		NodeID:             n.cfg.NodeID,
		Records:            n.store,
		Engines:            byImage,
		Containers:         ctr,
		MaxPackageBytes:    n.cfg.QinlingMaxPackageBytes,
		ExecutionRetention: n.cfg.QinlingExecutionRetention,
		JobMinLead:         n.cfg.QinlingJobMinLead,
		WebhookBaseURL:     n.qinlingURL(),
		Executors:          n.jobExecutors,
		Fleet:              qinlingFleet{n},
		Logger:             n.log.With("component", "qinling"),
	})
	if err != nil {
		return nil, fmt.Errorf("node: qinling service: %w", err)
	}
	n.qinling = svc
	api, err := qinlingapi.New(qinlingapi.Config{
		Credentials: creds, Logger: n.log.With("component", "qinling-rest"),
		IsAdmin:         func(id restauth.Identity) bool { return id.User == n.cfg.Username },
		Service:         svc,
		TokenSecret:     n.secret,
		PublicURL:       n.qinlingURL(),
		MaxPackageBytes: n.cfg.QinlingMaxPackageBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("node: qinling API: %w", err)
	}
	return api, nil
}

// qinlingWorkersTimeout bounds the fan-out of GET
// /v1/functions/{id}/workers: the list is best-effort, as Qinling's pods
// are, so a node that does not answer soon is left out rather than
// holding the request.
const qinlingWorkersTimeout = 2 * time.Second

// qinlingFleet asks the other live nodes for their Qinling warm workers
// over gRPC.
type qinlingFleet struct{ n *Node }

var _ qinling.Fleet = qinlingFleet{}

// Workers fans QinlingWorkers out to every other live member; the nodes
// that do not answer within qinlingWorkersTimeout are left out and logged.
func (f qinlingFleet) Workers(ctx context.Context, functionID string, version int) map[string][]string {
	var peers []rpc.Peer
	for _, p := range f.n.livePeers() {
		if p.ID != f.n.cfg.NodeID {
			peers = append(peers, p)
		}
	}
	res := f.n.client.QinlingWorkersAll(ctx, peers, qinlingWorkersTimeout, functionID, version)
	for _, fl := range res.Failed {
		f.n.log.Warn("qinling workers: node did not answer; its workers are left out",
			"function", functionID, "node", fl.Peer.ID, "err", fl.Err)
	}
	return res.Answers
}

// closeQinling stops the Qinling service's background executions, then
// the engines. It runs once; later calls do nothing.
func (n *Node) closeQinling() {
	if n.qinling != nil {
		if err := n.qinling.Close(); err != nil {
			n.log.Warn("qinling: close", "err", err)
		}
		n.qinling = nil
	}
	for _, e := range n.qinlingEngs {
		if err := e.Close(); err != nil {
			n.log.Warn("qinling: close engine", "err", err)
		}
	}
	n.qinlingEngs = nil
}

// qinlingSweeps runs the leader's Qinling duties until ctx ends: firing
// cron jobs, failing the executions of dead nodes, and collecting old
// executions.
func (n *Node) qinlingSweeps(ctx context.Context) {
	// The scheduler keeps its own time (it sleeps until the next due job)
	// and fires only while this node leads.
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); n.qinling.RunJobs(ctx, n.store.IsLeader) }()
	defer func() { <-jobsDone }()
	// Every node starts the firings handed to it.
	firingsDone := make(chan struct{})
	go func() { defer close(firingsDone); n.qinling.RunFirings(ctx) }()
	defer func() { <-firingsDone }()
	started := time.Now()
	n.failLostRuns(ctx)
	orphans := time.NewTicker(qinlingOrphanSweep)
	defer orphans.Stop()
	collect := time.NewTicker(qinlingCollectSweep)
	defer collect.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-orphans.C:
			if !n.store.IsLeader() {
				continue
			}
			live := func(id string) bool { return n.qinlingNodeLive(id, started) }
			if k, err := n.qinling.FailOrphans(ctx, live); err != nil && ctx.Err() == nil {
				n.log.Warn("qinling: failing orphaned executions", "err", err)
			} else if k > 0 {
				n.log.Info("qinling: failed executions of dead nodes", "count", k)
			}
		case <-collect.C:
			if !n.store.IsLeader() {
				continue
			}
			if k, err := n.qinling.CollectExecutions(ctx); err != nil && ctx.Err() == nil {
				n.log.Warn("qinling: collecting old executions", "err", err)
			} else if k > 0 {
				n.log.Info("qinling: collected old executions", "count", k)
			}
		}
	}
}

// failLostRuns fails, once this node has caught up with the log, the
// executions its previous run left "running": they died with it, and the
// leader's sweep leaves them alone because this node is alive again. Runs
// of this process are in flight and never touched.
func (n *Node) failLostRuns(ctx context.Context) {
	everyNodeLive := func(string) bool { return true }
	for {
		err := n.store.CatchUp(ctx)
		if err == nil {
			var k int
			if k, err = n.qinling.FailOrphans(ctx, everyNodeLive); err == nil {
				if k > 0 {
					n.log.Info("qinling: failed executions lost in this node's restart", "count", k)
				}
				return
			}
		}
		n.log.Warn("qinling: failing executions lost in a restart", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// qinlingNodeLive says whether an execution's node may still be running
// it. A node counts as gone once it has been dead or departed for the
// failover timeout, the same patience failover has; a node this node has
// never heard of counts as gone only once this node has watched the
// membership that long, so that a fresh leader does not fail the runs of
// nodes it has not yet met.
func (n *Node) qinlingNodeLive(id string, sweepStarted time.Time) bool {
	m, ok := n.members.Member(id)
	if !ok {
		return time.Since(sweepStarted) < 2*n.cfg.FailoverTimeout
	}
	if m.State == membership.StateAlive {
		return true
	}
	return time.Since(m.Since) < n.cfg.FailoverTimeout
}

// jobExecutorSettle is how long a new leader runs job firings itself
// before it hands them to others: its first heartbeats have not yet told
// it which followers it reaches (the old leader is likely dead).
const jobExecutorSettle = time.Second

// jobExecutors lists the nodes the leader may hand a job's firing to: the
// members alive in gossip whose Raft heartbeats the leader gets through
// to. Empty (this node runs it) until the leadership has settled.
func (n *Node) jobExecutors() []string {
	since, unreachable := n.store.Leading()
	if since.IsZero() || time.Since(since) < jobExecutorSettle {
		return nil
	}
	var ids []string
	for _, m := range n.members.Members() {
		if m.Healthy() && !unreachable[m.NodeID] {
			ids = append(ids, m.NodeID)
		}
	}
	return ids
}
