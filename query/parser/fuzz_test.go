package parser_test

import (
	"errors"
	"testing"

	"eventide/query/parser"
)

// checkAnyInput is the property every input must have: Parse returns a
// tree or a *SyntaxError (never a panic), and an accepted statement's
// canonical text parses back to the same tree.
func checkAnyInput(t testing.TB, stmt string) {
	t.Helper()
	s, err := parser.Parse(stmt)
	if err != nil {
		var se *parser.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Parse(%q): error %T is not a *SyntaxError", stmt, err)
		}
		if se.Line < 1 || se.Column < 1 || se.Msg == "" {
			t.Fatalf("Parse(%q): error without a position or message: %+v", stmt, se)
		}
		return
	}
	checkRoundTrip(t, stmt, s)
}

// TestParse_EveryPrefix parses every prefix of the documentation examples:
// most are not statements, none may panic, and the ones that are must
// round-trip.
func TestParse_EveryPrefix(t *testing.T) {
	for _, d := range docStatements(t) {
		for i := range len(d.text) {
			checkAnyInput(t, d.text[:i])
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, d := range docStatements(f) {
		f.Add(d.text)
	}
	for _, s := range []string{
		"SELECT `a``b`i.[c]i[1:][*].d FROM default:b.s.c USE KEYS ? WHERE $x IS NOT DISTINCT FROM @y",
		"SELECT {a, b.c AS d}, ARRAY [i, v] FOR i:v WITHIN o WHEN v END, 'it''s', \"\\u00e9\"",
		"MERGE INTO t USING (SELECT 1 AS k) s ON t.k = s.k WHEN NOT MATCHED THEN INSERT (s.k, s)",
		"CREATE FUNCTION f(...) { ARRAY_LENGTH(args) }",
		"(SELECT 1) UNION ALL FROM b SELECT RAW b ORDER BY 1 OFFSET 1",
		"-- comment\n/* block */ SELECT -1.5e-3 ^ 2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stmt string) {
		checkAnyInput(t, stmt)
	})
}

// BenchmarkParse_Select parses a typical application query.
func BenchmarkParse_Select(b *testing.B) {
	const stmt = "SELECT a.name, a.country, COUNT(r.id) AS routes " +
		"FROM `travel-sample`.inventory.airline AS a " +
		"JOIN `travel-sample`.inventory.route AS r ON r.airlineid = META(a).id " +
		"WHERE a.country = $country AND r.stops = 0 " +
		"GROUP BY a.name, a.country ORDER BY routes DESC LIMIT 10"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.Parse(stmt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse_KeyLookup parses the statement an application sends most.
func BenchmarkParse_KeyLookup(b *testing.B) {
	const stmt = "SELECT * FROM users USE KEYS $1"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.Parse(stmt); err != nil {
			b.Fatal(err)
		}
	}
}
