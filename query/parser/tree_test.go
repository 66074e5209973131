package parser_test

import (
	"reflect"
	"testing"

	"eventide/query/ast"
	"eventide/query/parser"
)

func mustSelect(t *testing.T, stmt string) (*ast.Select, *ast.Subselect) {
	t.Helper()
	s, ok := mustParse(t, stmt).(*ast.Select)
	if !ok {
		t.Fatalf("%q is not a SELECT", stmt)
	}
	sub, _ := s.Body.(*ast.Subselect)
	return s, sub
}

func mustExpr(t *testing.T, text string) ast.Expr {
	t.Helper()
	e, err := parser.ParseExpression(text)
	if err != nil {
		t.Fatalf("ParseExpression(%q): %v", text, err)
	}
	return e
}

func TestParse_Positions(t *testing.T) {
	stmt := "SELECT a,\n  b.c\nFROM ks\nWHERE x = \"é\" AND y"
	_, sub := mustSelect(t, stmt)
	if got := sub.Position(); got != (ast.Pos{Line: 1, Column: 1, Offset: 0}) {
		t.Errorf("subselect at %+v", got)
	}
	field := sub.Projection.Terms[1].Expr.(*ast.Field)
	if got := field.Target.Position(); got != (ast.Pos{Line: 2, Column: 3, Offset: 12}) {
		t.Errorf("b at %+v", got)
	}
	if got := sub.From.Position(); got != (ast.Pos{Line: 3, Column: 6, Offset: 21}) {
		t.Errorf("ks at %+v", got)
	}
	and := sub.Where.(*ast.Binary)
	// columns count characters: "é" is one column, two bytes
	y := and.Right.(*ast.Identifier)
	if got := y.Position(); got != (ast.Pos{Line: 4, Column: 19, Offset: 43}) {
		t.Errorf("y at %+v", got)
	}
}

func TestParse_LeadingWhiteSpaceIsTrimmed(t *testing.T) {
	_, sub := mustSelect(t, "\n\n   SELECT x")
	if got := sub.Projection.Terms[0].Expr.Position(); got != (ast.Pos{Line: 1, Column: 8, Offset: 7}) {
		t.Errorf("x at %+v; Couchbase counts from the trimmed statement", got)
	}
}

func TestParse_Literals(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{`NULL`, nil},
		{`true`, true},
		{`FALSE`, false},
		{`42`, int64(42)},
		{`9223372036854775807`, int64(9223372036854775807)},
		{`9223372036854775808`, 9223372036854775808.0},
		{`1.5`, 1.5},
		{`15e-1`, 1.5},
		{`2.5E+2`, 250.0},
		{`"a\"b"`, `a"b`},
		{`'it''s'`, `it's`},
		{`"it''s"`, `it''s`},
		{`'tab\there'`, "tab\there"},
		{`"\u00e9\/\\"`, `é/\`},
		{`"\ud83d\ude00"`, "😀"},
		{`"multi
line"`, "multi\nline"},
	}
	for _, c := range cases {
		l, ok := mustExpr(t, c.in).(*ast.Literal)
		if !ok {
			t.Errorf("%s: not a literal", c.in)
			continue
		}
		if !reflect.DeepEqual(l.Value, c.want) {
			t.Errorf("%s: value %#v, want %#v", c.in, l.Value, c.want)
		}
	}
	if _, ok := mustExpr(t, "missing").(*ast.Missing); !ok {
		t.Error("MISSING is not a Missing node")
	}
}

func TestParse_Identifiers(t *testing.T) {
	id := mustExpr(t, "`select`").(*ast.Identifier)
	if id.Name != "select" || id.CaseInsensitive {
		t.Errorf("back-quoted reserved word: %+v", id)
	}
	id = mustExpr(t, "`Name`i").(*ast.Identifier)
	if id.Name != "Name" || !id.CaseInsensitive {
		t.Errorf("case-insensitive identifier: %+v", id)
	}
	id = mustExpr(t, "`a``b\\`c`").(*ast.Identifier)
	if id.Name != "a`b`c" {
		t.Errorf("escaped back quotes: %q", id.Name)
	}
	f := mustExpr(t, "doc.`first name`").(*ast.Field)
	if f.Name != "first name" || f.Target.(*ast.Identifier).Name != "doc" {
		t.Errorf("field: %+v", f)
	}
	for _, kw := range []string{"default", "user", "sequence", "vector"} {
		if got := mustExpr(t, kw).(*ast.Identifier).Name; got != kw {
			t.Errorf("%s: %q", kw, got)
		}
	}
}

func TestParse_Params(t *testing.T) {
	s := mustParse(t, "SELECT ? FROM b WHERE a = $x AND b IN [?, $3, @y]")
	var got []ast.Param
	for _, p := range ast.Params(s) {
		got = append(got, *p)
	}
	clearPositions(reflect.ValueOf(got))
	want := []ast.Param{
		{Index: 1, Question: true},
		{Name: "x"},
		{Index: 2, Question: true},
		{Index: 3},
		{Name: "y"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("params %+v\nwant %+v", got, want)
	}
}

func TestParse_Precedence(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a OR b AND c", "(a OR (b AND c))"},
		{"NOT a AND b", "((NOT a) AND b)"},
		{"NOT a = b", "(NOT (a = b))"},
		{"a = b AND c < d", "((a = b) AND (c < d))"},
		{"a = b < c", "(a = (b < c))"},
		{"a < b = c", "((a < b) = c)"},
		{"a = b LIKE c", "(a = (b LIKE c))"},
		{"a LIKE b IN c", "(a LIKE (b IN c))"},
		{"a IN b IS NULL", "(a IN (b IS NULL))"},
		{"EXISTS a IS NULL", "(EXISTS (a IS NULL))"},
		{"EXISTS a IN b", "((EXISTS a) IN b)"},
		{"a IS NULL = TRUE", "((a IS NULL) = TRUE)"},
		{"a || b = c || d", "((a || b) = (c || d))"},
		{"a + b || c", "((a + b) || c)"},
		{"a - b - c", "((a - b) - c)"},
		{"a * b + c * d", "((a * b) + (c * d))"},
		{"a / b % c", "((a / b) % c)"},
		{"-a * b", "((-a) * b)"},
		{"-a.b[0]", "(-a.b[0])"},
		{"- -a", "(-(-a))"},
		{"a BETWEEN b + 1 AND c AND d", "((a BETWEEN (b + 1) AND c) AND d)"},
		{"a NOT BETWEEN 1 AND 2 OR b", "((a NOT BETWEEN 1 AND 2) OR b)"},
		{"a IS DISTINCT FROM b IS DISTINCT FROM c", "((a IS DISTINCT FROM b) IS DISTINCT FROM c)"},
		{"a = NOT b", "(a = (NOT b))"},
		{"(a OR b) AND c", "((a OR b) AND c)"},
	}
	for _, c := range cases {
		if got := mustExpr(t, c.in).String(); got != c.want {
			t.Errorf("%s: %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParse_Functions(t *testing.T) {
	cases := []struct {
		in   string
		want ast.Call
	}{
		{"COUNT(*)", ast.Call{Func: ast.FuncName{Name: "COUNT"}, Star: true}},
		{"count(DISTINCT a)", ast.Call{Func: ast.FuncName{Name: "count"}, Distinct: true,
			Args: []ast.Expr{&ast.Identifier{Name: "a"}}}},
		{"s.f(1)", ast.Call{Func: ast.FuncName{Path: []string{"s"}, Name: "f"},
			Args: []ast.Expr{&ast.Literal{Value: int64(1)}}}},
		{"b.s.f()", ast.Call{Func: ast.FuncName{Path: []string{"b", "s"}, Name: "f"}}},
		{"default:b.s.f()", ast.Call{Func: ast.FuncName{Namespace: "default", Path: []string{"b", "s"}, Name: "f"}}},
		{"default:f()", ast.Call{Func: ast.FuncName{Namespace: "default", Name: "f"}}},
		{"SUM(x) FILTER (WHERE x > 0)", ast.Call{Func: ast.FuncName{Name: "SUM"},
			Args:   []ast.Expr{&ast.Identifier{Name: "x"}},
			Filter: &ast.Binary{Op: ast.OpGt, Left: &ast.Identifier{Name: "x"}, Right: &ast.Literal{Value: int64(0)}}}},
	}
	for _, c := range cases {
		got, ok := mustExpr(t, c.in).(*ast.Call)
		if !ok {
			t.Errorf("%s: not a call", c.in)
			continue
		}
		want := c.want
		if !sameTree(got, &want) {
			t.Errorf("%s: %#v\nwant %#v", c.in, got, &want)
		}
	}
	m := mustExpr(t, "META(b).id").(*ast.Field)
	if meta, ok := m.Target.(*ast.Meta); !ok || meta.Keyspace.(*ast.Identifier).Name != "b" || m.Name != "id" {
		t.Errorf("META(b).id: %#v", m)
	}
	if meta := mustExpr(t, "meta()").(*ast.Meta); meta.Keyspace != nil {
		t.Errorf("META(): %#v", meta)
	}
}

func TestParse_SelectClauses(t *testing.T) {
	s, sub := mustSelect(t, `SELECT DISTINCT a.x AS y, a.z, b.*, *
		FROM default:bkt.scp.coll AS a USE KEYS ["k1"] JOIN other b ON a.id = b.id
		LET n = 1 WHERE a.v > n GROUP BY a.z LETTING c = COUNT(*) HAVING c > 1
		ORDER BY y DESC NULLS FIRST LIMIT 5 OFFSET 10`)
	p := sub.Projection
	if !p.Distinct || p.Raw || len(p.Terms) != 4 {
		t.Fatalf("projection %+v", p)
	}
	if p.Terms[0].Alias != "y" || p.Terms[1].Alias != "" || p.Terms[1].ImplicitAlias() != "z" {
		t.Errorf("aliases %+v %+v", p.Terms[0], p.Terms[1])
	}
	if !p.Terms[2].Star || p.Terms[2].Expr.(*ast.Identifier).Name != "b" || !p.Terms[3].Star || p.Terms[3].Expr != nil {
		t.Errorf("stars %+v %+v", p.Terms[2], p.Terms[3])
	}
	j := sub.From.(*ast.JoinTerm)
	left := j.Left.(*ast.KeyspaceTerm)
	if left.Namespace != "default" || !reflect.DeepEqual(left.Path, []string{"bkt", "scp", "coll"}) ||
		left.Alias != "a" || left.UseKeys == nil {
		t.Errorf("left %+v", left)
	}
	right := j.Right.(*ast.KeyspaceTerm)
	if j.Kind != ast.JoinInner || j.On == nil || right.AliasOrDefault() != "b" {
		t.Errorf("join %+v right %+v", j, right)
	}
	if len(sub.Let) != 1 || sub.Let[0].Var != "n" || sub.Where == nil {
		t.Errorf("let/where %+v %v", sub.Let, sub.Where)
	}
	g := sub.GroupBy
	if len(g.Keys) != 1 || len(g.Letting) != 1 || g.Letting[0].Var != "c" || g.Having == nil {
		t.Errorf("group %+v", g)
	}
	if len(s.OrderBy) != 1 || !s.OrderBy[0].Desc || s.OrderBy[0].Nulls != ast.NullsFirst {
		t.Errorf("order %+v", s.OrderBy)
	}
	if s.Limit.(*ast.Literal).Value != int64(5) || s.Offset.(*ast.Literal).Value != int64(10) {
		t.Errorf("limit %v offset %v", s.Limit, s.Offset)
	}
}

func TestParse_KeyspacePaths(t *testing.T) {
	cases := []struct {
		in        string
		namespace string
		path      []string
	}{
		{"b", "", []string{"b"}},
		{"`travel-sample`", "", []string{"travel-sample"}},
		{"s.c", "", []string{"s", "c"}},
		{"b.s.c", "", []string{"b", "s", "c"}},
		{"default:b", "default", []string{"b"}},
		{"default:b.s.c", "default", []string{"b", "s", "c"}},
		{"system:keyspaces", "system", []string{"keyspaces"}},
	}
	for _, c := range cases {
		_, sub := mustSelect(t, "SELECT * FROM "+c.in)
		k, ok := sub.From.(*ast.KeyspaceTerm)
		if !ok {
			t.Errorf("%s: %T", c.in, sub.From)
			continue
		}
		if k.Namespace != c.namespace || !reflect.DeepEqual(k.Path, c.path) {
			t.Errorf("%s: %q %q", c.in, k.Namespace, k.Path)
		}
	}
	// an expression that is not a path is an expression term
	_, sub := mustSelect(t, "SELECT * FROM b.arr[0] AS x")
	if e, ok := sub.From.(*ast.ExprTerm); !ok || e.Alias != "x" {
		t.Errorf("FROM b.arr[0]: %#v", sub.From)
	}
}

func TestParse_DML(t *testing.T) {
	in := mustParse(t, `INSERT INTO b AS x (KEY, VALUE, OPTIONS) VALUES ("k", {"a": 1}, {"expiration": 5}), ("j", 2, NULL) RETURNING META(x).id`).(*ast.Insert)
	if in.Upsert || in.Keyspace.Alias != "x" || len(in.Values) != 2 || in.Values[0].Options == nil || in.Returning == nil || in.Query != nil {
		t.Errorf("insert %+v", in)
	}
	up := mustParse(t, `UPSERT INTO b (KEY id, VALUE doc) SELECT META(d).id AS id, d AS doc FROM c d`).(*ast.Insert)
	if !up.Upsert || up.Query == nil || up.Key == nil || up.Value == nil || up.Values != nil {
		t.Errorf("upsert select %+v", up)
	}
	u := mustParse(t, `UPDATE b USE KEYS "k" SET a = 1, c.x = 2 FOR c IN cs WHEN c.y END UNSET d WHERE e LIMIT 3 RETURNING *`).(*ast.Update)
	if u.Keyspace.UseKeys == nil || len(u.Set) != 2 || u.Set[1].For == nil || len(u.Set[1].For.Dimensions) != 1 ||
		u.Set[1].For.When == nil || len(u.Unset) != 1 || u.Where == nil || u.Limit == nil || u.Returning == nil {
		t.Errorf("update %+v", u)
	}
	d := mustParse(t, `DELETE FROM b x WHERE x.old LIMIT 10 OFFSET 2 RETURNING RAW META(x).id`).(*ast.Delete)
	if d.Keyspace.Alias != "x" || d.Where == nil || d.Limit == nil || d.Offset == nil || !d.Returning.Raw {
		t.Errorf("delete %+v", d)
	}
	m := mustParse(t, `MERGE INTO t USING s ON KEY s.k WHEN MATCHED THEN UPDATE SET t.n = s.n WHERE s.ok
		WHEN MATCHED THEN DELETE WHERE s.gone WHEN NOT MATCHED THEN INSERT s WHERE s.new`).(*ast.Merge)
	if m.OnKey == nil || m.On != nil || m.Update == nil || m.Update.Where == nil || m.Delete == nil ||
		m.Insert == nil || m.Insert.Key != nil || m.Insert.Value == nil || m.Insert.Where == nil {
		t.Errorf("merge %+v", m)
	}
}

func TestParse_DDL(t *testing.T) {
	ci := mustParse(t, `CREATE INDEX ix IF NOT EXISTS ON default:b.s.c(DISTINCT ARRAY v FOR v IN vs END, a DESC, b INCLUDE MISSING) WHERE type = "t" USING GSI WITH {"defer_build": true}`).(*ast.CreateIndex)
	if ci.Primary || ci.Name != "ix" || !ci.IfNotExists || ci.Keyspace.Namespace != "default" || len(ci.Keys) != 3 ||
		!ci.Keys[0].Distinct || !ci.Keys[1].Desc || !ci.Keys[2].IncludeMissing || ci.Where == nil || ci.Using != "GSI" || ci.With == nil {
		t.Errorf("create index %+v", ci)
	}
	if _, ok := ci.Keys[0].Expr.(*ast.ArrayFor); !ok {
		t.Errorf("array index key %T", ci.Keys[0].Expr)
	}
	pi := mustParse(t, `CREATE PRIMARY INDEX ON b`).(*ast.CreateIndex)
	if !pi.Primary || pi.Name != "" || len(pi.Keys) != 0 {
		t.Errorf("primary %+v", pi)
	}
	di := mustParse(t, `DROP INDEX b.ix`).(*ast.DropIndex)
	if di.Name != "ix" || !reflect.DeepEqual(di.Keyspace.Path, []string{"b"}) {
		t.Errorf("drop index %+v", di)
	}
	cf := mustParse(t, `CREATE OR REPLACE FUNCTION s.f(a, b) LANGUAGE JAVASCRIPT AS "f" AT "lib"`).(*ast.CreateFunction)
	if !cf.Replace || cf.Name.Name != "f" || !reflect.DeepEqual(cf.Name.Path, []string{"s"}) ||
		!reflect.DeepEqual(cf.Params, []string{"a", "b"}) || cf.Language != ast.LangJavaScript || cf.Object != "f" || cf.Library != "lib" {
		t.Errorf("create function %+v", cf)
	}
	inl := mustParse(t, `CREATE FUNCTION g(...) { ARRAY_LENGTH(args) }`).(*ast.CreateFunction)
	if !inl.Variadic || inl.Language != ast.LangInline || inl.Body == nil {
		t.Errorf("inline function %+v", inl)
	}
	js := mustParse(t, `CREATE FUNCTION h() LANGUAGE JAVASCRIPT AS 'function h() { return "x"; }'`).(*ast.CreateFunction)
	if js.Code != `function h() { return "x"; }` || js.Library != "" {
		t.Errorf("inline javascript %+v", js)
	}
	ex := mustParse(t, `EXECUTE FUNCTION default:b.s.f(1, "x")`).(*ast.ExecuteFunction)
	if ex.Name.Namespace != "default" || len(ex.Args) != 2 {
		t.Errorf("execute function %+v", ex)
	}
	pr := mustParse(t, `PREPARE FORCE p1 AS SELECT 1`).(*ast.Prepare)
	if !pr.Force || pr.Name != "p1" {
		t.Errorf("prepare %+v", pr)
	}
	if _, ok := pr.Stmt.(*ast.Select); !ok {
		t.Errorf("prepared %T", pr.Stmt)
	}
	e := mustParse(t, `EXECUTE p1 USING [1, 2]`).(*ast.Execute)
	if e.Name != "p1" || e.Using == nil {
		t.Errorf("execute %+v", e)
	}
}

func TestParse_CaseOfKeywordsDoesNotMatter(t *testing.T) {
	a := mustParse(t, "select distinct raw x from b where y is not missing order by x desc limit 1")
	b := mustParse(t, "SELECT DISTINCT RAW x FROM b WHERE y IS NOT MISSING ORDER BY x DESC LIMIT 1")
	if !sameTree(a, b) {
		t.Fatal("lower- and upper-case keywords give different trees")
	}
}

func TestParseExpression(t *testing.T) {
	e := mustExpr(t, "  LOWER(name) || '-' || TOSTRING(age)  ")
	if e.String() != `((LOWER(name) || "-") || TOSTRING(age))` {
		t.Errorf("got %s", e)
	}
	for _, bad := range []string{"", "a +", "SELECT 1", "a b", "(a"} {
		if _, err := parser.ParseExpression(bad); err == nil {
			t.Errorf("ParseExpression(%q) accepted", bad)
		}
	}
}
