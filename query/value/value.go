package value

import (
	"math"
	"sort"
	"strings"
	"unsafe"
)

// Kind is the type of a Value, in collation order.
type Kind uint8

// The kinds, in Couchbase's collation order.
const (
	Missing Kind = iota
	Null
	Boolean
	Number
	String
	Array
	Object
	Binary
)

var kindNames = [...]string{"missing", "null", "boolean", "number", "string", "array", "object", "binary"}

// String is the name Couchbase's TYPE() returns for the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// numInt and numFloat tell how a Number is held.
const (
	numInt   = 1
	numFloat = 2
)

// Value is one SQL++ value. The zero Value is MISSING.
//
// A Value is 24 bytes: values fill arrays, objects and result rows by the
// million, so the payload shares one pointer whose meaning the kind gives
// (string bytes, first array element, or *obj), with n as length or bits.
type Value struct {
	kind Kind
	sub  uint8          // numInt or numFloat for numbers
	n    uint64         // int64 or float64 bits, 1 for TRUE, or the length of a string, binary or array
	p    unsafe.Pointer // string or binary bytes, first array element, or *obj
}

func (v Value) text() string { return unsafe.String((*byte)(v.p), int(v.n)) }

func (v Value) elems() []Value { return unsafe.Slice((*Value)(v.p), int(v.n)) }

func (v Value) object() *obj { return (*obj)(v.p) }

func objectValue(o *obj) Value { return Value{kind: Object, p: unsafe.Pointer(o)} }

// Pair is one name and value of an object.
type Pair struct {
	Name  string
	Value Value
}

// obj holds an object's pairs. Unless ordered, pairs are sorted by name and
// names are unique, so lookups binary-search. Ordered objects keep insertion
// order (projections) and are searched linearly.
type obj struct {
	pairs   []Pair
	ordered bool
}

// Common values.
var (
	MissingValue = Value{}
	NullValue    = Value{kind: Null}
	TrueValue    = Value{kind: Boolean, n: 1}
	FalseValue   = Value{kind: Boolean}
)

// NewBool returns TRUE or FALSE.
func NewBool(b bool) Value {
	if b {
		return TrueValue
	}
	return FalseValue
}

// NewInt returns an exact integer number.
func NewInt(i int64) Value { return Value{kind: Number, sub: numInt, n: uint64(i)} }

// NewFloat returns a float number. Integral floats stay floats; they
// compare equal to the same integer.
func NewFloat(f float64) Value { return Value{kind: Number, sub: numFloat, n: math.Float64bits(f)} }

// NewNumber returns an integer if f is integral and fits in int64, else a float.
func NewNumber(f float64) Value {
	if f == math.Trunc(f) && f >= -9.223372036854775e18 && f <= 9.223372036854775e18 {
		return NewInt(int64(f))
	}
	return NewFloat(f)
}

// NewString returns a string value.
func NewString(s string) Value {
	return Value{kind: String, n: uint64(len(s)), p: unsafe.Pointer(unsafe.StringData(s))}
}

// NewBinary returns a non-JSON binary value (a document body that is not JSON).
func NewBinary(b []byte) Value {
	s := string(b)
	return Value{kind: Binary, n: uint64(len(s)), p: unsafe.Pointer(unsafe.StringData(s))}
}

// NewArray returns an array holding elems (not copied; do not modify them after).
func NewArray(elems []Value) Value {
	return Value{kind: Array, n: uint64(len(elems)), p: unsafe.Pointer(unsafe.SliceData(elems))}
}

// NewObject returns an object with keys sorted. Pairs with MISSING values
// are dropped (a MISSING field does not exist); on duplicate names the last
// wins. pairs is reordered in place and kept.
func NewObject(pairs []Pair) Value {
	pairs = dropMissing(pairs)
	sortPairs(pairs)
	pairs = dedupSorted(pairs)
	return objectValue(&obj{pairs: pairs})
}

// NewOrderedObject returns an object that keeps the given name order when
// marshalled (for projections with preserved order). MISSING values are
// dropped; on duplicate names the later value replaces the earlier in place.
func NewOrderedObject(pairs []Pair) Value {
	pairs = dropMissing(pairs)
	out := pairs[:0]
	for _, p := range pairs {
		dup := false
		for i := range out {
			if out[i].Name == p.Name {
				out[i].Value = p.Value
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return objectValue(&obj{pairs: out, ordered: true})
}

// NewObjectMap returns an object from a map.
func NewObjectMap(m map[string]Value) Value {
	pairs := make([]Pair, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, Pair{k, v})
	}
	return NewObject(pairs)
}

func dropMissing(pairs []Pair) []Pair {
	for i := range pairs {
		if pairs[i].Value.kind == Missing {
			out := pairs[:i]
			for _, p := range pairs[i+1:] {
				if p.Value.kind != Missing {
					out = append(out, p)
				}
			}
			return out
		}
	}
	if pairs == nil {
		return []Pair{}
	}
	return pairs
}

// sortPairs sorts stably by name so that, among duplicates, the last comes last.
func sortPairs(p []Pair) {
	if len(p) <= 12 {
		for i := 1; i < len(p); i++ {
			for j := i; j > 0 && p[j].Name < p[j-1].Name; j-- {
				p[j], p[j-1] = p[j-1], p[j]
			}
		}
		return
	}
	sort.SliceStable(p, func(i, j int) bool { return p[i].Name < p[j].Name })
}

func dedupSorted(p []Pair) []Pair {
	for i := 1; i < len(p); i++ {
		if p[i].Name == p[i-1].Name {
			out := p[:i-1]
			for j := i - 1; j < len(p); j++ {
				if j+1 < len(p) && p[j+1].Name == p[j].Name {
					continue
				}
				out = append(out, p[j])
			}
			return out
		}
	}
	return p
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// TypeName is Couchbase's TYPE() name of the value.
func (v Value) TypeName() string { return v.kind.String() }

// IsMissing reports whether v is MISSING.
func (v Value) IsMissing() bool { return v.kind == Missing }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.kind == Null }

// IsValued reports whether v is neither MISSING nor NULL.
func (v Value) IsValued() bool { return v.kind > Null }

// IsInt reports whether v is a number held as an exact int64.
func (v Value) IsInt() bool { return v.kind == Number && v.sub == numInt }

// Bool returns the boolean and whether v is a boolean.
func (v Value) Bool() (bool, bool) { return v.n == 1, v.kind == Boolean }

// Int returns v as int64 and whether v is a number with an integral value
// that fits.
func (v Value) Int() (int64, bool) {
	if v.kind != Number {
		return 0, false
	}
	if v.sub == numInt {
		return int64(v.n), true
	}
	f := math.Float64frombits(v.n)
	if f == math.Trunc(f) && f >= -9.223372036854775e18 && f <= 9.223372036854775e18 {
		return int64(f), true
	}
	return 0, false
}

// Float returns v as float64 and whether v is a number.
func (v Value) Float() (float64, bool) {
	switch {
	case v.kind != Number:
		return 0, false
	case v.sub == numInt:
		return float64(int64(v.n)), true
	default:
		return math.Float64frombits(v.n), true
	}
}

// Str returns the string and whether v is a string.
func (v Value) Str() (string, bool) {
	if v.kind != String {
		return "", false
	}
	return v.text(), true
}

// Bytes returns the bytes of a binary value and whether v is binary.
func (v Value) Bytes() ([]byte, bool) {
	if v.kind != Binary {
		return nil, false
	}
	return []byte(v.text()), true
}

// Elems returns the elements of an array (shared; do not modify) and
// whether v is an array.
func (v Value) Elems() ([]Value, bool) {
	if v.kind != Array {
		return nil, false
	}
	return v.elems(), true
}

// Pairs returns an object's pairs (shared; do not modify): sorted by name,
// or in insertion order for an ordered object; and whether v is an object.
func (v Value) Pairs() ([]Pair, bool) {
	if v.kind != Object {
		return nil, false
	}
	return v.object().pairs, true
}

// SortedPairs returns an object's pairs sorted by name.
func (v Value) SortedPairs() []Pair {
	if v.kind != Object {
		return nil
	}
	if !v.object().ordered {
		return v.object().pairs
	}
	p := append([]Pair(nil), v.object().pairs...)
	sortPairs(p)
	return p
}

// Names returns an object's names, sorted.
func (v Value) Names() []string {
	p := v.SortedPairs()
	names := make([]string, len(p))
	for i := range p {
		names[i] = p[i].Name
	}
	return names
}

// Ordered reports whether v is an object that keeps insertion order.
func (v Value) Ordered() bool { return v.kind == Object && v.object().ordered }

// Len is the length of an array, the number of pairs of an object, the
// number of bytes of a string or binary; 0 otherwise.
func (v Value) Len() int {
	switch v.kind {
	case Array:
		return len(v.elems())
	case Object:
		return len(v.object().pairs)
	case String, Binary:
		return len(v.text())
	}
	return 0
}

// Field returns the named field of an object; MISSING if v is not an
// object or has no such field.
func (v Value) Field(name string) Value {
	if v.kind != Object {
		return MissingValue
	}
	p := v.object().pairs
	if v.object().ordered || len(p) <= 8 {
		for i := range p {
			if p[i].Name == name {
				return p[i].Value
			}
		}
		return MissingValue
	}
	i := sort.Search(len(p), func(i int) bool { return p[i].Name >= name })
	if i < len(p) && p[i].Name == name {
		return p[i].Value
	}
	return MissingValue
}

// FieldFold is Field with a case-insensitive name match, as for
// identifiers written with the i suffix.
func (v Value) FieldFold(name string) Value {
	if f := v.Field(name); f.kind != Missing || v.kind != Object {
		return f
	}
	for _, p := range v.object().pairs {
		if strings.EqualFold(p.Name, name) {
			return p.Value
		}
	}
	return MissingValue
}

// Index returns element i of an array, counting from the end when i is
// negative; MISSING if v is not an array or i is out of range.
func (v Value) Index(i int) Value {
	if v.kind != Array {
		return MissingValue
	}
	if i < 0 {
		i += len(v.elems())
	}
	if i < 0 || i >= len(v.elems()) {
		return MissingValue
	}
	return v.elems()[i]
}

// Slice returns elements [start, end) of an array, negative positions
// counting from the end; hasEnd false means to the end. As in Couchbase:
// MISSING if v is MISSING or the range is out of bounds (a tail slice must
// start inside the array), NULL if v is not an array.
func (v Value) Slice(start int, end int, hasEnd bool) Value {
	switch v.kind {
	case Missing:
		return MissingValue
	case Array:
	default:
		return NullValue
	}
	n := len(v.elems())
	if start < 0 {
		start += n
	}
	if !hasEnd {
		if start < 0 || start >= n {
			return MissingValue
		}
		return NewArray(v.elems()[start:n:n])
	}
	if end < 0 {
		end += n
	}
	if start < 0 || end > n || start > end {
		return MissingValue
	}
	return NewArray(v.elems()[start:end:end])
}

// Truth is Couchbase's truth value, used by WHERE, AND, OR and NOT:
// MISSING, NULL, FALSE, 0, NaN, "" and empty arrays and objects are false;
// everything else is true.
func Truth(v Value) bool {
	switch v.kind {
	case Boolean:
		return v.n == 1
	case Number:
		f, _ := v.Float()
		return f != 0 && !math.IsNaN(f)
	case String, Binary:
		return len(v.text()) > 0
	case Array:
		return len(v.elems()) > 0
	case Object:
		return len(v.object().pairs) > 0
	}
	return false
}

// WithField returns a copy of object v with name set to f (removed when f is
// MISSING). v must be an object; otherwise v is returned unchanged.
func (v Value) WithField(name string, f Value) Value {
	if v.kind != Object {
		return v
	}
	old := v.object().pairs
	pairs := make([]Pair, 0, len(old)+1)
	done := false
	for _, p := range old {
		if p.Name == name {
			done = true
			if f.kind != Missing {
				pairs = append(pairs, Pair{name, f})
			}
			continue
		}
		pairs = append(pairs, p)
	}
	if !done && f.kind != Missing {
		pairs = append(pairs, Pair{name, f})
	}
	if v.object().ordered {
		return objectValue(&obj{pairs: pairs, ordered: true})
	}
	if !done {
		sortPairs(pairs)
	}
	return objectValue(&obj{pairs: pairs})
}

// WithIndex returns a copy of array v with element i (negative from the
// end) set to e; v unchanged if it is not an array or i is out of range.
func (v Value) WithIndex(i int, e Value) Value {
	if v.kind != Array {
		return v
	}
	n := int(v.n)
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return v
	}
	out := append([]Value(nil), v.elems()...)
	out[i] = e
	return NewArray(out)
}

// Clone returns a deep copy of v that shares no memory with it. Strings
// parsed by FromJSON share the document's text, so a value kept long after
// its document (a cached or indexed value) should be cloned to let the
// document go.
func (v Value) Clone() Value {
	switch v.kind {
	case String:
		return NewString(strings.Clone(v.text()))
	case Binary:
		return NewBinary([]byte(v.text()))
	case Array:
		out := make([]Value, v.n)
		for i, e := range v.elems() {
			out[i] = e.Clone()
		}
		return NewArray(out)
	case Object:
		o := v.object()
		pairs := make([]Pair, len(o.pairs))
		for i, p := range o.pairs {
			pairs[i] = Pair{strings.Clone(p.Name), p.Value.Clone()}
		}
		return objectValue(&obj{pairs: pairs, ordered: o.ordered})
	}
	return v
}
