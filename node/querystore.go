package node

import (
	"context"
	"fmt"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/query/engine"
)

// queryStore is the query engine's Store over the replicated store: reads
// from this node's replica, writes and index changes through Raft.
type queryStore struct{ s *consensus.Store }

var _ engine.Store = queryStore{}

// Get returns live documents only: a tombstone, or a document expired but
// not yet purged, is not found, as the engine's Store requires.
func (q queryStore) Get(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	d, err := q.s.Docs().Get(ks, key)
	if err != nil {
		return nil, err
	}
	if !d.Live(uint32(time.Now().Unix())) {
		return nil, fmt.Errorf("%w: document %q in %s", docstore.ErrNotFound, key, ks)
	}
	return d, nil
}

func (q queryStore) Index(ks docstore.Keyspace, name string) (*docstore.IndexView, error) {
	return q.s.Docs().Index(ks, name)
}

func (q queryStore) Indexes(ks docstore.Keyspace) ([]docstore.IndexInfo, error) {
	return q.s.Docs().Indexes(ks)
}

func (q queryStore) AllIndexes() []docstore.IndexInfo { return q.s.Docs().AllIndexes() }

func (q queryStore) Buckets() []docstore.BucketInfo { return q.s.Docs().Buckets() }

func (q queryStore) CheckKeyspace(ks docstore.Keyspace) error { return q.s.Docs().CheckKeyspace(ks) }

func (q queryStore) Write(ctx context.Context, ms []docstore.Mutation) ([]engine.WriteResult, error) {
	rs, err := q.s.WriteDocs(ctx, ms)
	out := make([]engine.WriteResult, len(rs))
	for i, r := range rs {
		out[i] = engine.WriteResult{Doc: r.Doc, Err: r.Err}
	}
	return out, err
}

func (q queryStore) CreateIndex(ctx context.Context, ks docstore.Keyspace, name string, def []byte, primary, ifNotExists bool) error {
	return q.s.CreateIndex(ctx, consensus.IndexSpec{Keyspace: ks, Name: name, Definition: def, Primary: primary, IfNotExists: ifNotExists})
}

func (q queryStore) DropIndex(ctx context.Context, ks docstore.Keyspace, name string, ifExists bool) error {
	return q.s.DropIndex(ctx, ks, name, ifExists)
}

// WaitConsistent is request_plus: CatchUp returns once this replica has
// applied every write committed before the call.
func (q queryStore) WaitConsistent(ctx context.Context) error { return q.s.CatchUp(ctx) }
