package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Writes from any node.
//
// The store's proposer gives each entry a token and runs one goroutine per
// entry that gets it into the log: through raft.Apply while this node
// leads, else through Config.Forwarder to the leader's ApplyEntry. Either
// way the entry's results come from this node's own FSM, which hands the
// results of every entry bearing this node's session to the waiting
// proposer (the FSM is deterministic, so they equal the leader's). A write
// therefore returns only after this node applied it.
//
// A failed attempt is retried with the same bytes, after the leader
// changes or with backoff, while a caller of the entry still waits: the
// FSM applies a token once, so an attempt whose outcome is unknown (a lost
// reply) cannot apply twice. Refusals (ErrInvalid, ErrTooLarge) are final.
// Without a Forwarder nothing is retried: a follower answers ErrNotLeader
// and a leader losing leadership ErrLeadershipLost, as raft does.
//
// Entries keep their proposal order into the log: each entry's first
// attempt waits until the previous entry was handed to raft (leader) or
// acknowledged by the leader (forwarded), except across leader changes.

const (
	// retryMin and retryMax bound the backoff between attempts.
	retryMin = 10 * time.Millisecond
	retryMax = 500 * time.Millisecond
	// alivePoll is how often a retrying proposal checks its callers.
	alivePoll = 20 * time.Millisecond
	// warnAfterFailures is when a proposal's failed attempts get logged.
	warnAfterFailures = 10
)

// errCallersGone ends a proposal that no caller waits for any more.
var errCallersGone = errors.New("consensus: every caller of the entry gave up")

type entryProposer struct {
	s *Store

	// mu guards lastSent, closed and wg.Add: Close sets closed before it
	// waits, so no proposal starts after.
	mu       sync.Mutex
	lastSent chan struct{} // closed when the last entry was handed on
	closed   bool
	wg       sync.WaitGroup
}

func newEntryProposer(s *Store) *entryProposer {
	c := make(chan struct{})
	close(c)
	return &entryProposer{s: s, lastSent: c}
}

// close stops new proposals and waits for those running (their retry loops
// end once the store is closing).
func (p *entryProposer) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}

// entryProposal is one entry's way into the log; done closes when res/err
// are set.
type entryProposal struct {
	done chan struct{}
	res  []cmdResult
	err  error
}

func (pr *entryProposal) wait() ([]cmdResult, error) {
	<-pr.done
	return pr.res, pr.err
}

func (p *entryProposer) propose(cs callers, cmds [][]byte) proposal {
	s := p.s
	pr := &entryProposal{done: make(chan struct{})}
	sent := make(chan struct{})
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pr.err = ErrClosed
		close(pr.done)
		return pr
	}
	prev := p.lastSent
	p.lastSent = sent
	p.wg.Add(1)
	p.mu.Unlock()

	tok := entryToken{node: s.cfg.NodeID, session: s.session, seq: s.seq.Add(1)}
	entry := encodeTokenEntry(tok, cmds)
	w := s.fsm.expect(tok.seq)
	go func() {
		defer p.wg.Done()
		defer close(pr.done)
		defer s.fsm.forget(tok.seq)
		a := attempt{p: p, s: s, cs: cs, w: w, sent: sent}
		defer a.handedOn()
		pr.res, pr.err = a.run(entry, prev)
	}()
	return pr
}

// attempt is the state of one entry's proposal goroutine.
type attempt struct {
	p       *entryProposer
	s       *Store
	cs      callers
	ctx     context.Context
	w       <-chan entryResult
	sent    chan struct{}
	didSend bool
	// unknown: an earlier attempt may have been applied.
	unknown bool
}

// handedOn lets the next entry start its first attempt.
func (a *attempt) handedOn() {
	if !a.didSend {
		a.didSend = true
		close(a.sent)
	}
}

func (a *attempt) run(entry []byte, prev <-chan struct{}) ([]cmdResult, error) {
	s := a.s
	ctx, cancel := a.cs.context()
	defer cancel()
	a.ctx = ctx
	if r, err := a.idle(prev, 0); r != nil || err != nil {
		return a.result(r, err)
	}
	fwd := s.cfg.Forwarder
	backoff := retryMin
	failures := 0
	for {
		select {
		case r := <-a.w:
			return r.res, r.err
		default:
		}
		if s.IsLeader() {
			f := s.raft.Apply(entry, s.cfg.ApplyTimeout)
			a.handedOn()
			err := f.Error()
			if err == nil {
				if e, ok := f.Response().(error); ok {
					return nil, e
				}
				// This FSM applied the entry (or an earlier copy of it).
				return a.awaitLocal()
			}
			switch {
			case errors.Is(err, raft.ErrRaftShutdown):
				return a.result(nil, ErrClosed)
			case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
			default: // leadership lost while in flight, or worse: unknown
				a.unknown = true
			}
			if fwd == nil {
				return nil, raftError(err)
			}
			s.log.Debug("raft apply failed; retrying", "err", err)
		} else {
			if fwd == nil {
				return nil, ErrNotLeader
			}
			id, addr := s.Leader()
			if id == "" || id == s.cfg.NodeID {
				// No leader known yet, or this node is still becoming it.
				if r, err := a.idle(nil, retryMin); r != nil || err != nil {
					return a.result(r, err)
				}
				continue
			}
			actx, acancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
			stop := context.AfterFunc(s.lifetime, acancel)
			unwatch := s.cancelOnNewLeader(id, acancel)
			err := fwd.Forward(actx, id, addr, entry)
			unwatch()
			stop()
			acancel()
			if err == nil {
				a.handedOn()
				return a.awaitLocal()
			}
			switch {
			case errors.Is(err, ErrInvalid), errors.Is(err, ErrTooLarge):
				return nil, err
			case errors.Is(err, ErrNotLeader):
			default:
				a.unknown = true
			}
			s.log.Debug("forward to the leader failed; retrying", "leader", id, "err", err)
		}
		if failures++; failures == warnAfterFailures {
			s.log.Warn("a write keeps failing to reach the raft leader; still retrying", "attempts", failures)
		}
		if r, err := a.idle(nil, backoff); r != nil || err != nil {
			return a.result(r, err)
		}
		backoff = min(2*backoff, retryMax)
	}
}

// cancelOnNewLeader calls cancel as soon as this node sees a leader other
// than id, until the returned stop is called (stop waits for the watch to
// end). A forward to a leader that froze or was cut off without a reset
// would otherwise hang until ApplyTimeout, holding up every later entry of
// this node (entries go to the log in order) although the others elected
// a new leader within about a second. The abandoned attempt's outcome is
// unknown; the retry carries the same token, so it cannot apply twice.
func (s *Store) cancelOnNewLeader(id string, cancel context.CancelFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(alivePoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if cur, _ := s.Leader(); cur != "" && cur != id {
					cancel()
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// result turns what idle returned into the proposal's outcome.
func (a *attempt) result(r *entryResult, err error) ([]cmdResult, error) {
	if r != nil {
		return r.res, r.err
	}
	if errors.Is(err, ErrClosed) && a.unknown {
		return nil, fmt.Errorf("%w: the store closed while the write was retried", ErrLeadershipLost)
	}
	return nil, err
}

// idle waits until ch closes (ch non-nil) or d passes (d > 0), and returns
// early with the entry's result when this FSM applies it, or with an error
// when the proposal must end: its callers are gone or the store closes.
func (a *attempt) idle(ch <-chan struct{}, d time.Duration) (*entryResult, error) {
	if ch != nil {
		select { // fast path: the previous entry is on its way
		case <-ch:
			return nil, nil
		default:
		}
	}
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	poll := time.NewTicker(alivePoll)
	defer poll.Stop()
	for {
		select {
		case r := <-a.w:
			return &r, nil
		case <-ch:
			return nil, nil
		case <-timer:
			return nil, nil
		case <-a.ctx.Done():
			return nil, a.ctx.Err()
		case <-poll.C:
			if !a.cs.alive() {
				return nil, errCallersGone
			}
		case <-a.s.closing:
			return nil, ErrClosed
		}
	}
}

// awaitLocal waits for this FSM to apply the entry after the leader did.
// A closing store still applies what is committed, so it waits up to
// ApplyTimeout more before giving up.
func (a *attempt) awaitLocal() ([]cmdResult, error) {
	select { // fast path: on the leader the FSM has applied it already
	case r := <-a.w:
		return r.res, r.err
	default:
	}
	poll := time.NewTicker(alivePoll)
	defer poll.Stop()
	closing := a.s.closing
	var grace <-chan time.Time
	for {
		select {
		case r := <-a.w:
			return r.res, r.err
		case <-a.ctx.Done():
			return nil, a.ctx.Err()
		case <-poll.C:
			if !a.cs.alive() {
				return nil, errCallersGone
			}
		case <-closing:
			closing = nil
			t := time.NewTimer(a.s.cfg.ApplyTimeout)
			defer t.Stop()
			grace = t.C
		case <-grace:
			return nil, fmt.Errorf("%w: applied by the leader, not yet by this node when it closed", ErrLeadershipLost)
		}
	}
}

// maxEntryBytes bounds an entry ApplyEntry accepts: a batcher's entry holds
// one command of up to max(maxCommandBytes, MaxBatchBytes) or commands of
// MaxBatchBytes in all, plus framing; twice that leaves room for a peer
// configured with a larger MaxBatchBytes.
func (s *Store) maxEntryBytes() int { return 2 * max(maxCommandBytes, s.cfg.MaxBatchBytes) }

// ApplyEntry is the leader's side of forwarding: it appends entry, framed
// by a follower's batcher, to the Raft log as it is, and returns once it
// is committed and applied here (or was applied before: its token is
// known). Errors: ErrNotLeader on a follower (the entry was not appended),
// ErrInvalid for a malformed entry, ErrTooLarge, ErrClosed, ctx's error,
// and ErrLeadershipLost when leadership was lost with the entry in flight.
func (s *Store) ApplyEntry(ctx context.Context, entry []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(entry) > s.maxEntryBytes() {
		return fmt.Errorf("%w: log entry of %d bytes", ErrTooLarge, len(entry))
	}
	if err := checkEntry(entry); err != nil {
		return fmt.Errorf("%w: forwarded log entry: %v", ErrInvalid, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if !s.IsLeader() {
		s.mu.Unlock()
		return ErrNotLeader
	}
	s.waiters.Add(1) // under mu: never concurrent with Close's Wait
	s.mu.Unlock()
	timeout := s.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(dl)), time.Millisecond)
	}
	f := s.raft.Apply(entry, timeout)
	done := make(chan error, 1)
	go func() {
		defer s.waiters.Done()
		err := f.Error()
		if err != nil {
			err = raftError(err)
		} else if e, ok := f.Response().(error); ok {
			err = e
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return ErrClosed
	}
}
