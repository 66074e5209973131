package engine

import (
	"errors"
	"math"

	"eventide/docstore"
	"eventide/query/ast"
	"eventide/query/value"
)

// writeBatch is how many mutations go to Store.Write at once.
const writeBatch = 256

// pendingWrite is one mutation with what RETURNING needs.
type pendingWrite struct {
	m     docstore.Mutation
	verb  string // INSERT, UPSERT, UPDATE, DELETE
	row   *row   // for RETURNING (the alias is rebound to the new doc)
	alias string
	val   value.Value
}

// writer batches a DML statement's mutations.
type writer struct {
	x         *exec
	ks        docstore.Keyspace
	returning *ast.Projection
	pending   []pendingWrite
}

func (x *exec) newWriter(ks docstore.Keyspace, ret *ast.Projection) *writer {
	if ret != nil {
		x.res.Signature = projectionSignature(ret)
	}
	return &writer{x: x, ks: ks, returning: ret}
}

func projectionSignature(p *ast.Projection) value.Value {
	return signature(&ast.Select{Body: &ast.Subselect{Projection: p}})
}

func (w *writer) add(p pendingWrite) error {
	p.m.Keyspace = w.ks
	w.pending = append(w.pending, p)
	if len(w.pending) >= writeBatch {
		return w.flush()
	}
	return nil
}

// flush writes the pending mutations; a failed document is an error for
// that document only, as Couchbase's DML goes on with the others.
func (w *writer) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	x := w.x
	if err := x.checkCtx(); err != nil {
		return err
	}
	ms := make([]docstore.Mutation, len(w.pending))
	for i := range w.pending {
		ms[i] = w.pending[i].m
	}
	results, err := x.store().Write(x.ctx, ms)
	if err != nil {
		w.pending = w.pending[:0]
		return x.storeErr(err)
	}
	for i, p := range w.pending {
		if i >= len(results) {
			break
		}
		r := results[i]
		if r.Err != nil {
			x.res.Errors = append(x.res.Errors, dmlErr(p.verb, p.m.Key, r.Err))
			continue
		}
		x.res.Metrics.MutationCount++
		if w.returning != nil {
			rr := p.row
			if r.Doc != nil && p.verb != "DELETE" {
				rr = rr.with(p.alias, p.val, metaOf(w.ks, r.Doc))
			}
			rr.dflt = p.alias
			v, err := x.project(w.returning, rr, []string{p.alias})
			if err != nil {
				return err
			}
			if err := x.emitValue(v); err != nil {
				return err
			}
		}
	}
	w.pending = w.pending[:0]
	return nil
}

func dmlErr(verb, key string, err error) *Error {
	msg := "DML Error, possible causes include concurrent modification. Failed to perform " + verb + " on key " + key
	switch {
	case errors.Is(err, docstore.ErrExists):
		return newErr(CodeDuplicateKey, "%s - cause: Duplicate Key: %s", msg, key)
	case errors.Is(err, docstore.ErrCASMismatch), errors.Is(err, docstore.ErrConflict):
		return newErr(CodeDuplicateKey, "DML Error, possible causes include CAS mismatch. Failed to perform %s on key %s - cause: CAS mismatch", verb, key)
	case errors.Is(err, docstore.ErrNotFound):
		return newErr(CodeDuplicateKey, "%s - cause: Key not found : %s", msg, key)
	}
	return newErr(CodeDuplicateKey, "%s - cause: %v", msg, err)
}

// docKey reads a KEY expression's value.
func docKey(v value.Value) (string, error) {
	s, ok := v.Str()
	if !ok {
		return "", newErr(CodeDMLKey, "Cannot INSERT non-string key %v of type %s.", v, v.TypeName())
	}
	return s, nil
}

// expiryOf reads OPTIONS {"expiration": n}: seconds from now when under
// 30 days, else a unix time, as Couchbase.
func (x *exec) expiryOf(opts value.Value) uint32 {
	f, ok := opts.Field("expiration").Float()
	if !ok || f <= 0 {
		return 0
	}
	if f < 30*24*3600 {
		return uint32(x.fctx.Now.Unix()) + uint32(f)
	}
	return uint32(math.Min(f, math.MaxUint32))
}

func (x *exec) dmlKeyspace(k *ast.KeyspaceTerm) (docstore.Keyspace, error) {
	ref, err := x.resolveKeyspace(k)
	if err != nil {
		return docstore.Keyspace{}, err
	}
	if ref.system != "" {
		return docstore.Keyspace{}, newErr(CodeKeyspaceMissing, "Keyspace not found in CB datastore: system:%s - cause: system keyspaces are read-only", ref.system)
	}
	return ref.ks, nil
}

func (x *exec) runInsert(s *ast.Insert) error {
	ks, err := x.dmlKeyspace(s.Keyspace)
	if err != nil {
		return err
	}
	verb := "INSERT"
	op := docstore.OpInsert
	if s.Upsert {
		verb, op = "UPSERT", docstore.OpUpsert
	}
	alias := s.Keyspace.AliasOrDefault()
	w := x.newWriter(ks, s.Returning)
	put := func(k, v, opts value.Value, env *row) error {
		key, err := docKey(k)
		if err != nil {
			return err
		}
		if v.IsMissing() {
			v = value.NullValue
		}
		m := docstore.Mutation{Key: key, Op: op, Body: v.AppendJSON(nil)}
		if !opts.IsMissing() {
			m.Expiry = x.expiryOf(opts)
		}
		return w.add(pendingWrite{m: m, verb: verb, row: env, alias: alias, val: v})
	}
	base := &row{}
	if s.Query == nil {
		for _, vr := range s.Values {
			if err := x.tick(); err != nil {
				return err
			}
			k, err := x.eval(vr.Key, base)
			if err != nil {
				return err
			}
			v, err := x.eval(vr.Value, base)
			if err != nil {
				return err
			}
			opts := value.MissingValue
			if vr.Options != nil {
				if opts, err = x.eval(vr.Options, base); err != nil {
					return err
				}
			}
			if err := put(k, v, opts, base); err != nil {
				return err
			}
		}
		return w.flush()
	}
	var rows []value.Value
	err = x.query(s.Query, nil, func(v value.Value) (bool, error) {
		rows = append(rows, v)
		return true, x.tick()
	})
	if err != nil {
		return err
	}
	for _, rv := range rows {
		env := (&row{dflt: "$r"}).with("$r", rv, nil)
		k, err := x.eval(s.Key, env)
		if err != nil {
			return err
		}
		v := rv
		if s.Value != nil {
			if v, err = x.eval(s.Value, env); err != nil {
				return err
			}
		}
		opts := value.MissingValue
		if s.Options != nil {
			if opts, err = x.eval(s.Options, env); err != nil {
				return err
			}
		}
		if err := put(k, v, opts, base); err != nil {
			return err
		}
	}
	return w.flush()
}

// target is one document a DML statement read and may change.
type target struct {
	doc *docstore.Document
	row *row
	val value.Value
}

// targets reads the documents of ks matching where (and USE KEYS),
// up to limit (-1: all), after skipping offset.
func (x *exec) targets(k *ast.KeyspaceTerm, ks docstore.Keyspace, where ast.Expr, limit, offset int) ([]target, error) {
	alias := k.AliasOrDefault()
	base := &row{dflt: alias}
	var conj []ast.Expr
	if where != nil {
		conj = conjuncts(where)
	}
	var out []target
	skipped := 0
	err := x.scan(ks, k, alias, true, conj, base, func(d *docstore.Document) (bool, error) {
		v := docValue(d)
		r := base.with(alias, v, metaOf(ks, d))
		if where != nil {
			ok, err := x.when(where, r)
			if err != nil || !ok {
				return true, err
			}
		}
		if skipped < offset {
			skipped++
			return true, nil
		}
		out = append(out, target{doc: d, row: r, val: v})
		return limit < 0 || len(out) < limit, nil
	})
	return out, err
}

func (x *exec) optLimit(e ast.Expr, what string) (int, error) {
	if e == nil {
		return -1, nil
	}
	return x.constInt(e, nil, what)
}

func (x *exec) runUpdate(s *ast.Update) error {
	ks, err := x.dmlKeyspace(s.Keyspace)
	if err != nil {
		return err
	}
	limit, err := x.optLimit(s.Limit, "LIMIT")
	if err != nil {
		return err
	}
	ts, err := x.targets(s.Keyspace, ks, s.Where, limit, 0)
	if err != nil || x.explaining {
		return err
	}
	alias := s.Keyspace.AliasOrDefault()
	w := x.newWriter(ks, s.Returning)
	for _, t := range ts {
		nv, exp, err := x.applySet(t.val, t.row, alias, s.Set, s.Unset)
		if err != nil {
			return err
		}
		m := replaceMutation(t.doc, nv, exp)
		if err := w.add(pendingWrite{m: m, verb: "UPDATE", row: t.row, alias: alias, val: nv}); err != nil {
			return err
		}
	}
	return w.flush()
}

func (x *exec) runDelete(s *ast.Delete) error {
	ks, err := x.dmlKeyspace(s.Keyspace)
	if err != nil {
		return err
	}
	limit, err := x.optLimit(s.Limit, "LIMIT")
	if err != nil {
		return err
	}
	offset, err := x.optLimit(s.Offset, "OFFSET")
	if err != nil {
		return err
	}
	if offset < 0 {
		offset = 0
	}
	ts, err := x.targets(s.Keyspace, ks, s.Where, limit, offset)
	if err != nil || x.explaining {
		return err
	}
	alias := s.Keyspace.AliasOrDefault()
	w := x.newWriter(ks, s.Returning)
	for _, t := range ts {
		m := docstore.Mutation{Key: t.doc.Key, Op: docstore.OpDelete, IfCAS: t.doc.CAS}
		if err := w.add(pendingWrite{m: m, verb: "DELETE", row: t.row, alias: alias, val: t.val}); err != nil {
			return err
		}
	}
	return w.flush()
}

// applySet applies SET and UNSET terms to document v (bound as alias in r).
func (x *exec) applySet(v value.Value, r *row, alias string, sets []ast.SetTerm, unsets []ast.UnsetTerm) (value.Value, *uint32, error) {
	var expiry *uint32
	for _, st := range sets {
		if isMetaExpiration(st.Path, alias) {
			// SET META(alias).expiration = n changes the document's expiry.
			ev, err := x.eval(st.Value, r)
			if err != nil {
				return v, nil, err
			}
			exp := x.expiryOf(value.NewObject([]value.Pair{{Name: "expiration", Value: ev}}))
			expiry = &exp
			continue
		}
		err := x.forEach(st.For, r, alias, v, func(env *row, vars map[string][]pathStep) error {
			nv, err := x.eval(st.Value, env.with(alias, v, nil))
			if err != nil {
				return err
			}
			steps, err := x.pathSteps(st.Path, env, alias, vars)
			if err != nil {
				return err
			}
			v = setIn(v, steps, nv)
			return nil
		})
		if err != nil {
			return v, nil, err
		}
	}
	for _, ut := range unsets {
		err := x.forEach(ut.For, r, alias, v, func(env *row, vars map[string][]pathStep) error {
			steps, err := x.pathSteps(ut.Path, env, alias, vars)
			if err != nil {
				return err
			}
			v = setIn(v, steps, value.MissingValue)
			return nil
		})
		if err != nil {
			return v, nil, err
		}
	}
	return v, expiry, nil
}

func isMetaExpiration(e ast.Expr, alias string) bool {
	f, ok := e.(*ast.Field)
	if !ok || f.Name != "expiration" {
		return false
	}
	m, ok := f.Target.(*ast.Meta)
	if !ok {
		return false
	}
	id, ok := m.Keyspace.(*ast.Identifier)
	return m.Keyspace == nil || ok && id.Name == alias
}

// replaceMutation replaces a read document if its CAS is unchanged,
// keeping its flags and, unless SET META().expiration gave one, its expiry.
func replaceMutation(d *docstore.Document, nv value.Value, exp *uint32) docstore.Mutation {
	m := docstore.Mutation{Key: d.Key, Op: docstore.OpReplace, Body: nv.AppendJSON(nil), Flags: d.Flags, IfCAS: d.CAS, PreserveExpiry: true}
	if exp != nil {
		m.Expiry, m.PreserveExpiry = *exp, false
	}
	return m
}

// pathStep is one field name or array index of an update path.
type pathStep struct {
	field string
	index int
	isIdx bool
}

// forEach runs fn once (no FOR) or for each element of the FOR
// bindings, with each variable mapped to its path in the document.
func (x *exec) forEach(f *ast.UpdateFor, r *row, alias string, doc value.Value, fn func(*row, map[string][]pathStep) error) error {
	if f == nil {
		return fn(r, nil)
	}
	var dims func(i int, env *row, vars map[string][]pathStep) error
	dims = func(i int, env *row, vars map[string][]pathStep) error {
		if i == len(f.Dimensions) {
			if ok, err := x.when(f.When, env); err != nil || !ok {
				return err
			}
			return fn(env, vars)
		}
		for _, b := range f.Dimensions[i] {
			denv := env.with(alias, doc, nil)
			arr, err := x.eval(b.Expr, denv)
			if err != nil {
				return err
			}
			elems, _ := arr.Elems()
			base, err := x.pathSteps(b.Expr, env, alias, vars)
			if err != nil {
				base = nil // a computed range: its variable is not a path
			}
			for j, e := range elems {
				nenv := env.with(b.Var, e, nil)
				nvars := map[string][]pathStep{}
				for k, v := range vars {
					nvars[k] = v
				}
				if base != nil {
					nvars[b.Var] = append(append([]pathStep(nil), base...), pathStep{index: j, isIdx: true})
				}
				if b.NameVar != "" {
					nenv = nenv.with(b.NameVar, value.NewInt(int64(j)), nil)
				}
				if err := dims(i+1, nenv, nvars); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return dims(0, r, map[string][]pathStep{})
}

// pathSteps turns an update path into steps from the document root.
func (x *exec) pathSteps(e ast.Expr, r *row, alias string, vars map[string][]pathStep) ([]pathStep, error) {
	switch n := e.(type) {
	case *ast.Identifier:
		if n.Name == alias {
			return nil, nil
		}
		if p, ok := vars[n.Name]; ok {
			return p, nil
		}
		return []pathStep{{field: n.Name}}, nil
	case *ast.Field:
		p, err := x.pathSteps(n.Target, r, alias, vars)
		if err != nil {
			return nil, err
		}
		return append(append([]pathStep(nil), p...), pathStep{field: n.Name}), nil
	case *ast.Element:
		p, err := x.pathSteps(n.Target, r, alias, vars)
		if err != nil {
			return nil, err
		}
		iv, err := x.eval(n.Index, r)
		if err != nil {
			return nil, err
		}
		if s, ok := iv.Str(); ok {
			return append(append([]pathStep(nil), p...), pathStep{field: s}), nil
		}
		i, ok := iv.Int()
		if !ok {
			return nil, newErr(CodeEvaluation, "Invalid array index %v in update path %s", iv, e)
		}
		return append(append([]pathStep(nil), p...), pathStep{index: int(i), isIdx: true}), nil
	}
	return nil, newErr(CodeEvaluation, "Invalid update path %s", e)
}

// setIn sets (or, with MISSING, removes) the value at steps; a missing
// parent leaves v unchanged, as Couchbase.
func setIn(v value.Value, steps []pathStep, nv value.Value) value.Value {
	if len(steps) == 0 {
		return nv
	}
	s := steps[0]
	if s.isIdx {
		if v.Kind() != value.Array {
			return v
		}
		if len(steps) == 1 && nv.IsMissing() {
			es, _ := v.Elems()
			i := s.index
			if i < 0 {
				i += len(es)
			}
			if i < 0 || i >= len(es) {
				return v
			}
			out := append(append([]value.Value(nil), es[:i]...), es[i+1:]...)
			return value.NewArray(out)
		}
		return v.WithIndex(s.index, setIn(v.Index(s.index), steps[1:], nv))
	}
	if v.Kind() != value.Object {
		return v
	}
	cur := v.Field(s.field)
	if len(steps) > 1 && cur.IsMissing() {
		return v
	}
	return v.WithField(s.field, setIn(cur, steps[1:], nv))
}

func (x *exec) runMerge(s *ast.Merge) error {
	ks, err := x.dmlKeyspace(s.Target)
	if err != nil {
		return err
	}
	limit, err := x.optLimit(s.Limit, "LIMIT")
	if err != nil {
		return err
	}
	talias := s.Target.AliasOrDefault()
	var sources []*row
	err = x.from(s.Source, &row{}, nil, func(r *row) (bool, error) {
		sources = append(sources, r)
		return true, x.tick()
	})
	if err != nil {
		return err
	}
	w := x.newWriter(ks, s.Returning)
	done := 0
	for _, src := range sources {
		if limit >= 0 && done >= limit {
			break
		}
		if err := x.tick(); err != nil {
			return err
		}
		var matches []target
		insertKey := ""
		if s.OnKey != nil {
			kv, err := x.eval(s.OnKey, src)
			if err != nil {
				return err
			}
			key, err := docKey(kv)
			if err != nil {
				return err
			}
			insertKey = key
			d, err := x.get(ks, key)
			switch {
			case err == nil:
				v := docValue(d)
				matches = append(matches, target{doc: d, val: v, row: src.with(talias, v, metaOf(ks, d))})
			case !errors.Is(err, docstore.ErrNotFound):
				return x.storeErr(err)
			}
		} else {
			conj := conjuncts(s.On)
			err := x.scan(ks, s.Target, talias, false, conj, src, func(d *docstore.Document) (bool, error) {
				v := docValue(d)
				r := src.with(talias, v, metaOf(ks, d))
				if ok, err := x.when(s.On, r); err != nil || !ok {
					return true, err
				}
				matches = append(matches, target{doc: d, val: v, row: r})
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		if len(matches) == 0 {
			if s.Insert == nil {
				continue
			}
			env := src.with(talias, value.MissingValue, nil)
			if ok, err := x.when(s.Insert.Where, env); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			key := insertKey
			if s.Insert.Key != nil {
				kv, err := x.eval(s.Insert.Key, env)
				if err != nil {
					return err
				}
				if key, err = docKey(kv); err != nil {
					return err
				}
			}
			v, err := x.eval(s.Insert.Value, env)
			if err != nil {
				return err
			}
			m := docstore.Mutation{Key: key, Op: docstore.OpInsert, Body: v.AppendJSON(nil)}
			if s.Insert.Options != nil {
				o, err := x.eval(s.Insert.Options, env)
				if err != nil {
					return err
				}
				m.Expiry = x.expiryOf(o)
			}
			if err := w.add(pendingWrite{m: m, verb: "INSERT", row: env, alias: talias, val: v}); err != nil {
				return err
			}
			done++
			continue
		}
		for _, t := range matches {
			switch {
			case s.Update != nil:
				if ok, err := x.when(s.Update.Where, t.row); err != nil {
					return err
				} else if ok {
					nv, exp, err := x.applySet(t.val, t.row, talias, s.Update.Set, s.Update.Unset)
					if err != nil {
						return err
					}
					m := replaceMutation(t.doc, nv, exp)
					if err := w.add(pendingWrite{m: m, verb: "UPDATE", row: t.row, alias: talias, val: nv}); err != nil {
						return err
					}
					done++
					continue
				}
				fallthrough
			case s.Delete != nil:
				if s.Delete == nil {
					continue
				}
				if ok, err := x.when(s.Delete.Where, t.row); err != nil || !ok {
					if err != nil {
						return err
					}
					continue
				}
				m := docstore.Mutation{Key: t.doc.Key, Op: docstore.OpDelete, IfCAS: t.doc.CAS}
				if err := w.add(pendingWrite{m: m, verb: "DELETE", row: t.row, alias: talias, val: t.val}); err != nil {
					return err
				}
				done++
			}
		}
	}
	return w.flush()
}
