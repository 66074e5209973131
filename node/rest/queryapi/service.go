package queryapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"eventide/node/rest/restauth"
	"eventide/query/engine"
)

// Engine runs SQL++ statements; query/engine's *Engine satisfies it.
type Engine interface {
	Execute(ctx context.Context, req engine.Request, emit engine.Emit) engine.Result
}

// ReadOnlyFunc reports whether a statement only reads, or its syntax
// error (engine.IsReadOnly). GET requests may run only such statements.
type ReadOnlyFunc func(statement string) (bool, *engine.Error)

// Streaming thresholds: a response is answered whole when its rows fit in
// streamAfterBytes (then its HTTP status can still reflect its errors, as
// Couchbase's does while its first chunk is unsent); past that, rows are
// flushed every flushBytes or flushInterval.
const (
	streamAfterBytes = 64 << 10
	flushBytes       = 16 << 10
	flushInterval    = 100 * time.Millisecond
	// writeTimeLimit bounds each write to the client, as Couchbase's
	// (75s): a statement may run longer than the server's overall write
	// timeout, a stalled client may not hold it forever.
	writeTimeLimit = 75 * time.Second
)

// pretty-printing prefixes, as Couchbase's.
const (
	prettyPrefix = "    "
	prettyIndent = "    "
)

// queryService serves /query/service (and /query, the older binding
// Couchbase still routes).
type queryService struct {
	engine   Engine
	readOnly ReadOnlyFunc
	creds    restauth.Credentials
	maxBody  int64
	active   atomic.Int64 // requests running, for metrics.serviceLoad
}

func (s *queryService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		s.fail(w, start, "", http.StatusMethodNotAllowed, qerr(codeHTTPMethod, "Unsupported http method: %s", r.Method))
		return
	}
	q, e := parseQueryRequest(r, s.maxBody)
	if e != nil {
		s.fail(w, start, q.req.ClientContextID, failStatus(e), e)
		return
	}
	if !s.authenticate(r, q.creds) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Couchbase Query"`)
		s.fail(w, start, q.req.ClientContextID, http.StatusUnauthorized,
			qerr(codeAdminAuth, "Error authorizing against cluster cause: Failure to authenticate user"))
		return
	}
	// GET (and readonly=true) may only read. Prepared statements and
	// statements that do not parse are left to the engine, which checks
	// Readonly itself and reports syntax errors with their position.
	if q.req.Readonly && q.req.Statement != "" {
		if ro, perr := s.readOnly(q.req.Statement); perr == nil && !ro {
			s.fail(w, start, q.req.ClientContextID, http.StatusForbidden,
				qerr(codeReadonly, "The server or request is read-only and cannot accept this write statement."))
			return
		}
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	out := newResponse(w, q, start, s.load())
	execStart := time.Now()
	if q.autoExecute && isPrepare(q.req.Statement) {
		name, res, ok := s.prepare(r.Context(), q.req)
		if !ok {
			out.finish(res)
			return
		}
		out.prepared = name
		q.req.Statement, q.req.Prepared = "", name
	}
	res := s.engine.Execute(r.Context(), q.req, out.emit)
	if res.Metrics.ExecutionTime == 0 {
		res.Metrics.ExecutionTime = time.Since(execStart)
	}
	out.finish(res)
}

// isPrepare reports whether a statement is a PREPARE (of any form).
func isPrepare(stmt string) bool {
	f := strings.Fields(stmt)
	return len(f) > 0 && strings.EqualFold(f[0], "PREPARE")
}

// prepare runs a PREPARE for auto_execute and returns the name of the
// prepared statement, as its row gives it. When PREPARE fails (or gives
// no name), ok is false and res is the answer to send.
func (s *queryService) prepare(ctx context.Context, req engine.Request) (name string, res engine.Result, ok bool) {
	var row []byte
	res = s.engine.Execute(ctx, req, func(r []byte) error {
		if row == nil {
			row = append([]byte(nil), r...)
		}
		return nil
	})
	var plan struct {
		Name string `json:"name"`
	}
	if len(res.Errors) > 0 || json.Unmarshal(row, &plan) != nil || plan.Name == "" {
		if len(res.Errors) == 0 {
			res.Status = "fatal"
			res.Errors = []*engine.Error{{Code: codeInternal, Msg: "PREPARE gave no prepared statement name"}}
		}
		return "", res, false
	}
	return plan.Name, res, true
}

// authenticate accepts the request's basic auth, or else its creds
// parameter when every user in it authenticates.
func (s *queryService) authenticate(r *http.Request, creds []credential) bool {
	_, err := restauth.Authenticate(r, s.creds)
	if err == nil {
		return true
	}
	if !errors.Is(err, restauth.ErrNoCredentials) || len(creds) == 0 {
		return false
	}
	for _, c := range creds {
		// SDKs name users "local:<user>" (and "admin:<user>" once did).
		user := strings.TrimPrefix(strings.TrimPrefix(c.user, "local:"), "admin:")
		if _, err := s.creds.Authenticate(user, c.pass); err != nil {
			return false
		}
	}
	return true
}

// load is Couchbase's serviceLoad: running requests as a percentage of
// its default servicers (four per core).
func (s *queryService) load() int {
	return int(s.active.Load() * 100 / int64(4*runtime.GOMAXPROCS(0)))
}

// fail answers a request refused before it ran: Couchbase's shape without
// results or signature, status "fatal".
func (s *queryService) fail(w http.ResponseWriter, start time.Time, clientID string, status int, e *engine.Error) {
	out := newResponse(w, &queryRequest{metrics: true, req: engine.Request{ClientContextID: clientID}}, start, s.load())
	out.failed(status, uuid.NewString(), []*engine.Error{e}, nil, engine.Metrics{})
}

// failStatus maps a request error to its HTTP status as Couchbase does
// for a request that failed before running.
func failStatus(e *engine.Error) int { return httpStatus(e, http.StatusInternalServerError) }

// httpStatus is Couchbase's mapping of an error code to an HTTP status;
// def applies to codes it does not list.
func httpStatus(e *engine.Error, def int) int {
	switch e.Code {
	case codeReadonly:
		return http.StatusForbidden
	case codeHTTPMethod:
		return http.StatusMethodNotAllowed
	case codeNotImplemented, codeUnrecognizedValue, codeBadValue, codeMissingValue,
		codeMultipleValues, codeUnrecognizedParam, codeTypeMismatch, codeParseSyntax:
		return http.StatusBadRequest
	case codeShuttingDown, codeShuttingDown + 1, codeServiceUnavailable:
		return http.StatusServiceUnavailable
	case codeRequestSizeExceeded, codeRequestSizeExceeded + 1:
		return http.StatusRequestEntityTooLarge
	case codePlan, codeNoSuchPrepared:
		return http.StatusNotFound
	case codeIndexExists:
		return http.StatusConflict
	case codeInternal:
		return http.StatusInternalServerError
	case codeSubqueryBuild:
		return http.StatusUnprocessableEntity
	case codeInsufficientCreds, codeDatastoreAuthz, codeAdminAuth:
		return http.StatusUnauthorized
	case codeKeyspaceNotFound, codeBucketNotFound, codeNamespaceNotFound:
		return http.StatusFailedDependency
	}
	return def
}

// response writes one request's answer in Couchbase's field order:
// requestID, clientContextID, signature, results, errors, warnings,
// status, metrics.
type response struct {
	mu    sync.Mutex // emit and finish, should an engine emit from several goroutines
	w     http.ResponseWriter
	rc    *http.ResponseController
	q     *queryRequest
	start time.Time

	serviceLoad int
	prefix      string // "" or prettyPrefix
	indent      string

	rows      bytes.Buffer // rows formatted, not yet sent
	count     int
	size      int
	streaming bool // the header and the fields before results are sent
	lastFlush time.Time
	// prepared is the name auto_execute ran, answered after
	// clientContextID.
	prepared string
	writeErr error
}

func newResponse(w http.ResponseWriter, q *queryRequest, start time.Time, load int) *response {
	out := &response{w: w, rc: http.NewResponseController(w), q: q, start: start, serviceLoad: load}
	if q.pretty {
		out.prefix, out.indent = prettyPrefix, prettyIndent
	}
	return out
}

// emit is the engine's Emit: it appends a row, and streams once the rows
// outgrow streamAfterBytes. An error (the client went away) stops the
// statement.
func (o *response) emit(row []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.writeErr != nil {
		return o.writeErr
	}
	if o.count == 0 {
		o.rows.WriteString("\n")
	} else {
		o.rows.WriteString(",\n")
	}
	o.rows.WriteString(o.prefix)
	before := o.rows.Len()
	if o.prefix != "" {
		if err := json.Indent(&o.rows, row, o.prefix, o.indent); err != nil {
			o.rows.Write(row)
		}
	} else {
		o.rows.Write(row)
	}
	o.size += o.rows.Len() - before
	o.count++
	switch {
	case !o.streaming && o.rows.Len() >= streamAfterBytes:
		o.startStreaming()
	case o.streaming && (o.rows.Len() >= flushBytes || time.Since(o.lastFlush) >= flushInterval):
		o.flush()
	}
	return o.writeErr
}

// startStreaming sends the header and the fields before results. The
// engine reports its request ID and signature only when it is done, so a
// streamed answer carries an ID of its own and gives the signature after
// the results.
func (o *response) startStreaming() {
	o.streaming = true
	o.header(http.StatusOK)
	var b bytes.Buffer
	o.prelude(&b, uuid.NewString(), nil)
	o.write(b.Bytes())
	o.flush()
}

func (o *response) header(status int) {
	h := o.w.Header()
	h.Set("Content-Type", "application/json; version=7.6.0-N1QL")
	o.w.WriteHeader(status)
}

func (o *response) write(b []byte) {
	if o.writeErr == nil {
		_ = o.rc.SetWriteDeadline(time.Now().Add(writeTimeLimit))
		_, o.writeErr = o.w.Write(b)
	}
}

func (o *response) flush() {
	o.write(o.rows.Bytes())
	o.rows.Reset()
	if o.writeErr == nil {
		if err := o.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			o.writeErr = err
		}
	}
	o.lastFlush = time.Now()
}

// prelude writes "{", requestID, clientContextID and, when given, the
// signature, then opens results.
func (o *response) prelude(b *bytes.Buffer, requestID string, signature []byte) {
	b.WriteString("{\n")
	o.field(b, "requestID", quote(requestID), true)
	if id := o.q.req.ClientContextID; id != "" {
		o.field(b, "clientContextID", quote(id), false)
	}
	if o.prepared != "" {
		o.field(b, "prepared", quote(o.prepared), false)
	}
	if signature != nil {
		o.field(b, "signature", signature, false)
	}
	b.WriteString(",\n")
	b.WriteString(o.prefix)
	b.WriteString(`"results": [`)
}

// field writes one top-level member, preceded by ",\n" unless first.
func (o *response) field(b *bytes.Buffer, name string, val []byte, first bool) {
	if !first {
		b.WriteString(",\n")
	}
	b.WriteString(o.prefix)
	b.WriteString(`"` + name + `": `)
	b.Write(val)
}

// finish writes what follows the rows (or the whole answer when nothing
// was streamed).
func (o *response) finish(res engine.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.writeErr != nil {
		return
	}
	status := res.Status
	if status == "" {
		status = "success"
		if len(res.Errors) > 0 {
			status = "errors"
		}
	}
	// A statement that failed before producing anything gets Couchbase's
	// short answer, without results.
	if !o.streaming && o.count == 0 && status == "fatal" {
		code := http.StatusInternalServerError
		if len(res.Errors) > 0 {
			code = httpStatus(res.Errors[0], code)
		}
		o.failed(code, orNewID(res.RequestID), res.Errors, res.Warnings, res.Metrics)
		return
	}
	var sig []byte
	if o.q.signature && !res.Signature.IsMissing() {
		sig = o.value(res.Signature.AppendJSON(nil))
	}
	var b bytes.Buffer
	if !o.streaming {
		code := http.StatusOK
		if len(res.Errors) > 0 {
			code = httpStatus(res.Errors[0], code)
		} else if len(res.Warnings) > 0 {
			code = httpStatus(res.Warnings[0], code)
		}
		o.header(code)
		o.prelude(&b, orNewID(res.RequestID), sig)
	}
	b.Write(o.rows.Bytes())
	o.rows.Reset()
	b.WriteString("\n" + o.prefix + "]")
	if o.streaming && sig != nil {
		o.field(&b, "signature", sig, false)
	}
	o.epilogue(&b, status, res.Errors, res.Warnings, res.Metrics)
	o.write(b.Bytes())
}

// failed writes the answer of a request that did not run.
func (o *response) failed(code int, requestID string, errs, warnings []*engine.Error, m engine.Metrics) {
	o.header(code)
	var b bytes.Buffer
	b.WriteString("{\n")
	o.field(&b, "requestID", quote(requestID), true)
	if id := o.q.req.ClientContextID; id != "" {
		o.field(&b, "clientContextID", quote(id), false)
	}
	o.epilogue(&b, "fatal", errs, warnings, m)
	o.write(b.Bytes())
}

func orNewID(id string) string {
	if id == "" {
		return uuid.NewString()
	}
	return id
}

// epilogue writes errors, warnings, status and metrics, and closes the
// object.
func (o *response) epilogue(b *bytes.Buffer, status engine.Status, errs, warnings []*engine.Error, m engine.Metrics) {
	o.errorList(b, "errors", errs)
	o.errorList(b, "warnings", warnings)
	o.field(b, "status", quote(string(status)), false)
	if o.q.metrics {
		o.metrics(b, m, len(errs), len(warnings))
	}
	b.WriteString("\n}\n")
}

func (o *response) errorList(b *bytes.Buffer, name string, errs []*engine.Error) {
	if len(errs) == 0 {
		return
	}
	b.WriteString(",\n" + o.prefix + `"` + name + `": [`)
	for i, e := range errs {
		if i > 0 {
			b.WriteString(",")
		}
		if o.prefix != "" {
			b.WriteString("\n" + o.prefix + o.indent)
		}
		b.Write(o.value(marshal(e)))
	}
	if o.prefix != "" {
		b.WriteString("\n" + o.prefix)
	}
	b.WriteString("]")
}

// metrics writes Couchbase's metrics object: the counts it always gives,
// then those it gives only when non-zero. Durations are Go's form
// ("1.234ms"), Couchbase's default style.
func (o *response) metrics(b *bytes.Buffer, m engine.Metrics, errCount, warnCount int) {
	sep := ""
	if o.prefix != "" {
		sep = "\n" + o.prefix + o.indent
	}
	b.WriteString(",\n" + o.prefix + `"metrics": {`)
	fmt.Fprintf(b, `%s"elapsedTime": %s,`, sep, quote(time.Since(o.start).String()))
	fmt.Fprintf(b, `%s"executionTime": %s,`, sep, quote(m.ExecutionTime.String()))
	fmt.Fprintf(b, `%s"resultCount": %d,`, sep, o.count)
	fmt.Fprintf(b, `%s"resultSize": %d,`, sep, o.size)
	fmt.Fprintf(b, `%s"serviceLoad": %d`, sep, o.serviceLoad)
	for _, c := range []struct {
		name string
		n    int
	}{{"mutationCount", m.MutationCount}, {"sortCount", m.SortCount}, {"errorCount", errCount}, {"warningCount", warnCount}} {
		if c.n > 0 {
			fmt.Fprintf(b, `,%s"%s": %d`, sep, c.name, c.n)
		}
	}
	if o.prefix != "" {
		b.WriteString("\n" + o.prefix)
	}
	b.WriteString("}")
}

// value re-indents a JSON value for a pretty answer.
func (o *response) value(v []byte) []byte {
	if o.prefix == "" {
		return v
	}
	var b bytes.Buffer
	if err := json.Indent(&b, v, o.prefix, o.indent); err != nil {
		return v
	}
	return b.Bytes()
}

// marshal encodes without escaping <, > and &, which messages contain.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func quote(s string) []byte { return marshal(s) }

// servePing answers GET /admin/ping, which SDKs use to check the service
// is up (gocb's WaitUntilReady and Ping).
func servePing(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeText(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed; allowed: GET")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(`{"status":"OK"}`)))
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}
