package parser

import (
	"eventide/query/ast"
)

// Operator precedence, lowest first, as Couchbase's grammar has it. Each
// comparison has a level of its own and does not associate: a = b < c is
// a = (b < c), and a = b = c is an error.
const (
	precOr = iota + 1
	precAnd
	precNot // prefix NOT
	precEq  // = == != <>
	precRel // < <= > >=
	precLike
	precBetween
	precIn     // IN, WITHIN and their NOT forms
	precExists // prefix EXISTS
	precIs     // postfix IS [NOT] NULL|MISSING|VALUED|KNOWN|UNKNOWN
	precFrom   // IS [NOT] DISTINCT FROM
	precConcat
	precAdd
	precMul
)

// infix describes the operator at the current token: its level, whether
// it associates left, and how many tokens it takes (NOT LIKE is two).
type infix struct {
	prec  int
	left  bool
	width int
}

func (p *parser) infixAt() (infix, bool) {
	t := p.peek()
	switch t.kind {
	case tOp:
		switch t.text {
		case "=", "==", "!=", "<>":
			return infix{precEq, false, 1}, true
		case "<", "<=", ">", ">=":
			return infix{precRel, false, 1}, true
		case "||":
			return infix{precConcat, true, 1}, true
		case "+", "-":
			return infix{precAdd, true, 1}, true
		case "*", "/", "%", "^":
			return infix{precMul, true, 1}, true
		}
	case tKeyword:
		switch t.kwd() {
		case "OR":
			return infix{precOr, true, 1}, true
		case "AND":
			return infix{precAnd, true, 1}, true
		case "LIKE":
			return infix{precLike, false, 1}, true
		case "BETWEEN":
			return infix{precBetween, false, 1}, true
		case "IN", "WITHIN":
			return infix{precIn, false, 1}, true
		case "IS":
			if p.isKwAt(1, "DISTINCT") || (p.isKwAt(1, "NOT") && p.isKwAt(2, "DISTINCT")) {
				return infix{precFrom, true, 1}, true
			}
			return infix{precIs, false, 1}, true
		case "NOT":
			switch p.ahead(1).kwd() {
			case "LIKE":
				return infix{precLike, false, 2}, true
			case "BETWEEN":
				return infix{precBetween, false, 2}, true
			case "IN", "WITHIN":
				return infix{precIn, false, 2}, true
			}
		}
	}
	return infix{}, false
}

func (p *parser) expr() ast.Expr {
	return p.binary(precOr)
}

// binary parses an expression whose operators all bind at least as
// tightly as minPrec (precedence climbing).
func (p *parser) binary(minPrec int) ast.Expr {
	p.enter()
	defer p.leave()
	left := p.prefix()
	for {
		op, ok := p.infixAt()
		if !ok || op.prec < minPrec {
			return left
		}
		left = p.applyInfix(left, op)
		if !op.left {
			// non-associative: the same level may not follow
			if next, ok := p.infixAt(); ok && next.prec == op.prec {
				p.fail()
			}
		}
	}
}

var binaryOps = map[string]ast.BinaryOp{
	"=": ast.OpEq, "==": ast.OpEq, "!=": ast.OpNe, "<>": ast.OpNe,
	"<": ast.OpLt, "<=": ast.OpLe, ">": ast.OpGt, ">=": ast.OpGe,
	"||": ast.OpConcat, "+": ast.OpAdd, "-": ast.OpSub,
	"*": ast.OpMul, "/": ast.OpDiv, "%": ast.OpMod, "^": ast.OpPow,
	"OR": ast.OpOr, "AND": ast.OpAnd,
}

func (p *parser) applyInfix(left ast.Expr, op infix) ast.Expr {
	t := p.next()
	not := op.width == 2
	kw := t.kwd()
	if not {
		kw = p.next().kwd()
	}
	// the right operand of a left-associative operator binds one level
	// tighter; a non-associative one's too (its own level is refused above)
	rhs := op.prec + 1
	switch {
	case t.kind == tOp || kw == "OR" || kw == "AND":
		name := t.text
		if t.kind == tKeyword {
			name = kw
		}
		return &ast.Binary{Pos: t.pos, Op: binaryOps[name], Left: left, Right: p.binary(rhs)}
	case kw == "LIKE":
		l := &ast.Like{Pos: t.pos, Not: not, Target: left, Pattern: p.binary(precLike + 1)}
		if p.acceptKw("ESCAPE") {
			l.Escape = p.binary(precLike + 1)
		}
		return l
	case kw == "BETWEEN":
		// the bounds are arithmetic expressions, so that AND ends the low one
		b := &ast.Between{Pos: t.pos, Not: not, Target: left, Low: p.binary(precConcat)}
		p.expectKw("AND")
		b.High = p.binary(precConcat)
		return b
	case kw == "IN" || kw == "WITHIN":
		var bop ast.BinaryOp
		switch {
		case kw == "IN" && !not:
			bop = ast.OpIn
		case kw == "IN":
			bop = ast.OpNotIn
		case !not:
			bop = ast.OpWithin
		default:
			bop = ast.OpNotWithin
		}
		return &ast.Binary{Pos: t.pos, Op: bop, Left: left, Right: p.binary(rhs)}
	case kw == "IS":
		isNot := p.acceptKw("NOT")
		if p.acceptKw("DISTINCT") {
			p.expectKw("FROM")
			bop := ast.OpIsDistinct
			if isNot {
				bop = ast.OpIsNotDistinct
			}
			return &ast.Binary{Pos: t.pos, Op: bop, Left: left, Right: p.binary(precFrom + 1)}
		}
		is := &ast.Is{Pos: t.pos, Not: isNot, Target: left}
		switch {
		case p.acceptKw("NULL"):
			is.Kind = ast.IsNull
		case p.acceptKw("MISSING"):
			is.Kind = ast.IsMissing
		case p.acceptKw("VALUED"), p.acceptKw("KNOWN"):
			is.Kind = ast.IsValued
		case p.acceptKw("UNKNOWN"):
			is.Kind = ast.IsValued
			is.Not = !is.Not
		default:
			p.fail()
		}
		return is
	}
	p.fail()
	return nil
}

// prefix reads NOT, EXISTS and unary minus, or a primary with its postfix
// paths.
func (p *parser) prefix() ast.Expr {
	t := p.peek()
	switch {
	case t.kind == tKeyword && t.kwd() == "NOT":
		p.i++
		return &ast.Unary{Pos: t.pos, Op: ast.OpNot, Operand: p.binary(precNot)}
	case t.kind == tKeyword && t.kwd() == "EXISTS":
		p.i++
		return &ast.Unary{Pos: t.pos, Op: ast.OpExists, Operand: p.binary(precExists + 1)}
	case t.kind == tOp && t.text == "-":
		p.i++
		p.enter()
		defer p.leave()
		return &ast.Unary{Pos: t.pos, Op: ast.OpNeg, Operand: p.prefixOperand()}
	}
	return p.postfix(p.primary())
}

// prefixOperand is the operand of unary minus: only paths bind tighter.
func (p *parser) prefixOperand() ast.Expr {
	if p.isOp("-") {
		return p.prefix()
	}
	return p.postfix(p.primary())
}

// postfix applies .name, .[expr], [i], [i:j] and [*] to e.
func (p *parser) postfix(e ast.Expr) ast.Expr {
	for {
		t := p.peek()
		switch {
		case t.kind == tOp && t.text == "." && p.ahead(1).kind == tOp && p.ahead(1).text == "[":
			p.i += 2
			name := p.expr()
			rb := p.expectOp("]")
			df := &ast.DynamicField{Pos: t.pos, Target: e, Name: name}
			// "]i" written together makes the lookup case-insensitive
			if n := p.peek(); n.kind == tIdent && n.text == "i" && n.pos.Offset == rb.end() {
				p.i++
				df.CaseInsensitive = true
			}
			e = df
		case t.kind == tOp && t.text == "." && p.ahead(1).kind != tOp:
			p.i++
			name, ci := p.name()
			e = &ast.Field{Pos: t.pos, Target: e, Name: name, CaseInsensitive: ci}
		case t.kind == tOp && t.text == "[":
			p.i++
			if p.isOp("*") && p.ahead(1).kind == tOp && p.ahead(1).text == "]" {
				p.i += 2
				e = &ast.ArrayStar{Pos: t.pos, Target: e}
				continue
			}
			var idx ast.Expr
			if !p.isOp(":") {
				idx = p.expr()
			}
			if p.acceptOp(":") {
				s := &ast.Slice{Pos: t.pos, Target: e, Start: idx}
				if !p.isOp("]") {
					s.End = p.expr()
				}
				p.expectOp("]")
				e = s
				continue
			}
			if idx == nil {
				p.fail()
			}
			p.expectOp("]")
			e = &ast.Element{Pos: t.pos, Target: e, Index: idx}
		default:
			return e
		}
	}
}

// functionKeywords are reserved words that are also function names.
var functionKeywords = map[string]bool{"REPLACE": true}

func (p *parser) primary() ast.Expr {
	t := p.peek()
	switch t.kind {
	case tInt:
		p.i++
		return &ast.Literal{Pos: t.pos, Value: t.ival}
	case tFloat:
		p.i++
		return &ast.Literal{Pos: t.pos, Value: t.fval}
	case tString:
		p.i++
		return &ast.Literal{Pos: t.pos, Value: t.val}
	case tNamedParam:
		p.i++
		return &ast.Param{Pos: t.pos, Name: t.val}
	case tPosParam:
		p.i++
		return &ast.Param{Pos: t.pos, Index: int(t.ival)}
	case tQuestion:
		p.i++
		p.question++
		return &ast.Param{Pos: t.pos, Index: p.question, Question: true}
	case tIdent, tQIdent:
		return p.identOrCall()
	case tKeyword:
		switch t.kwd() {
		case "TRUE", "FALSE":
			p.i++
			return &ast.Literal{Pos: t.pos, Value: t.kwd() == "TRUE"}
		case "NULL":
			p.i++
			return &ast.Literal{Pos: t.pos}
		case "MISSING":
			p.i++
			return &ast.Missing{Pos: t.pos}
		case "SELF":
			p.i++
			return &ast.Self{Pos: t.pos}
		case "CASE":
			return p.caseExpr()
		case "ANY", "SOME", "EVERY":
			return p.quantified()
		case "ARRAY", "FIRST":
			p.i++
			m := p.expr()
			bs, when := p.rangeTail()
			if t.kwd() == "ARRAY" {
				return &ast.ArrayFor{Pos: t.pos, Mapping: m, Bindings: bs, When: when}
			}
			return &ast.FirstFor{Pos: t.pos, Mapping: m, Bindings: bs, When: when}
		case "OBJECT":
			p.i++
			k := p.expr()
			p.expectOp(":")
			v := p.expr()
			bs, when := p.rangeTail()
			return &ast.ObjectFor{Pos: t.pos, Key: k, Value: v, Bindings: bs, When: when}
		}
		if functionKeywords[t.kwd()] && p.ahead(1).kind == tOp && p.ahead(1).text == "(" {
			p.i++
			return p.call(t, ast.FuncName{Name: t.text})
		}
	case tOp:
		switch t.text {
		case "(":
			p.i++
			if p.startsQuery(0) {
				q := p.selectStmt()
				p.expectOp(")")
				return &ast.Subquery{Pos: t.pos, Query: q}
			}
			e := p.expr()
			if sq, ok := e.(*ast.Subquery); ok && (p.isKw("UNION") || p.isKw("INTERSECT") || p.isKw("EXCEPT")) {
				// ((SELECT ...) UNION ...): the parenthesised query was
				// the first term of a set operation
				q := &ast.Select{Pos: sq.Pos, Body: p.setOps(sq.Query)}
				e = &ast.Subquery{Pos: t.pos, Query: p.queryTail(q)}
			}
			p.expectOp(")")
			return e
		case "[":
			p.i++
			a := &ast.ArrayCons{Pos: t.pos}
			if !p.isOp("]") {
				a.Elems = p.exprList()
			}
			p.expectOp("]")
			return a
		case "{":
			return p.objectCons()
		}
	}
	p.fail()
	return nil
}

func (p *parser) exprList() []ast.Expr {
	l := []ast.Expr{p.expr()}
	for p.acceptOp(",") {
		l = append(l, p.expr())
	}
	return l
}

func (p *parser) objectCons() ast.Expr {
	t := p.expectOp("{")
	o := &ast.ObjectCons{Pos: t.pos}
	if p.acceptOp("}") {
		return o
	}
	for {
		et := p.peek()
		e := p.expr()
		if p.acceptOp(":") {
			o.Pairs = append(o.Pairs, ast.Pair{Key: e, Value: p.expr()})
		} else {
			name := p.optAlias()
			if name == "" {
				name = ast.ImplicitName(e)
			}
			if name == "" {
				p.failAt(et, "Object member missing name or value: "+e.String())
			}
			o.Pairs = append(o.Pairs, ast.Pair{Key: &ast.Literal{Pos: et.pos, Value: name}, Value: e})
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp("}")
	return o
}

// identOrCall reads an identifier, a function call, META(), or a
// namespaced function name (ns:bucket.scope.fn, bucket.scope.fn, scope.fn).
func (p *parser) identOrCall() ast.Expr {
	t := p.next()
	isOpAt := func(n int, op string) bool { a := p.ahead(n); return a.kind == tOp && a.text == op }
	isNameAt := func(n int) bool { k := p.ahead(n).kind; return k == tIdent || k == tQIdent }
	if isOpAt(0, "(") {
		if t.kind == tIdent && equalFold(t.val, "META") {
			p.i++
			m := &ast.Meta{Pos: t.pos}
			if !p.isOp(")") {
				m.Keyspace = p.expr()
			}
			p.expectOp(")")
			return m
		}
		p.i++
		return p.callArgs(t, ast.FuncName{Name: t.val})
	}
	// ns:name..., only ever a function here
	if t.val == "default" && isOpAt(0, ":") && isNameAt(1) && p.namespacedCallAhead() {
		fn := ast.FuncName{Namespace: t.val}
		p.i++
		parts := []string{p.ident()}
		for isOpAt(0, ".") && isNameAt(1) && len(parts) < 3 {
			p.i++
			parts = append(parts, p.ident())
		}
		if !p.isOp("(") {
			p.fail()
		}
		fn.Name = parts[len(parts)-1]
		if len(parts) > 1 {
			fn.Path = parts[:len(parts)-1]
		}
		return p.call(t, fn)
	}
	// a.b( or a.b.c( : a scoped function name
	for n := 2; n <= 4; n += 2 {
		if !isOpAt(n-2, ".") || !isNameAt(n-1) {
			break
		}
		if isOpAt(n, "(") {
			parts := []string{t.val}
			for j := 0; j < n/2; j++ {
				p.i++
				parts = append(parts, p.ident())
			}
			return p.call(t, ast.FuncName{Path: parts[:len(parts)-1], Name: parts[len(parts)-1]})
		}
	}
	return &ast.Identifier{Pos: t.pos, Name: t.val, CaseInsensitive: t.ci}
}

func (p *parser) call(t token, fn ast.FuncName) ast.Expr {
	p.expectOp("(")
	return p.callArgs(t, fn)
}

// callArgs reads the arguments after "(".
func (p *parser) callArgs(t token, fn ast.FuncName) ast.Expr {
	c := &ast.Call{Pos: t.pos, Func: fn}
	switch {
	case p.acceptOp(")"):
	case p.isOp("*") && p.ahead(1).kind == tOp && p.ahead(1).text == ")":
		p.i += 2
		c.Star = true
	default:
		if p.acceptKw("DISTINCT") {
			c.Distinct = true
		} else {
			p.acceptKw("ALL")
		}
		c.Args = p.exprList()
		p.expectOp(")")
	}
	if p.isKw("FILTER") && p.ahead(1).kind == tOp && p.ahead(1).text == "(" {
		p.i += 2
		p.expectKw("WHERE")
		c.Filter = p.expr()
		p.expectOp(")")
	}
	return c
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		if y >= 'a' && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (p *parser) caseExpr() ast.Expr {
	t := p.expectKw("CASE")
	c := &ast.Case{Pos: t.pos}
	if !p.isKw("WHEN") {
		c.Operand = p.expr()
	}
	for p.acceptKw("WHEN") {
		w := ast.When{Cond: p.expr()}
		p.expectKw("THEN")
		w.Result = p.expr()
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		p.fail()
	}
	if p.acceptKw("ELSE") {
		c.Else = p.expr()
	}
	p.expectKw("END")
	return c
}

func (p *parser) quantified() ast.Expr {
	t := p.next()
	q := &ast.Quantified{Pos: t.pos, Kind: ast.QuantAny}
	if t.kwd() == "EVERY" {
		q.Kind = ast.QuantEvery
	} else if p.isKw("AND") && p.isKwAt(1, "EVERY") {
		p.i += 2
		q.Kind = ast.QuantAnyAndEvery
	}
	q.Bindings = p.bindings()
	p.expectKw("SATISFIES")
	q.Satisfies = p.expr()
	p.expectKw("END")
	return q
}

// bindings reads [name :] var IN|WITHIN expr, ...
func (p *parser) bindings() []ast.Binding {
	var bs []ast.Binding
	for {
		t := p.peek()
		b := ast.Binding{Pos: t.pos, Var: p.ident()}
		if p.acceptOp(":") {
			b.NameVar, b.Var = b.Var, p.ident()
		}
		switch {
		case p.acceptKw("IN"):
		case p.acceptKw("WITHIN"):
			b.Within = true
		default:
			p.fail()
		}
		b.Expr = p.expr()
		bs = append(bs, b)
		if !p.acceptOp(",") {
			return bs
		}
	}
}

// rangeTail reads FOR bindings [WHEN cond] END.
func (p *parser) rangeTail() ([]ast.Binding, ast.Expr) {
	p.expectKw("FOR")
	bs := p.bindings()
	var when ast.Expr
	if p.acceptKw("WHEN") {
		when = p.expr()
	}
	p.expectKw("END")
	return bs, when
}

// namespacedCallAhead reports whether ": name [.name [.name]] (" follows,
// so that ns:fn( is told from the a: b of object constructors.
func (p *parser) namespacedCallAhead() bool {
	n := 1
	for parts := 0; parts < 3; parts++ {
		if k := p.ahead(n).kind; k != tIdent && k != tQIdent {
			return false
		}
		n++
		if a := p.ahead(n); a.kind == tOp && a.text == "(" {
			return true
		}
		if a := p.ahead(n); a.kind != tOp || a.text != "." {
			return false
		}
		n++
	}
	return false
}
