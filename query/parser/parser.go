package parser

import (
	"fmt"

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

// Parse parses one SQL++ statement (a trailing semicolon is allowed).
func Parse(stmt string) (s ast.Statement, err error) {
	p, err := newParser(stmt)
	if err != nil {
		return nil, err
	}
	defer p.recover(&err)
	s = p.statement()
	p.acceptOp(";")
	if p.peek().kind != tEOF {
		p.fail()
	}
	return s, nil
}

// ParseExpression parses one SQL++ expression, as index keys and inline
// function bodies are stored.
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
	toks, lerr := lex(src)
	if lerr != nil {
		t := token{kind: tOp, pos: lerr.pos, text: string(src[lerr.pos.Offset])}
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

func (p *parser) failAt(t token, msg string) {
	panic(bailout{semanticAt(t, msg)})
}

func (p *parser) isKw(kw string) bool {
	t := p.toks[p.i]
	return t.kind == tKeyword && t.kw == kw
}

func (p *parser) isKwAt(n int, kw string) bool {
	t := p.ahead(n)
	return t.kind == tKeyword && t.kw == kw
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

// name reads a name after a dot, where Couchbase also takes reserved words.
func (p *parser) name() (string, bool) {
	t := p.peek()
	switch t.kind {
	case tIdent, tQIdent, tKeyword:
		p.i++
		return t.val, t.ci
	}
	p.fail()
	return "", false
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		panic(bailout{semanticAt(p.peek(), "statement nested too deeply")})
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
