package funcs

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"eventide/query/value"
)

func init() {
	str1 := func(fn func(string) value.Value) func(*Context, []value.Value) (value.Value, error) {
		return pure(func(a []value.Value) value.Value {
			if r, ok := typed(a, value.String); !ok {
				return r
			}
			return fn(str(a[0]))
		})
	}
	register("lower", 1, 1, str1(func(s string) value.Value { return value.NewString(strings.ToLower(s)) }))
	register("upper", 1, 1, str1(func(s string) value.Value { return value.NewString(strings.ToUpper(s)) }))
	register("length", 1, 1, str1(func(s string) value.Value { return value.NewInt(int64(len(s))) }))
	register("mb_length", 1, 1, str1(func(s string) value.Value { return value.NewInt(int64(utf8.RuneCountInString(s))) }))
	register("title", 1, 1, str1(func(s string) value.Value { return value.NewString(title(strings.ToLower(s))) }), "initcap")
	register("reverse", 1, 1, str1(func(s string) value.Value {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return value.NewString(string(r))
	}))
	register("concat", 2, -1, pure(fnConcat))
	register("concat2", 2, -1, pure(fnConcat2), "array_to_string")
	register("substr", 2, 3, pure(func(a []value.Value) value.Value { return substr(a, 0, false) }), "substr0")
	register("substr1", 2, 3, pure(func(a []value.Value) value.Value { return substr(a, 1, false) }))
	register("mb_substr", 2, 3, pure(func(a []value.Value) value.Value { return substr(a, 0, true) }), "mb_substr0")
	register("mb_substr1", 2, 3, pure(func(a []value.Value) value.Value { return substr(a, 1, true) }))
	register("trim", 1, 2, pure(trimFn(strings.Trim, strings.TrimSpace)))
	register("ltrim", 1, 2, pure(trimFn(strings.TrimLeft, func(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) })))
	register("rtrim", 1, 2, pure(trimFn(strings.TrimRight, func(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) })))
	register("contains", 2, 2, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.String); !ok {
			return r
		}
		return value.NewBool(strings.Contains(str(a[0]), str(a[1])))
	}))
	register("position", 2, 2, pure(func(a []value.Value) value.Value { return position(a, 0, false) }), "pos", "position0", "pos0")
	register("position1", 2, 2, pure(func(a []value.Value) value.Value { return position(a, 1, false) }), "pos1")
	register("mb_position", 2, 2, pure(func(a []value.Value) value.Value { return position(a, 0, true) }), "mb_pos", "mb_position0", "mb_pos0")
	register("mb_position1", 2, 2, pure(func(a []value.Value) value.Value { return position(a, 1, true) }), "mb_pos1")
	register("replace", 3, 4, pure(fnReplace))
	register("split", 1, 2, pure(fnSplit))
	register("repeat", 2, 2, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.String, value.Number); !ok {
			return r
		}
		n, ok := intArg(a[1])
		if !ok || n < 0 || len(str(a[0]))*n > maxStringLen {
			return value.NullValue
		}
		return value.NewString(strings.Repeat(str(a[0]), n))
	}))
	register("lpad", 2, 3, pure(func(a []value.Value) value.Value { return pad(a, true) }))
	register("rpad", 2, 3, pure(func(a []value.Value) value.Value { return pad(a, false) }))
	register("mb_lpad", 2, 3, pure(func(a []value.Value) value.Value { return pad(a, true, true) }))
	register("mb_rpad", 2, 3, pure(func(a []value.Value) value.Value { return pad(a, false, true) }))
	register("suffixes", 1, 1, str1(func(s string) value.Value {
		var out []value.Value
		for i := range s {
			out = append(out, value.NewString(s[i:]))
		}
		return value.NewArray(out)
	}))
}

// maxStringLen bounds strings a function builds (REPEAT, LPAD), so one call
// cannot exhaust memory.
const maxStringLen = 20 << 20

// title upper-cases the first letter of each word, as Go's old strings.Title
// (which Couchbase uses) does: a word starts after any non-letter.
func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		out := r
		if isTitleSep(prev) {
			out = unicode.ToTitle(r)
		}
		prev = r
		return out
	}, s)
}

func isTitleSep(r rune) bool {
	if r <= 0x7F {
		switch {
		case '0' <= r && r <= '9', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r == '_':
			return false
		}
		return true
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return false
	}
	return unicode.IsSpace(r)
}

func fnConcat(a []value.Value) value.Value {
	if r, ok := typed(a, value.String); !ok {
		return r
	}
	var b strings.Builder
	for _, v := range a {
		b.WriteString(str(v))
	}
	return value.NewString(b.String())
}

// fnConcat2 joins strings and arrays of strings with the first argument as
// separator.
func fnConcat2(a []value.Value) value.Value {
	null := false
	var parts []string
	for i, v := range a {
		switch {
		case v.Kind() == value.Missing:
			return value.MissingValue
		case v.Kind() == value.String:
			if i > 0 {
				parts = append(parts, str(v))
			}
		case v.Kind() == value.Array && i > 0:
			for _, e := range elems(v) {
				switch e.Kind() {
				case value.Missing:
					return value.MissingValue
				case value.String:
					parts = append(parts, str(e))
				default:
					null = true
				}
			}
		default:
			null = true
		}
	}
	if null || a[0].Kind() != value.String {
		return value.NullValue
	}
	return value.NewString(strings.Join(parts, str(a[0])))
}

// substr is SUBSTR (start 0) and SUBSTR1 (start 1): a negative position
// counts from the end; a position out of range or a negative length is NULL.
func substr(a []value.Value, start int, runes bool) value.Value {
	if r, ok := typed(a, value.String, value.Number); !ok {
		return r
	}
	s := str(a[0])
	pos, ok := intArg(a[1])
	if !ok {
		return value.NullValue
	}
	var rs []rune
	l := len(s)
	if runes {
		rs = []rune(s)
		l = len(rs)
	}
	if pos < 0 {
		pos += l
	} else if pos > 0 && start > 0 {
		pos -= start
	}
	if pos < 0 || pos >= l {
		return value.NullValue
	}
	end := l
	if len(a) == 3 {
		n, ok := intArg(a[2])
		if !ok || n < 0 {
			return value.NullValue
		}
		end = min(pos+n, l)
	}
	if runes {
		return value.NewString(string(rs[pos:end]))
	}
	return value.NewString(s[pos:end])
}

func trimFn(withChars func(string, string) string, space func(string) string) func([]value.Value) value.Value {
	return func(a []value.Value) value.Value {
		if r, ok := typed(a, value.String); !ok {
			return r
		}
		if len(a) == 1 {
			return value.NewString(space(str(a[0])))
		}
		return value.NewString(withChars(str(a[0]), str(a[1])))
	}
}

// position is POSITION (0-based, -1 when absent) and POSITION1 (1-based, 0
// when absent).
func position(a []value.Value, start int, runes bool) value.Value {
	if r, ok := typed(a, value.String); !ok {
		return r
	}
	s := str(a[0])
	i := strings.Index(s, str(a[1]))
	if i >= 0 && runes {
		i = utf8.RuneCountInString(s[:i])
	}
	if i < 0 {
		return value.NewInt(int64(start - 1))
	}
	return value.NewInt(int64(i + start))
}

func fnReplace(a []value.Value) value.Value {
	if r, ok := typed(a, value.String, value.String, value.String, value.Number); !ok {
		return r
	}
	n := -1
	if len(a) == 4 {
		var ok bool
		if n, ok = intArg(a[3]); !ok {
			return value.NullValue
		}
	}
	return value.NewString(strings.Replace(str(a[0]), str(a[1]), str(a[2]), n))
}

func fnSplit(a []value.Value) value.Value {
	if r, ok := typed(a, value.String); !ok {
		return r
	}
	var parts []string
	if len(a) == 1 {
		parts = strings.Fields(str(a[0]))
	} else {
		parts = strings.Split(str(a[0]), str(a[1]))
	}
	out := make([]value.Value, len(parts))
	for i, p := range parts {
		out[i] = value.NewString(p)
	}
	return value.NewArray(out)
}

// pad is LPAD and RPAD: pad (or cut) s to size bytes with the given
// characters, a space by default.
// pad is LPAD/RPAD counting bytes, or MB_LPAD/MB_RPAD counting
// characters when runes.
func pad(a []value.Value, left bool, runes ...bool) value.Value {
	if r, ok := typed(a, value.String, value.Number, value.String); !ok {
		return r
	}
	if len(runes) > 0 && runes[0] {
		return padRunes(a, left)
	}
	s := str(a[0])
	size, ok := intArg(a[1])
	if !ok || size < 0 || size > maxStringLen {
		return value.NullValue
	}
	fill := " "
	if len(a) == 3 {
		fill = str(a[2])
	}
	if fill == "" {
		return value.NullValue
	}
	if len(s) >= size {
		return value.NewString(s[:size]) // both pads cut from the right
	}
	p := strings.Repeat(fill, (size-len(s))/len(fill)+1)[:size-len(s)]
	if left {
		return value.NewString(p + s)
	}
	return value.NewString(s + p)
}

func padRunes(a []value.Value, left bool) value.Value {
	s := []rune(str(a[0]))
	size, ok := intArg(a[1])
	if !ok || size < 0 || size > maxStringLen {
		return value.NullValue
	}
	fill := []rune(" ")
	if len(a) == 3 {
		fill = []rune(str(a[2]))
	}
	if len(fill) == 0 {
		return value.NullValue
	}
	if len(s) >= size {
		return value.NewString(string(s[:size]))
	}
	p := make([]rune, 0, size-len(s))
	for len(p) < size-len(s) {
		p = append(p, fill[len(p)%len(fill)])
	}
	if left {
		return value.NewString(string(p) + string(s))
	}
	return value.NewString(string(s) + string(p))
}
