package parser

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"eventide/query/ast"
)

// Couchbase error codes the parser answers with.
const (
	// CodeSyntax is E_PARSE_SYNTAX: the text is not SQL++ (also a rule
	// the grammar itself enforces, such as an object member with no name).
	CodeSyntax = 3000
	// CodeJoinNoJoinHint is E_JOIN_NEST_NO_JOIN_HINT: USE HASH/NL on the
	// right of a lookup (ON KEYS) join or nest.
	CodeJoinNoJoinHint = 3110
	// CodeJoinNoUseKeys is E_JOIN_NEST_NO_USE_KEYS: USE KEYS on the right
	// of a join or nest.
	CodeJoinNoUseKeys = 3120
	// CodeJoinNoUseIndex is E_JOIN_NEST_NO_USE_INDEX: USE INDEX on the
	// right of a lookup join or nest.
	CodeJoinNoUseIndex = 3130
	// CodeMergeInsertNoKey is E_MERGE_INSERT_NO_KEY: a lookup MERGE whose
	// INSERT names a key.
	CodeMergeInsertNoKey = 3150
	// CodeMergeInsertMissingKey is E_MERGE_INSERT_MISSING_KEY: an ANSI
	// MERGE whose INSERT names no key.
	CodeMergeInsertMissingKey = 3160
	// CodeMixedJoin is E_MIXED_JOIN: ANSI and lookup joins in one FROM.
	CodeMixedJoin = 3200
)

// SyntaxError is a statement the parser refuses, with Couchbase's code and
// message: for a syntax error "syntax error - line 1, column 10, near
// 'SELECT * ', at: FRO"; for a broken rule "... (near line 1, column 9)";
// for a semantic error (codes 31xx, 3200) Couchbase's message alone. Line
// and Column (1-based, in characters) and Offset (bytes) say where, in the
// statement with surrounding white space removed as Couchbase counts.
type SyntaxError struct {
	Code   int
	Line   int
	Column int
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

// contextChars is how many characters before the error Couchbase quotes.
const contextChars = 20

// nearText is the text Couchbase quotes before an error at off: up to 20
// characters of the error's line, starting at a non-space character, with
// "..." in front unless that character starts the line.
func nearText(src string, off int) string {
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	var starts []int
	for i := lineStart; i < off; {
		_, n := utf8.DecodeRuneInString(src[i:])
		starts = append(starts, i)
		i += n
	}
	if len(starts) > contextChars {
		starts = starts[len(starts)-contextChars:]
	}
	for _, s := range starts {
		r, _ := utf8.DecodeRuneInString(src[s:])
		if unicode.IsSpace(r) {
			continue
		}
		if s == lineStart {
			return src[s:off]
		}
		return "..." + src[s:off]
	}
	return ""
}

func syntaxAt(src string, t token, detail string) *SyntaxError {
	e := &SyntaxError{Code: CodeSyntax, Line: t.pos.Line, Column: t.pos.Column, Offset: t.pos.Offset}
	head := "syntax error"
	if detail != "" {
		head += ": " + detail
	}
	if t.kind == tEOF {
		e.Msg = head + " - at end of input"
		return e
	}
	if near := nearText(src, t.pos.Offset); near != "" {
		e.Msg = fmt.Sprintf("%s - line %d, column %d, near '%s', at: %s", head, t.pos.Line, t.pos.Column, near, t.text)
	} else {
		e.Msg = fmt.Sprintf("%s - line %d, column %d, at: %s", head, t.pos.Line, t.pos.Column, t.text)
	}
	if t.kind == tKeyword {
		e.Msg += " (reserved word)"
	}
	return e
}

// fatalAt is Couchbase's form for a rule broken at pos: the message with
// " (near line L, column C)" before any final full stop.
func fatalAt(pos ast.Pos, msg string) *SyntaxError {
	ctx := fmt.Sprintf(" (near line %d, column %d)", pos.Line, pos.Column)
	if strings.HasSuffix(msg, ".") {
		msg = msg[:len(msg)-1] + ctx + "."
	} else {
		msg += ctx
	}
	return &SyntaxError{Code: CodeSyntax, Line: pos.Line, Column: pos.Column, Offset: pos.Offset, Msg: msg}
}
