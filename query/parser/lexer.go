package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"eventide/query/ast"
)

type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // plain identifier (not a reserved word)
	tQIdent          // back-quoted identifier
	tKeyword         // reserved word; tok.kw holds it upper-cased
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
	end  int    // byte offset just past the token
	text string // source text of the token
	kw   string // reserved word, upper case
	val  string // identifier name or string contents
	ci   bool   // back-quoted identifier with the i suffix
	ival int64
	fval float64
}

// lexError is a scanning failure at pos.
type lexError struct {
	pos ast.Pos
	msg string
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
	toks := make([]token, 0, len(src)/4+2)
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
			p := l.pos()
			i := strings.Index(l.src[l.off+2:], "*/")
			if i < 0 {
				return &lexError{p, "unterminated block comment"}
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
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

// ops lists operators longest first so that the first match wins.
var ops = []string{"...", "==", "!=", "<>", "<=", ">=", "||",
	"=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}",
	",", ".", ":", ";"}

func (l *lexer) next() (token, *lexError) {
	start := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: start, end: l.off}, nil
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
		if ast.IsReserved(word) {
			t.kind = tKeyword
			t.kw = strings.ToUpper(word)
		} else {
			t.kind = tIdent
		}
		l.advance(i - l.off)
	case c >= '0' && c <= '9':
		if err := l.number(&t); err != nil {
			return t, err
		}
	case c == '"' || c == '\'':
		s, err := l.quoted(c)
		if err != nil {
			return t, err
		}
		t.kind, t.val = tString, s
	case c == '`':
		s, err := l.quoted('`')
		if err != nil {
			return t, err
		}
		t.kind, t.val = tQIdent, s
		if s == "" {
			return t, &lexError{start, "empty identifier"}
		}
		if l.off < len(l.src) && l.src[l.off] == 'i' &&
			(l.off+1 >= len(l.src) || !isIdentPart(l.src[l.off+1])) {
			t.ci = true
			l.advance(1)
		}
	case c == '$':
		i := l.off + 1
		for i < len(l.src) && isIdentPart(l.src[i]) {
			i++
		}
		name := l.src[l.off+1 : i]
		if name == "" {
			return t, &lexError{start, "invalid parameter"}
		}
		if name[0] >= '0' && name[0] <= '9' {
			n, err := strconv.Atoi(name)
			if err != nil || n < 1 {
				return t, &lexError{start, "invalid positional parameter $" + name}
			}
			t.kind, t.ival = tPosParam, int64(n)
		} else if isIdentStart(name[0]) {
			t.kind, t.val = tNamedParam, name
		} else {
			return t, &lexError{start, "invalid parameter $" + name}
		}
		l.advance(i - l.off)
	case c == '?':
		t.kind = tQuestion
		l.advance(1)
	default:
		rest := l.src[l.off:]
		for _, op := range ops {
			if strings.HasPrefix(rest, op) {
				t.kind = tOp
				t.text = op
				l.advance(len(op))
				break
			}
		}
		if t.kind != tOp {
			r, _ := utf8.DecodeRuneInString(rest)
			return t, &lexError{start, "illegal character " + strconv.QuoteRune(r)}
		}
	}
	t.end = l.off
	if t.text == "" {
		t.text = l.src[start.Offset:l.off]
	}
	return t, nil
}

func (l *lexer) number(t *token) *lexError {
	start := l.pos()
	i := l.off
	for i < len(l.src) && l.src[i] >= '0' && l.src[i] <= '9' {
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
		return &lexError{start, "invalid number " + strconv.Quote(l.src[l.off:i+1])}
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
		return &lexError{start, "number out of range " + text}
	}
	t.kind, t.fval = tFloat, f
	l.advance(i - l.off)
	return nil
}

// quoted reads a string or back-quoted identifier: JSON escapes, and the
// quote character doubled stands for itself.
func (l *lexer) quoted(q byte) (string, *lexError) {
	start := l.pos()
	i := l.off + 1
	var b []byte
	plainFrom := i
	for {
		if i >= len(l.src) {
			what := "unterminated quoted string"
			if q == '`' {
				what = "unterminated quoted identifier"
			}
			return "", &lexError{start, what}
		}
		c := l.src[i]
		if c == q {
			if i+1 < len(l.src) && l.src[i+1] == q {
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
			return "", &lexError{start, "unterminated quoted string"}
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
		case 'u':
			if i+4 > len(l.src) {
				return "", &lexError{start, "invalid \\u escape"}
			}
			n, err := strconv.ParseUint(l.src[i:i+4], 16, 32)
			if err != nil {
				return "", &lexError{start, "invalid \\u escape"}
			}
			i += 4
			r := rune(n)
			if utf8.RuneLen(r) < 0 || (r >= 0xD800 && r < 0xDC00) {
				// a surrogate pair is two \u escapes
				if r >= 0xD800 && r < 0xDC00 && i+6 <= len(l.src) && l.src[i] == '\\' && l.src[i+1] == 'u' {
					if lo, err := strconv.ParseUint(l.src[i+2:i+6], 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
						r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
						i += 6
					}
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			// \" \\ \/ \' \` and any other character stand for themselves
			b = append(b, e)
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
	return s, nil
}
