package jsrt

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMemoryBudget is the heap an invocation may add before it is
// stopped, when its function sets no budget of its own.
const DefaultMemoryBudget = 256 << 20

// The heap that survived the last garbage collection, and the heap now
// (live plus the garbage not yet collected).
const (
	liveHeapMetric    = "/gc/heap/live:bytes"
	heapObjectsMetric = "/memory/classes/heap/objects:bytes"
)

// minForcedGC spaces the collections the guard forces.
const minForcedGC = 250 * time.Millisecond

// MemoryGuard stops invocations that grow the node's live heap past their
// function's budget. Go has no per-goroutine memory accounting, so it
// charges every invocation with the growth of the live heap since it
// started. When the heap (garbage included) has grown by a running
// invocation's budget, it forces a collection, at most every minForcedGC,
// to learn the live heap now rather than wait for the next collection,
// which on a node holding many documents may be gigabytes away.
// Invocations are short, so the charge falls on the runaway one; a long
// invocation running beside a runaway one, or beside a large bulk load,
// can be charged too. One guard serves every Runtime of a process (every
// worker of every function); its zero value is not usable (NewMemoryGuard).
type MemoryGuard struct {
	interval time.Duration
	live     atomic.Uint64 // live heap after the last collection
	objects  atomic.Uint64 // heap now, garbage included
	forcedAt time.Time     // last forced collection; under mu

	mu       sync.Mutex
	runtimes map[*Runtime]struct{}
	sample   []metrics.Sample
}

// NewMemoryGuard returns a guard that samples the heap every interval
// (0 means 20 ms) once Run is called.
func NewMemoryGuard(interval time.Duration) *MemoryGuard {
	if interval <= 0 {
		interval = 20 * time.Millisecond
	}
	g := &MemoryGuard{
		interval: interval,
		runtimes: make(map[*Runtime]struct{}),
		sample:   []metrics.Sample{{Name: liveHeapMetric}, {Name: heapObjectsMetric}},
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

// read samples the heap.
func (g *MemoryGuard) read() (live, objects uint64) {
	metrics.Read(g.sample)
	v := func(i int) uint64 {
		if g.sample[i].Value.Kind() == metrics.KindUint64 {
			return g.sample[i].Value.Uint64()
		}
		return 0
	}
	live, objects = v(0), v(1)
	g.live.Store(live)
	g.objects.Store(objects)
	return live, objects
}

// check interrupts every running invocation charged more than its budget.
func (g *MemoryGuard) check() {
	g.mu.Lock()
	defer g.mu.Unlock()
	live, objects := g.read()
	over := func(now, start uint64, r *Runtime) bool {
		return r.running && r.memBudget > 0 && now > start && now-start > uint64(r.memBudget)
	}
	suspect := false
	for r := range g.runtimes {
		r.mu.Lock()
		suspect = suspect || over(objects, r.memObjStart, r)
		r.mu.Unlock()
	}
	if suspect && time.Since(g.forcedAt) >= minForcedGC {
		runtime.GC()
		g.forcedAt = time.Now()
		live, _ = g.read()
	}
	for r := range g.runtimes {
		r.mu.Lock()
		if over(live, r.memStart, r) {
			r.vm.Interrupt(interruptCause{ErrMemoryBudget})
		}
		r.mu.Unlock()
	}
}

func (g *MemoryGuard) add(r *Runtime) {
	g.mu.Lock()
	g.runtimes[r] = struct{}{}
	g.mu.Unlock()
}

func (g *MemoryGuard) remove(r *Runtime) {
	g.mu.Lock()
	delete(g.runtimes, r)
	g.mu.Unlock()
}

// ReleaseMemory returns the memory of a dropped runtime to the operating
// system, off the caller's goroutine (it collects the whole heap).
func ReleaseMemory() { go debug.FreeOSMemory() }
