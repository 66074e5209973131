package library

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Name limits. Couchbase documents the characters of a library name, not
// its length; these bound what a record ID and a URL can hold.
const (
	maxLibraryName  = 100
	maxFunctionName = 100
	maxBucketName   = 100 // as Couchbase's bucket names
	maxScopeName    = 251 // as Couchbase's scope names
)

// invalidLibraryName is Couchbase's own answer, word for word (trailing
// space included), to a library name it refuses.
const invalidLibraryName = "Library name can start with characters only in range A-Z, a-z, 0-9 and can contain characters only in range A-Z, a-z, 0-9, underscore and hyphen "

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkLibraryName applies Couchbase's rule: a letter or digit, then
// letters, digits, underscores and hyphens.
func checkLibraryName(name string) error {
	if name == "" || len(name) > maxLibraryName || !isAlnum(name[0]) {
		return &Error{Kind: ErrInvalidName, Message: invalidLibraryName}
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' && c != '-' {
			return &Error{Kind: ErrInvalidName, Message: invalidLibraryName}
		}
	}
	return nil
}

// checkFunctionName requires a JavaScript identifier (ASCII): the object's
// name is the name of the JavaScript function SQL++ calls.
func checkFunctionName(name string) error {
	ok := name != "" && len(name) <= maxFunctionName
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || i > 0 && c >= '0' && c <= '9'
	}
	if !ok {
		return errorf(ErrInvalidName, "Function name %q is not a JavaScript identifier: it must start with a letter, underscore or dollar sign and contain only letters, digits, underscores and dollar signs", truncate(name))
	}
	return nil
}

// checkScope validates a scoped library's bucket and scope with
// Couchbase's naming rules; the zero Scope (global) is valid.
func checkScope(sc Scope) error {
	switch {
	case sc.Bucket == "" && sc.Scope == "":
		return nil
	case sc.Bucket == "" || sc.Scope == "":
		return errorf(ErrInvalid, "Both bucket and scope must be given for a scoped library, or neither for a global one")
	}
	if len(sc.Bucket) > maxBucketName || !validChars(sc.Bucket, "._%-") {
		return errorf(ErrInvalidName, "Invalid bucket name %q", truncate(sc.Bucket))
	}
	if len(sc.Scope) > maxScopeName || !validChars(sc.Scope, "_%-") ||
		(sc.Scope[0] == '_' || sc.Scope[0] == '%') && sc.Scope != "_default" {
		return errorf(ErrInvalidName, "Invalid scope name %q", truncate(sc.Scope))
	}
	return nil
}

func validChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && !strings.ContainsRune(extra, rune(s[i])) {
			return false
		}
	}
	return true
}

// truncate keeps an echoed name short.
func truncate(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// newFunctionID returns a random id in the seed's form
// "d8:91:45:37:79:75:eb:15". The proposer draws it; the state machine
// only stores it.
func newFunctionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return formatID(b[:])
}

func formatID(b []byte) string {
	h := hex.EncodeToString(b[:8])
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// validID reports whether id has the form xx:xx:xx:xx:xx:xx:xx:xx (hex).
func validID(id string) bool {
	if len(id) != 23 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
