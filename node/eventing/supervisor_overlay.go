package eventing

import (
	"errors"
	"time"

	"eventide/dcp"
)

// overlay is a worker's view of the data during one batch: reads go to the
// batch's own pending writes first, then to the replicated store; writes
// are collected and committed with the batch's checkpoints.
type overlay struct {
	docs    *dcp.Store
	origin  string
	pending map[overlayKey]*pendingWrite
	order   []overlayKey // first-write order, so the commit is deterministic
}

type overlayKey struct {
	ks  dcp.Keyspace
	key string
}

type pendingWrite struct {
	body     []byte
	dt       dcp.Datatype
	deleted  bool
	inStore  bool // a live version existed in the store when first touched
	expected uint64
}

func newOverlay(docs *dcp.Store, origin string) *overlay {
	return &overlay{docs: docs, origin: origin, pending: make(map[overlayKey]*pendingWrite)}
}

func (o *overlay) now() uint32 { return uint32(time.Now().Unix()) }

// stored returns the live stored version, or nil.
func (o *overlay) stored(ks dcp.Keyspace, key string) (*dcp.Document, error) {
	d, err := o.docs.Get(ks, key)
	if errors.Is(err, dcp.ErrNotFound) {
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

// Get implements handler.Store.
func (o *overlay) Get(ks dcp.Keyspace, key string) (*dcp.Document, error) {
	if p, ok := o.pending[overlayKey{ks, key}]; ok {
		if p.deleted {
			return nil, dcp.ErrNotFound
		}
		return &dcp.Document{Key: key, Body: p.body, Datatype: p.dt}, nil
	}
	d, err := o.stored(ks, key)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, dcp.ErrNotFound
	}
	return d, nil
}

func (o *overlay) touch(ks dcp.Keyspace, key string) (*pendingWrite, error) {
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
	p := &pendingWrite{inStore: d != nil}
	o.pending[k] = p
	o.order = append(o.order, k)
	return p, nil
}

// Upsert implements handler.Store.
func (o *overlay) Upsert(ks dcp.Keyspace, key string, body []byte, dt dcp.Datatype) error {
	p, err := o.touch(ks, key)
	if err != nil {
		return err
	}
	p.body, p.dt, p.deleted = body, dt, false
	return nil
}

// Delete implements handler.Store.
func (o *overlay) Delete(ks dcp.Keyspace, key string) (bool, error) {
	p, err := o.touch(ks, key)
	if err != nil {
		return false, err
	}
	existed := !p.deleted && (p.body != nil || p.inStore)
	p.body, p.deleted = nil, true
	return existed, nil
}

// mutations returns the batch's net writes. A delete of a document that was
// not in the store is dropped (nothing to delete); if one appeared since,
// the commit's precondition fails and the batch re-runs.
func (o *overlay) mutations() []dcp.Mutation {
	ms := make([]dcp.Mutation, 0, len(o.order))
	for _, k := range o.order {
		p := o.pending[k]
		m := dcp.Mutation{Keyspace: k.ks, Key: k.key, Origin: o.origin}
		switch {
		case p.deleted && !p.inStore:
			continue
		case p.deleted:
			m.Op = dcp.OpDelete
		default:
			m.Op = dcp.OpUpsert
			m.Body, m.Datatype = p.body, p.dt
		}
		ms = append(ms, m)
	}
	return ms
}
