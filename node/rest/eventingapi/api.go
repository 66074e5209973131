// Package eventingapi serves the Couchbase-compatible Eventing REST API
// (port 8096): routing, HTTP basic authentication, request parsing, and
// rendering of results and errors in Couchbase's shapes. All behaviour
// lives in eventing.Service; this package only translates.
package eventingapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"eventide/eventing"
	"eventide/node/rest/restauth"
	"eventide/node/rest/restguard"
)

// Sentinel errors.
var (
	// ErrInvalidConfig: New was given an invalid setting.
	ErrInvalidConfig = errors.New("eventingapi: invalid config")
	// ErrMissingDependency: New was given no credentials or no service.
	ErrMissingDependency = errors.New("eventingapi: missing dependency")
)

// Config configures the eventing API.
type Config struct {
	// Credentials authenticate every request (HTTP basic auth). Required.
	Credentials restauth.Credentials
	// Logger receives request and error logs. Default: discard.
	Logger *slog.Logger

	// Service is the eventing service the API translates to. Required.
	Service *eventing.Service

	// MaxBodyBytes bounds request bodies; larger ones fail with
	// ERR_READ_REQ. Default 32 MiB.
	MaxBodyBytes int64
}

// DefaultConfig returns a Config with every setting's default filled in
// (no logging, 32 MiB bodies); the credentials and the service are the
// caller's.
func DefaultConfig() Config {
	return Config{
		Logger:       slog.New(slog.DiscardHandler),
		MaxBodyBytes: 32 << 20,
	}
}

// withDefaults fills zero settings from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	return c
}

// Validate reports every invalid setting (ErrInvalidConfig). Zero values
// that have defaults are valid. New also requires the credentials and the
// service.
func (c Config) Validate() error {
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("%w: max body bytes %d is negative", ErrInvalidConfig, c.MaxBodyBytes)
	}
	return nil
}

// missingDependencies reports every nil collaborator (ErrMissingDependency).
func (c Config) missingDependencies() error {
	var errs []error
	if c.Credentials == nil {
		errs = append(errs, fmt.Errorf("%w: Credentials", ErrMissingDependency))
	}
	if c.Service == nil {
		errs = append(errs, fmt.Errorf("%w: Service", ErrMissingDependency))
	}
	return errors.Join(errs...)
}

// Server serves the API; it is an http.Handler, safe for concurrent use.
type Server struct {
	cfg Config
	svc *eventing.Service
	log *slog.Logger
}

// New returns the eventing API's server.
func New(cfg Config) (*Server, error) {
	if err := errors.Join(cfg.Validate(), cfg.missingDependencies()); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Server{cfg: cfg, svc: cfg.Service, log: cfg.Logger}, nil
}

// ServeHTTP authenticates, routes, and recovers panics into a 500
// INTERNAL_SERVER_ERROR body.
func (a *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	restguard.Serve(a.log, w, r, a.serve, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, a.log, &eventing.Error{Code: eventing.CodeInternal, Description: fmt.Sprintf("internal error while serving %s %s", r.Method, r.URL.Path)})
	})
}

func (a *Server) serve(rec http.ResponseWriter, r *http.Request) {
	if _, err := restauth.Authenticate(r, a.cfg.Credentials); err != nil {
		rec.Header().Set("WWW-Authenticate", `Basic realm="Couchbase Eventing"`)
		writeError(rec, a.log, &eventing.Error{Code: eventing.CodeUnauthenticated, Description: "Unauthenticated User"})
		return
	}
	a.route(rec, r)
}

// methods maps HTTP methods to handlers for one path.
type methods map[string]func(w http.ResponseWriter, r *http.Request)

// serve dispatches by method, or answers 405 ERR_METHOD_NOT_ALLOWED.
func (m methods) serve(w http.ResponseWriter, r *http.Request, log *slog.Logger) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	var allowed []string
	for _, meth := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if _, ok := m[meth]; ok {
			allowed = append(allowed, meth)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, log, &eventing.Error{Code: eventing.CodeMethodNotAllowed, Description: "Method not allowed. Only " + joinAnd(allowed) + " allowed"})
}

// joinAnd renders ["GET"] as "GET is" and ["GET","POST"] as "GET and POST are".
func joinAnd(list []string) string {
	switch len(list) {
	case 0:
		return "nothing is"
	case 1:
		return list[0] + " is"
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1] + " are"
}

// route matches the path (trailing slashes ignored, as Couchbase does).
func (a *Server) route(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimRight(r.URL.Path, "/")
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var m methods
	switch {
	case len(seg) >= 3 && seg[0] == "api" && seg[1] == "v1":
		m = a.routeV1(seg[2:])
	case len(seg) == 1:
		switch seg[0] {
		case "getAppLog":
			m = methods{http.MethodGet: a.getAppLog}
		case "getInsight":
			m = methods{http.MethodGet: a.getInsight} // insight.go
		case "getExecutionStats":
			m = methods{http.MethodGet: a.getExecutionStats}
		case "getLatencyStats":
			m = methods{http.MethodGet: a.getLatencyStats}
		case "getFailureStats":
			m = methods{http.MethodGet: a.getFailureStats}
		case "resetStatsCounters":
			m = methods{http.MethodGet: a.resetStatsCounters, http.MethodPost: a.resetStatsCounters}
		case "getErrorCodes":
			m = methods{http.MethodGet: a.getErrorCodes}
		}
	}
	if m == nil {
		writeError(w, a.log, &statusError{status: http.StatusNotFound, err: &eventing.Error{Code: eventing.CodeInvalidRequest, Description: fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path)}})
		return
	}
	m.serve(w, r, a.log)
}

// routeV1 matches the paths under /api/v1/.
func (a *Server) routeV1(seg []string) methods {
	switch seg[0] {
	case "functions":
		switch len(seg) {
		case 1:
			return methods{http.MethodGet: a.listFunctions, http.MethodPost: a.createFunctions, http.MethodDelete: a.deleteAll}
		case 2:
			name := seg[1]
			return methods{
				http.MethodGet:    func(w http.ResponseWriter, r *http.Request) { a.getFunction(w, r, name) },
				http.MethodPost:   func(w http.ResponseWriter, r *http.Request) { a.createFunction(w, r, name) },
				http.MethodDelete: func(w http.ResponseWriter, r *http.Request) { a.deleteFunction(w, r, name) },
			}
		case 3:
			return a.routeFunction(seg[1], seg[2])
		case 4:
			if seg[2] == "appcode" && seg[3] == "checksum" {
				name := seg[1]
				return methods{
					http.MethodGet: func(w http.ResponseWriter, r *http.Request) { a.getChecksum(w, r, name) },
					http.MethodPost: func(w http.ResponseWriter, r *http.Request) {
						writeError(w, a.log, &eventing.Error{Code: eventing.CodeMethodNotAllowed, Description: "'/checksum' option is not allowed on a POST request"})
					},
				}
			}
		}
	case "status":
		switch len(seg) {
		case 1:
			return methods{http.MethodGet: a.status}
		case 2:
			name := seg[1]
			return methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) { a.functionStatus(w, r, name) }}
		}
	case "stats":
		switch len(seg) {
		case 1:
			return methods{http.MethodGet: a.stats}
		case 2:
			name := seg[1]
			return methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) { a.functionStats(w, r, name) }}
		}
	case "config":
		if len(seg) == 1 {
			return methods{http.MethodGet: a.getConfig, http.MethodPost: a.setConfig, http.MethodDelete: a.deleteConfig}
		}
	case "export":
		switch len(seg) {
		case 1:
			return methods{http.MethodGet: a.export}
		case 2:
			name := seg[1]
			return methods{http.MethodGet: func(w http.ResponseWriter, r *http.Request) { a.exportFunction(w, r, name) }}
		}
	case "import":
		if len(seg) == 1 {
			return methods{http.MethodPost: a.importFunctions}
		}
	case "list":
		if len(seg) == 2 && seg[1] == "functions" || len(seg) == 3 && seg[1] == "functions" && seg[2] == "query" {
			return methods{http.MethodGet: a.listNames}
		}
	}
	return nil
}

// routeFunction matches /api/v1/functions/{name}/{op}.
func (a *Server) routeFunction(name, op string) methods {
	bind := func(h func(http.ResponseWriter, *http.Request, string)) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { h(w, r, name) }
	}
	switch op {
	case "settings":
		return methods{http.MethodGet: bind(a.getSettings), http.MethodPost: bind(a.setSettings)}
	case "deploy":
		return methods{http.MethodPost: bind(a.deploy)}
	case "undeploy":
		return methods{http.MethodPost: bind(a.undeploy)}
	case "pause":
		return methods{http.MethodPost: bind(a.pause)}
	case "resume":
		return methods{http.MethodPost: bind(a.resume)}
	case "appcode":
		return methods{http.MethodGet: bind(a.getAppCode), http.MethodPost: bind(a.setAppCode)}
	case "config":
		return methods{http.MethodGet: bind(a.getDepCfg), http.MethodPost: bind(a.setDepCfg)}
	case "applog":
		return methods{http.MethodGet: bind(a.functionAppLog)}
	}
	return nil
}
