package handler

import (
	"errors"

	"github.com/dop251/goja"

	"eventide/docstore"
	"eventide/jsrt"
)

// bucketBinding backs one bucket alias: a Proxy whose traps turn property
// reads, writes, deletes and `in` tests into Store calls (§2.3):
//
//	alias[key]          → Get: parsed JSON, ArrayBuffer for binary documents;
//	                      missing → undefined (≥ 6.5.0) or KVError (6.0.0)
//	alias[key] = value  → Upsert of JSON.stringify(value), or of the bytes of
//	                      an ArrayBuffer as a binary document
//	delete alias[key]   → Delete; missing → no-op (≥ 6.5.0) or KVError (6.0.0)
//	key in alias        → whether the document exists
//
// A Proxy (not a DynamicObject) because its traps see Symbol keys, which must
// throw, and because writes reach the trap without a prior existence check.
type bucketBinding struct {
	w        *Worker
	alias    string
	ks       docstore.Keyspace
	readOnly bool
	wildcard bool
}

func (w *Worker) newBucketProxy(b Binding) *goja.Object {
	bb := &bucketBinding{
		w:        w,
		alias:    b.Alias,
		ks:       b.Keyspace,
		readOnly: b.Access == AccessRead,
		wildcard: b.Keyspace.Scope == "*" || b.Keyspace.Collection == "*",
	}
	target := w.vm.NewObject()
	proxy := w.vm.NewProxy(target, &goja.ProxyTrapConfig{
		Get:               bb.get,
		GetSym:            bb.getSym,
		Set:               bb.set,
		SetSym:            bb.setSym,
		DeleteProperty:    bb.del,
		DeletePropertySym: bb.delSym,
		Has:               bb.has,
		HasSym:            bb.hasSym,
		DefineProperty: func(*goja.Object, string, goja.PropertyDescriptor) bool {
			bb.fail("Defining properties on a bucket binding is not supported; assign to it instead")
			return false
		},
		DefinePropertySym: func(*goja.Object, *goja.Symbol, goja.PropertyDescriptor) bool {
			bb.fail("Invalid data type for key - Symbol is not supported")
			return false
		},
		PreventExtensions: func(*goja.Object) bool { return false },
		SetPrototypeOf:    func(*goja.Object, *goja.Object) bool { return false },
	})
	obj := w.vm.ToValue(proxy).ToObject(w.vm)
	if w.bindings == nil {
		w.bindings = make(map[*goja.Object]*bucketBinding)
	}
	w.bindings[obj] = bb
	return obj
}

// bindingOf returns the bucket binding behind a JavaScript value, for APIs
// that take a binding as an argument (the couchbase.* accessors).
func (w *Worker) bindingOf(v goja.Value) (*bucketBinding, bool) {
	obj, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	bb, ok := w.bindings[obj]
	return bb, ok
}

// fail counts a bucket operation exception and throws an EventingError.
func (b *bucketBinding) fail(msg string) {
	b.w.stats.inc(statBucketOpException)
	b.w.throwEventingError(msg)
}

// failKV counts a bucket operation exception and throws a KVError.
func (b *bucketBinding) failKV(f kvFailure) {
	b.w.stats.inc(statBucketOpException)
	b.w.throwKVError(f)
}

// msgWildcardMapAccess is thrown when a wildcard binding (bucket.*.* or
// bucket.scope.*) is used as a map: only the advanced accessors, given
// meta.keyspace, can tell which collection is meant.
const msgWildcardMapAccess = "Map accessor is not allowed for wild card keyspace binding. Please use advance keyspace accessor"

// store returns the invocation's store, throwing for a wildcard binding and
// outside an invocation (for example from a constant binding's initializer).
func (b *bucketBinding) store() Store {
	if b.wildcard {
		// Not counted as a bucket operation exception, as in Couchbase.
		b.w.throwEventingError(msgWildcardMapAccess)
	}
	if b.w.inv.store == nil {
		b.fail("bucket binding " + b.alias + " can only be used while handling an event")
	}
	return b.w.inv.store
}

// storeFailure turns a Store error into a thrown KVError.
func (b *bucketBinding) storeFailure(err error) {
	f := kvGeneric
	f.desc = err.Error()
	b.failKV(f)
}

func (b *bucketBinding) get(_ *goja.Object, key string, _ goja.Value) goja.Value {
	st := b.store()
	doc, err := st.Get(b.ks, key)
	switch {
	case errors.Is(err, docstore.ErrNotFound):
		if b.w.lang < lang650 {
			b.failKV(kvKeyNotFound)
		}
		return goja.Undefined()
	case err != nil:
		b.storeFailure(err)
	}
	v, err := b.w.docValue(doc.Body, doc.Datatype)
	if err != nil {
		b.fail("Unable to parse response body as JSON")
	}
	return v
}

func (b *bucketBinding) getSym(*goja.Object, *goja.Symbol, goja.Value) goja.Value {
	b.fail("Invalid data type for key - Symbol is not supported")
	return nil
}

func (b *bucketBinding) set(_ *goja.Object, key string, value goja.Value, _ goja.Value) bool {
	b.validateValue(value)
	if b.readOnly {
		b.fail("Writing to source bucket is forbidden")
	}
	st := b.store()
	body, dt := b.encodeValue(value)
	b.w.cache.invalidate(b.ks, key)
	if err := st.Upsert(b.ks, key, body, dt); err != nil {
		b.storeFailure(err)
	}
	return true
}

// validateValue rejects values that cannot be stored, as Couchbase checks
// them before anything else.
func (b *bucketBinding) validateValue(value goja.Value) {
	switch {
	case value == nil || goja.IsUndefined(value):
		b.fail("Invalid data type for value - undefined is not supported")
	case jsrt.IsSymbol(value):
		b.fail("Invalid data type for value - Symbol is not supported")
	case jsrt.IsFunction(value):
		b.fail("Invalid data type for value - function is not supported")
	}
}

// encodeValue serializes a value to store: the bytes of an ArrayBuffer as a
// binary document, anything else through JSON.stringify (which may run the
// value's toJSON).
func (b *bucketBinding) encodeValue(value goja.Value) ([]byte, docstore.Datatype) {
	// The type is checked first: Export copies a whole object graph.
	if obj, ok := value.(*goja.Object); ok && obj.ExportType() == jsrt.ArrayBufferType {
		if ab, ok := obj.Export().(goja.ArrayBuffer); ok {
			return append([]byte(nil), ab.Bytes()...), docstore.DatatypeBinary
		}
	}
	s := b.w.rt.Stringify(value)
	if goja.IsUndefined(s) {
		b.fail("Invalid data type for value - value cannot be serialized to JSON")
	}
	return []byte(s.String()), docstore.DatatypeJSON
}

func (b *bucketBinding) setSym(*goja.Object, *goja.Symbol, goja.Value, goja.Value) bool {
	b.fail("Invalid data type for key - Symbol is not supported")
	return false
}

func (b *bucketBinding) del(_ *goja.Object, key string) bool {
	if b.readOnly {
		b.fail("Delete from source bucket is forbidden")
	}
	st := b.store()
	b.w.cache.invalidate(b.ks, key)
	existed, err := st.Delete(b.ks, key)
	if err != nil && !errors.Is(err, docstore.ErrNotFound) {
		b.storeFailure(err)
	}
	if (!existed || err != nil) && b.w.lang < lang650 {
		b.failKV(kvKeyNotFound)
	}
	return true
}

// delSym rejects a Symbol key. Couchbase throws a KVError here (an
// EventingError for every other bad key or value).
func (b *bucketBinding) delSym(*goja.Object, *goja.Symbol) bool {
	b.w.stats.inc(statBucketOpException)
	b.w.throwKVErrorMessage("Invalid data type for key - Symbol is not supported")
	return false
}

func (b *bucketBinding) has(_ *goja.Object, key string) bool {
	_, err := b.store().Get(b.ks, key)
	switch {
	case errors.Is(err, docstore.ErrNotFound):
		return false
	case err != nil:
		b.storeFailure(err)
	}
	return true
}

func (b *bucketBinding) hasSym(*goja.Object, *goja.Symbol) bool {
	b.fail("Invalid data type for key - Symbol is not supported")
	return false
}
