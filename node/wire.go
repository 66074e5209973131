package node

import (
	"fmt"
	"net/http"
	"path/filepath"

	"eventide/node/eventing"
	"eventide/node/rest/clusterapi"
	"eventide/node/rest/eventingapi"
	"eventide/node/rest/syncgwapi"
)

// wire builds the supervisor, the eventing service and the REST handlers
// over the opened store.
func (n *Node) wire() error {
	uuid, err := loadNodeUUID(n.cfg.DataDir)
	if err != nil {
		return err
	}
	n.uuid = uuid
	n.sup, err = eventing.NewSupervisor(eventing.SupervisorConfig{
		NodeID:    n.cfg.NodeID,
		AppLogDir: filepath.Join(n.cfg.DataDir, "applogs"),
		Store:     n.store,
		Logger:    n.log,
	})
	if err != nil {
		return fmt.Errorf("node: supervisor: %w", err)
	}
	n.svc, err = eventing.New(eventing.Config{
		Backend:   n.store,
		Keyspaces: n.store.Docs(),
		Compiler:  eventing.HandlerCompiler,
		Cluster:   n.sup,
		Runtime:   n.sup,
		Logger:    n.log.With("component", "eventing"),
	})
	if err != nil {
		return fmt.Errorf("node: eventing service: %w", err)
	}

	mgmt, err := clusterapi.New(clusterapi.Config{
		Username: n.cfg.Username, Password: n.cfg.Password, Logger: n.log.With("component", "mgmt-rest"),
	}, clusterapi.Deps{Keyspaces: n.store, Catalog: n.store.Docs(), Cluster: clusterView{n}})
	if err != nil {
		return fmt.Errorf("node: cluster manager API: %w", err)
	}
	n.mgmt = mgmt
	ev, err := eventingapi.New(eventingapi.Config{
		Username: n.cfg.Username, Password: n.cfg.Password, Logger: n.log.With("component", "eventing-rest"),
	}, n.svc)
	if err != nil {
		return fmt.Errorf("node: eventing API: %w", err)
	}
	sg, err := syncgwapi.New(syncgwapi.Config{
		Username: n.cfg.Username, Password: n.cfg.Password, ServerUUID: uuid,
		Logger: n.log.With("component", "syncgw-rest"),
	}, n.store.Docs(), n.store)
	if err != nil {
		return fmt.Errorf("node: sync gateway API: %w", err)
	}
	n.rest = map[API]http.Handler{APIMgmt: mgmt, APIEventing: ev, APISyncGateway: sg}
	return nil
}

// handlers returns the REST handler of each API listener.
func (n *Node) handlers() map[API]http.Handler { return n.rest }
