package docstore

import (
	"encoding/json"
	"strings"
	"testing"
)

var jsonSamples = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, ` { "a" : [ 1 , 2.5e-3 , -0 , true , false , null , "x\"\\\/\b\f\n\r\t\u00e9" ] } `,
	`{"a":1,}`, `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `[1 2]`, `"abc`, `"a\x"`, `"\u12"`, `"\u12g4"`,
	"\"tab\there\"", "\"ctl\x01\"", "\"\xff\xfe invalid utf8\"", `01`, `-`, `-a`, `1.`, `1.e5`, `1e`, `1e+`, `.5`, `+1`, `1E+10`,
	`tru`, `truex`, `nul`, `null null`, `{}}`, `[[]]]`, `[{]}`, `{"a":[}]}`, `"a" "b"`, "\n1\n", `{"":""}`, `[[[[[[]]]]]]`,
	`123abc`, `-01`, `0.0`, `1e999`, `{"a":{"b":{"c":[{"d":null}]}}}`, `]`, `}`, `:`, `,`, "\x00", `"\/"`,
}

func TestValidJSON_MatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid = %v", s, got, want)
		}
	}
	for _, depth := range []int{9999, 10000, 10001} {
		cases := []string{
			strings.Repeat("[", depth) + strings.Repeat("]", depth),
			strings.Repeat(`{"k":`, depth-1) + "{}" + strings.Repeat("}", depth-1),
			strings.Repeat("[", depth-1) + `{"k":1}` + strings.Repeat("]", depth-1),
		}
		for _, s := range cases {
			if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
				t.Errorf("depth %d %.12q...: validJSON = %v, json.Valid = %v", depth, s, got, want)
			}
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	for _, impl := range []struct {
		name string
		f    func([]byte) bool
	}{{"validJSON", validJSON}, {"encoding/json", json.Valid}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(body200)))
			for b.Loop() {
				if !impl.f(body200) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
