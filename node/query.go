package node

import (
	"fmt"
	"net/http"
	"slices"

	"eventide/docstore"
	"eventide/node/rest/queryapi"
	"eventide/node/rest/restauth"
	"eventide/query/engine"
	"eventide/query/library"
	"eventide/query/udf"
)

// indexCompiler compiles the replicated store's secondary index
// definitions (consensus.Config.IndexCompiler): the engine's, which wrote
// them.
func indexCompiler() docstore.IndexCompiler { return engine.CompileIndex }

// wireQuery builds the SQL++ UDF libraries over the replicated records,
// the SQL++ engine over the replicated store, and the query port's API in
// front of them.
func (n *Node) wireQuery(creds restauth.Credentials) (http.Handler, error) {
	var err error
	n.libraries, err = library.New(library.Config{
		Records:     n.store,
		ScopeExists: scopeExists(n.store.Docs()),
		Logger:      n.log,
	})
	if err != nil {
		return nil, fmt.Errorf("node: query libraries: %w", err)
	}
	n.udfs, err = udf.New(udf.Config{
		Records:     n.store,
		Libraries:   n.libraries,
		ScopeExists: scopeExists(n.store.Docs()),
		Logger:      n.log.With("component", "query-udf"),
	})
	if err != nil {
		return nil, fmt.Errorf("node: query functions: %w", err)
	}
	eng, err := engine.New(engine.Config{
		Store:     queryStore{n.store},
		Functions: n.udfs,
		Logger:    n.log.With("component", "query"),
	})
	if err != nil {
		return nil, fmt.Errorf("node: query engine: %w", err)
	}
	n.query = eng
	api, err := queryapi.New(queryapi.Config{
		Credentials: creds,
		Libraries:   n.libraries,
		Engine:      eng,
		IsReadOnly:  engine.IsReadOnly,
		Logger:      n.log.With("component", "query-rest"),
	})
	if err != nil {
		return nil, fmt.Errorf("node: query API: %w", err)
	}
	// Library reads wait for writes acknowledged anywhere, so a library
	// created through one node is at once listed by every other. SQL++
	// requests do not pay that Raft round trip: their scan_consistency
	// decides (request_plus waits through the engine's Store).
	libs := n.caughtUp(api, creds, true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if queryapi.IsQueryServicePath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		libs.ServeHTTP(w, r)
	}), nil
}

// scopeExists adapts the document store's catalog to the libraries'
// check that a scoped library's scope exists.
func scopeExists(docs *docstore.Store) func(bucket, scope string) bool {
	return func(bucket, scope string) bool {
		b, err := docs.Bucket(bucket)
		if err != nil {
			return false
		}
		return slices.ContainsFunc(b.Scopes, func(s docstore.ScopeInfo) bool { return s.Name == scope })
	}
}
