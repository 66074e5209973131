package funcs

import (
	"eventide/query/value"
)

func init() {
	obj1 := func(fn func(o value.Value) value.Value) func(*Context, []value.Value) (value.Value, error) {
		return pure(func(a []value.Value) value.Value {
			if r, ok := typed(a, value.Object); !ok {
				return r
			}
			return fn(a[0])
		})
	}
	register("object_length", 1, 1, obj1(func(o value.Value) value.Value { return value.NewInt(int64(o.Len())) }))
	register("object_names", 1, 1, obj1(func(o value.Value) value.Value {
		names := o.Names()
		out := make([]value.Value, len(names))
		for i, n := range names {
			out[i] = value.NewString(n)
		}
		return value.NewArray(out)
	}))
	register("object_pairs", 1, 1, obj1(func(o value.Value) value.Value {
		ps := o.SortedPairs()
		out := make([]value.Value, len(ps))
		for i, p := range ps {
			out[i] = value.NewObject([]value.Pair{{Name: "name", Value: value.NewString(p.Name)}, {Name: "val", Value: p.Value}})
		}
		return value.NewArray(out)
	}), "object_outer_pairs", "object_outerpairs")
	register("object_values", 1, 1, obj1(func(o value.Value) value.Value {
		ps := o.SortedPairs()
		out := make([]value.Value, len(ps))
		for i, p := range ps {
			out[i] = p.Value
		}
		return value.NewArray(out)
	}), "object_outer_values", "object_outervalues")
	register("object_unwrap", 1, 1, obj1(func(o value.Value) value.Value {
		if ps, _ := o.Pairs(); len(ps) == 1 {
			return ps[0].Value
		}
		return value.NullValue
	}))
	register("object_add", 3, 3, pure(func(a []value.Value) value.Value {
		if r, ok := objName(a); !ok {
			return r
		}
		// OBJECT_ADD never overwrites.
		if !a[0].Field(str(a[1])).IsMissing() {
			return a[0]
		}
		return a[0].WithField(str(a[1]), a[2])
	}))
	register("object_put", 3, 3, pure(func(a []value.Value) value.Value {
		if r, ok := objName(a); !ok {
			return r
		}
		return a[0].WithField(str(a[1]), a[2])
	}))
	register("object_remove", 2, -1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Object, value.String); !ok {
			return r
		}
		o := a[0]
		for _, n := range a[1:] {
			o = o.WithField(str(n), value.MissingValue)
		}
		return o
	}))
	register("object_concat", 2, -1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Object); !ok {
			return r
		}
		var pairs []value.Pair
		for _, o := range a {
			ps, _ := o.Pairs()
			pairs = append(pairs, ps...)
		}
		// Later objects win on a repeated name, as NewObject keeps the last.
		return value.NewObject(pairs)
	}))
	register("object_rename", 3, 3, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Object, value.String); !ok {
			return r
		}
		f := a[0].Field(str(a[1]))
		if f.IsMissing() {
			return a[0]
		}
		return a[0].WithField(str(a[1]), value.MissingValue).WithField(str(a[2]), f)
	}))
	register("object_replace", 3, 3, pure(func(a []value.Value) value.Value {
		if a[0].IsMissing() || a[1].IsMissing() || a[2].IsMissing() {
			return value.MissingValue
		}
		if a[0].Kind() != value.Object {
			return value.NullValue
		}
		ps := a[0].SortedPairs()
		out := make([]value.Pair, len(ps))
		for i, p := range ps {
			out[i] = p
			if value.Truth(value.Equal(p.Value, a[1])) {
				out[i].Value = a[2]
			}
		}
		return value.NewObject(out)
	}))
	register("object_field", 2, 2, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Object, value.String); !ok {
			return r
		}
		return a[0].Field(str(a[1]))
	}))
	register("object_types", 1, 1, obj1(func(o value.Value) value.Value {
		ps := o.SortedPairs()
		out := make([]value.Pair, len(ps))
		for i, p := range ps {
			out[i] = value.Pair{Name: p.Name, Value: value.NewString(p.Value.TypeName())}
		}
		return value.NewObject(out)
	}))
}

// objName checks (object, name, value) arguments: MISSING if the object or
// name is MISSING, NULL if they are not an object and a string.
func objName(a []value.Value) (value.Value, bool) {
	if a[0].IsMissing() || a[1].IsMissing() {
		return value.MissingValue, false
	}
	if a[0].Kind() != value.Object || a[1].Kind() != value.String {
		return value.NullValue, false
	}
	return value.Value{}, true
}
