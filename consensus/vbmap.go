package consensus

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// The vbucket map and nodes' function reports: the Store's calls, the
// fencing of batches by vbucket ownership, and the completion of
// functions' lifecycle transitions that maps and reports allow. The
// commands are set_vbmap (cmd_vbmap.go) and report_function
// (cmd_functions.go).

// VBMap returns a copy of the replicated vbucket map (the zero VBMap, Epoch
// 0, until one is set).
func (s *Store) VBMap() VBMap { return s.fsm.vbMap() }

// SetVBMap replaces the vbucket map if its Epoch still equals expectEpoch
// (0: no map set yet), else ErrVersionMismatch. owners has one node id per
// vbucket ("" unassigned), NumVBuckets long. The new Epoch is the Raft
// index of the change, and only the vbuckets whose owner changed get it as
// their VBEpochs entry. Setting the same owners again changes nothing and
// returns the current map. The map change may complete functions' pending
// transitions (see ReportFunction); Changed fires.
func (s *Store) SetVBMap(ctx context.Context, expectEpoch uint64, owners []string) (VBMap, error) {
	if err := validateOwners(owners, s.cfg.NumVBuckets); err != nil {
		return VBMap{}, err
	}
	res := s.submit(ctx, encodeSetVBMap(expectEpoch, owners))
	if res.err != nil {
		return VBMap{}, res.err
	}
	if res.vbmap == nil {
		return VBMap{}, errors.New("consensus: set of the vbucket map returned no map")
	}
	return copyVBMap(res.vbmap), nil
}

// ReportFunction records whether r.Node's workers run function r.Name's
// instance r.InstanceID (ErrFunctionNotFound; ErrStaleInstance if that is
// not the current instance) and returns the record.
//
// After every report, vbucket map change and function change the FSM
// completes a pending transition once the reports allow it, with the
// owners being the distinct nodes of the vbucket map (without a map, any
// one running node suffices):
//
//	deploying   → deployed    when every owner is in Running
//	pausing     → paused      when Running is empty
//	undeploying → undeployed  when Running is empty (the instance, its
//	                          checkpoints and Running are dropped)
//
// A completion bumps Version and fires Changed; a report that changes
// Running only fires Changed.
func (s *Store) ReportFunction(ctx context.Context, r FunctionReport) (Function, error) {
	if err := validateReport(&r); err != nil {
		return Function{}, err
	}
	res := s.submit(ctx, encodeReportFunction(&r))
	if res.err != nil {
		return Function{}, res.err
	}
	if res.fn == nil {
		return Function{}, errors.New("consensus: function report returned no record")
	}
	return copyFunction(res.fn), nil
}

func copyVBMap(m *VBMap) VBMap {
	return VBMap{Epoch: m.Epoch, Owners: slices.Clone(m.Owners), VBEpochs: slices.Clone(m.VBEpochs)}
}

func (f *fsm) vbMap() VBMap {
	f.mu.RLock()
	m := f.vbmap
	f.mu.RUnlock()
	if m == nil {
		return VBMap{}
	}
	return copyVBMap(m)
}

// pruneRunning drops from every function's Running the nodes that own no
// vbucket in the new map: a node that was failed over cannot report its
// workers stopped, and one that owns nothing runs nothing (FSM goroutine).
func (f *fsm) pruneRunning() {
	owners := make(map[string]bool)
	for _, o := range f.vbmap.Owners {
		if o != "" {
			owners[o] = true
		}
	}
	var names []string
	for name, r := range f.functions {
		if len(r.Running) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		cur := f.functions[name]
		kept := slices.DeleteFunc(slices.Clone(cur.Running), func(n string) bool { return !owners[n] })
		if len(kept) == len(cur.Running) {
			continue
		}
		if len(kept) == 0 {
			kept = nil
		}
		next := *cur
		next.Running = kept
		f.mu.Lock()
		f.functions[name] = &next
		f.mu.Unlock()
	}
}

// completeAll completes every function's pending transition that the
// current map and reports allow, in name order (FSM goroutine).
func (f *fsm) completeAll(index uint64) {
	var names []string
	for name, r := range f.functions {
		if transitional(r.Status) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		next := *f.functions[name]
		if f.completeTransition(&next) {
			next.Version = index
			f.mu.Lock()
			f.functions[name] = &next
			f.mu.Unlock()
		}
	}
}

func transitional(status string) bool {
	return status == StatusDeploying || status == StatusPausing || status == StatusUndeploying
}

// completeTransition moves next out of a transitional status if the
// reports allow it and says whether it did (FSM goroutine).
func (f *fsm) completeTransition(next *Function) bool {
	switch next.Status {
	case StatusDeploying:
		if next.OnDeploy != "" || !f.ownersRunning(next.Running) {
			return false
		}
		next.Status = StatusDeployed
	case StatusPausing:
		if len(next.Running) > 0 {
			return false
		}
		next.Status = StatusPaused
		next.PausedAt = f.applyTime
	case StatusUndeploying:
		if len(next.Running) > 0 {
			return false
		}
		next.Status = StatusUndeployed
		next.InstanceID = ""
		next.Checkpoints = nil
		next.Running = nil
	default:
		return false
	}
	return true
}

// ownersRunning reports whether every owner of the vbucket map is in
// running (sorted); without a map, whether any node runs.
func (f *fsm) ownersRunning(running []string) bool {
	m := f.vbmap
	if m == nil {
		return len(running) > 0
	}
	prev := ""
	for _, o := range m.Owners {
		if o == "" || o == prev {
			continue
		}
		if _, ok := slices.BinarySearch(running, o); !ok {
			return false
		}
		prev = o
	}
	return true
}

// checkOwnership fences a batch: once a vbucket map is set, every vbucket
// of the batch's checkpoints must be owned by the batch's node, and must
// not have changed owner after the map epoch the worker acted on, so that
// a vbucket that moved is never processed by two nodes. Vbuckets out of
// range are left to the checkpoint range check.
func (f *fsm) checkOwnership(b *Batch, cps []vbSeq) error {
	m := f.vbmap
	if m == nil {
		return nil
	}
	vbs := make([]uint16, 0, len(cps)+len(b.Fired)+1)
	for _, c := range cps {
		vbs = append(vbs, c.vb)
	}
	for _, ft := range b.Fired {
		vbs = append(vbs, ft.VB)
	}
	if b.OnDeployDone {
		vbs = append(vbs, 0)
	}
	for _, v := range vbs {
		vb := int(v)
		if vb >= len(m.Owners) {
			continue
		}
		if owner := m.Owners[vb]; owner == "" || owner != b.Node {
			return fmt.Errorf("%w: function %q: vbucket %d is owned by %s, not %q", ErrStaleOwner, b.Function, vb, ownerName(owner), b.Node)
		}
		if m.VBEpochs[vb] > b.Epoch {
			return fmt.Errorf("%w: function %q: vbucket %d changed owner at epoch %d, after the batch's epoch %d",
				ErrStaleOwner, b.Function, vb, m.VBEpochs[vb], b.Epoch)
		}
	}
	return nil
}

func ownerName(o string) string {
	if o == "" {
		return "nobody"
	}
	return fmt.Sprintf("%q", o)
}
