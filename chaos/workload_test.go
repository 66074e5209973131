//go:build chaos

package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Workload shape: writers post batches of batchSize documents, each writer
// pausing batchGap between its batches, so that a scenario of a few
// minutes writes tens of thousands of documents, not millions.
const (
	writers   = 3
	batchSize = 100
	batchGap  = 100 * time.Millisecond
	// batchDeadline is how long a writer keeps retrying one batch before
	// the scenario fails: longer than any election plus failover.
	batchDeadline = 3 * time.Minute
	// avoidFor is how long a writer stays away from a node that did not
	// answer, unless every node is being avoided: a frozen node would
	// otherwise cost a request timeout again and again.
	avoidFor = 10 * time.Second
	// Each node also gets a probe: one document every probeEvery, each
	// attempt bounded by probeTimeout, retried on that node until it is
	// acknowledged. The probes measure how long a node that stayed up went
	// without acknowledging a write (probeGap): the writers cannot, they
	// all pile up on a node that went away.
	probeEvery   = 100 * time.Millisecond
	probeTimeout = 2 * time.Second
)

// workload streams source documents into the cluster through every node
// and records which ones the cluster acknowledged.
type workload struct {
	t     *testing.T
	nodes []*member

	next    atomic.Int64 // next batch number
	written atomic.Int64 // documents acknowledged
	retries atomic.Int64 // batch attempts that failed and were retried
	avoid   []atomic.Int64
	acks    []atomic.Int64 // batches acknowledged, per node
	fails   []atomic.Int64 // failed attempts, per node

	mu       sync.Mutex
	acked    map[string]bool // guarded by mu
	maxStall time.Duration   // longest wait for one batch's acknowledgement; guarded by mu
	stallWhy string          // that batch's failed attempts; guarded by mu
	lastErr  error           // the last failed attempt; guarded by mu
	gaps     []probeGap      // per node; guarded by mu

	// Per node: down while a fault is injected into it (set before the
	// fault, cleared once the node is restored), and epoch, counting those
	// changes, so that a probe never counts a gap across one.
	down  []atomic.Bool
	epoch []atomic.Int64

	stop     chan struct{} // closed by halt
	stopOnce sync.Once
	aborted  atomic.Bool // set when the test ends before finish
	wg       sync.WaitGroup
	errs     chan error
}

// newWorkload returns a workload over the stack's nodes; its writers are
// stopped when the test ends, however it ends.
func newWorkload(t *testing.T, s *stack) *workload {
	w := &workload{
		t: t, nodes: s.nodes, avoid: make([]atomic.Int64, len(s.nodes)),
		acks: make([]atomic.Int64, len(s.nodes)), fails: make([]atomic.Int64, len(s.nodes)),
		gaps: make([]probeGap, len(s.nodes)), down: make([]atomic.Bool, len(s.nodes)), epoch: make([]atomic.Int64, len(s.nodes)),
		acked: make(map[string]bool), stop: make(chan struct{}), errs: make(chan error, writers),
	}
	t.Cleanup(func() {
		w.aborted.Store(true) // the cluster is going away: give up any batch
		w.halt()
	})
	s.onFault = w.mark
	return w
}

// mark records that a fault is being injected into node m (down) or that
// it was restored.
func (w *workload) mark(m *member, down bool) {
	for i, n := range w.nodes {
		if n == m {
			w.down[i].Store(down)
			w.epoch[i].Add(1)
		}
	}
}

// halt stops the writers and waits for them; later calls do nothing.
func (w *workload) halt() {
	w.stopOnce.Do(func() { close(w.stop) })
	w.wg.Wait()
}

// start starts the writers and the probes.
func (w *workload) start() {
	for i := range writers {
		w.wg.Go(func() { w.writer(i) })
	}
	for i := range w.nodes {
		w.wg.Go(func() { w.probe(i) })
	}
}

// probeGap is the longest time a node went without acknowledging a probe
// while no fault was injected into it.
type probeGap struct {
	d   time.Duration
	end time.Time
}

// probe writes one document at a time through node i, each retried on
// that node until acknowledged, and records the longest time between two
// acknowledgements while the node had no fault of its own.
func (w *workload) probe(i int) {
	m := w.nodes[i]
	var lastOK time.Time
	lastEpoch := int64(-1)
	for seq := 0; ; seq++ {
		select {
		case <-w.stop:
			return
		default:
		}
		doc := []map[string]any{{"_id": fmt.Sprintf("probe-%s-%06d", m, seq), "probe": m.service}}
		// Seen through like a writer's batch, on this node only.
		for !w.aborted.Load() {
			epoch := w.epoch[i].Load()
			ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
			ids, err := m.api.WriteBatch(ctx, "src", doc)
			cancel()
			if err != nil {
				time.Sleep(probeEvery)
				continue
			}
			now := time.Now()
			w.mu.Lock()
			for _, id := range ids {
				w.acked[id] = true
			}
			if epoch == lastEpoch && epoch == w.epoch[i].Load() && !w.down[i].Load() && now.Sub(lastOK) > w.gaps[i].d {
				w.gaps[i] = probeGap{d: now.Sub(lastOK), end: now}
			}
			w.mu.Unlock()
			w.written.Add(int64(len(ids)))
			lastOK, lastEpoch = now, epoch
			break
		}
		select {
		case <-w.stop:
			return
		case <-time.After(probeEvery):
		}
	}
}

// writer id sends its k-th batch to node id+k first (mod the node
// count): each writer goes round all nodes, and writers in step with each
// other are on different nodes.
func (w *workload) writer(id int) {
	for k := 0; ; k++ {
		select {
		case <-w.stop:
			return
		default:
		}
		b := int(w.next.Add(1) - 1)
		docs := make([]map[string]any, batchSize)
		for i := range docs {
			docs[i] = map[string]any{"_id": fmt.Sprintf("d%07d", b*batchSize+i), "batch": b, "writer": id}
		}
		// A batch is always seen through, even after stop: a batch given up
		// half-way could leave documents written but never acknowledged.
		if err := w.write(id+k, docs); err != nil {
			w.errs <- err
			return
		}
		select {
		case <-w.stop:
			return
		case <-time.After(batchGap):
		}
	}
}

// write posts a batch until some node acknowledges it, starting with node
// first (mod the node count) and moving to the next node on each failure.
func (w *workload) write(first int, docs []map[string]any) error {
	began := time.Now()
	var lastErr error
	var failed []string
	for attempt := 0; time.Since(began) < batchDeadline && !w.aborted.Load(); attempt++ {
		i := w.pick(first + attempt)
		ids, err := w.nodes[i].api.WriteBatch(context.Background(), "src", docs)
		if err == nil {
			w.mu.Lock()
			for _, id := range ids {
				w.acked[id] = true
			}
			if took := time.Since(began); took > w.maxStall {
				w.maxStall = took
				w.stallWhy = fmt.Sprintf("acknowledged by %s; failed attempts: [%s]", w.nodes[i], strings.Join(failed, "; "))
			}
			w.mu.Unlock()
			w.written.Add(int64(len(ids)))
			w.acks[i].Add(1)
			return nil
		}
		w.fails[i].Add(1)
		lastErr = fmt.Errorf("%s: %w", w.nodes[i], err)
		failed = append(failed, fmt.Sprintf("%v after %v", lastErr, time.Since(began).Round(time.Millisecond)))
		w.mu.Lock()
		w.lastErr = lastErr
		w.mu.Unlock()
		w.retries.Add(1)
		w.avoid[i].Store(time.Now().Add(avoidFor).UnixNano())
		time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, time.Second))
	}
	return fmt.Errorf("batch starting %v never acknowledged in %v: %w", docs[0]["_id"], batchDeadline, lastErr)
}

// pick returns the first node from i on (mod the node count) that is not
// being avoided, or i's node if all are.
func (w *workload) pick(i int) int {
	now := time.Now().UnixNano()
	for k := range len(w.nodes) {
		j := (i + k) % len(w.nodes)
		if w.avoid[j].Load() < now {
			return j
		}
	}
	return i % len(w.nodes)
}

// waitMore waits until n more documents than now are acknowledged,
// failing the test (with the writers' last error) after timeout.
func (w *workload) waitMore(n int64, timeout time.Duration) {
	w.t.Helper()
	target := w.written.Load() + n
	w.waitWritten(target, timeout)
}

// waitWritten waits until n documents are acknowledged in all.
func (w *workload) waitWritten(n int64, timeout time.Duration) {
	w.t.Helper()
	waitFor(w.t, timeout, fmt.Sprintf("%d documents acknowledged", n), func() error {
		select {
		case err := <-w.errs:
			w.t.Fatalf("writer failed: %v", err)
		default:
		}
		if got := w.written.Load(); got < n {
			w.mu.Lock()
			defer w.mu.Unlock()
			return fmt.Errorf("%d acknowledged; last failed attempt: %v", got, w.lastErr)
		}
		return nil
	})
}

// finish stops the writers, waits for their last batches and fails the
// test if a writer gave up.
func (w *workload) finish() {
	w.t.Helper()
	w.halt()
	close(w.errs)
	var errs []error
	for err := range w.errs {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		w.t.Fatalf("writers: %v", err)
	}
}

// writeThroughEach writes one more batch through each node, each required
// to answer by itself within timeout (after a recovery every node must
// take writes again).
func (w *workload) writeThroughEach(timeout time.Duration) {
	w.t.Helper()
	for i, m := range w.nodes {
		docs := make([]map[string]any, batchSize)
		for k := range docs {
			docs[k] = map[string]any{"_id": fmt.Sprintf("after-%s-%03d", m, k), "via": m.service}
		}
		waitFor(w.t, timeout, "a batch written through "+m.service, func() error {
			ids, err := w.nodes[i].api.WriteBatch(context.Background(), "src", docs)
			if err != nil {
				return err
			}
			w.mu.Lock()
			for _, id := range ids {
				w.acked[id] = true
			}
			w.mu.Unlock()
			w.written.Add(int64(len(ids)))
			return nil
		})
	}
}

// ackedIDs returns a copy of the acknowledged ids.
func (w *workload) ackedIDs() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]bool, len(w.acked))
	for id := range w.acked {
		out[id] = true
	}
	return out
}

// perNode describes, per node, the batches it acknowledged and the
// attempts that failed on it.
func (w *workload) perNode() string {
	var parts []string
	for i, m := range w.nodes {
		parts = append(parts, fmt.Sprintf("%s %d/%d", m, w.acks[i].Load(), w.fails[i].Load()))
	}
	return strings.Join(parts, ", ")
}

// gap returns the longest time a node with no fault of its own went
// without acknowledging a probe, the node and when the gap ended.
func (w *workload) gap() (time.Duration, *member, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var g probeGap
	var at *member
	for i, pg := range w.gaps {
		if pg.d >= g.d {
			g, at = pg, w.nodes[i]
		}
	}
	return g.d, at, g.end
}

// stall returns the longest wait for one batch and what happened to it.
func (w *workload) stall() (time.Duration, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxStall, w.stallWhy
}

// waitFor polls cond until it returns nil, failing the test with cond's
// last error after timeout. It returns how long it waited.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	began := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(began)
		}
		if time.Since(began) > timeout {
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// examples formats up to 10 items of a list for an error message.
func examples(items []string) string {
	if len(items) > 10 {
		return strings.Join(items[:10], ", ") + fmt.Sprintf(", ... (%d in all)", len(items))
	}
	return strings.Join(items, ", ")
}
