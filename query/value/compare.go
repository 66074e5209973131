package value

import (
	"math"
	"strings"
)

// Collate is Couchbase's collation order: negative if a sorts before b,
// zero if equal, positive after. Kinds order MISSING < NULL < FALSE < TRUE
// < numbers < strings (byte order) < arrays (element by element, then
// length) < objects (fewer pairs first, then name by name in sorted order,
// an absent name sorting after, then values) < binary. NaN sorts before
// every other number.
func Collate(a, b Value) int {
	if a.kind != b.kind {
		if a.kind < b.kind {
			return -1
		}
		return 1
	}
	switch a.kind {
	case Missing, Null:
		return 0
	case Boolean:
		return int(a.n) - int(b.n)
	case Number:
		return collateNumber(a, b)
	case String, Binary:
		return strings.Compare(a.text(), b.text())
	case Array:
		for i := range a.elems() {
			if i >= len(b.elems()) {
				return 1
			}
			if c := Collate(a.elems()[i], b.elems()[i]); c != 0 {
				return c
			}
		}
		return sign(len(a.elems()) - len(b.elems()))
	case Object:
		pa, pb := a.object().pairs, b.object().pairs
		if len(pa) != len(pb) {
			return sign(len(pa) - len(pb))
		}
		pa, pb = a.SortedPairs(), b.SortedPairs()
		for i := range pa {
			if pa[i].Name != pb[i].Name {
				// The object lacking the smaller name sorts after.
				return strings.Compare(pa[i].Name, pb[i].Name)
			}
			if c := Collate(pa[i].Value, pb[i].Value); c != 0 {
				return c
			}
		}
		return 0
	}
	return 0
}

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}

// collateNumber compares exactly, also between int64 and float64.
func collateNumber(a, b Value) int {
	if a.sub == numInt && b.sub == numInt {
		x, y := int64(a.n), int64(b.n)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	if a.sub == numInt {
		return -cmpFloatInt(math.Float64frombits(b.n), int64(a.n))
	}
	if b.sub == numInt {
		return cmpFloatInt(math.Float64frombits(a.n), int64(b.n))
	}
	return cmpFloat(math.Float64frombits(a.n), math.Float64frombits(b.n))
}

func cmpFloat(x, y float64) int {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return -1
	case yn:
		return 1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpFloatInt compares f with i exactly.
func cmpFloatInt(f float64, i int64) int {
	if math.IsNaN(f) {
		return -1
	}
	if f < -9.223372036854775808e18 {
		return -1
	}
	if f >= 9.223372036854775808e18 {
		return 1
	}
	t := math.Trunc(f)
	ti := int64(t)
	switch {
	case ti < i:
		return -1
	case ti > i:
		return 1
	case f > t:
		return 1
	case f < t:
		return -1
	}
	return 0
}

// Compare is Couchbase's three-valued comparison: MISSING if either side is
// MISSING, else NULL if either is NULL (at top level or inside arrays and
// objects compared element by element), else the number -1, 0 or 1 by
// collation. Values of different kinds compare by kind order.
func Compare(a, b Value) Value {
	if a.kind == Missing || b.kind == Missing {
		return MissingValue
	}
	if a.kind == Null || b.kind == Null {
		return NullValue
	}
	if a.kind == b.kind {
		switch a.kind {
		case Array:
			for i := range a.elems() {
				if i >= len(b.elems()) {
					return NewInt(1)
				}
				c := Compare(a.elems()[i], b.elems()[i])
				if c.kind != Number || c.n != 0 {
					return c
				}
			}
			return NewInt(int64(sign(len(a.elems()) - len(b.elems()))))
		case Object:
			if len(a.object().pairs) != len(b.object().pairs) {
				return NewInt(int64(sign(len(a.object().pairs) - len(b.object().pairs))))
			}
			pa, pb := a.SortedPairs(), b.SortedPairs()
			for i := range pa {
				if pa[i].Name != pb[i].Name {
					return NewInt(int64(strings.Compare(pa[i].Name, pb[i].Name)))
				}
				c := Compare(pa[i].Value, pb[i].Value)
				if c.kind != Number || c.n != 0 {
					return c
				}
			}
			return NewInt(0)
		}
	}
	return NewInt(int64(Collate(a, b)))
}

func cmpTest(a, b Value, test func(int) bool) Value {
	c := Compare(a, b)
	if c.kind != Number {
		return c
	}
	return NewBool(test(int(int64(c.n))))
}

// Equal is a = b: MISSING if either is MISSING, NULL if either is NULL,
// FALSE for values of different kinds, else TRUE when they collate equal.
// Arrays and objects holding NULL compare element by element.
func Equal(a, b Value) Value {
	if a.kind == Missing || b.kind == Missing {
		return MissingValue
	}
	if a.kind == Null || b.kind == Null {
		return NullValue
	}
	if a.kind != b.kind {
		return FalseValue
	}
	switch a.kind {
	case Array:
		if len(a.elems()) != len(b.elems()) {
			return FalseValue
		}
		res := TrueValue
		for i := range a.elems() {
			e := Equal(a.elems()[i], b.elems()[i])
			if e.kind == Boolean && e.n == 0 {
				return FalseValue
			}
			if e.kind != Boolean && res.kind != Missing {
				res = e
			}
		}
		return res
	case Object:
		if len(a.object().pairs) != len(b.object().pairs) {
			return FalseValue
		}
		pa, pb := a.SortedPairs(), b.SortedPairs()
		res := TrueValue
		for i := range pa {
			if pa[i].Name != pb[i].Name {
				return FalseValue
			}
			e := Equal(pa[i].Value, pb[i].Value)
			if e.kind == Boolean && e.n == 0 {
				return FalseValue
			}
			if e.kind != Boolean && res.kind != Missing {
				res = e
			}
		}
		return res
	}
	return NewBool(Collate(a, b) == 0)
}

// NotEqual is a != b with the same MISSING and NULL rules as Equal.
func NotEqual(a, b Value) Value { return Not(Equal(a, b)) }

// Less is a < b: MISSING or NULL as Compare, else TRUE or FALSE.
func Less(a, b Value) Value { return cmpTest(a, b, func(c int) bool { return c < 0 }) }

// LessEqual is a <= b.
func LessEqual(a, b Value) Value { return cmpTest(a, b, func(c int) bool { return c <= 0 }) }

// Greater is a > b.
func Greater(a, b Value) Value { return cmpTest(a, b, func(c int) bool { return c > 0 }) }

// GreaterEqual is a >= b.
func GreaterEqual(a, b Value) Value { return cmpTest(a, b, func(c int) bool { return c >= 0 }) }

// And is Couchbase's AND over any number of operands: FALSE if any valued
// operand is false (by Truth), else MISSING if any is MISSING, else NULL if
// any is NULL, else TRUE.
func And(vs ...Value) Value {
	missing, null := false, false
	for _, v := range vs {
		switch v.kind {
		case Missing:
			missing = true
		case Null:
			null = true
		default:
			if !Truth(v) {
				return FalseValue
			}
		}
	}
	switch {
	case missing:
		return MissingValue
	case null:
		return NullValue
	}
	return TrueValue
}

// Or is Couchbase's OR: TRUE if any valued operand is true, else NULL if
// any is NULL, else MISSING if any is MISSING, else FALSE.
func Or(vs ...Value) Value {
	missing, null := false, false
	for _, v := range vs {
		switch v.kind {
		case Missing:
			missing = true
		case Null:
			null = true
		default:
			if Truth(v) {
				return TrueValue
			}
		}
	}
	switch {
	case null:
		return NullValue
	case missing:
		return MissingValue
	}
	return FalseValue
}

// Not is NOT: MISSING and NULL stay, else the negated Truth.
func Not(v Value) Value {
	if v.kind <= Null {
		return v
	}
	return NewBool(!Truth(v))
}
