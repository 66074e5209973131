package consensus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"eventide/docstore"
)

// Forwarder sends a follower's log entry to the Raft leader, whose
// Store.ApplyEntry applies it; the node implements it over gRPC. Forward
// returns nil once the leader committed and applied the entry. An error
// matching ErrNotLeader means the entry was certainly not applied (no or
// another leader); ErrInvalid and ErrTooLarge mean the leader refused it;
// any other error leaves the outcome unknown. The store retries all but
// the refusals with the same entry, which its FSM applies at most once.
type Forwarder interface {
	Forward(ctx context.Context, leaderID, leaderAddr string, entry []byte) error
}

// Network carries Raft's connections instead of plain TCP; tests use it
// to inject network faults (internal/faultnet implements it).
type Network interface {
	// WrapListener wraps the Raft listener, which it may filter.
	WrapListener(l net.Listener) net.Listener
	// DialContext dials a peer's Raft address.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Config configures a Store.
type Config struct {
	// NodeID is the Raft server id. Required.
	NodeID string
	// DataDir holds raft.db (raft-boltdb) and snapshots/. Required; created
	// if missing.
	DataDir string
	// BindAddr is the Raft TCP listen address, e.g. "127.0.0.1:9097"
	// (port 0 picks a free port; see Store.Addr). Required.
	BindAddr string
	// AdvertiseAddr is the address peers dial; default BindAddr (the
	// listener's actual address).
	AdvertiseAddr string
	// Bootstrap makes a node with no Raft state bootstrap a one-node cluster.
	Bootstrap bool
	// NumVBuckets per bucket; default 1024. Must be a power of two and the
	// same on every node.
	NumVBuckets int
	// MaxBatch is the most commands group-committed in one log entry; default 4096.
	MaxBatch int
	// MaxBatchBytes is the most bytes of commands group-committed in one log
	// entry (a single larger command is still proposed alone); default 4 MiB.
	MaxBatchBytes int
	// SnapshotThreshold is raft's SnapshotThreshold: log entries since the
	// last snapshot that trigger a new one; default 8192.
	SnapshotThreshold uint64
	// SnapshotInterval is how often raft checks SnapshotThreshold; default 60s.
	SnapshotInterval time.Duration
	// TrailingLogs is how many log entries stay after a snapshot, so that a
	// slightly lagging follower catches up from the log; default 1024
	// (entries are batches, so this is many more writes).
	TrailingLogs uint64
	// HeartbeatTimeout is raft's follower timeout before an election;
	// default 500ms (loopback and LAN clusters).
	HeartbeatTimeout time.Duration
	// ElectionTimeout is raft's candidate timeout; default 500ms.
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout is how long a leader stays without reaching a
	// quorum before it steps down; default 250ms; at most HeartbeatTimeout.
	LeaderLeaseTimeout time.Duration
	// ApplyTimeout bounds one raft.Apply; default 10s.
	ApplyTimeout time.Duration
	// Logger receives raft's logs through an hclog adapter. Default discard.
	Logger *slog.Logger
	// Forwarder, when set, makes every write work on a follower: its entries
	// go to the leader through it, leader changes are retried within the
	// caller's ctx, and ErrNotLeader never reaches a caller. Default nil:
	// writes on a follower return ErrNotLeader.
	Forwarder Forwarder
	// Network, when set, carries Raft's connections (fault-injection
	// tests). Default nil: plain TCP.
	Network Network
	// IndexCompiler compiles secondary index definitions (CreateIndex, and
	// snapshot restores) into key functions. It must be deterministic and
	// the same on every node. Default nil: only primary indexes can be
	// created, and restored secondary indexes stay offline.
	IndexCompiler docstore.IndexCompiler
	// ServerTLS and ClientTLS, set together, run Raft over TLS on top of
	// Network: every accepted connection must complete a handshake with
	// ServerTLS (which should require and verify client certificates), and
	// every dial completes one with ClientTLS before Raft writes a byte.
	// The node always sets them (mutual TLS with the cluster CA). Default
	// nil: plaintext, for this package's tests.
	ServerTLS, ClientTLS *tls.Config
}

// DefaultConfig returns a Config with every default filled in; NodeID,
// DataDir and BindAddr are left for the caller.
func DefaultConfig() Config {
	return Config{
		NumVBuckets:        1024,
		MaxBatch:           4096,
		MaxBatchBytes:      4 << 20,
		SnapshotThreshold:  8192,
		SnapshotInterval:   60 * time.Second,
		TrailingLogs:       1024,
		HeartbeatTimeout:   500 * time.Millisecond,
		ElectionTimeout:    500 * time.Millisecond,
		LeaderLeaseTimeout: 250 * time.Millisecond,
		ApplyTimeout:       10 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.NumVBuckets == 0 {
		c.NumVBuckets = d.NumVBuckets
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = d.MaxBatchBytes
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = d.SnapshotInterval
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = d.HeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = d.ElectionTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = min(d.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = d.ApplyTimeout
	}
	return c
}

// Validate reports the first invalid setting. Zero values that have a
// default are valid (Open fills them in).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("NodeID is required"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("DataDir is required"))
	}
	if c.BindAddr == "" {
		errs = append(errs, errors.New("BindAddr is required"))
	}
	if c.NumVBuckets < 1 || c.NumVBuckets > 1<<15 || c.NumVBuckets&(c.NumVBuckets-1) != 0 {
		errs = append(errs, fmt.Errorf("NumVBuckets %d is not a power of two in [1, 32768]", c.NumVBuckets))
	}
	if c.MaxBatch < 1 {
		errs = append(errs, fmt.Errorf("MaxBatch %d is not positive", c.MaxBatch))
	}
	if c.MaxBatchBytes < 1024 {
		errs = append(errs, fmt.Errorf("MaxBatchBytes %d is below 1 KiB", c.MaxBatchBytes))
	}
	if c.HeartbeatTimeout < 5*time.Millisecond || c.ElectionTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout < 5*time.Millisecond {
		errs = append(errs, errors.New("raft timeouts must be at least 5ms"))
	}
	if c.ElectionTimeout < c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("ElectionTimeout %s is below HeartbeatTimeout %s", c.ElectionTimeout, c.HeartbeatTimeout))
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("LeaderLeaseTimeout %s is above HeartbeatTimeout %s", c.LeaderLeaseTimeout, c.HeartbeatTimeout))
	}
	if c.SnapshotInterval < 5*time.Millisecond {
		errs = append(errs, fmt.Errorf("SnapshotInterval %s is below 5ms", c.SnapshotInterval))
	}
	if c.ApplyTimeout < 0 {
		errs = append(errs, fmt.Errorf("ApplyTimeout %s is negative", c.ApplyTimeout))
	}
	if (c.ServerTLS == nil) != (c.ClientTLS == nil) {
		errs = append(errs, errors.New("ServerTLS and ClientTLS must be set together"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("consensus: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
