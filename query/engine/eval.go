package engine

import (
	"errors"
	"math"
	"strings"

	"eventide/query/ast"
	"eventide/query/funcs"
	"eventide/query/value"
)

// eval evaluates e in row r with Couchbase's MISSING/NULL semantics.
func (x *exec) eval(e ast.Expr, r *row) (value.Value, error) {
	switch n := e.(type) {
	case *ast.Literal:
		return literal(n.Value), nil
	case *ast.Missing:
		return value.MissingValue, nil
	case *ast.Identifier:
		return resolveIdent(r, n.Name, n.CaseInsensitive), nil
	case *ast.Self:
		if r != nil && r.dflt != "" {
			v, _, _ := r.lookup(r.dflt)
			return v, nil
		}
		if r != nil && len(r.vals) == 1 {
			return r.vals[0], nil
		}
		return value.MissingValue, nil
	case *ast.Field:
		if g := x.groupValue(e, r); g != nil {
			return *g, nil
		}
		t, err := x.eval(n.Target, r)
		if err != nil {
			return t, err
		}
		if n.CaseInsensitive {
			return t.FieldFold(n.Name), nil
		}
		return t.Field(n.Name), nil
	case *ast.DynamicField:
		t, err := x.eval(n.Target, r)
		if err != nil {
			return t, err
		}
		name, err := x.eval(n.Name, r)
		if err != nil {
			return name, err
		}
		s, ok := name.Str()
		if !ok {
			if name.IsMissing() {
				return value.MissingValue, nil
			}
			return value.NullValue, nil
		}
		if n.CaseInsensitive {
			return t.FieldFold(s), nil
		}
		return t.Field(s), nil
	case *ast.Element:
		t, err := x.eval(n.Target, r)
		if err != nil {
			return t, err
		}
		i, err := x.eval(n.Index, r)
		if err != nil {
			return i, err
		}
		switch {
		case t.IsMissing() || i.IsMissing():
			return value.MissingValue, nil
		case t.Kind() == value.Object:
			if s, ok := i.Str(); ok {
				return t.Field(s), nil
			}
			return value.NullValue, nil
		case t.Kind() != value.Array:
			return value.MissingValue, nil
		}
		f, ok := i.Float()
		if !ok || f != math.Trunc(f) {
			return value.NullValue, nil
		}
		return t.Index(int(f)), nil
	case *ast.Slice:
		return x.evalSlice(n, r)
	case *ast.ArrayStar:
		t, err := x.eval(n.Target, r)
		if err != nil {
			return t, err
		}
		return arrayStar(t), nil
	case *ast.Param:
		return x.param(n)
	case *ast.Unary:
		v, err := x.eval(n.Operand, r)
		if err != nil {
			return v, err
		}
		switch n.Op {
		case ast.OpNeg:
			return value.Neg(v), nil
		case ast.OpNot:
			return value.Not(v), nil
		case ast.OpExists:
			if v.Kind() == value.Array {
				return value.NewBool(v.Len() > 0), nil
			}
			if v.IsMissing() {
				return value.MissingValue, nil
			}
			return value.NullValue, nil
		}
	case *ast.Binary:
		return x.evalBinary(n, r)
	case *ast.Like:
		t, err := x.eval(n.Target, r)
		if err != nil {
			return t, err
		}
		p, err := x.eval(n.Pattern, r)
		if err != nil {
			return p, err
		}
		esc := '\\'
		if n.Escape != nil {
			ev, err := x.eval(n.Escape, r)
			if err != nil {
				return ev, err
			}
			if s, ok := ev.Str(); ok && s != "" {
				esc = []rune(s)[0]
			}
		}
		v := funcs.EvalLike(t, p, esc)
		if n.Not {
			v = value.Not(v)
		}
		return v, nil
	case *ast.Between:
		t, err := x.eval(n.Target, r)
		if err != nil {
			return t, err
		}
		lo, err := x.eval(n.Low, r)
		if err != nil {
			return lo, err
		}
		hi, err := x.eval(n.High, r)
		if err != nil {
			return hi, err
		}
		v := value.And(value.GreaterEqual(t, lo), value.LessEqual(t, hi))
		if n.Not {
			v = value.Not(v)
		}
		return v, nil
	case *ast.Is:
		t, err := x.eval(n.Target, r)
		if err != nil {
			return t, err
		}
		var b bool
		switch n.Kind {
		case ast.IsNull:
			if t.IsMissing() {
				return value.MissingValue, nil
			}
			b = t.IsNull()
		case ast.IsMissing:
			b = t.IsMissing()
		case ast.IsValued:
			b = t.IsValued()
		}
		if n.Not {
			b = !b
		}
		return value.NewBool(b), nil
	case *ast.Call:
		return x.evalCall(n, r)
	case *ast.Meta:
		return x.evalMeta(n, r)
	case *ast.Case:
		return x.evalCase(n, r)
	case *ast.Quantified:
		return x.evalQuantified(n, r)
	case *ast.ArrayFor:
		var out []value.Value
		unknown, ok, err := x.iterBindings(n.Bindings, r, func(b *row) (bool, error) {
			if ok, err := x.when(n.When, b); err != nil || !ok {
				return true, err
			}
			v, err := x.eval(n.Mapping, b)
			if err != nil {
				return false, err
			}
			if !v.IsMissing() {
				out = append(out, v)
			}
			return true, nil
		})
		if err != nil || !ok {
			return unknown, err
		}
		if out == nil {
			out = []value.Value{}
		}
		return value.NewArray(out), nil
	case *ast.FirstFor:
		res := value.MissingValue
		unknown, ok, err := x.iterBindings(n.Bindings, r, func(b *row) (bool, error) {
			if ok, err := x.when(n.When, b); err != nil || !ok {
				return true, err
			}
			v, err := x.eval(n.Mapping, b)
			if err != nil {
				return false, err
			}
			res = v
			return false, nil
		})
		if !ok {
			return unknown, err
		}
		return res, err
	case *ast.ObjectFor:
		var pairs []value.Pair
		unknown, ok, err := x.iterBindings(n.Bindings, r, func(b *row) (bool, error) {
			if ok, err := x.when(n.When, b); err != nil || !ok {
				return true, err
			}
			k, err := x.eval(n.Key, b)
			if err != nil {
				return false, err
			}
			v, err := x.eval(n.Value, b)
			if err != nil {
				return false, err
			}
			if s, ok := k.Str(); ok {
				pairs = append(pairs, value.Pair{Name: s, Value: v})
			}
			return true, nil
		})
		if !ok {
			return unknown, err
		}
		return value.NewObject(pairs), err
	case *ast.ArrayCons:
		out := make([]value.Value, 0, len(n.Elems))
		for _, el := range n.Elems {
			v, err := x.eval(el, r)
			if err != nil {
				return v, err
			}
			if v.IsMissing() {
				v = value.NullValue // as Couchbase: MISSING inside an array constructor is NULL
			}
			out = append(out, v)
		}
		return value.NewArray(out), nil
	case *ast.ObjectCons:
		pairs := make([]value.Pair, 0, len(n.Pairs))
		for _, p := range n.Pairs {
			k, err := x.eval(p.Key, r)
			if err != nil {
				return k, err
			}
			s, ok := k.Str()
			if !ok {
				if k.IsMissing() {
					continue
				}
				return value.NullValue, nil
			}
			v, err := x.eval(p.Value, r)
			if err != nil {
				return v, err
			}
			pairs = append(pairs, value.Pair{Name: s, Value: v})
		}
		return value.NewOrderedObject(pairs), nil
	case *ast.Subquery:
		return x.subquery(n.Query, r)
	}
	return value.MissingValue, newErr(CodeInternal, "unsupported expression %T", e)
}

func literal(v any) value.Value {
	switch t := v.(type) {
	case nil:
		return value.NullValue
	case bool:
		return value.NewBool(t)
	case int64:
		return value.NewInt(t)
	case float64:
		return value.NewFloat(t)
	case string:
		return value.NewString(t)
	}
	return value.NullValue
}

// resolveIdent finds a bare identifier: a bound alias or variable, else a
// field of the implicit keyspace of the nearest FROM.
func resolveIdent(r *row, name string, fold bool) value.Value {
	// Bound names (aliases, LET/WITH/UDF variables, also of outer
	// queries) come first, as Couchbase's formalizer does; then the
	// implicit keyspace of the nearest FROM.
	for x := r; x != nil; x = x.outer {
		for i := len(x.names) - 1; i >= 0; i-- {
			if x.names[i] == name || (fold && strings.EqualFold(x.names[i], name)) {
				return x.vals[i]
			}
		}
	}
	for x := r; x != nil; x = x.outer {
		if x.dflt == "" {
			continue
		}
		for i := len(x.names) - 1; i >= 0; i-- {
			if x.names[i] == x.dflt {
				if fold {
					return x.vals[i].FieldFold(name)
				}
				return x.vals[i].Field(name)
			}
		}
	}
	return value.MissingValue
}

func (x *exec) groupValue(e ast.Expr, r *row) *value.Value {
	if r == nil || r.group == nil || len(r.group.keys) == 0 {
		return nil
	}
	if v, ok := r.group.keys[e.String()]; ok {
		return &v
	}
	return nil
}

func (x *exec) when(cond ast.Expr, r *row) (bool, error) {
	if cond == nil {
		return true, nil
	}
	v, err := x.eval(cond, r)
	return value.Truth(v), err
}

func (x *exec) evalSlice(n *ast.Slice, r *row) (value.Value, error) {
	t, err := x.eval(n.Target, r)
	if err != nil {
		return t, err
	}
	if t.IsMissing() {
		return t, nil
	}
	if t.Kind() != value.Array {
		return value.NullValue, nil
	}
	start, end, hasEnd := 0, 0, false
	if n.Start != nil {
		v, err := x.eval(n.Start, r)
		if err != nil {
			return v, err
		}
		f, ok := v.Float()
		if !ok {
			return value.NullValue, nil
		}
		start = int(f)
	}
	if n.End != nil {
		v, err := x.eval(n.End, r)
		if err != nil {
			return v, err
		}
		f, ok := v.Float()
		if !ok {
			return value.NullValue, nil
		}
		end, hasEnd = int(f), true
	}
	return t.Slice(start, end, hasEnd), nil
}

func arrayStar(t value.Value) value.Value {
	if t.Kind() == value.Object {
		return t
	}
	elems, ok := t.Elems()
	if !ok {
		if t.IsMissing() {
			return t
		}
		return value.NullValue
	}
	// a[*].f gives the array of each element's f: build an object whose
	// fields are arrays of the elements' fields.
	names := map[string]bool{}
	var order []string
	for _, e := range elems {
		for _, nm := range e.Names() {
			if !names[nm] {
				names[nm] = true
				order = append(order, nm)
			}
		}
	}
	pairs := make([]value.Pair, 0, len(order))
	for _, nm := range order {
		vals := make([]value.Value, 0, len(elems))
		for _, e := range elems {
			if f := e.Field(nm); !f.IsMissing() {
				vals = append(vals, f)
			}
		}
		pairs = append(pairs, value.Pair{Name: nm, Value: value.NewArray(vals)})
	}
	return value.NewObject(pairs)
}

func (x *exec) param(n *ast.Param) (value.Value, error) {
	if x.explaining && x.named == nil && x.positional == nil {
		return value.NullValue, nil // planning a statement prepared without its arguments
	}
	if n.Name != "" {
		if v, ok := x.named[n.Name]; ok {
			return v, nil
		}
		return value.MissingValue, newErr(CodeEvaluation, "No value for named parameter $%s.", n.Name)
	}
	if n.Index >= 1 && n.Index <= len(x.positional) {
		return x.positional[n.Index-1], nil
	}
	return value.MissingValue, newErr(CodeEvaluation, "No value for positional parameter $%d.", n.Index)
}

func (x *exec) evalBinary(n *ast.Binary, r *row) (value.Value, error) {
	l, err := x.eval(n.Left, r)
	if err != nil {
		return l, err
	}
	// AND/OR short-circuit on a decided left side.
	switch n.Op {
	case ast.OpAnd:
		if b, ok := l.Bool(); ok && !b {
			return value.FalseValue, nil
		}
	case ast.OpOr:
		if b, ok := l.Bool(); ok && b {
			return value.TrueValue, nil
		}
	}
	rv, err := x.eval(n.Right, r)
	if err != nil {
		return rv, err
	}
	switch n.Op {
	case ast.OpAnd:
		return value.And(l, rv), nil
	case ast.OpOr:
		return value.Or(l, rv), nil
	case ast.OpEq:
		return value.Equal(l, rv), nil
	case ast.OpNe:
		return value.NotEqual(l, rv), nil
	case ast.OpLt:
		return value.Less(l, rv), nil
	case ast.OpLe:
		return value.LessEqual(l, rv), nil
	case ast.OpGt:
		return value.Greater(l, rv), nil
	case ast.OpGe:
		return value.GreaterEqual(l, rv), nil
	case ast.OpIn, ast.OpNotIn:
		v := inArray(l, rv, false)
		if n.Op == ast.OpNotIn {
			v = value.Not(v)
		}
		return v, nil
	case ast.OpWithin, ast.OpNotWithin:
		v := inArray(l, rv, true)
		if n.Op == ast.OpNotWithin {
			v = value.Not(v)
		}
		return v, nil
	case ast.OpConcat:
		return value.Concat(l, rv), nil
	case ast.OpAdd:
		return value.Add(l, rv), nil
	case ast.OpSub:
		return value.Sub(l, rv), nil
	case ast.OpMul:
		return value.Mul(l, rv), nil
	case ast.OpDiv:
		return value.Div(l, rv), nil
	case ast.OpMod:
		return value.Mod(l, rv), nil
	case ast.OpPow:
		a, ok1 := l.Float()
		b, ok2 := rv.Float()
		if l.IsMissing() || rv.IsMissing() {
			return value.MissingValue, nil
		}
		if !ok1 || !ok2 {
			return value.NullValue, nil
		}
		return value.NewNumber(math.Pow(a, b)), nil
	case ast.OpIsDistinct, ast.OpIsNotDistinct:
		same := value.Collate(l, rv) == 0
		return value.NewBool(same == (n.Op == ast.OpIsNotDistinct)), nil
	}
	return value.MissingValue, newErr(CodeInternal, "unsupported operator %s", n.Op)
}

// inArray is IN (within false) and WITHIN (true): MISSING/NULL when
// either side is, else whether an (any-depth for WITHIN) element equals l.
func inArray(l, arr value.Value, within bool) value.Value {
	if l.IsMissing() || arr.IsMissing() {
		return value.MissingValue
	}
	elems, ok := arr.Elems()
	if !ok || l.IsNull() {
		return value.NullValue
	}
	sawNull := false
	var walk func(es []value.Value) bool
	walk = func(es []value.Value) bool {
		for _, e := range es {
			switch eq := value.Equal(l, e); {
			case value.Truth(eq):
				return true
			case eq.IsNull():
				sawNull = true
			}
			if within {
				if sub, ok := e.Elems(); ok && walk(sub) {
					return true
				}
				if e.Kind() == value.Object {
					var vs []value.Value
					for _, p := range e.SortedPairs() {
						vs = append(vs, p.Value)
					}
					if walk(vs) {
						return true
					}
				}
			}
		}
		return false
	}
	if walk(elems) {
		return value.TrueValue
	}
	if sawNull {
		return value.NullValue
	}
	return value.FalseValue
}

func (x *exec) evalMeta(n *ast.Meta, r *row) (value.Value, error) {
	var m *docMeta
	if n.Keyspace == nil {
		m = defaultMeta(r)
	} else if id, ok := n.Keyspace.(*ast.Identifier); ok {
		_, m, _ = r.lookup(id.Name)
		if m == letPending {
			m = nil
		}
	} else {
		return value.NullValue, nil
	}
	if m == nil {
		return value.MissingValue, nil
	}
	return m.value(), nil
}

// defaultMeta is META() without argument: the document of the implicit
// keyspace, or of the only keyspace alias bound.
func defaultMeta(r *row) *docMeta {
	for x := r; x != nil; x = x.outer {
		if x.dflt != "" {
			_, m, _ := x.lookup(x.dflt)
			return m
		}
		var found *docMeta
		n := 0
		for _, d := range x.docs {
			if d != nil && d != letPending {
				found = d
				n++
			}
		}
		if n == 1 {
			return found
		}
	}
	return nil
}

func (x *exec) evalCase(n *ast.Case, r *row) (value.Value, error) {
	var op value.Value
	if n.Operand != nil {
		v, err := x.eval(n.Operand, r)
		if err != nil {
			return v, err
		}
		op = v
	}
	for _, w := range n.Whens {
		c, err := x.eval(w.Cond, r)
		if err != nil {
			return c, err
		}
		if n.Operand != nil {
			c = value.Equal(op, c)
		}
		if value.Truth(c) {
			return x.eval(w.Result, r)
		}
	}
	if n.Else == nil {
		return value.NullValue, nil
	}
	return x.eval(n.Else, r)
}

func (x *exec) evalQuantified(n *ast.Quantified, r *row) (value.Value, error) {
	// The ranges must be arrays; MISSING/NULL give MISSING/NULL.
	for _, b := range n.Bindings {
		v, err := x.eval(b.Expr, r)
		if err != nil {
			return v, err
		}
		if v.IsMissing() || v.IsNull() {
			return v, nil
		}
		if v.Kind() != value.Array && !b.Within {
			return value.NullValue, nil
		}
	}
	any, every, count := false, true, 0
	_, _, err := x.iterBindings(n.Bindings, r, func(b *row) (bool, error) {
		count++
		ok, err := x.when(n.Satisfies, b)
		if err != nil {
			return false, err
		}
		if ok {
			any = true
			if n.Kind == ast.QuantAny {
				return false, nil
			}
		} else {
			every = false
			if n.Kind != ast.QuantAny {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return value.MissingValue, err
	}
	switch n.Kind {
	case ast.QuantAny:
		return value.NewBool(any), nil
	case ast.QuantEvery:
		return value.NewBool(every), nil
	}
	return value.NewBool(count > 0 && every), nil
}

// iterBindings calls fn with r extended by each combination of the
// bindings' elements (arrays in parallel, as Couchbase: up to the
// shortest); fn returns false to stop.
//
// As Couchbase, a range that is MISSING makes the whole expression
// MISSING, and one that cannot be ranged over (not an array, nor an
// object with a name variable) makes it NULL: iterBindings then returns
// that value and ok false without calling fn.
func (x *exec) iterBindings(bs []ast.Binding, r *row, fn func(*row) (bool, error)) (value.Value, bool, error) {
	lists := make([][]value.Value, len(bs))
	names := make([][]value.Value, len(bs))
	n := -1
	unknown := value.NewBool(true)
	for i, b := range bs {
		v, err := x.eval(b.Expr, r)
		if err != nil {
			return value.MissingValue, false, err
		}
		switch {
		case v.IsMissing():
			return value.MissingValue, false, nil
		case v.Kind() == value.Array || v.Kind() == value.Object && (b.Within || b.NameVar != ""):
		default:
			unknown = value.NullValue
		}
		if b.Within {
			lists[i] = withinValues(v, nil)
		} else if es, ok := v.Elems(); ok {
			lists[i] = es
			for j := range es {
				names[i] = append(names[i], value.NewInt(int64(j)))
			}
		} else if v.Kind() == value.Object {
			for _, p := range v.SortedPairs() {
				lists[i] = append(lists[i], p.Value)
				names[i] = append(names[i], value.NewString(p.Name))
			}
		}
		if n < 0 || len(lists[i]) < n {
			n = len(lists[i])
		}
	}
	if unknown.IsNull() {
		return unknown, false, nil
	}
	for j := 0; j < n; j++ {
		if err := x.tick(); err != nil {
			return value.MissingValue, false, err
		}
		b := r
		for i, bd := range bs {
			b = b.with(bd.Var, lists[i][j], nil)
			if bd.NameVar != "" && j < len(names[i]) {
				b = b.with(bd.NameVar, names[i][j], nil)
			}
		}
		more, err := fn(b)
		if err != nil || !more {
			return value.MissingValue, true, err
		}
	}
	return value.MissingValue, true, nil
}

func withinValues(v value.Value, out []value.Value) []value.Value {
	if es, ok := v.Elems(); ok {
		for _, e := range es {
			out = append(out, e)
			out = withinValues(e, out)
		}
	} else if v.Kind() == value.Object {
		for _, p := range v.SortedPairs() {
			out = append(out, p.Value)
			out = withinValues(p.Value, out)
		}
	}
	return out
}

// aggregate names the executor computes.
var aggregates = map[string]bool{"count": true, "countn": true, "sum": true, "avg": true, "min": true, "max": true, "array_agg": true}

func isAggregate(c *ast.Call) bool {
	return len(c.Func.Path) == 0 && c.Func.Namespace == "" && aggregates[strings.ToLower(c.Func.Name)]
}

func (x *exec) evalCall(n *ast.Call, r *row) (value.Value, error) {
	if isAggregate(n) {
		if r != nil && r.group != nil {
			if v, ok := r.group.aggs[n.String()]; ok {
				return v, nil
			}
		}
		return value.MissingValue, newErr(CodeEvaluation, "Aggregate %s used outside of an aggregation context.", n.String())
	}
	if len(n.Func.Path) == 0 && n.Func.Namespace == "" {
		if f, ok := funcs.Lookup(n.Func.Name); ok {
			args := make([]value.Value, len(n.Args))
			for i, a := range n.Args {
				v, err := x.eval(a, r)
				if err != nil {
					return v, err
				}
				args[i] = v
			}
			v, err := f.Call(x.fctx, args)
			if err != nil {
				if errors.Is(err, funcs.ErrArity) {
					return v, newErr(CodeSyntax, "%v", err)
				}
				return v, newErr(CodeEvaluation, "%v", err)
			}
			return v, nil
		}
	}
	return x.callUDF(n, r)
}
