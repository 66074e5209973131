package udf

import (
	"net/url"
	"slices"
	"unicode/utf8"

	"eventide/query/engine"
	"eventide/query/library"
)

// defaultNamespace is the only namespace there is.
const defaultNamespace = "default"

// maxNameBytes bounds a bucket, scope, function or parameter name.
const maxNameBytes = 251

// normalize fills in the default namespace and checks a function name: a
// known namespace, both or neither of bucket and scope, names that are
// not empty and not too long.
func normalize(n engine.FunctionName) (engine.FunctionName, error) {
	if n.Namespace == "" {
		n.Namespace = defaultNamespace
	}
	invalid := func() error {
		return newError(ErrInvalidName, codeInvalidName, nil, "Invalid function name '%s'", displayName(n))
	}
	if n.Namespace != defaultNamespace || !validName(n.Name) || (n.Bucket == "") != (n.Scope == "") {
		return n, invalid()
	}
	if n.Bucket != "" && (!validName(n.Bucket) || !validName(n.Scope)) {
		return n, invalid()
	}
	return n, nil
}

func validName(s string) bool {
	return s != "" && len(s) <= maxNameBytes && utf8.ValidString(s)
}

// isGlobal reports whether n names a global function.
func isGlobal(n engine.FunctionName) bool { return n.Bucket == "" }

// displayName is the full name as Couchbase prints it:
// "default:f" or "default:b.s.f".
func displayName(n engine.FunctionName) string {
	ns := n.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	if n.Bucket == "" {
		return ns + ":" + n.Name
	}
	return ns + ":" + n.Bucket + "." + n.Scope + "." + n.Name
}

// recordID is a function's record ID: the escaped name of a global
// function, "bucket/scope/name" escaped for a scoped one, so that no two
// names share an ID.
func recordID(n engine.FunctionName) string {
	if isGlobal(n) {
		return url.PathEscape(n.Name)
	}
	return url.PathEscape(n.Bucket) + "/" + url.PathEscape(n.Scope) + "/" + url.PathEscape(n.Name)
}

// scopeOf is the library scope of a function: global or its bucket's scope.
func scopeOf(n engine.FunctionName) library.Scope {
	return library.Scope{Bucket: n.Bucket, Scope: n.Scope}
}

// compareNames orders functions: global ones first, then by bucket,
// scope and name.
func compareNames(a, b engine.FunctionName) int {
	return slices.Compare([]string{a.Bucket, a.Scope, a.Name}, []string{b.Bucket, b.Scope, b.Name})
}
