package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"

	"eventide/eventing"
	"eventide/eventing/dataplane"
	"eventide/membership"
	"eventide/node/rest/clusterapi"
	"eventide/node/rest/eventingapi"
	"eventide/node/rest/restauth"
	"eventide/node/rest/syncgwapi"
	"eventide/node/rpc"
)

// wire builds membership, the coordinator, the supervisor, the gRPC server,
// the eventing and Qinling services, the UDF libraries and the REST
// handlers over the opened store.
func (n *Node) wire() error {
	cfg := n.cfg
	adv := cfg.advertise()
	seeds := slices.Clone(cfg.Join)
	for _, p := range loadPeers(cfg.DataDir) {
		if !slices.Contains(seeds, p) {
			seeds = append(seeds, p)
		}
	}
	var err error
	n.members, err = membership.New(membership.Config{
		NodeID:        cfg.NodeID,
		BindAddr:      cfg.BindAddr,
		AdvertiseAddr: cfg.AdvertiseAddr,
		GossipPort:    cfg.Ports.Gossip,
		Join:          seeds,
		Meta: membership.Meta{
			NodeID:   cfg.NodeID,
			UUID:     n.uuid,
			RaftAddr: n.store.Addr(),
			GRPCAddr: net.JoinHostPort(adv, strconv.Itoa(n.port(APIGRPC))),
			Ports: membership.Ports{
				Mgmt: n.port(APIMgmt), Eventing: n.port(APIEventing), SyncGateway: n.port(APISyncGateway),
				Query: n.port(APIQuery),
			},
			// "n1ql" advertises the query port to SDKs (cluster.Query,
			// scope.Query, the UDF library APIs).
			Services: []string{"kv", "eventing", "n1ql"},
		},
		Logger:        n.log.With("component", "membership"),
		GossipKey:     n.keys.GossipKey(),
		WrapTransport: n.wrapGossip(),
	})
	if err != nil {
		return fmt.Errorf("node: membership: %w", err)
	}
	n.coord, err = membership.NewCoordinator(membership.CoordinatorConfig{
		NodeID:          cfg.NodeID,
		Store:           n.store,
		Members:         n.members,
		NumVBuckets:     cfg.VBuckets,
		FailoverTimeout: cfg.FailoverTimeout,
		Logger:          n.log.With("component", "coordinator"),
	})
	if err != nil {
		return fmt.Errorf("node: coordinator: %w", err)
	}
	// The embedded backend: workers stream and read the Raft-replicated
	// document store and commit their batches through Raft.
	n.sup, err = dataplane.New(dataplane.Config{
		NodeID:    cfg.NodeID,
		AppLogDir: filepath.Join(cfg.DataDir, "applogs"),
		Records:   n.store,
		Source:    n.store.Docs(),
		Sink:      n.store,
		Querier:   handlerQuerier{n},
		Logger:    n.log,
	})
	if err != nil {
		return fmt.Errorf("node: supervisor: %w", err)
	}
	n.grpc, err = rpc.NewServer(rpc.ServerConfig{
		Applier: n.store,
		Runtime: localRuntime{n.sup},
		Logger:  n.log.With("component", "rpc-server"),
		TLS:     n.ident.ServerTLS(),
	})
	if err != nil {
		return fmt.Errorf("node: gRPC server: %w", err)
	}
	n.svc, err = eventing.New(eventing.Config{
		Backend:   n.store,
		Keyspaces: n.store.Docs(),
		Compiler:  eventing.HandlerCompiler,
		Fleet:     fleet{n},
		Runtime:   n.sup,
		Logger:    n.log.With("component", "eventing"),
	})
	if err != nil {
		return fmt.Errorf("node: eventing service: %w", err)
	}

	creds := restauth.NewAdmin(cfg.Username, cfg.Password)
	n.mgmt, err = clusterapi.New(clusterapi.Config{
		Credentials: creds, Logger: n.log.With("component", "mgmt-rest"),
		Keyspaces: n.store, Catalog: n.store.Docs(), Cluster: clusterView{n}, Docs: n.store.Docs(), Writer: n.store,
	})
	if err != nil {
		return fmt.Errorf("node: cluster manager API: %w", err)
	}
	ev, err := eventingapi.New(eventingapi.Config{
		Credentials: creds, Logger: n.log.With("component", "eventing-rest"),
		Service: n.svc,
	})
	if err != nil {
		return fmt.Errorf("node: eventing API: %w", err)
	}
	sg, err := syncgwapi.New(syncgwapi.Config{
		Credentials: creds, Logger: n.log.With("component", "syncgw-rest"),
		Docs: n.store.Docs(), Writer: n.store,
		ServerUUID: n.uuid,
	})
	if err != nil {
		return fmt.Errorf("node: sync gateway API: %w", err)
	}
	ql, err := n.wireQinling(creds)
	if err != nil {
		return err
	}
	qy, err := n.wireQuery(creds)
	if err != nil {
		return err
	}
	n.rest = map[API]http.Handler{
		APIMgmt:        n.caughtUp(n.mgmt, creds, false),
		APIEventing:    n.caughtUp(ev, creds, true),
		APISyncGateway: sg,
		APIQinling:     ql,
		APIQuery:       qy,
	}
	return nil
}

// caughtUp makes a handler see every write acknowledged anywhere in the
// cluster before it acts, as Couchbase does by sending lifecycle calls to
// its leader: a function created through one node can be deployed through
// another at once. reads says whether GETs wait too; it costs one Raft
// round trip per request, which management calls can afford.
func (n *Node) caughtUp(h http.Handler, creds restauth.Credentials, reads bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A request without the credentials gets the API's 401 at once: it
		// must not cost a Raft round trip first.
		_, authErr := restauth.Authenticate(r, creds)
		if (reads || (r.Method != http.MethodGet && r.Method != http.MethodHead)) && authErr == nil {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			err := n.store.CatchUp(ctx)
			cancel()
			if err != nil {
				n.log.Warn("catching up before a request", "path", r.URL.Path, "err", err)
			}
		}
		h.ServeHTTP(w, r)
	})
}

// wrapGossip returns the membership's transport hook: nil unless the node
// runs on a Network of its own.
func (n *Node) wrapGossip() func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
	if n.cfg.Network == nil {
		return nil
	}
	return n.cfg.Network.WrapTransport
}
