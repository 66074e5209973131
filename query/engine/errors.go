package engine

import (
	"errors"
	"fmt"
	"time"

	"eventide/docstore"
	"eventide/query/parser"
)

// Couchbase query error codes the engine reports.
const (
	CodeReadonly          = 1000
	CodeTimeout           = 1080
	CodeSyntax            = 3000
	CodeSemantics         = 3100
	CodeNoIndex           = 4000
	CodeNoSuchPrepared    = 4040
	CodeIndexExists       = 4300
	CodeNoANSIJoinIndex   = 4330
	CodeInternal          = 5000
	CodeEvaluation        = 5010
	CodeDMLKey            = 5070
	CodeKeyspaceMissing   = 12003
	CodeScopeMissing      = 12021
	CodeDuplicateKey      = 12009
	CodeIndexNotFound     = 12016
	CodeCASMismatch       = 12033
	CodeFunctionMissing   = 10101
	CodeFunctionError     = 10109
	CodeArgumentsMismatch = 10104
	CodeNoFunctions       = 10100
)

func newErr(code int, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func errTimeout(d time.Duration) *Error {
	return newErr(CodeTimeout, "Timeout %v exceeded", d)
}

func errReadonly() *Error {
	return newErr(CodeReadonly, "The server or request is read-only and cannot accept this write statement.")
}

// fromParse turns a parser error into the response error.
func fromParse(err error) *Error {
	var se *parser.SyntaxError
	if errors.As(err, &se) {
		return &Error{Code: se.Code, Msg: se.Msg}
	}
	return newErr(CodeSyntax, "%v", err)
}

// asError converts any error met while running into a response error.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newErr(CodeEvaluation, "%v", err)
}

// keyspaceErr is Couchbase's error for a keyspace the store does not
// know: 12003 naming the bucket (with its cause) or the collection, 12021
// for a missing scope.
func keyspaceErr(ks docstore.Keyspace, err error) *Error {
	switch {
	case errors.Is(err, docstore.ErrScopeNotFound):
		return newErr(CodeScopeMissing, "Scope not found in CB datastore default:%s.%s", ks.Bucket, ks.Scope)
	case errors.Is(err, docstore.ErrCollectionNotFound):
		return newErr(CodeKeyspaceMissing, "Keyspace not found in CB datastore: default:%s.%s.%s", ks.Bucket, ks.Scope, ks.Collection)
	}
	return newErr(CodeKeyspaceMissing, "Keyspace not found in CB datastore: default:%s - cause: No bucket named %s", ks.Bucket, ks.Bucket)
}
