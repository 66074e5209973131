package eventingapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"eventide/eventing"
)

// statusHeader is the header Couchbase sets to the numeric result code on
// every response (0 on success).
const statusHeader = "status"

// errorBody is Couchbase's error shape: the 7.1+ fields (name, code,
// description, attributes) plus the 7.0 runtime_info, so old and new
// clients both find what they read.
type errorBody struct {
	Name        string      `json:"name"`
	Code        int         `json:"code"`
	Description string      `json:"description"`
	Attributes  []string    `json:"attributes"`
	RuntimeInfo runtimeInfo `json:"runtime_info"`
}

type runtimeInfo struct {
	Code int `json:"code"`
	Info any `json:"info"`
}

// okBody is the success envelope {"code":0,"info":...}.
type okBody struct {
	Code        int `json:"code"`
	Info        any `json:"info,omitempty"`
	WarningInfo any `json:"warning_info,omitempty"`
}

// marshal pretty-prints like Couchbase (MarshalIndent with one space).
func marshal(v any) ([]byte, error) {
	return json.MarshalIndent(v, "", " ")
}

// writeJSON writes v with the given HTTP status and result code.
func writeJSON(w http.ResponseWriter, log *slog.Logger, httpStatus, code int, v any) {
	body, err := marshal(v)
	if err != nil {
		log.Error("cannot encode response", "err", err)
		e := &eventing.Error{Code: eventing.CodeMarshalResp, Description: fmt.Sprintf("failed to marshal response: %v", err)}
		body, _ = marshal(newErrorBody(e))
		httpStatus, code = e.Code.HTTPStatus, e.Code.Number
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(statusHeader, strconv.Itoa(code))
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// writeValue writes a bare success payload (Couchbase's "description-only"
// responses).
func writeValue(w http.ResponseWriter, log *slog.Logger, v any) {
	writeJSON(w, log, http.StatusOK, 0, v)
}

// writeOK writes {"code":0,"info":info}.
func writeOK(w http.ResponseWriter, log *slog.Logger, info any) {
	writeJSON(w, log, http.StatusOK, 0, okBody{Info: info})
}

// writeText writes a raw text body.
func writeText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set(statusHeader, "0")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, text)
}

// newErrorBody renders an *eventing.Error.
func newErrorBody(e *eventing.Error) errorBody {
	return errorBody{
		Name:        e.Code.Name,
		Code:        e.Code.Number,
		Description: e.Description,
		Attributes:  e.Attributes(),
		RuntimeInfo: runtimeInfo{Code: e.Code.Number, Info: e.RuntimeInfo()},
	}
}

// writeError is the one place errors become responses: any error is
// converted to an *eventing.Error and written with its code's HTTP status,
// or the status a statusError names.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	e := eventing.AsError(err)
	httpStatus := e.Code.HTTPStatus
	var se *statusError
	if errors.As(err, &se) {
		httpStatus = se.status
	}
	if httpStatus >= 500 {
		log.Error("eventing request failed", "name", e.Code.Name, "description", e.Description, "err", e.Err)
	}
	writeJSON(w, log, httpStatus, e.Code.Number, newErrorBody(e))
}

// statusError answers an *eventing.Error with an HTTP status other than
// its code's (an unknown endpoint is ERR_INVALID_REQUEST, but 404).
type statusError struct {
	status int
	err    *eventing.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// resultBody renders one entry of a multi-function answer.
type resultBody struct {
	Code        int           `json:"code"`
	Function    string        `json:"function"`
	Name        string        `json:"name,omitempty"`
	Description string        `json:"description,omitempty"`
	Info        any           `json:"info,omitempty"`
	WarningInfo *storeWarning `json:"warning_info,omitempty"`
}

// storeWarning is the 7.x per-function success detail.
type storeWarning struct {
	Status   string   `json:"status"`
	Warnings []string `json:"warnings"`
}

// storeResults renders the outcome of a multi-function store.
func storeResults(results []eventing.Result) []resultBody {
	out := make([]resultBody, 0, len(results))
	for _, r := range results {
		if r.Err != nil {
			out = append(out, errorResult(r))
			continue
		}
		out = append(out, resultBody{Function: r.Function, WarningInfo: &storeWarning{Status: fmt.Sprintf("Stored function: '%s' in metakv", r.Function)}})
	}
	return out
}

// deleteResults renders the outcome of DELETE /api/v1/functions.
func deleteResults(results []eventing.Result) []resultBody {
	out := make([]resultBody, 0, len(results))
	for _, r := range results {
		if r.Err != nil {
			out = append(out, errorResult(r))
			continue
		}
		out = append(out, resultBody{Function: r.Function, Info: "Successfully deleted"})
	}
	return out
}

func errorResult(r eventing.Result) resultBody {
	return resultBody{
		Code:        r.Err.Code.Number,
		Function:    r.Function,
		Name:        r.Err.Code.Name,
		Description: r.Err.Description,
		Info:        r.Err.RuntimeInfo(),
	}
}

// readBody reads the request body within the configured limit.
func (a *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &eventing.Error{Code: eventing.CodeReadReq, Description: fmt.Sprintf("failed to read request body: it is larger than %d bytes", tooBig.Limit), Err: err}
		}
		return nil, &eventing.Error{Code: eventing.CodeReadReq, Description: "failed to read request body: the upload was interrupted or too slow", Err: err}
	}
	return body, nil
}
