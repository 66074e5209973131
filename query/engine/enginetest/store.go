// Package enginetest provides an in-memory engine.Store over a real
// docstore.Store, for tests of the query engine and of the packages built
// on it.
package enginetest

import (
	"context"
	"sync"
	"sync/atomic"

	"eventide/docstore"
	"eventide/query/engine"
)

// Store is an engine.Store that applies writes straight to a docstore
// with a local CAS counter.
type Store struct {
	*docstore.Store
	cas atomic.Uint64
	mu  sync.Mutex
}

// New returns a Store with the engine's index compiler and the given
// buckets (each with its _default scope and collection).
func New(buckets ...string) (*Store, error) {
	ds := docstore.NewStore(16)
	ds.SetIndexCompiler(engine.CompileIndex)
	for _, b := range buckets {
		if err := ds.CreateBucket(docstore.BucketSpec{Name: b}); err != nil {
			return nil, err
		}
	}
	s := &Store{Store: ds}
	s.cas.Store(1000)
	return s, nil
}

// Write applies each mutation on its own, as the replicated store does.
func (s *Store) Write(ctx context.Context, ms []docstore.Mutation) ([]engine.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]engine.WriteResult, len(ms))
	for i, m := range ms {
		docs, err := s.Store.ApplyAll([]docstore.Mutation{m}, s.cas.Add(1))
		if err != nil {
			if be, ok := err.(*docstore.BatchError); ok {
				err = be.Err
			}
			out[i].Err = err
			continue
		}
		out[i].Doc = docs[0]
	}
	return out, nil
}

// CreateIndex creates an index, accepting an existing one when
// ifNotExists.
func (s *Store) CreateIndex(ctx context.Context, ks docstore.Keyspace, name string, def []byte, primary, ifNotExists bool) error {
	if ifNotExists {
		if _, err := s.Store.Index(ks, name); err == nil {
			return nil
		}
	}
	return s.Store.CreateIndex(ks, name, def, primary)
}

// DropIndex drops an index, accepting a missing one when ifExists.
func (s *Store) DropIndex(ctx context.Context, ks docstore.Keyspace, name string, ifExists bool) error {
	err := s.Store.DropIndex(ks, name)
	if ifExists && err != nil {
		if _, gerr := s.Store.Index(ks, name); gerr != nil {
			return nil
		}
	}
	return err
}

// WaitConsistent returns at once: writes apply synchronously.
func (s *Store) WaitConsistent(ctx context.Context) error { return ctx.Err() }

// Load upserts documents (key → JSON body) into ks.
func (s *Store) Load(ks docstore.Keyspace, docs map[string]string) error {
	ms := make([]docstore.Mutation, 0, len(docs))
	for k, v := range docs {
		ms = append(ms, docstore.Mutation{Keyspace: ks, Key: k, Op: docstore.OpUpsert, Body: []byte(v)})
	}
	_, err := s.Store.ApplyAll(ms, s.cas.Add(1))
	return err
}

var _ engine.Store = (*Store)(nil)

// Get returns a live document: tombstones are docstore.ErrNotFound, as
// engine.Store requires.
func (s *Store) Get(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	d, err := s.Store.Get(ks, key)
	if err == nil && (d.Deleted || d.Expired) {
		return nil, docstore.ErrNotFound
	}
	return d, err
}
