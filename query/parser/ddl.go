package parser

import (
	"eventide/query/ast"
)

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
		c.Using = p.oneOf("GSI", "VIEW")
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
		d.Using = p.oneOf("GSI", "VIEW")
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
		b.Using = p.oneOf("GSI", "VIEW")
	}
	return b
}

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

// funcName reads [ns:]name, [ns:]bucket.scope.name or scope.name.
func (p *parser) funcName() ast.FuncName {
	var fn ast.FuncName
	if ns, ok := p.namespaceAt(0); ok {
		fn.Namespace = ns
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
