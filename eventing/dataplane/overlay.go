package dataplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"eventide/docstore"
)

// overlay is a worker's view of the data during one batch: reads go to the
// batch's own pending writes first, then to the replicated store; writes
// are collected and committed with the batch's checkpoints.
//
// CAS within a batch: the real CAS of a write is decided when the batch is
// committed, so a document the batch wrote carries a provisional CAS (a
// nanosecond clock reading, strictly above the stored version's CAS and
// every provisional CAS before it). The handler sees it in meta.cas and can
// use it for later CAS checks in the same batch, which the overlay
// evaluates against its own view. The commit does not carry provisional
// values: a write that relied on the state of a key (an insert on its
// absence, a replace, delete or touch on its presence, a CAS check on its
// version, or a write to a key the batch read first, as in a
// read-modify-write) is committed with a precondition on the version the
// batch first saw (IfCAS of that stored version, or OpInsert when there was
// none), so
// a concurrent change makes docstore.Store.ApplyAll fail with a *docstore.BatchError
// and the supervisor re-runs the batch against the new state: writes are
// never lost or doubled. A key's first read is kept for the rest of the
// batch, so a handler's get-then-replace cannot see the store move between
// the two calls: the conflict is found at commit, and the re-run succeeds. A provisional CAS a handler keeps beyond its batch
// (for example stored in a document) does not match the committed CAS.
type overlay struct {
	docs    Source // the committed state under the batch
	origin  string
	pending map[overlayKey]*pendingWrite
	order   []overlayKey // first-touch order, so the commit is deterministic
	// written are the keys each keyspace has writes for, in first-write
	// order (PendingKeys).
	written map[docstore.Keyspace][]string
	lastCAS uint64         // the last provisional CAS handed out
	timers  *overlayTimers // the batch's view of its function's timers
}

type overlayKey struct {
	ks  docstore.Keyspace
	key string
}

// pendingWrite is the batch's state of one key it touched.
type pendingWrite struct {
	base    *docstore.Document // live stored version when first touched; nil if none
	cur     *docstore.Document // the batch's version; nil when absent (deleted)
	written bool               // an operation changed the key
	read    bool               // the handler read the key before writing it
	// touchOnly: only the expiry changed since base (committed as OpTouch,
	// which keeps the stored body).
	touchOnly bool
	// relied: an operation depended on base's state, so the commit carries
	// a precondition on it.
	relied bool
	// xattrs: an operation replaced the user xattrs (mutateIn with xattr
	// specs), so the commit carries the batch's set.
	xattrs bool
	// recurse: the last write asked not to be stamped with the function
	// instance, so that it re-triggers the function.
	recurse bool
}

func newOverlay(docs Source, origin string, timers *overlayTimers) *overlay {
	return &overlay{
		docs: docs, origin: origin, timers: timers,
		pending: make(map[overlayKey]*pendingWrite),
		written: make(map[docstore.Keyspace][]string),
	}
}

func (o *overlay) now() uint32 { return uint32(time.Now().Unix()) }

// stored returns the live stored version, or nil.
func (o *overlay) stored(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	d, err := o.docs.Get(ks, key)
	if errors.Is(err, docstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !d.Live(o.now()) {
		return nil, nil
	}
	return d, nil
}

// Get implements handler.Store. The first read of a key is kept as its
// base for the rest of the batch.
func (o *overlay) Get(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	p, err := o.touch(ks, key)
	if err != nil {
		return nil, err
	}
	if !p.written {
		p.read = true
	}
	d := p.cur
	if !d.Live(o.now()) {
		d = nil
	}
	if d == nil {
		return nil, fmt.Errorf("%w: document %q in %s", docstore.ErrNotFound, key, ks)
	}
	return d, nil
}

// touch returns the key's pending state, creating it from the store.
func (o *overlay) touch(ks docstore.Keyspace, key string) (*pendingWrite, error) {
	k := overlayKey{ks, key}
	if p, ok := o.pending[k]; ok {
		return p, nil
	}
	if err := o.docs.CheckKeyspace(ks); err != nil {
		return nil, err
	}
	d, err := o.stored(ks, key)
	if err != nil {
		return nil, err
	}
	p := &pendingWrite{base: d, cur: d}
	o.pending[k] = p
	o.order = append(o.order, k)
	return p, nil
}

// nextCAS returns a provisional CAS above after and every earlier one.
func (o *overlay) nextCAS(after uint64) uint64 {
	c := max(uint64(time.Now().UnixNano()), o.lastCAS+1, after+1)
	o.lastCAS = c
	return c
}

// Upsert implements handler.Store.
func (o *overlay) Upsert(ks docstore.Keyspace, key string, body []byte, dt docstore.Datatype) error {
	_, err := o.Apply(docstore.Mutation{Keyspace: ks, Key: key, Op: docstore.OpUpsert, Body: body, Datatype: dt}, false)
	return err
}

// Delete implements handler.Store.
func (o *overlay) Delete(ks docstore.Keyspace, key string) (bool, error) {
	_, err := o.Apply(docstore.Mutation{Keyspace: ks, Key: key, Op: docstore.OpDelete}, false)
	if errors.Is(err, docstore.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Apply implements handler.Store: it checks m's preconditions against the
// batch's view and records the write.
func (o *overlay) Apply(m docstore.Mutation, selfRecursion bool) (*docstore.Document, error) {
	if m.Op > docstore.OpTouch {
		return nil, fmt.Errorf("%w: unknown operation %d", docstore.ErrInvalid, m.Op)
	}
	p, err := o.touch(m.Keyspace, m.Key)
	if err != nil {
		return nil, err
	}
	cur := p.cur
	if !cur.Live(o.now()) {
		cur = nil
	}
	relies := p.read
	if m.IfCAS != 0 {
		if cur == nil {
			return nil, fmt.Errorf("%w: document %q in %s", docstore.ErrNotFound, m.Key, m.Keyspace)
		}
		if cur.CAS != m.IfCAS {
			return nil, fmt.Errorf("%w: %q has cas %d, not %d", docstore.ErrCASMismatch, m.Key, cur.CAS, m.IfCAS)
		}
		relies = true
	}
	switch m.Op {
	case docstore.OpInsert:
		if cur != nil {
			return nil, fmt.Errorf("%w: document %q in %s", docstore.ErrExists, m.Key, m.Keyspace)
		}
		relies = true
	case docstore.OpReplace, docstore.OpDelete, docstore.OpTouch:
		if cur == nil {
			return nil, fmt.Errorf("%w: document %q in %s", docstore.ErrNotFound, m.Key, m.Keyspace)
		}
		relies = relies || m.Op != docstore.OpDelete || m.IfCAS != 0
	}
	var after uint64
	if cur != nil {
		after = cur.CAS
	}
	if p.base != nil {
		after = max(after, p.base.CAS)
	}
	cas := o.nextCAS(after)
	vb := docstore.VBucketOf(m.Key, o.docs.NumVBuckets())
	if p.base != nil {
		vb = p.base.VBucket
	}
	var result *docstore.Document
	switch m.Op {
	case docstore.OpDelete:
		p.cur = nil
		p.touchOnly = false
		result = &docstore.Document{Key: m.Key, CAS: cas, Deleted: true, VBucket: vb}
	case docstore.OpTouch:
		d := *cur
		d.Expiry, d.CAS = m.Expiry, cas
		p.cur = &d
		if !p.written {
			p.touchOnly = true
		}
		result = &d
	default:
		d := &docstore.Document{
			Key: m.Key, Body: append([]byte(nil), m.Body...), Datatype: m.Datatype,
			Flags: m.Flags, Expiry: m.Expiry, CAS: cas, VBucket: vb, Xattrs: m.Xattrs,
		}
		if m.Xattrs == nil && cur != nil {
			d.Xattrs = cur.Xattrs
		}
		p.cur = d
		p.touchOnly = false
		result = d
	}
	if !p.written {
		o.written[m.Keyspace] = append(o.written[m.Keyspace], m.Key)
	}
	p.written = true
	p.xattrs = p.xattrs || m.Xattrs != nil
	p.relied = p.relied || relies
	p.recurse = selfRecursion
	cp := *result
	return &cp, nil
}

// PendingKeys implements handler.Store: the keys of ks the batch wrote,
// deleted ones included (a scan must learn that its index's entry for them
// is stale).
func (o *overlay) PendingKeys(ks docstore.Keyspace) []string {
	return slices.Clone(o.written[ks])
}

// mutations returns the batch's net writes, each carrying the precondition
// on the first-seen version that the batch's operations relied on. A net
// delete of a document that was not in the store is dropped (nothing to
// delete); a plain delete of one that was requires it to still exist.
func (o *overlay) mutations() []docstore.Mutation {
	ms := make([]docstore.Mutation, 0, len(o.order))
	for _, k := range o.order {
		p := o.pending[k]
		if !p.written {
			continue
		}
		m := docstore.Mutation{Keyspace: k.ks, Key: k.key, Origin: o.origin}
		if p.recurse {
			m.Origin = ""
		}
		if p.relied && p.base != nil {
			m.IfCAS = p.base.CAS
		}
		switch {
		case p.cur == nil && p.base == nil:
			continue
		case p.cur == nil:
			m.Op = docstore.OpDelete
		case p.touchOnly:
			m.Op = docstore.OpTouch
			m.Expiry = p.cur.Expiry
		default:
			m.Op = docstore.OpUpsert
			if p.relied && p.base == nil {
				m.Op = docstore.OpInsert
			}
			m.Body, m.Datatype, m.Flags, m.Expiry = p.cur.Body, p.cur.Datatype, p.cur.Flags, p.cur.Expiry
			if p.xattrs {
				m.Xattrs = p.cur.Xattrs
				if m.Xattrs == nil {
					m.Xattrs = map[string]json.RawMessage{} // non-nil: the batch removed them all
				}
			}
		}
		ms = append(ms, m)
	}
	return ms
}
