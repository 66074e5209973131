package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"eventide/docstore"
	"eventide/handler"
	"eventide/query/engine"
	"eventide/query/value"
)

// handlerQuerier runs Eventing handlers' SQL++ on the node's engine, over
// the invocation's batch view: reads of documents see the batch's own
// writes, and writes join the batch, so they commit exactly once with it.
// Index scans read the replica's indexes and also fetch, through the view,
// every key the batch wrote (batchQueryStore.PendingKeys), so a statement
// finds the invocation's own inserts and changes.
type handlerQuerier struct{ n *Node }

func (q handlerQuerier) Query(ctx context.Context, hq handler.Query) (handler.Rows, error) {
	eng := q.n.query
	if eng == nil {
		return nil, &handler.QueryError{Code: 5000, Msg: "the query service is not running on this node"}
	}
	req := engine.Request{Statement: hq.Statement, ClientContextID: hq.ClientContextID, Consistency: engine.NotBounded}
	if hq.Consistency == handler.ConsistencyRequest {
		req.Consistency = engine.RequestPlus
	}
	for _, p := range hq.Positional {
		v, err := value.FromJSON(p)
		if err != nil {
			return nil, &handler.QueryError{Code: 1050, Msg: "invalid positional parameter: " + err.Error()}
		}
		req.Positional = append(req.Positional, v)
	}
	if len(hq.Named) > 0 {
		req.Named = make(map[string]value.Value, len(hq.Named))
		for k, p := range hq.Named {
			v, err := value.FromJSON(p)
			if err != nil {
				return nil, &handler.QueryError{Code: 1050, Msg: "invalid named parameter $" + k + ": " + err.Error()}
			}
			req.Named[k] = v
		}
	}
	var store engine.Store = queryStore{q.n.store}
	if hq.Store != nil {
		store = batchQueryStore{queryStore: queryStore{q.n.store}, view: hq.Store}
	}
	// The statement runs to its end here, as Couchbase's does when
	// issued; its rows are kept for the handler to read, up to a bound so
	// that one statement cannot bloat the node.
	var rows []json.RawMessage
	size := 0
	req.Store = store
	res := eng.Execute(ctx, req, func(row []byte) error {
		if size += len(row); size > maxHandlerQueryBytes {
			return errHandlerQueryTooLarge
		}
		rows = append(rows, json.RawMessage(append([]byte(nil), row...)))
		return nil
	})
	if size > maxHandlerQueryBytes {
		return nil, &handler.QueryError{Code: 5000, Msg: fmt.Sprintf("the statement's results exceed %d MiB, the most a handler may read from one statement: add a LIMIT or select less", maxHandlerQueryBytes>>20)}
	}
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		return nil, &handler.QueryError{Code: e.Code, Msg: e.Msg}
	}
	return &sliceRows{rows: rows}, nil
}

var _ engine.PendingWrites = batchQueryStore{}

// maxHandlerQueryBytes bounds the rows of one handler statement kept in
// memory (a variable for tests).
var maxHandlerQueryBytes = 64 << 20

// errHandlerQueryTooLarge stops a statement whose rows outgrow the bound.
var errHandlerQueryTooLarge = errors.New("handler statement results too large")

// sliceRows streams rows already read.
type sliceRows struct {
	rows []json.RawMessage
	i    int
}

func (r *sliceRows) Next() (json.RawMessage, bool, error) {
	if r.i >= len(r.rows) {
		return nil, false, nil
	}
	r.i++
	return r.rows[r.i-1], true, nil
}

func (r *sliceRows) Close() error { r.rows, r.i = nil, 0; return nil }

// batchQueryStore is the engine's Store for one handler invocation: the
// batch's view for documents, the replica for the rest.
type batchQueryStore struct {
	queryStore
	view handler.Store
}

func (s batchQueryStore) Get(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	return s.view.Get(ks, key)
}

// PendingKeys implements engine.PendingWrites: the keys the batch wrote in
// ks, which the replica's indexes do not have yet.
func (s batchQueryStore) PendingKeys(ks docstore.Keyspace) []string {
	return s.view.PendingKeys(ks)
}

// Write applies each mutation to the batch. SQL++ writes are not
// suppressed for the function's own source, as Couchbase's are not (the
// deploy check refuses DML on the source keyspace unless recursion is
// allowed).
func (s batchQueryStore) Write(ctx context.Context, ms []docstore.Mutation) ([]engine.WriteResult, error) {
	out := make([]engine.WriteResult, len(ms))
	for i, m := range ms {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := s.view.Apply(m, true)
		out[i] = engine.WriteResult{Doc: d, Err: err}
		if err != nil && !isDocPrecondition(err) {
			return out[:i+1], err
		}
	}
	return out, nil
}

// isDocPrecondition reports whether a write failed on its document (it
// existed, was missing, or its CAS moved), not on the batch.
func isDocPrecondition(err error) bool {
	return errors.Is(err, docstore.ErrNotFound) || errors.Is(err, docstore.ErrExists) || errors.Is(err, docstore.ErrCASMismatch)
}
