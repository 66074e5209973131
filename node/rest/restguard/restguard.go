// Package restguard is what every REST API of a node wraps its handlers
// in: a handler's panic becomes a logged 500 in the API's own error shape
// (unless a response was already started), and each request is logged at
// debug level with its status and duration.
package restguard

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// Serve runs serve for r; if it panics, internal writes the API's 500
// when nothing was written yet. http.ErrAbortHandler is passed on, as
// net/http expects.
func Serve(log *slog.Logger, w http.ResponseWriter, r *http.Request, serve, internal http.HandlerFunc) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if rec.status == 0 {
				internal(rec, r)
			}
		}
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	}()
	serve(rec, r)
}

// recorder remembers the status code written.
type recorder struct {
	http.ResponseWriter
	status int
}

func (s *recorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *recorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *recorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
