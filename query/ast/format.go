package ast

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// printer writes canonical SQL++. Every composite operator is wrapped in
// parentheses so the printed text never depends on precedence.
type printer struct {
	b strings.Builder
}

func (p *printer) str(s string) { p.b.WriteString(s) }

func nodeString(n Node) string {
	var p printer
	p.node(n)
	return p.b.String()
}

func (x *Literal) String() string         { return nodeString(x) }
func (x *Missing) String() string         { return nodeString(x) }
func (x *Identifier) String() string      { return nodeString(x) }
func (x *Field) String() string           { return nodeString(x) }
func (x *DynamicField) String() string    { return nodeString(x) }
func (x *Element) String() string         { return nodeString(x) }
func (x *Slice) String() string           { return nodeString(x) }
func (x *ArrayStar) String() string       { return nodeString(x) }
func (x *Param) String() string           { return nodeString(x) }
func (x *Unary) String() string           { return nodeString(x) }
func (x *Binary) String() string          { return nodeString(x) }
func (x *Like) String() string            { return nodeString(x) }
func (x *Between) String() string         { return nodeString(x) }
func (x *Is) String() string              { return nodeString(x) }
func (x *Call) String() string            { return nodeString(x) }
func (x *Meta) String() string            { return nodeString(x) }
func (x *Case) String() string            { return nodeString(x) }
func (x *Quantified) String() string      { return nodeString(x) }
func (x *ArrayFor) String() string        { return nodeString(x) }
func (x *FirstFor) String() string        { return nodeString(x) }
func (x *ObjectFor) String() string       { return nodeString(x) }
func (x *ArrayCons) String() string       { return nodeString(x) }
func (x *ObjectCons) String() string      { return nodeString(x) }
func (x *Subquery) String() string        { return nodeString(x) }
func (x *Self) String() string            { return nodeString(x) }
func (x *Select) String() string          { return nodeString(x) }
func (x *Subselect) String() string       { return nodeString(x) }
func (x *SetOp) String() string           { return nodeString(x) }
func (x *KeyspaceTerm) String() string    { return nodeString(x) }
func (x *SubqueryTerm) String() string    { return nodeString(x) }
func (x *ExprTerm) String() string        { return nodeString(x) }
func (x *JoinTerm) String() string        { return nodeString(x) }
func (x *UnnestTerm) String() string      { return nodeString(x) }
func (x *Insert) String() string          { return nodeString(x) }
func (x *Update) String() string          { return nodeString(x) }
func (x *Delete) String() string          { return nodeString(x) }
func (x *Merge) String() string           { return nodeString(x) }
func (x *CreateIndex) String() string     { return nodeString(x) }
func (x *DropIndex) String() string       { return nodeString(x) }
func (x *BuildIndex) String() string      { return nodeString(x) }
func (x *Explain) String() string         { return nodeString(x) }
func (x *Advise) String() string          { return nodeString(x) }
func (x *Infer) String() string           { return nodeString(x) }
func (x *Prepare) String() string         { return nodeString(x) }
func (x *Execute) String() string         { return nodeString(x) }
func (x *CreateFunction) String() string  { return nodeString(x) }
func (x *DropFunction) String() string    { return nodeString(x) }
func (x *ExecuteFunction) String() string { return nodeString(x) }

// String prints the function name as written, quoting parts as needed.
func (f FuncName) String() string {
	var p printer
	p.funcName(f)
	return p.b.String()
}

// QuoteIdent returns name as SQL++ writes it: bare when it is a plain
// identifier and not a reserved word, back-quoted otherwise.
func QuoteIdent(name string) string {
	if isPlainIdent(name) && !IsReserved(name) {
		return name
	}
	var b strings.Builder
	b.WriteByte('`')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '`':
			b.WriteString("``")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('`')
	return b.String()
}

func isPlainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// QuoteString returns s as a double-quoted SQL++ string literal.
func QuoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			// Bytes pass through unchanged, valid UTF-8 or not, so that the
			// lexer reads back exactly the same string.
			b.WriteByte(c)
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}

func (p *printer) ident(name string, ci bool) {
	if ci {
		p.str("`")
		q := QuoteIdent(name)
		if strings.HasPrefix(q, "`") {
			q = q[1 : len(q)-1]
		}
		p.str(q)
		p.str("`i")
		return
	}
	p.str(QuoteIdent(name))
}

func (p *printer) exprs(list []Expr) {
	for i, e := range list {
		if i > 0 {
			p.str(", ")
		}
		p.node(e)
	}
}

func (p *printer) bindings(bs []Binding) {
	for i, b := range bs {
		if i > 0 {
			p.str(", ")
		}
		if b.NameVar != "" {
			p.ident(b.NameVar, false)
			p.str(" : ")
		}
		p.ident(b.Var, false)
		if b.Within {
			p.str(" WITHIN ")
		} else {
			p.str(" IN ")
		}
		p.node(b.Expr)
	}
}

func (p *printer) rangeTail(bs []Binding, when Expr) {
	p.str(" FOR ")
	p.bindings(bs)
	if when != nil {
		p.str(" WHEN ")
		p.node(when)
	}
	p.str(" END")
}

func (p *printer) funcName(f FuncName) {
	p.namespace(f.Namespace)
	for _, s := range f.Path {
		p.ident(s, false)
		p.str(".")
	}
	if f.Namespace == "" && len(f.Path) == 0 && strings.EqualFold(f.Name, "REPLACE") {
		// the one reserved word the grammar takes as a function name
		p.str(f.Name)
		return
	}
	p.ident(f.Name, false)
}

func (p *printer) literal(v any) {
	switch v := v.(type) {
	case nil:
		p.str("NULL")
	case bool:
		if v {
			p.str("TRUE")
		} else {
			p.str("FALSE")
		}
	case int64:
		p.str(strconv.FormatInt(v, 10))
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		p.str(s)
	case string:
		p.str(QuoteString(v))
	default:
		p.str("NULL")
	}
}

func isNegative(v any) bool {
	switch n := v.(type) {
	case int64:
		return n < 0
	case float64:
		return n < 0 || (n == 0 && 1/n < 0)
	}
	return false
}

func (p *printer) alias(a string) {
	if a != "" {
		p.str(" AS ")
		p.ident(a, false)
	}
}

func (p *printer) node(n Node) {
	switch x := n.(type) {
	case *Literal:
		p.literal(x.Value)
	case *Missing:
		p.str("MISSING")
	case *Self:
		p.str("SELF")
	case *Identifier:
		p.ident(x.Name, x.CaseInsensitive)
	case *Field:
		p.node(x.Target)
		p.str(".")
		p.ident(x.Name, x.CaseInsensitive)
	case *DynamicField:
		p.node(x.Target)
		p.str(".[")
		p.node(x.Name)
		p.str("]")
		if x.CaseInsensitive {
			p.str("i")
		}
	case *Element:
		p.node(x.Target)
		p.str("[")
		p.node(x.Index)
		p.str("]")
	case *Slice:
		p.node(x.Target)
		p.str("[")
		if x.Start != nil {
			p.node(x.Start)
		}
		p.str(":")
		if x.End != nil {
			p.node(x.End)
		}
		p.str("]")
	case *ArrayStar:
		p.node(x.Target)
		p.str("[*]")
	case *Param:
		switch {
		case x.Name != "":
			p.str("$")
			p.str(x.Name)
		case x.Question:
			p.str("?")
		default:
			p.str("$")
			p.str(strconv.Itoa(x.Index))
		}
	case *Unary:
		p.str("(")
		p.str(string(x.Op))
		if x.Op != OpNeg {
			p.str(" ")
		} else if l, ok := x.Operand.(*Literal); ok && isNegative(l.Value) {
			// "--" would start a comment
			p.str(" ")
		}
		p.node(x.Operand)
		p.str(")")
	case *Binary:
		p.str("(")
		p.node(x.Left)
		p.str(" ")
		p.str(string(x.Op))
		p.str(" ")
		p.node(x.Right)
		p.str(")")
	case *Like:
		p.str("(")
		p.node(x.Target)
		if x.Not {
			p.str(" NOT")
		}
		p.str(" LIKE ")
		p.node(x.Pattern)
		if x.Escape != nil {
			p.str(" ESCAPE ")
			p.node(x.Escape)
		}
		p.str(")")
	case *Between:
		p.str("(")
		p.node(x.Target)
		if x.Not {
			p.str(" NOT")
		}
		p.str(" BETWEEN ")
		p.node(x.Low)
		p.str(" AND ")
		p.node(x.High)
		p.str(")")
	case *Is:
		p.str("(")
		p.node(x.Target)
		p.str(" IS ")
		if x.Not {
			p.str("NOT ")
		}
		p.str(string(x.Kind))
		p.str(")")
	case *Call:
		p.funcName(x.Func)
		p.str("(")
		if x.Distinct {
			p.str("DISTINCT ")
		}
		if x.Star {
			p.str("*")
		}
		p.exprs(x.Args)
		p.str(")")
		if x.Filter != nil {
			p.str(" FILTER (WHERE ")
			p.node(x.Filter)
			p.str(")")
		}
	case *Meta:
		p.str("META(")
		if x.Keyspace != nil {
			p.node(x.Keyspace)
		}
		p.str(")")
	case *Case:
		p.str("CASE")
		if x.Operand != nil {
			p.str(" ")
			p.node(x.Operand)
		}
		for _, w := range x.Whens {
			p.str(" WHEN ")
			p.node(w.Cond)
			p.str(" THEN ")
			p.node(w.Result)
		}
		if x.Else != nil {
			p.str(" ELSE ")
			p.node(x.Else)
		}
		p.str(" END")
	case *Quantified:
		p.str(string(x.Kind))
		p.str(" ")
		p.bindings(x.Bindings)
		p.str(" SATISFIES ")
		p.node(x.Satisfies)
		p.str(" END")
	case *ArrayFor:
		p.str("ARRAY ")
		p.node(x.Mapping)
		p.rangeTail(x.Bindings, x.When)
	case *FirstFor:
		p.str("FIRST ")
		p.node(x.Mapping)
		p.rangeTail(x.Bindings, x.When)
	case *ObjectFor:
		p.str("OBJECT ")
		p.node(x.Key)
		p.str(" : ")
		p.node(x.Value)
		p.rangeTail(x.Bindings, x.When)
	case *ArrayCons:
		p.str("[")
		p.exprs(x.Elems)
		p.str("]")
	case *ObjectCons:
		p.str("{")
		for i, pr := range x.Pairs {
			if i > 0 {
				p.str(", ")
			}
			p.node(pr.Key)
			p.str(": ")
			p.node(pr.Value)
		}
		p.str("}")
	case *Subquery:
		p.str("(")
		p.node(x.Query)
		p.str(")")
	default:
		p.stmt(n)
	}
}
