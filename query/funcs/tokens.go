package funcs

import (
	"strings"
	"unicode"

	"eventide/query/value"
)

// TOKENS(expr [, options]) lists the distinct scalars of expr, with
// strings split into words and object names included; options are
// {"names": bool, "case": "lower"|"upper", "specials": bool,
// "split": bool, "trim": bool}, as in Couchbase.
func init() {
	register("tokens", 1, 2, pure(func(a []value.Value) value.Value {
		opts := value.NewObject(nil)
		if len(a) == 2 {
			opts = a[1]
		}
		if a[0].IsMissing() || opts.IsMissing() {
			return value.MissingValue
		}
		if opts.Kind() != value.Object {
			return value.NullValue
		}
		t := tokenizer{opts: opts, seen: map[string]bool{}}
		t.add(a[0])
		if t.out == nil {
			t.out = []value.Value{}
		}
		return value.NewArray(t.out)
	}))
}

type tokenizer struct {
	opts value.Value
	seen map[string]bool
	out  []value.Value
}

func (t *tokenizer) option(name string) (bool, bool) {
	return t.opts.Field(name).Bool()
}

func (t *tokenizer) put(v value.Value) {
	k := string(value.EncodeKey(v))
	if !t.seen[k] {
		t.seen[k] = true
		t.out = append(t.out, v)
	}
}

func (t *tokenizer) add(v value.Value) {
	switch v.Kind() {
	case value.Missing:
	case value.String:
		t.words(str(v))
	case value.Array:
		for _, e := range elems(v) {
			t.add(e)
		}
	case value.Object:
		names := true
		if b, ok := t.option("names"); ok {
			names = b
		}
		for _, p := range v.SortedPairs() {
			if names {
				t.words(p.Name)
			}
			t.add(p.Value)
		}
	default:
		t.put(v)
	}
}

func (t *tokenizer) words(s string) {
	fold := func(s string) string { return s }
	if c, ok := t.opts.Field("case").Str(); ok {
		switch strings.ToLower(c) {
		case "lower":
			fold = strings.ToLower
		case "upper":
			fold = strings.ToUpper
		}
	}
	notWord := func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsNumber(c) }
	if split, ok := t.option("split"); ok && !split {
		if trim, ok := t.option("trim"); !ok || trim {
			s = strings.TrimSpace(s)
		}
		t.put(value.NewString(fold(s)))
		return
	}
	for _, f := range strings.FieldsFunc(s, notWord) {
		t.put(value.NewString(fold(f)))
	}
	// specials keep e-mail addresses, URLs and the like whole
	if sp, ok := t.option("specials"); ok && sp {
		for _, f := range strings.FieldsFunc(s, func(c rune) bool {
			return unicode.IsSpace(c) || strings.ContainsRune("()[]{}", c)
		}) {
			if f = strings.TrimRightFunc(f, notWord); f != "" {
				t.put(value.NewString(fold(f)))
			}
		}
	}
}
