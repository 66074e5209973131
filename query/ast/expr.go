package ast

// Pos is where a node starts in the statement text.
type Pos struct {
	Line   int // 1-based line
	Column int // 1-based column, in characters
	Offset int // 0-based byte offset
}

// Position returns p; every node embeds Pos and so satisfies Node.
func (p Pos) Position() Pos { return p }

// Node is any part of the tree.
type Node interface {
	Position() Pos
	String() string
}

// Expr is an expression.
type Expr interface {
	Node
	exprNode()
}

// Statement is a whole statement.
type Statement interface {
	Node
	stmtNode()
}

// Literal is a constant: Value is nil (NULL), bool, int64, float64 or string.
type Literal struct {
	Pos
	Value any
}

// Missing is the MISSING literal.
type Missing struct {
	Pos
}

// Identifier names a variable, keyspace alias or top-level field.
type Identifier struct {
	Pos
	Name            string
	CaseInsensitive bool // written `name`i
}

// Field is Target.Name.
type Field struct {
	Pos
	Target          Expr
	Name            string
	CaseInsensitive bool // written .`name`i
}

// DynamicField is Target.[Name]: the field whose name Name evaluates to;
// .[Name]i matches the name case-insensitively.
type DynamicField struct {
	Pos
	Target          Expr
	Name            Expr
	CaseInsensitive bool
}

// Element is Target[Index].
type Element struct {
	Pos
	Target Expr
	Index  Expr
}

// Slice is Target[Start:End]; Start is nil for Target[:End] and End for
// Target[Start:].
type Slice struct {
	Pos
	Target Expr
	Start  Expr
	End    Expr
}

// ArrayStar is Target[*]: the array of Target's elements' fields, used as
// Target[*].f.
type ArrayStar struct {
	Pos
	Target Expr
}

// Param is a query parameter. Named parameters ($name) have Name set;
// positional ones have Index (1-based): $n gives n, and each ? takes the
// next number in order of appearance.
type Param struct {
	Pos
	Name     string
	Index    int
	Question bool // written ?
}

// UnaryOp is a prefix operator.
type UnaryOp string

// Prefix operators.
const (
	OpNeg    UnaryOp = "-"
	OpNot    UnaryOp = "NOT"
	OpExists UnaryOp = "EXISTS"
)

// Unary is a prefix operator applied to Operand.
type Unary struct {
	Pos
	Op      UnaryOp
	Operand Expr
}

// BinaryOp is an infix operator. == is read as = and <> as !=.
type BinaryOp string

// Infix operators, lowest precedence first (the parser documents the
// levels).
const (
	OpOr        BinaryOp = "OR"
	OpAnd       BinaryOp = "AND"
	OpEq        BinaryOp = "="
	OpNe        BinaryOp = "!="
	OpLt        BinaryOp = "<"
	OpLe        BinaryOp = "<="
	OpGt        BinaryOp = ">"
	OpGe        BinaryOp = ">="
	OpIn        BinaryOp = "IN"
	OpNotIn     BinaryOp = "NOT IN"
	OpWithin    BinaryOp = "WITHIN"
	OpNotWithin BinaryOp = "NOT WITHIN"
	OpConcat    BinaryOp = "||"
	OpAdd       BinaryOp = "+"
	OpSub       BinaryOp = "-"
	OpMul       BinaryOp = "*"
	OpDiv       BinaryOp = "/"
	OpMod       BinaryOp = "%"
	OpPow       BinaryOp = "^"
	// IS [NOT] DISTINCT FROM: like != and =, but NULL and MISSING compare
	// as values.
	OpIsDistinct    BinaryOp = "IS DISTINCT FROM"
	OpIsNotDistinct BinaryOp = "IS NOT DISTINCT FROM"
)

// Binary is Left Op Right.
type Binary struct {
	Pos
	Op    BinaryOp
	Left  Expr
	Right Expr
}

// Like is Target [NOT] LIKE Pattern [ESCAPE Escape]; Escape may be nil.
type Like struct {
	Pos
	Not     bool
	Target  Expr
	Pattern Expr
	Escape  Expr
}

// Between is Target [NOT] BETWEEN Low AND High.
type Between struct {
	Pos
	Not    bool
	Target Expr
	Low    Expr
	High   Expr
}

// IsKind is what IS tests for.
type IsKind string

// IS tests. IS KNOWN is read as IS VALUED and IS UNKNOWN as IS NOT VALUED.
const (
	IsNull    IsKind = "NULL"
	IsMissing IsKind = "MISSING"
	IsValued  IsKind = "VALUED"
)

// Is is Target IS [NOT] Kind.
type Is struct {
	Pos
	Not    bool
	Target Expr
	Kind   IsKind
}

// FuncName names a function. Built-ins and bare UDF names have only Name;
// a global UDF is Namespace:Bucket.Scope.Name, and a scope-relative one
// Scope.Name (resolved against query_context).
type FuncName struct {
	Namespace string // "" unless written ns:...
	Path      []string
	Name      string
}

// Call is a function call. Star is COUNT(*) (Args empty); Distinct is
// f(DISTINCT x) and Filter f(...) FILTER (WHERE cond), as aggregates take
// them.
type Call struct {
	Pos
	Func     FuncName
	Args     []Expr
	Distinct bool
	Star     bool
	Filter   Expr
}

// Meta is META() or META(Keyspace); Keyspace is nil for META().
type Meta struct {
	Pos
	Keyspace Expr
}

// When is one WHEN Cond THEN Result arm of a CASE.
type When struct {
	Cond   Expr
	Result Expr
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE Else] END. Operand is nil
// for a searched CASE; Else may be nil.
type Case struct {
	Pos
	Operand Expr
	Whens   []When
	Else    Expr
}

// Binding is one [NameVar :] Var IN|WITHIN Expr of a range expression;
// WITHIN ranges over all nested values. NameVar (optional) is bound to the
// position (arrays) or name (objects).
type Binding struct {
	Pos
	NameVar string
	Var     string
	Within  bool
	Expr    Expr
}

// QuantKind is the quantifier of a Quantified expression.
type QuantKind string

// Quantifiers. SOME is read as ANY.
const (
	QuantAny         QuantKind = "ANY"
	QuantEvery       QuantKind = "EVERY"
	QuantAnyAndEvery QuantKind = "ANY AND EVERY"
)

// Quantified is ANY|EVERY|ANY AND EVERY Bindings SATISFIES Satisfies END.
type Quantified struct {
	Pos
	Kind      QuantKind
	Bindings  []Binding
	Satisfies Expr
}

// ArrayFor is ARRAY Mapping FOR Bindings [WHEN When] END.
type ArrayFor struct {
	Pos
	Mapping  Expr
	Bindings []Binding
	When     Expr
}

// FirstFor is FIRST Mapping FOR Bindings [WHEN When] END.
type FirstFor struct {
	Pos
	Mapping  Expr
	Bindings []Binding
	When     Expr
}

// ObjectFor is OBJECT Key : Value FOR Bindings [WHEN When] END.
type ObjectFor struct {
	Pos
	Key      Expr
	Value    Expr
	Bindings []Binding
	When     Expr
}

// ArrayCons is [Elems...].
type ArrayCons struct {
	Pos
	Elems []Expr
}

// Pair is one Key: Value of an object constructor. The shorthand {a, b.c,
// x AS y} is read as {"a": a, "c": b.c, "y": x}, as Couchbase does.
type Pair struct {
	Key   Expr
	Value Expr
}

// ObjectCons is {Pairs...}.
type ObjectCons struct {
	Pos
	Pairs []Pair
}

// Self is SELF: the whole current document or row.
type Self struct {
	Pos
}

// Subquery is a parenthesised SELECT used as an expression.
type Subquery struct {
	Pos
	Query *Select
}

func (*Literal) exprNode()      {}
func (*Missing) exprNode()      {}
func (*Identifier) exprNode()   {}
func (*Field) exprNode()        {}
func (*DynamicField) exprNode() {}
func (*Element) exprNode()      {}
func (*Slice) exprNode()        {}
func (*ArrayStar) exprNode()    {}
func (*Param) exprNode()        {}
func (*Unary) exprNode()        {}
func (*Binary) exprNode()       {}
func (*Like) exprNode()         {}
func (*Between) exprNode()      {}
func (*Is) exprNode()           {}
func (*Call) exprNode()         {}
func (*Meta) exprNode()         {}
func (*Case) exprNode()         {}
func (*Quantified) exprNode()   {}
func (*ArrayFor) exprNode()     {}
func (*FirstFor) exprNode()     {}
func (*ObjectFor) exprNode()    {}
func (*ArrayCons) exprNode()    {}
func (*ObjectCons) exprNode()   {}
func (*Subquery) exprNode()     {}
func (*Self) exprNode()         {}

// ImplicitName is the name Couchbase gives a value with no alias: the
// identifier or the last field name of a path, "" otherwise.
func ImplicitName(e Expr) string {
	switch x := e.(type) {
	case *Identifier:
		return x.Name
	case *Field:
		return x.Name
	}
	return ""
}
