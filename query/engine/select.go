package engine

import (
	"slices"

	"eventide/docstore"
	"eventide/query/funcs"
	"strconv"
	"strings"

	"eventide/query/ast"
	"eventide/query/value"
)

// runSelect runs a top-level query, emitting its rows.
func (x *exec) runSelect(s *ast.Select) error {
	x.res.Signature = signature(s)
	return x.query(s, nil, func(v value.Value) (bool, error) {
		return true, x.emitValue(v)
	})
}

// subquery evaluates a query as an expression: the array of its rows.
func (x *exec) subquery(s *ast.Select, outer *row) (value.Value, error) {
	cacheable := x.uncorrelated(s, outer)
	if cacheable {
		if v, ok := x.subCache[s]; ok {
			return v, nil
		}
	}
	out := []value.Value{}
	err := x.query(s, outer, func(v value.Value) (bool, error) {
		out = append(out, v)
		return true, nil
	})
	v := value.NewArray(out)
	if cacheable && err == nil && !x.explaining {
		if x.subCache == nil {
			x.subCache = map[*ast.Select]value.Value{}
		}
		x.subCache[s] = v
	}
	return v, err
}

// uncorrelated reports whether subquery s gives the same rows whatever
// the outer row: a single keyspace FROM without USE KEYS (so bare names
// resolve inside it), no name bound by the enclosing rows, and no
// volatile function. Such a subquery runs once per statement.
func (x *exec) uncorrelated(s *ast.Select, outer *row) bool {
	ss, ok := s.Body.(*ast.Subselect)
	if !ok || len(s.With) > 0 {
		return false
	}
	kt, ok := ss.From.(*ast.KeyspaceTerm)
	if !ok || kt.UseKeys != nil {
		return false
	}
	names, ok := x.subNames[s]
	if !ok {
		volatile := false
		set := map[string]bool{}
		ast.Inspect(s, func(n ast.Node) bool {
			switch t := n.(type) {
			case *ast.Identifier:
				set[t.Name] = true
			case *ast.Meta:
				if id, ok := t.Keyspace.(*ast.Identifier); ok {
					set[id.Name] = true
				}
			case *ast.Call:
				if f, ok := funcs.Lookup(t.Func.Name); ok && f.Volatile {
					volatile = true
				} else if !ok && !isAggregate(t) {
					volatile = true // a UDF may read anything
				}
			}
			return true
		})
		if volatile {
			names = nil
		} else {
			names = make([]string, 0, len(set))
			for n := range set {
				names = append(names, n)
			}
		}
		if x.subNames == nil {
			x.subNames = map[*ast.Select][]string{}
		}
		x.subNames[s] = names
	}
	if names == nil {
		return false
	}
	if _, _, bound := outer.lookup(kt.Path[0]); bound {
		return false
	}
	for _, n := range names {
		if _, _, bound := outer.lookup(n); bound {
			return false
		}
	}
	return true
}

// signature is the result signature Couchbase reports for a query.
func signature(s *ast.Select) value.Value {
	body := s.Body
	for {
		switch b := body.(type) {
		case *ast.Select:
			body = b.Body
			continue
		case *ast.SetOp:
			body = b.Left
			continue
		}
		break
	}
	ss, ok := body.(*ast.Subselect)
	if !ok {
		return value.MissingValue
	}
	p := ss.Projection
	if p.Raw {
		return value.NewString("json")
	}
	var pairs []value.Pair
	n := 1
	for _, t := range p.Terms {
		if t.Star {
			pairs = append(pairs, value.Pair{Name: "*", Value: value.NewString("*")})
			continue
		}
		name := t.ImplicitAlias()
		if name == "" {
			name = "$" + strconv.Itoa(n)
			n++
		}
		pairs = append(pairs, value.Pair{Name: name, Value: value.NewString("json")})
	}
	return value.NewOrderedObject(pairs)
}

// query runs s with outer as the enclosing row, calling fn with each
// result value in order until fn returns false.
func (x *exec) query(s *ast.Select, outer *row, fn func(value.Value) (bool, error)) error {
	if len(s.With) > 0 {
		env := &row{outer: outer}
		for _, w := range s.With {
			v, err := x.eval(w.Expr, env)
			if err != nil {
				return err
			}
			env = env.with(w.Name, v, nil)
		}
		outer = env
	}
	limit, offset := -1, 0
	if s.Limit != nil {
		n, err := x.constInt(s.Limit, outer, "LIMIT")
		if err != nil {
			return err
		}
		limit = n
	}
	if s.Offset != nil {
		n, err := x.constInt(s.Offset, outer, "OFFSET")
		if err != nil {
			return err
		}
		offset = n
	}
	if limit == 0 {
		return nil
	}
	emitted, skipped := 0, 0
	out := func(v value.Value) (bool, error) {
		if skipped < offset {
			skipped++
			return true, nil
		}
		more, err := fn(v)
		emitted++
		if limit >= 0 && emitted >= limit {
			return false, err
		}
		return more, err
	}
	if ss, ok := s.Body.(*ast.Subselect); ok {
		if offset > 0 && len(s.OrderBy) == 0 && offsetPushable(ss) {
			// The scan skips the first rows without fetching them.
			x.pushOffset, skipped = offset, offset
		}
		if len(s.OrderBy) > 0 && limit >= 0 {
			x.topK = offset + limit
		}
		return x.subselect(ss, outer, s.OrderBy, out)
	}
	if len(s.OrderBy) == 0 {
		return x.body(s.Body, outer, out)
	}
	var items []sortItem
	err := x.body(s.Body, outer, func(v value.Value) (bool, error) {
		r := (&row{outer: outer, dflt: "$r"}).with("$r", v, nil)
		keys, err := x.sortKeys(s.OrderBy, r)
		if err != nil {
			return false, err
		}
		items = append(items, sortItem{keys: keys, val: v})
		return true, x.tick()
	})
	if err != nil {
		return err
	}
	return x.emitSorted(items, s.OrderBy, out)
}

func (x *exec) constInt(e ast.Expr, r *row, what string) (int, error) {
	v, err := x.eval(e, r)
	if err != nil {
		return 0, err
	}
	f, ok := v.Float()
	if !ok || f < 0 {
		return 0, newErr(CodeEvaluation, "Invalid %s value %v", what, v)
	}
	return int(f), nil
}

// body runs a query body (a subselect, a set operation or a nested
// query).
func (x *exec) body(b ast.QueryBody, outer *row, fn func(value.Value) (bool, error)) error {
	switch n := b.(type) {
	case *ast.Subselect:
		return x.subselect(n, outer, nil, fn)
	case *ast.Select:
		return x.query(n, outer, fn)
	case *ast.SetOp:
		return x.setOp(n, outer, fn)
	}
	return newErr(CodeInternal, "unsupported query body %T", b)
}

func (x *exec) collect(b ast.QueryBody, outer *row) ([]value.Value, error) {
	var out []value.Value
	err := x.body(b, outer, func(v value.Value) (bool, error) {
		out = append(out, v)
		return true, x.tick()
	})
	return out, err
}

func keyOf(v value.Value) string { return string(value.EncodeKey(v)) }

func (x *exec) setOp(n *ast.SetOp, outer *row, fn func(value.Value) (bool, error)) error {
	left, err := x.collect(n.Left, outer)
	if err != nil {
		return err
	}
	right, err := x.collect(n.Right, outer)
	if err != nil {
		return err
	}
	var res []value.Value
	switch n.Op {
	case ast.Union:
		res = append(left, right...)
		if !n.All {
			res = distinctValues(res)
		}
	case ast.Intersect, ast.Except:
		counts := map[string]int{}
		for _, v := range right {
			counts[keyOf(v)]++
		}
		seen := map[string]bool{}
		for _, v := range left {
			k := keyOf(v)
			in := counts[k] > 0
			if n.All && in {
				// a multiset: each right row matches one left row
				counts[k]--
			}
			if n.Op == ast.Except {
				in = !in
			}
			if !in {
				continue
			}
			if !n.All {
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			res = append(res, v)
		}
	}
	for _, v := range res {
		if more, err := fn(v); err != nil || !more {
			return err
		}
	}
	return nil
}

func distinctValues(vs []value.Value) []value.Value {
	seen := make(map[string]bool, len(vs))
	out := vs[:0:0]
	for _, v := range vs {
		k := keyOf(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

type sortItem struct {
	keys []value.Value
	val  value.Value
}

func (x *exec) sortKeys(terms []ast.OrderTerm, r *row) ([]value.Value, error) {
	keys := make([]value.Value, len(terms))
	for i, t := range terms {
		v, err := x.eval(t.Expr, r)
		if err != nil {
			return nil, err
		}
		keys[i] = v
	}
	return keys, nil
}

func compareKeys(a, b []value.Value, terms []ast.OrderTerm) int {
	for i, t := range terms {
		ka, kb := a[i], b[i]
		var c int
		nullsFirst := !t.Desc
		switch t.Nulls {
		case ast.NullsFirst:
			nullsFirst = true
		case ast.NullsLast:
			nullsFirst = false
		}
		an, bn := !ka.IsValued(), !kb.IsValued()
		switch {
		case an && !bn:
			c = -1
			if !nullsFirst {
				c = 1
			}
		case !an && bn:
			c = 1
			if !nullsFirst {
				c = -1
			}
		default:
			// DESC reverses MISSING < NULL too, as Couchbase's sort does
			c = value.Collate(ka, kb)
			if t.Desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (x *exec) emitSorted(items []sortItem, terms []ast.OrderTerm, fn func(value.Value) (bool, error)) error {
	x.res.Metrics.SortCount += len(items)
	slices.SortStableFunc(items, func(a, b sortItem) int { return compareKeys(a.keys, b.keys, terms) })
	for _, it := range items {
		if more, err := fn(it.val); err != nil || !more {
			return err
		}
	}
	return nil
}

// subselect runs SELECT ... FROM ... LET ... WHERE ... GROUP BY ... with
// the enclosing query's ORDER BY (order may be nil).
func (x *exec) subselect(ss *ast.Subselect, outer *row, order []ast.OrderTerm, fn func(value.Value) (bool, error)) error {
	// With ORDER BY and LIMIT only the first topK sorted rows matter:
	// the rows kept are cut back to them whenever they double.
	topK := x.topK
	x.topK = 0
	grouped := ss.GroupBy != nil || hasAggregates(ss, order)
	aliases := fromAliases(ss.From)
	if err := checkResultAliases(ss.Projection); err != nil {
		return err
	}
	if err := checkAggregatePlaces(ss); err != nil {
		return err
	}
	if err := checkGrouped(ss, order, outer, aliases); err != nil {
		return err
	}
	if err := checkAmbiguous(ss, order, outer); err != nil {
		return err
	}
	var conj []ast.Expr
	if ss.Where != nil {
		conj = conjuncts(ss.Where)
	}
	base := &row{outer: outer}
	if _, single := ss.From.(*ast.KeyspaceTerm); single {
		base.dflt = aliases[0]
	} else if len(aliases) == 1 {
		if _, ok := ss.From.(*ast.JoinTerm); !ok {
			if _, ok := ss.From.(*ast.UnnestTerm); !ok {
				base.dflt = aliases[0]
			}
		}
	}
	if c := countStarOnly(ss, order, base); c != nil {
		n, ok, err := x.countPushdown(ss.From.(*ast.KeyspaceTerm), ss.Where, base)
		if err != nil {
			return err
		}
		if ok {
			r := &row{outer: outer, group: &groupRow{aggs: map[string]value.Value{c.String(): value.NewInt(int64(n))}}}
			v, err := x.project(ss.Projection, r, aliases)
			if err != nil {
				return err
			}
			_, err = fn(v)
			return err
		}
	}
	// LET names shadow document fields: bound (to MISSING until LET
	// binds them) so that the planner never reads them as index keys.
	for _, l := range ss.Let {
		base = base.with(l.Var, value.MissingValue, letPending)
	}
	var items []sortItem
	var seen map[string]bool
	if ss.Projection.Distinct {
		seen = map[string]bool{}
	}
	// finish projects one (filtered or grouped) row and sends it on.
	finish := func(r *row) (bool, error) {
		v, err := x.project(ss.Projection, r, aliases)
		if err != nil {
			return false, err
		}
		if v.IsMissing() {
			return true, nil // SELECT RAW of MISSING gives no row
		}
		if seen != nil {
			k := keyOf(v)
			if seen[k] {
				return true, nil
			}
			seen[k] = true
		}
		if len(order) == 0 {
			return fn(v)
		}
		or := r
		if !ss.Projection.Raw {
			for _, t := range ss.Projection.Terms {
				if t.Star {
					continue
				}
				if name := t.ImplicitAlias(); name != "" && !or.boundHere(name) {
					or = or.with(name, v.Field(name), nil)
				}
			}
		}
		keys, err := x.sortKeys(order, or)
		if err != nil {
			return false, err
		}
		items = append(items, sortItem{keys: keys, val: v})
		if topK > 0 && len(items) >= 2*topK+64 {
			slices.SortStableFunc(items, func(a, b sortItem) int { return compareKeys(a.keys, b.keys, order) })
			clear(items[topK:])
			items = items[:topK]
		}
		return true, nil
	}
	var g *grouper
	if grouped {
		g = newGrouper(x, ss, order)
	}
	each := func(r *row) (bool, error) {
		if err := x.tick(); err != nil {
			return false, err
		}
		for _, l := range ss.Let {
			v, err := x.eval(l.Expr, r)
			if err != nil {
				return false, err
			}
			r = r.with(l.Var, v, nil)
		}
		if ss.Where != nil {
			ok, err := x.when(ss.Where, r)
			if err != nil || !ok {
				return true, err
			}
		}
		if g != nil {
			return true, g.add(r)
		}
		return finish(r)
	}
	var err error
	if ss.From == nil {
		_, err = each(base)
	} else {
		err = x.from(ss.From, base, conj, each)
	}
	if err != nil {
		return err
	}
	if g != nil {
		rows, err := g.rows(base)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if ss.GroupBy != nil && ss.GroupBy.Having != nil {
				ok, err := x.when(ss.GroupBy.Having, r)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			more, err := finish(r)
			if err != nil || !more {
				return err
			}
		}
	}
	if len(order) > 0 {
		return x.emitSorted(items, order, fn)
	}
	return nil
}

// fromAliases lists the aliases a FROM clause binds, in order.
func fromAliases(t ast.FromTerm) []string {
	switch n := t.(type) {
	case nil:
		return nil
	case *ast.KeyspaceTerm:
		return []string{n.AliasOrDefault()}
	case *ast.SubqueryTerm:
		return []string{n.Alias}
	case *ast.ExprTerm:
		if n.Alias != "" {
			return []string{n.Alias}
		}
		return []string{ast.ImplicitName(n.Expr)}
	case *ast.JoinTerm:
		return append(fromAliases(n.Left), fromAliases(n.Right)...)
	case *ast.UnnestTerm:
		a := n.Alias
		if a == "" {
			a = ast.ImplicitName(n.Expr)
		}
		return append(fromAliases(n.Left), a)
	}
	return nil
}

// project builds a result value from row r.
// checkResultAliases refuses two result terms of one name, explicit or
// implicit ($n included), as Couchbase's parser does (3000).
func checkResultAliases(p *ast.Projection) error {
	if p == nil || p.Raw {
		return nil
	}
	seen := make(map[string]bool, len(p.Terms))
	n := 1
	for _, t := range p.Terms {
		if t.Star {
			continue
		}
		name := t.ImplicitAlias()
		if name == "" {
			name = "$" + strconv.Itoa(n)
			n++
		}
		if seen[name] {
			return newErr(CodeSyntax, "Duplicate result alias '%s'.", name)
		}
		seen[name] = true
	}
	return nil
}

// checkAggregatePlaces refuses aggregates in LET, WHERE and GROUP BY
// keys, as Couchbase's planner does (4000).
func checkAggregatePlaces(ss *ast.Subselect) error {
	check := func(e ast.Expr, clause string) error {
		if e == nil {
			return nil
		}
		found := false
		ast.Inspect(e, func(n ast.Node) bool {
			switch c := n.(type) {
			case *ast.Subquery:
				return false
			case *ast.Call:
				if isAggregate(c) {
					found = true
					return false
				}
			}
			return !found
		})
		if found {
			return newErr(CodeNoIndex, "Aggregates not allowed in %s.", clause)
		}
		return nil
	}
	for _, l := range ss.Let {
		if err := check(l.Expr, "LET"); err != nil {
			return err
		}
	}
	if err := check(ss.Where, "WHERE"); err != nil {
		return err
	}
	if ss.GroupBy != nil {
		for _, k := range ss.GroupBy.Keys {
			if err := check(k.Expr, "GROUP BY"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *exec) project(p *ast.Projection, r *row, aliases []string) (value.Value, error) {
	if p.Raw {
		return x.eval(p.Terms[0].Expr, r)
	}
	pairs := make([]value.Pair, 0, len(p.Terms))
	n := 1
	for _, t := range p.Terms {
		switch {
		case t.Star && t.Expr == nil:
			for _, a := range aliases {
				v, _, _ := r.lookup(a)
				pairs = append(pairs, value.Pair{Name: a, Value: v})
			}
		case t.Star:
			v, err := x.eval(t.Expr, r)
			if err != nil {
				return v, err
			}
			if v.Kind() == value.Object {
				if ps, ok := v.Pairs(); ok {
					pairs = append(pairs, ps...)
				}
			}
		default:
			v, err := x.eval(t.Expr, r)
			if err != nil {
				return v, err
			}
			name := t.ImplicitAlias()
			if name == "" {
				name = "$" + strconv.Itoa(n)
				n++
			}
			pairs = append(pairs, value.Pair{Name: name, Value: v})
		}
	}
	return value.NewOrderedObject(pairs), nil
}

// conjuncts splits a condition into its AND terms.
func conjuncts(e ast.Expr) []ast.Expr {
	if b, ok := e.(*ast.Binary); ok && b.Op == ast.OpAnd {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []ast.Expr{e}
}

// hasAggregates reports whether the projection, HAVING, LETTING or ORDER
// BY of ss use an aggregate (outside subqueries).
func hasAggregates(ss *ast.Subselect, order []ast.OrderTerm) bool {
	return len(collectAggregates(ss, order)) > 0
}

func collectAggregates(ss *ast.Subselect, order []ast.OrderTerm) []*ast.Call {
	var out []*ast.Call
	seen := map[string]bool{}
	visit := func(e ast.Expr) {
		if e == nil {
			return
		}
		ast.Inspect(e, func(n ast.Node) bool {
			switch c := n.(type) {
			case *ast.Subquery:
				return false
			case *ast.Call:
				if isAggregate(c) {
					if k := c.String(); !seen[k] {
						seen[k] = true
						out = append(out, c)
					}
					return false
				}
			}
			return true
		})
	}
	for _, t := range ss.Projection.Terms {
		visit(t.Expr)
	}
	if ss.GroupBy != nil {
		visit(ss.GroupBy.Having)
		for _, l := range ss.GroupBy.Letting {
			visit(l.Expr)
		}
	}
	for _, o := range order {
		visit(o.Expr)
	}
	return out
}

// grouper gathers rows into groups and computes their aggregates.
type grouper struct {
	x      *exec
	ss     *ast.Subselect
	aggs   []*ast.Call
	groups map[string]*group
	order  []*group
}

type group struct {
	first  *row
	keys   []value.Value
	states []*aggState
}

func newGrouper(x *exec, ss *ast.Subselect, order []ast.OrderTerm) *grouper {
	return &grouper{x: x, ss: ss, aggs: collectAggregates(ss, order), groups: map[string]*group{}}
}

func (g *grouper) add(r *row) error {
	var keys []value.Value
	var kb []byte
	if g.ss.GroupBy != nil {
		for _, t := range g.ss.GroupBy.Keys {
			v, err := g.x.eval(t.Expr, r)
			if err != nil {
				return err
			}
			keys = append(keys, v)
			kb = value.AppendKey(kb, v)
		}
	}
	gr, ok := g.groups[string(kb)]
	if !ok {
		gr = &group{first: r, keys: keys, states: make([]*aggState, len(g.aggs))}
		for i, c := range g.aggs {
			gr.states[i] = newAggState(c)
		}
		g.groups[string(kb)] = gr
		g.order = append(g.order, gr)
	}
	for i, c := range g.aggs {
		if err := gr.states[i].add(g.x, c, r); err != nil {
			return err
		}
	}
	return nil
}

// rows returns one row per group; without GROUP BY there is exactly one
// group even over no rows.
func (g *grouper) rows(base *row) ([]*row, error) {
	if len(g.order) == 0 && (g.ss.GroupBy == nil || len(g.ss.GroupBy.Keys) == 0) {
		gr := &group{first: base, states: make([]*aggState, len(g.aggs))}
		for i, c := range g.aggs {
			gr.states[i] = newAggState(c)
		}
		g.order = append(g.order, gr)
	}
	out := make([]*row, 0, len(g.order))
	for _, gr := range g.order {
		gro := &groupRow{keys: map[string]value.Value{}, aggs: map[string]value.Value{}}
		for i, c := range g.aggs {
			gro.aggs[c.String()] = gr.states[i].result()
		}
		r := &row{outer: gr.first.outer, names: gr.first.names, vals: gr.first.vals, docs: gr.first.docs, dflt: gr.first.dflt, group: gro}
		if g.ss.GroupBy != nil {
			for i, t := range g.ss.GroupBy.Keys {
				gro.keys[t.Expr.String()] = gr.keys[i]
				if t.Alias != "" {
					r = r.with(t.Alias, gr.keys[i], nil)
				}
			}
			for _, l := range g.ss.GroupBy.Letting {
				v, err := g.x.eval(l.Expr, r)
				if err != nil {
					return nil, err
				}
				r = r.with(l.Var, v, nil)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

type aggState struct {
	name     string
	count    int64
	sum      value.Value
	hasSum   bool
	best     value.Value
	hasBest  bool
	list     []value.Value
	distinct map[string]bool
}

func newAggState(c *ast.Call) *aggState {
	s := &aggState{name: strings.ToLower(c.Func.Name)}
	if c.Distinct {
		s.distinct = map[string]bool{}
	}
	return s
}

func (s *aggState) add(x *exec, c *ast.Call, r *row) error {
	if c.Filter != nil {
		ok, err := x.when(c.Filter, r)
		if err != nil || !ok {
			return err
		}
	}
	if c.Star {
		s.count++
		return nil
	}
	if len(c.Args) != 1 {
		return newErr(CodeSyntax, "%s() takes one argument", strings.ToUpper(s.name))
	}
	v, err := x.eval(c.Args[0], r)
	if err != nil {
		return err
	}
	if v.IsMissing() {
		return nil
	}
	if s.distinct != nil {
		k := keyOf(v)
		if s.distinct[k] {
			return nil
		}
		s.distinct[k] = true
	}
	switch s.name {
	case "count":
		if !v.IsNull() {
			s.count++
		}
	case "countn":
		if v.Kind() == value.Number {
			s.count++
		}
	case "sum", "avg":
		if v.Kind() == value.Number {
			s.count++
			if !s.hasSum {
				s.sum, s.hasSum = v, true
			} else {
				s.sum = value.Add(s.sum, v)
			}
		}
	case "min", "max":
		if v.IsNull() {
			return nil
		}
		c := value.Collate(v, s.best)
		if !s.hasBest || (s.name == "min" && c < 0) || (s.name == "max" && c > 0) {
			s.best, s.hasBest = v, true
		}
	case "array_agg":
		s.list = append(s.list, v)
	}
	return nil
}

func (s *aggState) result() value.Value {
	switch s.name {
	case "count", "countn":
		return value.NewInt(s.count)
	case "sum":
		if !s.hasSum {
			return value.NullValue
		}
		return s.sum
	case "avg":
		if !s.hasSum {
			return value.NullValue
		}
		return value.Div(s.sum, value.NewInt(s.count))
	case "min", "max":
		if !s.hasBest {
			return value.NullValue
		}
		return s.best
	case "array_agg":
		if s.list == nil {
			return value.NullValue
		}
		return value.NewArray(s.list)
	}
	return value.NullValue
}

// offsetPushable reports whether OFFSET can skip index entries before
// fetching: every scanned document then gives exactly one result row.
func offsetPushable(ss *ast.Subselect) bool {
	kt, ok := ss.From.(*ast.KeyspaceTerm)
	return ok && kt.UseKeys == nil && kt.Namespace == "" && ss.Where == nil && len(ss.Let) == 0 &&
		ss.GroupBy == nil && !ss.Projection.Distinct && !ss.Projection.Raw && !hasAggregates(ss, nil)
}

// countStarOnly returns the COUNT(*) call of SELECT COUNT(*) FROM ks
// (no WHERE, no grouping), which the primary index answers alone.
func countStarOnly(ss *ast.Subselect, order []ast.OrderTerm, base *row) *ast.Call {
	kt, ok := ss.From.(*ast.KeyspaceTerm)
	if !ok || kt.UseKeys != nil || kt.Namespace != "" || len(ss.Let) > 0 || ss.GroupBy != nil || len(order) > 0 || len(ss.Projection.Terms) != 1 {
		return nil
	}
	if _, _, bound := base.lookup(kt.Path[0]); bound {
		return nil
	}
	c, ok := ss.Projection.Terms[0].Expr.(*ast.Call)
	if !ok || !isAggregate(c) || !c.Star || c.Filter != nil || c.Distinct || !strings.EqualFold(c.Func.Name, "count") {
		return nil
	}
	return c
}

// countPushdown counts a keyspace's documents from an index alone: all
// of them with the primary index, or those whose leading key equals a
// constant (WHERE k = c and nothing else) with a non-array, non-partial
// index on k, whose span then holds exactly the matching documents.
func (x *exec) countPushdown(kt *ast.KeyspaceTerm, where ast.Expr, base *row) (int, bool, error) {
	if x.explaining {
		return 0, false, nil
	}
	ref, err := x.resolveKeyspace(kt)
	if err != nil || ref.system != "" {
		return 0, false, err
	}
	if len(x.pendingKeys(ref.ks)) > 0 {
		return 0, false, nil // the index does not count the pending writes
	}
	alias := kt.AliasOrDefault()
	var conj []ast.Expr
	if where != nil {
		conj = conjuncts(where)
		if len(conj) != 1 {
			return 0, false, nil
		}
		b, ok := conj[0].(*ast.Binary)
		if !ok || b.Op != ast.OpEq {
			return 0, false, nil
		}
	}
	acc, err := x.plan(ref.ks, kt, alias, true, conj, base, false)
	if err != nil {
		return 0, false, err
	}
	view, err := x.store().Index(ref.ks, acc.index)
	if err != nil {
		return 0, false, nil
	}
	now := uint32(x.fctx.Now.Unix())
	if where == nil {
		if !acc.primary || len(acc.spans) != 1 || acc.spans[0].Low != nil {
			return 0, false, nil
		}
		return view.Count(docstore.ScanRange{}, now), true, nil
	}
	if acc.primary || len(acc.spans) != 1 {
		return 0, false, nil
	}
	info := view.Info()
	m, err := x.e.indexMeta(info.Definition)
	if err != nil || m.cond != nil || m.array[0] != nil || m.stmt.Keys[0].Distinct || m.stmt.Keys[0].All {
		return 0, false, nil
	}
	b := conj[0].(*ast.Binary)
	for _, side := range [][2]ast.Expr{{b.Left, b.Right}, {b.Right, b.Left}} {
		if k, ok := stripAlias(side[0], alias, true, base); ok && k.String() == m.keyText[0] && !refsScan(side[1], alias, true, base) {
			v, err := x.eval(side[1], base)
			if err != nil {
				return 0, false, err
			}
			if !v.IsValued() {
				return 0, true, nil // = NULL or MISSING matches nothing
			}
			return view.Count(acc.spans[0], now), true, nil
		}
	}
	return 0, false, nil
}
