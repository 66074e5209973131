package handler

import (
	"context"
	"encoding/json"
	"strconv"

	"eventide/docstore"
)

// Querier runs the SQL++ (N1QL) statements of handlers. The handler package
// declares what it consumes; the node adapts its query engine to it, so
// handler never imports the engine. A nil Querier leaves N1QL() and the
// inline statements throwing an N1QLError that says so.
type Querier interface {
	// Query starts a statement for a handler invocation; its rows stream
	// through the returned Rows, which the worker always closes. ctx is the
	// invocation's: it ends when the invocation is stopped or times out.
	// Failures of the statement are *QueryError values (also from
	// Rows.Next), other errors are the querier's own. The statement runs
	// when issued: its writes happen even if the handler reads no rows, and
	// an early Close discards only the rows not read.
	Query(ctx context.Context, q Query) (Rows, error)
}

// Query is one statement issued by a handler.
type Query struct {
	// Statement is the SQL++ text as the handler gave it.
	Statement string
	// Positional holds the values of $1, $2, ... (JSON), nil if none.
	Positional []json.RawMessage
	// Named holds the values of $name parameters, keyed without the '$'.
	Named map[string]json.RawMessage
	// Consistency is ConsistencyNone (not_bounded) or ConsistencyRequest
	// (request_plus).
	Consistency string
	// ClientContextID is the handler's clientContextId option, "" if none.
	ClientContextID string
	// Prepared asks the querier to prepare the statement once and reuse
	// the plan (isPrepared option, n1ql_prepare_all setting).
	Prepared bool
	// Function names the function issuing the statement; Origin is its
	// function instance id (Config.FunctionInstanceID), which writes of the
	// statement carry like the handler's bucket writes.
	Function, Origin string
	// SourceKeyspace is the keyspace of the event being handled (zero for
	// timers and OnDeploy).
	SourceKeyspace docstore.Keyspace
	// Store is the invocation's view (the node's per-batch overlay): the
	// statement's reads see the batch's own writes and its writes join the
	// batch, so they are committed exactly once with it.
	Store Store
}

// Scan consistencies of Query.Consistency (the n1ql_consistency setting and
// the consistency option of N1QL()).
const (
	ConsistencyNone    = "none"
	ConsistencyRequest = "request"
)

// Rows streams the results of a Query. Next returns the next row (JSON),
// ok false after the last one, or the error that ended the statement. Close
// releases the statement; it may be called more than once.
type Rows interface {
	Next() (row json.RawMessage, ok bool, err error)
	Close() error
}

// QueryError is a statement failure as the query service reports it:
// Couchbase's error code (e.g. 3000 syntax error, 12003 keyspace not found,
// 4000 no index) and message. Handlers catch it as an N1QLError.
type QueryError struct {
	Code int
	Msg  string
}

func (e *QueryError) Error() string {
	return "handler: query error " + strconv.Itoa(e.Code) + ": " + e.Msg
}
