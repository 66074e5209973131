// Package rpc is the node-to-node gRPC layer: a Server that every node runs
// on its gRPC port (nodepb.Node: forwarded consensus entries, application
// logs, stats, status and code insight of the functions running on the
// node) and a Client that keeps one connection per peer, forwards a
// follower's log entries to the leader (Forwarder, the consensus forwarding
// seam) and fans a call out to many peers at once (FanOut).
//
// Errors cross the wire as gRPC statuses. A consensus sentinel error (not
// leader, leadership lost, closed, ...) travels as a status with an
// errdetails.ErrorInfo naming it, and the client turns it back into an error
// that errors.Is the same consensus sentinel, with the remote message kept.
package rpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eventide/consensus"
)

// Sentinel errors.
var (
	// ErrUnavailable: the peer could not be reached (connection refused or
	// broken, the peer shutting down).
	ErrUnavailable = errors.New("rpc: peer unavailable")
	// ErrUnknownPeer: a node id has no known gRPC address, or a peer has an
	// empty address.
	ErrUnknownPeer = errors.New("rpc: unknown peer")
	// ErrInvalid: a request is malformed (empty function name, size out of
	// range, empty entry); the remote side's InvalidArgument also maps here.
	ErrInvalid = errors.New("rpc: invalid request")
	// ErrClosed: the client or server is closed.
	ErrClosed = errors.New("rpc: closed")
	// ErrRemote: the peer failed the call for a reason with no sentinel of
	// its own; the error's message is the peer's.
	ErrRemote = errors.New("rpc: remote error")
)

// errorDomain is the ErrorInfo domain of the errors this package encodes.
const errorDomain = "eventide.node"

// wireError is one sentinel error that crosses the wire by name.
type wireError struct {
	err    error
	code   codes.Code
	reason string
}

// wireErrors are the sentinels a server encodes and a client decodes. The
// first that errors.Is matches wins, so more specific ones come first.
var wireErrors = []wireError{
	{consensus.ErrNotLeader, codes.FailedPrecondition, "NOT_LEADER"},
	{consensus.ErrLeadershipLost, codes.Aborted, "LEADERSHIP_LOST"},
	{consensus.ErrClosed, codes.Unavailable, "CLOSED"},
	{consensus.ErrTooLarge, codes.ResourceExhausted, "TOO_LARGE"},
	{consensus.ErrInvalid, codes.InvalidArgument, "CONSENSUS_INVALID"},
	{consensus.ErrVersionMismatch, codes.FailedPrecondition, "VERSION_MISMATCH"},
	{consensus.ErrFunctionNotFound, codes.NotFound, "FUNCTION_NOT_FOUND"},
	{consensus.ErrFunctionExists, codes.AlreadyExists, "FUNCTION_EXISTS"},
	{consensus.ErrStaleInstance, codes.FailedPrecondition, "STALE_INSTANCE"},
	{consensus.ErrCheckpointMismatch, codes.Aborted, "CHECKPOINT_MISMATCH"},
	{consensus.ErrStaleOwner, codes.FailedPrecondition, "STALE_OWNER"},
	{ErrInvalid, codes.InvalidArgument, "INVALID"},
}

// toStatus turns a handler's error into the gRPC status error it answers.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	for _, w := range wireErrors {
		if !errors.Is(err, w.err) {
			continue
		}
		st := status.New(w.code, err.Error())
		if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: w.reason, Domain: errorDomain}); derr == nil {
			st = d
		}
		return st.Err()
	}
	return status.Error(codes.Unknown, err.Error())
}

// remoteError is an error a peer answered with: it reads as the peer's
// message and unwraps to the sentinel it named.
type remoteError struct {
	sentinel error
	msg      string
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// fromStatus turns a call's error back into this side's errors: a named
// sentinel, a context error, ErrUnavailable, ErrInvalid or ErrRemote.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != errorDomain {
			continue
		}
		for _, w := range wireErrors {
			if w.reason == info.GetReason() {
				return &remoteError{sentinel: w.err, msg: st.Message()}
			}
		}
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%w: %s", context.Canceled, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %s", context.DeadlineExceeded, st.Message())
	case codes.Unavailable:
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	case codes.InvalidArgument:
		return &remoteError{sentinel: ErrInvalid, msg: st.Message()}
	default:
		return &remoteError{sentinel: ErrRemote, msg: fmt.Sprintf("%s: %s", st.Code(), st.Message())}
	}
}
