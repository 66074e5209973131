package parser

import (
	"eventide/query/ast"
)

// Precedence, lowest first (Couchbase's): OR, AND, NOT, comparisons
// (=, <, LIKE, IN, BETWEEN, IS, EXISTS; not associative), ||, + -, * / %,
// unary minus, then postfix paths.

func (p *parser) expr() ast.Expr {
	p.enter()
	defer p.leave()
	return p.or()
}

func (p *parser) or() ast.Expr {
	left := p.and()
	for p.isKw("OR") {
		t := p.next()
		left = &ast.Binary{Pos: t.pos, Op: ast.OpOr, Left: left, Right: p.and()}
	}
	return left
}

func (p *parser) and() ast.Expr {
	left := p.not()
	for p.isKw("AND") {
		t := p.next()
		left = &ast.Binary{Pos: t.pos, Op: ast.OpAnd, Left: left, Right: p.not()}
	}
	return left
}

func (p *parser) not() ast.Expr {
	if p.isKw("NOT") {
		t := p.next()
		p.enter()
		defer p.leave()
		return &ast.Unary{Pos: t.pos, Op: ast.OpNot, Operand: p.not()}
	}
	return p.comparison()
}

var comparisonOps = map[string]ast.BinaryOp{
	"=": ast.OpEq, "==": ast.OpEq, "!=": ast.OpNe, "<>": ast.OpNe,
	"<": ast.OpLt, "<=": ast.OpLe, ">": ast.OpGt, ">=": ast.OpGe,
}

func (p *parser) comparison() ast.Expr {
	if p.isKw("EXISTS") {
		t := p.next()
		return &ast.Unary{Pos: t.pos, Op: ast.OpExists, Operand: p.concat()}
	}
	left := p.concat()
	t := p.peek()
	if t.kind == tOp {
		if op, ok := comparisonOps[t.text]; ok {
			p.i++
			return &ast.Binary{Pos: t.pos, Op: op, Left: left, Right: p.concat()}
		}
		return left
	}
	if t.kind != tKeyword {
		return left
	}
	not := false
	if t.kw == "NOT" {
		switch p.ahead(1).kw {
		case "LIKE", "IN", "WITHIN", "BETWEEN":
			not = true
			p.i++
		default:
			return left
		}
	}
	switch p.peek().kw {
	case "LIKE":
		p.i++
		l := &ast.Like{Pos: t.pos, Not: not, Target: left, Pattern: p.concat()}
		if p.acceptKw("ESCAPE") {
			l.Escape = p.concat()
		}
		return l
	case "IN", "WITHIN":
		op := map[[2]bool]ast.BinaryOp{{false, false}: ast.OpIn, {true, false}: ast.OpNotIn,
			{false, true}: ast.OpWithin, {true, true}: ast.OpNotWithin}[[2]bool{not, p.peek().kw == "WITHIN"}]
		p.i++
		return &ast.Binary{Pos: t.pos, Op: op, Left: left, Right: p.concat()}
	case "BETWEEN":
		p.i++
		b := &ast.Between{Pos: t.pos, Not: not, Target: left, Low: p.concat()}
		p.expectKw("AND")
		b.High = p.concat()
		return b
	case "IS":
		p.i++
		is := &ast.Is{Pos: t.pos, Target: left}
		is.Not = p.acceptKw("NOT")
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
	return left
}

func (p *parser) concat() ast.Expr {
	left := p.additive()
	for p.isOp("||") {
		t := p.next()
		left = &ast.Binary{Pos: t.pos, Op: ast.OpConcat, Left: left, Right: p.additive()}
	}
	return left
}

func (p *parser) additive() ast.Expr {
	left := p.multiplicative()
	for p.isOp("+") || p.isOp("-") {
		t := p.next()
		left = &ast.Binary{Pos: t.pos, Op: ast.BinaryOp(t.text), Left: left, Right: p.multiplicative()}
	}
	return left
}

func (p *parser) multiplicative() ast.Expr {
	left := p.unary()
	for p.isOp("*") || p.isOp("/") || p.isOp("%") {
		t := p.next()
		left = &ast.Binary{Pos: t.pos, Op: ast.BinaryOp(t.text), Left: left, Right: p.unary()}
	}
	return left
}

func (p *parser) unary() ast.Expr {
	if p.isOp("-") {
		t := p.next()
		p.enter()
		defer p.leave()
		return &ast.Unary{Pos: t.pos, Op: ast.OpNeg, Operand: p.unary()}
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
			p.expectOp("]")
			e = &ast.DynamicField{Pos: t.pos, Target: e, Name: name}
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
			idx := p.expr()
			if p.acceptOp(":") {
				s := &ast.Slice{Pos: t.pos, Target: e, Start: idx}
				if !p.isOp("]") {
					s.End = p.expr()
				}
				p.expectOp("]")
				e = s
				continue
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
		switch t.kw {
		case "TRUE", "FALSE":
			p.i++
			return &ast.Literal{Pos: t.pos, Value: t.kw == "TRUE"}
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
			if t.kw == "ARRAY" {
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
		if functionKeywords[t.kw] && p.ahead(1).kind == tOp && p.ahead(1).text == "(" {
			p.i++
			return p.call(t, ast.FuncName{Name: t.val})
		}
	case tOp:
		switch t.text {
		case "(":
			p.i++
			if p.isKw("SELECT") || p.isKw("WITH") {
				q := p.selectStmt()
				p.expectOp(")")
				return &ast.Subquery{Pos: t.pos, Query: q}
			}
			e := p.expr()
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
		e := p.expr()
		if p.acceptOp(":") {
			o.Pairs = append(o.Pairs, ast.Pair{Key: e, Value: p.expr()})
		} else {
			if ast.ImplicitName(e) == "" {
				p.failAt(p.peek(), "object constructor needs a name for "+e.String())
			}
			o.Pairs = append(o.Pairs, ast.Pair{Value: e})
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
	if t.kind == tIdent && isOpAt(0, "(") {
		if equalFold(t.val, "META") {
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
	if isOpAt(0, ":") && isNameAt(1) && p.namespacedCallAhead() {
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
		fn.Path, fn.Name = parts[:len(parts)-1], parts[len(parts)-1]
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
	if t.kw == "EVERY" {
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
		b.Expr = p.concat()
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
