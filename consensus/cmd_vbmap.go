package consensus

import (
	"fmt"
	"slices"
)

// vbucket map commands. The fencing of batches by the map and the
// lifecycle completion a map change triggers are in vbmap.go.

// setVBMap replaces the vbucket map at the epoch expected.
// Fields: expectEpoch:uvarint owners
type setVBMap struct {
	expect uint64
	owners []string
}

func encodeSetVBMap(expectEpoch uint64, owners []string) []byte {
	e := newCommand(kindSetVBMap, 2*len(owners)+64)
	(&setVBMap{expectEpoch, owners}).encode(e)
	return e.b
}

func (c *setVBMap) encode(e *encoder) {
	e.uvarint(c.expect)
	e.owners(c.owners)
}

func (c *setVBMap) decode(d *decoder) {
	c.expect = d.uvarint()
	c.owners = d.owners()
}

func validateOwners(owners []string, numVB int) error {
	if len(owners) != numVB {
		return fmt.Errorf("%w: vbucket map has %d owners, want one per vbucket (%d)", ErrInvalid, len(owners), numVB)
	}
	for vb, o := range owners {
		if len(o) > maxNameLen {
			return fmt.Errorf("%w: owner of vbucket %d is longer than %d bytes", ErrInvalid, vb, maxNameLen)
		}
	}
	return nil
}

func (c *setVBMap) apply(f *fsm, index uint64) (cmdResult, bool) {
	owners := c.owners
	if err := validateOwners(owners, f.numVB); err != nil {
		return cmdResult{err: err}, false
	}
	cur := f.vbmap
	var epoch uint64
	if cur != nil {
		epoch = cur.Epoch
	}
	if c.expect != epoch {
		return cmdResult{err: fmt.Errorf("%w: vbucket map is at epoch %d, not %d", ErrVersionMismatch, epoch, c.expect)}, false
	}
	if cur != nil && slices.Equal(cur.Owners, owners) {
		return cmdResult{vbmap: cur}, false
	}
	next := &VBMap{Epoch: index, Owners: owners, VBEpochs: make([]uint64, f.numVB)}
	for vb := range owners {
		if cur == nil || cur.Owners[vb] != owners[vb] {
			next.VBEpochs[vb] = index
		} else {
			next.VBEpochs[vb] = cur.VBEpochs[vb]
		}
	}
	f.mu.Lock()
	f.vbmap = next
	f.mu.Unlock()
	f.pruneRunning()
	f.completeAll(index)
	return cmdResult{vbmap: next}, true
}

// owners encodes a vbucket → node table compactly: the distinct node ids
// (sorted), then one index per vbucket (0 unassigned, i+1 the i-th id).
// Snapshots use it too.
func (e *encoder) owners(owners []string) {
	var names []string
	for _, o := range owners {
		if o != "" {
			names = append(names, o)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	e.uvarint(uint64(len(names)))
	for _, n := range names {
		e.string(n)
	}
	e.uvarint(uint64(len(owners)))
	for _, o := range owners {
		if o == "" {
			e.uvarint(0)
			continue
		}
		i, _ := slices.BinarySearch(names, o)
		e.uvarint(uint64(i + 1))
	}
}

func (d *decoder) owners() []string {
	names := make([]string, d.count(1))
	for i := range names {
		names[i] = d.string()
	}
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	owners := make([]string, n)
	for i := range owners {
		j := d.uvarint()
		if j > uint64(len(names)) {
			d.fail("owner index")
		}
		if d.err != nil {
			return nil
		}
		if j > 0 {
			owners[i] = names[j-1]
		}
	}
	return owners
}
