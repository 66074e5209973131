package parser

import (
	"fmt"

	"eventide/query/ast"
)

func (p *parser) statement() ast.Statement {
	t := p.peek()
	if t.kind == tOp && t.text == "(" {
		return p.selectStmt()
	}
	if t.kind != tKeyword {
		p.fail()
	}
	switch t.kwd() {
	case "SELECT", "WITH", "FROM":
		return p.selectStmt()
	case "INSERT", "UPSERT":
		return p.insert()
	case "UPDATE":
		return p.update()
	case "DELETE":
		return p.deleteStmt()
	case "MERGE":
		return p.merge()
	case "CREATE":
		if p.isKwAt(1, "FUNCTION") || p.isKwAt(1, "OR") {
			return p.createFunction()
		}
		return p.createIndex()
	case "DROP":
		if p.isKwAt(1, "FUNCTION") {
			return p.dropFunction()
		}
		return p.dropIndex()
	case "BUILD":
		return p.buildIndex()
	case "EXPLAIN":
		p.i++
		return &ast.Explain{Pos: t.pos, Stmt: p.innerStatement()}
	case "ADVISE":
		p.i++
		return &ast.Advise{Pos: t.pos, Stmt: p.innerStatement()}
	case "INFER":
		p.i++
		in := &ast.Infer{Pos: t.pos}
		p.acceptKw("KEYSPACE")
		in.Keyspace = p.keyspacePath()
		if p.acceptKw("WITH") {
			in.With = p.expr()
		}
		return in
	case "PREPARE":
		return p.prepare()
	case "EXECUTE":
		if p.isKwAt(1, "FUNCTION") {
			p.i += 2
			fn := p.funcName()
			ef := &ast.ExecuteFunction{Pos: t.pos, Name: fn}
			p.expectOp("(")
			if !p.isOp(")") {
				ef.Args = p.exprList()
			}
			p.expectOp(")")
			return ef
		}
		p.i++
		ex := &ast.Execute{Pos: t.pos, Name: p.nameOrString()}
		if p.acceptKw("USING") {
			ex.Using = p.expr()
		}
		return ex
	}
	p.fail()
	return nil
}

// innerStatement reads the statement of EXPLAIN, ADVISE or PREPARE, which
// may not itself be one of those or EXECUTE (EXECUTE FUNCTION may).
func (p *parser) innerStatement() ast.Statement {
	switch {
	case p.isKw("EXPLAIN"), p.isKw("ADVISE"), p.isKw("PREPARE"),
		p.isKw("EXECUTE") && !p.isKwAt(1, "FUNCTION"):
		p.fail()
	}
	return p.statement()
}

func (p *parser) nameOrString() string {
	if p.peek().kind == tString {
		return p.next().val
	}
	return p.ident()
}

// ---- SELECT ----

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
	s.Body = p.setOps()
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

func (p *parser) setOps() ast.QueryBody {
	left := p.selectTerm()
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
				if p.acceptKw("AS") {
					k.Alias = p.ident()
				}
				g.Keys = append(g.Keys, k)
				if !p.acceptOp(",") {
					break
				}
			}
		}
		if p.acceptKw("LETTING") {
			g.Letting = p.lets()
		}
		if p.acceptKw("HAVING") {
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

// ---- FROM ----

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
		case p.acceptKw("UNNEST"), p.acceptKw("FLATTEN"):
			if kind == ast.JoinRight {
				p.failAt(t, "RIGHT UNNEST is not supported")
			}
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
	if (isName(0) || p.ahead(0).kind == tKeyword) && isOp(1, ":") {
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
	if (t.kind == tIdent || t.kind == tQIdent || t.kind == tKeyword) && p.ahead(1).kind == tOp && p.ahead(1).text == ":" {
		k.Namespace = nameText(t)
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
				r.Using = p.indexType("GSI", "FTS")
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
		k.JoinHint = p.indexType("BUILD", "PROBE")
		p.expectOp(")")
	default:
		return false
	}
	return true
}

func (p *parser) indexType(allowed ...string) string {
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

// nameText is the name a token spells: a keyword as written (system:),
// an identifier unquoted.
func nameText(t token) string {
	if t.kind == tKeyword {
		return t.text
	}
	return t.val
}

// ---- DML ----

func (p *parser) returning() *ast.Projection {
	if p.acceptKw("RETURNING") {
		return p.projection()
	}
	return nil
}

// targetKeyspace reads ks [AS alias] for INSERT, UPSERT and MERGE.
func (p *parser) targetKeyspace() *ast.KeyspaceTerm {
	k := p.keyspacePath()
	if p.acceptKw("AS") {
		k.Alias = p.ident()
	} else if p.isIdent() {
		k.Alias = p.ident()
	}
	return k
}

func (p *parser) insert() ast.Statement {
	t := p.next()
	in := &ast.Insert{Pos: t.pos, Upsert: t.kwd() == "UPSERT"}
	p.expectKw("INTO")
	in.Keyspace = p.targetKeyspace()
	withOptions := false
	if p.isOp("(") && p.isKwAt(1, "KEY") {
		p.i += 2
		if p.acceptOp(",") {
			// (KEY, VALUE[, OPTIONS]) VALUES ...
			p.expectKw("VALUE")
			if p.acceptOp(",") {
				p.expectKw("OPTIONS")
				withOptions = true
			}
			p.expectOp(")")
		} else {
			// (KEY k[, VALUE v][, OPTIONS o]) SELECT ...
			in.Key = p.expr()
			if p.acceptOp(",") {
				if p.acceptKw("VALUE") {
					in.Value = p.expr()
					if p.acceptOp(",") {
						p.expectKw("OPTIONS")
						in.Options = p.expr()
					}
				} else {
					p.expectKw("OPTIONS")
					in.Options = p.expr()
				}
			}
			p.expectOp(")")
			in.Query = p.selectStmt()
			in.Returning = p.returning()
			return in
		}
	}
	if !p.isKw("VALUES") {
		p.fail()
	}
	for p.acceptKw("VALUES") {
		for {
			rt := p.expectOp("(")
			row := ast.ValuesRow{Pos: rt.pos, Key: p.expr()}
			p.expectOp(",")
			row.Value = p.expr()
			if p.acceptOp(",") {
				row.Options = p.expr()
			} else if withOptions {
				p.fail()
			}
			p.expectOp(")")
			in.Values = append(in.Values, row)
			if !p.acceptOp(",") {
				break
			}
			if p.isKw("VALUES") {
				break
			}
		}
	}
	in.Returning = p.returning()
	return in
}

func (p *parser) updateFor() *ast.UpdateFor {
	if !p.isKw("FOR") {
		return nil
	}
	f := &ast.UpdateFor{Pos: p.peek().pos}
	for p.acceptKw("FOR") {
		f.Dimensions = append(f.Dimensions, p.bindings())
	}
	if p.acceptKw("WHEN") {
		f.When = p.expr()
	}
	p.expectKw("END")
	return f
}

// path reads the target of SET or UNSET: a name followed by .name,
// .[expr] and [i] steps, or META().name.
func (p *parser) path() ast.Expr {
	start := p.i
	if !p.isIdent() {
		p.fail()
	}
	e := p.postfix(p.identOrCall())
	for x := e; ; {
		switch y := x.(type) {
		case *ast.Field:
			x = y.Target
			continue
		case *ast.DynamicField:
			x = y.Target
			continue
		case *ast.Element:
			x = y.Target
			continue
		case *ast.Identifier:
			return e
		case *ast.Meta:
			if _, ok := e.(*ast.Field); ok {
				return e
			}
		}
		break
	}
	p.i = start
	p.fail()
	return nil
}

func (p *parser) setUnset() ([]ast.SetTerm, []ast.UnsetTerm) {
	var set []ast.SetTerm
	var unset []ast.UnsetTerm
	if p.acceptKw("SET") {
		for {
			t := p.peek()
			s := ast.SetTerm{Pos: t.pos, Path: p.path()}
			p.expectOp("=")
			s.Value = p.expr()
			s.For = p.updateFor()
			set = append(set, s)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("UNSET") {
		for {
			t := p.peek()
			u := ast.UnsetTerm{Pos: t.pos, Path: p.path()}
			u.For = p.updateFor()
			unset = append(unset, u)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	return set, unset
}

func (p *parser) update() ast.Statement {
	t := p.expectKw("UPDATE")
	u := &ast.Update{Pos: t.pos, Keyspace: p.targetKeyspace()}
	p.hints(u.Keyspace)
	u.Set, u.Unset = p.setUnset()
	if u.Set == nil && u.Unset == nil {
		p.fail()
	}
	if p.acceptKw("WHERE") {
		u.Where = p.expr()
	}
	if p.acceptKw("LIMIT") {
		u.Limit = p.expr()
	}
	u.Returning = p.returning()
	return u
}

func (p *parser) deleteStmt() ast.Statement {
	t := p.expectKw("DELETE")
	p.expectKw("FROM")
	d := &ast.Delete{Pos: t.pos, Keyspace: p.targetKeyspace()}
	p.hints(d.Keyspace)
	if p.acceptKw("WHERE") {
		d.Where = p.expr()
	}
	d.Limit, d.Offset = p.limitOffset()
	d.Returning = p.returning()
	return d
}

func (p *parser) merge() ast.Statement {
	t := p.expectKw("MERGE")
	p.expectKw("INTO")
	m := &ast.Merge{Pos: t.pos, Target: p.targetKeyspace()}
	if u := p.peek(); p.isKw("USE") {
		p.hints(m.Target)
		if m.Target.UseKeys != nil {
			p.failAt(u, "Keyspace reference cannot have USE KEYS hint in MERGE statement")
		}
		if m.Target.JoinHint != "" {
			p.failAt(u, "Keyspace reference cannot have join hint (USE HASH or USE NL) in MERGE statement")
		}
	}
	p.expectKw("USING")
	m.Source = p.simpleFromTerm()
	p.expectKw("ON")
	lookup := false
	if p.isKw("KEY") || (p.isKw("PRIMARY") && p.isKwAt(1, "KEY")) {
		p.acceptKw("PRIMARY")
		p.i++
		lookup = true
		m.OnKey = p.expr()
	} else {
		m.On = p.expr()
	}
	// actions, each optional, in this order: UPDATE, DELETE, INSERT
	if p.isKw("WHEN") && p.isKwAt(1, "MATCHED") && p.isKwAt(2, "THEN") && p.isKwAt(3, "UPDATE") {
		wt := p.peek()
		p.i += 4
		u := &ast.MergeUpdate{Pos: wt.pos}
		u.Set, u.Unset = p.setUnset()
		if u.Set == nil && u.Unset == nil {
			p.fail()
		}
		if p.acceptKw("WHERE") {
			u.Where = p.expr()
		}
		m.Update = u
	}
	if p.isKw("WHEN") && p.isKwAt(1, "MATCHED") && p.isKwAt(2, "THEN") && p.isKwAt(3, "DELETE") {
		wt := p.peek()
		p.i += 4
		d := &ast.MergeDelete{Pos: wt.pos}
		if p.acceptKw("WHERE") {
			d.Where = p.expr()
		}
		m.Delete = d
	}
	if p.isKw("WHEN") && p.isKwAt(1, "NOT") {
		wt := p.next()
		p.i++
		p.expectKw("MATCHED")
		p.expectKw("THEN")
		it := p.expectKw("INSERT")
		in := &ast.MergeInsert{Pos: wt.pos}
		p.mergeInsert(in)
		if lookup && in.Key != nil {
			p.failCode(it, CodeMergeInsertNoKey, "MERGE with ON KEY clause cannot have document key specification in INSERT action.")
		}
		if !lookup && in.Key == nil {
			p.failCode(it, CodeMergeInsertMissingKey, "MERGE with ON clause must have document key specification in INSERT action.")
		}
		if p.acceptKw("WHERE") {
			in.Where = p.expr()
		}
		m.Insert = in
	}
	if p.acceptKw("LIMIT") {
		m.Limit = p.expr()
	}
	m.Returning = p.returning()
	return m
}

// mergeInsert reads what follows INSERT in MERGE: (KEY k[, VALUE v]
// [, OPTIONS o]), (k, v[, o]), or a value expression.
func (p *parser) mergeInsert(in *ast.MergeInsert) {
	if p.isOp("(") && p.isKwAt(1, "KEY") {
		p.i += 2
		in.Key = p.expr()
		if p.acceptOp(",") {
			if p.acceptKw("VALUE") {
				in.Value = p.expr()
				if p.acceptOp(",") {
					p.expectKw("OPTIONS")
					in.Options = p.expr()
				}
			} else {
				p.expectKw("OPTIONS")
				in.Options = p.expr()
			}
		}
		p.expectOp(")")
		return
	}
	if p.isOp("(") {
		start := p.i
		p.i++
		k := p.expr()
		if p.acceptOp(",") {
			in.Key, in.Value = k, p.expr()
			if p.acceptOp(",") {
				in.Options = p.expr()
			}
			p.expectOp(")")
			return
		}
		p.i = start
	}
	in.Value = p.expr()
}

// ---- index DDL ----

func (p *parser) ifNotExists() bool {
	if p.isKw("IF") && p.isKwAt(1, "NOT") && p.isKwAt(2, "EXISTS") {
		p.i += 3
		return true
	}
	return false
}

func (p *parser) ifExists() bool {
	if p.isKw("IF") && p.isKwAt(1, "EXISTS") {
		p.i += 2
		return true
	}
	return false
}

func (p *parser) createIndex() ast.Statement {
	t := p.expectKw("CREATE")
	c := &ast.CreateIndex{Pos: t.pos}
	c.Primary = p.acceptKw("PRIMARY")
	p.expectKw("INDEX")
	c.IfNotExists = p.ifNotExists()
	if p.isIdent() {
		c.Name = p.ident()
	} else if !c.Primary {
		p.fail()
	}
	if !c.IfNotExists {
		c.IfNotExists = p.ifNotExists()
	}
	p.expectKw("ON")
	c.Keyspace = p.keyspacePath()
	if !c.Primary {
		p.expectOp("(")
		for {
			kt := p.peek()
			k := ast.IndexKey{Pos: kt.pos}
			if p.acceptKw("DISTINCT") {
				k.Distinct = true
			} else if p.acceptKw("ALL") {
				k.All = true
			}
			k.Expr = p.expr()
			// up to two attributes, in either order: ASC|DESC, INCLUDE MISSING
			order, missing := false, false
			for n := 0; n < 2; n++ {
				at := p.peek()
				switch {
				case p.isKw("ASC") || p.isKw("DESC"):
					if order {
						p.failAt(at, "Duplicate or Invalid index key attribute")
					}
					order, k.Desc = true, p.next().kwd() == "DESC"
				case p.isKw("INCLUDE") && p.isKwAt(1, "MISSING"):
					if missing {
						p.failAt(at, "Duplicate or Invalid index key attribute")
					}
					p.i += 2
					missing, k.IncludeMissing = true, true
				}
			}
			c.Keys = append(c.Keys, k)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		if p.acceptKw("PARTITION") {
			p.expectKw("BY")
			p.expectKw("HASH")
			p.expectOp("(")
			c.PartitionBy = p.exprList()
			p.expectOp(")")
		}
		if p.acceptKw("WHERE") {
			c.Where = p.expr()
		}
	}
	if p.acceptKw("USING") {
		c.Using = p.indexType("GSI", "VIEW")
	}
	if p.acceptKw("WITH") {
		wt := p.peek()
		if c.With = p.expr(); !isStatic(c.With) {
			p.failAt(wt, "WITH value must be static")
		}
	}
	return c
}

// isStatic reports whether e is a constant: literals, and arrays and
// objects of constants.
func isStatic(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Literal, *ast.Missing:
		return true
	case *ast.Unary:
		l, ok := x.Operand.(*ast.Literal)
		if !ok || x.Op != ast.OpNeg {
			return false
		}
		switch l.Value.(type) {
		case int64, float64:
			return true
		}
	case *ast.ArrayCons:
		for _, el := range x.Elems {
			if !isStatic(el) {
				return false
			}
		}
		return true
	case *ast.ObjectCons:
		for _, pr := range x.Pairs {
			if !isStatic(pr.Key) || !isStatic(pr.Value) {
				return false
			}
		}
		return true
	}
	return false
}

func (p *parser) dropIndex() ast.Statement {
	t := p.expectKw("DROP")
	d := &ast.DropIndex{Pos: t.pos}
	d.Primary = p.acceptKw("PRIMARY")
	p.expectKw("INDEX")
	d.IfExists = p.ifExists()
	if d.Primary && p.isKw("ON") {
		p.i++
		d.Keyspace = p.keyspacePath()
	} else {
		// name ON ks, or the older ks.name
		k := p.keyspacePath()
		if !d.IfExists {
			d.IfExists = p.ifExists()
		}
		if p.acceptKw("ON") {
			if len(k.Path) != 1 || k.Namespace != "" {
				p.fail()
			}
			d.Name = k.Path[0]
			d.Keyspace = p.keyspacePath()
		} else {
			if len(k.Path) < 2 {
				p.fail()
			}
			if p.isOp(".") {
				// default:b.s.c.idx has a fourth part
				p.i++
				d.Name = p.ident()
			} else {
				d.Name = k.Path[len(k.Path)-1]
				k.Path = k.Path[:len(k.Path)-1]
			}
			d.Keyspace = k
		}
	}
	if p.acceptKw("USING") {
		d.Using = p.indexType("GSI", "VIEW")
	}
	return d
}

func (p *parser) buildIndex() ast.Statement {
	t := p.expectKw("BUILD")
	p.expectKw("INDEX")
	p.expectKw("ON")
	b := &ast.BuildIndex{Pos: t.pos, Keyspace: p.keyspacePath()}
	p.expectOp("(")
	b.Names = p.exprList()
	p.expectOp(")")
	if p.acceptKw("USING") {
		b.Using = p.indexType("GSI", "VIEW")
	}
	return b
}

// ---- PREPARE ----

func (p *parser) prepare() ast.Statement {
	t := p.expectKw("PREPARE")
	pr := &ast.Prepare{Pos: t.pos}
	pr.Force = p.acceptKw("FORCE")
	if n := p.peek(); (n.kind == tIdent || n.kind == tQIdent || n.kind == tString) && (p.isKwAt(1, "FROM") || p.isKwAt(1, "AS")) {
		if n.ci {
			p.failAt(n, "Prepared identifier must be case sensitive")
		}
		pr.Name = n.val
		p.i += 2
	}
	pr.Stmt = p.innerStatement()
	return pr
}

// ---- functions ----

// funcName reads [ns:]name, [ns:]bucket.scope.name or scope.name.
func (p *parser) funcName() ast.FuncName {
	var fn ast.FuncName
	t := p.peek()
	if (t.kind == tIdent || t.kind == tQIdent || t.kind == tKeyword) && p.ahead(1).kind == tOp && p.ahead(1).text == ":" {
		fn.Namespace = nameText(t)
		p.i += 2
	}
	parts := []string{p.ident()}
	for len(parts) < 3 && p.isOp(".") {
		p.i++
		parts = append(parts, p.ident())
	}
	fn.Path, fn.Name = parts[:len(parts)-1], parts[len(parts)-1]
	if len(fn.Path) == 0 {
		fn.Path = nil
	}
	return fn
}

func (p *parser) createFunction() ast.Statement {
	t := p.expectKw("CREATE")
	c := &ast.CreateFunction{Pos: t.pos}
	if p.acceptKw("OR") {
		p.expectKw("REPLACE")
		c.Replace = true
	}
	p.expectKw("FUNCTION")
	ifAt := p.peek()
	c.IfNotExists = p.ifNotExists()
	c.Name = p.funcName()
	p.expectOp("(")
	if p.acceptOp("...") {
		c.Variadic = true
	} else if !p.isOp(")") {
		for {
			c.Params = append(c.Params, p.ident())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	p.expectOp(")")
	if second := p.peek(); p.ifNotExists() {
		if c.IfNotExists {
			p.failAt(second, "syntax error - specify IF NOT EXISTS only once")
		}
		c.IfNotExists = true
		ifAt = second
	}
	if c.Replace && c.IfNotExists {
		p.failAt(ifAt, "syntax error - OR REPLACE and IF NOT EXISTS are mutually exclusive")
	}
	if p.acceptOp("{") {
		c.Language = ast.LangInline
		c.Body = p.expr()
		p.expectOp("}")
		return c
	}
	p.expectKw("LANGUAGE")
	switch {
	case p.acceptKw("INLINE"):
		c.Language = ast.LangInline
		p.expectKw("AS")
		c.Body = p.expr()
	case p.acceptKw("JAVASCRIPT"):
		c.Language = ast.LangJavaScript
		p.expectKw("AS")
		if p.peek().kind != tString {
			p.fail()
		}
		s := p.next().val
		if p.acceptKw("AT") {
			if p.peek().kind != tString {
				p.fail()
			}
			c.Object, c.Library = s, p.next().val
			if c.Library == "" {
				p.fail()
			}
		} else {
			c.Code = s
		}
	default:
		p.fail()
	}
	return c
}

func (p *parser) dropFunction() ast.Statement {
	t := p.expectKw("DROP")
	p.expectKw("FUNCTION")
	d := &ast.DropFunction{Pos: t.pos}
	d.IfExists = p.ifExists()
	d.Name = p.funcName()
	if !d.IfExists {
		d.IfExists = p.ifExists()
	}
	return d
}
