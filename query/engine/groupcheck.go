package engine

import (
	"eventide/query/ast"
)

// CodeGroupKey is Couchbase's error for a grouped query that uses a
// value which is neither a group key nor an aggregate.
const CodeGroupKey = 4210

// checkGrouped applies Couchbase's rule that after GROUP BY, the
// projection, HAVING, LETTING and ORDER BY depend only on group keys,
// aggregates, group aliases, LETTING variables and outer variables.
//
// A query with aggregates and no GROUP BY is one group without keys:
// SELECT META(c).id, COUNT(*) FROM c is refused as in Couchbase.
func checkGrouped(ss *ast.Subselect, order []ast.OrderTerm, outer *row, aliases []string) error {
	gb := ss.GroupBy
	if gb == nil || len(gb.Keys) == 0 {
		if !hasAggregates(ss, order) {
			return nil
		}
		if gb == nil {
			gb = &ast.GroupBy{}
		}
	}
	alias, implicit := "", false
	if _, ok := ss.From.(*ast.KeyspaceTerm); ok && len(aliases) == 1 {
		alias, implicit = aliases[0], true
	}
	norm := func(e ast.Expr) string {
		if implicit {
			return stripAll(e, alias).String()
		}
		return e.String()
	}
	keys := map[string]bool{}
	allowed := map[string]bool{}
	for _, k := range gb.Keys {
		keys[norm(k.Expr)] = true
		if k.Alias != "" {
			allowed[k.Alias] = true
		}
	}
	for _, l := range gb.Letting {
		allowed[l.Var] = true
	}
	fromNames := map[string]bool{}
	for _, a := range aliases {
		fromNames[a] = true
	}
	var bad ast.Expr
	check := func(e ast.Expr) {
		if e == nil || bad != nil {
			return
		}
		ast.Inspect(e, func(n ast.Node) bool {
			if bad != nil {
				return false
			}
			x, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			if keys[norm(x)] {
				return false
			}
			switch t := x.(type) {
			case *ast.Subquery:
				return false
			case *ast.Call:
				if isAggregate(t) {
					return false
				}
			case *ast.Quantified:
				for _, b := range t.Bindings {
					allowed[b.Var], allowed[b.NameVar] = true, b.NameVar != ""
				}
			case *ast.ArrayFor:
				for _, b := range t.Bindings {
					allowed[b.Var] = true
				}
			case *ast.FirstFor:
				for _, b := range t.Bindings {
					allowed[b.Var] = true
				}
			case *ast.ObjectFor:
				for _, b := range t.Bindings {
					allowed[b.Var] = true
				}
			case *ast.Meta:
				bad = x
				return false
			case *ast.Self:
				bad = x
				return false
			case *ast.Identifier:
				if allowed[t.Name] {
					return false
				}
				if fromNames[t.Name] || implicit {
					if _, _, bound := outer.lookup(t.Name); !bound || fromNames[t.Name] {
						bad = x
					}
				}
				return false
			}
			return true
		})
	}
	for _, t := range ss.Projection.Terms {
		check(t.Expr)
	}
	check(gb.Having)
	for _, l := range gb.Letting {
		check(l.Expr)
	}
	for _, t := range ss.Projection.Terms {
		if !t.Star {
			if name := t.ImplicitAlias(); name != "" {
				allowed[name] = true
			}
		}
	}
	for _, o := range order {
		check(o.Expr)
	}
	if bad != nil {
		// Couchbase names the expression as formalised (bare fields
		// qualified by the keyspace alias) and where it is.
		text := cbText(bad)
		if id, ok := bad.(*ast.Identifier); ok && implicit && !fromNames[id.Name] {
			text = "(`" + alias + "`." + cbText(bad) + ")"
		}
		p := bad.Position()
		return newErr(CodeGroupKey, "Expression %s (near line %d, column %d) must depend only on group keys or aggregates.", text, p.Line, p.Column)
	}
	return nil
}
