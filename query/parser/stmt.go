package parser

import (
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
