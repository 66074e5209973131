package engine

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"eventide/docstore"
	"eventide/query/ast"
	"eventide/query/funcs"
	"eventide/query/parser"
	"eventide/query/value"
)

// Config configures an Engine.
type Config struct {
	// Store holds the documents, indexes and writes. Required.
	Store Store
	// Functions keeps UDFs; nil refuses CREATE FUNCTION and UDF calls.
	Functions Functions
	// DefaultTimeout bounds a request without its own timeout; 0 means
	// no bound beyond the context's.
	DefaultTimeout time.Duration
	// MaxParallelism is accepted for Couchbase's max_parallelism; the
	// engine runs each statement on one goroutine.
	MaxParallelism int
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// maxPrepared bounds the prepared-statement cache.
const maxPrepared = 4096

// Engine runs SQL++ statements. It is safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	prepared map[string]*preparedStmt
	order    []string // insertion order, for eviction
	parsed   map[string]ast.Statement

	udfMu    sync.Mutex
	udfExprs map[string]ast.Expr

	idxCache sync.Map // index definition text → *indexMeta
}

type preparedStmt struct {
	name string
	text string
	stmt ast.Statement
	qc   string
}

// New returns an engine over cfg.Store.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: Config.Store is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, log: log, prepared: map[string]*preparedStmt{}, parsed: map[string]ast.Statement{}, udfExprs: map[string]ast.Expr{}}, nil
}

// store is the request's Store, or the engine's.
func (x *exec) store() Store {
	if x.req != nil && x.req.Store != nil {
		return x.req.Store
	}
	return x.e.cfg.Store
}

// exec is the state of one running statement.
type exec struct {
	e          *Engine
	ctx        context.Context
	req        *Request
	timeout    time.Duration
	fctx       *funcs.Context
	named      map[string]value.Value
	positional []value.Value
	qcBucket   string
	qcScope    string
	ticks      int
	emit       Emit
	res        *Result
	udfDepth   int
	// explain collects the access paths chosen, for EXPLAIN.
	explaining bool
	explained  []map[string]any
	// subCache keeps uncorrelated subqueries' results for the statement;
	// subNames the names each subquery uses (nil: never cacheable).
	subCache map[*ast.Select]value.Value
	subNames map[*ast.Select][]string
	// topK is OFFSET+LIMIT of the next sorted subselect (0: all rows).
	topK int
	// pushOffset is an OFFSET the next keyspace scan applies itself.
	pushOffset int
}

// tick checks every so often whether the statement must stop.
func (x *exec) tick() error {
	x.ticks++
	if x.ticks&63 != 0 {
		return nil
	}
	return x.checkCtx()
}

func (x *exec) checkCtx() error {
	if err := x.ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return errTimeout(x.timeout)
		}
		return newErr(CodeInternal, "Request cancelled")
	}
	return nil
}

// Execute runs one request, emitting result rows in order.
func (e *Engine) Execute(ctx context.Context, req Request, emit Emit) (res Result) {
	start := e.cfg.Now()
	res.RequestID = uuid.NewString()
	res.Signature = value.MissingValue
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = e.cfg.DefaultTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		// The caller's deadline, when sooner, is the bound reported.
		if left := time.Until(dl); timeout <= 0 || left < timeout {
			timeout = left.Round(time.Millisecond)
		}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	now := req.Now
	if now.IsZero() {
		now = start
	}
	x := &exec{e: e, ctx: ctx, req: &req, timeout: timeout, fctx: funcs.NewContext(now), named: req.Named, positional: req.Positional, emit: emit, res: &res}
	x.qcBucket, x.qcScope = parseQueryContext(req.QueryContext)
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("query engine panic", "statement", req.Statement, "panic", p, "stack", string(debug.Stack()))
			res.Errors = append(res.Errors, newErr(CodeInternal, "Internal error: %v", p))
		}
		res.Metrics.ElapsedTime = e.cfg.Now().Sub(start)
		res.Metrics.ExecutionTime = res.Metrics.ElapsedTime
		res.Metrics.ErrorCount = len(res.Errors)
		res.Metrics.WarningCount = len(res.Warnings)
		switch {
		case len(res.Errors) == 0:
			res.Status = "success"
		case res.Errors[0].Code == CodeTimeout:
			res.Status = "timeout"
		case res.Errors[0].Code == CodeInternal:
			res.Status = "fatal"
		default:
			res.Status = "errors"
		}
	}()
	stmt, text, qc, err := e.statement(&req)
	if qc != "" {
		x.qcBucket, x.qcScope = parseQueryContext(qc)
	}
	if err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	if err := x.checkCtx(); err != nil {
		res.Errors = append(res.Errors, asError(err))
		return res
	}
	if req.Consistency == RequestPlus {
		if err := x.store().WaitConsistent(ctx); err != nil {
			if ctx.Err() != nil {
				res.Errors = append(res.Errors, asError(x.checkCtx()))
			} else {
				res.Errors = append(res.Errors, newErr(CodeInternal, "request_plus: %v", err))
			}
			return res
		}
	}
	if err := x.run(stmt, text); err != nil {
		res.Errors = append(res.Errors, asError(err))
	}
	return res
}

// statement parses the request's statement or finds its prepared one.
func (e *Engine) statement(req *Request) (stmt ast.Statement, text, qc string, _ *Error) {
	if req.Statement == "" && req.Prepared != "" {
		p, ok := e.lookupPrepared(req.Prepared)
		if !ok {
			return nil, "", "", newErr(CodeNoSuchPrepared, "No such prepared statement: %s", req.Prepared)
		}
		return p.stmt, p.text, p.qc, nil
	}
	if strings.TrimSpace(req.Statement) == "" {
		return nil, "", "", newErr(1050, "No statement or prepared value")
	}
	stmt, perr := e.parse(req.Statement)
	if perr != nil {
		return nil, "", "", perr
	}
	return stmt, req.Statement, "", nil
}

// Parsed statements are cached by text: the engine never changes a tree,
// so one parse serves every request repeating a statement (handlers and
// SDK clients send the same text with different parameters).
const (
	maxParsed     = 1024
	maxParsedText = 4096
)

func (e *Engine) parse(text string) (ast.Statement, *Error) {
	e.mu.Lock()
	stmt, ok := e.parsed[text]
	e.mu.Unlock()
	if ok {
		return stmt, nil
	}
	stmt, err := parser.Parse(text)
	if err != nil {
		return nil, fromParse(err)
	}
	if len(text) <= maxParsedText {
		e.mu.Lock()
		if len(e.parsed) >= maxParsed {
			clear(e.parsed) // a simple bound: refill from the next requests
		}
		e.parsed[text] = stmt
		e.mu.Unlock()
	}
	return stmt, nil
}

// run dispatches a parsed statement.
func (x *exec) run(stmt ast.Statement, text string) error {
	if x.req.Readonly && !readOnly(stmt) {
		return errReadonly()
	}
	switch s := stmt.(type) {
	case *ast.Select:
		return x.runSelect(s)
	case *ast.Insert:
		return x.runInsert(s)
	case *ast.Update:
		return x.runUpdate(s)
	case *ast.Delete:
		return x.runDelete(s)
	case *ast.Merge:
		return x.runMerge(s)
	case *ast.CreateIndex:
		return x.runCreateIndex(s)
	case *ast.DropIndex:
		return x.runDropIndex(s)
	case *ast.BuildIndex:
		_, err := x.resolveKeyspace(s.Keyspace)
		return err
	case *ast.Explain:
		return x.runExplain(s)
	case *ast.Prepare:
		return x.runPrepare(s, text)
	case *ast.Execute:
		return x.runExecute(s)
	case *ast.CreateFunction:
		return x.runCreateFunction(s)
	case *ast.DropFunction:
		return x.runDropFunction(s)
	case *ast.ExecuteFunction:
		return x.runExecuteFunction(s)
	}
	kind := "this statement"
	switch stmt.(type) {
	case *ast.Advise:
		kind = "ADVISE"
	case *ast.Infer:
		kind = "INFER"
	}
	return newErr(CodeSemantics, "%s is not supported by this query engine", kind)
}

// readOnly reports whether stmt only reads.
func readOnly(stmt ast.Statement) bool {
	switch s := stmt.(type) {
	case *ast.Select, *ast.Explain, *ast.Advise, *ast.Infer, *ast.Execute:
		// EXECUTE is checked again against the prepared statement.
		return true
	case *ast.Prepare:
		return readOnly(s.Stmt)
	}
	return false
}

// IsReadOnly reports whether a statement only reads (GET /query/service
// allows only those), parse errors as *Error. EXECUTE of a prepared
// statement counts as read-only here; Execute with Request.Readonly
// checks the prepared statement itself.
func IsReadOnly(statement string) (bool, *Error) {
	stmt, err := parser.Parse(statement)
	if err != nil {
		return false, fromParse(err)
	}
	return readOnly(stmt), nil
}

// emitValue sends one result row.
func (x *exec) emitValue(v value.Value) error {
	b := v.AppendJSON(nil)
	x.res.Metrics.ResultCount++
	x.res.Metrics.ResultSize += len(b)
	if x.emit == nil {
		return nil
	}
	if err := x.emit(b); err != nil {
		return newErr(CodeInternal, "Request cancelled: %v", err)
	}
	return nil
}

func parseQueryContext(qc string) (bucket, scope string) {
	qc = strings.TrimSpace(qc)
	if i := strings.IndexByte(qc, ':'); i >= 0 {
		qc = qc[i+1:]
	}
	qc = strings.ReplaceAll(qc, "`", "")
	if qc == "" {
		return "", ""
	}
	parts := strings.SplitN(qc, ".", 2)
	if len(parts) == 2 {
		return parts[0], parts[1]
	}
	return parts[0], ""
}

// keyspacePath is b, or b.s.c for a named collection.
func keyspacePath(ks docstore.Keyspace) string {
	if ks.Scope == docstore.DefaultScope && ks.Collection == docstore.DefaultCollection {
		return ks.Bucket
	}
	return ks.Bucket + "." + ks.Scope + "." + ks.Collection
}

// quotedPath is Couchbase's `default`:`b`[.`s`.`c`] form in messages.
func quotedPath(ks docstore.Keyspace) string {
	if ks.Scope == docstore.DefaultScope && ks.Collection == docstore.DefaultCollection {
		return "`default`:`" + ks.Bucket + "`"
	}
	return "`default`:`" + ks.Bucket + "`.`" + ks.Scope + "`.`" + ks.Collection + "`"
}

// keyspaceRef is a resolved FROM/DML keyspace: a collection or a system
// keyspace.
type keyspaceRef struct {
	ks     docstore.Keyspace
	system string // "keyspaces", "indexes", "functions", "dual" for system:...
}

// resolveKeyspace resolves a keyspace term against query_context and
// checks that it exists.
func (x *exec) resolveKeyspace(k *ast.KeyspaceTerm) (keyspaceRef, error) {
	if strings.EqualFold(k.Namespace, "system") {
		name := strings.ToLower(k.Path[len(k.Path)-1])
		switch name {
		case "keyspaces", "indexes", "functions", "dual":
			return keyspaceRef{system: name}, nil
		}
		return keyspaceRef{}, newErr(CodeKeyspaceMissing, "Keyspace not found in CB datastore: system:%s - cause: No keyspace named %s", name, name)
	}
	var ks docstore.Keyspace
	switch len(k.Path) {
	case 1:
		if x.qcBucket != "" && x.qcScope != "" && k.Namespace == "" {
			ks = docstore.Keyspace{Bucket: x.qcBucket, Scope: x.qcScope, Collection: k.Path[0]}
		} else {
			ks = docstore.Keyspace{Bucket: k.Path[0], Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}
		}
	case 2:
		if x.qcBucket == "" {
			return keyspaceRef{}, newErr(CodeKeyspaceMissing, "Keyspace not found in CB datastore: default:%s - cause: a scope.collection path needs a query_context", strings.Join(k.Path, "."))
		}
		ks = docstore.Keyspace{Bucket: x.qcBucket, Scope: k.Path[0], Collection: k.Path[1]}
	case 3:
		ks = docstore.Keyspace{Bucket: k.Path[0], Scope: k.Path[1], Collection: k.Path[2]}
	default:
		return keyspaceRef{}, newErr(CodeSyntax, "invalid keyspace path %s", strings.Join(k.Path, "."))
	}
	if err := x.store().CheckKeyspace(ks); err != nil {
		return keyspaceRef{}, keyspaceErr(ks, err)
	}
	return keyspaceRef{ks: ks}, nil
}

func (e *Engine) lookupPrepared(name string) (*preparedStmt, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.prepared[name]
	return p, ok
}

func (e *Engine) storePrepared(p *preparedStmt) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.prepared[p.name]; !ok {
		e.order = append(e.order, p.name)
	}
	e.prepared[p.name] = p
	for len(e.order) > maxPrepared {
		delete(e.prepared, e.order[0])
		e.order = e.order[1:]
	}
}
