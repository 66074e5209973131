package parser_test

import (
	"errors"
	"testing"

	"eventide/query/parser"
)

// TestParse_Errors checks refused statements: Couchbase's code, message
// and position.
func TestParse_Errors(t *testing.T) {
	cases := []struct {
		in        string
		code      int
		line, col int
		msg       string
	}{
		{"SELECT * FRO", 3000, 1, 10, "syntax error - line 1, column 10, near 'SELECT * ', at: FRO"},
		{"SELECT", 3000, 1, 7, "syntax error - at end of input"},
		{"SELECT * FROM b WHERE", 3000, 1, 22, "syntax error - at end of input"},
		{"SELECT a = b = c", 3000, 1, 14, "syntax error - line 1, column 14, near 'SELECT a = b ', at: ="},
		{"SELECT a IS NULL IS NULL", 3000, 1, 18, "syntax error - line 1, column 18, near 'SELECT a IS NULL ', at: IS (reserved word)"},
		{"SELECT select FROM b", 3000, 1, 8, "syntax error - line 1, column 8, near 'SELECT ', at: select (reserved word)"},
		{"SELECT a.value FROM b", 3000, 1, 10, "syntax error - line 1, column 10, near 'SELECT a.', at: value (reserved word)"},
		{"SELECT a # b", 3000, 1, 10, "syntax error - line 1, column 10, near 'SELECT a ', at: #"},
		{"SELECT a FROM b c d", 3000, 1, 19, "syntax error - line 1, column 19, near 'SELECT a FROM b c ', at: d"},
		{"SELECT name FROM `travel-sample` WHERE type = 'airline' AND", 3000, 1, 60, "syntax error - at end of input"},
		{"SELECT name FROM `travel-sample` WHERE type = 'airline' ORDER name", 3000, 1, 63,
			"syntax error - line 1, column 63, near '...e = 'airline' ORDER ', at: name"},
		{"SELECT a\n  FROM b\n  WHERE x =\n  ORDER BY y", 3000, 4, 3, "syntax error - line 4, column 3, at: ORDER (reserved word)"},
		{"SELECT a\n  FROM b c d", 3000, 2, 12, "syntax error - line 2, column 12, near '...FROM b c ', at: d"},
		{"SELECT * FROM b WHERE x = 'abc", 3000, 1, 27,
			"syntax error: invalid quoted string - missing closing quote - line 1, column 27, near '...* FROM b WHERE x = ', at: 'abc"},
		{`SELECT "a\qb"`, 3000, 1, 8, `syntax error: invalid quoted string - invalid escape sequence - line 1, column 8, near 'SELECT ', at: "a\qb"`},
		{"SELECT `x", 3000, 1, 8, "syntax error: invalid escaped identifier - missing closing quote - line 1, column 8, near 'SELECT ', at: `x"},
		{"SELECT 12abc", 3000, 1, 8, "syntax error: invalid number - line 1, column 8, near 'SELECT ', at: 12abc"},
		{"SELECT 1e999", 3000, 1, 8, "syntax error: invalid number - line 1, column 8, near 'SELECT ', at: 1e999"},
		{"SELECT $0", 3000, 1, 8, "syntax error - line 1, column 8, near 'SELECT ', at: $"},
		{"SELECT $99999999999", 3000, 1, 8, "Positional parameter out of range: $99999999999 (near line 1, column 8)"},
		{"SELECT {1}", 3000, 1, 9, "Object member missing name or value: 1 (near line 1, column 9)"},
		{"SELECT CASE END", 3000, 1, 13, "syntax error - line 1, column 13, near 'SELECT CASE ', at: END (reserved word)"},
		{`SELECT * FROM b USE KEYS "k" INDEX (ix)`, 3000, 1, 30, `syntax error - line 1, column 30, near '...FROM b USE KEYS "k" ', at: INDEX (reserved word)`},
		{`SELECT * FROM a JOIN b USE HASH ON a.x = b.y`, 3000, 1, 33, `syntax error - line 1, column 33, near '...M a JOIN b USE HASH ', at: ON (reserved word)`},
		{"UPDATE b SET f(x) = 1", 3000, 1, 14, "syntax error - line 1, column 14, near 'UPDATE b SET ', at: f"},
		{"UPDATE b SET a TO 1", 3000, 1, 16, "syntax error - line 1, column 16, near 'UPDATE b SET a ', at: TO (reserved word)"},
		{"MERGE INTO b USING c ON KEY c.k WHEN MATCHED THEN DELETE WHEN MATCHED THEN UPDATE SET b.x = 1", 3000, 1, 58,
			"syntax error - line 1, column 58, near '...MATCHED THEN DELETE ', at: WHEN (reserved word)"},
		{"SELECT * FROM (SELECT 1)", 3000, 1, 15, "Subquery in FROM clause must have an alias (near line 1, column 15)."},
		{"SELECT * FROM `b`i", 3000, 1, 15, "Keyspace term must be case sensitive (near line 1, column 15)"},
		{"SELECT * FROM a JOIN [1] AS x ON KEYS a.k", 3000, 1, 22, "JOIN must be done on a keyspace (near line 1, column 22)"},
		{"PREPARE `p`i FROM SELECT 1", 3000, 1, 9, "Prepared identifier must be case sensitive (near line 1, column 9)"},
		{"CREATE OR REPLACE FUNCTION f() IF NOT EXISTS { 1 }", 3000, 1, 32,
			"syntax error - OR REPLACE and IF NOT EXISTS are mutually exclusive (near line 1, column 32)"},
		{"CREATE FUNCTION IF NOT EXISTS f() IF NOT EXISTS { 1 }", 3000, 1, 35,
			"syntax error - specify IF NOT EXISTS only once (near line 1, column 35)"},
		{"MERGE INTO b USE KEYS 'k' USING c ON KEY c.k WHEN MATCHED THEN DELETE", 3000, 1, 14,
			"Keyspace reference cannot have USE KEYS hint in MERGE statement (near line 1, column 14)"},
		{`CREATE INDEX ix ON b(a) WITH {"nodes": [$n]}`, 3000, 1, 30, "WITH value must be static (near line 1, column 30)"},
		{"CREATE INDEX ix ON b(a DESC ASC)", 3000, 1, 29, "Duplicate or Invalid index key attribute (near line 1, column 29)"},
		{"SELECT 007", 3000, 1, 9, "syntax error - line 1, column 9, near 'SELECT 0', at: 0"},
		{"SELECT * FROM a RIGHT UNNEST a.x", 3000, 1, 23, "syntax error - line 1, column 23, near '...LECT * FROM a RIGHT ', at: UNNEST (reserved word)"},
		{"SELECT * FROM foo:b", 3000, 1, 18, "syntax error - line 1, column 18, near 'SELECT * FROM foo', at: :"},
		{"SELECT * FROM DEFAULT:b", 3000, 1, 22, "syntax error - line 1, column 22, near '...ELECT * FROM DEFAULT', at: :"},
		{"SELECT 1; SELECT 2", 3000, 1, 11, "syntax error - line 1, column 11, near 'SELECT 1; ', at: SELECT (reserved word)"},
		{"EXPLAIN EXPLAIN SELECT 1", 3000, 1, 9, "syntax error - line 1, column 9, near 'EXPLAIN ', at: EXPLAIN (reserved word)"},
		{"PREPARE p FROM EXECUTE q", 3000, 1, 16, "syntax error - line 1, column 16, near 'PREPARE p FROM ', at: EXECUTE (reserved word)"},
		{"DELETE b WHERE a = 1", 3000, 1, 8, "syntax error - line 1, column 8, near 'DELETE ', at: b"},
		{"UPDATE b WHERE a = 1", 3000, 1, 10, "syntax error - line 1, column 10, near 'UPDATE b ', at: WHERE (reserved word)"},
		{"CREATE INDEX ON b(a)", 3000, 1, 14, "syntax error - line 1, column 14, near 'CREATE INDEX ', at: ON (reserved word)"},
		{`INSERT INTO b VALUES ("k")`, 3000, 1, 26, `syntax error - line 1, column 26, near '...T INTO b VALUES ("k"', at: )`},
		{`CREATE FUNCTION f() LANGUAGE JAVASCRIPT AS f`, 3000, 1, 44, "syntax error - line 1, column 44, near '...GUAGE JAVASCRIPT AS ', at: f"},
		{"SELECT * FROM a JOIN b ON KEYS a.x JOIN c ON a.y = c.y", 3200, 1, 36, "Cannot mix non ANSI JOIN on b with ANSI JOIN on c."},
		{"SELECT * FROM a NEST b ON a.y = b.y JOIN c ON KEYS a.x", 3200, 1, 37, "Cannot mix ANSI NEST on b with non ANSI JOIN on c."},
		{"SELECT * FROM a JOIN b USE HASH(BUILD) ON KEYS a.x", 3110, 1, 17, "JOIN on b cannot have join hint (USE HASH or USE NL)."},
		{"SELECT * FROM a NEST b x USE KEYS 'k' ON KEYS a.x", 3120, 1, 17, "NEST on x cannot have USE KEYS."},
		{"SELECT * FROM a JOIN b USE INDEX (ix) ON KEYS a.x", 3130, 1, 17, "JOIN on b cannot have USE INDEX."},
		{"MERGE INTO b USING c ON b.x = c.x WHEN NOT MATCHED THEN INSERT c", 3160, 1, 57,
			"MERGE with ON clause must have document key specification in INSERT action."},
		{"MERGE INTO b USING c ON KEY c.k WHEN NOT MATCHED THEN INSERT (KEY c.k, VALUE c)", 3150, 1, 55,
			"MERGE with ON KEY clause cannot have document key specification in INSERT action."},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			s, err := parser.Parse(c.in)
			if err == nil {
				t.Fatalf("accepted as %s", s)
			}
			var se *parser.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SyntaxError", err, err)
			}
			if se.Code != c.code || se.Line != c.line || se.Column != c.col || se.Msg != c.msg || err.Error() != c.msg {
				t.Fatalf("got code %d at %d:%d %q\nwant code %d at %d:%d %q", se.Code, se.Line, se.Column, se.Msg, c.code, c.line, c.col, c.msg)
			}
		})
	}
}

// TestParse_DocumentationErrata: two documentation examples
// that Couchbase itself refuses (a missing and a stray comma).
func TestParse_DocumentationErrata(t *testing.T) {
	for _, stmt := range []string{
		"MERGE INTO all_empts a USING emps_deptb b ON KEY b.empId\nWHEN MATCHED THEN\n  UPDATE SET a.depts = a.depts + 1\n  a.title = b.title || \", \" || b.title\nWHEN NOT MATCHED THEN\n  INSERT { \"name\": b.name }",
		"SELECT DISTINCT MIN(aport.airportname) AS Airport__Name,\n                MIN(lmark.name) AS Landmark_Name,\nFROM `travel-sample`.inventory.airport aport",
	} {
		if _, err := parser.Parse(stmt); err == nil {
			t.Errorf("accepted %q", stmt)
		}
	}
}
