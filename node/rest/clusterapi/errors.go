package clusterapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"eventide/consensus"
	"eventide/docstore"
)

// Response bodies and the mapping of errors to them, in ns_server's shapes:
//   - validation errors: 400 {"errors": {"<field>": "<message>"}[, "summaries": {...}]}
//   - other failures:    <code> {"errors": {"_": "<message>"}}
//   - missing resource:  404 text "Requested resource not found.\r\n"
//   - wrong method:      405 text "Method Not Allowed"
//   - handler panic:     500 ["Unexpected server error, request logged."]

// notFoundBody is ns_server's reply_not_found body; gocb maps a 404 whose
// body contains "resource not found" to ErrBucketNotFound.
const notFoundBody = "Requested resource not found.\r\n"

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "Unexpected server error, request logged.")
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

func writeNotFound(w http.ResponseWriter) { writeText(w, http.StatusNotFound, notFoundBody) }

// writeEmpty replies with a status and no body (ns_server's reply(Req, Code)).
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// writeGlobalError is ns_server's reply_global_error.
func writeGlobalError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": map[string]string{"_": msg}})
}

// fieldErrors collects validation errors by field, keeping the first
// message per field.
type fieldErrors map[string]string

func (fe fieldErrors) add(field, msg string) {
	if _, ok := fe[field]; !ok {
		fe[field] = msg
	}
}

func writeFieldErrors(w http.ResponseWriter, fe fieldErrors, summaries any) {
	body := map[string]any{"errors": map[string]string(fe)}
	if summaries != nil {
		body["summaries"] = summaries
	}
	writeJSON(w, http.StatusBadRequest, body)
}

// writeUnavailable handles the errors that mean a replicated change could
// not be made now, whatever the operation. It reports whether it wrote.
func (h *Handler) writeUnavailable(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, consensus.ErrNotLeader):
		msg := "This node is not the cluster leader and cannot make changes; retry on the leader"
		if leader := h.cluster.RaftLeader(); leader != "" {
			msg += " (node " + leader + ")"
		}
		writeGlobalError(w, http.StatusServiceUnavailable, msg)
	case errors.Is(err, consensus.ErrClosed):
		writeGlobalError(w, http.StatusServiceUnavailable, "The node is shutting down")
	case errors.Is(err, context.DeadlineExceeded):
		writeGlobalError(w, http.StatusServiceUnavailable, "The operation timed out; it may still complete")
	case errors.Is(err, context.Canceled):
		writeGlobalError(w, http.StatusServiceUnavailable, "The request was canceled")
	default:
		return false
	}
	return true
}

// writeBucketError maps a failed bucket change (menelaus_web_buckets):
// summaries, if non-nil, accompany a validation error.
func (h *Handler) writeBucketError(w http.ResponseWriter, r *http.Request, err error, summaries any) {
	switch {
	case errors.Is(err, docstore.ErrBucketNotFound), errors.Is(err, docstore.ErrNotFound):
		writeNotFound(w)
	case errors.Is(err, docstore.ErrExists):
		writeFieldErrors(w, fieldErrors{"name": "Bucket with given name already exists"}, summaries)
	case errors.Is(err, docstore.ErrInvalid):
		writeFieldErrors(w, fieldErrors{"name": docstore.InvalidReason(err)}, summaries)
	case h.writeUnavailable(w, err):
	default:
		h.writeUnexpected(w, r, err)
	}
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

// writeCollectionsError maps a failed scope or collection change to
// ns_server's messages (menelaus_web_collections:get_err_code_msg).
func (h *Handler) writeCollectionsError(w http.ResponseWriter, r *http.Request, err error, bucket, scope, collection string) {
	missing := missingKeyspaceMessage(err, bucket, scope, collection)
	switch {
	case missing != "":
		writeGlobalError(w, http.StatusNotFound, missing)
	case errors.Is(err, docstore.ErrExists) && collection == "":
		writeGlobalError(w, http.StatusBadRequest, "Scope with name "+erlQuote(scope)+" already exists")
	case errors.Is(err, docstore.ErrExists):
		writeGlobalError(w, http.StatusBadRequest, "Collection with name "+erlQuote(collection)+" in scope "+erlQuote(scope)+" already exists")
	case errors.Is(err, docstore.ErrInvalid):
		writeGlobalError(w, http.StatusBadRequest, docstore.InvalidReason(err))
	case h.writeUnavailable(w, err):
	default:
		h.writeUnexpected(w, r, err)
	}
}

// writeUnexpected logs err and replies 500 in ns_server's global error shape.
func (h *Handler) writeUnexpected(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	// The error's text is Go's, not the API's: it stays in the log.
	writeGlobalError(w, http.StatusInternalServerError, "Unexpected server error, request logged.")
}

// erlQuote renders a name as Erlang's io_lib:format("~p") does for a
// string, which is how ns_server quotes names in its messages.
func erlQuote(s string) string { return strconv.Quote(s) }
