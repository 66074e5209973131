package dataplane

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/handler"
)

// Timers (createTimer, cancelTimer) are changed through the batch overlay
// like documents and committed with the batch, so a timer is created
// exactly once or not at all. A timer lives in a partition, a vbucket of
// the source bucket picked from its callback and reference (as Couchbase
// does, §4.3), and the worker that owns that vbucket fires it: timers move
// with vbucket ownership. Firing is a batch too: the callbacks' writes and
// timer changes are committed with the removal of the fired timers, which
// the FSM accepts only from the partition's owner and only while each
// fired timer is still the version that was read (not cancelled or
// overwritten meanwhile), so each timer fires exactly once.

// timerLookup is what the overlay reads pending timers from.
type timerLookup interface {
	PendingTimer(fn, callback, reference string) (consensus.Timer, bool)
}

type timerKey struct{ callback, reference string }

// overlayTimers is the batch's view of its function's timers.
type overlayTimers struct {
	fn     string
	store  timerLookup
	numVB  int
	step   int // partition width in vbuckets
	ops    map[timerKey]consensus.TimerOp
	order  []timerKey
	firing map[timerKey]bool // timers this batch fires: no longer pending
}

// newOverlayTimers sizes partitions from num_timer_partitions: rounded up
// to a power of two and at most one per vbucket.
func newOverlayTimers(fn string, store timerLookup, numVB, partitions int) *overlayTimers {
	parts := 1
	if partitions > 1 {
		parts = 1 << bits.Len(uint(partitions-1))
	}
	parts = max(1, min(parts, numVB))
	return &overlayTimers{
		fn: fn, store: store, numVB: numVB, step: numVB / parts,
		ops: make(map[timerKey]consensus.TimerOp), firing: make(map[timerKey]bool),
	}
}

// partition is the timer's vbucket: crc32 of "callback:reference" over the
// vbuckets, aligned to the partition width.
func (t *overlayTimers) partition(callback, reference string) uint16 {
	vb := int(crc32.ChecksumIEEE([]byte(callback+":"+reference)) % uint32(t.numVB))
	return uint16(vb - vb%t.step)
}

func (t *overlayTimers) record(k timerKey, op consensus.TimerOp) {
	if _, ok := t.ops[k]; !ok {
		t.order = append(t.order, k)
	}
	t.ops[k] = op
}

// pending reports whether the batch sees timer k.
func (t *overlayTimers) pending(k timerKey) bool {
	if op, ok := t.ops[k]; ok {
		return !op.Cancel
	}
	if t.firing[k] {
		return false
	}
	_, ok := t.store.PendingTimer(t.fn, k.callback, k.reference)
	return ok
}

// timerOps returns the batch's net timer changes in first-touch order.
func (t *overlayTimers) timerOps() []consensus.TimerOp {
	if len(t.order) == 0 {
		return nil
	}
	out := make([]consensus.TimerOp, 0, len(t.order))
	for _, k := range t.order {
		out = append(out, t.ops[k])
	}
	return out
}

// CreateTimer implements handler.Store.
func (o *overlay) CreateTimer(tm handler.Timer) error {
	t := o.timers
	k := timerKey{tm.Callback, tm.Reference}
	t.record(k, consensus.TimerOp{Timer: consensus.Timer{
		Callback: tm.Callback, Reference: tm.Reference, Due: tm.Due.UnixMilli(),
		Context: append([]byte(nil), tm.Context...), VB: t.partition(tm.Callback, tm.Reference),
	}})
	return nil
}

// CancelTimer implements handler.Store.
func (o *overlay) CancelTimer(callback, reference string) (bool, error) {
	t := o.timers
	k := timerKey{callback, reference}
	if !t.pending(k) {
		return false, nil
	}
	t.record(k, consensus.TimerOp{Cancel: true, Timer: consensus.Timer{Callback: callback, Reference: reference}})
	return true, nil
}

// fireDue fires the worker's due timers, up to one batch, and reports
// whether it fired any, and false as its second result when the worker
// must stop.
func (w *vbWorker) fireDue(ctx context.Context) (fired, ok bool) {
	due := w.sink.DueTimers(w.fn, w.vbs, time.Now().UnixMilli(), w.batch)
	if len(due) == 0 {
		return false, true
	}
	for attempt := 1; ; attempt++ {
		w.discardCounts()
		ov := w.newOverlay()
		fts := make([]consensus.FiredTimer, 0, len(due))
		broken := false
		for _, tm := range due {
			if ctx.Err() != nil {
				return false, false
			}
			ov.timers.firing[timerKey{tm.Callback, tm.Reference}] = true
			fts = append(fts, consensus.FiredTimer{Callback: tm.Callback, Reference: tm.Reference, Seq: tm.Seq, VB: tm.VB})
			err := w.js.FireTimer(ctx, handler.Timer{
				Callback: tm.Callback, Reference: tm.Reference, Due: time.UnixMilli(tm.Due), Context: tm.Context,
			}, ov) // failures and missing callbacks are counted by the handler; the timer is spent either way
			if ctx.Err() != nil {
				return false, false
			}
			if errors.Is(err, handler.ErrWorkerBroken) {
				w.log.Error("replacing broken handler runtime", "err", err, "timer", tm.Callback+":"+tm.Reference, "attempt", attempt)
				if !w.replaceJS(ctx) {
					return false, false
				}
				if attempt < maxBrokenAttempts {
					broken = true
					break
				}
			}
		}
		if broken {
			continue
		}
		err := w.commit(consensus.Batch{
			Function: w.fn, InstanceID: w.instance, Node: w.node, Epoch: w.epoch,
			Mutations: ov.mutations(), Timers: ov.timers.timerOps(), Fired: fts,
		})
		var be *docstore.BatchError
		switch {
		case err == nil:
			w.commitCounts()
			return true, true
		case errors.Is(err, consensus.ErrTimerMismatch):
			// A timer was cancelled or overwritten between our read and
			// the commit (or a retried commit had landed): read again.
			return true, true
		case errors.As(err, &be):
			w.counters.CheckpointFailures.Add(1)
			continue
		case errors.Is(err, consensus.ErrTooLarge) && len(due) > 1:
			due = due[:len(due)/2] // the rest fire in later batches
			continue
		case errors.Is(err, consensus.ErrTooLarge):
			return w.dropTooLargeTimer(due[0])
		default:
			w.log.Info("worker stopping", "reason", err)
			return false, false
		}
	}
}

// dropTooLargeTimer spends a timer whose callback's writes are too large
// for one replicated command: the callback fails, its effects are dropped,
// and the failure is counted and logged.
func (w *vbWorker) dropTooLargeTimer(tm consensus.Timer) (fired, ok bool) {
	w.discardCounts()
	w.pending.Add("timer_callback_failure", 1)
	w.pending.Add("commit_too_large_count", 1)
	err := w.commit(consensus.Batch{
		Function: w.fn, InstanceID: w.instance, Node: w.node, Epoch: w.epoch,
		Fired: []consensus.FiredTimer{{Callback: tm.Callback, Reference: tm.Reference, Seq: tm.Seq, VB: tm.VB}},
	})
	switch {
	case err == nil:
		w.commitCounts()
		w.appLogf("ERROR", "timer callback %s (reference %q): %s; the callback failed and its writes were dropped",
			tm.Callback, tm.Reference, tooLargeReason)
		return true, true
	case errors.Is(err, consensus.ErrTimerMismatch):
		w.discardCounts()
		return true, true
	default:
		w.discardCounts()
		w.log.Info("worker stopping", "reason", err)
		return false, false
	}
}

// timerWait returns a channel that fires when the worker's next timer is
// due (nil when it has none).
func (w *vbWorker) timerWait() (<-chan time.Time, func()) {
	next, ok := w.sink.NextTimerDue(w.fn, w.vbs)
	if !ok {
		return nil, func() {}
	}
	t := time.NewTimer(max(0, time.Until(time.UnixMilli(next))))
	return t.C, func() { t.Stop() }
}

// onDeployGate holds the worker until the instance's OnDeploy has run.
// The worker that owns vbucket 0 runs it (once per deploy or resume,
// whichever node that is); the others wait. A throw or timeout undeploys
// the function. It returns false when the worker must stop.
func (w *vbWorker) onDeployGate(ctx context.Context) bool {
	for ctx.Err() == nil {
		wake := w.records.Changed()
		f, err := w.records.Function(w.fn)
		if err != nil || f.InstanceID != w.instance {
			return false
		}
		if f.OnDeploy == "" {
			return true
		}
		if len(w.vbs) > 0 && w.vbs[0] == 0 {
			if !w.runOnDeploy(ctx, f) {
				return false
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		}
	}
	return false
}

func (w *vbWorker) runOnDeploy(ctx context.Context, f consensus.Function) bool {
	for attempt := 1; ; attempt++ {
		w.discardCounts()
		ov := w.newOverlay()
		err := w.js.OnDeploy(ctx, f.OnDeploy, time.Duration(f.OnDeployDelay)*time.Millisecond, ov)
		if ctx.Err() != nil {
			return false
		}
		if errors.Is(err, handler.ErrWorkerBroken) && attempt < maxBrokenAttempts {
			if !w.replaceJS(ctx) {
				return false
			}
			continue
		}
		if err != nil {
			w.commitCounts() // the failure counts
			w.log.Error("OnDeploy failed; undeploying the function", "err", err)
			w.undeploy(f)
			return false
		}
		err = w.commit(consensus.Batch{
			Function: w.fn, InstanceID: w.instance, Node: w.node, Epoch: w.epoch, OnDeployDone: true,
			Mutations: ov.mutations(), Timers: ov.timers.timerOps(),
		})
		var be *docstore.BatchError
		switch {
		case err == nil, errors.Is(err, consensus.ErrOnDeployDone):
			w.commitCounts()
			return true
		case errors.As(err, &be):
			continue
		default:
			w.log.Info("worker stopping", "reason", err)
			return false
		}
	}
}

// undeploy moves the function to undeploying after a failed OnDeploy, unless
// its record moved on meanwhile.
func (w *vbWorker) undeploy(f consensus.Function) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.records.ChangeFunction(ctx, consensus.FunctionChange{
		Name: w.fn, ExpectVersion: f.Version, Status: consensus.StatusUndeploying,
	}); err != nil {
		w.log.Warn("cannot undeploy after OnDeploy failed", "err", fmt.Errorf("function %s: %w", w.fn, err))
	}
}
