package parser_test

import (
	"testing"

	"eventide/query/ast"
	"eventide/query/parser"
)

// TestParse_CouchbaseDocs parses every statement of the SQL++ reference
// examples and checks that each one's canonical text round-trips.
func TestParse_CouchbaseDocs(t *testing.T) {
	stmts := docStatements(t)
	if len(stmts) < 250 {
		t.Fatalf("only %d statements in testdata", len(stmts))
	}
	for _, d := range stmts {
		t.Run(d.name, func(t *testing.T) {
			s := mustParse(t, d.text)
			checkRoundTrip(t, d.text, s)
		})
	}
}

// TestParseExpression_IndexKeysRoundTrip stores every index key and
// partial-index condition of the documentation examples as text, the way
// index definitions are kept, and reads it back with ParseExpression.
func TestParseExpression_IndexKeysRoundTrip(t *testing.T) {
	n := 0
	for _, d := range docStatements(t) {
		ci, ok := mustParse(t, d.text).(*ast.CreateIndex)
		if !ok {
			continue
		}
		exprs := []ast.Expr{ci.Where}
		for _, k := range ci.Keys {
			exprs = append(exprs, k.Expr)
		}
		for _, e := range exprs {
			if e == nil {
				continue
			}
			n++
			back, err := parser.ParseExpression(e.String())
			if err != nil {
				t.Fatalf("%s: %s does not parse: %v", d.name, e, err)
			}
			if !sameTree(e, back) {
				t.Fatalf("%s: %s reads back differently", d.name, e)
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d index expressions in the examples", n)
	}
}
