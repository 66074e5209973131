package ast_test

import (
	"reflect"
	"strings"
	"testing"

	"eventide/query/ast"
	"eventide/query/parser"
)

func mustParse(t *testing.T, stmt string) ast.Statement {
	t.Helper()
	s, err := parser.Parse(stmt)
	if err != nil {
		t.Fatalf("Parse(%q): %v", stmt, err)
	}
	return s
}

func identifiers(n ast.Node) []string {
	var names []string
	ast.Inspect(n, func(c ast.Node) bool {
		if id, ok := c.(*ast.Identifier); ok {
			names = append(names, id.Name)
		}
		return true
	})
	return names
}

func TestWalk_VisitsEveryExpressionInSourceOrder(t *testing.T) {
	s := mustParse(t, `WITH w AS (SELECT RAW w1 FROM k0)
		SELECT p1, f(p2) AS x, CASE p3 WHEN p4 THEN p5 ELSE p6 END, ANY v IN p7 SATISFIES p8 END, {"k": p9}
		FROM k1 USE KEYS p10 JOIN k2 ON p11 UNNEST p12 AS u
		LET l = p13 WHERE p14 GROUP BY p15 LETTING g = p16 HAVING p17
		ORDER BY p18 LIMIT p19 OFFSET p20`)
	want := []string{"w1", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10",
		"p11", "p12", "p13", "p14", "p15", "p16", "p17", "p18", "p19", "p20"}
	if got := identifiers(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("visited %v\nwant    %v", got, want)
	}
}

func TestWalk_DML(t *testing.T) {
	cases := map[string][]string{
		`INSERT INTO k (KEY, VALUE) VALUES (a, b) RETURNING c`:                                    {"a", "b", "c"},
		`UPSERT INTO k (KEY a, VALUE b) SELECT c FROM d`:                                          {"a", "b", "c"},
		`UPDATE k USE KEYS a SET b = c FOR v IN d WHEN e END UNSET f WHERE g LIMIT h RETURNING i`: {"a", "b", "c", "d", "e", "f", "g", "h", "i"},
		`DELETE FROM k USE KEYS a WHERE b LIMIT c OFFSET d RETURNING e`:                           {"a", "b", "c", "d", "e"},
		`MERGE INTO k USING s ON a WHEN MATCHED THEN UPDATE SET b = c WHERE d WHEN MATCHED THEN DELETE WHERE e WHEN NOT MATCHED THEN INSERT (KEY f, VALUE g) WHERE h`: {"a", "b", "c", "d", "e", "f", "g", "h"},
		`CREATE INDEX ix ON k(a, DISTINCT ARRAY v FOR v IN b END) PARTITION BY HASH(c) WHERE d WITH {"defer_build": true}`:                                            {"a", "v", "b", "c", "d"},
		`CREATE FUNCTION f(x) { x + y }`: {"x", "y"},
		`EXECUTE FUNCTION f(a, b)`:       {"a", "b"},
		`EXPLAIN SELECT a FROM k`:        {"a"},
		`EXECUTE p USING [a]`:            {"a"},
	}
	for stmt, want := range cases {
		if got := identifiers(mustParse(t, stmt)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: visited %v, want %v", stmt, got, want)
		}
	}
}

func TestInspect_FalseSkipsChildren(t *testing.T) {
	s := mustParse(t, "SELECT a FROM k WHERE b IN (SELECT RAW c FROM d)")
	var names []string
	ast.Inspect(s, func(n ast.Node) bool {
		if _, ok := n.(*ast.Subquery); ok {
			return false
		}
		if id, ok := n.(*ast.Identifier); ok {
			names = append(names, id.Name)
		}
		return true
	})
	if !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Fatalf("visited %v", names)
	}
}

func TestParams_InOrderOfAppearance(t *testing.T) {
	s := mustParse(t, "UPDATE k SET a = ? WHERE b = $name AND c = ? RETURNING $2")
	var got []string
	for _, p := range ast.Params(s) {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "? $name ? $2" {
		t.Fatalf("params %v", got)
	}
	if ps := ast.Params(s); ps[0].Index != 1 || ps[2].Index != 2 || ps[3].Index != 2 || ps[1].Name != "name" {
		t.Fatalf("numbering %+v %+v %+v %+v", ps[0], ps[1], ps[2], ps[3])
	}
}

func TestQuoteIdent(t *testing.T) {
	cases := map[string]string{
		"name":          "name",
		"_x1":           "_x1",
		"travel-sample": "`travel-sample`",
		"select":        "`select`",
		"Value":         "`Value`",
		"default":       "default",
		"a`b":           "`a``b`",
		`a\b`:           "`a\\\\b`",
		"1st":           "`1st`",
		"a$":            "`a$`",
	}
	for in, want := range cases {
		if got := ast.QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestString_Literals(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "NULL"},
		{true, "TRUE"},
		{int64(-3), "-3"},
		{1.0, "1.0"},
		{0.5, "0.5"},
		{1e21, "1e+21"},
		{"say \"hi\"\n\t\x01", `"say \"hi\"\n\t\u0001"`},
		{"é", `"é"`},
	}
	for _, c := range cases {
		if got := (&ast.Literal{Value: c.v}).String(); got != c.want {
			t.Errorf("%#v: %s, want %s", c.v, got, c.want)
		}
	}
}

// TestString_BuiltTree prints a tree built by hand (as the planner may
// build one) and checks that it parses back to itself.
func TestString_BuiltTree(t *testing.T) {
	tree := &ast.Select{Body: &ast.Subselect{
		Projection: &ast.Projection{Terms: []ast.ResultTerm{
			{Expr: &ast.Field{Target: &ast.Identifier{Name: "d"}, Name: "first name"}, Alias: "n"},
			{Expr: &ast.Call{Func: ast.FuncName{Name: "COUNT"}, Star: true}},
		}},
		From:  &ast.KeyspaceTerm{Namespace: "default", Path: []string{"travel-sample", "inventory", "hotel"}, Alias: "d"},
		Where: &ast.Binary{Op: ast.OpAnd, Left: &ast.Is{Target: &ast.Identifier{Name: "x"}, Kind: ast.IsMissing, Not: true}, Right: &ast.Unary{Op: ast.OpNeg, Operand: &ast.Param{Index: 1}}},
	}}
	const want = "SELECT d.`first name` AS n, COUNT(*) FROM default:`travel-sample`.inventory.hotel AS d WHERE ((x IS NOT MISSING) AND (-$1))"
	if got := tree.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if again := mustParse(t, want).String(); again != want {
		t.Fatalf("reprinted %s", again)
	}
}

func TestString_NegativeLiteralUnderMinus(t *testing.T) {
	e := &ast.Unary{Op: ast.OpNeg, Operand: &ast.Literal{Value: int64(-3)}}
	if got := e.String(); got != "(- -3)" {
		t.Fatalf("got %s", got)
	}
	if _, err := parser.ParseExpression(e.String()); err != nil {
		t.Fatalf("printed text does not parse: %v", err)
	}
}

func TestImplicitAliases(t *testing.T) {
	s := mustParse(t, "SELECT a, b.c, d[0], META(k).id, 1 + 2 AS three, e AS f FROM x.y.z")
	sub := s.(*ast.Select).Body.(*ast.Subselect)
	var got []string
	for i := range sub.Projection.Terms {
		got = append(got, sub.Projection.Terms[i].ImplicitAlias())
	}
	if want := []string{"a", "c", "", "id", "three", "f"}; !reflect.DeepEqual(got, want) {
		t.Errorf("aliases %q, want %q", got, want)
	}
	if a := sub.From.(*ast.KeyspaceTerm).AliasOrDefault(); a != "z" {
		t.Errorf("keyspace alias %q", a)
	}
}
