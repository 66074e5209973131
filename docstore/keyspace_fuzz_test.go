package docstore

import (
	"errors"
	"testing"
)

// FuzzParseKeyspace parses arbitrary keyspace strings: an error is
// ErrInvalid, and a parsed keyspace renders (String) back to a string that
// parses to the same keyspace.
func FuzzParseKeyspace(f *testing.F) {
	for _, s := range []string{"b", "b.s.c", "b.s", "b..c", ".", "", "a.b.c.d", "b%.s-1.c%", "b._default._default"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ks, err := ParseKeyspace(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseKeyspace(%q) error %v is not ErrInvalid", s, err)
			}
			return
		}
		again, err := ParseKeyspace(ks.String())
		if err != nil || again != ks {
			t.Fatalf("ParseKeyspace(%q) = %+v; its String %q parses to %+v, %v", s, ks, ks.String(), again, err)
		}
	})
}
