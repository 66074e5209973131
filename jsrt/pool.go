package jsrt

import (
	"context"
	"errors"
	"sync"
)

// ErrPoolClosed: Get was called on a closed Pool.
var ErrPoolClosed = errors.New("jsrt: pool closed")

// Pool is a bounded pool of warm runtimes (or of whatever a function kind
// keeps warm with one: a Runtime with its API installed and its program
// run). At most max exist at once; Get hands out an idle one, makes one
// while fewer than max exist, and otherwise waits for one to come back.
// It is a bounded channel rather than a sync.Pool, so that warm runtimes
// are not dropped at a garbage collection and their number is a limit.
//
// A runtime checked out is the caller's alone until Put (back to idle) or
// Discard (dropped: broken, or over its memory budget, whose garbage it may
// still reach). Pool is safe for concurrent use.
type Pool[T any] struct {
	idle  chan T        // warm runtimes not checked out
	slots chan struct{} // one token per runtime in existence
	newFn func() (T, error)
	drop  func(T)
	done  chan struct{} // closed by Close

	// mu orders Put against Close, so that nothing is put back into idle
	// after Close has drained it.
	mu     sync.Mutex
	closed bool
}

// NewPool returns a pool of at most size runtimes (at least 1), made by
// newFn when needed and released by drop (may be nil) when discarded or
// when the pool closes.
func NewPool[T any](size int, newFn func() (T, error), drop func(T)) *Pool[T] {
	size = max(size, 1)
	if drop == nil {
		drop = func(T) {}
	}
	return &Pool[T]{
		idle:  make(chan T, size),
		slots: make(chan struct{}, size),
		newFn: newFn,
		drop:  drop,
		done:  make(chan struct{}),
	}
}

// Get checks out a runtime: an idle one, else a new one while the pool is
// under its bound, else the next one put back. It fails with ctx's error,
// ErrPoolClosed, or newFn's error.
func (p *Pool[T]) Get(ctx context.Context) (T, error) {
	var zero T
	select {
	case <-p.done:
		return zero, ErrPoolClosed
	default:
	}
	select {
	case v := <-p.idle:
		return v, nil
	default:
	}
	select {
	case v := <-p.idle:
		return v, nil
	case p.slots <- struct{}{}:
		v, err := p.newFn()
		if err != nil {
			<-p.slots
			return zero, err
		}
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-p.done:
		return zero, ErrPoolClosed
	}
}

// Put returns a checked-out runtime, warm, for the next Get.
func (p *Pool[T]) Put(v T) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.Discard(v)
		return
	}
	p.idle <- v // never blocks: idle holds at most as many as there are slots
	p.mu.Unlock()
}

// Discard drops a checked-out runtime and frees its place for a new one.
func (p *Pool[T]) Discard(v T) {
	p.drop(v)
	<-p.slots
}

// Close drops the idle runtimes; runtimes still checked out are dropped
// when put back, and later Gets fail with ErrPoolClosed. Call it once.
func (p *Pool[T]) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	close(p.done)
	for {
		select {
		case v := <-p.idle:
			p.Discard(v)
		default:
			return
		}
	}
}
