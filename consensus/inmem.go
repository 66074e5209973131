package consensus

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// OpenSingle opens a one-node store on raft's in-memory transport, for
// tests of the packages above consensus: the real FSM and its commands,
// without sockets, leading within milliseconds. The Raft log and snapshots
// still go to cfg.DataDir (give it a test's TempDir). cfg.NodeID defaults
// to "n1"; zero raft timeouts default to 20ms instead of the LAN values.
// It returns once the store leads.
func OpenSingle(cfg Config) (*Store, error) {
	if cfg.NodeID == "" {
		cfg.NodeID = "n1"
	}
	if cfg.HeartbeatTimeout == 0 && cfg.ElectionTimeout == 0 && cfg.LeaderLeaseTimeout == 0 {
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 20*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond
	}
	cfg.Bootstrap = true
	cfg.BindAddr, cfg.AdvertiseAddr = "", ""
	_, trans := raft.NewInmemTransport(raft.ServerAddress(cfg.NodeID))
	s, err := open(cfg, trans)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitLeader(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("consensus: single node did not lead: %w", err)
	}
	return s, nil
}
