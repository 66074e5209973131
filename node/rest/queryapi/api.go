// Package queryapi serves the Query service's REST port (8093): the
// JavaScript library APIs of SQL++ user-defined functions, in both forms
// Couchbase has served (/functions/v1/libraries..., a JSON model of
// function objects, and /evaluator/v1/libraries..., a library's
// JavaScript text as the body), with HTTP basic authentication and
// Couchbase's answers (plain-text error messages, {"status": "OK"}). All
// behaviour lives in library.Service; this package only translates.
//
// It also serves the SQL++ query service, /query/service (and /query),
// over an Engine: Couchbase's request parameters (a JSON body, form
// values, or the URL of a GET for read-only statements), its streamed
// answer and its error codes, so that SDKs (gocb's cluster.Query and
// scope.Query), cbq and curl work unchanged.
package queryapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"eventide/node/rest/restauth"
	"eventide/node/rest/restguard"
	"eventide/query/library"
)

// Sentinel errors.
var (
	// ErrInvalidConfig: New was given an invalid setting.
	ErrInvalidConfig = errors.New("queryapi: invalid config")
	// ErrMissingDependency: New was given no credentials or no libraries.
	ErrMissingDependency = errors.New("queryapi: missing dependency")
)

// Config configures the query API.
type Config struct {
	// Credentials authenticate every request (HTTP basic). Required.
	Credentials restauth.Credentials
	// Libraries is the library service the library APIs translate to.
	// Required.
	Libraries *library.Service
	// Engine, when set, runs the statements of /query/service. Default
	// nil: that path is not found.
	Engine Engine
	// IsReadOnly tells the statements a GET may run. Required with Engine.
	IsReadOnly ReadOnlyFunc
	// Logger receives request and error logs. Default: discard.
	Logger *slog.Logger
	// MaxBodyBytes bounds the library APIs' request bodies; larger ones
	// get a 413. Default 8 MiB.
	MaxBodyBytes int64
	// MaxQueryBodyBytes bounds a /query/service request body (statement
	// and parameters), Couchbase's request-size-cap. Default 64 MiB.
	MaxQueryBodyBytes int64
}

// DefaultConfig returns a Config with every setting's default filled in;
// the credentials and the service are the caller's.
func DefaultConfig() Config {
	return Config{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 8 << 20, MaxQueryBodyBytes: 64 << 20}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.MaxQueryBodyBytes == 0 {
		c.MaxQueryBodyBytes = d.MaxQueryBodyBytes
	}
	return c
}

// Validate reports every invalid setting (ErrInvalidConfig) and missing
// collaborator (ErrMissingDependency).
func (c Config) Validate() error {
	var errs []error
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: max body bytes %d is negative", ErrInvalidConfig, c.MaxBodyBytes))
	}
	if c.MaxQueryBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: max query body bytes %d is negative", ErrInvalidConfig, c.MaxQueryBodyBytes))
	}
	if c.Credentials == nil {
		errs = append(errs, fmt.Errorf("%w: Credentials", ErrMissingDependency))
	}
	if c.Libraries == nil {
		errs = append(errs, fmt.Errorf("%w: Libraries", ErrMissingDependency))
	}
	if c.Engine != nil && c.IsReadOnly == nil {
		errs = append(errs, fmt.Errorf("%w: IsReadOnly (with Engine)", ErrMissingDependency))
	}
	return errors.Join(errs...)
}

// Server serves the API; it is an http.Handler, safe for concurrent use.
type Server struct {
	cfg     Config
	libs    *library.Service
	log     *slog.Logger
	queries *queryService // nil without an engine
}

// New returns the query API's server.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, libs: cfg.Libraries, log: cfg.Logger}
	if cfg.Engine != nil {
		s.queries = &queryService{engine: cfg.Engine, readOnly: cfg.IsReadOnly, creds: cfg.Credentials, maxBody: cfg.MaxQueryBodyBytes}
	}
	return s, nil
}

// ServeHTTP routes, authenticates, and recovers panics into a plain 500.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	restguard.Serve(s.log, w, r, s.serve, func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusInternalServerError, "Internal error while serving the request")
	})
}

// methods maps HTTP methods to the handlers of one path.
type methods map[string]func(w http.ResponseWriter, r *http.Request, p params)

// params are a request's path names and namespace.
type params struct {
	scope    library.Scope
	library  string
	function string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	segs, ok := segments(r.URL)
	if !ok {
		writeText(w, http.StatusBadRequest, "The request path is not a valid URL path")
		return
	}
	// The SQL++ endpoint authenticates its requests itself (its 401 has
	// its own body, and the creds parameter counts).
	if IsQueryServicePath(r.URL.Path) {
		if s.queries == nil {
			http.NotFound(w, r)
			return
		}
		s.queries.ServeHTTP(w, r)
		return
	}
	if len(segs) == 2 && segs[0] == "admin" && segs[1] == "ping" {
		servePing(w, r)
		return
	}
	ms, p, found := s.route(segs)
	if !found {
		http.NotFound(w, r)
		return
	}
	if _, err := restauth.Authenticate(r, s.cfg.Credentials); err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="Couchbase Query"`)
		writeText(w, http.StatusUnauthorized, "Unauthorized: a valid user name and password are required")
		return
	}
	h, ok := ms[r.Method]
	if !ok {
		allow := allowed(ms)
		w.Header().Set("Allow", allow)
		writeText(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed; allowed: "+allow)
		return
	}
	sc, err := scopeOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p.scope = sc
	h(w, r, p)
}

// IsQueryServicePath reports whether path is the SQL++ endpoint
// (/query/service, or /query as Couchbase still routes it): requests the
// engine serves at the consistency they ask for.
func IsQueryServicePath(path string) bool {
	return path == "/query/service" || path == "/query"
}

// route matches the path's segments (a trailing slash is ignored: the
// Query Workbench lists libraries with one).
func (s *Server) route(segs []string) (methods, params, bool) {
	if len(segs) < 3 || segs[2] != "libraries" || segs[1] != "v1" {
		return nil, params{}, false
	}
	api, rest := segs[0], segs[3:]
	switch {
	case api == "functions" && len(rest) == 0:
		return methods{
			http.MethodGet: s.getLibraries, http.MethodPost: s.postLibraries,
			http.MethodPut: s.putLibraries, http.MethodDelete: s.deleteLibraries,
		}, params{}, true
	case api == "functions" && len(rest) == 1:
		return methods{
			http.MethodGet: s.getLibrary, http.MethodPost: s.postLibrary,
			http.MethodPut: s.putLibrary, http.MethodDelete: s.deleteLibrary,
		}, params{library: rest[0]}, true
	case (api == "functions" || api == "evaluator") && len(rest) == 3 && rest[1] == "functions":
		// Couchbase 7.0 served the functions form's function paths under
		// /evaluator/v1 too.
		return methods{
			http.MethodGet: s.getFunction, http.MethodPost: s.putFunction,
			http.MethodPut: s.putFunction, http.MethodDelete: s.deleteFunction,
		}, params{library: rest[0], function: rest[2]}, true
	case api == "evaluator" && len(rest) == 0:
		return methods{http.MethodGet: s.getTexts}, params{}, true
	case api == "evaluator" && len(rest) == 1:
		return methods{
			http.MethodGet: s.getText, http.MethodPost: s.putText,
			http.MethodPut: s.putText, http.MethodDelete: s.deleteLibrary,
		}, params{library: rest[0]}, true
	}
	return nil, params{}, false
}

// segments splits the escaped path and unescapes each segment, so that a
// name holding an escaped '/' stays one (invalid) name.
func segments(u *url.URL) ([]string, bool) {
	path := strings.Trim(u.EscapedPath(), "/")
	if path == "" {
		return nil, true
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		v, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = v
	}
	return parts, true
}

// scopeOf reads the bucket and scope parameters of a scoped library;
// neither means the global namespace. The service validates them.
func scopeOf(r *http.Request) (library.Scope, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return library.Scope{}, &library.Error{Kind: library.ErrInvalid, Message: "The query string is not valid"}
	}
	return library.Scope{Bucket: q.Get("bucket"), Scope: q.Get("scope")}, nil
}

func allowed(ms methods) string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if _, ok := ms[m]; ok {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}
