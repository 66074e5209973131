package value

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Errors of FromJSON and FromGo.
var (
	// ErrSyntax is wrapped by FromJSON for input that is not one JSON value.
	ErrSyntax = errors.New("value: invalid JSON")
	// ErrTooDeep is returned for JSON nested deeper than MaxDepth.
	ErrTooDeep = errors.New("value: JSON nested too deeply")
	// ErrUnsupported is returned by FromGo for a Go type with no SQL++ value.
	ErrUnsupported = errors.New("value: unsupported Go type")
)

// MaxDepth bounds nesting of parsed JSON so that hostile input cannot
// exhaust the stack.
const MaxDepth = 1000

// FromJSON parses one JSON value. Integers that fit in int64 stay exact;
// other numbers are float64. Strings and names without escapes share one
// copy of data, so the parse makes few allocations; that copy lives while
// any of them does, and data itself is not retained.
func FromJSON(data []byte) (Value, error) {
	p := parserPool.Get().(*parser)
	defer parserPool.Put(p)
	p.src, p.pos = string(data), 0
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return MissingValue, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return MissingValue, p.errf("unexpected %q after value", p.src[p.pos])
	}
	return v, nil
}

// MustFromJSON is FromJSON for literals known to be valid; it panics on a
// syntax error, so use it only in tests and for constants.
func MustFromJSON(s string) Value {
	v, err := FromJSON([]byte(s))
	if err != nil {
		panic(err)
	}
	return v
}

// ParseDocument parses a document body: JSON if it parses, else a binary value.
func ParseDocument(body []byte) Value {
	v, err := FromJSON(body)
	if err != nil {
		return NewBinary(body)
	}
	return v
}

// parserPool keeps parsers so that their scratch stacks are reused across
// documents.
var parserPool = sync.Pool{New: func() any { return new(parser) }}

type parser struct {
	src   string
	pos   int
	order []int32 // scratch permutation for sorting an object's names
	elems []Value // scratch stack shared by nested arrays
	pairs []Pair  // scratch stack shared by nested objects
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (Value, error) {
	if depth > MaxDepth {
		return MissingValue, ErrTooDeep
	}
	if p.pos >= len(p.src) {
		return MissingValue, p.errf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		return NewString(s), err
	case c == 't':
		return p.lit("true", TrueValue)
	case c == 'f':
		return p.lit("false", FalseValue)
	case c == 'n':
		return p.lit("null", NullValue)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return MissingValue, p.errf("unexpected %q", c)
	}
}

func (p *parser) lit(word string, v Value) (Value, error) {
	if len(p.src)-p.pos >= len(word) && p.src[p.pos:p.pos+len(word)] == word {
		p.pos += len(word)
		return v, nil
	}
	return MissingValue, p.errf("invalid literal")
}

func (p *parser) number() (Value, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if digits() == 0 {
		return MissingValue, p.errf("invalid number")
	}
	if p.src[intStart] == '0' && p.pos-intStart > 1 {
		return MissingValue, p.errf("invalid number: leading zero")
	}
	isInt := true
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		isInt = false
		p.pos++
		if digits() == 0 {
			return MissingValue, p.errf("invalid number")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		isInt = false
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return MissingValue, p.errf("invalid number")
		}
	}
	text := p.src[start:p.pos]
	if isInt {
		if len(text) < 19 { // fits without overflow checks
			var n int64
			neg := text[0] == '-'
			for _, c := range []byte(text) {
				if c != '-' {
					n = n*10 + int64(c-'0')
				}
			}
			if neg {
				n = -n
			}
			return NewInt(n), nil
		}
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return NewInt(n), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return MissingValue, p.errf("invalid number %q", text)
	}
	return NewFloat(f), nil
}

// str parses a string at p.pos; without escapes it is a substring of src.
func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			s := p.src[start:p.pos]
			p.pos++
			return s, nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", p.errf("control character in string")
		}
		p.pos++
	}
	return "", p.errf("unterminated string")
}

func (p *parser) strEscaped(start int) (string, error) {
	buf := []byte(p.src[start:p.pos])
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c < 0x20:
			return "", p.errf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.src) {
			break
		}
		e := p.src[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					var ok2 bool
					if r2, ok2 = p.hex4(); !ok2 {
						p.pos = save
						r2 = -1
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						p.pos = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errf("invalid escape \\%c", e)
		}
	}
	return "", p.errf("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.src)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.src[p.pos : p.pos+4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

func (p *parser) array(depth int) (Value, error) {
	p.pos++
	base := len(p.elems)
	defer func() { p.elems = p.elems[:base] }()
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return NewArray([]Value{}), nil
	}
	for {
		p.skipSpace()
		v, err := p.value(depth + 1)
		if err != nil {
			return MissingValue, err
		}
		p.elems = append(p.elems, v)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return MissingValue, p.errf("unterminated array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			out := make([]Value, len(p.elems)-base)
			copy(out, p.elems[base:])
			return NewArray(out), nil
		default:
			return MissingValue, p.errf("expected , or ] in array")
		}
	}
}

func (p *parser) object(depth int) (Value, error) {
	p.pos++
	base := len(p.pairs)
	defer func() { p.pairs = p.pairs[:base] }()
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return objectValue(&obj{pairs: []Pair{}}), nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return MissingValue, p.errf("expected name in object")
		}
		name, err := p.str()
		if err != nil {
			return MissingValue, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return MissingValue, p.errf("expected : in object")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth + 1)
		if err != nil {
			return MissingValue, err
		}
		p.pairs = append(p.pairs, Pair{name, v})
		p.skipSpace()
		if p.pos >= len(p.src) {
			return MissingValue, p.errf("unterminated object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return objectValue(&obj{pairs: p.sortedCopy(p.pairs[base:])}), nil
		default:
			return MissingValue, p.errf("expected , or } in object")
		}
	}
}

// MarshalJSON implements json.Marshaler. MISSING marshals as null (as in
// Couchbase); callers streaming results skip MISSING themselves.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// String returns the JSON text of v.
func (v Value) String() string { return string(v.AppendJSON(nil)) }

// AppendJSON appends the JSON text of v to dst, the way Couchbase writes
// results: object names sorted (insertion order for ordered objects),
// MISSING fields left out, MISSING array elements written as null, no HTML
// escaping, NaN and infinities as the strings "NaN", "+Infinity" and
// "-Infinity", floats in plain decimal with the fewest digits that
// round-trip (2^63 as a float is 9223372036854776000), binary as
// "<binary (N b)>".
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case Missing, Null:
		return append(dst, "null"...)
	case Boolean:
		if v.n == 1 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Number:
		if v.sub == numInt {
			return strconv.AppendInt(dst, int64(v.n), 10)
		}
		return appendFloat(dst, math.Float64frombits(v.n))
	case String:
		return AppendQuoted(dst, v.text())
	case Binary:
		dst = append(dst, "\"<binary ("...)
		dst = strconv.AppendInt(dst, int64(len(v.text())), 10)
		return append(dst, " b)>\""...)
	case Array:
		dst = append(dst, '[')
		for i, e := range v.elems() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.AppendJSON(dst)
		}
		return append(dst, ']')
	case Object:
		dst = append(dst, '{')
		first := true
		for _, p := range v.object().pairs {
			if p.Value.kind == Missing {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = AppendQuoted(dst, p.Name)
			dst = append(dst, ':')
			dst = p.Value.AppendJSON(dst)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"+Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	case f == 0:
		return append(dst, '0')
	}
	// Couchbase writes every float in plain decimal, shortest round-trip digits.
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// AppendQuoted appends s as a JSON string without HTML escaping; invalid
// UTF-8 becomes U+FFFD.
func AppendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// sortedCopy returns the pairs sorted by name with the last of each
// duplicate kept. It sorts a permutation rather than the pairs themselves,
// so each pair is written to the heap once.
func (p *parser) sortedCopy(in []Pair) []Pair {
	order := p.order[:0]
	for i := range in {
		order = append(order, int32(i))
	}
	if len(order) <= 16 {
		for i := 1; i < len(order); i++ {
			for j := i; j > 0 && in[order[j]].Name < in[order[j-1]].Name; j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
	} else {
		sort.SliceStable(order, func(i, j int) bool { return in[order[i]].Name < in[order[j]].Name })
	}
	p.order = order
	n := len(order)
	for i := 1; i < len(order); i++ {
		if in[order[i]].Name == in[order[i-1]].Name {
			n--
		}
	}
	out := make([]Pair, 0, n)
	for i, k := range order {
		if i+1 < len(order) && in[order[i+1]].Name == in[k].Name {
			continue // a later duplicate wins
		}
		out = append(out, in[k])
	}
	return out
}
