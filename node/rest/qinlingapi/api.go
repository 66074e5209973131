// Package qinlingapi serves the OpenStack Qinling function-engine REST API
// (port 7070) and the slice of Keystone's v3 identity API that logs a
// client in: routing, authentication (HTTP basic with the cluster's
// credentials, or X-Auth-Token tokens that any node issues and any node
// verifies), request parsing (JSON, forms and multipart package uploads)
// and rendering of results and errors in Qinling's shapes. All behaviour
// lives in qinling.Service; this package only translates.
package qinlingapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"eventide/node/rest/restauth"
	"eventide/node/rest/restguard"
	"eventide/qinling"
)

// Config configures the Qinling API.
type Config struct {
	// Credentials authenticate basic-auth requests and Keystone password
	// logins. Required.
	Credentials restauth.Credentials
	// Logger receives request and error logs. Default: discard.
	Logger *slog.Logger
	// IsAdmin reports whether an authenticated user is the cluster's
	// administrator, who may scope a token to any project and whom the
	// service lets act on every project. Any other user works in its own
	// project only: the project named like the user. Default: every user
	// is (the cluster's credentials hold only its administrator).
	IsAdmin func(restauth.Identity) bool

	// Service is the Qinling service the API translates to. Required.
	Service *qinling.Service
	// TokenSecret keys the HMAC that signs tokens; every node of a cluster
	// must be given the same one (the node passes its cluster secret), at
	// least 16 bytes. Required.
	TokenSecret []byte
	// TokenTTL is how long an issued token is valid. Default 1 hour, as
	// Keystone's.
	TokenTTL time.Duration
	// PublicURL is the node's Qinling base URL as clients reach it (for
	// example "http://10.0.0.5:7070"), the function-engine endpoint of
	// the token catalog. Default: the scheme and Host of each request.
	PublicURL string
	// DefaultProject is the project of basic-auth requests and of token
	// requests that name none. Default "admin".
	DefaultProject string
	// MaxBodyBytes bounds JSON and form bodies; larger ones get a 413.
	// Default 1 MiB.
	MaxBodyBytes int64
	// MaxPackageBytes bounds an uploaded function package; a larger one
	// gets a 413. Default 50 MiB (the service's own limit should match).
	MaxPackageBytes int64
}

// minTokenSecret is the shortest TokenSecret accepted.
const minTokenSecret = 16

// DefaultConfig returns a Config with every setting's default filled in;
// the credentials, service and token secret are the caller's.
func DefaultConfig() Config {
	return Config{
		Logger:          slog.New(slog.DiscardHandler),
		TokenTTL:        time.Hour,
		DefaultProject:  "admin",
		MaxBodyBytes:    1 << 20,
		MaxPackageBytes: 50 << 20,
	}
}

// withDefaults fills zero settings from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.IsAdmin == nil {
		c.IsAdmin = func(restauth.Identity) bool { return true }
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = d.TokenTTL
	}
	if c.DefaultProject == "" {
		c.DefaultProject = d.DefaultProject
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.MaxPackageBytes == 0 {
		c.MaxPackageBytes = d.MaxPackageBytes
	}
	return c
}

// Validate reports every invalid setting (ErrInvalidConfig). Zero values
// that have defaults are valid.
func (c Config) Validate() error {
	var errs []error
	if c.TokenTTL < 0 {
		errs = append(errs, fmt.Errorf("%w: token TTL %s is negative", ErrInvalidConfig, c.TokenTTL))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: max body bytes %d is negative", ErrInvalidConfig, c.MaxBodyBytes))
	}
	if c.MaxPackageBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: max package bytes %d is negative", ErrInvalidConfig, c.MaxPackageBytes))
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("%w: public URL %q is not an http(s) URL", ErrInvalidConfig, c.PublicURL))
	}
	if c.TokenSecret != nil && len(c.TokenSecret) < minTokenSecret {
		errs = append(errs, fmt.Errorf("%w: token secret is %d bytes, at least %d", ErrInvalidConfig, len(c.TokenSecret), minTokenSecret))
	}
	return errors.Join(errs...)
}

// missingDependencies reports every missing collaborator.
func (c Config) missingDependencies() error {
	var errs []error
	if c.Credentials == nil {
		errs = append(errs, fmt.Errorf("%w: Credentials", ErrMissingDependency))
	}
	if c.Service == nil {
		errs = append(errs, fmt.Errorf("%w: Service", ErrMissingDependency))
	}
	if c.TokenSecret == nil {
		errs = append(errs, fmt.Errorf("%w: TokenSecret", ErrMissingDependency))
	}
	return errors.Join(errs...)
}

// Server serves the API; it is an http.Handler, safe for concurrent use.
type Server struct {
	cfg    Config
	svc    *qinling.Service
	log    *slog.Logger
	tokens *tokenSigner
	table  []*route
	clock  func() time.Time // nil: time.Now; tests set it
}

// New returns the Qinling API's server.
func New(cfg Config) (*Server, error) {
	if err := errors.Join(cfg.Validate(), cfg.missingDependencies()); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	tokens, err := newTokenSigner(cfg.TokenSecret)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, svc: cfg.Service, log: cfg.Logger, tokens: tokens}
	s.table = s.routes()
	return s, nil
}

// ServeHTTP routes, authenticates what needs it, and recovers panics into
// a 500 in Qinling's shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	restguard.Serve(s.log, w, r, s.serve, func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errors.New("panic while serving the request"))
	})
}

func (s *Server) serve(rec http.ResponseWriter, r *http.Request) {
	rt, params := s.match(r.URL.Path)
	if rt == nil {
		s.writeError(rec, r, notFound(fmt.Sprintf("The resource could not be found: %s", r.URL.Path)))
		return
	}
	h, ok := rt.methods[r.Method]
	if !ok && r.Method == http.MethodHead {
		h, ok = rt.methods[http.MethodGet]
	}
	if !ok {
		rec.Header().Set("Allow", rt.allow())
		s.writeError(rec, r, &apiError{http.StatusMethodNotAllowed, fmt.Sprintf("Method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, rt.allow())})
		return
	}
	req := &request{Request: r, params: params}
	if !rt.public {
		id, err := s.authenticate(r)
		if err != nil {
			s.writeError(rec, r, err)
			return
		}
		req.caller = id
	}
	h(rec, req)
}
