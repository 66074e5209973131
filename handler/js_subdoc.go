package handler

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"eventide/docstore"
	"eventide/docstore/subdoc"
	"eventide/jsrt"
)

// The sub-document accessors (§2.4) and couchbase.bindingDetails:
//
//	couchbase.mutateIn(binding, meta, [couchbase.MutateInSpec.op(path, value, {create_path, xattrs})])
//	couchbase.lookupIn(binding, meta, [couchbase.LookupInSpec.get(path, {xattrs})])
//	couchbase.bindingDetails(binding, [meta])
//
// mutateIn applies its specs in order, all or nothing: it reads the
// document, edits its JSON (or its user xattrs, with {xattrs: true}) and
// replaces it on the condition that it has not changed since the read (the
// Store's Apply keeps that condition until the batch commits). It returns
// {success: true, meta: {id, cas, expiry_date?}} or {success: false,
// error: {code, name, desc, <flag>: true}} with flag key_not_found,
// cas_mismatch (meta.cas given and stale), field_not_found or
// field_already_exists. Other sub-document failures (a path through a
// value of the wrong type, a malformed path, a document that is not JSON)
// throw a KVError whose message is {code, name, desc}. The document keeps
// its expiry unless meta.expiry_date sets a new one.
//
// lookupIn returns {success: true, meta: {id, cas, expiry_date?, datatype},
// doc: [{value, success}, ...]}, one entry per spec, {value: undefined,
// success: false} for a path that is not there, or the key_not_found
// failure.

// subdocFailures are the KV failures of the sub-document outcomes
// (libcouchbase 2 names and error-type flags, like the other KV failures
// the handler API reports).
var subdocFailures = map[subdoc.Status]kvFailure{
	subdoc.PathNotFound:    {784, "LCB_SUBDOC_PATH_ENOENT", "Sub-document path does not exist"},
	subdoc.PathExists:      {784, "LCB_SUBDOC_PATH_EEXISTS", "The given path already exists in the document"},
	subdoc.PathMismatch:    {784, "LCB_SUBDOC_PATH_MISMATCH", "Type of element in sub-document path conflicts with type in document"},
	subdoc.PathInvalid:     {769, "LCB_SUBDOC_PATH_EINVAL", "Malformed sub-document path"},
	subdoc.ValueCantInsert: {769, "LCB_SUBDOC_VALUE_CANTINSERT", "Subdocument operation would invalidate the JSON"},
	subdoc.DocNotJSON:      {784, "LCB_SUBDOC_DOC_NOTJSON", "Existing document is not valid JSON"},
	subdoc.DocTooDeep:      {784, "LCB_SUBDOC_DOC_E2DEEP", "Existing document contains too many levels of nesting"},
	subdoc.ValueTooDeep:    {769, "LCB_SUBDOC_VALUE_E2DEEP", "Value is too deep to insert"},
}

// Spec kinds of couchbase.LookupInSpec.
const sdGet = 1

// parsedSpec is a spec read from its JavaScript object.
type parsedSpec struct {
	kind       int
	path       string
	elems      []subdoc.PathElem
	value      goja.Value
	xattrs     bool
	createPath bool
}

// installSubdoc adds mutateIn, lookupIn, MutateInSpec, LookupInSpec and
// bindingDetails to the couchbase object.
func (w *Worker) installSubdoc(cb *goja.Object) error {
	// The marks tell spec objects apart, so that a lookup spec (or a
	// look-alike object) is not taken for a mutation.
	mutateMark := goja.NewSymbol("eventide.MutateInSpec")
	lookupMark := goja.NewSymbol("eventide.LookupInSpec")
	mis := w.vm.NewObject()
	for _, s := range []struct {
		name      string
		kind      subdoc.Op
		withValue bool
	}{
		{"insert", subdoc.Insert, true}, {"upsert", subdoc.Upsert, true}, {"replace", subdoc.Replace, true},
		{"remove", subdoc.Remove, false}, {"arrayAppend", subdoc.ArrayAppend, true},
		{"arrayPrepend", subdoc.ArrayPrepend, true}, {"arrayInsert", subdoc.ArrayInsert, true},
		{"arrayAddUnique", subdoc.ArrayAddUnique, true},
	} {
		if err := mis.Set(s.name, w.specMaker("MutateInSpec."+s.name, int(s.kind), s.withValue, mutateMark)); err != nil {
			return err
		}
	}
	lis := w.vm.NewObject()
	if err := lis.Set("get", w.specMaker("LookupInSpec.get", sdGet, false, lookupMark)); err != nil {
		return err
	}
	for name, v := range map[string]any{
		"MutateInSpec":   mis,
		"LookupInSpec":   lis,
		"mutateIn":       func(c goja.FunctionCall) goja.Value { return w.cbMutateIn(c, mutateMark) },
		"lookupIn":       func(c goja.FunctionCall) goja.Value { return w.cbLookupIn(c, lookupMark) },
		"bindingDetails": w.cbBindingDetails,
	} {
		if err := cb.Set(name, v); err != nil {
			return err
		}
	}
	return nil
}

// specMaker builds a spec constructor: (path, [value], [options]) →
// {spec_type, path, value?, options}, marked with mark.
func (w *Worker) specMaker(name string, kind int, withValue bool, mark *goja.Symbol) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		path, ok := jsrt.JSString(call.Argument(0))
		if !ok {
			panic(w.vm.NewTypeError("couchbase." + name + ": path must be a string"))
		}
		optArg := 1
		if withValue {
			if len(call.Arguments) < 2 {
				panic(w.vm.NewTypeError("couchbase." + name + ": a value is required"))
			}
			optArg = 2
		}
		opts := call.Argument(optArg)
		if !goja.IsUndefined(opts) && !goja.IsNull(opts) {
			if _, ok := opts.(*goja.Object); !ok {
				panic(w.vm.NewTypeError("couchbase." + name + ": options must be an object"))
			}
		} else {
			opts = w.vm.NewObject()
		}
		spec := w.vm.NewObject()
		_ = spec.Set("spec_type", kind)
		_ = spec.Set("path", path)
		if withValue {
			_ = spec.Set("value", call.Argument(1))
		}
		_ = spec.Set("options", opts)
		_ = spec.DefineDataPropertySymbol(mark, w.vm.ToValue(true), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		return spec
	}
}

// specs reads the spec array argument of op.
func (w *Worker) specs(v goja.Value, op string, mark *goja.Symbol, specName string) []parsedSpec {
	arr, ok := v.(*goja.Object)
	if !ok || arr.ClassName() != "Array" {
		w.throwType("couchbase.%s: the third argument must be an array of couchbase.%s objects", op, specName)
	}
	n := arr.Get("length").ToInteger()
	if n < 1 || n > subdoc.MaxSpecs {
		w.throwType("couchbase.%s: between 1 and %d specs are allowed, got %d", op, subdoc.MaxSpecs, n)
	}
	out := make([]parsedSpec, 0, n)
	for i := range n {
		spec, ok := arr.Get(strconv.FormatInt(i, 10)).(*goja.Object)
		if !ok || !isMarked(spec, mark) {
			w.throwType("couchbase.%s: spec %d is not a couchbase.%s object", op, i, specName)
		}
		ps := parsedSpec{kind: int(spec.Get("spec_type").ToInteger()), value: spec.Get("value")}
		ps.path, _ = jsrt.JSString(spec.Get("path"))
		if opts, ok := spec.Get("options").(*goja.Object); ok {
			ps.createPath = w.specOption(opts, op, "create_path")
			// Couchbase's own tests spell it "xattr"; the documentation "xattrs".
			ps.xattrs = w.specOption(opts, op, "xattrs") || w.specOption(opts, op, "xattr")
		}
		elems, ok := subdoc.ParsePath(ps.path)
		if !ok {
			w.subdocThrow(subdoc.PathInvalid)
		}
		ps.elems = elems
		if ps.xattrs {
			w.checkXattrPath(op, ps)
		}
		out = append(out, ps)
	}
	return out
}

func isMarked(o *goja.Object, mark *goja.Symbol) bool {
	v := o.GetSymbol(mark)
	return v != nil && v.ToBoolean()
}

// specOption reads a boolean spec option (absent: false).
func (w *Worker) specOption(opts *goja.Object, op, name string) bool {
	v := opts.Get(name)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return false
	}
	b, ok := v.Export().(bool)
	if !ok {
		w.throwType("couchbase.%s: spec option %s must be a boolean", op, name)
	}
	return b
}

// checkXattrPath enforces the rules of user extended attributes: the path
// starts with the attribute's name, which is short and does not start with
// '_' (system xattrs are not the handler's).
func (w *Worker) checkXattrPath(op string, ps parsedSpec) {
	if len(ps.elems) == 0 || ps.elems[0].IsIndex {
		w.subdocThrow(subdoc.PathInvalid)
	}
	name := ps.elems[0].Key
	switch {
	case strings.HasPrefix(name, "_"):
		w.throwEventing("couchbase.%s: xattr path %q names a system xattr: user xattr names may not start with '_'", op, ps.path)
	case len(name) > subdoc.MaxXattrKeyLen:
		w.throwEventing("couchbase.%s: xattr name %q is longer than %d bytes", op, name, subdoc.MaxXattrKeyLen)
	}
}

// subdocThrow counts a bucket operation exception and throws the KVError of
// a sub-document failure.
func (w *Worker) subdocThrow(e subdoc.Status) {
	w.stats.inc(statBucketOpException)
	w.throwKVError(subdocFailures[e])
}

// subdocResult turns a failed spec into mutateIn's result or exception.
func (w *Worker) subdocResult(e subdoc.Status) goja.Value {
	switch e {
	case subdoc.PathNotFound:
		return w.advFailure(subdocFailures[e], "field_not_found")
	case subdoc.PathExists:
		return w.advFailure(subdocFailures[e], "field_already_exists")
	}
	w.subdocThrow(e)
	return nil
}

// subdocTrees are the editable views of a document: its body and its user
// xattrs (as one object keyed by xattr name).
type subdocTrees struct {
	doc               *docstore.Document
	body, xattrs      any
	bodyOK, xattrsOK  bool // parsed
	bodyErr           subdoc.Status
	bodyDirty, xDirty bool
}

// tree returns the tree a spec works on, parsing it on first use.
func (t *subdocTrees) tree(xattrs bool) (*any, subdoc.Status) {
	if xattrs {
		if !t.xattrsOK {
			t.xattrs, t.xattrsOK = userXattrTree(t.doc), true
		}
		return &t.xattrs, subdoc.OK
	}
	if !t.bodyOK {
		t.bodyOK = true
		switch {
		case t.doc.Datatype != docstore.DatatypeJSON:
			t.bodyErr = subdoc.DocNotJSON
		default:
			v, err := subdoc.Parse(t.doc.Body)
			switch {
			case errors.Is(err, subdoc.ErrTooDeep):
				t.bodyErr = subdoc.DocTooDeep
			case err != nil:
				t.bodyErr = subdoc.DocNotJSON
			}
			t.body = v
		}
	}
	return &t.body, t.bodyErr
}

// userXattrTree gathers the document's user xattrs into one object, by
// name. A value the tree cannot hold (too deep, not JSON) stays raw, so that
// editing another xattr writes it back unchanged.
func userXattrTree(d *docstore.Document) any {
	obj := subdoc.NewObject()
	for _, k := range slices.Sorted(maps.Keys(d.Xattrs)) {
		if strings.HasPrefix(k, "_") {
			continue
		}
		v, err := subdoc.Parse(d.Xattrs[k])
		if err != nil {
			v = subdoc.Raw(d.Xattrs[k])
		}
		obj.Set(k, v)
	}
	return obj
}

// newXattrs renders the edited user xattrs, keeping any system ones.
func (t *subdocTrees) newXattrs() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(t.doc.Xattrs))
	for k, v := range t.doc.Xattrs {
		if strings.HasPrefix(k, "_") {
			out[k] = v
		}
	}
	obj := t.xattrs.(*subdoc.Object)
	for _, k := range obj.Keys() {
		v, _ := obj.Get(k)
		out[k] = subdoc.Encode(v)
	}
	return out
}

// specValue converts a spec's value to a tree: JSON-serializable values
// only (no ArrayBuffer), at most maxSubdocDepth levels deep.
func (w *Worker) specValue(b *bucketBinding, op string, v goja.Value) any {
	b.validateValue(v)
	if _, isBinary := jsrt.RawBytes(v); isBinary {
		w.throwType("couchbase.%s: a sub-document value must be JSON, not an ArrayBuffer", op)
	}
	body, _ := b.encodeValue(v)
	tree, err := subdoc.Parse(body)
	switch {
	case errors.Is(err, subdoc.ErrTooDeep):
		w.subdocThrow(subdoc.ValueTooDeep)
	case err != nil:
		w.subdocThrow(subdoc.ValueCantInsert)
	}
	return tree
}

// cbMutateIn is couchbase.mutateIn(binding, meta, [specs]).
func (w *Worker) cbMutateIn(call goja.FunctionCall, mark *goja.Symbol) goja.Value {
	const op = "mutateIn"
	t := w.advTarget(call, op, msgWriteForbidden)
	specs := w.specs(call.Argument(2), op, mark, "MutateInSpec")
	values := make([]any, len(specs))
	for i, s := range specs {
		if s.kind < int(subdoc.Insert) || s.kind > int(subdoc.ArrayAddUnique) {
			w.throwType("couchbase.%s: spec %d has an unknown spec_type %d", op, i, s.kind)
		}
		if s.kind != int(subdoc.Remove) {
			values[i] = w.specValue(t.b, op, s.value)
		}
	}
	cur, err := t.st.Get(t.ks, t.id)
	if err != nil {
		return w.advStoreError(err)
	}
	if t.cas != 0 && t.cas != cur.CAS {
		w.stats.inc(statBktOpsCASMismatch)
		return w.advFailure(kvCASMismatch, "cas_mismatch")
	}
	trees := subdocTrees{doc: cur}
	for i, s := range specs {
		root, e := trees.tree(s.xattrs)
		if e == subdoc.OK {
			e = subdoc.Mutate(root, subdoc.Op(s.kind), s.elems, values[i], s.createPath)
		}
		if e != subdoc.OK {
			return w.subdocResult(e)
		}
		if s.xattrs {
			trees.xDirty = true
		} else {
			trees.bodyDirty = true
		}
	}
	m := docstore.Mutation{
		Op: docstore.OpReplace, IfCAS: cur.CAS, Body: cur.Body, Datatype: cur.Datatype, Flags: cur.Flags,
		Expiry: cur.Expiry,
	}
	if t.expiry != 0 {
		m.Expiry = t.expiry
	}
	if trees.bodyDirty {
		m.Body = subdoc.Encode(trees.body)
	}
	if trees.xDirty {
		m.Xattrs = trees.newXattrs()
	}
	d, err := w.apply(t, m, false)
	if err != nil {
		return w.advStoreError(err)
	}
	return w.advSuccess(t.id, d, false, nil)
}

// cbLookupIn is couchbase.lookupIn(binding, meta, [specs]).
func (w *Worker) cbLookupIn(call goja.FunctionCall, mark *goja.Symbol) goja.Value {
	const op = "lookupIn"
	t := w.advTarget(call, op, "")
	specs := w.specs(call.Argument(2), op, mark, "LookupInSpec")
	for i, s := range specs {
		if s.kind != sdGet {
			w.throwType("couchbase.%s: spec %d has an unknown spec_type %d", op, i, s.kind)
		}
	}
	cur, err := t.st.Get(t.ks, t.id)
	if err != nil {
		return w.advStoreError(err)
	}
	trees := subdocTrees{doc: cur}
	results := make([]any, len(specs))
	for i, s := range specs {
		entry := w.vm.NewObject()
		root, e := trees.tree(s.xattrs)
		var v any
		if e == subdoc.OK {
			v, e = subdoc.Lookup(*root, s.elems)
		}
		if raw, ok := v.(subdoc.Raw); ok && e == subdoc.OK {
			if json.Valid(raw) {
				e = subdoc.DocTooDeep
			} else {
				v = string(raw) // as OnUpdate's xattrs argument shows it
			}
		}
		if e == subdoc.DocTooDeep {
			w.subdocThrow(e)
		}
		if e == subdoc.OK {
			jv, err := w.rt.DecodeJSON(subdoc.Encode(v))
			if err != nil {
				w.throwEventing("Unable to parse response body as JSON")
			}
			_ = entry.Set("value", jv)
		} else {
			_ = entry.Set("value", goja.Undefined())
		}
		_ = entry.Set("success", e == subdoc.OK)
		results[i] = entry
	}
	return w.advSuccess(t.id, cur, true, w.vm.NewArray(results...))
}

// cbBindingDetails is couchbase.bindingDetails(binding, [meta]): {access,
// keyspace: {bucket_name, scope_name, collection_name}}. A wildcard
// binding's "*" parts are taken from meta.keyspace when it names them.
func (w *Worker) cbBindingDetails(call goja.FunctionCall) goja.Value {
	b, ok := w.bindingOf(call.Argument(0))
	if !ok {
		panic(w.vm.NewTypeError("couchbase.bindingDetails: the first argument must be a bucket binding"))
	}
	ks := b.ks
	if meta, ok := call.Argument(1).(*goja.Object); ok {
		if spec, ok := meta.Get("keyspace").(*goja.Object); ok {
			if s, _ := jsrt.JSString(spec.Get("scope_name")); ks.Scope == "*" && s != "" {
				ks.Scope = s
			}
			if c, _ := jsrt.JSString(spec.Get("collection_name")); ks.Collection == "*" && c != "" {
				ks.Collection = c
			}
		}
	}
	access := AccessReadWrite
	if b.readOnly {
		access = AccessRead
	}
	keyspace := w.vm.NewObject()
	_ = keyspace.Set("bucket_name", ks.Bucket)
	_ = keyspace.Set("scope_name", ks.Scope)
	_ = keyspace.Set("collection_name", ks.Collection)
	res := w.vm.NewObject()
	_ = res.Set("access", access)
	_ = res.Set("keyspace", keyspace)
	return res
}
