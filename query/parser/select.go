package parser

import (
	"fmt"

	"eventide/query/ast"
)

func (p *parser) selectStmt() *ast.Select {
	p.enter()
	defer p.leave()
	t := p.peek()
	s := &ast.Select{Pos: t.pos}
	if p.acceptKw("WITH") {
		for {
			wt := p.peek()
			w := ast.WithTerm{Pos: wt.pos, Name: p.ident()}
			p.expectKw("AS")
			if !p.isOp("(") {
				p.fail()
			}
			w.Expr = p.primary()
			s.With = append(s.With, w)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	s.Body = p.setOps(p.selectTerm())
	return p.queryTail(s)
}

// queryTail reads what may follow a query's body: ORDER BY, LIMIT, OFFSET.
func (p *parser) queryTail(s *ast.Select) *ast.Select {
	if p.acceptKw("ORDER") {
		p.expectKw("BY")
		for {
			ot := p.peek()
			o := ast.OrderTerm{Pos: ot.pos, Expr: p.expr()}
			if p.acceptKw("DESC") {
				o.Desc = true
			} else {
				p.acceptKw("ASC")
			}
			if p.acceptKw("NULLS") {
				if p.acceptKw("FIRST") {
					o.Nulls = ast.NullsFirst
				} else {
					p.expectKw("LAST")
					o.Nulls = ast.NullsLast
				}
			}
			s.OrderBy = append(s.OrderBy, o)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	s.Limit, s.Offset = p.limitOffset()
	return s
}

// limitOffset reads LIMIT and OFFSET, in either order.
func (p *parser) limitOffset() (limit, offset ast.Expr) {
	switch {
	case p.acceptKw("LIMIT"):
		limit = p.expr()
		if p.acceptKw("OFFSET") {
			offset = p.expr()
		}
	case p.acceptKw("OFFSET"):
		offset = p.expr()
		if p.acceptKw("LIMIT") {
			limit = p.expr()
		}
	}
	return limit, offset
}

// selectTerm reads a subselect or a parenthesised query.
func (p *parser) selectTerm() ast.QueryBody {
	if p.acceptOp("(") {
		q := p.selectStmt()
		p.expectOp(")")
		return q
	}
	return p.subselect()
}

// startsQuery reports whether the token n places ahead begins a query.
func (p *parser) startsQuery(n int) bool {
	return p.isKwAt(n, "SELECT") || p.isKwAt(n, "WITH") || p.isKwAt(n, "FROM")
}

// setOps reads the set operations that follow the query term left.
func (p *parser) setOps(left ast.QueryBody) ast.QueryBody {
	for {
		t := p.peek()
		var op ast.SetOpKind
		switch {
		case p.isKw("UNION"):
			op = ast.Union
		case p.isKw("INTERSECT"):
			op = ast.Intersect
		case p.isKw("EXCEPT"):
			op = ast.Except
		default:
			return left
		}
		p.i++
		all := p.acceptKw("ALL")
		if !all {
			p.acceptKw("DISTINCT")
		}
		left = &ast.SetOp{Pos: t.pos, Op: op, All: all, Left: left, Right: p.selectTerm()}
	}
}

// subselect reads SELECT ... [FROM ...] ..., or the FROM-first form
// FROM ... [LET] [WHERE] [GROUP BY] SELECT ....
func (p *parser) subselect() *ast.Subselect {
	t := p.peek()
	s := &ast.Subselect{Pos: t.pos}
	fromFirst := p.acceptKw("FROM")
	if fromFirst {
		s.From = p.fromClause()
	} else {
		p.expectKw("SELECT")
		s.Projection = p.projection()
		if p.acceptKw("FROM") {
			s.From = p.fromClause()
		}
	}
	if p.acceptKw("LET") {
		s.Let = p.lets()
	}
	if p.acceptKw("WHERE") {
		s.Where = p.expr()
	}
	if p.isKw("GROUP") || p.isKw("LETTING") {
		g := &ast.GroupBy{Pos: p.peek().pos}
		if p.acceptKw("GROUP") {
			p.expectKw("BY")
			for {
				gt := p.peek()
				k := ast.GroupTerm{Pos: gt.pos, Expr: p.expr()}
				k.Alias = p.optAlias()
				g.Keys = append(g.Keys, k)
				if !p.acceptOp(",") {
					break
				}
			}
		}
		if p.acceptKw("LETTING") {
			g.Letting = p.lets()
		}
		// HAVING only with GROUP BY: LETTING alone stands for no grouping
		if len(g.Keys) > 0 && p.acceptKw("HAVING") {
			g.Having = p.expr()
		}
		s.GroupBy = g
	}
	if fromFirst {
		p.expectKw("SELECT")
		s.Projection = p.projection()
	}
	return s
}

func (p *parser) lets() []ast.LetTerm {
	var ls []ast.LetTerm
	for {
		t := p.peek()
		l := ast.LetTerm{Pos: t.pos, Var: p.ident()}
		p.expectOp("=")
		l.Expr = p.expr()
		ls = append(ls, l)
		if !p.acceptOp(",") {
			return ls
		}
	}
}

// projection reads [DISTINCT|ALL] [RAW|ELEMENT|VALUE] terms.
func (p *parser) projection() *ast.Projection {
	pr := &ast.Projection{Pos: p.peek().pos}
	if p.acceptKw("DISTINCT") {
		pr.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	if p.acceptKw("RAW") || p.acceptKw("ELEMENT") || p.acceptKw("VALUE") {
		pr.Raw = true
		t := p.peek()
		rt := ast.ResultTerm{Pos: t.pos, Expr: p.expr()}
		if p.acceptKw("AS") {
			rt.Alias = p.ident()
		} else if p.isIdent() {
			rt.Alias = p.ident()
		}
		pr.Terms = []ast.ResultTerm{rt}
		return pr
	}
	for {
		t := p.peek()
		rt := ast.ResultTerm{Pos: t.pos}
		if p.acceptOp("*") {
			rt.Star = true
		} else {
			rt.Expr = p.expr()
			if p.isOp(".") && p.ahead(1).kind == tOp && p.ahead(1).text == "*" {
				p.i += 2
				rt.Star = true
			} else {
				rt.Alias = p.optAlias()
			}
		}
		pr.Terms = append(pr.Terms, rt)
		if !p.acceptOp(",") {
			return pr
		}
	}
}

func (p *parser) fromClause() ast.FromTerm {
	left := p.simpleFromTerm()
	for {
		t := p.peek()
		kind := ast.JoinInner
		switch {
		case p.isKw("INNER"):
			p.i++
		case p.isKw("LEFT"):
			p.i++
			p.acceptKw("OUTER")
			kind = ast.JoinLeft
		case p.isKw("RIGHT"):
			p.i++
			p.acceptKw("OUTER")
			kind = ast.JoinRight
		case p.isKw("JOIN"), p.isKw("NEST"), p.isKw("UNNEST"), p.isKw("FLATTEN"):
		case p.isOp(","):
			p.i++
			j := &ast.JoinTerm{Pos: t.pos, Left: left, Kind: ast.JoinInner, Comma: true, Right: p.simpleFromTerm()}
			p.checkJoin(t, j)
			left = j
			continue
		default:
			return left
		}
		switch {
		case p.acceptKw("JOIN"), p.isKw("NEST"):
			nest := p.acceptKw("NEST")
			j := &ast.JoinTerm{Pos: t.pos, Left: left, Kind: kind, Nest: nest, Right: p.simpleFromTerm()}
			p.expectKw("ON")
			switch {
			case p.acceptKw("KEYS"):
				j.OnKeys = p.expr()
			case p.isKw("KEY") || (p.isKw("PRIMARY") && p.isKwAt(1, "KEY")):
				p.acceptKw("PRIMARY")
				p.i++
				j.OnKey = p.expr()
				p.expectKw("FOR")
				j.For = p.ident()
			default:
				j.On = p.expr()
			}
			p.checkJoin(t, j)
			left = j
		case kind != ast.JoinRight && (p.acceptKw("UNNEST") || p.acceptKw("FLATTEN")):
			u := &ast.UnnestTerm{Pos: t.pos, Left: left, Outer: kind == ast.JoinLeft, Expr: p.expr()}
			u.Alias = p.optAlias()
			left = u
		default:
			p.fail()
		}
	}
}

// termAlias is the name a FROM term is known by.
func termAlias(f ast.FromTerm) string {
	switch x := f.(type) {
	case *ast.KeyspaceTerm:
		return x.AliasOrDefault()
	case *ast.SubqueryTerm:
		return x.Alias
	case *ast.ExprTerm:
		if x.Alias != "" {
			return x.Alias
		}
		return ast.ImplicitName(x.Expr)
	case *ast.JoinTerm:
		return termAlias(x.Right)
	case *ast.UnnestTerm:
		if x.Alias != "" {
			return x.Alias
		}
		return ast.ImplicitName(x.Expr)
	}
	return ""
}

// joinOpName is how Couchbase's messages name a join: "ANSI JOIN",
// "non ANSI NEST", ...
func joinOpName(j *ast.JoinTerm) string {
	s := "JOIN"
	if j.Nest {
		s = "NEST"
	}
	if j.OnKeys != nil || j.OnKey != nil {
		return "non ANSI " + s
	}
	return "ANSI " + s
}

// checkJoin applies Couchbase's rules for joins: lookup and ANSI joins do
// not mix in one FROM, and the right side of a lookup join takes no USE
// hints.
func (p *parser) checkJoin(t token, j *ast.JoinTerm) {
	left := j.Left
	for {
		u, ok := left.(*ast.UnnestTerm)
		if !ok {
			break
		}
		left = u.Left
	}
	lookup := j.OnKeys != nil || j.OnKey != nil
	if lj, ok := left.(*ast.JoinTerm); ok && (lj.OnKeys != nil || lj.OnKey != nil) != lookup {
		p.failCode(t, CodeMixedJoin, fmt.Sprintf("Cannot mix %s on %s with %s on %s.",
			joinOpName(lj), termAlias(lj), joinOpName(j), termAlias(j)))
	}
	op := "JOIN"
	if j.Nest {
		op = "NEST"
	}
	if !lookup {
		return
	}
	k, ok := j.Right.(*ast.KeyspaceTerm)
	if !ok {
		p.failAt(token{pos: j.Right.Position()}, op+" must be done on a keyspace")
	}
	switch {
	case k.JoinHint != "":
		p.failCode(t, CodeJoinNoJoinHint, fmt.Sprintf("%s on %s cannot have join hint (USE HASH or USE NL).", op, k.AliasOrDefault()))
	case k.UseKeys != nil:
		p.failCode(t, CodeJoinNoUseKeys, fmt.Sprintf("%s on %s cannot have USE KEYS.", op, k.AliasOrDefault()))
	case k.UseIndex != nil:
		p.failCode(t, CodeJoinNoUseIndex, fmt.Sprintf("%s on %s cannot have USE INDEX.", op, k.AliasOrDefault()))
	}
}

// simpleFromTerm reads a keyspace path with its alias and hints, a
// subquery with its alias, or an expression with its alias.
func (p *parser) simpleFromTerm() ast.FromTerm {
	t := p.peek()
	if t.kind == tOp && t.text == "(" && p.startsQuery(1) {
		start := p.i
		p.i++
		q := p.selectStmt()
		p.expectOp(")")
		if !p.isOp("[") && !p.isOp(".") {
			st := &ast.SubqueryTerm{Pos: t.pos, Query: q}
			if st.Alias = p.optAlias(); st.Alias == "" {
				p.failAt(t, "Subquery in FROM clause must have an alias.")
			}
			return st
		}
		// (SELECT ...)[*].f is an expression over the subquery's result
		p.i = start
	}
	if p.looksLikePath() {
		k := p.keyspacePath()
		k.Alias = p.optAlias()
		p.hints(k)
		return k
	}
	e := &ast.ExprTerm{Pos: t.pos, Expr: p.expr()}
	e.Alias = p.optAlias()
	return e
}

// looksLikePath reports whether a keyspace path starts here: [ns:]name
// [.name [.name]] not followed by "(" or "[" (which make it an
// expression).
func (p *parser) looksLikePath() bool {
	n := 0
	isName := func(k int) bool { kd := p.ahead(k).kind; return kd == tIdent || kd == tQIdent }
	isOp := func(k int, op string) bool { a := p.ahead(k); return a.kind == tOp && a.text == op }
	if _, ok := p.namespaceAt(0); ok {
		n = 2
	}
	if !isName(n) {
		return false
	}
	n++
	for parts := 1; parts < 3 && isOp(n, ".") && isName(n+1); parts++ {
		n += 2
	}
	return !isOp(n, "(") && !isOp(n, "[") && !isOp(n, ".")
}

// keyspacePath reads [namespace:]a[.b[.c]].
func (p *parser) keyspacePath() *ast.KeyspaceTerm {
	t := p.peek()
	k := &ast.KeyspaceTerm{Pos: t.pos}
	if ns, ok := p.namespaceAt(0); ok {
		k.Namespace = ns
		p.i += 2
	}
	k.Path = []string{p.keyspaceName()}
	for len(k.Path) < 3 && p.isOp(".") {
		p.i++
		k.Path = append(k.Path, p.keyspaceName())
	}
	return k
}

// keyspaceName reads one part of a keyspace path; `name`i is refused.
func (p *parser) keyspaceName() string {
	if t := p.peek(); t.ci {
		p.failAt(t, "Keyspace term must be case sensitive")
	}
	return p.ident()
}

// hints reads the USE clause of a keyspace term, in the combinations
// Couchbase takes: USE KEYS [VALIDATE] e, USE INDEX (...), USE NL or USE
// HASH(BUILD|PROBE), and a join hint before or after KEYS or INDEX.
func (p *parser) hints(k *ast.KeyspaceTerm) {
	if !p.acceptKw("USE") {
		return
	}
	if p.keysOrIndex(k) {
		p.joinHint(k)
		return
	}
	if !p.joinHint(k) {
		p.fail()
	}
	p.keysOrIndex(k)
}

// keysOrIndex reads [PRIMARY] KEYS [VALIDATE] e or INDEX (...).
func (p *parser) keysOrIndex(k *ast.KeyspaceTerm) bool {
	switch {
	case p.isKw("KEYS") || (p.isKw("PRIMARY") && p.isKwAt(1, "KEYS")):
		p.acceptKw("PRIMARY")
		p.i++
		k.ValidateKeys = p.acceptKw("VALIDATE")
		k.UseKeys = p.expr()
		return true
	case p.acceptKw("INDEX"):
		p.expectOp("(")
		for {
			r := ast.IndexRef{Name: p.ident()}
			if p.acceptKw("USING") {
				r.Using = p.oneOf("GSI", "FTS")
			}
			k.UseIndex = append(k.UseIndex, r)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		return true
	}
	return false
}

// joinHint reads NL or HASH(BUILD|PROBE).
func (p *parser) joinHint(k *ast.KeyspaceTerm) bool {
	switch {
	case p.acceptKw("NL"):
		k.JoinHint = "NL"
	case p.acceptKw("HASH"):
		p.expectOp("(")
		k.JoinHint = p.oneOf("BUILD", "PROBE")
		p.expectOp(")")
	default:
		return false
	}
	return true
}

func (p *parser) oneOf(allowed ...string) string {
	t := p.peek()
	for _, a := range allowed {
		if t.kind == tKeyword && t.kwd() == a {
			p.i++
			return a
		}
	}
	p.fail()
	return ""
}

// namespaceAt reports whether the token n places ahead names a namespace
// followed by a colon: "default" (spelled so, or back-quoted) or the
// keyword SYSTEM in any case, as Couchbase's lexer tells them.
func (p *parser) namespaceAt(n int) (string, bool) {
	if c := p.ahead(n + 1); c.kind != tOp || c.text != ":" {
		return "", false
	}
	switch t := p.ahead(n); {
	case (t.kind == tIdent || t.kind == tQIdent) && t.val == "default":
		return "default", true
	case t.kwd() == "SYSTEM":
		return "system", true
	}
	return "", false
}
