package eventing

import (
	"regexp"
	"strings"
)

// Wildcard is the bucket and scope of the global function scope.
const Wildcard = "*"

// maxNameLength bounds function names: Couchbase requires length < 100.
const maxNameLength = 100

// nameRegex is what function names and binding aliases must match.
var nameRegex = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`)

// Location identifies a function: its name within a function scope
// (bucket/scope, or the global scope "*"/"*"). Its String form is the key of
// the function's consensus record: "name" for the global scope and
// "bucket/scope/name" otherwise, as Couchbase renders locations.
type Location struct {
	Bucket string
	Scope  string
	Name   string
}

// GlobalLocation returns the location of name in the global scope.
func GlobalLocation(name string) Location {
	return Location{Bucket: Wildcard, Scope: Wildcard, Name: name}
}

// NewLocation builds a location from a name and the optional bucket/scope
// query parameters ("" or "*" for both means the global scope).
func NewLocation(name, bucket, scope string) (Location, error) {
	if bucket == "" {
		bucket = Wildcard
	}
	if scope == "" {
		scope = Wildcard
	}
	loc := Location{Bucket: bucket, Scope: scope, Name: name}
	if err := loc.validScope(); err != nil {
		return Location{}, err
	}
	return loc, nil
}

// ParseLocation reads a location string ("name" or "bucket/scope/name").
func ParseLocation(s string) Location {
	parts := strings.Split(s, "/")
	if len(parts) == 3 {
		return Location{Bucket: parts[0], Scope: parts[1], Name: parts[2]}
	}
	return GlobalLocation(s)
}

// IsGlobal reports whether the location is in the global function scope.
func (l Location) IsGlobal() bool {
	return (l.Bucket == Wildcard || l.Bucket == "") && (l.Scope == Wildcard || l.Scope == "")
}

// String renders the location as Couchbase does.
func (l Location) String() string {
	if l.IsGlobal() {
		return l.Name
	}
	return l.Bucket + "/" + l.Scope + "/" + l.Name
}

// FunctionScope returns the location's function scope.
func (l Location) FunctionScope() FunctionScope {
	if l.IsGlobal() {
		return FunctionScope{Bucket: Wildcard, Scope: Wildcard}
	}
	return FunctionScope{Bucket: l.Bucket, Scope: l.Scope}
}

// validScope checks that bucket and scope are both the wildcard or both
// concrete names.
func (l Location) validScope() error {
	bw, sw := l.Bucket == Wildcard, l.Scope == Wildcard
	if bw != sw {
		return newError(CodeInvalidRequest,
			"function scope must be both bucket and scope or the global scope \"*\"/\"*\", got bucket %q scope %q", l.Bucket, l.Scope)
	}
	if strings.Contains(l.Bucket, "/") || strings.Contains(l.Scope, "/") {
		return newError(CodeInvalidRequest, "function scope bucket %q / scope %q must not contain '/'", l.Bucket, l.Scope)
	}
	return nil
}

// ValidateName checks a function name: Couchbase's regex and length < 100.
// Couchbase reports a bad name as ERR_INVALID_CONFIG, with the fixed text
// its clients and tests match.
func ValidateName(name string) error {
	if name == "" {
		return newError(CodeInvalidConfig, "Function name should not be empty")
	}
	if len(name) >= maxNameLength {
		return newError(CodeInvalidConfig, "Function name %q is too long: its length must be less than %d", name, maxNameLength)
	}
	if !nameRegex.MatchString(name) {
		return newError(CodeInvalidConfig, "Function name can only start with characters in range A-Z, a-z, 0-9 and can only contain characters in range A-Z, a-z, 0-9, underscore and hyphen; got %q", name)
	}
	return nil
}
