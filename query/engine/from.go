package engine

import (
	"errors"

	"eventide/docstore"
	"eventide/query/ast"
	"eventide/query/value"
)

// from produces the rows of a FROM clause, each base extended with the
// clause's aliases; conj are the WHERE's AND terms, used to choose index
// spans. fn returns false to stop.
func (x *exec) from(t ast.FromTerm, base *row, conj []ast.Expr, fn func(*row) (bool, error)) error {
	switch n := t.(type) {
	case *ast.KeyspaceTerm:
		skip := x.pushOffset
		x.pushOffset = 0
		if n.Namespace == "" && n.UseKeys == nil {
			// A WITH name, an outer variable or a path on one (FROM
			// a.geo in a correlated subquery), not a keyspace.
			// A bare name bound to an outer document is still the keyspace.
			if v, m, ok := base.lookup(n.Path[0]); ok && (m == nil || len(n.Path) > 1) {
				for _, f := range n.Path[1:] {
					v = v.Field(f)
				}
				return x.eachElem(v, n.AliasOrDefault(), base, skipRows(skip, fn))
			}
		}
		ref, err := x.resolveKeyspace(n)
		if err != nil {
			return err
		}
		alias := n.AliasOrDefault()
		if ref.system != "" {
			return x.systemRows(ref.system, alias, base, skipRows(skip, fn))
		}
		acc, err := x.plan(ref.ks, n, alias, base.dflt == alias, conj, base, false)
		if err != nil {
			return err
		}
		if acc.useKeys {
			each := skipRows(skip, fn)
			return x.read(ref.ks, acc, 0, func(d *docstore.Document) (bool, error) {
				return each(base.with(alias, docValue(d), metaOf(ref.ks, d)))
			})
		}
		return x.read(ref.ks, acc, skip, func(d *docstore.Document) (bool, error) {
			return fn(base.with(alias, docValue(d), metaOf(ref.ks, d)))
		})
	case *ast.SubqueryTerm:
		v, err := x.subquery(n.Query, base)
		if err != nil {
			return err
		}
		return x.eachElem(v, n.Alias, base, fn)
	case *ast.ExprTerm:
		v, err := x.eval(n.Expr, base)
		if err != nil {
			return err
		}
		alias := n.Alias
		if alias == "" {
			alias = ast.ImplicitName(n.Expr)
		}
		return x.eachElem(v, alias, base, fn)
	case *ast.JoinTerm:
		if n.Kind == ast.JoinRight {
			// a RIGHT JOIN b ON c, as the first join, is b LEFT JOIN a ON c
			// (with the aliases bound in the other order).
			if _, first := n.Left.(*ast.KeyspaceTerm); !first || n.On == nil || n.Nest {
				return newErr(CodeSemantics, "RIGHT OUTER JOIN is only allowed as the first ANSI JOIN of the FROM clause")
			}
			swapped := *n
			swapped.Left, swapped.Right, swapped.Kind = n.Right, n.Left, ast.JoinLeft
			return x.from(&swapped, base, conj, fn)
		}
		return x.from(n.Left, base, conj, func(l *row) (bool, error) {
			err := x.join(n, l, fn)
			if err == errStop {
				return false, nil
			}
			return err == nil, err
		})
	case *ast.UnnestTerm:
		alias := n.Alias
		if alias == "" {
			alias = ast.ImplicitName(n.Expr)
		}
		// As Couchbase, the UNNEST expression of a single keyspace reads
		// bare names as that keyspace's fields (FROM b UNNEST tags).
		leftDflt := ""
		if kt, ok := n.Left.(*ast.KeyspaceTerm); ok {
			leftDflt = kt.AliasOrDefault()
		}
		return x.from(n.Left, base, conj, func(l *row) (bool, error) {
			el := l
			if leftDflt != "" && l.dflt == "" {
				c := *l
				c.dflt = leftDflt
				el = &c
			}
			v, err := x.eval(n.Expr, el)
			if err != nil {
				return false, err
			}
			elems, _ := v.Elems()
			if len(elems) == 0 {
				if n.Outer {
					return fn(l.with(alias, value.MissingValue, nil))
				}
				return true, nil
			}
			for _, e := range elems {
				if err := x.tick(); err != nil {
					return false, err
				}
				if more, err := fn(l.with(alias, e, nil)); err != nil || !more {
					return more, err
				}
			}
			return true, nil
		})
	}
	return newErr(CodeInternal, "unsupported FROM term %T", t)
}

func docValue(d *docstore.Document) value.Value {
	if d.Datatype != docstore.DatatypeJSON {
		return value.NewBinary(d.Body)
	}
	return value.ParseDocument(d.Body)
}

// eachElem binds alias to each element of an array (or to v itself).
func (x *exec) eachElem(v value.Value, alias string, base *row, fn func(*row) (bool, error)) error {
	elems, ok := v.Elems()
	if !ok {
		if v.IsMissing() {
			return nil
		}
		elems = []value.Value{v}
	}
	for _, e := range elems {
		if err := x.tick(); err != nil {
			return err
		}
		if more, err := fn(base.with(alias, e, nil)); err != nil || !more {
			return err
		}
	}
	return nil
}

// join extends the left row l with the right side of n.
func (x *exec) join(n *ast.JoinTerm, l *row, fn func(*row) (bool, error)) error {
	alias := fromAliases(n.Right)[0]
	var matches []*row
	collect := func(r *row) (bool, error) {
		matches = append(matches, r)
		return true, x.tick()
	}
	noKeys := false // ON KEYS gave no key at all
	switch {
	case n.OnKeys != nil || n.OnKey != nil:
		ks, ok := n.Right.(*ast.KeyspaceTerm)
		if !ok {
			return newErr(CodeSyntax, "JOIN ON KEYS needs a keyspace on the right side")
		}
		ref, err := x.resolveKeyspace(ks)
		if err != nil {
			return err
		}
		if n.OnKey != nil {
			// Index join: right documents whose OnKey names the left
			// document of alias For.
			_, m, _ := l.lookup(n.For)
			if m == nil {
				break
			}
			cond := &ast.Binary{Op: ast.OpEq, Left: n.OnKey, Right: &ast.Literal{Value: m.key}}
			err := x.scan(ref.ks, ks, alias, false, []ast.Expr{cond}, l, func(d *docstore.Document) (bool, error) {
				r := l.with(alias, docValue(d), metaOf(ref.ks, d))
				if ok, err := x.when(cond, r); err != nil || !ok {
					return true, err
				}
				return collect(r)
			})
			if err != nil {
				return err
			}
			break
		}
		kv, err := x.eval(n.OnKeys, l)
		if err != nil {
			return err
		}
		keys := keyList(kv)
		noKeys = len(keys) == 0
		for _, k := range keys {
			d, err := x.get(ref.ks, k)
			if err != nil {
				if errors.Is(err, docstore.ErrNotFound) {
					continue
				}
				return err
			}
			if _, err := collect(l.with(alias, docValue(d), metaOf(ref.ks, d))); err != nil {
				return err
			}
		}
	case n.On != nil:
		cond := n.On
		if ks, ok := n.Right.(*ast.KeyspaceTerm); ok {
			ref, err := x.resolveKeyspace(ks)
			if err != nil {
				return err
			}
			if ref.system != "" {
				err = x.systemRows(ref.system, alias, l, func(r *row) (bool, error) {
					if ok, err := x.when(cond, r); err != nil || !ok {
						return true, err
					}
					return collect(r)
				})
			} else {
				err = x.joinScan(ref.ks, ks, alias, conjuncts(cond), l, func(d *docstore.Document) (bool, error) {
					r := l.with(alias, docValue(d), metaOf(ref.ks, d))
					if ok, err := x.when(cond, r); err != nil || !ok {
						return true, err
					}
					return collect(r)
				})
			}
			if err != nil {
				return err
			}
			break
		}
		err := x.from(n.Right, l, nil, func(r *row) (bool, error) {
			if ok, err := x.when(cond, r); err != nil || !ok {
				return true, err
			}
			return collect(r)
		})
		if err != nil {
			return err
		}
	default: // comma join
		if err := x.from(n.Right, l, nil, collect); err != nil {
			return err
		}
	}
	if n.Nest {
		vals := make([]value.Value, 0, len(matches))
		for _, m := range matches {
			v, _, _ := m.lookup(alias)
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			if n.Kind != ast.JoinLeft {
				return nil
			}
			// As Couchbase: an outer nest that found nothing holds [],
			// unless its ON KEYS named no key
			if noKeys {
				return stopErr(fn(l.with(alias, value.MissingValue, nil)))
			}
			return stopErr(fn(l.with(alias, value.NewArray([]value.Value{}), nil)))
		}
		return stopErr(fn(l.with(alias, value.NewArray(vals), nil)))
	}
	if len(matches) == 0 && n.Kind == ast.JoinLeft {
		return stopErr(fn(l.with(alias, value.MissingValue, nil)))
	}
	for _, m := range matches {
		if more, err := fn(m); err != nil || !more {
			return stopErr(more, err)
		}
	}
	return nil
}

// errStop ends a FROM iteration early without an error.
var errStop = errors.New("stop")

// stopErr turns a row callback's answer into join's: errStop when it
// asked to stop.
func stopErr(more bool, err error) error {
	if err != nil {
		return err
	}
	if !more {
		return errStop
	}
	return nil
}

// keyList reads USE KEYS / ON KEYS values: a string or an array of them.
func keyList(v value.Value) []string {
	if s, ok := v.Str(); ok {
		return []string{s}
	}
	var out []string
	if es, ok := v.Elems(); ok {
		for _, e := range es {
			if s, ok := e.Str(); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// skipRows drops the first n rows given to fn.
func skipRows(n int, fn func(*row) (bool, error)) func(*row) (bool, error) {
	if n <= 0 {
		return fn
	}
	return func(r *row) (bool, error) {
		if n > 0 {
			n--
			return true, nil
		}
		return fn(r)
	}
}
