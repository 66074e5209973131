package parser

import (
	"eventide/query/ast"
)

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
