package node

import (
	"fmt"
	"net/http"
	"slices"

	"eventide/docstore"
	"eventide/node/rest/queryapi"
	"eventide/node/rest/restauth"
	"eventide/query/library"
)

// wireQuery builds the SQL++ UDF libraries over the replicated records
// and the query port's API in front of them.
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
	api, err := queryapi.New(queryapi.Config{
		Credentials: creds,
		Libraries:   n.libraries,
		// QueryService: the SQL++ engine's /query/service handler, when
		// the node has one.
		Logger: n.log.With("component", "query-rest"),
	})
	if err != nil {
		return nil, fmt.Errorf("node: query API: %w", err)
	}
	// Library reads wait for writes acknowledged anywhere, so a library
	// created through one node is at once listed by every other. When the
	// SQL++ engine is wired in, /query/service must not pay that Raft round
	// trip per request: its scan_consistency is its own business.
	return n.caughtUp(api, creds, true), nil
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
