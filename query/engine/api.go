// Package engine is eventide's SQL++ (N1QL) query engine: it plans and
// runs a parsed statement over a Store (documents, secondary indexes and
// writes) and reports results, errors and metrics the way Couchbase's
// query service does. It knows no HTTP (node/rest/queryapi serves it) and
// no Raft (node implements Store over the replicated store).
package engine

import (
	"context"
	"time"

	"eventide/docstore"
	"eventide/query/value"
)

// Consistency is a request's scan_consistency.
type Consistency string

const (
	// NotBounded reads this node's replica as it is.
	NotBounded Consistency = "not_bounded"
	// RequestPlus first waits until the replica has applied every write
	// acknowledged before the request (Store.WaitConsistent).
	RequestPlus Consistency = "request_plus"
)

// Request is one statement to run, with Couchbase's request fields.
type Request struct {
	// Statement is the SQL++ text; empty when Prepared names a prepared
	// statement to run.
	Statement string
	Prepared  string
	// Positional are $1, $2, ... (and ? in order); Named are $name,
	// keyed without the '$'.
	Positional []value.Value
	Named      map[string]value.Value
	// QueryContext resolves relative keyspace paths and function names:
	// "", "bucket.scope", "default:bucket.scope" or "default:bucket".
	QueryContext string
	Consistency  Consistency
	// Readonly refuses statements that write (Couchbase's error 1000).
	Readonly bool
	// Timeout bounds the run (0: the engine's default); the context's
	// deadline also applies.
	Timeout         time.Duration
	ClientContextID string
	// Now is the statement's NOW_* instant (zero: time.Now at the start).
	Now time.Time
	// Store, when set, replaces the engine's Store for this request (an
	// Eventing handler's statements run over its batch's view).
	Store Store
}

// Error is one entry of a response's errors or warnings, with
// Couchbase's code and message (for example 3000 for a syntax error,
// 4000 for no usable index, 12003 for a missing keyspace, 1080 for a
// timeout).
type Error struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	// Reason carries extra detail some errors have (Couchbase's
	// "reason" object), nil otherwise.
	Reason map[string]any `json:"reason,omitempty"`
}

func (e *Error) Error() string { return e.Msg }

// Metrics are a response's metrics.
type Metrics struct {
	ElapsedTime   time.Duration
	ExecutionTime time.Duration
	ResultCount   int
	ResultSize    int
	MutationCount int
	SortCount     int
	ErrorCount    int
	WarningCount  int
}

// Status is a response's status: "success", "errors", "timeout",
// "stopped" or "fatal", as Couchbase answers.
type Status string

// Result is what Execute reports besides the rows it emitted.
type Result struct {
	RequestID string
	// Signature is the statement's result signature as Couchbase gives
	// it (for example {"*":"*"} or {"name":"json"}); MISSING for DML and
	// DDL without RETURNING.
	Signature value.Value
	Status    Status
	Errors    []*Error
	Warnings  []*Error
	Metrics   Metrics
	// Profile, Prepared name for PREPARE, etc. may grow here.
}

// Emit receives each result row as JSON, in order; a non-nil error (the
// client went away) stops the statement.
type Emit func(row []byte) error

// Store is the data the engine reads and writes. node implements it over
// the replicated store; tests use docstore directly.
type Store interface {
	// Get returns a live document (docstore.ErrNotFound when absent or
	// deleted, docstore's keyspace errors when the keyspace is unknown).
	Get(ks docstore.Keyspace, key string) (*docstore.Document, error)
	// Index returns a point-in-time view of an index to scan.
	Index(ks docstore.Keyspace, name string) (*docstore.IndexView, error)
	// Indexes lists a keyspace's indexes; AllIndexes every keyspace's.
	Indexes(ks docstore.Keyspace) ([]docstore.IndexInfo, error)
	AllIndexes() []docstore.IndexInfo
	// Buckets lists buckets with their scopes and collections (for
	// system:keyspaces and keyspace checks); CheckKeyspace reports
	// whether a collection exists.
	Buckets() []docstore.BucketInfo
	CheckKeyspace(ks docstore.Keyspace) error
	// Write applies mutations; each succeeds or fails on its own (a DML
	// statement is not atomic), results in order.
	Write(ctx context.Context, ms []docstore.Mutation) ([]WriteResult, error)
	// CreateIndex and DropIndex change the replicated index definitions;
	// def is the engine's own encoding (docstore keeps it opaque and the
	// compiler given to the store, CompileIndex, reads it back).
	CreateIndex(ctx context.Context, ks docstore.Keyspace, name string, def []byte, primary, ifNotExists bool) error
	DropIndex(ctx context.Context, ks docstore.Keyspace, name string, ifExists bool) error
	// WaitConsistent blocks until this replica has applied every write
	// acknowledged before the call (request_plus).
	WaitConsistent(ctx context.Context) error
}

// PendingWrites is what a request's Store implements when it has writes
// not yet in its indexes (an Eventing handler's batch, committed only when
// the invocation ends). Scans then also fetch those keys through the Store
// and filter them with the statement's WHERE, so a statement sees what its
// batch wrote, and answers that count or skip index entries alone are not
// used for the keyspace.
type PendingWrites interface {
	// PendingKeys returns the keys of ks the Store has pending writes for
	// (deletes included), each once.
	PendingKeys(ks docstore.Keyspace) []string
}

// WriteResult is one mutation's outcome.
type WriteResult struct {
	Doc *docstore.Document
	Err error
}

// FunctionName is a SQL++ user-defined function's full name: global
// ("default:f", Bucket and Scope empty) or scoped ("default:b.s.f").
type FunctionName struct {
	Namespace     string
	Bucket, Scope string
	Name          string
}

// Function languages.
const (
	LanguageInline     = "inline"
	LanguageJavaScript = "javascript"
)

// FunctionDef is a user-defined function as CREATE FUNCTION stores it.
type FunctionDef struct {
	Name FunctionName
	// Params are the parameter names; Variadic is (...).
	Params   []string
	Variadic bool
	Language string
	// Expression is an inline function's body (canonical SQL++ text).
	Expression string
	// Library and Object are a JavaScript function's AT library (a path
	// resolved by query/library.ResolvePath) and AS object name; Code is
	// the JavaScript text of a function created with its code inline.
	Library, Object, Code string
}

// Functions keeps the user-defined functions (replicated) and runs
// JavaScript ones. query/udf implements it.
type Functions interface {
	Create(ctx context.Context, def FunctionDef, orReplace, ifNotExists bool) error
	Drop(ctx context.Context, name FunctionName, ifExists bool) error
	Get(name FunctionName) (FunctionDef, bool)
	List() []FunctionDef
	// CallJavaScript runs a JavaScript function with its arguments,
	// bounded by ctx; the result or the error the function threw.
	CallJavaScript(ctx context.Context, def FunctionDef, args []value.Value) (value.Value, error)
}
