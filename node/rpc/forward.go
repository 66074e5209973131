package rpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"

	"eventide/consensus"
	"eventide/proto/nodepb"
)

// Resolver maps a node id to the address of its gRPC server. Membership
// implements it from the gossiped node metadata.
type Resolver interface {
	// GRPCAddr returns the node's gRPC host:port; false if unknown.
	GRPCAddr(nodeID string) (string, bool)
}

var (
	_ consensus.Forwarder = (*Forwarder)(nil)
	_ Applier             = (*consensus.Store)(nil)
)

// ResolverFunc adapts a function to Resolver (for instance one that reads
// a membership created after the store, which needs the Forwarder first).
type ResolverFunc func(nodeID string) (string, bool)

// GRPCAddr implements Resolver.
func (f ResolverFunc) GRPCAddr(nodeID string) (string, bool) { return f(nodeID) }

// Forwarder sends a follower's log entries to the leader's Node.Forward.
// It implements consensus's forwarding seam and retries nothing itself:
// consensus decides what to retry from the error.
type Forwarder struct {
	client   *Client
	resolver Resolver
}

// NewForwarder returns a Forwarder that resolves leaders through r and
// calls them through c.
func NewForwarder(c *Client, r Resolver) (*Forwarder, error) {
	if c == nil || r == nil {
		return nil, errors.New("rpc: forwarder needs a client and a resolver")
	}
	return &Forwarder{client: c, resolver: r}, nil
}

// Forward hands entry to the leader leaderID and waits until the leader has
// committed it. leaderAddr (the leader's Raft address) only labels errors;
// the gRPC address comes from the Resolver.
//
// The error says what a retry may assume (consensus.Forwarder's contract):
//   - errors.Is consensus.ErrNotLeader: the entry was certainly not applied
//     (no leader known, its address unknown, it could not be reached before
//     sending, or it answered that it is not the leader); retry once the
//     leader is known again.
//   - errors.Is consensus.ErrLeadershipLost: the outcome is unknown (the
//     connection broke after sending, or the leader lost leadership while
//     applying).
//   - context.Canceled / context.DeadlineExceeded: ctx ended; the outcome
//     is unknown if the entry was sent.
//   - other consensus sentinels as the leader answered them (ErrTooLarge,
//     ErrInvalid, ...). A leader whose store is closing answers
//     ErrLeadershipLost, never ErrClosed, which would read as this node's
//     own store being closed.
//   - ErrClosed (this package's): the client is closed.
func (f *Forwarder) Forward(ctx context.Context, leaderID, leaderAddr string, entry []byte) error {
	if len(entry) == 0 {
		return fmt.Errorf("%w: %w: empty log entry", ErrInvalid, consensus.ErrInvalid)
	}
	if leaderID == "" {
		return fmt.Errorf("rpc: forward: no leader known: %w", consensus.ErrNotLeader)
	}
	addr, ok := f.resolver.GRPCAddr(leaderID)
	if !ok || addr == "" {
		return fmt.Errorf("rpc: forward to %s (raft %s): %w: %w", leaderID, leaderAddr, ErrUnknownPeer, consensus.ErrNotLeader)
	}
	n, err := f.client.Node(addr)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return err
		}
		return fmt.Errorf("rpc: forward to %s (%s): %w: %w", leaderID, addr, err, consensus.ErrNotLeader)
	}
	// The peer is filled in once the call is on a connection: without it
	// a failure happened before anything was sent.
	var p peer.Peer
	_, err = n.Forward(ctx, &nodepb.ForwardRequest{Entry: entry}, grpc.Peer(&p))
	if err == nil {
		return nil
	}
	err = fromStatus(err)
	if errors.Is(err, consensus.ErrClosed) {
		// The leader's store is shutting down, not this node's: whether an
		// entry in flight was applied is unknown.
		return fmt.Errorf("rpc: forward to %s (%s): leader shutting down (%v): %w", leaderID, addr, err, consensus.ErrLeadershipLost)
	}
	if errors.Is(err, ErrUnavailable) {
		if p.Addr == nil {
			return fmt.Errorf("rpc: forward to %s (%s): %w: %w", leaderID, addr, err, consensus.ErrNotLeader)
		}
		return fmt.Errorf("rpc: forward to %s (%s): %w: %w", leaderID, addr, err, consensus.ErrLeadershipLost)
	}
	return fmt.Errorf("rpc: forward to %s (%s): %w", leaderID, addr, err)
}
