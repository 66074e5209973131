package parser

import (
	"fmt"
	"strings"
)

// Couchbase error codes the parser answers with.
const (
	// CodeSyntax is E_PARSE_SYNTAX: the text is not SQL++.
	CodeSyntax = 3000
	// CodeSemantic is Couchbase's code for a statement that parses but
	// breaks a rule of the language (an aggregate with DISTINCT *, a
	// parameter list mixing positional styles, ...).
	CodeSemantic = 3100
)

// SyntaxError is a statement the parser refuses. Msg is the text Couchbase
// answers with, e.g. "syntax error - line 1, column 10, near 'SELECT * ',
// at: FRO"; Line and Column (1-based) and Offset (bytes) say where.
type SyntaxError struct {
	Code   int
	Line   int
	Column int
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

// contextWidth is how much text before the error Couchbase quotes.
const contextWidth = 20

// nearText is the up to 20 characters of the error's line before the
// error, as Couchbase quotes them, "..." marking a cut.
func nearText(src string, off int) string {
	if off > len(src) {
		off = len(src)
	}
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	start := off - contextWidth
	prefix := "..."
	if start <= lineStart {
		start = lineStart
		prefix = ""
	}
	return prefix + src[start:off]
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
	near := nearText(src, t.pos.Offset)
	if strings.TrimSpace(near) != "" {
		e.Msg = fmt.Sprintf("%s - line %d, column %d, near '%s', at: %s", head, t.pos.Line, t.pos.Column, near, t.text)
	} else {
		e.Msg = fmt.Sprintf("%s - line %d, column %d, at: %s", head, t.pos.Line, t.pos.Column, t.text)
	}
	if t.kind == tKeyword {
		e.Msg += " (reserved word)"
	}
	return e
}

func semanticAt(t token, msg string) *SyntaxError {
	return &SyntaxError{Code: CodeSemantic, Line: t.pos.Line, Column: t.pos.Column, Offset: t.pos.Offset,
		Msg: fmt.Sprintf("%s - line %d, column %d", msg, t.pos.Line, t.pos.Column)}
}
