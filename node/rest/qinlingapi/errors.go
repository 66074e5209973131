package qinlingapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"eventide/qinling"
)

// Sentinel errors.
var (
	// ErrInvalidConfig: New was given an invalid setting.
	ErrInvalidConfig = errors.New("qinlingapi: invalid config")
	// ErrMissingDependency: New was given no credentials, no service or no
	// token secret.
	ErrMissingDependency = errors.New("qinlingapi: missing dependency")
)

// internalMessage answers every 500: the cause, in Go's words, is logged,
// never sent.
const internalMessage = "Internal server error: the server logged the details"

// apiError is a refusal of the REST layer itself (bad JSON, no
// credentials, unknown path), with its HTTP status. The service's refusals
// are *qinling.Error; writeError maps both.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.msg) }

func badRequest(msg string) error   { return &apiError{http.StatusBadRequest, msg} }
func unauthorized(msg string) error { return &apiError{http.StatusUnauthorized, msg} }
func notFound(msg string) error     { return &apiError{http.StatusNotFound, msg} }
func tooLarge(msg string) error     { return &apiError{http.StatusRequestEntityTooLarge, msg} }

// errorStatus maps err to its HTTP status and client message.
func errorStatus(err error) (int, string) {
	var ae *apiError
	var qe *qinling.Error
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.As(err, &qe):
		if qe.Status >= 500 && qe.Status != http.StatusNotImplemented && qe.Status != http.StatusServiceUnavailable {
			return qe.Status, internalMessage
		}
		if qe.Msg == "" {
			return qe.Status, http.StatusText(qe.Status)
		}
		return qe.Status, qe.Msg
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: the limit is %d bytes", mb.Limit)
	}
	return http.StatusInternalServerError, internalMessage
}

// qinlingFault is Qinling's error body, as WSME renders a
// ClientSideError: {"faultcode": "Client", "faultstring": ..., "debuginfo":
// null}; python-qinlingclient shows faultstring.
type qinlingFault struct {
	FaultCode   string  `json:"faultcode"`
	FaultString string  `json:"faultstring"`
	DebugInfo   *string `json:"debuginfo"`
}

// keystoneFault is Keystone's error body, for the /v3 identity paths:
// keystoneauth shows error.message.
type keystoneFault struct {
	Error struct {
		Code    int    `json:"code"`
		Title   string `json:"title"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError is the one place errors become responses: the status from
// errorStatus, the body in Qinling's shape, or Keystone's under /v3.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := errorStatus(err)
	if status >= 500 && msg == internalMessage {
		s.log.Error("qinling request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		// Both ways in: a Keystone token (keystonemiddleware's challenge)
		// or HTTP basic auth.
		w.Header().Add("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", s.publicURL(r)+"/v3"))
		w.Header().Add("WWW-Authenticate", `Basic realm="Qinling"`)
	}
	if isIdentityPath(r.URL.Path) {
		var body keystoneFault
		body.Error.Code, body.Error.Title, body.Error.Message = status, http.StatusText(status), msg
		writeJSON(w, s.log, status, body)
		return
	}
	code := "Client"
	if status >= 500 {
		code = "Server"
	}
	writeJSON(w, s.log, status, qinlingFault{FaultCode: code, FaultString: msg})
}

// isIdentityPath reports whether path belongs to the Keystone API.
func isIdentityPath(path string) bool {
	return path == "/v3" || strings.HasPrefix(path, "/v3/")
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, log *slog.Logger, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		log.Error("cannot encode qinling response", "err", err)
		status = http.StatusInternalServerError
		body, _ = json.Marshal(qinlingFault{FaultCode: "Server", FaultString: internalMessage})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
