package funcs

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"eventide/query/value"
)

func init() {
	isKind := func(test func(value.Value) bool) func(*Context, []value.Value) (value.Value, error) {
		return pure(func(a []value.Value) value.Value {
			if !a[0].IsValued() {
				return a[0]
			}
			return value.NewBool(test(a[0]))
		})
	}
	kindIs := func(k value.Kind) func(value.Value) bool {
		return func(v value.Value) bool { return v.Kind() == k }
	}
	register("is_array", 1, 1, isKind(kindIs(value.Array)), "isarray")
	register("is_atom", 1, 1, isKind(func(v value.Value) bool {
		k := v.Kind()
		return k == value.Boolean || k == value.Number || k == value.String
	}), "isatom")
	register("is_binary", 1, 1, isKind(kindIs(value.Binary)), "isbinary", "is_bin", "isbin")
	register("is_boolean", 1, 1, isKind(kindIs(value.Boolean)), "isboolean", "is_bool", "isbool")
	register("is_number", 1, 1, isKind(kindIs(value.Number)), "isnumber", "is_num", "isnum")
	register("is_object", 1, 1, isKind(kindIs(value.Object)), "isobject", "is_obj", "isobj")
	register("is_string", 1, 1, isKind(kindIs(value.String)), "isstring", "is_str", "isstr")
	register("type", 1, 1, pure(func(a []value.Value) value.Value { return value.NewString(a[0].TypeName()) }), "typename", "type_name")
	register("is_missing", 1, 1, pure(func(a []value.Value) value.Value { return value.NewBool(a[0].IsMissing()) }), "ismissing")
	register("is_not_missing", 1, 1, pure(func(a []value.Value) value.Value { return value.NewBool(!a[0].IsMissing()) }), "isnotmissing")
	register("is_null", 1, 1, pure(func(a []value.Value) value.Value {
		if a[0].IsMissing() {
			return a[0]
		}
		return value.NewBool(a[0].IsNull())
	}), "isnull")
	register("is_not_null", 1, 1, pure(func(a []value.Value) value.Value {
		if a[0].IsMissing() {
			return a[0]
		}
		return value.NewBool(!a[0].IsNull())
	}), "isnotnull")
	register("is_valued", 1, 1, pure(func(a []value.Value) value.Value { return value.NewBool(a[0].IsValued()) }), "isvalued", "is_known", "isknown", "is_not_unknown", "isnotunknown")
	register("is_not_valued", 1, 1, pure(func(a []value.Value) value.Value { return value.NewBool(!a[0].IsValued()) }), "isnotvalued", "is_unknown", "isunknown", "is_not_known", "isnotknown")

	register("to_array", 1, 1, pure(func(a []value.Value) value.Value {
		switch a[0].Kind() {
		case value.Missing, value.Null, value.Array:
			return a[0]
		case value.Binary:
			return value.NullValue
		}
		return value.NewArray([]value.Value{a[0]})
	}), "toarray")
	register("to_boolean", 1, 1, pure(func(a []value.Value) value.Value {
		if !a[0].IsValued() {
			return a[0]
		}
		return value.NewBool(value.Truth(a[0]))
	}), "toboolean", "to_bool", "tobool")
	register("to_number", 1, 2, pure(toNumber), "tonumber", "to_num", "tonum")
	register("to_object", 1, 1, pure(func(a []value.Value) value.Value {
		switch a[0].Kind() {
		case value.Missing, value.Null, value.Object:
			return a[0]
		}
		return value.NewObject(nil)
	}), "toobject", "to_obj", "toobj")
	register("to_string", 1, 1, pure(func(a []value.Value) value.Value { return ToString(a[0]) }), "tostring", "to_str", "tostr")
	register("to_atom", 1, 1, pure(toAtom), "toatom")

	// Conditional functions look at MISSING and NULL themselves.
	first := func(keep func(value.Value) bool) func(*Context, []value.Value) (value.Value, error) {
		return pure(func(a []value.Value) value.Value {
			for _, v := range a {
				if keep(v) {
					return v
				}
			}
			return value.NullValue
		})
	}
	register("ifmissing", 2, -1, first(func(v value.Value) bool { return !v.IsMissing() }), "if_missing")
	register("ifnull", 2, -1, first(func(v value.Value) bool { return !v.IsNull() }), "if_null")
	register("ifmissingornull", 2, -1, first(value.Value.IsValued), "if_missing_or_null", "coalesce")
	register("missingif", 2, 2, pure(func(a []value.Value) value.Value { return valueIf(a, value.MissingValue) }), "missing_if")
	register("nullif", 2, 2, pure(func(a []value.Value) value.Value { return valueIf(a, value.NullValue) }), "null_if")
	register("nvl", 2, 2, pure(func(a []value.Value) value.Value {
		if a[0].IsValued() {
			return a[0]
		}
		return a[1]
	}))
	register("nvl2", 3, 3, pure(func(a []value.Value) value.Value {
		if a[0].IsValued() {
			return a[1]
		}
		return a[2]
	}))
	register("ifinf", 2, -1, pure(func(a []value.Value) value.Value {
		return firstNumber(a, func(f float64) bool { return !math.IsInf(f, 0) })
	}), "if_inf")
	register("ifnan", 2, -1, pure(func(a []value.Value) value.Value {
		return firstNumber(a, func(f float64) bool { return !math.IsNaN(f) })
	}), "if_nan")
	register("ifnanorinf", 2, -1, pure(func(a []value.Value) value.Value {
		return firstNumber(a, func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) })
	}), "if_nan_or_inf")
	register("nanif", 2, 2, pure(func(a []value.Value) value.Value { return valueIf(a, value.NewFloat(math.NaN())) }), "nan_if")
	register("posinfif", 2, 2, pure(func(a []value.Value) value.Value { return valueIf(a, value.NewFloat(math.Inf(1))) }), "posinf_if")
	register("neginfif", 2, 2, pure(func(a []value.Value) value.Value { return valueIf(a, value.NewFloat(math.Inf(-1))) }), "neginf_if")

	// Miscellaneous.
	u := register("uuid", 0, 0, pure(func([]value.Value) value.Value { return value.NewString(uuid.NewString()) }))
	u.Volatile = true
	register("base64_encode", 1, 1, pure(func(a []value.Value) value.Value {
		if a[0].IsMissing() {
			return a[0]
		}
		return value.NewString(base64.StdEncoding.EncodeToString(a[0].AppendJSON(nil)))
	}), "base64", "encode_base64")
	register("base64_decode", 1, 1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.String); !ok {
			return r
		}
		b, err := base64.StdEncoding.DecodeString(str(a[0]))
		if err != nil {
			return value.NullValue
		}
		return value.ParseDocument(b)
	}), "decode_base64")
	register("encoded_size", 1, 1, pure(func(a []value.Value) value.Value {
		return value.NewInt(int64(len(a[0].AppendJSON(nil))))
	}))
	register("poly_length", 1, 1, pure(func(a []value.Value) value.Value {
		switch a[0].Kind() {
		case value.Missing:
			return a[0]
		case value.String, value.Array, value.Object:
			return value.NewInt(int64(a[0].Len()))
		}
		return value.NullValue
	}))
	register("decode_json", 1, 1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.String); !ok {
			return r
		}
		v, err := value.FromJSON([]byte(strings.TrimSpace(str(a[0]))))
		if err != nil {
			return value.NullValue
		}
		return v
	}), "json_decode")
	register("encode_json", 1, 1, pure(func(a []value.Value) value.Value {
		if a[0].IsMissing() {
			return a[0]
		}
		return value.NewString(string(a[0].AppendJSON(nil)))
	}), "json_encode")
}

// ToString is TOSTRING: MISSING, NULL and strings stay; booleans and
// numbers become their text; binary its bytes; arrays and objects NULL.
func ToString(v value.Value) value.Value {
	switch v.Kind() {
	case value.Missing, value.Null, value.String:
		return v
	case value.Boolean:
		b, _ := v.Bool()
		return value.NewString(strconv.FormatBool(b))
	case value.Number:
		if i, ok := v.Int(); ok && v.IsInt() {
			return value.NewString(strconv.FormatInt(i, 10))
		}
		return value.NewString(strconv.FormatFloat(num(v), 'f', -1, 64))
	case value.Binary:
		b, _ := v.Bytes()
		return value.NewString(string(b))
	}
	return value.NullValue
}

// toNumber is TONUMBER: booleans are 1 and 0, strings parse (integers
// exactly); the optional second argument lists characters to strip, and
// then a single comma serves as decimal point.
func toNumber(a []value.Value) value.Value {
	v := a[0]
	switch v.Kind() {
	case value.Missing, value.Null, value.Number:
		return v
	case value.Boolean:
		if b, _ := v.Bool(); b {
			return value.NewInt(1)
		}
		return value.NewInt(0)
	case value.String:
	default:
		return value.NullValue
	}
	s := str(v)
	if len(a) == 2 {
		if a[1].Kind() != value.String {
			return value.NullValue
		}
		strip := str(a[1])
		var b strings.Builder
		comma, dot := -1, false
		for _, r := range s {
			if unicode.IsSpace(r) || (strip != "" && strings.ContainsRune(strip, r)) {
				continue
			}
			switch r {
			case ',':
				if comma == -1 && !dot {
					comma = b.Len()
				} else {
					comma = -2
				}
			case '.':
				dot = true
			}
			b.WriteRune(r)
		}
		s = b.String()
		if s == "" {
			return value.NullValue
		}
		if comma >= 0 && !dot {
			s = s[:comma] + "." + s[comma+1:]
		}
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return value.NewInt(i)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return value.NewFloat(f)
	}
	return value.NullValue
}

func toAtom(a []value.Value) value.Value {
	v := a[0]
	switch v.Kind() {
	case value.Missing, value.Null, value.Boolean, value.Number, value.String:
		return v
	case value.Array:
		if e, _ := v.Elems(); len(e) == 1 {
			return toAtom(e)
		}
	case value.Object:
		if ps, _ := v.Pairs(); len(ps) == 1 {
			return toAtom([]value.Value{ps[0].Value})
		}
	}
	return value.NullValue
}

// valueIf is the xIF(a, b) family: MISSING or NULL when a = b is, else
// repl when a equals b, else a.
func valueIf(a []value.Value, repl value.Value) value.Value {
	eq := value.Equal(a[0], a[1])
	if !eq.IsValued() {
		return eq
	}
	if value.Truth(eq) {
		return repl
	}
	return a[0]
}

// firstNumber is IFINF, IFNAN and IFNANORINF: the first number that passes
// keep; NULL at a non-number first; MISSING arguments are skipped.
func firstNumber(a []value.Value, keep func(float64) bool) value.Value {
	missing := false
	for _, v := range a {
		switch {
		case v.IsMissing():
			missing = true
		case v.Kind() != value.Number:
			return value.NullValue
		case keep(num(v)):
			return v
		}
	}
	if missing {
		return value.MissingValue
	}
	return value.NullValue
}

func init() {
	// DECODE(expr, search1, result1 [, search2, result2 ...] [, default]):
	// the result of the first search equal to expr (NULL matching NULL
	// and MISSING matching MISSING), else default or NULL.
	register("decode", 3, -1, pure(func(a []value.Value) value.Value {
		n := len(a) - 1
		def := value.NullValue
		if n%2 == 1 {
			def = a[n]
		}
		for i := 1; i+1 < len(a); i += 2 {
			if value.Collate(a[0], a[i]) == 0 {
				return a[i+1]
			}
		}
		return def
	}))
}
