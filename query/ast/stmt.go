package ast

// Select is a query: [WITH ...] Body [ORDER BY ...] [LIMIT ...] [OFFSET ...].
type Select struct {
	Pos
	With    []WithTerm
	Body    QueryBody
	OrderBy []OrderTerm
	Limit   Expr // nil when absent
	Offset  Expr // nil when absent
}

// WithTerm is one common table expression, Name AS (Expr); Expr is a
// *Subquery for WITH n AS (SELECT ...).
type WithTerm struct {
	Pos
	Name string
	Expr Expr
}

// QueryBody is a *Subselect, a *SetOp, or a parenthesised *Select (as a
// term of a set operation).
type QueryBody interface {
	Node
	bodyNode()
}

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind string

// Set operators.
const (
	Union     SetOpKind = "UNION"
	Intersect SetOpKind = "INTERSECT"
	Except    SetOpKind = "EXCEPT"
)

// SetOp is Left Op [ALL] Right; chains associate to the left.
type SetOp struct {
	Pos
	Op    SetOpKind
	All   bool
	Left  QueryBody
	Right QueryBody
}

// Subselect is SELECT ... [FROM] [LET] [WHERE] [GROUP BY ...].
type Subselect struct {
	Pos
	Projection *Projection
	From       FromTerm // nil when absent
	Let        []LetTerm
	Where      Expr     // nil when absent
	GroupBy    *GroupBy // nil when absent
}

// Projection is the result list of SELECT or RETURNING. Raw is RAW,
// ELEMENT or VALUE (Terms then has exactly one term).
type Projection struct {
	Pos
	Distinct bool
	Raw      bool
	Terms    []ResultTerm
}

// ResultTerm is one projection term: *, alias.* (Star with Expr), or Expr
// [AS Alias]. Alias is "" when none was written.
type ResultTerm struct {
	Pos
	Expr  Expr
	Star  bool
	Alias string
}

// ImplicitAlias is the alias Couchbase uses for an unaliased term: the last
// name of a path, "" when the term needs a generated $n name.
func (t *ResultTerm) ImplicitAlias() string {
	if t.Alias != "" {
		return t.Alias
	}
	return ImplicitName(t.Expr)
}

// LetTerm is Var = Expr in LET or LETTING.
type LetTerm struct {
	Pos
	Var  string
	Expr Expr
}

// GroupBy is GROUP BY Keys [LETTING ...] [HAVING ...]; Keys is empty for
// LETTING without GROUP BY.
type GroupBy struct {
	Pos
	Keys    []GroupTerm
	Letting []LetTerm
	Having  Expr
}

// GroupTerm is one grouping key, Expr [AS Alias].
type GroupTerm struct {
	Pos
	Expr  Expr
	Alias string
}

// NullsOrder says where NULLs and MISSINGs sort.
type NullsOrder string

// Null orders; NullsDefault is first for ASC and last for DESC.
const (
	NullsDefault NullsOrder = ""
	NullsFirst   NullsOrder = "FIRST"
	NullsLast    NullsOrder = "LAST"
)

// OrderTerm is Expr [ASC|DESC] [NULLS FIRST|LAST].
type OrderTerm struct {
	Pos
	Expr  Expr
	Desc  bool
	Nulls NullsOrder
}

// FromTerm is a *KeyspaceTerm, *SubqueryTerm, *ExprTerm, *JoinTerm or
// *UnnestTerm.
type FromTerm interface {
	Node
	fromNode()
}

// KeyspaceTerm names a keyspace: [Namespace:]Path where Path has one
// (bucket, or collection relative to query_context), two (scope.collection
// relative to query_context) or three (bucket.scope.collection) parts.
type KeyspaceTerm struct {
	Pos
	Namespace    string
	Path         []string
	Alias        string // "" when none was written
	UseKeys      Expr   // USE KEYS expr, nil when absent
	ValidateKeys bool   // USE KEYS VALIDATE: check that the keys exist
	UseIndex     []IndexRef
	JoinHint     string // on a join's right side: "NL" (USE NL), "BUILD" or "PROBE" (USE HASH(...)), else ""
}

// AliasOrDefault is the alias, or the last part of the path.
func (k *KeyspaceTerm) AliasOrDefault() string {
	if k.Alias != "" {
		return k.Alias
	}
	return k.Path[len(k.Path)-1]
}

// IndexRef is one index hint of USE INDEX (Name [USING GSI|FTS]).
type IndexRef struct {
	Name  string
	Using string // "", "GSI" or "FTS"
}

// SubqueryTerm is FROM (SELECT ...) AS Alias.
type SubqueryTerm struct {
	Pos
	Query *Select
	Alias string
}

// ExprTerm is FROM expr [AS Alias], for an expression that is not a
// keyspace path.
type ExprTerm struct {
	Pos
	Expr  Expr
	Alias string
}

// JoinKind is INNER, LEFT (outer) or RIGHT (outer).
type JoinKind string

// Join kinds.
const (
	JoinInner JoinKind = "INNER"
	JoinLeft  JoinKind = "LEFT"
	JoinRight JoinKind = "RIGHT"
)

// JoinTerm is Left [Kind] JOIN|NEST Right with one of: ON KEYS OnKeys
// (lookup join), ON KEY OnKey FOR For (index join: Right's OnKey names
// the document of alias For), ON On (ANSI join). Comma is the "Left,
// Right" form (an inner join with no condition).
type JoinTerm struct {
	Pos
	Left   FromTerm
	Kind   JoinKind
	Nest   bool
	Comma  bool
	Right  FromTerm // *KeyspaceTerm, *SubqueryTerm or *ExprTerm
	OnKeys Expr
	OnKey  Expr
	For    string
	On     Expr
}

// UnnestTerm is Left [INNER|LEFT] UNNEST|FLATTEN Expr [AS Alias].
type UnnestTerm struct {
	Pos
	Left  FromTerm
	Outer bool // LEFT [OUTER]
	Expr  Expr
	Alias string
}

// Insert is INSERT or UPSERT, with VALUES rows or a SELECT source.
type Insert struct {
	Pos
	Upsert    bool
	Keyspace  *KeyspaceTerm // Alias from AS; no hints
	Values    []ValuesRow   // VALUES form
	Query     *Select       // SELECT form
	Key       Expr          // SELECT form: KEY expr
	Value     Expr          // SELECT form: VALUE expr, nil for the whole row
	Options   Expr          // SELECT form: OPTIONS expr, nil when absent
	Returning *Projection
}

// ValuesRow is one (key, value[, options]) row; Options may be nil.
type ValuesRow struct {
	Pos
	Key     Expr
	Value   Expr
	Options Expr
}

// SetTerm is Path = Value [FOR ... END] of UPDATE or MERGE.
type SetTerm struct {
	Pos
	Path  Expr
	Value Expr
	For   *UpdateFor
}

// UnsetTerm is Path [FOR ... END] of UNSET.
type UnsetTerm struct {
	Pos
	Path Expr
	For  *UpdateFor
}

// UpdateFor is FOR b, ... [FOR b, ...] [WHEN When] END in SET/UNSET:
// each element of Dimensions is one FOR list, outermost first.
type UpdateFor struct {
	Pos
	Dimensions [][]Binding
	When       Expr
}

// Update is UPDATE ks [USE KEYS] SET ... UNSET ... [WHERE] [LIMIT]
// [RETURNING].
type Update struct {
	Pos
	Keyspace  *KeyspaceTerm
	Set       []SetTerm
	Unset     []UnsetTerm
	Where     Expr
	Limit     Expr
	Returning *Projection
}

// Delete is DELETE FROM ks [USE KEYS] [WHERE] [LIMIT] [OFFSET] [RETURNING].
type Delete struct {
	Pos
	Keyspace  *KeyspaceTerm
	Where     Expr
	Limit     Expr
	Offset    Expr
	Returning *Projection
}

// Merge is MERGE INTO Target USING Source ON ... WHEN ... . Lookup merges
// (ON [PRIMARY] KEY expr) set OnKey; ANSI merges (ON cond) set On.
type Merge struct {
	Pos
	Target    *KeyspaceTerm
	Source    FromTerm // *KeyspaceTerm, *SubqueryTerm or *ExprTerm
	OnKey     Expr
	On        Expr
	Update    *MergeUpdate
	Delete    *MergeDelete
	Insert    *MergeInsert
	Limit     Expr
	Returning *Projection
}

// MergeUpdate is WHEN MATCHED THEN UPDATE SET ... UNSET ... [WHERE].
type MergeUpdate struct {
	Pos
	Set   []SetTerm
	Unset []UnsetTerm
	Where Expr
}

// MergeDelete is WHEN MATCHED THEN DELETE [WHERE].
type MergeDelete struct {
	Pos
	Where Expr
}

// MergeInsert is WHEN NOT MATCHED THEN INSERT. ANSI merges write
// (KEY k, VALUE v[, OPTIONS o]); lookup merges INSERT v, where Key is nil.
type MergeInsert struct {
	Pos
	Key     Expr
	Value   Expr
	Options Expr
	Where   Expr
}

// IndexKey is one key of CREATE INDEX. Distinct/All mark DISTINCT ARRAY /
// ALL ARRAY array index keys.
type IndexKey struct {
	Pos
	Expr           Expr
	Distinct       bool
	All            bool
	Desc           bool
	IncludeMissing bool
}

// CreateIndex is CREATE [PRIMARY] INDEX. Primary indexes have no Keys and
// may have no Name.
type CreateIndex struct {
	Pos
	Primary     bool
	Name        string
	IfNotExists bool
	Keyspace    *KeyspaceTerm
	Keys        []IndexKey
	PartitionBy []Expr // PARTITION BY HASH(...)
	Where       Expr
	Using       string // "", "GSI" or "VIEW"
	With        Expr
}

// DropIndex is DROP [PRIMARY] INDEX [IF EXISTS] name ON ks (or ks.name).
type DropIndex struct {
	Pos
	Primary  bool
	IfExists bool
	Name     string // "" for DROP PRIMARY INDEX ON ks
	Keyspace *KeyspaceTerm
	Using    string
}

// BuildIndex is BUILD INDEX ON ks(Names...); names are identifiers or
// expressions giving names.
type BuildIndex struct {
	Pos
	Keyspace *KeyspaceTerm
	Names    []Expr
	Using    string
}

// Explain is EXPLAIN Stmt.
type Explain struct {
	Pos
	Stmt Statement
}

// Advise is ADVISE Stmt.
type Advise struct {
	Pos
	Stmt Statement
}

// Infer is INFER [KEYSPACE] ks [WITH options].
type Infer struct {
	Pos
	Keyspace *KeyspaceTerm
	With     Expr
}

// Prepare is PREPARE [FORCE] [Name FROM|AS] Stmt.
type Prepare struct {
	Pos
	Force bool
	Name  string
	Stmt  Statement
}

// Execute is EXECUTE Name [USING Using]; Using is an array (positional) or
// object (named) constructor or a parameter.
type Execute struct {
	Pos
	Name  string
	Using Expr
}

// FuncLanguage is the language of a UDF.
type FuncLanguage string

// UDF languages.
const (
	LangInline     FuncLanguage = "INLINE"
	LangJavaScript FuncLanguage = "JAVASCRIPT"
)

// CreateFunction is CREATE [OR REPLACE] FUNCTION. Inline functions have
// Body; JavaScript ones have Object and Library (AS "fn" AT "lib") or Code
// (AS "inline JavaScript").
type CreateFunction struct {
	Pos
	Replace     bool
	IfNotExists bool
	Name        FuncName
	Params      []string
	Variadic    bool // (...)
	Language    FuncLanguage
	Body        Expr
	Object      string
	Library     string
	Code        string
}

// DropFunction is DROP FUNCTION [IF EXISTS] Name.
type DropFunction struct {
	Pos
	IfExists bool
	Name     FuncName
}

// ExecuteFunction is EXECUTE FUNCTION Name(Args...).
type ExecuteFunction struct {
	Pos
	Name FuncName
	Args []Expr
}

func (*Select) stmtNode()          {}
func (*Insert) stmtNode()          {}
func (*Update) stmtNode()          {}
func (*Delete) stmtNode()          {}
func (*Merge) stmtNode()           {}
func (*CreateIndex) stmtNode()     {}
func (*DropIndex) stmtNode()       {}
func (*BuildIndex) stmtNode()      {}
func (*Explain) stmtNode()         {}
func (*Advise) stmtNode()          {}
func (*Infer) stmtNode()           {}
func (*Prepare) stmtNode()         {}
func (*Execute) stmtNode()         {}
func (*CreateFunction) stmtNode()  {}
func (*DropFunction) stmtNode()    {}
func (*ExecuteFunction) stmtNode() {}

func (*Subselect) bodyNode() {}
func (*Select) bodyNode()    {}
func (*SetOp) bodyNode()     {}

func (*KeyspaceTerm) fromNode() {}
func (*SubqueryTerm) fromNode() {}
func (*ExprTerm) fromNode()     {}
func (*JoinTerm) fromNode()     {}
func (*UnnestTerm) fromNode()   {}
