package parser_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"eventide/query/ast"
	"eventide/query/parser"
)

var posType = reflect.TypeOf(ast.Pos{})

// clearPositions zeroes every ast.Pos in the tree so that trees parsed
// from differently laid out text can be compared.
func clearPositions(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearPositions(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == posType {
			if v.CanSet() {
				v.Set(reflect.Zero(posType))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			clearPositions(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			clearPositions(v.Index(i))
		}
	}
}

// sameTree reports whether a and b are equal apart from positions; it
// clears the positions of both.
func sameTree(a, b ast.Node) bool {
	clearPositions(reflect.ValueOf(a))
	clearPositions(reflect.ValueOf(b))
	return reflect.DeepEqual(a, b)
}

// mustParse parses stmt or fails the test.
func mustParse(t testing.TB, stmt string) ast.Statement {
	t.Helper()
	s, err := parser.Parse(stmt)
	if err != nil {
		t.Fatalf("Parse(%q): %v", stmt, err)
	}
	return s
}

// checkRoundTrip asserts that the canonical text of s parses back to the
// same tree, and prints the same again.
func checkRoundTrip(t testing.TB, src string, s ast.Statement) {
	t.Helper()
	text := s.String()
	again, err := parser.Parse(text)
	if err != nil {
		t.Fatalf("canonical text of %q does not parse: %v\n%s", src, err, text)
	}
	if again.String() != text {
		t.Fatalf("canonical text not stable for %q:\n%s\n%s", src, text, again.String())
	}
	if !sameTree(s, again) {
		t.Fatalf("round trip changed the tree of %q:\n%s", src, text)
	}
}

type docStatement struct {
	name, text string
}

// docStatements reads testdata/couchbase_docs.sql: blocks headed by
// "-- @ name".
func docStatements(t testing.TB) []docStatement {
	t.Helper()
	b, err := os.ReadFile("testdata/couchbase_docs.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []docStatement
	for _, block := range strings.Split(string(b), "\n-- @ ")[1:] {
		name, text, _ := strings.Cut(block, "\n")
		out = append(out, docStatement{name, strings.TrimSpace(text)})
	}
	return out
}
