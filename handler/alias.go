package handler

import (
	"fmt"
	"slices"
	"strings"
)

// maxAliasLength bounds binding aliases.
const maxAliasLength = 64

// jsReservedWords may not be used as aliases: the words Couchbase rejects
// plus the literals and strict-mode restricted names, which cannot be
// declared either.
var jsReservedWords = []string{
	"abstract", "arguments", "await", "boolean", "break", "byte", "case", "catch", "char",
	"class", "const", "continue", "debugger", "default", "delete", "do", "double",
	"else", "enum", "eval", "export", "extends", "false", "final", "finally", "float", "for",
	"function", "goto", "if", "implements", "import", "in", "instanceof", "int",
	"interface", "let", "long", "native", "new", "null", "package", "private", "protected",
	"public", "return", "short", "static", "super", "switch", "synchronized", "this",
	"throw", "throws", "transient", "true", "try", "typeof", "var", "void", "volatile",
	"while", "with", "yield",
}

// n1qlReservedWords (a subset, compared case-insensitively) may not be used
// as aliases because inline N1QL statements start with them.
var n1qlReservedWords = []string{
	"alter", "build", "create", "delete", "drop", "execute", "explain", "from",
	"grant", "infer", "insert", "merge", "prepare", "rename", "select", "revoke",
	"update", "upsert",
}

// ValidateAlias checks that alias can name a binding: non-empty, at most 64
// bytes, a JavaScript identifier of ASCII letters, digits, '_' and '$' not
// starting with a digit, and neither a JavaScript nor a N1QL reserved word.
// Errors wrap ErrInvalidBinding and carry Couchbase's messages.
func ValidateAlias(alias string) error {
	if alias == "" {
		return fmt.Errorf("%w: alias name should not be empty", ErrInvalidBinding)
	}
	if len(alias) > maxAliasLength {
		return fmt.Errorf("%w: alias name length must be less than %d", ErrInvalidBinding, maxAliasLength+1)
	}
	for i := 0; i < len(alias); i++ {
		c := alias[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$'
		digit := c >= '0' && c <= '9'
		if !letter && !(digit && i > 0) {
			return fmt.Errorf("%w: alias %q must be a valid JavaScript variable", ErrInvalidBinding, alias)
		}
	}
	if slices.Contains(jsReservedWords, alias) {
		return fmt.Errorf("%w: alias %q must not be a JavaScript reserved word", ErrInvalidBinding, alias)
	}
	if slices.ContainsFunc(n1qlReservedWords, func(w string) bool { return strings.EqualFold(w, alias) }) {
		return fmt.Errorf("%w: alias %q must not be a N1QL reserved word", ErrInvalidBinding, alias)
	}
	return nil
}
