package consensus

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Group commit.
//
// Callers encode their command on their own goroutine and hand it to the
// batcher. The batcher goroutine takes the first waiting command, then
// everything else already queued (up to maxBatch commands and maxBytes
// bytes), frames them as one log entry and proposes it; it never waits for
// a timer, so a lone caller's command is proposed at once. Up to
// maxInflight entries may be proposed and not yet applied: while they are
// being replicated and applied, the next batch accumulates in the queue.
// The completer goroutine waits for proposals in order and hands each
// caller its own result.

// maxInflight is the number of proposed, not yet applied entries.
const maxInflight = 4

// proposal is one log entry on its way through consensus.
type proposal interface {
	// wait blocks until the entry was applied by this node's FSM (or
	// failed) and returns one result per command of the entry.
	wait() ([]cmdResult, error)
}

// proposer frames commands as one log entry and starts its way through
// consensus on behalf of cs, the entry's callers: once none of them waits
// any more, the proposer may stop retrying it. Proposals start in the order propose is
// called, and the store's proposer keeps that order into the log except
// across leader changes.
type proposer interface {
	propose(cs callers, cmds [][]byte) proposal
}

// request is one caller's command waiting for its result.
type request struct {
	ctx  context.Context
	cmd  []byte
	done chan cmdResult // buffered(1): the completer never blocks on it
}

// inflight is a proposed entry and the requests it carries, in order.
type inflight struct {
	reqs []*request
	p    proposal
}

type batcher struct {
	prop     proposer
	maxBatch int
	maxBytes int

	queue   chan *request
	slots   chan struct{} // semaphore: one token per entry in flight
	pending chan inflight // batcher → completer, in proposal order

	// closing is closed first by close, to unblock submitters; mu (write
	// locked once by close) then waits for submitters to leave, after
	// which closed is set and no request can enter queue any more.
	closing chan struct{}
	stop    chan struct{}
	mu      sync.RWMutex
	closed  bool
	wg      sync.WaitGroup
}

func newBatcher(prop proposer, maxBatch, maxBytes int) *batcher {
	b := &batcher{
		prop:     prop,
		maxBatch: maxBatch,
		maxBytes: maxBytes,
		queue:    make(chan *request, maxBatch),
		slots:    make(chan struct{}, maxInflight),
		pending:  make(chan inflight, maxInflight),
		closing:  make(chan struct{}),
		stop:     make(chan struct{}),
	}
	b.wg.Add(2)
	go b.run()
	go b.complete()
	return b
}

// enqueue hands cmd to the batcher without waiting for its result.
func (b *batcher) enqueue(ctx context.Context, cmd []byte) (*request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := &request{ctx: ctx, cmd: cmd, done: make(chan cmdResult, 1)}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, ErrClosed
	}
	select {
	case b.queue <- req:
		return req, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.closing:
		return nil, ErrClosed
	}
}

// await waits for req's result. Every enqueued request gets exactly one
// result, so giving up on ctx leaves nothing behind.
func (b *batcher) await(ctx context.Context, req *request) cmdResult {
	select {
	case r := <-req.done:
		return r
	case <-ctx.Done():
		return cmdResult{err: ctx.Err()}
	}
}

// submit proposes one command and waits for its result.
func (b *batcher) submit(ctx context.Context, cmd []byte) cmdResult {
	req, err := b.enqueue(ctx, cmd)
	if err != nil {
		return cmdResult{err: err}
	}
	return b.await(ctx, req)
}

// close fails queued commands with ErrClosed, waits for the entries in
// flight and stops both goroutines.
func (b *batcher) close() {
	select {
	case <-b.closing:
		return
	default:
	}
	close(b.closing)
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	b.wg.Wait()
}

func (b *batcher) run() {
	defer b.wg.Done()
	defer close(b.pending)
	var carry *request // did not fit the previous batch
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.queue:
			case <-b.stop:
				b.drain(nil)
				return
			}
		}
		// Wait for room in the pipeline; the queue fills meanwhile.
		select {
		case b.slots <- struct{}{}:
		case <-b.stop:
			b.drain(first)
			return
		}
		batch := []*request{first}
		size := len(first.cmd)
	fill:
		for len(batch) < b.maxBatch {
			select {
			case r := <-b.queue:
				if size+len(r.cmd) > b.maxBytes {
					carry = r
					break fill
				}
				batch = append(batch, r)
				size += len(r.cmd)
			default:
				break fill
			}
		}
		// Callers that gave up are not proposed; their await already
		// returned ctx.Err(), and the others are unaffected.
		live := batch[:0]
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.done <- cmdResult{err: err}
				continue
			}
			live = append(live, r)
		}
		if len(live) == 0 {
			<-b.slots
			continue
		}
		cmds := make([][]byte, len(live))
		cs := make(callers, len(live))
		for i, r := range live {
			cmds[i] = r.cmd
			cs[i] = r.ctx
		}
		b.pending <- inflight{reqs: live, p: b.prop.propose(cs, cmds)}
	}
}

// drain fails first and everything queued with ErrClosed. It runs after
// close set closed, so nothing can be added concurrently.
func (b *batcher) drain(first *request) {
	if first != nil {
		first.done <- cmdResult{err: ErrClosed}
	}
	for {
		select {
		case r := <-b.queue:
			r.done <- cmdResult{err: ErrClosed}
		default:
			return
		}
	}
}

func (b *batcher) complete() {
	defer b.wg.Done()
	for in := range b.pending {
		results, err := in.p.wait()
		if err == nil && len(results) != len(in.reqs) {
			err = fmt.Errorf("consensus: entry of %d commands returned %d results", len(in.reqs), len(results))
		}
		for i, r := range in.reqs {
			if err != nil {
				r.done <- cmdResult{err: err}
			} else {
				r.done <- results[i]
			}
		}
		<-b.slots
	}
}

// callers are the contexts of one entry's callers.
type callers []context.Context

// alive reports whether some caller still waits.
func (cs callers) alive() bool {
	for _, c := range cs {
		if c.Err() == nil {
			return true
		}
	}
	return false
}

// context returns a context that ends at the latest of the callers'
// deadlines (never if one has none), for the calls made on their behalf;
// a caller cancelled earlier is noticed through alive.
func (cs callers) context() (context.Context, context.CancelFunc) {
	var last time.Time
	for _, c := range cs {
		dl, ok := c.Deadline()
		if !ok {
			return context.WithCancel(context.Background())
		}
		if dl.After(last) {
			last = dl
		}
	}
	return context.WithDeadline(context.Background(), last)
}
