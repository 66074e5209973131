package handler

import (
	"context"
	"errors"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMemoryBudget is the heap an invocation may add before it is
// stopped, when its function sets no memory_budget_mb.
const DefaultMemoryBudget = 256 << 20

// ErrMemoryBudget: an invocation grew the heap past its function's budget.
var ErrMemoryBudget = errors.New("handler: memory budget exceeded")

// liveHeapMetric is the heap that survived the last garbage collection.
const liveHeapMetric = "/gc/heap/live:bytes"

// MemoryGuard stops invocations that grow the node's heap past their
// function's budget. Go has no per-goroutine memory accounting, so it
// watches the live heap after each collection and charges the growth since
// an invocation started to every invocation still running since then.
// Invocations are short, so the charge falls on the runaway one; a long
// invocation running beside a runaway one (or beside a large bulk load)
// can be charged too. A memory bomb is seen within a collection cycle,
// which runs each time the heap has doubled, so the heap peaks at about
// twice the node's live heap plus the budget. One guard serves every
// worker of a node; its zero value is not usable (NewMemoryGuard).
type MemoryGuard struct {
	interval time.Duration
	live     atomic.Uint64

	mu      sync.Mutex
	workers map[*Worker]struct{}
	sample  []metrics.Sample
}

// NewMemoryGuard returns a guard that samples the heap every interval
// (0 means 20 ms) once Run is called.
func NewMemoryGuard(interval time.Duration) *MemoryGuard {
	if interval <= 0 {
		interval = 20 * time.Millisecond
	}
	g := &MemoryGuard{
		interval: interval,
		workers:  make(map[*Worker]struct{}),
		sample:   []metrics.Sample{{Name: liveHeapMetric}},
	}
	g.read()
	return g
}

// Run samples the heap and stops invocations over budget until ctx ends.
func (g *MemoryGuard) Run(ctx context.Context) {
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g.check()
	}
}

// read samples the live heap.
func (g *MemoryGuard) read() uint64 {
	metrics.Read(g.sample)
	var v uint64
	if g.sample[0].Value.Kind() == metrics.KindUint64 {
		v = g.sample[0].Value.Uint64()
	}
	g.live.Store(v)
	return v
}

// check interrupts every running invocation charged more than its budget.
func (g *MemoryGuard) check() {
	g.mu.Lock()
	defer g.mu.Unlock()
	live := g.read()
	for w := range g.workers {
		w.mu.Lock()
		if w.running && w.memBudget > 0 && live > w.memStart && live-w.memStart > uint64(w.memBudget) {
			w.vm.Interrupt(interruptCause{ErrMemoryBudget})
		}
		w.mu.Unlock()
	}
}

func (g *MemoryGuard) add(w *Worker) {
	g.mu.Lock()
	g.workers[w] = struct{}{}
	g.mu.Unlock()
}

func (g *MemoryGuard) remove(w *Worker) {
	g.mu.Lock()
	delete(g.workers, w)
	g.mu.Unlock()
}

// releaseMemory returns the memory of a dropped runtime to the operating
// system, off the worker's goroutine (it collects the whole heap).
func releaseMemory() { go debug.FreeOSMemory() }
