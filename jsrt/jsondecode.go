package jsrt

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// MaxJSONDepth bounds nesting so that a hostile document cannot exhaust
// the Go stack (encoding/json uses the same limit). It is also the deepest
// value the guarded built-ins accept.
const MaxJSONDepth = 10000

// jsonDecoder turns JSON bytes straight into goja values, with the results
// of JSON.parse (own enumerable data properties in document order, the last
// of duplicate keys winning, "__proto__" an ordinary key, integers as
// integer values, invalid UTF-8 and lone surrogates replaced by U+FFFD) but
// without goja's JSON.parse detour through encoding/json tokens, which
// dominated the per-event cost.
type jsonDecoder struct {
	vm    *goja.Runtime
	proto *goja.Object // the original Object.prototype
	data  []byte
	pos   int
	depth int
	buf   []byte // scratch for strings with escapes
	items []any  // scratch stack for array elements
}

// DecodeJSON turns one JSON value into a goja value, as JSON.parse would
// (see jsonDecoder), without JSON.parse's cost.
func (r *Runtime) DecodeJSON(data []byte) (goja.Value, error) { return r.json.decode(data) }

var errJSONDepth = errors.New("JSON nesting too deep")

type jsonSyntaxError struct {
	msg string
	pos int
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("%s at position %d", e.msg, e.pos)
}

// decode parses data as one JSON value.
func (d *jsonDecoder) decode(data []byte) (v goja.Value, err error) {
	d.data, d.pos, d.depth = data, 0, 0
	defer func() {
		d.data = nil
		if len(d.items) > 0 {
			clear(d.items)
			d.items = d.items[:0]
		}
	}()
	d.skipSpace()
	v, err = d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.syntaxError("unexpected data after the JSON value")
	}
	return v, nil
}

func (d *jsonDecoder) syntaxError(msg string) error {
	if d.pos >= len(d.data) {
		return &jsonSyntaxError{"unexpected end of JSON input", d.pos}
	}
	return &jsonSyntaxError{msg, d.pos}
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (goja.Value, error) {
	if d.pos >= len(d.data) {
		return nil, d.syntaxError("")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return d.vm.ToValue(s), nil
	case c == 't':
		return d.literal("true", goja.Value(d.vm.ToValue(true)))
	case c == 'f':
		return d.literal("false", goja.Value(d.vm.ToValue(false)))
	case c == 'n':
		return d.literal("null", goja.Null())
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, d.syntaxError(fmt.Sprintf("invalid character %q looking for beginning of value", d.data[d.pos]))
}

func (d *jsonDecoder) literal(word string, v goja.Value) (goja.Value, error) {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return v, nil
	}
	return nil, d.syntaxError("invalid literal")
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > MaxJSONDepth {
		return errJSONDepth
	}
	return nil
}

func (d *jsonDecoder) object() (goja.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '{'
	// Properties are set while the object has no prototype, so that no
	// setter (not even Object.prototype.__proto__) runs; then the prototype
	// is attached.
	obj := d.vm.CreateObject(nil)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
	} else {
		for {
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return nil, d.syntaxError("expected a string key")
			}
			key, err := d.str()
			if err != nil {
				return nil, err
			}
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] != ':' {
				return nil, d.syntaxError("expected ':' after object key")
			}
			d.pos++
			d.skipSpace()
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			if err := obj.Set(key, v); err != nil {
				return nil, err
			}
			d.skipSpace()
			if d.pos >= len(d.data) {
				return nil, d.syntaxError("")
			}
			if d.data[d.pos] == ',' {
				d.pos++
				d.skipSpace()
				continue
			}
			if d.data[d.pos] == '}' {
				d.pos++
				break
			}
			return nil, d.syntaxError("expected ',' or '}' after object value")
		}
	}
	if err := obj.SetPrototype(d.proto); err != nil {
		return nil, err
	}
	d.depth--
	return obj, nil
}

func (d *jsonDecoder) array() (goja.Value, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '['
	base := len(d.items)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
	} else {
		for {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			d.items = append(d.items, v)
			d.skipSpace()
			if d.pos >= len(d.data) {
				return nil, d.syntaxError("")
			}
			if d.data[d.pos] == ',' {
				d.pos++
				d.skipSpace()
				continue
			}
			if d.data[d.pos] == ']' {
				d.pos++
				break
			}
			return nil, d.syntaxError("expected ',' or ']' after array element")
		}
	}
	arr := d.vm.NewArray(d.items[base:]...)
	clear(d.items[base:])
	d.items = d.items[:base]
	d.depth--
	return arr, nil
}

func (d *jsonDecoder) number() (goja.Value, error) {
	start := d.pos
	p := d.pos
	data := d.data
	if p < len(data) && data[p] == '-' {
		p++
	}
	switch {
	case p < len(data) && data[p] == '0':
		p++
	case p < len(data) && data[p] >= '1' && data[p] <= '9':
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		return nil, d.syntaxError("invalid number")
	}
	integer := true
	if p < len(data) && data[p] == '.' {
		integer = false
		p++
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return nil, d.syntaxError("invalid number")
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		integer = false
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return nil, d.syntaxError("invalid number")
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	d.pos = p
	lit := data[start:p]
	// Small integers (not -0) are exact as int64; the rest as float64, like
	// JSON.parse.
	if integer && len(lit) <= 15 && string(lit) != "-0" {
		n, err := strconv.ParseInt(string(lit), 10, 64)
		if err == nil {
			return d.vm.ToValue(n), nil
		}
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, &jsonSyntaxError{"invalid number", start}
	}
	return d.vm.ToValue(f), nil
}

// str reads a JSON string starting at the opening quote.
func (d *jsonDecoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	data := d.data
	// Fast path: no escapes, ASCII or valid UTF-8.
	p := start
	ascii := true
	for p < len(data) {
		c := data[p]
		if c == '"' {
			s := data[start:p]
			if ascii || utf8.Valid(s) {
				d.pos = p + 1
				return string(s), nil
			}
			break
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			d.pos = p
			return "", d.syntaxError("invalid control character in string")
		}
		if c >= 0x80 {
			ascii = false
		}
		p++
	}
	// Slow path: escapes or invalid UTF-8.
	b := append(d.buf[:0], data[start:p]...)
	for {
		if p >= len(data) {
			d.pos = p
			return "", d.syntaxError("")
		}
		c := data[p]
		switch {
		case c == '"':
			d.pos = p + 1
			d.buf = b[:0]
			if !utf8.Valid(b) {
				b = []byte(string([]rune(string(b)))) // invalid bytes become U+FFFD
			}
			return string(b), nil
		case c < 0x20:
			d.pos = p
			return "", d.syntaxError("invalid control character in string")
		case c == '\\':
			p++
			if p >= len(data) {
				d.pos = p
				return "", d.syntaxError("")
			}
			e := data[p]
			p++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(data, p)
				if !ok {
					d.pos = p
					return "", d.syntaxError("invalid \\u escape")
				}
				p += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if p+1 < len(data) && data[p] == '\\' && data[p+1] == 'u' {
						if x, ok := hex4(data, p+2); ok {
							r2 = x
						}
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						p += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				d.pos = p - 1
				return "", d.syntaxError("invalid escape character")
			}
		default:
			b = append(b, c)
			p++
		}
	}
}

func hex4(data []byte, p int) (rune, bool) {
	if p+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[p : p+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
