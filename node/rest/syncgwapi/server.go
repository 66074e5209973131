// Package syncgwapi serves the document part of the Sync Gateway 3.x public
// REST API (port 4984) over eventide's replicated document store: database
// info, single-document CRUD, _bulk_docs, _all_docs and the _changes feed
// (normal and longpoll). Requests, responses, status codes and error bodies
// ({"error": ..., "reason": ...}) follow Sync Gateway's; where Sync Gateway
// is silent or lax (an unparseable limit, say) the handler answers 400
// with a clear reason instead of guessing.
//
// A keyspace path segment is "db" (the bucket's _default collection),
// "db.collection" (a collection of the _default scope) or
// "db.scope.collection"; the split is unambiguous because the cluster
// manager refuses periods in bucket names (Couchbase's other name
// characters, % included, reach this API percent-encoded). Documents are
// read from a DocReader (*docstore.Store)
// and written through a DocWriter (*consensus.Store); every request's
// writes, including all documents of one _bulk_docs request, go to the
// writer in one WriteDocs call so that they share one group commit.
//
// A document body that repeats a key is stored normalized: the last value
// of a key wins, at the position where the key first appeared, at any
// depth, as JavaScript's JSON.parse reads it (Sync Gateway stores it as
// sent). The same holds for the special properties (_id, _rev, _exp, ...).
// See dupkeys.go.
//
// The parts of the API not served yet (attachments, _local documents,
// _bulk_get, _revs_diff, sessions, continuous and websocket feeds,
// new_edits=false) answer 501 Not Implemented with a reason naming them.
package syncgwapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/node/rest/restauth"
)

// DocReader reads documents; *docstore.Store satisfies it. Its methods are
// called concurrently.
type DocReader interface {
	// Get returns the current version of a key, tombstones included;
	// docstore.ErrNotFound if it never existed.
	Get(ks docstore.Keyspace, key string) (*docstore.Document, error)
	// AllDocs returns live documents sorted by key.
	AllDocs(ks docstore.Keyspace, now uint32, opts docstore.AllDocsOptions) ([]*docstore.Document, error)
	// Changes returns up to limit (0 = all) current versions with
	// ChangeSeq > since, in ChangeSeq order, and the collection's last
	// ChangeSeq.
	Changes(ks docstore.Keyspace, since uint64, limit int) ([]*docstore.Document, uint64, error)
	// CheckKeyspace returns nil if the collection exists, else
	// docstore.ErrBucketNotFound, docstore.ErrScopeNotFound or docstore.ErrCollectionNotFound.
	CheckKeyspace(ks docstore.Keyspace) error
	// Changed returns a channel closed at the next change to any document
	// of bucket (edge-triggered).
	Changed(bucket string) <-chan struct{}
}

// DocWriter writes documents; *consensus.Store satisfies it.
type DocWriter interface {
	// WriteDocs applies each mutation independently, group-committed, and
	// returns one result per mutation; its error is for the call as a whole.
	WriteDocs(ctx context.Context, ms []docstore.Mutation) ([]consensus.DocResult, error)
}

// The real types must fit.
var (
	_ DocReader = (*docstore.Store)(nil)
	_ DocWriter = (*consensus.Store)(nil)
)

// Identity strings of Sync Gateway, kept so that clients recognise the server.
const (
	productName     = "Couchbase Sync Gateway"
	productVersion  = "3.3"
	versionString   = "Couchbase Sync Gateway/3.3.7(eventide)"
	wwwAuthenticate = `Basic realm="` + productName + `"`
)

// reasonBadGzip answers a gzip-encoded body that does not decompress.
const reasonBadGzip = "invalid gzip request body: it is not valid gzip data"

// maxPooledBuffer is the largest request buffer returned to the pool.
const maxPooledBuffer = 4 << 20

// Server serves the API; it is an http.Handler.
type Server struct {
	cfg         Config
	docs        DocReader
	writer      DocWriter
	log         *slog.Logger
	startMicros int64
	bufs        sync.Pool // *bytes.Buffer for request bodies
	// minHeartbeatMS is Sync Gateway's lower bound on _changes heartbeats;
	// a field so that tests can lower it.
	minHeartbeatMS uint64
}

// New returns the Sync Gateway public API's server. It is safe for
// concurrent use and never lets a panic reach the client (it answers 500
// in Sync Gateway's error shape and logs the stack).
func New(cfg Config) (*Server, error) {
	if err := errors.Join(cfg.Validate(), cfg.missingDependencies()); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:         cfg,
		docs:        cfg.Docs,
		writer:      cfg.Writer,
		log:         cfg.Logger.With("component", "syncgwapi"),
		startMicros: cfg.Now().UnixMicro(),

		minHeartbeatMS: minHeartbeatMS,
	}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	return s, nil
}

// handlerFunc serves one endpoint; a returned error is written as the response.
type handlerFunc func(s *Server, q *request) error

// endpoint is a route: its handlers by method and the Allow header value.
type endpoint struct {
	allow    string
	methods  map[string]handlerFunc
	noAuth   bool
	notImpl  string // non-empty: the reason of a 501 answer
	hasDocID bool
}

var (
	epRoot     = &endpoint{allow: "GET, HEAD", methods: map[string]handlerFunc{"GET": (*Server).handleRoot, "HEAD": (*Server).handleRoot}}
	epPing     = &endpoint{allow: "GET, HEAD", noAuth: true, methods: map[string]handlerFunc{"GET": (*Server).handlePing, "HEAD": (*Server).handlePing}}
	epDB       = &endpoint{allow: "GET, HEAD, POST", methods: map[string]handlerFunc{"GET": (*Server).handleDBInfo, "HEAD": (*Server).handleDBInfo, "POST": (*Server).handlePostDoc}}
	epAllDocs  = &endpoint{allow: "GET, HEAD, POST", methods: map[string]handlerFunc{"GET": (*Server).handleAllDocs, "HEAD": (*Server).handleAllDocs, "POST": (*Server).handleAllDocs}}
	epBulkDocs = &endpoint{allow: "POST", methods: map[string]handlerFunc{"POST": (*Server).handleBulkDocs}}
	epChanges  = &endpoint{allow: "GET, POST", methods: map[string]handlerFunc{"GET": (*Server).handleChanges, "POST": (*Server).handleChanges}}
	epDoc      = &endpoint{allow: "GET, HEAD, PUT, DELETE", hasDocID: true, methods: map[string]handlerFunc{
		"GET": (*Server).handleGetDoc, "HEAD": (*Server).handleGetDoc, "PUT": (*Server).handlePutDoc, "DELETE": (*Server).handleDeleteDoc,
	}}
)

// public reports whether method on ep is served without credentials, as
// Sync Gateway serves /_ping (its OpenAPI document declares no 401 there).
func (ep *endpoint) public(method string) bool {
	_, ok := ep.methods[method]
	return ep.noAuth && ok
}

// notImplemented are Sync Gateway public endpoints under /{keyspace}/ that
// are not served yet: path segment → the 501 reason.
var notImplemented = map[string]string{
	"_bulk_get":           "_bulk_get is not supported yet",
	"_revs_diff":          "_revs_diff is not supported yet",
	"_session":            "sessions are not supported yet",
	"_blipsync":           "replication (_blipsync) is not supported yet",
	"_ensure_full_commit": "_ensure_full_commit is not supported yet",
	"_oidc":               "OpenID Connect is not supported yet",
	"_oidc_challenge":     "OpenID Connect is not supported yet",
	"_oidc_callback":      "OpenID Connect is not supported yet",
	"_oidc_refresh":       "OpenID Connect is not supported yet",
	"_oidc_testing":       "OpenID Connect is not supported yet",
	"_facebook":           "Facebook login is not supported yet",
	"_google":             "Google login is not supported yet",
	"_local":              "_local documents are not supported yet",
	"_design":             "views and design documents are not supported yet",
}

const reasonNoAttachments = "attachments are not supported yet"

// route resolves the escaped URL path. It returns the endpoint, the
// keyspace and document segments (unescaped), or an error.
func route(escapedPath string) (ep *endpoint, ks, doc string, err error) {
	p := strings.TrimPrefix(escapedPath, "/")
	if p == "" {
		return epRoot, "", "", nil
	}
	raw := strings.Split(p, "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		v, uerr := url.PathUnescape(r)
		if uerr != nil {
			return nil, "", "", errorf(http.StatusBadRequest, "invalid URL path escape in %q", r)
		}
		segs[i] = v
	}
	if segs[0] == "_ping" && len(segs) == 1 {
		return epPing, "", "", nil
	}
	if segs[0] == "" || segs[0][0] == '_' {
		return nil, "", "", errorf(http.StatusNotFound, reasonUnknownURL)
	}
	ks = segs[0]
	if len(segs) == 1 || (len(segs) == 2 && segs[1] == "") {
		return epDB, ks, "", nil
	}
	second := segs[1]
	if second == "" {
		return nil, "", "", errorf(http.StatusNotFound, reasonUnknownURL)
	}
	if feature, ok := notImplemented[second]; ok {
		return &endpoint{notImpl: feature}, ks, "", nil
	}
	if len(segs) == 2 {
		switch second {
		case "_all_docs":
			return epAllDocs, ks, "", nil
		case "_bulk_docs":
			return epBulkDocs, ks, "", nil
		case "_changes":
			return epChanges, ks, "", nil
		}
		if second[0] == '_' {
			return nil, "", "", errorf(http.StatusNotFound, reasonUnknownURL)
		}
		return epDoc, ks, second, nil
	}
	if len(segs) == 3 && second[0] != '_' && segs[2] != "" {
		return &endpoint{notImpl: reasonNoAttachments}, ks, second, nil
	}
	return nil, "", "", errorf(http.StatusNotFound, reasonUnknownURL)
}

// request is the state of one request.
type request struct {
	w      *responseWriter
	r      *http.Request
	ksName string // keyspace as the client wrote it
	docID  string
	values url.Values // parsed query, lazily
}

// ServeHTTP routes, authenticates and dispatches one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &responseWriter{ResponseWriter: w, head: r.Method == http.MethodHead}
	defer s.recoverPanic(rw, r)
	rw.Header().Set("Server", productName)

	ep, ks, doc, err := route(r.URL.EscapedPath())
	// Credentials come before anything that tells a stranger about the
	// server: unknown paths, allowed methods and OPTIONS all answer 401
	// without them. Only the public endpoints' own methods are open.
	if err != nil || !ep.public(r.Method) {
		if aerr := s.authenticate(rw, r); aerr != nil {
			s.writeError(rw, r, aerr)
			return
		}
	}
	if err != nil {
		s.writeError(rw, r, err)
		return
	}
	q := &request{w: rw, r: r, ksName: ks, docID: doc}
	if ep.notImpl == "" {
		if _, ok := ep.methods[r.Method]; !ok {
			rw.Header().Set("Allow", ep.allow)
			if r.Method == http.MethodOptions {
				rw.WriteHeader(http.StatusNoContent)
				return
			}
			s.writeError(rw, r, errorf(http.StatusMethodNotAllowed, "method %s is not allowed here; allowed: %s", r.Method, ep.allow))
			return
		}
	}
	if ep.notImpl != "" {
		s.writeError(rw, r, &httpError{status: http.StatusNotImplemented, reason: ep.notImpl})
		return
	}
	if ep.hasDocID && !validDocID(doc) {
		s.writeError(rw, r, errorf(http.StatusBadRequest, reasonInvalidDocID))
		return
	}
	if err := ep.methods[r.Method](s, q); err != nil {
		s.writeError(rw, r, err)
	}
}

// authenticate checks HTTP basic auth. As Sync Gateway, a request without
// credentials gets "Login required", wrong ones "Invalid login", both with
// a WWW-Authenticate challenge.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) error {
	_, err := restauth.Authenticate(r, s.cfg.Credentials)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, restauth.ErrNoCredentials):
		w.Header().Set("WWW-Authenticate", wwwAuthenticate)
		return errorf(http.StatusUnauthorized, reasonLoginReq)
	}
	w.Header().Set("WWW-Authenticate", wwwAuthenticate)
	return errorf(http.StatusUnauthorized, reasonInvalidLogin)
}

// writeError is the one place errors become responses: err is written in
// Sync Gateway's error shape. Errors that are not httpErrors are internal:
// they are logged and answered 500.
func (s *Server) writeError(w *responseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		he = errorf(http.StatusInternalServerError, reasonInternal)
	}
	if w.wroteHeader {
		// A streamed response already started; the client sees a truncated body.
		s.log.Warn("error after response started", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	writeJSON(w, he.status, appendErrorBody(nil, he.status, he.reason))
}

// recoverPanic turns a handler panic into a logged 500.
func (s *Server) recoverPanic(w *responseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
	if !w.wroteHeader {
		s.writeError(w, r, errorf(http.StatusInternalServerError, reasonInternal))
	}
}

// writeJSON writes a complete JSON response.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setEtag sets the ETag header to the quoted revision, as Sync Gateway.
func setEtag(w http.ResponseWriter, rev string) {
	w.Header().Set("Etag", strconv.Quote(rev))
}

// responseWriter remembers whether the header went out, so that an error
// or a recovered panic after it is not written into a started body.
type responseWriter struct {
	http.ResponseWriter
	wroteHeader bool
	head        bool // a HEAD request: the body is dropped
}

func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.head {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends buffered data to the client (longpoll heartbeats).
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// streamWriteStall bounds one write of a streamed or long-lived response
// (_all_docs, _changes). Each chunk gets its own write deadline: that lifts
// the server's WriteTimeout for a response that legitimately outlives it,
// while a client that stops reading still ends its response.
const streamWriteStall = 30 * time.Second

// writeChunk writes one chunk of a streamed response under its own write
// deadline (ignored where the writer has none, as in tests' recorders).
func (w *responseWriter) writeChunk(p []byte) {
	_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(streamWriteStall))
	_, _ = w.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// query returns the parsed query string.
func (q *request) query() url.Values {
	if q.values == nil {
		q.values = q.r.URL.Query()
	}
	return q.values
}

// boolQuery is Sync Gateway's getBoolQuery: only "true" is true.
func (q *request) boolQuery(name string) bool { return q.query().Get(name) == "true" }

// uintQuery parses a non-negative integer parameter; absent gives def.
func (q *request) uintQuery(name string, def uint64) (uint64, error) {
	v := q.query().Get(name)
	if v == "" {
		return def, nil
	}
	return parseUintParam(name, v)
}

func parseUintParam(name, v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "%s must be a non-negative integer, got %q", name, v)
	}
	return n, nil
}

// jsonStringParam is Sync Gateway's ConvertJSONString: a value written as
// a JSON string ("\"a\"") is unquoted, anything else is taken literally.
func jsonStringParam(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if s, ok := jsonString(v); ok {
			return s
		}
	}
	return v
}

// resolveKeyspace parses a keyspace segment and checks that it exists.
func (s *Server) resolveKeyspace(name string) (docstore.Keyspace, error) {
	ks, ok := parseKeyspace(name)
	if !ok {
		return ks, errorf(http.StatusNotFound, "keyspace %s not found", name)
	}
	if err := s.docs.CheckKeyspace(ks); err != nil {
		return ks, keyspaceError(err, ks.Bucket, name)
	}
	return ks, nil
}

// parseKeyspace reads "db", "db.collection" (in the _default scope) or
// "db.scope.collection".
func parseKeyspace(name string) (docstore.Keyspace, bool) {
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return docstore.Keyspace{}, false
		}
	}
	switch len(parts) {
	case 1:
		return docstore.Keyspace{Bucket: parts[0], Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}, true
	case 2:
		return docstore.Keyspace{Bucket: parts[0], Scope: docstore.DefaultScope, Collection: parts[1]}, true
	case 3:
		return docstore.Keyspace{Bucket: parts[0], Scope: parts[1], Collection: parts[2]}, true
	}
	return docstore.Keyspace{}, false
}

// now is the current time in unix seconds, for expiry checks.
func (s *Server) now() uint32 {
	t := s.cfg.Now().Unix()
	if t < 0 {
		return 0
	}
	return uint32(t)
}

// checkJSONContentType accepts no Content-Type or application/json, as
// Sync Gateway's ReadJSONFromMIME.
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		if mt == "multipart/related" {
			return errorf(http.StatusUnsupportedMediaType, "multipart/related document bodies are not supported yet; send application/json")
		}
		return errorf(http.StatusUnsupportedMediaType, "Invalid content type %s", ct)
	}
	return nil
}

// readBody reads the whole request body into a pooled buffer, gunzipping
// it if Content-Encoding says so, bounded by MaxRequestBytes. The caller
// returns the buffer with putBuf once nothing refers to its bytes.
func (s *Server) readBody(r *http.Request) (*bytes.Buffer, error) {
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, reasonBadGzip)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, errorf(http.StatusUnsupportedMediaType, "Unsupported Content-Encoding; use gzip")
	}
	max := s.cfg.MaxRequestBytes
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	if n := r.ContentLength; n > 0 && n <= max && r.Header.Get("Content-Encoding") == "" {
		buf.Grow(int(n) + 1)
	}
	_, err := buf.ReadFrom(io.LimitReader(body, max+1))
	switch {
	case err != nil:
		s.putBuf(buf)
		if body != r.Body {
			return nil, errorf(http.StatusBadRequest, reasonBadGzip)
		}
		return nil, errorf(http.StatusBadRequest, "the request body could not be read in full")
	case int64(buf.Len()) > max:
		s.putBuf(buf)
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", max)
	}
	return buf, nil
}

func (s *Server) putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		s.bufs.Put(b)
	}
}

// lastSeq returns the keyspace's last change sequence.
func (s *Server) lastSeq(ks docstore.Keyspace) (uint64, error) {
	_, last, err := s.docs.Changes(ks, ^uint64(0), 1)
	return last, err
}

// writeCtx bounds how long a request waits for its writes to commit.
func writeCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 60*time.Second)
}
