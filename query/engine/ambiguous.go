package engine

import (
	"eventide/query/ast"
)

// CodeAmbiguousReference is Couchbase's error for a bare name in a query
// whose FROM clause has several terms.
const CodeAmbiguousReference = 3080

// checkAmbiguous applies Couchbase's rule that with several FROM terms
// (joins, UNNEST) a bare name must be a variable in scope: an alias, a
// LET/LETTING/WITH/group variable, a comprehension variable or, in ORDER
// BY, a projection alias. Subqueries are not checked (their bare names may
// be correlated), nor the UNNEST expression of a single keyspace (its
// bare names are that keyspace's fields).
func checkAmbiguous(ss *ast.Subselect, order []ast.OrderTerm, outer *row) error {
	switch ss.From.(type) {
	case *ast.JoinTerm, *ast.UnnestTerm:
	default:
		return nil
	}
	for x := outer; x != nil; x = x.outer {
		if x.dflt != "" {
			return nil // a bare name may be a field of an enclosing query's keyspace
		}
	}
	allowed := map[string]bool{}
	for _, a := range fromAliases(ss.From) {
		allowed[a] = true
	}
	for _, l := range ss.Let {
		allowed[l.Var] = true
	}
	if ss.GroupBy != nil {
		for _, k := range ss.GroupBy.Keys {
			if k.Alias != "" {
				allowed[k.Alias] = true
			}
		}
		for _, l := range ss.GroupBy.Letting {
			allowed[l.Var] = true
		}
	}
	var bad *ast.Identifier
	check := func(e ast.Expr) {
		if e == nil || bad != nil {
			return
		}
		ast.Inspect(e, func(n ast.Node) bool {
			if bad != nil {
				return false
			}
			switch t := n.(type) {
			case *ast.Subquery:
				return false
			case *ast.Quantified:
				bindVars(allowed, t.Bindings)
			case *ast.ArrayFor:
				bindVars(allowed, t.Bindings)
			case *ast.FirstFor:
				bindVars(allowed, t.Bindings)
			case *ast.ObjectFor:
				bindVars(allowed, t.Bindings)
			case *ast.Identifier:
				if !allowed[t.Name] {
					if _, _, bound := outer.lookup(t.Name); !bound {
						bad = t
					}
				}
			}
			return true
		})
	}
	var from func(t ast.FromTerm)
	from = func(t ast.FromTerm) {
		switch n := t.(type) {
		case *ast.JoinTerm:
			from(n.Left)
			check(n.OnKeys)
			check(n.OnKey)
			check(n.On)
		case *ast.UnnestTerm:
			from(n.Left)
			if _, single := n.Left.(*ast.KeyspaceTerm); !single {
				check(n.Expr)
			}
		}
	}
	from(ss.From)
	for _, l := range ss.Let {
		check(l.Expr)
	}
	check(ss.Where)
	for _, t := range ss.Projection.Terms {
		check(t.Expr)
	}
	if ss.GroupBy != nil {
		for _, k := range ss.GroupBy.Keys {
			check(k.Expr)
		}
		for _, l := range ss.GroupBy.Letting {
			check(l.Expr)
		}
		check(ss.GroupBy.Having)
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
		return newErr(CodeAmbiguousReference, "Ambiguous reference to field '%s' (near line %d, column %d).", bad.Name, bad.Line, bad.Column)
	}
	return nil
}

func bindVars(allowed map[string]bool, bs []ast.Binding) {
	for _, b := range bs {
		allowed[b.Var] = true
		if b.NameVar != "" {
			allowed[b.NameVar] = true
		}
	}
}
