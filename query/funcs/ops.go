package funcs

import "eventide/query/value"

// The operators Couchbase also offers as functions: ADD(1, 2) is 1 + 2.
func init() {
	fold := func(op func(a, b value.Value) value.Value) func(*Context, []value.Value) (value.Value, error) {
		return pure(func(a []value.Value) value.Value {
			if r, ok := unknown(a); !ok {
				return r
			}
			acc := a[0]
			for _, b := range a[1:] {
				acc = op(acc, b)
			}
			return acc
		})
	}
	register("add", 2, -1, fold(value.Add))
	register("mult", 2, -1, fold(value.Mul))
	register("sub", 2, 2, pure(func(a []value.Value) value.Value { return value.Sub(a[0], a[1]) }))
	register("neg", 1, 1, pure(func(a []value.Value) value.Value { return value.Neg(a[0]) }))
	register("eq", 2, 2, pure(func(a []value.Value) value.Value { return value.Equal(a[0], a[1]) }))
	register("lt", 2, 2, pure(func(a []value.Value) value.Value { return value.Less(a[0], a[1]) }))
	register("le", 2, 2, pure(func(a []value.Value) value.Value { return value.LessEqual(a[0], a[1]) }))
	register("between", 3, 3, pure(func(a []value.Value) value.Value {
		return value.And(value.GreaterEqual(a[0], a[1]), value.LessEqual(a[0], a[2]))
	}))
	register("is_distinct_from", 2, 2, pure(func(a []value.Value) value.Value {
		return value.NewBool(!notDistinct(a[0], a[1]))
	}), "isdistinctfrom")
	register("is_not_distinct_from", 2, 2, pure(func(a []value.Value) value.Value {
		return value.NewBool(notDistinct(a[0], a[1]))
	}), "isnotdistinctfrom")
}

// notDistinct is equality in which MISSING and NULL are values, each
// equal only to itself.
func notDistinct(a, b value.Value) bool {
	if !a.IsValued() || !b.IsValued() {
		return a.Kind() == b.Kind()
	}
	return value.Collate(a, b) == 0
}
