package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"eventide/docstore"
	"eventide/query/ast"
	"eventide/query/funcs"
	"eventide/query/parser"
	"eventide/query/value"
)

// Planning. A keyspace term is read by USE KEYS (no index needed), else
// by the secondary index whose keys the WHERE constrains best (equality
// on a leading run of keys, then a range on the next; IN lists; LIKE
// prefixes; IS NOT NULL; ANY ... SATISFIES for array keys), provided its
// partial-index condition appears among the WHERE's AND terms, else by
// the primary index, else Couchbase's error 4000. Spans are encoded with
// value.EncodeKey; every fetched document is filtered again by the whole
// WHERE, so the choice of index never changes a result.

// CompileIndex is the docstore.IndexCompiler for the index definitions this
// engine writes with Store.CreateIndex: a definition is the canonical text
// of its CREATE INDEX statement. A document is in the index when its
// leading key is not MISSING and the partial-index condition holds; its
// keys are value.EncodeKey over all key expressions, one entry per element
// of an array key.
func CompileIndex(ks docstore.Keyspace, def []byte) (docstore.IndexKeys, error) {
	m, err := parseIndexDef(string(def))
	if err != nil {
		return nil, err
	}
	return func(d *docstore.Document) [][]byte {
		return m.keys(ks, d)
	}, nil
}

// indexMeta is a parsed secondary index definition.
type indexMeta struct {
	stmt  *ast.CreateIndex
	alias string
	// keyText is each key's canonical text with the keyspace alias
	// stripped, as query expressions are normalised to match.
	keyText []string
	// array describes an array key (DISTINCT/ALL ARRAY m FOR v IN over
	// END): nil for scalar keys.
	array    []*arrayKey
	condText map[string]bool
	cond     ast.Expr
}

type arrayKey struct {
	v       string
	over    string
	mapping ast.Expr
}

func parseIndexDef(def string) (*indexMeta, error) {
	st, err := parser.Parse(def)
	if err != nil {
		return nil, fmt.Errorf("engine: index definition: %w", err)
	}
	ci, ok := st.(*ast.CreateIndex)
	if !ok || ci.Primary || len(ci.Keys) == 0 {
		return nil, errors.New("engine: index definition is not a CREATE INDEX with keys")
	}
	// Index keys are pure functions of the document: no subqueries,
	// parameters, aggregates or UDFs (the FSM evaluates them alone).
	var bad ast.Node
	check := func(n ast.Node) bool {
		switch t := n.(type) {
		case *ast.Subquery, *ast.Param:
			bad = n
		case *ast.Call:
			if _, builtin := funcs.Lookup(t.Func.Name); isAggregate(t) || !builtin || len(t.Func.Path) > 0 {
				bad = n
			}
		}
		return bad == nil
	}
	for _, k := range ci.Keys {
		ast.Inspect(k.Expr, check)
	}
	if ci.Where != nil {
		ast.Inspect(ci.Where, check)
	}
	if bad != nil {
		return nil, fmt.Errorf("engine: %s cannot be used in an index", bad)
	}
	m := &indexMeta{stmt: ci, alias: ci.Keyspace.AliasOrDefault(), condText: map[string]bool{}, cond: ci.Where}
	for _, k := range ci.Keys {
		var ak *arrayKey
		if af, ok := k.Expr.(*ast.ArrayFor); ok && len(af.Bindings) == 1 {
			b := af.Bindings[0]
			if over, ok := stripAlias(b.Expr, m.alias, true, nil); ok {
				ak = &arrayKey{v: b.Var, over: over.String(), mapping: af.Mapping}
			}
		}
		m.array = append(m.array, ak)
		if e, ok := stripAlias(k.Expr, m.alias, true, nil); ok {
			m.keyText = append(m.keyText, e.String())
		} else {
			m.keyText = append(m.keyText, k.Expr.String())
		}
	}
	if ci.Where != nil {
		for _, c := range conjuncts(ci.Where) {
			m.condText[stripAll(c, m.alias).String()] = true
		}
	}
	return m, nil
}

// keys computes a document's entries.
func (m *indexMeta) keys(ks docstore.Keyspace, d *docstore.Document) [][]byte {
	x := &exec{ctx: context.Background(), fctx: funcs.NewContext(time.Unix(0, 0).UTC())}
	r := (&row{dflt: m.alias}).with(m.alias, docValue(d), metaOf(ks, d))
	if m.cond != nil {
		ok, err := x.when(m.cond, r)
		if err != nil || !ok {
			return nil
		}
	}
	prefixes := [][]byte{nil}
	for i, k := range m.stmt.Keys {
		v, err := x.eval(k.Expr, r)
		if err != nil {
			return nil
		}
		if i == 0 && v.IsMissing() {
			return nil
		}
		if k.Distinct || k.All || m.array[i] != nil {
			elems, _ := v.Elems()
			if len(elems) == 0 {
				if i == 0 {
					return nil
				}
				elems = []value.Value{value.MissingValue}
			}
			var next [][]byte
			for _, p := range prefixes {
				for _, e := range elems {
					next = append(next, value.AppendKey(append([]byte(nil), p...), e))
				}
			}
			prefixes = next
			continue
		}
		for j := range prefixes {
			prefixes[j] = value.AppendKey(prefixes[j], v)
		}
	}
	return prefixes
}

// indexMeta returns the parsed definition, cached by its text.
func (e *Engine) indexMeta(def []byte) (*indexMeta, error) {
	if v, ok := e.idxCache.Load(string(def)); ok {
		return v.(*indexMeta), nil
	}
	m, err := parseIndexDef(string(def))
	if err != nil {
		return nil, err
	}
	e.idxCache.Store(string(def), m)
	return m, nil
}

// stripAlias rewrites a path on the scanned keyspace without its alias
// (b.name → name, META(b).id → META().id) so that query expressions and
// index keys compare by text; ok is false when e is not such a path.
// Bare identifiers are fields of the keyspace when implicit, unless bound
// in r.
func stripAlias(e ast.Expr, alias string, implicit bool, r *row) (ast.Expr, bool) {
	switch n := e.(type) {
	case *ast.Identifier:
		if implicit && n.Name != alias {
			if r != nil {
				if _, _, bound := r.lookup(n.Name); bound {
					return nil, false
				}
			}
			return &ast.Identifier{Name: n.Name, CaseInsensitive: n.CaseInsensitive}, true
		}
	case *ast.Field:
		if id, ok := n.Target.(*ast.Identifier); ok && id.Name == alias {
			return &ast.Identifier{Name: n.Name, CaseInsensitive: n.CaseInsensitive}, true
		}
		t, ok := stripAlias(n.Target, alias, implicit, r)
		if !ok {
			return nil, false
		}
		return &ast.Field{Target: t, Name: n.Name, CaseInsensitive: n.CaseInsensitive}, true
	case *ast.Element:
		if _, lit := n.Index.(*ast.Literal); !lit {
			return nil, false
		}
		t, ok := stripAlias(n.Target, alias, implicit, r)
		if !ok {
			return nil, false
		}
		return &ast.Element{Target: t, Index: n.Index}, true
	case *ast.Meta:
		if n.Keyspace == nil && implicit {
			return &ast.Meta{}, true
		}
		if id, ok := n.Keyspace.(*ast.Identifier); ok && id.Name == alias {
			return &ast.Meta{}, true
		}
	case *ast.Call:
		if isAggregate(n) || len(n.Args) == 0 {
			return nil, false
		}
		args := make([]ast.Expr, len(n.Args))
		rooted := false
		for i, a := range n.Args {
			if _, lit := a.(*ast.Literal); lit {
				args[i] = a
				continue
			}
			s, ok := stripAlias(a, alias, implicit, r)
			if !ok {
				return nil, false
			}
			args[i], rooted = s, true
		}
		if !rooted {
			return nil, false
		}
		return &ast.Call{Func: n.Func, Args: args, Distinct: n.Distinct}, true
	}
	return nil, false
}

// refsScan reports whether e may depend on the scanned document (so it
// cannot bound a span).
func refsScan(e ast.Expr, alias string, implicit bool, r *row) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if found {
			return false
		}
		switch t := n.(type) {
		case *ast.Identifier:
			if t.Name == alias {
				found = true
			} else if _, m, bound := r.lookup(t.Name); !bound || m == letPending {
				// A field of the document (implicit), a comprehension
				// variable, or a LET variable not yet known.
				found = true
			}
		case *ast.Meta:
			id, ok := t.Keyspace.(*ast.Identifier)
			if t.Keyspace == nil || !ok || id.Name == alias {
				found = true
			} else if _, m, bound := r.lookup(id.Name); !bound || m == nil || m == letPending {
				found = true
			}
			return false
		case *ast.Self, *ast.Subquery:
			found = true
		case *ast.Call:
			if f, ok := funcs.Lookup(t.Func.Name); ok && f.Volatile {
				found = true
			}
		}
		return !found
	})
	return found
}

// bound is one key's constraint: points (equality, IN) or a range
// [low, high] of encoded keys (high exclusive unless highInc).
type bound struct {
	points     []value.Value
	hasPoints  bool
	low, high  []byte
	highInc    bool
	hasRange   bool
	constraint bool
}

func appendFF(b []byte) []byte { return append(append([]byte(nil), b...), 0xFF) }

func (b *bound) setLow(l []byte) {
	b.hasRange, b.constraint = true, true
	if b.low == nil || bytes.Compare(l, b.low) > 0 {
		b.low = l
	}
}

func (b *bound) setHigh(h []byte, inc bool) {
	b.hasRange, b.constraint = true, true
	if b.high == nil {
		b.high, b.highInc = h, inc
		return
	}
	switch c := bytes.Compare(h, b.high); {
	case c < 0:
		b.high, b.highInc = h, inc
	case c == 0 && !inc:
		b.highInc = false
	}
}

// constrain collects, from the AND terms conj, the constraints on the key
// that match reports.
func (x *exec) constrain(conj []ast.Expr, match func(ast.Expr) bool, isConst func(ast.Expr) bool, r *row) (*bound, error) {
	b := &bound{}
	constVal := func(e ast.Expr) (value.Value, error) { return x.eval(e, r) }
	for _, c := range conj {
		switch n := c.(type) {
		case *ast.Binary:
			op, k, other := n.Op, n.Left, n.Right
			if !match(k) || !isConst(other) {
				op, k, other = flip(n.Op), n.Right, n.Left
				if !match(k) || !isConst(other) {
					continue
				}
			}
			switch op {
			case ast.OpEq, ast.OpIn, ast.OpLt, ast.OpLe, ast.OpGt, ast.OpGe:
			default:
				continue
			}
			if op == ast.OpIn && k != n.Left {
				continue
			}
			v, err := constVal(other)
			if err != nil {
				return nil, err
			}
			enc := value.EncodeKey(v)
			switch op {
			case ast.OpEq:
				if !b.hasPoints {
					b.points, b.hasPoints, b.constraint = []value.Value{v}, true, true
				}
			case ast.OpIn:
				if !b.hasPoints {
					es, _ := v.Elems()
					b.points, b.hasPoints, b.constraint = es, true, true
				}
			case ast.OpGt:
				b.setLow(appendFF(enc))
			case ast.OpGe:
				b.setLow(enc)
			case ast.OpLt:
				b.setHigh(enc, false)
			case ast.OpLe:
				b.setHigh(appendFF(enc), true)
			}
		case *ast.Between:
			if n.Not || !match(n.Target) || !isConst(n.Low) || !isConst(n.High) {
				continue
			}
			lo, err := constVal(n.Low)
			if err != nil {
				return nil, err
			}
			hi, err := constVal(n.High)
			if err != nil {
				return nil, err
			}
			b.setLow(value.EncodeKey(lo))
			b.setHigh(appendFF(value.EncodeKey(hi)), true)
		case *ast.Like:
			if n.Not || n.Escape != nil || !match(n.Target) || !isConst(n.Pattern) {
				continue
			}
			p, err := constVal(n.Pattern)
			if err != nil {
				return nil, err
			}
			s, ok := p.Str()
			if !ok {
				continue
			}
			prefix := s
			if i := strings.IndexAny(s, "%_\\"); i >= 0 {
				prefix = s[:i]
			}
			enc := value.EncodeKey(value.NewString(prefix))
			enc = enc[:len(enc)-2] // the string's bytes without its terminator
			b.setLow(enc)
			b.setHigh(appendFF(enc), false)
		case *ast.Is:
			if !match(n.Target) {
				continue
			}
			if n.Kind == ast.IsNull && !n.Not {
				if !b.hasPoints {
					b.points, b.hasPoints, b.constraint = []value.Value{value.NullValue}, true, true
				}
				continue
			}
			if (n.Kind == ast.IsNull && n.Not) || (n.Kind == ast.IsValued && !n.Not) || (n.Kind == ast.IsMissing && n.Not) {
				b.constraint = true
			}
		}
	}
	return b, nil
}

func flip(op ast.BinaryOp) ast.BinaryOp {
	switch op {
	case ast.OpLt:
		return ast.OpGt
	case ast.OpLe:
		return ast.OpGe
	case ast.OpGt:
		return ast.OpLt
	case ast.OpGe:
		return ast.OpLe
	case ast.OpIn:
		return ""
	}
	return op
}

// access is how a keyspace term is read.
type access struct {
	keys     []string // USE KEYS
	keysText string   // the USE KEYS expression, for EXPLAIN
	useKeys  bool
	index    string
	primary  bool
	spans    []docstore.ScanRange
	dedup    bool
}

const maxSpans = 256

// indexSpans computes the spans of index m for the WHERE terms, and a
// score (0: the index cannot serve the query).
func (x *exec) indexSpans(m *indexMeta, alias string, implicit bool, conj []ast.Expr, r *row) ([]docstore.ScanRange, int, bool, error) {
	condOK := true
	if len(m.condText) > 0 {
		have := map[string]bool{}
		for _, c := range conj {
			if !implicit || !mentionsBound(c, r) {
				have[normCond(c, alias, implicit, r)] = true
			}
		}
		for t := range m.condText {
			if !have[t] {
				condOK = false
			}
		}
	}
	if !condOK {
		return nil, 0, false, nil
	}
	isConst := func(e ast.Expr) bool { return !refsScan(e, alias, implicit, r) }
	prefixes := [][]byte{nil}
	score := 0
	array := false
	for i, kt := range m.keyText {
		var b *bound
		var err error
		if ak := m.array[i]; ak != nil {
			array = true
			b, err = x.arrayBound(ak, conj, alias, implicit, r)
		} else {
			kt := kt
			b, err = x.constrain(conj, func(e ast.Expr) bool {
				s, ok := stripAlias(e, alias, implicit, r)
				return ok && s.String() == kt
			}, isConst, r)
		}
		if err != nil {
			return nil, 0, false, err
		}
		if b == nil || !b.constraint {
			break
		}
		if b.hasPoints && len(b.points)*len(prefixes) <= maxSpans {
			score += 2
			var next [][]byte
			for _, p := range prefixes {
				for _, v := range b.points {
					next = append(next, value.AppendKey(append([]byte(nil), p...), v))
				}
			}
			prefixes = next
			if len(prefixes) == 0 {
				return nil, score, array, nil // IN []: nothing can match
			}
			continue
		}
		score++
		spans := make([]docstore.ScanRange, 0, len(prefixes))
		for _, p := range prefixes {
			sr := docstore.ScanRange{LowInclusive: true, HighInclusive: b.highInc}
			if b.low != nil {
				sr.Low = append(append([]byte(nil), p...), b.low...)
			} else if p != nil {
				sr.Low = p
			}
			if b.high != nil {
				sr.High = append(append([]byte(nil), p...), b.high...)
			} else if p != nil {
				sr.High, sr.HighInclusive = appendFF(p), true
			}
			spans = append(spans, sr)
		}
		return spans, score, array, nil
	}
	if score == 0 {
		return nil, 0, false, nil
	}
	spans := make([]docstore.ScanRange, 0, len(prefixes))
	for _, p := range prefixes {
		spans = append(spans, docstore.ScanRange{Low: p, LowInclusive: true, High: appendFF(p), HighInclusive: true})
	}
	return spans, score, array || len(spans) > 1, nil
}

// normCond is a condition's text with every path on the scanned keyspace
// written without its alias (t.type → type), for comparing a WHERE term
// with a partial index's condition. Kinds it does not rewrite keep their
// alias, so they only match when written the same way.
func normCond(c ast.Expr, alias string, implicit bool, r *row) string {
	return stripAll(c, alias).String()
}

func stripAll(e ast.Expr, alias string) ast.Expr {
	switch n := e.(type) {
	case *ast.Field:
		if id, ok := n.Target.(*ast.Identifier); ok && id.Name == alias {
			return &ast.Identifier{Name: n.Name, CaseInsensitive: n.CaseInsensitive}
		}
		return &ast.Field{Target: stripAll(n.Target, alias), Name: n.Name, CaseInsensitive: n.CaseInsensitive}
	case *ast.Element:
		return &ast.Element{Target: stripAll(n.Target, alias), Index: stripAll(n.Index, alias)}
	case *ast.Meta:
		if id, ok := n.Keyspace.(*ast.Identifier); ok && id.Name == alias {
			return &ast.Meta{}
		}
	case *ast.Binary:
		return &ast.Binary{Op: n.Op, Left: stripAll(n.Left, alias), Right: stripAll(n.Right, alias)}
	case *ast.Unary:
		return &ast.Unary{Op: n.Op, Operand: stripAll(n.Operand, alias)}
	case *ast.Is:
		return &ast.Is{Not: n.Not, Kind: n.Kind, Target: stripAll(n.Target, alias)}
	case *ast.Like:
		l := &ast.Like{Not: n.Not, Target: stripAll(n.Target, alias), Pattern: stripAll(n.Pattern, alias)}
		if n.Escape != nil {
			l.Escape = stripAll(n.Escape, alias)
		}
		return l
	case *ast.Between:
		return &ast.Between{Not: n.Not, Target: stripAll(n.Target, alias), Low: stripAll(n.Low, alias), High: stripAll(n.High, alias)}
	case *ast.Call:
		args := make([]ast.Expr, len(n.Args))
		for i, a := range n.Args {
			args[i] = stripAll(a, alias)
		}
		return &ast.Call{Func: n.Func, Args: args, Distinct: n.Distinct, Star: n.Star, Filter: n.Filter}
	case *ast.ArrayCons:
		el := make([]ast.Expr, len(n.Elems))
		for i, a := range n.Elems {
			el[i] = stripAll(a, alias)
		}
		return &ast.ArrayCons{Elems: el}
	}
	return e
}

// arrayBound finds ANY v IN over SATISFIES <constraint on mapping> END
// terms for an array index key.
func (x *exec) arrayBound(ak *arrayKey, conj []ast.Expr, alias string, implicit bool, r *row) (*bound, error) {
	for _, c := range conj {
		q, ok := c.(*ast.Quantified)
		if !ok || q.Kind == ast.QuantEvery || len(q.Bindings) != 1 {
			continue
		}
		bd := q.Bindings[0]
		over, ok := stripAlias(bd.Expr, alias, implicit, r)
		if !ok || over.String() != ak.over {
			continue
		}
		want := renameRoot(ak.mapping, ak.v, bd.Var)
		if want == "" {
			continue
		}
		inner := r.with(bd.Var, value.MissingValue, nil)
		b, err := x.constrain(conjuncts(q.Satisfies), func(e ast.Expr) bool { return e.String() == want }, func(e ast.Expr) bool {
			return !refsScan(e, alias, implicit, r) && !mentions(e, bd.Var)
		}, inner)
		if err != nil {
			return nil, err
		}
		if b.constraint {
			return b, nil
		}
	}
	return nil, nil
}

// renameRoot gives the text of a path rooted at variable from, re-rooted
// at to; "" when e is not such a path.
func renameRoot(e ast.Expr, from, to string) string {
	if r := rerooted(e, from, to); r != nil {
		return r.String()
	}
	return ""
}

func rerooted(e ast.Expr, from, to string) ast.Expr {
	switch n := e.(type) {
	case *ast.Identifier:
		if n.Name == from {
			return &ast.Identifier{Name: to}
		}
	case *ast.Field:
		if t := rerooted(n.Target, from, to); t != nil {
			return &ast.Field{Target: t, Name: n.Name, CaseInsensitive: n.CaseInsensitive}
		}
	}
	return nil
}

// mentionsBound reports whether e names a variable bound in r (a LET or
// outer name), which a bare field of the same name in an index condition
// is not.
func mentionsBound(e ast.Expr, r *row) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Identifier); ok {
			if _, _, bound := r.lookup(id.Name); bound {
				found = true
			}
		}
		return !found
	})
	return found
}

func mentions(e ast.Expr, name string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Identifier); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

var metaIDText = (&ast.Field{Target: &ast.Meta{}, Name: "id"}).String()

// plan chooses how to read keyspace ks for the WHERE terms conj.
func (x *exec) plan(ks docstore.Keyspace, kt *ast.KeyspaceTerm, alias string, implicit bool, conj []ast.Expr, r *row, needSecondary bool) (*access, error) {
	if kt != nil && kt.UseKeys != nil {
		v, err := x.eval(kt.UseKeys, r)
		if err != nil {
			return nil, err
		}
		return &access{useKeys: true, keys: keyList(v), keysText: kt.UseKeys.String()}, nil
	}
	infos, err := x.store().Indexes(ks)
	if err != nil {
		return nil, keyspaceErr(ks, err)
	}
	var best *access
	bestScore := 0
	primary := ""
	hinted := map[string]bool{}
	if kt != nil {
		for _, h := range kt.UseIndex {
			hinted[h.Name] = true
		}
	}
	for _, in := range infos {
		if in.State != docstore.IndexOnline {
			continue
		}
		if in.Primary {
			if primary == "" || hinted[in.Name] {
				primary = in.Name
			}
			continue
		}
		m, err := x.e.indexMeta(in.Definition)
		if err != nil {
			continue
		}
		spans, score, dedup, err := x.indexSpans(m, alias, implicit, conj, r)
		if err != nil {
			return nil, err
		}
		if score == 0 {
			continue
		}
		if hinted[in.Name] {
			score += 1000
		}
		if score > bestScore {
			best, bestScore = &access{index: in.Name, spans: spans, dedup: dedup}, score
		}
	}
	if best != nil {
		return best, nil
	}
	if needSecondary {
		return nil, nil
	}
	if primary != "" {
		acc := &access{index: primary, primary: true, spans: []docstore.ScanRange{{}}}
		// META().id = k / IN [...]: the primary index holds the raw keys,
		// so points become exact spans.
		b, err := x.constrain(conj, func(e ast.Expr) bool {
			s, ok := stripAlias(e, alias, implicit, r)
			return ok && s.String() == metaIDText
		}, func(e ast.Expr) bool { return !refsScan(e, alias, implicit, r) }, r)
		if err != nil {
			return nil, err
		}
		if b.hasPoints && len(b.points) <= maxSpans {
			acc.spans = acc.spans[:0]
			for _, p := range b.points {
				if k, ok := p.Str(); ok {
					acc.spans = append(acc.spans, docstore.ScanRange{Low: []byte(k), High: []byte(k), LowInclusive: true, HighInclusive: true})
				}
			}
			acc.dedup = true
		} else if sp, ok, err := x.primaryRange(conj, alias, implicit, r); err != nil {
			return nil, err
		} else if ok {
			acc.spans = []docstore.ScanRange{sp}
		}
		return acc, nil
	}
	return nil, newErr(CodeNoIndex, "No index available on keyspace %s that matches your query. Use CREATE PRIMARY INDEX ON %s to create a primary index, or check that your expected index is online.", quotedPath(ks), quotedPath(ks))
}

// scan reads the documents of a keyspace term, choosing an index.
func (x *exec) scan(ks docstore.Keyspace, kt *ast.KeyspaceTerm, alias string, implicit bool, conj []ast.Expr, r *row, fn func(*docstore.Document) (bool, error)) error {
	acc, err := x.plan(ks, kt, alias, implicit, conj, r, false)
	if err != nil {
		return err
	}
	return x.read(ks, acc, 0, fn)
}

// joinScan reads the right side of an ANSI join: it needs a secondary
// index on the join condition, or a condition on META(alias).id.
func (x *exec) joinScan(ks docstore.Keyspace, kt *ast.KeyspaceTerm, alias string, conj []ast.Expr, l *row, fn func(*docstore.Document) (bool, error)) error {
	if kt.UseKeys != nil || kt.JoinHint == "HASH" || kt.JoinHint == "BUILD" || kt.JoinHint == "PROBE" {
		// USE KEYS, or a hash join: the right side is read on its own
		// (any index, the primary included) and matched by the ON clause.
		return x.scan(ks, kt, alias, false, conj, l, fn)
	}
	acc, err := x.plan(ks, kt, alias, false, conj, l, true)
	if err != nil {
		return err
	}
	if acc == nil {
		// ON META(r).id = expr: a key lookup needs no index.
		b, err := x.constrain(conj, func(e ast.Expr) bool {
			s, ok := stripAlias(e, alias, false, l)
			return ok && s.String() == metaIDText
		}, func(e ast.Expr) bool { return !refsScan(e, alias, false, l) }, l)
		if err != nil {
			return err
		}
		if !b.hasPoints {
			return newErr(CodeNoANSIJoinIndex, "No index available for ANSI join term %s", alias)
		}
		acc = &access{useKeys: true}
		for _, p := range b.points {
			if s, ok := p.Str(); ok {
				acc.keys = append(acc.keys, s)
			}
		}
	}
	return x.read(ks, acc, 0, fn)
}

// read fetches the documents an access path names; skip index entries
// are passed over unfetched (a pushed-down OFFSET).
func (x *exec) read(ks docstore.Keyspace, acc *access, skip int, fn func(*docstore.Document) (bool, error)) error {
	if x.explaining {
		x.explained = append(x.explained, explainAccess(ks, acc))
		return nil
	}
	store := x.store()
	if acc.useKeys {
		for _, k := range acc.keys {
			if err := x.tick(); err != nil {
				return err
			}
			d, err := x.get(ks, k)
			if err != nil {
				if errors.Is(err, docstore.ErrNotFound) {
					continue
				}
				return newErr(CodeInternal, "fetch %s: %v", k, err)
			}
			if more, err := fn(d); err != nil || !more {
				return err
			}
		}
		return nil
	}
	view, err := store.Index(ks, acc.index)
	if err != nil {
		return newErr(CodeIndexNotFound, "Index Not Found - cause: GSI index %s not found.", acc.index)
	}
	var seen map[string]bool
	if acc.dedup || len(acc.spans) > 1 {
		seen = map[string]bool{}
	}
	// Keys the Store has pending writes for are fetched too, whether the
	// index has them or not: the index does not know the pending versions.
	// Index entries then no longer stand for documents one to one, so an
	// OFFSET skips fetched documents instead.
	var pending map[string]bool // key → visited
	skipDocs := 0
	keys := x.pendingKeys(ks) // as the read starts: writes made during it are not read back
	if len(keys) > 0 {
		pending = make(map[string]bool, len(keys))
		for _, k := range keys {
			pending[k] = false
		}
		skipDocs, skip = skip, 0
	}
	// visit fetches one candidate through the Store and passes it on;
	// false stops the read.
	var ferr error
	stopped := false
	visit := func(key string) bool {
		if ferr = x.tick(); ferr != nil {
			return false
		}
		d, err := x.get(ks, key)
		if err != nil {
			if errors.Is(err, docstore.ErrNotFound) {
				return true
			}
			ferr = newErr(CodeInternal, "fetch %s: %v", key, err)
			return false
		}
		if skipDocs > 0 {
			skipDocs--
			return true
		}
		more, err := fn(d)
		if err != nil {
			ferr = err
			return false
		}
		if !more {
			stopped = true
		}
		return more
	}
	now := uint32(x.fctx.Now.Unix())
	for _, sp := range acc.spans {
		view.Scan(sp, docstore.ScanOptions{Now: now}, func(_ []byte, key string) bool {
			if seen != nil {
				if seen[key] {
					return true
				}
				seen[key] = true
			}
			if visited, ok := pending[key]; ok {
				if visited {
					return true
				}
				pending[key] = true
			}
			if skip > 0 {
				skip--
				return true
			}
			return visit(key)
		})
		if ferr != nil || stopped {
			return ferr
		}
	}
	if pending != nil {
		for _, k := range keys {
			if pending[k] {
				continue
			}
			pending[k] = true
			if !visit(k) {
				return ferr
			}
		}
	}
	return nil
}

// pendingKeys returns the keys of ks the request's Store has writes
// pending for, which its indexes do not reflect yet (nil for most Stores).
func (x *exec) pendingKeys(ks docstore.Keyspace) []string {
	if p, ok := x.store().(PendingWrites); ok {
		return p.PendingKeys(ks)
	}
	return nil
}

// get fetches a live document (a tombstone counts as not found).
func (x *exec) get(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	d, err := x.store().Get(ks, key)
	if err == nil && (d.Deleted || d.Expired) {
		return nil, docstore.ErrNotFound
	}
	return d, err
}

// primaryRange bounds a primary scan by the WHERE's string comparisons,
// BETWEEN and LIKE prefixes on META().id: the primary index holds the raw
// keys, whose byte order is SQL++'s string order.
func (x *exec) primaryRange(conj []ast.Expr, alias string, implicit bool, r *row) (docstore.ScanRange, bool, error) {
	isID := func(e ast.Expr) bool {
		s, ok := stripAlias(e, alias, implicit, r)
		return ok && s.String() == metaIDText
	}
	isConst := func(e ast.Expr) bool { return !refsScan(e, alias, implicit, r) }
	var sr docstore.ScanRange
	found := false
	low := func(k []byte, inc bool) {
		if sr.Low == nil || bytes.Compare(k, sr.Low) > 0 || (bytes.Equal(k, sr.Low) && !inc) {
			sr.Low, sr.LowInclusive = k, inc
		}
		found = true
	}
	high := func(k []byte, inc bool) {
		if sr.High == nil || bytes.Compare(k, sr.High) < 0 || (bytes.Equal(k, sr.High) && !inc) {
			sr.High, sr.HighInclusive = k, inc
		}
		found = true
	}
	str := func(e ast.Expr) ([]byte, bool, error) {
		v, err := x.eval(e, r)
		if err != nil {
			return nil, false, err
		}
		s, ok := v.Str()
		return []byte(s), ok, nil
	}
	for _, c := range conj {
		switch n := c.(type) {
		case *ast.Binary:
			op, other := n.Op, n.Right
			if !isID(n.Left) || !isConst(n.Right) {
				op, other = flip(n.Op), n.Left
				if !isID(n.Right) || !isConst(n.Left) {
					continue
				}
			}
			switch op {
			case ast.OpLt, ast.OpLe, ast.OpGt, ast.OpGe:
			default:
				continue
			}
			k, ok, err := str(other)
			if err != nil {
				return sr, false, err
			}
			if !ok {
				continue
			}
			switch op {
			case ast.OpGt:
				low(k, false)
			case ast.OpGe:
				low(k, true)
			case ast.OpLt:
				high(k, false)
			case ast.OpLe:
				high(k, true)
			}
		case *ast.Between:
			if n.Not || !isID(n.Target) || !isConst(n.Low) || !isConst(n.High) {
				continue
			}
			lo, ok1, err := str(n.Low)
			if err != nil {
				return sr, false, err
			}
			hi, ok2, err := str(n.High)
			if err != nil {
				return sr, false, err
			}
			if ok1 && ok2 {
				low(lo, true)
				high(hi, true)
			}
		case *ast.Like:
			if n.Not || n.Escape != nil || !isID(n.Target) || !isConst(n.Pattern) {
				continue
			}
			p, ok, err := str(n.Pattern)
			if err != nil {
				return sr, false, err
			}
			if !ok {
				continue
			}
			prefix := p
			if i := bytes.IndexAny(p, "%_\\"); i >= 0 {
				prefix = p[:i]
			}
			if len(prefix) == 0 {
				continue
			}
			low(prefix, true)
			high(append(append([]byte(nil), prefix...), 0xFF), false)
		}
	}
	return sr, found, nil
}
