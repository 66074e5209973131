package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/eventing"
	"eventide/handler"
)

// runner runs one deployed function instance on this node: worker_count
// workers, each owning a fixed share of the node's vbuckets so that one
// key's mutations are always handled in order by one worker.
type runner struct {
	name     string
	instance string
	def      json.RawMessage // the definition the workers run
	vbs      []uint16        // owned vbuckets, sorted
	epoch    uint64          // vbucket map epoch the ownership comes from
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	log      *slog.Logger
	// failed is set when a worker stopped on its own (its instance or
	// ownership went stale); the supervisor then replaces the runner.
	failed atomic.Bool
}

func (s *Supervisor) startRunner(f consensus.Function, owned []uint16, epoch uint64) (*runner, error) {
	spec, err := decodeRunSpec(f.Definition)
	if err != nil {
		return nil, fmt.Errorf("decode definition: %w", err)
	}
	prog, err := handler.Compile(spec.Code, spec.Settings, spec.Constants, spec.Bindings, spec.CurlBindings...)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	workers := min(max(spec.WorkerCount, 1), len(owned))
	counters := s.counters(f.Name)
	applog := s.appLog(f.Name, &spec)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{name: f.Name, instance: f.InstanceID, def: f.Definition, vbs: owned, epoch: epoch, cancel: cancel, log: s.log}
	ws := make([]*vbWorker, workers)
	for i := range ws {
		// A worker counts each batch privately and merges the counts into
		// the function's once the batch is committed: a re-run batch is
		// counted once.
		pending, pendingInsight := handler.NewStats(), handler.NewInsight()
		newJS := func() (*handler.Worker, error) {
			return handler.NewWorker(prog, handler.Config{
				FunctionName: f.Name,
				Bindings:     spec.Bindings,
				Settings:     spec.Settings,
				AppLog:       applog,
				Stats:        pending,
				Insight:      pendingInsight,
				Logger:       s.log.With("function", f.Name, "worker", i),
				Memory:       s.memory,
				Querier:      s.cfg.Querier,
			})
		}
		hw, err := newJS()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("start worker %d: %w", i, err)
		}
		w := &vbWorker{
			fn:         f.Name,
			instance:   f.InstanceID,
			node:       s.cfg.NodeID,
			epoch:      epoch,
			source:     spec.Source,
			records:    s.cfg.Records,
			src:        s.cfg.Source,
			sink:       s.cfg.Sink,
			partitions: spec.TimerPartitions,
			js:         hw,
			newJS:      newJS,
			counters:   counters,
			pending:    pending,
			insight:    pendingInsight,
			batch:      s.cfg.BatchSize,
			cursor:     make(map[uint16]uint64),
			appLog:     applog,
			log:        s.log.With("function", f.Name, "worker", i),
		}
		// Worker i owns the node's vbuckets i, i+n, i+2n, ...
		for j := i; j < len(owned); j += workers {
			vb := owned[j]
			var cp uint64
			if int(vb) < len(f.Checkpoints) {
				cp = f.Checkpoints[vb]
			}
			w.vbs = append(w.vbs, vb)
			w.cursor[vb] = cp
		}
		ws[i] = w
	}
	for _, w := range ws {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			w.run(ctx)
			if ctx.Err() == nil {
				r.failed.Store(true)
				s.poke()
			}
		}()
	}
	s.mu.Lock()
	s.runners[f.Name] = r
	s.mu.Unlock()
	s.log.Info("function workers started", "function", f.Name, "instance", f.InstanceID, "workers", workers)
	return r, nil
}

// stop interrupts the workers and waits for them. A batch whose handlers
// were interrupted is not committed, so its events run again from the
// checkpoint on resume: bucket effects never repeat, logs may.
func (r *runner) stop() {
	r.cancel()
	r.wait(time.Now().Add(stopGrace))
}

// stopGrace bounds how long stopping a runner waits for its workers.
const stopGrace = 5 * time.Second

// wait waits for the workers until deadline. A worker still inside a
// built-in that does not check interrupts is abandoned rather than allowed
// to block undeploy, pause or shutdown: its context is cancelled, so it
// stops at the built-in's return, and a batch it might still commit is
// fenced by its From checkpoints and its instance, so no effect repeats.
// It reports whether every worker returned.
func (r *runner) wait(deadline time.Time) bool {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		r.log.Error("abandoning function workers stuck in a built-in", "function", r.name, "instance", r.instance)
		return false
	}
}

// vbWorker is one worker: a goja runtime and the cursors of its vbuckets.
type vbWorker struct {
	fn, instance string
	node         string // this node, the owner named in batches
	epoch        uint64 // vbucket map epoch of the ownership
	source       docstore.Keyspace
	records      Records // the function's record: checkpoints, OnDeploy
	src          Source
	sink         Sink
	partitions   int // num_timer_partitions
	js           *handler.Worker
	newJS        func() (*handler.Worker, error) // replaces a broken runtime
	counters     *functionCounters
	pending      *handler.Stats   // the batch in progress's counts (see startRunner)
	insight      *handler.Insight // and its code insight
	batch        int
	vbs          []uint16
	cursor       map[uint16]uint64 // vb → last seqno whose effects are committed
	next         int               // round-robin start, for fairness among vbuckets
	appLog       *handler.AppLog
	log          *slog.Logger
}

// newOverlay returns a fresh batch overlay with the function's timers.
func (w *vbWorker) newOverlay() *overlay {
	return newOverlay(w.src, w.instance, newOverlayTimers(w.fn, w.sink, w.src.NumVBuckets(), w.partitions))
}

func (w *vbWorker) run(ctx context.Context) {
	if !w.onDeployGate(ctx) {
		return
	}
	for ctx.Err() == nil {
		wake := w.src.Changed(w.source.Bucket) // taken before reading: no lost wake-up
		timersWake := w.sink.TimersChanged()
		fired, ok := w.fireDue(ctx)
		if !ok {
			return
		}
		if fired {
			// Due timers and mutations take turns, a batch each, so
			// neither starves the other.
			timersWake = closedCh
		}
		events, upto, err := w.collect()
		if err != nil {
			// The source bucket is gone; wait until something changes.
			w.log.Warn("cannot read source", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		if len(events) == 0 {
			var due <-chan time.Time
			stop := func() {}
			if !fired {
				due, stop = w.timerWait()
			}
			select {
			case <-ctx.Done():
			case <-wake:
			case <-timersWake:
			case <-due:
			}
			stop()
			continue
		}
		if !w.process(ctx, events, upto) {
			return
		}
	}
}

// collect reads up to w.batch events from the vbuckets that have new
// seqnos, and the seqno each read vbucket is covered up to.
func (w *vbWorker) collect() ([]docstore.Event, map[uint16]uint64, error) {
	highs, err := w.src.HighSeqnos(w.source.Bucket)
	if err != nil {
		return nil, nil, err
	}
	var events []docstore.Event
	upto := make(map[uint16]uint64)
	n := len(w.vbs)
	for i := 0; i < n && len(events) < w.batch; i++ {
		vb := w.vbs[(w.next+i)%n]
		from := w.cursor[vb]
		if int(vb) >= len(highs) || highs[vb] <= from {
			continue
		}
		evs, err := w.src.ReadVBucket(w.source.Bucket, vb, from, w.batch-len(events))
		if err != nil {
			return nil, nil, err
		}
		if len(evs) == 0 {
			continue
		}
		events = append(events, evs...)
		upto[vb] = evs[len(evs)-1].Doc.Seqno
	}
	w.next = (w.next + 1) % n
	return events, upto, nil
}

// process runs the handler over events and commits their writes with the
// new checkpoints in one command. It returns false when the worker must
// stop (cancelled, or its instance is no longer current).
func (w *vbWorker) process(ctx context.Context, events []docstore.Event, upto map[uint16]uint64) bool {
	return w.processFrom(ctx, events, upto, 1)
}

// processFrom is process from the given attempt: attempts after the first
// re-run events whose deliveries are already counted.
func (w *vbWorker) processFrom(ctx context.Context, events []docstore.Event, upto map[uint16]uint64, first int) bool {
	for attempt := first; ; attempt++ {
		w.discardCounts() // an attempt that was not committed is not counted
		ov := w.newOverlay()
		broken := false
		for _, ev := range events {
			if ctx.Err() != nil {
				return false
			}
			if !eventing.KeyspacesOverlap(w.source, ev.Keyspace) { // a wildcard source takes every collection it names
				continue
			}
			if ev.Doc.Origin == w.instance {
				if attempt == 1 {
					w.counters.suppressed(ev.Kind)
				}
				continue
			}
			// Deliveries count at once (a stuck handler's event shows as
			// sent), and once: a re-run batch delivers the same events.
			if attempt == 1 {
				w.counters.sent(ev.Kind)
			}
			w.counters.Latency.Observe(time.Since(time.Unix(0, int64(ev.Doc.CAS))))
			err := w.js.Handle(ctx, ev, ov) // JS failures are counted and logged by the handler
			if ctx.Err() != nil {
				return false
			}
			if errors.Is(err, handler.ErrWorkerBroken) {
				// An internal fault left the runtime unusable: replace it
				// and re-run the whole batch, whose writes so far are
				// discarded with the overlay. An event that breaks it
				// every time is given up on (counted as a failure), so
				// one poisonous event cannot stall its vbuckets.
				w.log.Error("replacing broken handler runtime", "err", err, "key", ev.Doc.Key, "attempt", attempt)
				if !w.replaceJS(ctx) {
					return false
				}
				if attempt < maxBrokenAttempts {
					broken = true
					break
				}
				w.pending.Add(failureStat(ev.Kind), 1)
				w.pending.Add("events_skipped_count", 1)
				w.appLogf("ERROR", "%s (key %q): skipped after %d attempts: the handler runtime failed on it every time",
					handler.EntryPoint(ev.Kind), ev.Doc.Key, attempt)
			}
		}
		if broken {
			continue
		}
		from := make(map[uint16]uint64, len(upto))
		for vb := range upto {
			from[vb] = w.cursor[vb]
		}
		batch := consensus.Batch{
			Function:    w.fn,
			InstanceID:  w.instance,
			Checkpoints: upto,
			From:        from,
			Node:        w.node,
			Epoch:       w.epoch,
			Mutations:   ov.mutations(),
			Timers:      ov.timers.timerOps(),
		}
		err := w.commit(batch)
		var be *docstore.BatchError
		switch {
		case err == nil:
			w.commitCounts()
			for vb, seq := range upto {
				w.cursor[vb] = seq
			}
			return true
		case errors.Is(err, consensus.ErrCheckpointMismatch):
			// Counted as committed: usually a retried commit whose first
			// attempt landed.
			w.commitCounts()
			// The batch was already applied (a retried commit whose first
			// attempt landed) or built on stale cursors: the stored
			// checkpoints are the truth; continue from them.
			if !w.reloadCursors() {
				return false
			}
			return true
		case errors.As(err, &be):
			// Another writer changed a document between our read and the
			// commit: re-run the batch against the new state.
			w.counters.CheckpointFailures.Add(1)
			continue
		case errors.Is(err, consensus.ErrTooLarge):
			return w.tooLarge(ctx, events)
		default:
			// Stale instance (paused, undeployed or redeployed): the
			// supervisor reconciles; this worker is done.
			w.log.Info("worker stopping", "reason", err)
			return false
		}
	}
}

// tooLarge handles a batch whose writes make a command larger than Raft
// accepts, which no retry can fix: several events run again in halves; a
// single event's invocation fails, its writes and timers dropped and its
// checkpoint moved past it, counted and logged with its key, so that it
// cannot stall its vbuckets.
func (w *vbWorker) tooLarge(ctx context.Context, events []docstore.Event) bool {
	if len(events) > 1 {
		half := len(events) / 2
		return w.processFrom(ctx, events[:half], uptoOf(events[:half]), 2) &&
			w.processFrom(ctx, events[half:], uptoOf(events[half:]), 2)
	}
	ev := events[0]
	upto := uptoOf(events)
	from := map[uint16]uint64{ev.Doc.VBucket: w.cursor[ev.Doc.VBucket]}
	w.discardCounts()
	w.pending.Add(failureStat(ev.Kind), 1)
	w.pending.Add("num_processed_events", 1)
	w.pending.Add("commit_too_large_count", 1)
	err := w.commit(consensus.Batch{
		Function: w.fn, InstanceID: w.instance, Checkpoints: upto, From: from, Node: w.node, Epoch: w.epoch,
	})
	switch {
	case err == nil:
		w.appLogf("ERROR", "%s (key %q): %s; the invocation failed and its writes were dropped",
			handler.EntryPoint(ev.Kind), ev.Doc.Key, tooLargeReason)
		w.log.Warn("invocation writes too large; dropped", "key", ev.Doc.Key)
		w.commitCounts()
		w.cursor[ev.Doc.VBucket] = upto[ev.Doc.VBucket]
		return true
	case errors.Is(err, consensus.ErrCheckpointMismatch):
		w.discardCounts()
		return w.reloadCursors()
	default:
		w.discardCounts()
		w.log.Info("worker stopping", "reason", err)
		return false
	}
}

// tooLargeReason tells a user why an invocation's writes were dropped.
const tooLargeReason = "its writes exceed the largest replicated command (64 MiB)"

// uptoOf is the checkpoint each vbucket of events reaches: its last event.
func uptoOf(events []docstore.Event) map[uint16]uint64 {
	upto := make(map[uint16]uint64)
	for _, ev := range events {
		upto[ev.Doc.VBucket] = ev.Doc.Seqno
	}
	return upto
}

// appLogf writes a line to the function's application log.
func (w *vbWorker) appLogf(level, format string, args ...any) {
	if w.appLog == nil {
		return
	}
	if err := w.appLog.Printf(level, format, args...); err != nil {
		w.log.Warn("cannot write application log", "err", err)
	}
}

// commitCounts adds the committed batch's counts and code insight to the
// function's.
func (w *vbWorker) commitCounts() {
	w.pending.MergeInto(w.counters.Handler)
	w.insight.MergeInto(w.counters.Insight)
}

// discardCounts forgets the counts of a batch that was not committed.
func (w *vbWorker) discardCounts() {
	w.pending.Reset()
	w.insight.Reset()
}

// closedCh is always ready.
var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// maxBrokenAttempts is how often a batch is re-run after its runtime broke
// before the event that broke it is skipped.
const maxBrokenAttempts = 3

func failureStat(k docstore.EventKind) string {
	if k == docstore.EventMutation {
		return "on_update_failure"
	}
	return "on_delete_failure"
}

// commit retries transient failures (no leader, timeouts) with backoff; it
// does not take the worker's context so that a commit in flight finishes
// before the worker reports itself stopped.
func (w *vbWorker) commit(b consensus.Batch) error {
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := w.sink.CommitBatch(ctx, b)
		cancel()
		var be *docstore.BatchError
		if err == nil || errors.Is(err, consensus.ErrStaleInstance) || errors.As(err, &be) ||
			errors.Is(err, consensus.ErrTooLarge) || errors.Is(err, consensus.ErrInvalid) ||
			errors.Is(err, consensus.ErrStaleOwner) ||
			errors.Is(err, consensus.ErrCheckpointMismatch) ||
			errors.Is(err, consensus.ErrClosed) || attempt >= 50 {
			return err
		}
		w.log.Warn("commit failed; retrying", "err", err)
		time.Sleep(backoff)
		if backoff < time.Second {
			backoff *= 2
		}
	}
}

// reloadCursors resets the worker's cursors to the replicated checkpoints
// (its node's FSM has applied everything up to the rejected batch). It
// returns false if the function instance is gone.
func (w *vbWorker) reloadCursors() bool {
	f, err := w.records.Function(w.fn)
	if err != nil || f.InstanceID != w.instance {
		return false
	}
	for _, vb := range w.vbs {
		if int(vb) < len(f.Checkpoints) {
			w.cursor[vb] = f.Checkpoints[vb]
		}
	}
	return true
}

// replaceJS builds a fresh runtime for the worker, retrying with backoff
// until it succeeds or ctx ends.
func (w *vbWorker) replaceJS(ctx context.Context) bool {
	w.js.Close()
	for backoff := 10 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		js, err := w.newJS()
		if err == nil {
			w.js = js
			return true
		}
		w.log.Error("cannot build handler runtime", "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
	}
}
