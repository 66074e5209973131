package funcs

import (
	"math"
	"slices"

	"eventide/query/value"
)

// maxArrayLen bounds arrays a function builds (ARRAY_RANGE, ARRAY_REPEAT).
const maxArrayLen = 1 << 20

// arrFirst applies the array rule: MISSING if any argument is MISSING,
// NULL if the array argument at index i is not an array. Other arguments
// may be NULL: NULL is an element like any other.
func arrAt(a []value.Value, i int) (value.Value, bool) {
	for _, v := range a {
		if v.IsMissing() {
			return value.MissingValue, false
		}
	}
	if a[i].Kind() != value.Array {
		return value.NullValue, false
	}
	return value.Value{}, true
}

func arr1(fn func(e []value.Value, rest []value.Value) value.Value) func(*Context, []value.Value) (value.Value, error) {
	return pure(func(a []value.Value) value.Value {
		if r, ok := arrAt(a, 0); !ok {
			return r
		}
		return fn(elems(a[0]), a[1:])
	})
}

func contains(e []value.Value, v value.Value) bool {
	for _, x := range e {
		if value.Truth(value.Equal(x, v)) {
			return true
		}
	}
	return false
}

func init() {
	register("array_append", 2, -1, arr1(func(e, rest []value.Value) value.Value {
		return value.NewArray(append(slices.Clip(e), rest...))
	}))
	register("array_prepend", 2, -1, pure(func(a []value.Value) value.Value {
		last := len(a) - 1
		if r, ok := arrAt(a, last); !ok {
			return r
		}
		return value.NewArray(append(slices.Clone(a[:last]), elems(a[last])...))
	}))
	register("array_concat", 2, -1, pure(func(a []value.Value) value.Value {
		var out []value.Value
		null := false
		for i := range a {
			if r, ok := arrAt(a, i); !ok {
				if r.IsMissing() {
					return r
				}
				null = true
			}
			out = append(out, elems(a[i])...)
		}
		if null {
			return value.NullValue
		}
		return value.NewArray(out)
	}))
	register("array_contains", 2, 2, arr1(func(e, rest []value.Value) value.Value {
		if rest[0].IsNull() {
			return value.NullValue
		}
		return value.NewBool(contains(e, rest[0]))
	}))
	register("array_contains_all", 2, 2, pure(func(a []value.Value) value.Value { return containsSet(a, true) }))
	register("array_contains_any", 2, 2, pure(func(a []value.Value) value.Value { return containsSet(a, false) }))
	register("array_count", 1, 1, arr1(func(e, _ []value.Value) value.Value {
		n := 0
		for _, x := range e {
			if x.IsValued() {
				n++
			}
		}
		return value.NewInt(int64(n))
	}))
	register("array_length", 1, 1, arr1(func(e, _ []value.Value) value.Value { return value.NewInt(int64(len(e))) }))
	register("array_distinct", 1, 1, arr1(func(e, _ []value.Value) value.Value { return value.NewArray(distinct(e)) }))
	register("array_flatten", 2, 2, pure(func(a []value.Value) value.Value {
		if r, ok := arrAt(a, 0); !ok {
			return r
		}
		depth, ok := intArg(a[1])
		if !ok {
			return value.NullValue
		}
		return value.NewArray(flatten(nil, elems(a[0]), depth))
	}))
	register("array_max", 1, 1, arr1(func(e, _ []value.Value) value.Value { return extreme(e, 1) }))
	register("array_min", 1, 1, arr1(func(e, _ []value.Value) value.Value { return extreme(e, -1) }))
	register("array_position", 2, 2, arr1(func(e, rest []value.Value) value.Value {
		if rest[0].IsNull() {
			return value.NullValue
		}
		for i, x := range e {
			if value.Truth(value.Equal(x, rest[0])) {
				return value.NewInt(int64(i))
			}
		}
		return value.NewInt(-1)
	}), "array_pos")
	register("array_range", 2, 3, pure(fnArrayRange))
	register("array_remove", 2, -1, arr1(func(e, rest []value.Value) value.Value {
		if anyNull(rest) {
			return value.NullValue
		}
		out := make([]value.Value, 0, len(e))
		for _, x := range e {
			if !contains(rest, x) {
				out = append(out, x)
			}
		}
		return value.NewArray(out)
	}))
	register("array_repeat", 2, 2, pure(func(a []value.Value) value.Value {
		if a[0].IsMissing() || a[1].IsMissing() {
			return value.MissingValue
		}
		n, ok := intArg(a[1])
		if !ok || n < 0 || n > maxArrayLen {
			return value.NullValue
		}
		out := make([]value.Value, n)
		for i := range out {
			out[i] = a[0]
		}
		return value.NewArray(out)
	}))
	register("array_reverse", 1, 1, arr1(func(e, _ []value.Value) value.Value {
		out := slices.Clone(e)
		slices.Reverse(out)
		return value.NewArray(out)
	}))
	register("array_sort", 1, 1, arr1(func(e, _ []value.Value) value.Value {
		out := slices.Clone(e)
		slices.SortStableFunc(out, value.Collate)
		return value.NewArray(out)
	}))
	register("array_sum", 1, 1, arr1(func(e, _ []value.Value) value.Value {
		sum := value.NewInt(0)
		for _, x := range e {
			if x.Kind() == value.Number {
				sum = value.Add(sum, x)
			}
		}
		return sum
	}))
	register("array_avg", 1, 1, arr1(func(e, _ []value.Value) value.Value {
		sum, n := 0.0, 0
		for _, x := range e {
			if f, ok := x.Float(); ok {
				sum += f
				n++
			}
		}
		if n == 0 {
			return value.NullValue
		}
		return value.NewFloat(sum / float64(n))
	}))
	register("array_ifnull", 1, 1, arr1(func(e, _ []value.Value) value.Value {
		for _, x := range e {
			if x.IsValued() {
				return x
			}
		}
		return value.NullValue
	}))
	register("array_insert", 3, -1, pure(func(a []value.Value) value.Value {
		if r, ok := arrAt(a, 0); !ok {
			return r
		}
		e := elems(a[0])
		pos, ok := intArg(a[1])
		if !ok {
			return value.NullValue
		}
		if pos < 0 {
			pos += len(e)
		}
		if pos < 0 || pos > len(e) {
			return value.NullValue
		}
		return value.NewArray(slices.Insert(slices.Clone(e), pos, a[2:]...))
	}))
	register("array_put", 2, -1, arr1(func(e, rest []value.Value) value.Value {
		if anyNull(rest) {
			return value.NullValue
		}
		out := slices.Clone(e)
		for _, v := range rest {
			if !contains(out, v) {
				out = append(out, v)
			}
		}
		return value.NewArray(out)
	}), "array_add", "array_upsert")
	register("array_replace", 3, 4, arr1(func(e, rest []value.Value) value.Value {
		if rest[0].IsNull() {
			return value.NullValue
		}
		n := -1
		if len(rest) == 3 {
			var ok bool
			if n, ok = intArg(rest[2]); !ok {
				return value.NullValue
			}
		}
		out := slices.Clone(e)
		for i := range out {
			if n == 0 {
				break
			}
			if value.Truth(value.Equal(out[i], rest[0])) {
				out[i] = rest[1]
				n--
			}
		}
		return value.NewArray(out)
	}))
	register("array_star", 1, 1, arr1(func(e, _ []value.Value) value.Value {
		names := map[string]bool{}
		for _, x := range e {
			for _, n := range x.Names() {
				names[n] = true
			}
		}
		pairs := make([]value.Pair, 0, len(names))
		for n := range names {
			vals := make([]value.Value, len(e))
			for i, x := range e {
				if vals[i] = x.Field(n); vals[i].IsMissing() {
					vals[i] = value.NullValue
				}
			}
			pairs = append(pairs, value.Pair{Name: n, Value: value.NewArray(vals)})
		}
		return value.NewObject(pairs)
	}))
	register("array_intersect", 2, -1, pure(func(a []value.Value) value.Value {
		return setOp(a, func(first []value.Value, others [][]value.Value) []value.Value {
			var out []value.Value
			for _, x := range distinct(first) {
				all := true
				for _, o := range others {
					all = all && contains(o, x)
				}
				if all {
					out = append(out, x)
				}
			}
			return out
		})
	}))
	register("array_union", 2, -1, pure(func(a []value.Value) value.Value {
		return setOp(a, func(first []value.Value, others [][]value.Value) []value.Value {
			all := slices.Clone(first)
			for _, o := range others {
				all = append(all, o...)
			}
			return distinct(all)
		})
	}))
	register("array_except", 2, 2, pure(func(a []value.Value) value.Value {
		return setOp(a, func(first []value.Value, others [][]value.Value) []value.Value {
			var out []value.Value
			for _, x := range first {
				if !contains(others[0], x) {
					out = append(out, x)
				}
			}
			return out
		})
	}))
	binarySearch := arr1(func(e, rest []value.Value) value.Value {
		i, found := slices.BinarySearchFunc(e, rest[0], value.Collate)
		if !found {
			return value.NewInt(-1)
		}
		return value.NewInt(int64(i))
	})
	register("array_binary_search", 2, 2, func(ctx *Context, a []value.Value) (value.Value, error) {
		// Couchbase searches for a MISSING key too; arrays here hold no
		// MISSING element, so it is never found.
		if a[1].IsMissing() && a[0].Kind() == value.Array {
			return value.NewInt(-1), nil
		}
		return binarySearch(ctx, a)
	})
	register("array_swap", 3, 3, arr1(func(e, rest []value.Value) value.Value {
		i, ok1 := arrayIndex(rest[0], len(e))
		j, ok2 := arrayIndex(rest[1], len(e))
		if !ok1 || !ok2 {
			return value.NullValue
		}
		out := slices.Clone(e)
		out[i], out[j] = out[j], out[i]
		return value.NewArray(out)
	}))
	register("array_move", 3, 3, arr1(func(e, rest []value.Value) value.Value {
		from, ok1 := arrayIndex(rest[0], len(e))
		to, ok2 := arrayIndex(rest[1], len(e))
		if !ok1 || !ok2 {
			return value.NullValue
		}
		out := slices.Delete(slices.Clone(e), from, from+1)
		return value.NewArray(slices.Insert(out, to, e[from]))
	}))
	register("array_symdiff", 2, -1, pure(func(a []value.Value) value.Value {
		return setOp(a, func(first []value.Value, others [][]value.Value) []value.Value {
			lists := append([][]value.Value{first}, others...)
			var out []value.Value
			for i, l := range lists {
				for _, x := range distinct(l) {
					in := 0
					for j, m := range lists {
						if j != i && contains(m, x) {
							in++
						}
					}
					if in == 0 {
						out = append(out, x)
					}
				}
			}
			return out
		})
	}), "array_symdiff1")
}

// arrayIndex reads an index into an array of length n, negative from the end.
func arrayIndex(v value.Value, n int) (int, bool) {
	i, ok := intArg(v)
	if i < 0 {
		i += n
	}
	return i, ok && i >= 0 && i < n
}

func anyNull(vs []value.Value) bool {
	for _, v := range vs {
		if v.IsNull() {
			return true
		}
	}
	return false
}

func setOp(a []value.Value, fn func(first []value.Value, others [][]value.Value) []value.Value) value.Value {
	others := make([][]value.Value, 0, len(a)-1)
	null := false
	for i := range a {
		if r, ok := arrAt(a, i); !ok {
			if r.IsMissing() {
				return r
			}
			null = true
		}
		if i > 0 {
			others = append(others, elems(a[i]))
		}
	}
	if null {
		return value.NullValue
	}
	return value.NewArray(fn(elems(a[0]), others))
}

func containsSet(a []value.Value, all bool) value.Value {
	for i := range a {
		if r, ok := arrAt(a, i); !ok {
			return r
		}
	}
	e, want := elems(a[0]), elems(a[1])
	for _, w := range want {
		if contains(e, w) != all {
			return value.NewBool(!all)
		}
	}
	return value.NewBool(all)
}

// distinct keeps the first of each group of equal (by collation) elements.
func distinct(e []value.Value) []value.Value {
	out := make([]value.Value, 0, len(e))
	seen := map[string]bool{}
	for _, x := range e {
		k := string(value.EncodeKey(x))
		if !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

// flatten flattens nested arrays to depth levels; a negative depth
// flattens fully.
func flatten(out, e []value.Value, depth int) []value.Value {
	for _, x := range e {
		if inner, ok := x.Elems(); ok && depth != 0 {
			out = flatten(out, inner, depth-1)
			continue
		}
		out = append(out, x)
	}
	return out
}

func fnArrayRange(a []value.Value) value.Value {
	if r, ok := typed(a, value.Number); !ok {
		return r
	}
	start, end, step := num(a[0]), num(a[1]), 1.0
	if len(a) == 3 {
		step = num(a[2])
	}
	if math.IsNaN(start+end+step) || math.IsInf(start+end+step, 0) {
		return value.NullValue
	}
	if step == 0 {
		return value.NewArray(nil)
	}
	n := math.Ceil((end - start) / step)
	if n <= 0 {
		return value.NewArray(nil)
	}
	if n > maxArrayLen {
		return value.NullValue
	}
	allInt := a[0].IsInt() && (len(a) < 3 || a[2].IsInt())
	out := make([]value.Value, int(n))
	for i := range out {
		if allInt {
			s, _ := a[0].Int()
			out[i] = value.NewInt(s + int64(i)*int64(step))
		} else {
			out[i] = value.NewFloat(start + float64(i)*step)
		}
	}
	return value.NewArray(out)
}
