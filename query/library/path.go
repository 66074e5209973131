package library

import (
	"errors"
	"strings"
)

// ErrInvalidPath: the library path of a CREATE FUNCTION ... AT "path" is
// not one Couchbase accepts (its error 10114, E_LIBRARY_PATH_ERROR).
var ErrInvalidPath = errors.New("library: invalid library path")

// ResolvePath resolves the library path of a JavaScript UDF (CREATE
// FUNCTION ... LANGUAGE JAVASCRIPT AS "fn" AT "path") defined in scope
// fnScope (the zero Scope for a global function) to the library's scope
// and name, as Couchbase does: "lib" is the global library lib, whatever
// the function's scope; "./lib" is the library lib of the function's own
// scope; "bucket/scope/lib" names a scoped library, and must be the
// function's own scope. Anything else (an absolute path, another scope,
// deeper nesting) is ErrInvalidPath. The name itself is not validated
// here: a path to a library that cannot exist resolves, and is not found.
func ResolvePath(fnScope Scope, path string) (Scope, string, error) {
	switch {
	case path != "" && !strings.Contains(path, "/"):
		return Scope{}, path, nil
	case strings.HasPrefix(path, "./") && len(path) > 2 && !strings.Contains(path[2:], "/"):
		return fnScope, path[2:], nil
	case !fnScope.IsGlobal():
		prefix := fnScope.Bucket + "/" + fnScope.Scope + "/"
		if name, ok := strings.CutPrefix(path, prefix); ok && name != "" && !strings.Contains(name, "/") {
			return fnScope, name, nil
		}
	}
	return Scope{}, "", &Error{Kind: ErrInvalidPath, Message: "Invalid javascript library path: " + path +
		". Use a root level path, the same path as the function scope, or a local path ('./library')"}
}
