package clusterapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"eventide/consensus"
	"eventide/docstore"
)

// Error answers and the mapping of errors to them, in ns_server's shapes
// (they differ by ns_server module; each constructor below names its own):
//   - validation errors: 400 {"errors": {"<field>": "<message>"}[, "summaries": {...}]}
//   - other failures:    <code> {"errors": {"_": "<message>"}}
//   - documents:         <code> {"error": "<code>", "reason": "<message>"}
//   - missing resource:  404 text "Requested resource not found.\r\n"
//   - wrong method:      405 text "Method Not Allowed"
//   - no credentials:    401, no body
//   - handler panic:     500 ["Unexpected server error, request logged."]
// Handlers build an *apiError (or pass any other error, which is
// unexpected) and writeError writes it: nothing else writes an error.

// notFoundBody is ns_server's reply_not_found body; gocb maps a 404 whose
// body contains "resource not found" to ErrBucketNotFound.
const notFoundBody = "Requested resource not found.\r\n"

// unexpectedMessage answers every unexpected failure: the error's text is
// Go's, not the API's, and stays in the log.
const unexpectedMessage = "Unexpected server error, request logged."

// bodyKind is how an apiError's body is written.
type bodyKind int

const (
	bodyJSON  bodyKind = iota // json, with Content-Length
	bodyText                  // text/plain, with Content-Length
	bodyEmpty                 // Content-Length: 0 (ns_server's reply(Req, Code))
	bodyNone                  // the status alone
)

// apiError is an error answer: its status and its body in one of
// ns_server's shapes. cause, if set, is an unexpected failure that
// writeError logs.
type apiError struct {
	status int
	kind   bodyKind
	json   any
	text   string
	cause  error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("clusterapi: %d: %v", e.status, e.cause)
	}
	return fmt.Sprintf("clusterapi: %d %s", e.status, http.StatusText(e.status))
}

func (e *apiError) Unwrap() error { return e.cause }

// globalError is ns_server's reply_global_error.
func globalError(status int, msg string) *apiError {
	return &apiError{status: status, json: map[string]any{"errors": map[string]string{"_": msg}}}
}

// fieldErrors collects validation errors by field, keeping the first
// message per field.
type fieldErrors map[string]string

func (fe fieldErrors) add(field, msg string) {
	if _, ok := fe[field]; !ok {
		fe[field] = msg
	}
}

// validationError is the 400 of a form that failed validation; summaries,
// if non-nil, accompany it (menelaus_web_buckets).
func validationError(fe fieldErrors, summaries any) *apiError {
	body := map[string]any{"errors": map[string]string(fe)}
	if summaries != nil {
		body["summaries"] = summaries
	}
	return &apiError{status: http.StatusBadRequest, json: body}
}

// crudError is menelaus_web_crud's {"error": code, "reason": reason}.
func crudError(status int, code, reason string) *apiError {
	return &apiError{status: status, json: map[string]string{"error": code, "reason": reason}}
}

// badRequest is menelaus_web_crud's 400 bad_request.
func badRequest(reason string) *apiError {
	return crudError(http.StatusBadRequest, "bad_request", reason)
}

// textError is a text/plain answer.
func textError(status int, msg string) *apiError {
	return &apiError{status: status, kind: bodyText, text: msg}
}

// notFound is ns_server's reply_not_found.
func notFound() *apiError { return textError(http.StatusNotFound, notFoundBody) }

// unexpected is the 500 of an unexpected failure, in the global error
// shape; writeError logs err.
func unexpected(err error) *apiError {
	e := globalError(http.StatusInternalServerError, unexpectedMessage)
	e.cause = err
	return e
}

// writeError writes err: an *apiError as it says, anything else as
// unexpected.
func (h *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = unexpected(err)
	}
	if e.cause != nil {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", e.cause)
	}
	switch e.kind {
	case bodyJSON:
		writeJSON(w, e.status, e.json)
	case bodyText:
		writeText(w, e.status, e.text)
	case bodyEmpty:
		writeEmpty(w, e.status)
	case bodyNone:
		w.WriteHeader(e.status)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, unexpectedMessage)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

// writeEmpty replies with a status and no body (ns_server's reply(Req, Code)).
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// unavailable maps the errors that mean a replicated change could not be
// made now, whatever the operation; nil for any other error.
func (h *Server) unavailable(err error) *apiError {
	switch {
	case errors.Is(err, consensus.ErrNotLeader):
		msg := "This node is not the cluster leader and cannot make changes; retry on the leader"
		if leader := h.cluster.RaftLeader(); leader != "" {
			msg += " (node " + leader + ")"
		}
		return globalError(http.StatusServiceUnavailable, msg)
	case errors.Is(err, consensus.ErrClosed):
		return globalError(http.StatusServiceUnavailable, "The node is shutting down")
	case errors.Is(err, context.DeadlineExceeded):
		return globalError(http.StatusServiceUnavailable, "The operation timed out; it may still complete")
	case errors.Is(err, context.Canceled):
		return globalError(http.StatusServiceUnavailable, "The request was canceled")
	}
	return nil
}

// bucketError maps a failed bucket change (menelaus_web_buckets):
// summaries, if non-nil, accompany a validation error.
func (h *Server) bucketError(err error, summaries any) error {
	switch {
	case errors.Is(err, docstore.ErrBucketNotFound), errors.Is(err, docstore.ErrNotFound):
		return notFound()
	case errors.Is(err, docstore.ErrExists):
		return validationError(fieldErrors{"name": "Bucket with given name already exists"}, summaries)
	case errors.Is(err, docstore.ErrInvalid):
		return validationError(fieldErrors{"name": docstore.InvalidReason(err)}, summaries)
	}
	if e := h.unavailable(err); e != nil {
		return e
	}
	return err
}

// missingKeyspaceMessage is ns_server's message for dcp's bucket, scope or
// collection not-found error (menelaus_web_collections:get_err_code_msg),
// "" for any other error.
func missingKeyspaceMessage(err error, bucket, scope, collection string) string {
	switch {
	case errors.Is(err, docstore.ErrBucketNotFound):
		return "Bucket with name " + erlQuote(bucket) + " not found"
	case errors.Is(err, docstore.ErrScopeNotFound):
		return "Scope with name " + erlQuote(scope) + " is not found"
	case errors.Is(err, docstore.ErrCollectionNotFound):
		return "Collection with name " + erlQuote(collection) + " in scope " + erlQuote(scope) + " is not found"
	}
	return ""
}

// collectionsError maps a failed scope or collection change to
// ns_server's messages (menelaus_web_collections:get_err_code_msg).
func (h *Server) collectionsError(err error, bucket, scope, collection string) error {
	missing := missingKeyspaceMessage(err, bucket, scope, collection)
	switch {
	case missing != "":
		return globalError(http.StatusNotFound, missing)
	case errors.Is(err, docstore.ErrExists) && collection == "":
		return globalError(http.StatusBadRequest, "Scope with name "+erlQuote(scope)+" already exists")
	case errors.Is(err, docstore.ErrExists):
		return globalError(http.StatusBadRequest, "Collection with name "+erlQuote(collection)+" in scope "+erlQuote(scope)+" already exists")
	case errors.Is(err, docstore.ErrInvalid):
		return globalError(http.StatusBadRequest, docstore.InvalidReason(err))
	}
	if e := h.unavailable(err); e != nil {
		return e
	}
	return err
}

// erlQuote renders a name as Erlang's io_lib:format("~p") does for a
// string, which is how ns_server quotes names in its messages.
func erlQuote(s string) string { return strconv.Quote(s) }
