package syncgwapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/query/value"
)

// Sentinel errors.
var (
	// ErrInvalidConfig: New was given an invalid setting.
	ErrInvalidConfig = errors.New("syncgwapi: invalid config")
	// ErrMissingDependency: New was given no credentials or a nil
	// collaborator.
	ErrMissingDependency = errors.New("syncgwapi: missing dependency")
)

// Reasons Sync Gateway uses, kept verbatim so clients matching on them work.
const (
	reasonMissing      = "missing"
	reasonDeleted      = "deleted"
	reasonDocExists    = "Document exists"
	reasonRevConflict  = "Document revision conflict"
	reasonInvalidDocID = "Invalid doc ID"
	reasonInvalidRev   = "Invalid revision ID"
	reasonLoginReq     = "Login required"
	reasonInvalidLogin = "Invalid login"
	reasonUnknownURL   = "unknown URL"
	reasonEmptyDoc     = "Document body is empty"
	// reasonInternal answers every 500: the cause, in Go's words, is logged.
	reasonInternal = "Internal error: the server logged the details"
)

// httpError is an error with the HTTP status and the reason that Sync
// Gateway would report for it. Handlers return them; serve writes them as
// {"error": <name>, "reason": <reason>}.
type httpError struct {
	status int
	reason string
}

func (e *httpError) Error() string { return strconv.Itoa(e.status) + " " + e.reason }

// errorf builds an httpError.
func errorf(status int, format string, args ...any) *httpError {
	if len(args) == 0 {
		return &httpError{status: status, reason: format}
	}
	return &httpError{status: status, reason: fmt.Sprintf(format, args...)}
}

// errorName is Sync Gateway's "error" field for a status: CouchDB's names
// for 404 and 409, the HTTP status text otherwise.
func errorName(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return strconv.Itoa(status)
}

// appendErrorBody appends {"error":...,"reason":...}.
func appendErrorBody(dst []byte, status int, reason string) []byte {
	dst = append(dst, `{"error":`...)
	dst = value.AppendQuoted(dst, errorName(status))
	dst = append(dst, `,"reason":`...)
	dst = value.AppendQuoted(dst, reason)
	return append(dst, '}')
}

// keyspaceError maps a keyspace lookup failure to Sync Gateway's 404s:
// an unknown bucket is an unknown database, an unknown scope or collection
// an unknown keyspace. name is the keyspace as the client wrote it.
func keyspaceError(err error, bucket, name string) error {
	switch {
	case errors.Is(err, docstore.ErrBucketNotFound):
		return errorf(http.StatusNotFound, "no such database %q", bucket)
	case errors.Is(err, docstore.ErrScopeNotFound), errors.Is(err, docstore.ErrCollectionNotFound):
		return errorf(http.StatusNotFound, "keyspace %s not found", name)
	}
	return err
}

// writeFailure maps an error of a whole WriteDocs call (not of one
// mutation) to an HTTP error.
func writeFailure(err error) error {
	switch {
	case errors.Is(err, consensus.ErrNotLeader):
		return errorf(http.StatusServiceUnavailable, "this node cannot accept writes right now: the cluster has no leader; retry")
	case errors.Is(err, consensus.ErrClosed):
		return errorf(http.StatusServiceUnavailable, "the node is shutting down")
	case errors.Is(err, consensus.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "the request's documents are too large to replicate in one write; send fewer at a time")
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "write not confirmed in time; it may still be applied")
	case errors.Is(err, context.Canceled):
		return errorf(http.StatusServiceUnavailable, "write not confirmed: the request was canceled")
	}
	return err
}

// mutationError maps the error of one mutation to Sync Gateway's per-
// document error. Whether the client named a revision decides between
// "Document exists" (a create hit a live document) and "Document revision
// conflict" (the named revision is not the current one), as in Sync Gateway.
func mutationError(err error, m *docstore.Mutation, name string) *httpError {
	switch {
	case errors.Is(err, docstore.ErrConflict), errors.Is(err, docstore.ErrExists), errors.Is(err, docstore.ErrCASMismatch):
		if m.IfRev == "" {
			return errorf(http.StatusConflict, reasonDocExists)
		}
		return errorf(http.StatusConflict, reasonRevConflict)
	case errors.Is(err, docstore.ErrNotFound):
		if m.IfRev != "" {
			return errorf(http.StatusConflict, reasonRevConflict)
		}
		return errorf(http.StatusNotFound, reasonMissing)
	case errors.Is(err, docstore.ErrBucketNotFound):
		return errorf(http.StatusNotFound, "no such database %q", m.Keyspace.Bucket)
	case errors.Is(err, docstore.ErrScopeNotFound), errors.Is(err, docstore.ErrCollectionNotFound):
		return errorf(http.StatusNotFound, "keyspace %s not found", name)
	case errors.Is(err, docstore.ErrInvalid):
		return errorf(http.StatusBadRequest, "%s", docstore.InvalidReason(err))
	}
	return nil
}

// badJSON is the 400 for a request body that encoding/json refused. Its
// reason says where the body went wrong in the API's terms, never in Go's
// (no "json:", no Go type names, no "invalid character ...").
func badJSON(err error) *httpError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && strings.HasPrefix(syn.Error(), "unexpected end"):
		return errorf(http.StatusBadRequest, "Bad JSON: the request body ends in the middle of a JSON value")
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, "Bad JSON: the request body is not valid JSON: at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return errorf(http.StatusBadRequest, "Bad JSON: the request body must be %s", jsonKind(typ.Type))
	case errors.As(err, &typ):
		return errorf(http.StatusBadRequest, "Bad JSON: '%s' must be %s", typ.Field, jsonKind(typ.Type))
	}
	return errorf(http.StatusBadRequest, "Bad JSON: the request body is not valid JSON")
}

// jsonKind names the JSON value that decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Name() == "RawMessage" {
			return "a JSON value"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a JSON value"
}
