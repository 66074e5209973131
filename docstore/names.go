package docstore

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on names, keys and values, as in Couchbase Server.
const (
	// MaxBucketNameLen is the longest bucket name.
	MaxBucketNameLen = 100
	// MaxScopeNameLen is the longest scope or collection name.
	MaxScopeNameLen = 251
	// MaxKeyLen is the longest document key in bytes.
	MaxKeyLen = 250
	// MaxBodyLen is the largest document body in bytes (20 MiB).
	MaxBodyLen = 20 << 20
	// MaxRevHistory bounds Document.RevHistory.
	MaxRevHistory = 20
)

// Bucket types accepted in BucketSpec.Type.
const (
	BucketTypeMembase   = "membase" // a Couchbase bucket
	BucketTypeEphemeral = "ephemeral"
	BucketTypeMemcached = "memcached"
)

// ValidateBucketName applies Couchbase's bucket name rules: 1-100 of
// A-Z a-z 0-9 _ . - %, not starting with a dot, not a reserved name.
func ValidateBucketName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: bucket name cannot be empty", ErrInvalid)
	case len(name) > MaxBucketNameLen:
		return fmt.Errorf("%w: bucket name cannot exceed %d characters", ErrInvalid, MaxBucketNameLen)
	case name[0] == '.':
		return fmt.Errorf("%w: bucket name cannot start with dot", ErrInvalid)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isNameChar(c) && c != '.' {
			return fmt.Errorf("%w: bucket name %q can only contain characters in range A-Z, a-z, 0-9 as well as underscore, period, dash & percent", ErrInvalid, name)
		}
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "_users.couch.") || strings.HasPrefix(lower, "_replicator.couch.") {
		return fmt.Errorf("%w: bucket name %q is reserved for internal use", ErrInvalid, name)
	}
	return nil
}

// ValidateScopeName applies Couchbase's scope and collection name rules:
// 1-251 of A-Z a-z 0-9 _ - %, not starting with _ or % (names such as
// _default are reserved for the system). kind is "scope" or "collection".
func ValidateScopeName(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: %s name cannot be empty", ErrInvalid, kind)
	case len(name) > MaxScopeNameLen:
		return fmt.Errorf("%w: %s name cannot exceed %d characters", ErrInvalid, kind, MaxScopeNameLen)
	case name[0] == '_' || name[0] == '%':
		return fmt.Errorf("%w: %s name %q cannot start with _ or %% (reserved for system names)", ErrInvalid, kind, name)
	}
	for i := 0; i < len(name); i++ {
		if !isNameChar(name[i]) {
			return fmt.Errorf("%w: %s name %q can only contain characters A-Z, a-z, 0-9, _, - and %%", ErrInvalid, kind, name)
		}
	}
	return nil
}

// isNameChar is A-Z a-z 0-9 _ - %.
func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '%'
}

// validateKey checks a document key: 1-250 bytes of valid UTF-8.
func validateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: document key cannot be empty", ErrInvalid)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: document key is %d bytes, more than %d", ErrInvalid, len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: document key is not valid UTF-8", ErrInvalid)
	}
	return nil
}

// validateMutation checks the shape of m (not its preconditions).
func validateMutation(m *Mutation) error {
	if err := validateKey(m.Key); err != nil {
		return err
	}
	switch m.Op {
	case OpUpsert, OpInsert, OpReplace:
		if len(m.Body) > MaxBodyLen {
			return fmt.Errorf("%w: body of %q is %d bytes, more than %d", ErrInvalid, m.Key, len(m.Body), MaxBodyLen)
		}
		switch m.Datatype {
		case DatatypeJSON:
			if !validJSON(m.Body) {
				return fmt.Errorf("%w: body of %q is not valid JSON", ErrInvalid, m.Key)
			}
		case DatatypeBinary:
		default:
			return fmt.Errorf("%w: unknown datatype %d", ErrInvalid, m.Datatype)
		}
	case OpDelete, OpTouch:
	default:
		return fmt.Errorf("%w: unknown operation %d", ErrInvalid, m.Op)
	}
	for k, v := range m.Xattrs {
		if k == "" || k[0] == '_' || k[0] == '$' || len(k) > 16 || !utf8.ValidString(k) {
			return fmt.Errorf("%w: user xattr name %q must be 1-16 bytes and not start with _ or $", ErrInvalid, k)
		}
		if !validJSON(v) {
			return fmt.Errorf("%w: xattr %q of %q is not valid JSON", ErrInvalid, k, m.Key)
		}
	}
	return nil
}
