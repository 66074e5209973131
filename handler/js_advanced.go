package handler

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dop251/goja"

	"eventide/docstore"
	"eventide/docstore/subdoc"
	"eventide/jsrt"
)

// The advanced keyspace accessors (§2.4): couchbase.get, insert, upsert,
// replace, delete, increment, decrement and touch, called as
// couchbase.op(binding, meta, [doc], [options]). meta.id names the document;
// meta.cas (a decimal string) makes replace and delete conditional;
// meta.expiry_date (a Date) sets the expiry of insert, upsert, replace and
// touch (absent: no expiry); meta.keyspace {scope_name, collection_name}
// picks the collection of a wildcard binding. They return
//
//	{success: true, meta: {id, cas, expiry_date?, datatype?}, doc?}
//	{success: false, error: {code, name, desc, <flag>: true}}
//
// with flag key_not_found, key_already_exists, cas_mismatch or not_number.
// Argument errors throw TypeError (a value of the wrong type) or
// EventingError (a read-only binding, a missing store); other data-layer
// failures throw KVError. Every throw counts bucket_op_exception_count.

// KV failures reported in advanced accessor results.
var (
	kvKeyExists   = kvFailure{272, "LCB_KEY_EEXISTS", "The document key already exists in the server."}
	kvCASMismatch = kvFailure{272, "LCB_KEY_EEXISTS", "The document key exists with a CAS value different than specified"}
	kvNotNumber   = kvFailure{272, "LCB_DELTA_BADVAL", "The value requested to be incremented is not stored as a number"}
)

// Messages of the read-only binding errors, as the basic accessors throw them.
const (
	msgWriteForbidden  = "Writing to source bucket is forbidden"
	msgDeleteForbidden = "Delete from source bucket is forbidden"
)

// installAdvanced adds the accessors to the global couchbase object,
// creating it if no other area did.
func (w *Worker) installAdvanced() error {
	var cb *goja.Object
	switch v := w.vm.Get("couchbase"); {
	case v == nil || goja.IsUndefined(v) || goja.IsNull(v):
		cb = w.vm.NewObject()
		if err := w.vm.Set("couchbase", cb); err != nil {
			return err
		}
	default:
		obj, ok := v.(*goja.Object)
		if !ok {
			return fmt.Errorf("handler: global couchbase is a %s, not an object", v.ExportType())
		}
		cb = obj
	}
	w.cache = newBucketCache(w.p.settings.BucketCacheAge, w.p.settings.BucketCacheSize)
	fns := []struct {
		name string
		fn   func(goja.FunctionCall) goja.Value
	}{
		{"get", w.cbGet},
		{"insert", w.cbWrite("insert", docstore.OpInsert)},
		{"upsert", w.cbWrite("upsert", docstore.OpUpsert)},
		{"replace", w.cbWrite("replace", docstore.OpReplace)},
		{"delete", w.cbDelete},
		{"increment", w.cbCounter("increment", 1)},
		{"decrement", w.cbCounter("decrement", -1)},
		{"touch", w.cbTouch},
	}
	for _, f := range fns {
		if err := cb.Set(f.name, f.fn); err != nil {
			return err
		}
	}
	return w.installSubdoc(cb) // js_subdoc.go: mutateIn, lookupIn, bindingDetails
}

// advTarget is the parsed (binding, meta) of an advanced accessor call.
type advTarget struct {
	b      *bucketBinding
	ks     docstore.Keyspace
	id     string
	cas    uint64 // 0: none given
	expiry uint32 // 0: none given
	st     Store
}

// throwType counts a bucket operation exception and throws a TypeError.
func (w *Worker) throwType(format string, args ...any) {
	w.stats.inc(statBucketOpException)
	panic(w.vm.NewTypeError(fmt.Sprintf(format, args...)))
}

// throwEventing counts a bucket operation exception and throws an
// EventingError.
func (w *Worker) throwEventing(format string, args ...any) {
	w.stats.inc(statBucketOpException)
	w.throwEventingError(fmt.Sprintf(format, args...))
}

// advTarget parses the binding and meta arguments. forbidden, when not
// empty, is the error thrown for a read-only binding.
func (w *Worker) advTarget(call goja.FunctionCall, op, forbidden string) advTarget {
	if len(call.Arguments) < 2 {
		w.throwEventing("couchbase.%s: expected a bucket binding and a meta object, got %d argument(s)", op, len(call.Arguments))
	}
	b, ok := w.bindingOf(call.Argument(0))
	if !ok {
		w.throwType("couchbase.%s: the first argument must be a bucket binding", op)
	}
	meta, ok := call.Argument(1).(*goja.Object)
	if !ok {
		w.throwType("couchbase.%s: the second argument (meta) must be an object", op)
	}
	t := advTarget{b: b, ks: b.ks}
	id, ok := jsrt.JSString(meta.Get("id")) // Get gives nil for a missing property
	if !ok || id == "" {
		w.throwType("couchbase.%s: meta.id must be a non-empty string", op)
	}
	t.id = id
	if v := meta.Get("cas"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		s, ok := v.Export().(string)
		cas, err := strconv.ParseUint(s, 10, 64)
		if !ok || err != nil {
			w.throwType("couchbase.%s: meta.cas must be a string holding a decimal CAS, got %s", op, v.String())
		}
		t.cas = cas
	}
	if v := meta.Get("expiry_date"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		t.expiry = w.expirySeconds(v, op)
	}
	if b.wildcard {
		t.ks = w.wildcardKeyspace(b, meta, op)
	}
	if forbidden != "" && b.readOnly {
		w.throwEventing("%s", forbidden)
	}
	if w.inv.store == nil {
		w.throwEventing("couchbase.%s can only be used while handling an event", op)
	}
	t.st = w.inv.store
	return t
}

// expirySeconds converts meta.expiry_date to unix seconds.
func (w *Worker) expirySeconds(v goja.Value, op string) uint32 {
	obj, ok := v.(*goja.Object)
	if !ok || obj.ClassName() != "Date" {
		w.throwType("couchbase.%s: meta.expiry_date must be a Date", op)
	}
	getTime, ok := goja.AssertFunction(obj.Get("getTime"))
	if !ok {
		w.throwType("couchbase.%s: meta.expiry_date must be a Date", op)
	}
	ms := w.rt.CallJS(getTime, obj).ToFloat()
	if math.IsNaN(ms) || ms < 1000 || ms/1000 >= math.MaxUint32 {
		w.throwType("couchbase.%s: meta.expiry_date must be a valid Date between 1970 and 2106", op)
	}
	return uint32(ms / 1000)
}

// wildcardKeyspace resolves a wildcard binding's "*" scope or collection
// from meta.keyspace {scope_name, collection_name}, throwing Couchbase's
// EventingError when one is missing. A binding's own names win over
// meta.keyspace (as in Couchbase, which only reads the "*" parts).
func (w *Worker) wildcardKeyspace(b *bucketBinding, meta *goja.Object, op string) docstore.Keyspace {
	ks := b.ks
	var spec *goja.Object
	if v, ok := meta.Get("keyspace").(*goja.Object); ok {
		spec = v
	}
	pick := func(field, bound string) string {
		if bound != "*" {
			return bound
		}
		var s string
		if spec != nil {
			s, _ = jsrt.JSString(spec.Get(field))
		}
		if s == "" || s == "*" {
			w.throwEventing("Inconsistent wildcard usage. %s should be provided in the meta object", field)
		}
		return s
	}
	ks.Scope = pick("scope_name", ks.Scope)
	ks.Collection = pick("collection_name", ks.Collection)
	return ks
}

// advOptions reads the boolean option name from an options argument
// (undefined or null: none).
func (w *Worker) advOption(v goja.Value, op, name string) bool {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return false
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		w.throwType("couchbase.%s: options must be an object", op)
	}
	o := obj.Get(name)
	if o == nil || goja.IsUndefined(o) {
		return false
	}
	b, ok := o.Export().(bool)
	if !ok {
		w.throwType("couchbase.%s: option %s must be a boolean", op, name)
	}
	return b
}

// advSuccess builds {success: true, meta: {id, cas, expiry_date?,
// datatype?}, doc?}.
func (w *Worker) advSuccess(id string, d *docstore.Document, withDatatype bool, doc goja.Value) goja.Value {
	meta := w.vm.NewObject()
	_ = meta.Set("id", id)
	_ = meta.Set("cas", strconv.FormatUint(d.CAS, 10))
	if d.Expiry != 0 && !d.Deleted {
		date, err := w.vm.New(w.vm.Get("Date"), w.vm.ToValue(int64(d.Expiry)*1000))
		if err == nil {
			_ = meta.Set("expiry_date", date)
		}
	}
	if withDatatype {
		_ = meta.Set("datatype", d.Datatype.String())
	}
	res := w.vm.NewObject()
	_ = res.Set("success", true)
	_ = res.Set("meta", meta)
	if doc != nil {
		_ = res.Set("doc", doc)
	}
	return res
}

// advFailure builds {success: false, error: {code, name, desc, flag: true}}.
func (w *Worker) advFailure(f kvFailure, flag string) goja.Value {
	e := w.vm.NewObject()
	_ = e.Set("code", f.code)
	_ = e.Set("name", f.name)
	_ = e.Set("desc", f.desc)
	_ = e.Set(flag, true)
	res := w.vm.NewObject()
	_ = res.Set("success", false)
	_ = res.Set("error", e)
	return res
}

// advStoreError turns a failed precondition into a failure result and
// throws a KVError for anything else.
func (w *Worker) advStoreError(err error) goja.Value {
	switch {
	case errors.Is(err, docstore.ErrNotFound):
		return w.advFailure(kvKeyNotFound, "key_not_found")
	case errors.Is(err, docstore.ErrExists):
		return w.advFailure(kvKeyExists, "key_already_exists")
	case errors.Is(err, docstore.ErrCASMismatch):
		w.stats.inc(statBktOpsCASMismatch)
		return w.advFailure(kvCASMismatch, "cas_mismatch")
	}
	f := kvGeneric
	f.desc = err.Error()
	w.stats.inc(statBucketOpException)
	w.throwKVError(f)
	return nil
}

// docResult converts a stored document for a result, throwing an
// EventingError when a JSON body does not parse.
func (w *Worker) docResult(d *docstore.Document) goja.Value {
	v, err := w.docValue(d.Body, d.Datatype)
	if err != nil {
		w.throwEventing("Unable to parse response body as JSON")
	}
	return v
}

// cbGet is couchbase.get(binding, meta, [{cache: bool}]).
func (w *Worker) cbGet(call goja.FunctionCall) goja.Value {
	t := w.advTarget(call, "get", "")
	useCache := w.advOption(call.Argument(2), "get", "cache")
	if useCache {
		if d, ok := w.cache.get(t.ks, t.id); ok {
			return w.advSuccess(t.id, d, true, w.docResult(d))
		}
		w.stats.inc(statBucketOpCacheMiss)
	}
	d, err := t.st.Get(t.ks, t.id)
	if err != nil {
		return w.advStoreError(err)
	}
	if useCache {
		if w.cache.put(t.ks, t.id, d) {
			w.stats.inc(statBucketCacheOverflow)
		}
	}
	return w.advSuccess(t.id, d, true, w.docResult(d))
}

// apply runs one write, invalidating the cached key first.
func (w *Worker) apply(t advTarget, m docstore.Mutation, recurse bool) (*docstore.Document, error) {
	w.cache.invalidate(t.ks, t.id)
	m.Keyspace, m.Key = t.ks, t.id
	return t.st.Apply(m, recurse)
}

// cbWrite builds couchbase.insert/upsert/replace(binding, meta, doc,
// [{self_recursion: bool}]).
func (w *Worker) cbWrite(op string, kind docstore.OpKind) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		t := w.advTarget(call, op, msgWriteForbidden)
		doc := call.Argument(2)
		t.b.validateValue(doc)
		body, dt := t.b.encodeValue(doc)
		recurse := w.advOption(call.Argument(3), op, "self_recursion")
		m := docstore.Mutation{Op: kind, Body: body, Datatype: dt, Expiry: t.expiry}
		if kind == docstore.OpReplace {
			m.IfCAS = t.cas
		}
		d, err := w.apply(t, m, recurse)
		if err != nil {
			return w.advStoreError(err)
		}
		return w.advSuccess(t.id, d, false, nil)
	}
}

// cbDelete is couchbase.delete(binding, meta, [{self_recursion: bool}]).
func (w *Worker) cbDelete(call goja.FunctionCall) goja.Value {
	t := w.advTarget(call, "delete", msgDeleteForbidden)
	recurse := w.advOption(call.Argument(2), "delete", "self_recursion")
	d, err := w.apply(t, docstore.Mutation{Op: docstore.OpDelete, IfCAS: t.cas}, recurse)
	if err != nil {
		return w.advStoreError(err)
	}
	return w.advSuccess(t.id, d, false, nil)
}

// cbTouch is couchbase.touch(binding, meta): it sets the expiry from
// meta.expiry_date (none given: the document no longer expires).
func (w *Worker) cbTouch(call goja.FunctionCall) goja.Value {
	t := w.advTarget(call, "touch", msgWriteForbidden)
	d, err := w.apply(t, docstore.Mutation{Op: docstore.OpTouch, Expiry: t.expiry}, false)
	if err != nil {
		return w.advStoreError(err)
	}
	return w.advSuccess(t.id, d, false, nil)
}

// cbCounter builds couchbase.increment/decrement(binding, meta): the
// counter is the field count of the document, which is created as
// {"count": 0} before the first change; the result's doc is {count: n}
// after the change. A count that is not an integer, or a document that is
// not a JSON object, gives error.not_number.
func (w *Worker) cbCounter(op string, delta int64) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		t := w.advTarget(call, op, msgWriteForbidden)
		cur, err := t.st.Get(t.ks, t.id)
		var m docstore.Mutation
		var n int64
		switch {
		case errors.Is(err, docstore.ErrNotFound):
			n = delta
			m = docstore.Mutation{Op: docstore.OpInsert, Body: []byte(`{"count":` + strconv.FormatInt(n, 10) + `}`)}
		case err != nil:
			return w.advStoreError(err)
		default:
			if cur.Datatype != docstore.DatatypeJSON {
				return w.advFailure(kvNotNumber, "not_number")
			}
			body, v, ok := subdoc.Counter(cur.Body, delta)
			if !ok {
				return w.advFailure(kvNotNumber, "not_number")
			}
			n = v
			// A sub-document counter keeps the document's expiry.
			m = docstore.Mutation{Op: docstore.OpReplace, IfCAS: cur.CAS, Body: body, Expiry: cur.Expiry}
		}
		d, err := w.apply(t, m, false)
		if err != nil {
			return w.advStoreError(err)
		}
		doc := w.vm.NewObject()
		_ = doc.Set("count", n)
		return w.advSuccess(t.id, d, false, doc)
	}
}

// bucketCache is a worker's cache of couchbase.get(..., {cache: true})
// (§2.6): documents by keyspace and key, fresh for maxAge, bounded to
// maxSize bytes of keys and bodies with random ejection. Every write of the
// worker to a key invalidates it, so a handler reads its own writes.
type bucketCache struct {
	maxAge  time.Duration
	maxSize int64
	size    int64
	entries map[cacheKey]cacheEntry
	now     func() time.Time // the clock; tests replace it
}

type cacheKey struct {
	ks docstore.Keyspace
	id string
}

type cacheEntry struct {
	doc  *docstore.Document // immutable
	at   time.Time
	size int64
}

func newBucketCache(maxAge time.Duration, maxSize int64) *bucketCache {
	if maxAge <= 0 {
		maxAge = DefaultBucketCacheAge
	}
	if maxSize <= 0 {
		maxSize = DefaultBucketCacheSize
	}
	return &bucketCache{maxAge: maxAge, maxSize: maxSize, entries: make(map[cacheKey]cacheEntry), now: time.Now}
}

// get returns a fresh cached document.
func (c *bucketCache) get(ks docstore.Keyspace, id string) (*docstore.Document, bool) {
	k := cacheKey{ks, id}
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	now := c.now()
	if now.Sub(e.at) >= c.maxAge || !e.doc.Live(uint32(now.Unix())) {
		c.drop(k, e)
		return nil, false
	}
	return e.doc, true
}

// put caches d, ejecting random entries to stay within the size bound. It
// reports whether the cache overflowed (entries were ejected or d did not
// fit).
func (c *bucketCache) put(ks docstore.Keyspace, id string, d *docstore.Document) bool {
	k := cacheKey{ks, id}
	if e, ok := c.entries[k]; ok {
		c.drop(k, e)
	}
	size := int64(len(id) + len(d.Body))
	if size > c.maxSize {
		return true
	}
	overflow := false
	for k2, e := range c.entries { // map order is random: random ejection
		if c.size+size <= c.maxSize {
			break
		}
		c.drop(k2, e)
		overflow = true
	}
	c.entries[k] = cacheEntry{doc: d, at: c.now(), size: size}
	c.size += size
	return overflow
}

// invalidate forgets a key.
func (c *bucketCache) invalidate(ks docstore.Keyspace, id string) {
	if c == nil {
		return
	}
	k := cacheKey{ks, id}
	if e, ok := c.entries[k]; ok {
		c.drop(k, e)
	}
}

func (c *bucketCache) drop(k cacheKey, e cacheEntry) {
	delete(c.entries, k)
	c.size -= e.size
}
