package consensus

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/google/btree"
)

// Timers are replicated like everything else: a batch creates, cancels and
// fires them in the same command as its document writes and checkpoints,
// so a timer exists exactly once or not at all, and fires exactly once.
//
// Each timer lives in a partition, a vbucket of the source bucket (the
// proposer picks it from the callback and reference); the vbucket's owner
// fires it, so timers move with vbucket ownership on rebalance and
// failover. Firing is fenced like checkpoints: a batch that fires a timer
// must own its vbucket (ErrStaleOwner otherwise) and name the timer's
// current version (ErrTimerMismatch otherwise, when it was cancelled,
// overwritten or already fired).

// Timer is one pending timer of a function instance.
type Timer struct {
	Callback  string
	Reference string
	// Due is when the timer fires, in Unix milliseconds.
	Due int64
	// Context is the JSON the callback receives.
	Context []byte
	// VB is the timer's partition: the vbucket whose owner fires it.
	VB uint16
	// Seq identifies this version of the timer: the FSM assigns a new one
	// on every creation, so an overwrite is told apart from the timer it
	// replaced. It is ignored in a TimerOp.
	Seq uint64
}

// TimerOp is a change of a function's timers carried by a Batch: a
// creation, replacing any timer with the same Callback and Reference, or,
// with Cancel, the removal of that timer if there is one.
type TimerOp struct {
	Cancel bool
	Timer  Timer
}

// FiredTimer names a timer version a batch fired (Timer.Seq).
type FiredTimer struct {
	Callback, Reference string
	Seq                 uint64
	VB                  uint16
}

// Bounds of timer commands, so that one bad proposer cannot bloat the log.
const (
	maxTimerNameLen    = 1024
	maxTimerContextLen = 20 << 20
)

// timerKey orders a table's timers by identity.
type timerKey struct{ callback, reference string }

func compareTimerKeys(a, b timerKey) int {
	if c := strings.Compare(a.callback, b.callback); c != 0 {
		return c
	}
	return strings.Compare(a.reference, b.reference)
}

// timerTable holds one function instance's timers twice: by identity and
// by partition then due time. Both trees are copy-on-write clones across
// snapshots, so a snapshot captures them in constant time.
type timerTable struct {
	instance string
	seq      uint64 // the last Seq assigned
	byKey    *btree.BTreeG[*Timer]
	byDue    *btree.BTreeG[*Timer] // by VB, Due, Seq
}

const timerDegree = 32

func timerByKey(a, b *Timer) bool {
	return compareTimerKeys(timerKey{a.Callback, a.Reference}, timerKey{b.Callback, b.Reference}) < 0
}

func timerByDue(a, b *Timer) bool {
	if a.VB != b.VB {
		return a.VB < b.VB
	}
	if a.Due != b.Due {
		return a.Due < b.Due
	}
	return a.Seq < b.Seq
}

func newTimerTable(instance string) *timerTable {
	return &timerTable{
		instance: instance,
		byKey:    btree.NewG(timerDegree, timerByKey),
		byDue:    btree.NewG(timerDegree, timerByDue),
	}
}

func (t *timerTable) clone() *timerTable {
	return &timerTable{instance: t.instance, seq: t.seq, byKey: t.byKey.Clone(), byDue: t.byDue.Clone()}
}

func (t *timerTable) get(callback, reference string) (*Timer, bool) {
	return t.byKey.Get(&Timer{Callback: callback, Reference: reference})
}

func (t *timerTable) remove(old *Timer) {
	t.byKey.Delete(old)
	t.byDue.Delete(old)
}

// put stores a copy of tm under a new Seq, replacing its namesake.
func (t *timerTable) put(tm Timer) {
	if old, ok := t.get(tm.Callback, tm.Reference); ok {
		t.remove(old)
	}
	t.seq++
	tm.Seq = t.seq
	tm.Context = slices.Clone(tm.Context)
	p := &tm
	t.byKey.ReplaceOrInsert(p)
	t.byDue.ReplaceOrInsert(p)
}

// insertRestored installs a timer read from a snapshot, keeping its Seq.
func (t *timerTable) insertRestored(tm *Timer) {
	t.byKey.ReplaceOrInsert(tm)
	t.byDue.ReplaceOrInsert(tm)
	t.seq = max(t.seq, tm.Seq)
}

func validateTimerOps(ops []TimerOp, fired []FiredTimer, numVB int) error {
	for _, op := range ops {
		tm := &op.Timer
		if tm.Callback == "" || len(tm.Callback) > maxTimerNameLen || len(tm.Reference) > maxTimerNameLen {
			return fmt.Errorf("%w: timer callback %q reference %q", ErrInvalid, tm.Callback, tm.Reference)
		}
		if !op.Cancel && (int(tm.VB) >= numVB || len(tm.Context) > maxTimerContextLen) {
			return fmt.Errorf("%w: timer %s:%s: partition %d of %d, context of %d bytes",
				ErrInvalid, tm.Callback, tm.Reference, tm.VB, numVB, len(tm.Context))
		}
	}
	for _, ft := range fired {
		if int(ft.VB) >= numVB {
			return fmt.Errorf("%w: fired timer %s:%s in partition %d of %d", ErrInvalid, ft.Callback, ft.Reference, ft.VB, numVB)
		}
	}
	return nil
}

// checkFired reports ErrTimerMismatch unless every fired timer is still the
// stored version.
func checkFired(t *timerTable, fn string, fired []FiredTimer) error {
	for _, ft := range fired {
		var cur *Timer
		if t != nil {
			cur, _ = t.get(ft.Callback, ft.Reference)
		}
		if cur == nil || cur.Seq != ft.Seq || cur.VB != ft.VB {
			return fmt.Errorf("%w: function %q timer %s:%s version %d is no longer pending",
				ErrTimerMismatch, fn, ft.Callback, ft.Reference, ft.Seq)
		}
	}
	return nil
}

// applyTimers removes the fired timers, then applies ops in order. The
// caller validated both (FSM goroutine, under tmu).
func applyTimers(t *timerTable, fired []FiredTimer, ops []TimerOp) {
	for _, ft := range fired {
		if cur, ok := t.get(ft.Callback, ft.Reference); ok {
			t.remove(cur)
		}
	}
	for _, op := range ops {
		if op.Cancel {
			if cur, ok := t.get(op.Timer.Callback, op.Timer.Reference); ok {
				t.remove(cur)
			}
			continue
		}
		t.put(op.Timer)
	}
}

// sweepTimers drops the tables of functions that no longer exist or whose
// instance changed (undeploy, redeploy): timers die with their instance
// (FSM goroutine).
func (f *fsm) sweepTimers() {
	f.tmu.Lock()
	defer f.tmu.Unlock()
	for name, t := range f.timers {
		if rec := f.functions[name]; rec == nil || rec.InstanceID != t.instance {
			delete(f.timers, name)
		}
	}
}

// currentTimers returns fn's table if it belongs to the current instance
// (callers hold tmu for reading).
func (f *fsm) currentTimers(fn string) *timerTable {
	t := f.timers[fn]
	if t == nil {
		return nil
	}
	f.mu.RLock()
	rec := f.functions[fn]
	f.mu.RUnlock()
	if rec == nil || rec.InstanceID != t.instance {
		return nil
	}
	return t
}

func (f *fsm) notifyTimers() {
	f.tmu.Lock()
	f.notifyTimersLocked()
	f.tmu.Unlock()
}

// notifyTimersLocked wakes TimersChanged's waiters; callers hold tmu.
func (f *fsm) notifyTimersLocked() {
	close(f.timersChanged)
	f.timersChanged = make(chan struct{})
}

// DueTimers returns up to limit timers of function fn's current instance
// in partitions vbs that are due at or before now (Unix ms), earliest
// first.
func (s *Store) DueTimers(fn string, vbs []uint16, now int64, limit int) []Timer {
	f := s.fsm
	f.tmu.RLock()
	defer f.tmu.RUnlock()
	t := f.currentTimers(fn)
	if t == nil || limit <= 0 {
		return nil
	}
	var out []Timer
	for _, vb := range vbs {
		n := 0
		t.byDue.AscendRange(&Timer{VB: vb, Due: -1 << 62}, &Timer{VB: vb, Due: now + 1},
			func(tm *Timer) bool {
				out = append(out, *tm)
				n++
				return n < limit
			})
	}
	slices.SortFunc(out, func(a, b Timer) int {
		return cmp.Or(cmp.Compare(a.Due, b.Due), cmp.Compare(a.VB, b.VB), cmp.Compare(a.Seq, b.Seq))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// NextTimerDue returns the earliest due time (Unix ms) among fn's timers in
// partitions vbs, and false when there is none.
func (s *Store) NextTimerDue(fn string, vbs []uint16) (int64, bool) {
	f := s.fsm
	f.tmu.RLock()
	defer f.tmu.RUnlock()
	t := f.currentTimers(fn)
	if t == nil {
		return 0, false
	}
	var next int64
	found := false
	for _, vb := range vbs {
		t.byDue.AscendGreaterOrEqual(&Timer{VB: vb, Due: -1 << 62}, func(tm *Timer) bool {
			if tm.VB == vb && (!found || tm.Due < next) {
				next, found = tm.Due, true
			}
			return false
		})
	}
	return next, found
}

// PendingTimer returns fn's pending timer (callback, reference).
func (s *Store) PendingTimer(fn, callback, reference string) (Timer, bool) {
	f := s.fsm
	f.tmu.RLock()
	defer f.tmu.RUnlock()
	t := f.currentTimers(fn)
	if t == nil {
		return Timer{}, false
	}
	tm, ok := t.get(callback, reference)
	if !ok {
		return Timer{}, false
	}
	return *tm, true
}

// PendingTimers returns how many timers fn's current instance has pending.
func (s *Store) PendingTimers(fn string) int {
	f := s.fsm
	f.tmu.RLock()
	defer f.tmu.RUnlock()
	if t := f.currentTimers(fn); t != nil {
		return t.byKey.Len()
	}
	return 0
}

// TimersChanged returns a channel closed at the next change of any
// function's timers (take it before reading, so no change is missed).
func (s *Store) TimersChanged() <-chan struct{} {
	f := s.fsm
	f.tmu.RLock()
	defer f.tmu.RUnlock()
	return f.timersChanged
}

// timerSnap is one function's timers in a snapshot.
type timerSnap struct {
	function string
	table    *timerTable // a clone
}

func (f *fsm) copyTimers() []timerSnap {
	f.tmu.RLock()
	defer f.tmu.RUnlock()
	out := make([]timerSnap, 0, len(f.timers))
	for name, t := range f.timers {
		out = append(out, timerSnap{name, t.clone()})
	}
	slices.SortFunc(out, func(a, b timerSnap) int { return strings.Compare(a.function, b.function) })
	return out
}

func (e *encoder) timerSnaps(ts []timerSnap) {
	e.uvarint(uint64(len(ts)))
	for _, s := range ts {
		e.string(s.function)
		e.string(s.table.instance)
		e.uvarint(s.table.seq)
		e.uvarint(uint64(s.table.byKey.Len()))
		s.table.byKey.Ascend(func(tm *Timer) bool {
			e.timer(tm)
			e.uvarint(tm.Seq)
			return true
		})
	}
}

func (d *decoder) timerSnaps() []timerSnap {
	n := d.count(4)
	out := make([]timerSnap, 0, n)
	for range n {
		name := d.string()
		t := newTimerTable(d.string())
		t.seq = d.uvarint()
		nt := d.count(6)
		for range nt {
			tm := &Timer{}
			d.timer(tm)
			tm.Seq = d.uvarint()
			if d.err != nil {
				break
			}
			t.insertRestored(tm)
		}
		if d.err != nil {
			break
		}
		out = append(out, timerSnap{name, t})
	}
	return out
}

func (e *encoder) timer(tm *Timer) {
	e.string(tm.Callback)
	e.string(tm.Reference)
	e.varint(tm.Due)
	e.bytes(tm.Context)
	e.uvarint(uint64(tm.VB))
}

func (d *decoder) timer(tm *Timer) {
	tm.Callback = d.string()
	tm.Reference = d.string()
	tm.Due = d.varint()
	tm.Context = d.bytes()
	vb := d.uvarint()
	if vb > 0xffff {
		d.fail("timer vbucket")
	}
	tm.VB = uint16(vb)
}
