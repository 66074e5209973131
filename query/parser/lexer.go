package parser

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"eventide/query/ast"
)

type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // plain identifier (not a reserved word)
	tQIdent          // back-quoted identifier
	tKeyword         // reserved word; tok.val holds it upper-cased
	tString
	tInt
	tFloat
	tNamedParam // $name
	tPosParam   // $1
	tQuestion   // ?
	tOp         // punctuation and operators; tok.text holds it
)

type token struct {
	kind tokKind
	pos  ast.Pos
	text string // source text of the token
	val  string // identifier name, string contents, or upper-case keyword
	ci   bool   // back-quoted identifier with the i suffix
	ival int64
	fval float64
}

// kwd is the upper-case reserved word of a keyword token, else "".
func (t token) kwd() string {
	if t.kind == tKeyword {
		return t.val
	}
	return ""
}

// end is the byte offset just past the token.
func (t token) end() int { return t.pos.Offset + len(t.text) }

// lexError is a scanning failure at pos: msg says what (empty for a
// character no token starts with), text is the offending source text.
type lexError struct {
	pos   ast.Pos
	msg   string
	text  string
	fatal bool // a rule broken rather than bad syntax: no "syntax error" head
}

// scanError reports a bad quoted token starting at start: Couchbase quotes
// the rest of the input as the token.
func (l *lexer) scanError(start ast.Pos, msg string) *lexError {
	return &lexError{start, msg, l.src[start.Offset:], false}
}

type lexer struct {
	src  string
	off  int
	line int
	col  int // 1-based column of src[off]
}

// lex splits src into tokens, ending with tEOF.
func lex(src string) ([]token, *lexError) {
	l := &lexer{src: src, line: 1, col: 1}
	// about one token per three bytes of typical SQL++, so that the slice
	// rarely grows
	toks := make([]token, 0, len(src)/3+4)
	for {
		if err := l.skipSpace(); err != nil {
			return nil, err
		}
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func (l *lexer) pos() ast.Pos { return ast.Pos{Line: l.line, Column: l.col, Offset: l.off} }

// advance moves over n bytes, keeping line and column (in characters).
func (l *lexer) advance(n int) {
	end := l.off + n
	for l.off < end {
		c := l.src[l.off]
		if c == '\n' {
			l.line++
			l.col = 1
			l.off++
			continue
		}
		if c < utf8.RuneSelf {
			l.off++
		} else {
			_, sz := utf8.DecodeRuneInString(l.src[l.off:])
			l.off += sz
		}
		l.col++
	}
	if l.off > end {
		l.off = end
	}
}

func (l *lexer) skipSpace() *lexError {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.advance(1)
		case c == '-' && strings.HasPrefix(l.src[l.off:], "--"):
			i := strings.IndexByte(l.src[l.off:], '\n')
			if i < 0 {
				i = len(l.src) - l.off
			}
			l.advance(i)
		case c == '/' && strings.HasPrefix(l.src[l.off:], "/*"):
			i := strings.Index(l.src[l.off+2:], "*/")
			if i < 0 {
				// not a comment then: "/" and "*" go to the grammar
				return nil
			}
			l.advance(i + 4)
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}

// operator returns the operator s starts with (the longest), or "".
func operator(s string) string {
	two := ""
	if len(s) >= 2 {
		two = s[:2]
	}
	switch two {
	case "==", "!=", "<>", "<=", ">=", "||":
		return two
	case "..":
		if strings.HasPrefix(s, "...") {
			return "..."
		}
	}
	switch s[0] {
	case '=', '<', '>', '+', '-', '*', '/', '%', '^', '(', ')', '[', ']', '{', '}', ',', '.', ':', ';':
		return s[:1]
	}
	return ""
}

func (l *lexer) next() (token, *lexError) {
	start := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.off]
	var t token
	t.pos = start
	switch {
	case isIdentStart(c):
		i := l.off + 1
		for i < len(l.src) && isIdentPart(l.src[i]) {
			i++
		}
		word := l.src[l.off:i]
		t.text, t.val = word, word
		if kw, ok := ast.Reserved(word); ok {
			t.kind = tKeyword
			t.val = kw
		} else {
			t.kind = tIdent
		}
		l.advance(i - l.off)
	case c >= '0' && c <= '9':
		if err := l.number(&t); err != nil {
			return t, err
		}
	case c == '"' || c == '\'':
		s, msg := l.quoted(c)
		if msg != "" {
			return t, l.scanError(start, "invalid quoted string - "+msg)
		}
		t.kind, t.val = tString, s
	case c == '`':
		s, msg := l.quoted('`')
		ci := msg == "" && l.off < len(l.src) && l.src[l.off] == 'i' &&
			(l.off+1 >= len(l.src) || !isIdentPart(l.src[l.off+1]))
		if msg == "" && s == "" {
			msg = "invalid string"
		}
		if msg != "" {
			what := "invalid escaped identifier - "
			if ci {
				what = "invalid case insensitive identifier - "
			}
			return t, l.scanError(start, what+msg)
		}
		t.kind, t.val = tQIdent, s
		if ci {
			t.ci = true
			l.advance(1)
		}
	case (c == '$' || c == '@') && l.off+1 < len(l.src) && isIdentStart(l.src[l.off+1]):
		i := l.off + 2
		for i < len(l.src) && isIdentPart(l.src[i]) {
			i++
		}
		t.kind, t.val = tNamedParam, l.src[l.off+1:i]
		l.advance(i - l.off)
	case (c == '$' || c == '@') && l.off+1 < len(l.src) && l.src[l.off+1] >= '1' && l.src[l.off+1] <= '9':
		i := l.off + 2
		for i < len(l.src) && l.src[i] >= '0' && l.src[i] <= '9' {
			i++
		}
		n, err := strconv.ParseInt(l.src[l.off+1:i], 10, 32)
		if err != nil {
			return t, &lexError{start, "Positional parameter out of range: " + l.src[l.off:i], l.src[l.off:i], true}
		}
		t.kind, t.ival = tPosParam, n
		l.advance(i - l.off)
	case c == '?':
		t.kind = tQuestion
		l.advance(1)
	default:
		rest := l.src[l.off:]
		if op := operator(rest); op != "" {
			t.kind = tOp
			t.text = op
			l.advance(len(op))
		} else {
			// Couchbase hands unknown characters to the grammar, which
			// refuses them as a plain syntax error
			_, n := utf8.DecodeRuneInString(rest)
			return t, &lexError{start, "", rest[:n], false}
		}
	}
	if t.text == "" {
		t.text = l.src[start.Offset:l.off]
	}
	return t, nil
}

func (l *lexer) number(t *token) *lexError {
	start := l.pos()
	i := l.off + 1
	// as in Couchbase a number does not start with 0 unless it is 0:
	// 007 is three numbers (and a syntax error)
	for l.src[l.off] != '0' && i < len(l.src) && l.src[i] >= '0' && l.src[i] <= '9' {
		i++
	}
	isFloat := false
	if i+1 < len(l.src) && l.src[i] == '.' && l.src[i+1] >= '0' && l.src[i+1] <= '9' {
		isFloat = true
		i++
		for i < len(l.src) && l.src[i] >= '0' && l.src[i] <= '9' {
			i++
		}
	}
	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
			isFloat = true
			for j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
				j++
			}
			i = j
		}
	}
	if i < len(l.src) && isIdentStart(l.src[i]) {
		j := i
		for j < len(l.src) && isIdentPart(l.src[j]) {
			j++
		}
		return &lexError{start, "invalid number", l.src[l.off:j], false}
	}
	text := l.src[l.off:i]
	if !isFloat {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			t.kind, t.ival = tInt, n
			l.advance(i - l.off)
			return nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return &lexError{start, "invalid number", text, false}
	}
	t.kind, t.fval = tFloat, f
	l.advance(i - l.off)
	return nil
}

// quoted reads a string or back-quoted identifier the way Couchbase does:
// JSON escapes plus \' and \`, and inside '...' and `...` the quote
// doubled stands for itself (not inside "...", where "" ends the string).
func (l *lexer) quoted(q byte) (string, string) {
	i := l.off + 1
	var b []byte
	plainFrom := i
	for {
		if i >= len(l.src) {
			return "", "missing closing quote"
		}
		c := l.src[i]
		if c == q {
			if q != '"' && i+1 < len(l.src) && l.src[i+1] == q {
				b = append(b, l.src[plainFrom:i+1]...)
				i += 2
				plainFrom = i
				continue
			}
			break
		}
		if c != '\\' {
			i++
			continue
		}
		b = append(b, l.src[plainFrom:i]...)
		if i+1 >= len(l.src) {
			return "", "missing closing quote"
		}
		e := l.src[i+1]
		i += 2
		switch e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case '/', '\\', '"', '\'', '`':
			b = append(b, e)
		case 'u':
			r, n, ok := utf16Escape(l.src[i:])
			if !ok {
				return "", "invalid escape sequence"
			}
			i += n
			b = utf8.AppendRune(b, r)
		default:
			return "", "invalid escape sequence"
		}
		plainFrom = i
	}
	var s string
	if b == nil {
		s = l.src[l.off+1 : i]
	} else {
		s = string(append(b, l.src[plainFrom:i]...))
	}
	l.advance(i + 1 - l.off)
	return s, ""
}

// utf16Escape decodes the XXXX of \uXXXX (and a following \uXXXX when the
// first is a high surrogate), returning the rune and the bytes used.
func utf16Escape(s string) (rune, int, bool) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 4 {
			return 0, false
		}
		n, err := strconv.ParseUint(s[:4], 16, 32)
		return rune(n), err == nil
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(r) {
		return r, 4, true
	}
	if len(s) < 10 || s[4] != '\\' || s[5] != 'u' {
		return utf8.RuneError, 4, true
	}
	r2, ok := hex4(s[6:])
	if !ok {
		return 0, 0, false
	}
	return utf16.DecodeRune(r, r2), 10, true
}
