package value

import (
	"math"
	"math/bits"
)

// arithArgs applies Couchbase's operand rules: MISSING if either is
// MISSING, NULL if either is NULL or not a number.
func arithArgs(a, b Value) (Value, bool) {
	if a.kind == Missing || b.kind == Missing {
		return MissingValue, false
	}
	if a.kind != Number || b.kind != Number {
		return NullValue, false
	}
	return Value{}, true
}

func f64(v Value) float64 { f, _ := v.Float(); return f }

// Add is a + b. Integers stay exact; a sum that overflows int64 is a float.
func Add(a, b Value) Value {
	if r, ok := arithArgs(a, b); !ok {
		return r
	}
	if a.sub == numInt && b.sub == numInt {
		x, y := int64(a.n), int64(b.n)
		s := x + y
		if (s > x) == (y > 0) {
			return NewInt(s)
		}
	}
	return NewFloat(f64(a) + f64(b))
}

// Sub is a - b, overflowing to float as Add.
func Sub(a, b Value) Value {
	if r, ok := arithArgs(a, b); !ok {
		return r
	}
	if a.sub == numInt && b.sub == numInt {
		x, y := int64(a.n), int64(b.n)
		s := x - y
		if (s < x) == (y > 0) {
			return NewInt(s)
		}
	}
	return NewFloat(f64(a) - f64(b))
}

// Mul is a * b, overflowing to float as Add.
func Mul(a, b Value) Value {
	if r, ok := arithArgs(a, b); !ok {
		return r
	}
	if a.sub == numInt && b.sub == numInt {
		x, y := int64(a.n), int64(b.n)
		if p, ok := mulInt(x, y); ok {
			return NewInt(p)
		}
	}
	return NewFloat(f64(a) * f64(b))
}

func mulInt(x, y int64) (int64, bool) {
	if x == 0 || y == 0 {
		return 0, true
	}
	neg := (x < 0) != (y < 0)
	ux, uy := absU(x), absU(y)
	hi, lo := bits.Mul64(ux, uy)
	if hi != 0 {
		return 0, false
	}
	if neg {
		if lo > 1<<63 {
			return 0, false
		}
		return int64(-lo), true
	}
	if lo >= 1<<63 {
		return 0, false
	}
	return int64(lo), true
}

func absU(x int64) uint64 {
	if x < 0 {
		return uint64(-x)
	}
	return uint64(x)
}

// Div is a / b. Division by zero is NULL, as in Couchbase; integer
// division that is exact stays an integer, otherwise the result is a float
// (7 / 2 is 3.5).
func Div(a, b Value) Value {
	if r, ok := arithArgs(a, b); !ok {
		return r
	}
	if f64(b) == 0 {
		return NullValue
	}
	if a.sub == numInt && b.sub == numInt {
		x, y := int64(a.n), int64(b.n)
		if !(x == math.MinInt64 && y == -1) && x%y == 0 {
			return NewInt(x / y)
		}
	}
	return NewFloat(f64(a) / f64(b))
}

// Mod is a % b: NULL when b is zero; the sign follows a.
func Mod(a, b Value) Value {
	if r, ok := arithArgs(a, b); !ok {
		return r
	}
	if f64(b) == 0 {
		return NullValue
	}
	if a.sub == numInt && b.sub == numInt {
		x, y := int64(a.n), int64(b.n)
		if y == -1 {
			return NewInt(0)
		}
		return NewInt(x % y)
	}
	return NewFloat(math.Mod(f64(a), f64(b)))
}

// Neg is -a: MISSING stays, NULL for anything not a number.
func Neg(a Value) Value {
	switch {
	case a.kind == Missing:
		return MissingValue
	case a.kind != Number:
		return NullValue
	case a.sub == numInt && int64(a.n) != math.MinInt64:
		return NewInt(-int64(a.n))
	}
	return NewFloat(-f64(a))
}

// Concat is a || b for strings: MISSING if either is MISSING, NULL if
// either is not a string.
func Concat(a, b Value) Value {
	if a.kind == Missing || b.kind == Missing {
		return MissingValue
	}
	if a.kind != String || b.kind != String {
		return NullValue
	}
	return NewString(a.text() + b.text())
}
