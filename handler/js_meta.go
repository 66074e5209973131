package handler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"eventide/docstore"
	"eventide/jsrt"
)

// dispatchProgram builds the entry-point trampolines. Building meta as an
// object literal in JavaScript costs one Go→JS call per event instead of a
// guarded Object.Set per property, which dominated the per-event cost.
//
// meta (§2.2): id, cas as a decimal string, flags (always 0, as Couchbase
// 8.x sends it), vb, seq, datatype ("json", or "binary" for a binary
// mutation; "json" for deletions), expiration (unix seconds, 0 for none),
// keyspace {bucket_name, scope_name, collection_name}, and expiry_date (a
// Date of expiration*1000) when the document expires. Fresh objects per
// event: handlers may keep or change them.
var dispatchProgram = goja.MustCompile("dispatch.js", `(function (DateCtor) {
	'use strict';
	function meta(id, cas, flags, vb, seq, datatype, expiration, bucket, scope, collection) {
		const m = {id: id, cas: cas, flags: flags, vb: vb, seq: seq, datatype: datatype,
			expiration: expiration,
			keyspace: {bucket_name: bucket, scope_name: scope, collection_name: collection}};
		if (expiration !== 0) m.expiry_date = new DateCtor(expiration * 1000);
		return m;
	}
	function update(fn, doc, xattrs, id, cas, flags, vb, seq, datatype, expiration, bucket, scope, collection) {
		fn(doc, meta(id, cas, flags, vb, seq, datatype, expiration, bucket, scope, collection), xattrs);
	}
	function del(fn, expired, id, cas, flags, vb, seq, datatype, expiration, bucket, scope, collection) {
		fn(meta(id, cas, flags, vb, seq, datatype, expiration, bucket, scope, collection), {expired: expired});
	}
	return {update, del};
})`, true)

// dispatcher holds the trampolines and values reused across events.
type dispatcher struct {
	update, del               goja.Callable
	json, binary              goja.Value
	lastKS                    docstore.Keyspace
	bucket, scope, collection goja.Value
	args                      [13]goja.Value
}

func (w *Worker) installDispatch() error {
	fn, err := w.rt.RunFactory(dispatchProgram)
	if err != nil {
		return err
	}
	v, err := fn(goja.Undefined(), w.vm.Get("Date"))
	if err != nil {
		return err
	}
	obj := v.ToObject(w.vm)
	var ok bool
	if w.dp.update, ok = goja.AssertFunction(obj.Get("update")); !ok {
		return jsrt.ErrNotAFunction
	}
	if w.dp.del, ok = goja.AssertFunction(obj.Get("del")); !ok {
		return jsrt.ErrNotAFunction
	}
	w.dp.json = w.vm.ToValue("json")
	w.dp.binary = w.vm.ToValue("binary")
	return nil
}

// metaArgs fills args with meta's fields, in the trampolines' order.
func (w *Worker) metaArgs(args []goja.Value, ks docstore.Keyspace, d *docstore.Document, deletion bool) {
	vm := w.vm
	if ks != w.dp.lastKS || w.dp.bucket == nil {
		w.dp.lastKS = ks
		w.dp.bucket = vm.ToValue(ks.Bucket)
		w.dp.scope = vm.ToValue(ks.Scope)
		w.dp.collection = vm.ToValue(ks.Collection)
	}
	args[0] = vm.ToValue(d.Key)
	args[1] = vm.ToValue(strconv.FormatUint(d.CAS, 10))
	// Couchbase 8.x always sends flags 0 (7.x sent the item's flags).
	args[2] = vm.ToValue(0)
	args[3] = vm.ToValue(int64(d.VBucket))
	args[4] = vm.ToValue(int64(d.Seqno))
	if !deletion && d.Datatype == docstore.DatatypeBinary {
		args[5] = w.dp.binary
	} else {
		args[5] = w.dp.json
	}
	args[6] = vm.ToValue(int64(d.Expiry))
	args[7] = w.dp.bucket
	args[8] = w.dp.scope
	args[9] = w.dp.collection
}

// callUpdate runs OnUpdate(doc, meta, xattrs) for a mutation.
func (w *Worker) callUpdate(ks docstore.Keyspace, d *docstore.Document) error {
	doc, err := w.docValue(d.Body, d.Datatype)
	if err != nil {
		return err
	}
	a := w.dp.args[:]
	a[0] = w.onUpdateValue
	a[1] = doc
	a[2] = w.xattrsValue(d)
	w.metaArgs(a[3:], ks, d, false)
	_, err = w.dp.update(goja.Undefined(), a...)
	clear(a)
	return err
}

// callDelete runs OnDelete(meta, {expired}) for a deletion or expiration.
func (w *Worker) callDelete(ks docstore.Keyspace, d *docstore.Document, expired bool) error {
	a := w.dp.args[:12]
	a[0] = w.onDeleteValue
	a[1] = w.vm.ToValue(expired)
	w.metaArgs(a[2:], ks, d, true)
	_, err := w.dp.del(goja.Undefined(), a...)
	clear(a)
	return err
}

// docValue converts a document body: parsed JSON, or an ArrayBuffer (a copy:
// the store's documents are immutable and shared) for binary bodies.
func (w *Worker) docValue(body []byte, dt docstore.Datatype) (goja.Value, error) {
	if dt == docstore.DatatypeBinary {
		return w.vm.ToValue(w.vm.NewArrayBuffer(slices.Clone(body))), nil
	}
	v, err := w.rt.DecodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("document body is not valid JSON: %w", err)
	}
	return v, nil
}

// xattrsValue gives the user xattrs as an object (keys in sorted order), or
// null for a document without any. System xattrs ("_" prefix) are never
// exposed; a value that is not valid JSON is passed as a string.
func (w *Worker) xattrsValue(d *docstore.Document) goja.Value {
	if len(d.Xattrs) == 0 {
		return goja.Null()
	}
	keys := make([]string, 0, len(d.Xattrs))
	for k := range d.Xattrs {
		if !strings.HasPrefix(k, "_") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return goja.Null()
	}
	slices.Sort(keys)
	obj := w.vm.NewObject()
	for _, k := range keys {
		v, err := w.rt.DecodeJSON(d.Xattrs[k])
		if err != nil {
			v = w.vm.ToValue(string(d.Xattrs[k]))
		}
		_ = obj.Set(k, v) // no "_" prefix, so never "__proto__"
	}
	return obj
}
