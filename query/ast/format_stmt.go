package ast

func (p *printer) projection(x *Projection) {
	if x.Distinct {
		p.str("DISTINCT ")
	}
	if x.Raw {
		p.str("RAW ")
	}
	for i, t := range x.Terms {
		if i > 0 {
			p.str(", ")
		}
		switch {
		case t.Star && t.Expr == nil:
			p.str("*")
		case t.Star:
			p.node(t.Expr)
			p.str(".*")
		default:
			p.node(t.Expr)
			p.alias(t.Alias)
		}
	}
}

func (p *printer) lets(kw string, ls []LetTerm) {
	if len(ls) == 0 {
		return
	}
	p.str(kw)
	for i, l := range ls {
		if i > 0 {
			p.str(", ")
		}
		p.ident(l.Var, false)
		p.str(" = ")
		p.node(l.Expr)
	}
}

func (p *printer) clause(kw string, e Expr) {
	if e != nil {
		p.str(kw)
		p.node(e)
	}
}

func (p *printer) keyspace(k *KeyspaceTerm) {
	p.namespace(k.Namespace)
	for i, s := range k.Path {
		if i > 0 {
			p.str(".")
		}
		p.ident(s, false)
	}
}

func (p *printer) keyspaceTerm(k *KeyspaceTerm) {
	p.keyspace(k)
	p.alias(k.Alias)
	if k.UseKeys == nil && k.UseIndex == nil && k.JoinHint == "" {
		return
	}
	p.str(" USE")
	if k.UseKeys != nil {
		p.str(" KEYS ")
		if k.ValidateKeys {
			p.str("VALIDATE ")
		}
		p.node(k.UseKeys)
	}
	if len(k.UseIndex) > 0 {
		p.str(" INDEX (")
		for i, r := range k.UseIndex {
			if i > 0 {
				p.str(", ")
			}
			p.ident(r.Name, false)
			if r.Using != "" {
				p.str(" USING ")
				p.str(r.Using)
			}
		}
		p.str(")")
	}
	switch k.JoinHint {
	case "":
	case "NL":
		p.str(" NL")
	default:
		p.str(" HASH(")
		p.str(k.JoinHint)
		p.str(")")
	}
}

// isPath reports whether e is a chain of names, which FROM reads as a
// keyspace path.
func isPath(e Expr) bool {
	switch x := e.(type) {
	case *Identifier:
		return true
	case *Field:
		return isPath(x.Target)
	}
	return false
}

// body prints a query term, parenthesising a nested query.
func (p *printer) body(b QueryBody) {
	if s, ok := b.(*Select); ok {
		p.str("(")
		p.node(s)
		p.str(")")
		return
	}
	p.node(b)
}

func (p *printer) returning(r *Projection) {
	if r != nil {
		p.str(" RETURNING ")
		p.projection(r)
	}
}

func (p *printer) updateFor(f *UpdateFor) {
	if f == nil {
		return
	}
	for _, d := range f.Dimensions {
		p.str(" FOR ")
		p.bindings(d)
	}
	p.clause(" WHEN ", f.When)
	p.str(" END")
}

func (p *printer) setUnset(set []SetTerm, unset []UnsetTerm) {
	for i, s := range set {
		if i == 0 {
			p.str(" SET ")
		} else {
			p.str(", ")
		}
		p.node(s.Path)
		p.str(" = ")
		p.node(s.Value)
		p.updateFor(s.For)
	}
	for i, u := range unset {
		if i == 0 {
			p.str(" UNSET ")
		} else {
			p.str(", ")
		}
		p.node(u.Path)
		p.updateFor(u.For)
	}
}

func (p *printer) nameOrString(s string) {
	if isPlainIdent(s) && !IsReserved(s) {
		p.str(s)
	} else {
		p.str(QuoteString(s))
	}
}

func (p *printer) stmt(n Node) {
	switch x := n.(type) {
	case *Select:
		if len(x.With) > 0 {
			p.str("WITH ")
			for i, w := range x.With {
				if i > 0 {
					p.str(", ")
				}
				p.ident(w.Name, false)
				p.str(" AS ")
				if _, ok := w.Expr.(*Subquery); ok {
					p.node(w.Expr)
				} else {
					p.str("(")
					p.node(w.Expr)
					p.str(")")
				}
			}
			p.str(" ")
		}
		p.body(x.Body)
		for i, o := range x.OrderBy {
			if i == 0 {
				p.str(" ORDER BY ")
			} else {
				p.str(", ")
			}
			p.node(o.Expr)
			if o.Desc {
				p.str(" DESC")
			}
			if o.Nulls != NullsDefault {
				p.str(" NULLS ")
				p.str(string(o.Nulls))
			}
		}
		p.clause(" LIMIT ", x.Limit)
		p.clause(" OFFSET ", x.Offset)
	case *SetOp:
		p.body(x.Left)
		p.str(" ")
		p.str(string(x.Op))
		if x.All {
			p.str(" ALL")
		}
		p.str(" ")
		p.body(x.Right)
	case *Subselect:
		p.str("SELECT ")
		p.projection(x.Projection)
		if x.From != nil {
			p.str(" FROM ")
			p.node(x.From)
		}
		p.lets(" LET ", x.Let)
		p.clause(" WHERE ", x.Where)
		if g := x.GroupBy; g != nil {
			for i, k := range g.Keys {
				if i == 0 {
					p.str(" GROUP BY ")
				} else {
					p.str(", ")
				}
				p.node(k.Expr)
				p.alias(k.Alias)
			}
			p.lets(" LETTING ", g.Letting)
			p.clause(" HAVING ", g.Having)
		}
	case *KeyspaceTerm:
		p.keyspaceTerm(x)
	case *SubqueryTerm:
		p.str("(")
		p.node(x.Query)
		p.str(")")
		p.alias(x.Alias)
	case *ExprTerm:
		if isPath(x.Expr) {
			// bare, it would read back as a keyspace
			p.str("(")
			p.node(x.Expr)
			p.str(")")
		} else {
			p.node(x.Expr)
		}
		p.alias(x.Alias)
	case *JoinTerm:
		p.node(x.Left)
		if x.Comma {
			p.str(", ")
			p.node(x.Right)
			return
		}
		p.str(" ")
		p.str(string(x.Kind))
		if x.Nest {
			p.str(" NEST ")
		} else {
			p.str(" JOIN ")
		}
		p.node(x.Right)
		p.clause(" ON KEYS ", x.OnKeys)
		if x.OnKey != nil {
			p.str(" ON KEY ")
			p.node(x.OnKey)
			p.str(" FOR ")
			p.ident(x.For, false)
		}
		p.clause(" ON ", x.On)
	case *UnnestTerm:
		p.node(x.Left)
		if x.Outer {
			p.str(" LEFT UNNEST ")
		} else {
			p.str(" INNER UNNEST ")
		}
		p.node(x.Expr)
		p.alias(x.Alias)
	case *Insert:
		if x.Upsert {
			p.str("UPSERT INTO ")
		} else {
			p.str("INSERT INTO ")
		}
		p.keyspace(x.Keyspace)
		p.alias(x.Keyspace.Alias)
		if x.Query != nil {
			p.str(" (KEY ")
			p.node(x.Key)
			if x.Value != nil {
				p.str(", VALUE ")
				p.node(x.Value)
			}
			if x.Options != nil {
				p.str(", OPTIONS ")
				p.node(x.Options)
			}
			p.str(") ")
			p.node(x.Query)
		} else {
			withOpts := false
			for _, r := range x.Values {
				withOpts = withOpts || r.Options != nil
			}
			if withOpts {
				p.str(" (KEY, VALUE, OPTIONS) VALUES ")
			} else {
				p.str(" (KEY, VALUE) VALUES ")
			}
			for i, r := range x.Values {
				if i > 0 {
					p.str(", ")
				}
				p.str("(")
				p.node(r.Key)
				p.str(", ")
				p.node(r.Value)
				if r.Options != nil {
					p.str(", ")
					p.node(r.Options)
				}
				p.str(")")
			}
		}
		p.returning(x.Returning)
	case *Update:
		p.str("UPDATE ")
		p.keyspaceTerm(x.Keyspace)
		p.setUnset(x.Set, x.Unset)
		p.clause(" WHERE ", x.Where)
		p.clause(" LIMIT ", x.Limit)
		p.returning(x.Returning)
	case *Delete:
		p.str("DELETE FROM ")
		p.keyspaceTerm(x.Keyspace)
		p.clause(" WHERE ", x.Where)
		p.clause(" LIMIT ", x.Limit)
		p.clause(" OFFSET ", x.Offset)
		p.returning(x.Returning)
	case *Merge:
		p.str("MERGE INTO ")
		p.keyspaceTerm(x.Target)
		p.str(" USING ")
		p.node(x.Source)
		p.clause(" ON KEY ", x.OnKey)
		p.clause(" ON ", x.On)
		if u := x.Update; u != nil {
			p.str(" WHEN MATCHED THEN UPDATE")
			p.setUnset(u.Set, u.Unset)
			p.clause(" WHERE ", u.Where)
		}
		if d := x.Delete; d != nil {
			p.str(" WHEN MATCHED THEN DELETE")
			p.clause(" WHERE ", d.Where)
		}
		if in := x.Insert; in != nil {
			p.str(" WHEN NOT MATCHED THEN INSERT ")
			if in.Key != nil {
				p.str("(KEY ")
				p.node(in.Key)
				if in.Value != nil {
					p.str(", VALUE ")
					p.node(in.Value)
				}
				if in.Options != nil {
					p.str(", OPTIONS ")
					p.node(in.Options)
				}
				p.str(")")
			} else {
				p.node(in.Value)
			}
			p.clause(" WHERE ", in.Where)
		}
		p.clause(" LIMIT ", x.Limit)
		p.returning(x.Returning)
	case *CreateIndex:
		if x.Primary {
			p.str("CREATE PRIMARY INDEX")
		} else {
			p.str("CREATE INDEX")
		}
		if x.Name != "" {
			p.str(" ")
			p.ident(x.Name, false)
		}
		if x.IfNotExists {
			p.str(" IF NOT EXISTS")
		}
		p.str(" ON ")
		p.keyspace(x.Keyspace)
		if !x.Primary {
			p.str("(")
			for i, k := range x.Keys {
				if i > 0 {
					p.str(", ")
				}
				if k.Distinct {
					p.str("DISTINCT ")
				}
				if k.All {
					p.str("ALL ")
				}
				p.node(k.Expr)
				if k.Desc {
					p.str(" DESC")
				}
				if k.IncludeMissing {
					p.str(" INCLUDE MISSING")
				}
			}
			p.str(")")
		}
		if len(x.PartitionBy) > 0 {
			p.str(" PARTITION BY HASH(")
			p.exprs(x.PartitionBy)
			p.str(")")
		}
		p.clause(" WHERE ", x.Where)
		if x.Using != "" {
			p.str(" USING ")
			p.str(x.Using)
		}
		p.clause(" WITH ", x.With)
	case *DropIndex:
		if x.Primary {
			p.str("DROP PRIMARY INDEX")
		} else {
			p.str("DROP INDEX")
		}
		if x.IfExists {
			p.str(" IF EXISTS")
		}
		if x.Name != "" {
			p.str(" ")
			p.ident(x.Name, false)
		}
		p.str(" ON ")
		p.keyspace(x.Keyspace)
		if x.Using != "" {
			p.str(" USING ")
			p.str(x.Using)
		}
	case *BuildIndex:
		p.str("BUILD INDEX ON ")
		p.keyspace(x.Keyspace)
		p.str("(")
		p.exprs(x.Names)
		p.str(")")
		if x.Using != "" {
			p.str(" USING ")
			p.str(x.Using)
		}
	case *Explain:
		p.str("EXPLAIN ")
		p.node(x.Stmt)
	case *Advise:
		p.str("ADVISE ")
		p.node(x.Stmt)
	case *Infer:
		p.str("INFER ")
		p.keyspace(x.Keyspace)
		p.clause(" WITH ", x.With)
	case *Prepare:
		p.str("PREPARE ")
		if x.Force {
			p.str("FORCE ")
		}
		if x.Name != "" {
			p.nameOrString(x.Name)
			p.str(" FROM ")
		}
		p.node(x.Stmt)
	case *Execute:
		p.str("EXECUTE ")
		p.nameOrString(x.Name)
		p.clause(" USING ", x.Using)
	case *CreateFunction:
		p.str("CREATE ")
		if x.Replace {
			p.str("OR REPLACE ")
		}
		p.str("FUNCTION ")
		p.funcName(x.Name)
		p.str("(")
		if x.Variadic {
			p.str("...")
		}
		for i, s := range x.Params {
			if i > 0 {
				p.str(", ")
			}
			p.ident(s, false)
		}
		p.str(")")
		if x.IfNotExists {
			p.str(" IF NOT EXISTS")
		}
		if x.Language == LangInline {
			p.str(" LANGUAGE INLINE AS ")
			p.node(x.Body)
		} else {
			p.str(" LANGUAGE JAVASCRIPT AS ")
			if x.Library != "" {
				p.str(QuoteString(x.Object))
				p.str(" AT ")
				p.str(QuoteString(x.Library))
			} else {
				p.str(QuoteString(x.Code))
			}
		}
	case *DropFunction:
		p.str("DROP FUNCTION ")
		if x.IfExists {
			p.str("IF EXISTS ")
		}
		p.funcName(x.Name)
	case *ExecuteFunction:
		p.str("EXECUTE FUNCTION ")
		p.funcName(x.Name)
		p.str("(")
		p.exprs(x.Args)
		p.str(")")
	case nil:
	default:
		p.str("<?>")
	}
}

// namespace prints ns: bare, as Couchbase writes system: and default:
// (the parser takes a reserved word before the colon).
func (p *printer) namespace(ns string) {
	if ns == "" {
		return
	}
	if isPlainIdent(ns) {
		p.str(ns)
	} else {
		p.ident(ns, false)
	}
	p.str(":")
}
