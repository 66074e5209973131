package funcs

import (
	"math"
	"math/rand/v2"

	"eventide/query/value"
)

func init() {
	num1 := func(fn func(float64) float64) func(*Context, []value.Value) (value.Value, error) {
		return pure(func(a []value.Value) value.Value {
			if r, ok := typed(a, value.Number); !ok {
				return r
			}
			return value.NewFloat(fn(num(a[0])))
		})
	}
	// integral results come back as exact integers where they fit.
	int1 := func(fn func(float64) float64) func(*Context, []value.Value) (value.Value, error) {
		return pure(func(a []value.Value) value.Value {
			if r, ok := typed(a, value.Number); !ok {
				return r
			}
			if a[0].IsInt() {
				return a[0]
			}
			return value.NewNumber(fn(num(a[0])))
		})
	}
	register("abs", 1, 1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Number); !ok {
			return r
		}
		if i, _ := a[0].Int(); a[0].IsInt() && i != math.MinInt64 {
			if i < 0 {
				i = -i
			}
			return value.NewInt(i)
		}
		return value.NewFloat(math.Abs(num(a[0])))
	}))
	register("ceil", 1, 1, int1(math.Ceil))
	register("floor", 1, 1, int1(math.Floor))
	register("sqrt", 1, 1, num1(math.Sqrt))
	register("exp", 1, 1, num1(math.Exp))
	register("ln", 1, 1, num1(math.Log))
	register("log", 1, 1, num1(math.Log10))
	register("sin", 1, 1, num1(math.Sin))
	register("cos", 1, 1, num1(math.Cos))
	register("tan", 1, 1, num1(math.Tan))
	register("asin", 1, 1, num1(math.Asin))
	register("acos", 1, 1, num1(math.Acos))
	register("atan", 1, 1, num1(math.Atan))
	register("degrees", 1, 1, num1(func(f float64) float64 { return f * 180 / math.Pi }), "deg")
	register("radians", 1, 1, num1(func(f float64) float64 { return f * math.Pi / 180 }), "rad")
	register("sign", 1, 1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Number); !ok {
			return r
		}
		f := num(a[0])
		switch {
		case f > 0:
			return value.NewInt(1)
		case f < 0:
			return value.NewInt(-1)
		case f == 0:
			return value.NewInt(0)
		}
		return value.NewInt(0) // NaN has no sign
	}))
	register("atan2", 2, 2, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Number); !ok {
			return r
		}
		return value.NewFloat(math.Atan2(num(a[0]), num(a[1])))
	}))
	register("power", 2, 2, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Number); !ok {
			return r
		}
		p := math.Pow(num(a[0]), num(a[1]))
		if a[0].IsInt() && a[1].IsInt() && math.Abs(p) < 1<<53 {
			return value.NewNumber(p)
		}
		return value.NewFloat(p)
	}))
	register("mod", 2, 2, pure(func(a []value.Value) value.Value { return value.Mod(a[0], a[1]) }))
	register("div", 2, 2, pure(func(a []value.Value) value.Value { return value.Div(a[0], a[1]) }))
	register("idiv", 2, 2, pure(func(a []value.Value) value.Value { return intOp(a, func(x, y int64) int64 { return x / y }) }))
	register("imod", 2, 2, pure(func(a []value.Value) value.Value { return intOp(a, func(x, y int64) int64 { return x % y }) }))
	register("round", 1, 2, pure(func(a []value.Value) value.Value { return roundLike(a, roundHalfEven) }), "round_even")
	register("round_nearest", 1, 2, pure(func(a []value.Value) value.Value { return roundLike(a, roundHalfAway) }))
	register("trunc", 1, 2, pure(func(a []value.Value) value.Value { return roundLike(a, truncDigits) }))
	register("pi", 0, 0, pure(func([]value.Value) value.Value { return value.NewFloat(math.Pi) }))
	register("e", 0, 0, pure(func([]value.Value) value.Value { return value.NewFloat(math.E) }))
	register("nan", 0, 0, pure(func([]value.Value) value.Value { return value.NewFloat(math.NaN()) }))
	register("posinf", 0, 0, pure(func([]value.Value) value.Value { return value.NewFloat(math.Inf(1)) }), "pos_inf", "inf")
	register("neginf", 0, 0, pure(func([]value.Value) value.Value { return value.NewFloat(math.Inf(-1)) }), "neg_inf")
	rnd := register("random", 0, 1, func(ctx *Context, a []value.Value) (value.Value, error) {
		if len(a) == 0 {
			return value.NewFloat(ctx.float()), nil
		}
		if r, ok := typed(a, value.Number); !ok {
			return r, nil
		}
		seed, ok := a[0].Int()
		if !ok {
			return value.NullValue, nil
		}
		// The same seed gives the same number, as a seeded RANDOM() must.
		return value.NewFloat(rand.New(rand.NewPCG(uint64(seed), 0)).Float64()), nil
	})
	rnd.Volatile = true
	register("greatest", 2, -1, pure(func(a []value.Value) value.Value { return extreme(a, 1) }))
	register("least", 2, -1, pure(func(a []value.Value) value.Value { return extreme(a, -1) }))
}

func intOp(a []value.Value, op func(x, y int64) int64) value.Value {
	if r, ok := typed(a, value.Number); !ok {
		return r
	}
	x, ok1 := a[0].Int()
	y, ok2 := a[1].Int()
	if !ok1 || !ok2 {
		x, y = int64(num(a[0])), int64(num(a[1]))
	}
	if y == 0 || (x == math.MinInt64 && y == -1) {
		return value.NullValue
	}
	return value.NewInt(op(x, y))
}

// extreme is GREATEST (dir 1) and LEAST (dir -1): the extreme by collation
// of the valued arguments, NULL when there are none.
func extreme(a []value.Value, dir int) value.Value {
	rv := value.NullValue
	for _, v := range a {
		if !v.IsValued() {
			continue
		}
		if rv.IsNull() || value.Collate(v, rv)*dir > 0 {
			rv = v
		}
	}
	return rv
}

func roundLike(a []value.Value, fn func(x float64, digits int) float64) value.Value {
	if r, ok := typed(a, value.Number); !ok {
		return r
	}
	digits := 0
	if len(a) == 2 {
		var ok bool
		if digits, ok = intArg(a[1]); !ok {
			return value.NullValue
		}
	}
	if a[0].IsInt() && digits >= 0 {
		return a[0]
	}
	x := num(a[0])
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return a[0]
	}
	r := fn(x, digits)
	if digits <= 0 {
		return value.NewNumber(r)
	}
	return value.NewFloat(r)
}

// roundHalfEven is Couchbase's ROUND: halves go to the even neighbour.
func roundHalfEven(x float64, digits int) float64 {
	sign := 1.0
	if x < 0 {
		sign, x = -1, -x
	}
	pow := math.Pow(10, float64(digits))
	in := x*pow + 0.5
	r := math.Floor(in)
	if r == in && math.Mod(r, 2) != 0 {
		r--
	}
	return sign * r / pow
}

func roundHalfAway(x float64, digits int) float64 {
	pow := math.Pow(10, float64(digits))
	return math.Round(x*pow) / pow
}

func truncDigits(x float64, digits int) float64 {
	pow := math.Pow(10, float64(digits))
	return math.Trunc(x*pow) / pow
}
