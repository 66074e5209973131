package library

import "testing"

func TestResolvePath_CouchbaseRules(t *testing.T) {
	inv := Scope{"travel-sample", "inventory"}
	cases := []struct {
		name    string
		fnScope Scope
		path    string
		scope   Scope
		lib     string
		bad     bool
	}{
		{"plain name from a global function", Scope{}, "math", Scope{}, "math", false},
		{"plain name from a scoped function is global", inv, "math", Scope{}, "math", false},
		{"local path from a scoped function", inv, "./science", inv, "science", false},
		{"local path from a global function", Scope{}, "./math", Scope{}, "math", false},
		{"own scope path", inv, "travel-sample/inventory/science", inv, "science", false},
		{"another scope", inv, "travel-sample/tenant/science", Scope{}, "", true},
		{"scoped path from a global function", Scope{}, "travel-sample/inventory/science", Scope{}, "", true},
		{"absolute path", inv, "/math", Scope{}, "", true},
		{"nested local path", inv, "./a/b", Scope{}, "", true},
		{"empty", Scope{}, "", Scope{}, "", true},
		{"bare dot slash", inv, "./", Scope{}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc, lib, err := ResolvePath(tc.fnScope, tc.path)
			if tc.bad {
				wantKind(t, err, ErrInvalidPath)
				return
			}
			if err != nil || sc != tc.scope || lib != tc.lib {
				t.Fatalf("ResolvePath(%v, %q) = %v, %q, %v; want %v, %q", tc.fnScope, tc.path, sc, lib, err, tc.scope, tc.lib)
			}
		})
	}
}
