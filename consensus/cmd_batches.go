package consensus

import (
	"cmp"
	"fmt"
	"slices"

	"eventide/docstore"
)

// Eventing workers' commits: one batch's document writes, checkpoints,
// timer changes and OnDeploy completion, applied all or nothing.

// commitBatch applies a Batch. One format for every batch:
//
//	cas:uvarint function:string instanceID:string node:string epoch:uvarint
//	count:uvarint {vb:uvarint seq:uvarint from:uvarint}   (by vbucket)
//	mutations
//	count:uvarint {cancel:bool timer}                      (timer ops)
//	count:uvarint {callback:string reference:string seq:uvarint vb:uvarint}
//	                                                       (fired timers)
//	onDeployDone:bool
//
// A batch leaves the parts after instanceID it does not use at their zero
// values: node "" and epoch 0 (no ownership claimed, which a set vbucket
// map refuses for any vbucket the batch names), and empty lists and false
// (no checkpoints, writes, timers or OnDeploy completion). Pre-release
// logs had two more layouts, kind 10 without node and epoch and kind 15
// without the last three parts; they are not applied any more.
type commitBatch struct {
	cas uint64
	// b is the batch without Checkpoints and From, which cps carries.
	b   Batch
	cps []vbSeq
}

// vbSeq is one checkpoint of a batch (sorted by vbucket).
type vbSeq struct {
	vb        uint16
	seq, from uint64
}

func encodeCommitBatch(cas uint64, b *Batch) []byte {
	size := len(b.Function) + len(b.InstanceID) + len(b.Node) + 10 + 22*len(b.Checkpoints)
	for i := range b.Mutations {
		size += mutationSize(&b.Mutations[i])
	}
	for i := range b.Timers {
		size += len(b.Timers[i].Timer.Callback) + len(b.Timers[i].Timer.Reference) + len(b.Timers[i].Timer.Context) + 24
	}
	for i := range b.Fired {
		size += len(b.Fired[i].Callback) + len(b.Fired[i].Reference) + 16
	}
	c := &commitBatch{cas: cas, b: *b, cps: make([]vbSeq, 0, len(b.Checkpoints))}
	c.b.Checkpoints, c.b.From = nil, nil
	for vb, seq := range b.Checkpoints {
		c.cps = append(c.cps, vbSeq{vb: vb, seq: seq, from: b.From[vb]})
	}
	slices.SortFunc(c.cps, func(x, y vbSeq) int { return cmp.Compare(x.vb, y.vb) })
	e := newCommand(kindCommitBatch, size)
	c.encode(e)
	return e.b
}

func (c *commitBatch) encode(e *encoder) {
	b := &c.b
	e.uvarint(c.cas)
	e.string(b.Function)
	e.string(b.InstanceID)
	e.string(b.Node)
	e.uvarint(b.Epoch)
	e.uvarint(uint64(len(c.cps)))
	for _, cp := range c.cps {
		e.uvarint(uint64(cp.vb))
		e.uvarint(cp.seq)
		e.uvarint(cp.from)
	}
	e.mutations(b.Mutations)
	e.uvarint(uint64(len(b.Timers)))
	for i := range b.Timers {
		e.bool(b.Timers[i].Cancel)
		e.timer(&b.Timers[i].Timer)
	}
	e.uvarint(uint64(len(b.Fired)))
	for _, ft := range b.Fired {
		e.string(ft.Callback)
		e.string(ft.Reference)
		e.uvarint(ft.Seq)
		e.uvarint(uint64(ft.VB))
	}
	e.bool(b.OnDeployDone)
}

func (c *commitBatch) decode(d *decoder) {
	b := &c.b
	c.cas = d.uvarint()
	b.Function = d.string()
	b.InstanceID = d.string()
	b.Node = d.string()
	b.Epoch = d.uvarint()
	c.cps = make([]vbSeq, d.count(2))
	for i := range c.cps {
		vb := d.uvarint()
		if vb > 0xffff {
			d.fail("vbucket")
		}
		c.cps[i] = vbSeq{vb: uint16(vb), seq: d.uvarint(), from: d.uvarint()}
	}
	b.Mutations = d.mutations()
	b.Timers = make([]TimerOp, d.count(6))
	for i := range b.Timers {
		b.Timers[i].Cancel = d.bool()
		d.timer(&b.Timers[i].Timer)
	}
	b.Fired = make([]FiredTimer, d.count(4))
	for i := range b.Fired {
		ft := &b.Fired[i]
		ft.Callback, ft.Reference, ft.Seq = d.string(), d.string(), d.uvarint()
		vb := d.uvarint()
		if vb > 0xffff {
			d.fail("fired timer vbucket")
		}
		ft.VB = uint16(vb)
	}
	b.OnDeployDone = d.bool()
}

// apply checks everything that can fail before it changes anything: see
// DESIGN.md for the order.
func (c *commitBatch) apply(f *fsm, index uint64) (cmdResult, bool) {
	b, cps := &c.b, c.cps
	f.mu.RLock()
	rec := f.functions[b.Function]
	f.mu.RUnlock()
	if rec == nil || rec.InstanceID == "" || rec.InstanceID != b.InstanceID || !processing(rec.Status) {
		return cmdResult{err: fmt.Errorf("%w: function %q instance %q", ErrStaleInstance, b.Function, b.InstanceID)}, false
	}
	if err := f.checkOwnership(b, cps); err != nil {
		return cmdResult{err: err}, false
	}
	for _, cp := range cps {
		if int(cp.vb) >= len(rec.Checkpoints) {
			return cmdResult{err: fmt.Errorf("%w: checkpoint for vbucket %d, function %q has %d", ErrInvalid, cp.vb, b.Function, len(rec.Checkpoints))}, false
		}
		if rec.Checkpoints[cp.vb] != cp.from {
			return cmdResult{err: fmt.Errorf("%w: function %q vbucket %d is at %d, batch starts at %d",
				ErrCheckpointMismatch, b.Function, cp.vb, rec.Checkpoints[cp.vb], cp.from)}, false
		}
	}
	if b.OnDeployDone && rec.OnDeploy == "" {
		return cmdResult{err: fmt.Errorf("%w: function %q", ErrOnDeployDone, b.Function)}, false
	}
	if err := validateTimerOps(b.Timers, b.Fired, f.numVB); err != nil {
		return cmdResult{err: err}, false
	}
	f.tmu.RLock()
	table := f.timers[b.Function]
	if table != nil && table.instance != rec.InstanceID {
		table = nil
	}
	err := checkFired(table, b.Function, b.Fired)
	f.tmu.RUnlock()
	if err != nil {
		return cmdResult{err: err}, false
	}
	var docs []*docstore.Document
	if len(b.Mutations) > 0 {
		var err error
		if docs, err = f.docs.ApplyAll(b.Mutations, c.cas); err != nil {
			return cmdResult{err: err}, false
		}
	}
	if len(b.Timers) > 0 || len(b.Fired) > 0 {
		f.tmu.Lock()
		if table == nil {
			table = newTimerTable(rec.InstanceID)
			f.timers[b.Function] = table
		}
		applyTimers(table, b.Fired, b.Timers)
		f.notifyTimersLocked()
		f.tmu.Unlock()
	}
	// Checkpoints only move forward: a worker re-running an old batch
	// (or a late duplicate) must not rewind them.
	var next []uint64
	for _, cp := range cps {
		if cp.seq > rec.Checkpoints[cp.vb] {
			if next == nil {
				next = slices.Clone(rec.Checkpoints)
			}
			next[cp.vb] = cp.seq
		}
	}
	changed := false
	if next != nil || b.OnDeployDone {
		// Checkpoint progress is not a change of the record for optimistic
		// concurrency (Version stays) nor for Changed(): the supervisor's
		// lifecycle changes must not conflict with every worker commit.
		// Completing OnDeploy is: it may complete the deploy.
		upd := *rec
		if next != nil {
			upd.Checkpoints = next
		}
		if b.OnDeployDone {
			upd.OnDeploy, upd.OnDeployDelay = "", 0
			f.completeTransition(&upd)
			upd.Version = index
			changed = true
		}
		f.mu.Lock()
		f.functions[b.Function] = &upd
		f.mu.Unlock()
	}
	return cmdResult{docs: docs}, changed
}
