package parser

import (
	"fmt"
	"strings"

	"eventide/query/ast"
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 500

type parser struct {
	src      string
	toks     []token
	i        int
	question int // ? parameters seen so far
	depth    int
}

// bailout carries a *SyntaxError up the recursion to Parse.
type bailout struct{ err *SyntaxError }

// Parse parses one SQL++ statement (trailing semicolons are allowed).
// Like Couchbase it first trims surrounding white space, and positions
// count in the trimmed text.
func Parse(stmt string) (s ast.Statement, err error) {
	p, err := newParser(stmt)
	if err != nil {
		return nil, err
	}
	defer p.recover(&err)
	s = p.statement()
	for p.acceptOp(";") {
	}
	if p.peek().kind != tEOF {
		p.fail()
	}
	return s, nil
}

// ParseExpression parses one SQL++ expression, as index keys and inline
// function bodies are stored. White space is trimmed as in Parse.
func ParseExpression(text string) (e ast.Expr, err error) {
	p, err := newParser(text)
	if err != nil {
		return nil, err
	}
	defer p.recover(&err)
	e = p.expr()
	if p.peek().kind != tEOF {
		p.fail()
	}
	return e, nil
}

func newParser(src string) (*parser, error) {
	src = strings.TrimSpace(src)
	toks, lerr := lex(src)
	if lerr != nil {
		if lerr.fatal {
			return nil, fatalAt(lerr.pos, lerr.msg)
		}
		t := token{kind: tOp, pos: lerr.pos, text: lerr.text}
		return nil, syntaxAt(src, t, lerr.msg)
	}
	return &parser{src: src, toks: toks}, nil
}

func (p *parser) recover(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if b, ok := r.(bailout); ok {
		*err = b.err
		return
	}
	// A bug in the parser must not take the query service down; Couchbase
	// answers the same way.
	t := p.peek()
	*err = &SyntaxError{Code: CodeSyntax, Line: t.pos.Line, Column: t.pos.Column, Offset: t.pos.Offset,
		Msg: fmt.Sprintf("Error while parsing: %v", r)}
}

func (p *parser) peek() token { return p.toks[p.i] }

// ahead returns the token n places after the current one (EOF past the end).
func (p *parser) ahead(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail() {
	panic(bailout{syntaxAt(p.src, p.peek(), "")})
}

// failAt stops with a rule the statement breaks, in Couchbase's form
// "msg (near line L, column C)".
func (p *parser) failAt(t token, msg string) {
	panic(bailout{fatalAt(t.pos, msg)})
}

// failCode stops with one of Couchbase's semantic errors, whose messages
// carry no position.
func (p *parser) failCode(t token, code int, msg string) {
	panic(bailout{&SyntaxError{Code: code, Line: t.pos.Line, Column: t.pos.Column, Offset: t.pos.Offset, Msg: msg}})
}

func (p *parser) isKw(kw string) bool {
	t := p.toks[p.i]
	return t.kind == tKeyword && t.kwd() == kw
}

func (p *parser) isKwAt(n int, kw string) bool {
	t := p.ahead(n)
	return t.kind == tKeyword && t.kwd() == kw
}

func (p *parser) isOp(op string) bool {
	t := p.toks[p.i]
	return t.kind == tOp && t.text == op
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) token {
	if !p.isKw(kw) {
		p.fail()
	}
	return p.next()
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) token {
	if !p.isOp(op) {
		p.fail()
	}
	return p.next()
}

func (p *parser) isIdent() bool {
	k := p.peek().kind
	return k == tIdent || k == tQIdent
}

// ident reads an identifier: plain, or back-quoted (which may be a
// reserved word).
func (p *parser) ident() string {
	if !p.isIdent() {
		p.fail()
	}
	return p.next().val
}

// name reads a field name after a dot; a reserved word must be
// back-quoted there too.
func (p *parser) name() (string, bool) {
	t := p.peek()
	if t.kind == tIdent || t.kind == tQIdent {
		p.i++
		return t.val, t.ci
	}
	p.fail()
	return "", false
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		panic(bailout{fatalAt(p.peek().pos, "Expression nested too deeply")})
	}
}

func (p *parser) leave() { p.depth-- }

// optAlias reads [AS] alias.
func (p *parser) optAlias() string {
	if p.acceptKw("AS") {
		return p.ident()
	}
	if p.isIdent() {
		return p.ident()
	}
	return ""
}
