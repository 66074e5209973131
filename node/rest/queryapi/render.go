package queryapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"eventide/query/library"
)

// statusOK is the body of a successful write, byte for byte Couchbase's.
const statusOK = `{"status": "OK"}`

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// writeText writes a plain-text answer: Couchbase's library APIs answer
// errors with the bare message.
func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode response", "err", err)
		writeText(w, http.StatusInternalServerError, "Internal error while encoding the response")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// writeResult answers a write: {"status": "OK"}, or the error.
func (s *Server) writeResult(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(statusOK))
}

// writeError maps the service's errors to status codes, in one place; the
// body is the error's message. Anything else is an internal error, logged
// and not shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, library.ErrInvalidName), errors.Is(err, library.ErrInvalid),
		errors.Is(err, library.ErrNameMismatch), errors.Is(err, library.ErrCompile):
		status = http.StatusBadRequest
	case errors.Is(err, library.ErrNotFound), errors.Is(err, library.ErrFunctionNotFound),
		errors.Is(err, library.ErrScopeNotFound):
		status = http.StatusNotFound
	case errors.Is(err, library.ErrTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, library.ErrConflict):
		status = http.StatusConflict
	}
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("library request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "Internal error while serving the request"
	}
	writeText(w, status, msg)
}
