package parser_test

import (
	"testing"
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
