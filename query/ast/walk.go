package ast

// Visitor is called by Walk for each node; a nil result stops the descent
// into that node's children (as in go/ast).
type Visitor interface {
	Visit(n Node) (w Visitor)
}

type inspector func(Node) bool

func (f inspector) Visit(n Node) Visitor {
	if f(n) {
		return f
	}
	return nil
}

// Inspect walks the tree depth-first calling f for every node; when f
// returns false the node's children are skipped.
func Inspect(n Node, f func(Node) bool) {
	Walk(inspector(f), n)
}

// Walk visits n and then, if v.Visit(n) returns non-nil, its children in
// source order. Nodes are expressions, statements, query bodies and FROM
// terms; the plain structs between them (ResultTerm, LetTerm, Binding...)
// are walked through, not visited.
func Walk(v Visitor, n Node) {
	if n == nil || isNilNode(n) {
		return
	}
	if v = v.Visit(n); v == nil {
		return
	}
	w := func(c Node) {
		if c != nil && !isNilNode(c) {
			Walk(v, c)
		}
	}
	exprs := func(l []Expr) {
		for _, e := range l {
			w(e)
		}
	}
	binds := func(bs []Binding) {
		for _, b := range bs {
			w(b.Expr)
		}
	}
	proj := func(p *Projection) {
		if p != nil {
			for _, t := range p.Terms {
				w(t.Expr)
			}
		}
	}
	lets := func(ls []LetTerm) {
		for _, l := range ls {
			w(l.Expr)
		}
	}
	ufor := func(f *UpdateFor) {
		if f != nil {
			for _, d := range f.Dimensions {
				binds(d)
			}
			w(f.When)
		}
	}
	setUnset := func(set []SetTerm, unset []UnsetTerm) {
		for _, s := range set {
			w(s.Path)
			w(s.Value)
			ufor(s.For)
		}
		for _, u := range unset {
			w(u.Path)
			ufor(u.For)
		}
	}
	switch x := n.(type) {
	case *Literal, *Missing, *Identifier, *Param, *Self:
	case *Field:
		w(x.Target)
	case *DynamicField:
		w(x.Target)
		w(x.Name)
	case *Element:
		w(x.Target)
		w(x.Index)
	case *Slice:
		w(x.Target)
		w(x.Start)
		w(x.End)
	case *ArrayStar:
		w(x.Target)
	case *Unary:
		w(x.Operand)
	case *Binary:
		w(x.Left)
		w(x.Right)
	case *Like:
		w(x.Target)
		w(x.Pattern)
		w(x.Escape)
	case *Between:
		w(x.Target)
		w(x.Low)
		w(x.High)
	case *Is:
		w(x.Target)
	case *Call:
		exprs(x.Args)
		w(x.Filter)
	case *Meta:
		w(x.Keyspace)
	case *Case:
		w(x.Operand)
		for _, c := range x.Whens {
			w(c.Cond)
			w(c.Result)
		}
		w(x.Else)
	case *Quantified:
		binds(x.Bindings)
		w(x.Satisfies)
	case *ArrayFor:
		w(x.Mapping)
		binds(x.Bindings)
		w(x.When)
	case *FirstFor:
		w(x.Mapping)
		binds(x.Bindings)
		w(x.When)
	case *ObjectFor:
		w(x.Key)
		w(x.Value)
		binds(x.Bindings)
		w(x.When)
	case *ArrayCons:
		exprs(x.Elems)
	case *ObjectCons:
		for _, p := range x.Pairs {
			w(p.Key)
			w(p.Value)
		}
	case *Subquery:
		w(x.Query)
	case *Select:
		for _, t := range x.With {
			w(t.Expr)
		}
		w(x.Body)
		for _, o := range x.OrderBy {
			w(o.Expr)
		}
		w(x.Limit)
		w(x.Offset)
	case *SetOp:
		w(x.Left)
		w(x.Right)
	case *Subselect:
		proj(x.Projection)
		w(x.From)
		lets(x.Let)
		w(x.Where)
		if g := x.GroupBy; g != nil {
			for _, k := range g.Keys {
				w(k.Expr)
			}
			lets(g.Letting)
			w(g.Having)
		}
	case *KeyspaceTerm:
		w(x.UseKeys)
	case *SubqueryTerm:
		w(x.Query)
	case *ExprTerm:
		w(x.Expr)
	case *JoinTerm:
		w(x.Left)
		w(x.Right)
		w(x.OnKeys)
		w(x.OnKey)
		w(x.On)
	case *UnnestTerm:
		w(x.Left)
		w(x.Expr)
	case *Insert:
		w(x.Keyspace)
		for _, r := range x.Values {
			w(r.Key)
			w(r.Value)
			w(r.Options)
		}
		w(x.Key)
		w(x.Value)
		w(x.Options)
		w(x.Query)
		proj(x.Returning)
	case *Update:
		w(x.Keyspace)
		setUnset(x.Set, x.Unset)
		w(x.Where)
		w(x.Limit)
		proj(x.Returning)
	case *Delete:
		w(x.Keyspace)
		w(x.Where)
		w(x.Limit)
		w(x.Offset)
		proj(x.Returning)
	case *Merge:
		w(x.Target)
		w(x.Source)
		w(x.OnKey)
		w(x.On)
		if u := x.Update; u != nil {
			setUnset(u.Set, u.Unset)
			w(u.Where)
		}
		if d := x.Delete; d != nil {
			w(d.Where)
		}
		if in := x.Insert; in != nil {
			w(in.Key)
			w(in.Value)
			w(in.Options)
			w(in.Where)
		}
		w(x.Limit)
		proj(x.Returning)
	case *CreateIndex:
		w(x.Keyspace)
		for _, k := range x.Keys {
			w(k.Expr)
		}
		exprs(x.PartitionBy)
		w(x.Where)
		w(x.With)
	case *DropIndex:
		w(x.Keyspace)
	case *BuildIndex:
		w(x.Keyspace)
		exprs(x.Names)
	case *Explain:
		w(x.Stmt)
	case *Advise:
		w(x.Stmt)
	case *Infer:
		w(x.Keyspace)
		w(x.With)
	case *Prepare:
		w(x.Stmt)
	case *Execute:
		w(x.Using)
	case *CreateFunction:
		w(x.Body)
	case *DropFunction:
	case *ExecuteFunction:
		exprs(x.Args)
	}
}

// isNilNode catches typed nil pointers stored in interfaces (an absent
// *KeyspaceTerm or *Select), which are not == nil.
func isNilNode(n Node) bool {
	switch x := n.(type) {
	case *Select:
		return x == nil
	case *KeyspaceTerm:
		return x == nil
	case *Subselect:
		return x == nil
	}
	return false
}

// Params lists the parameters of n in order of appearance.
func Params(n Node) []*Param {
	var out []*Param
	Inspect(n, func(c Node) bool {
		if p, ok := c.(*Param); ok {
			out = append(out, p)
		}
		return true
	})
	return out
}
