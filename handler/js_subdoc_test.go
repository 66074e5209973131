package handler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"eventide/docstore"
)

// xattrStore is the fake store with Store.Apply's xattr contract: a write
// with Xattrs replaces the user xattrs, one without keeps them (the plain
// fake drops them), and flags are kept as given.
type xattrStore struct{ *fakeStore }

func (s xattrStore) Apply(m docstore.Mutation, selfRecursion bool) (*docstore.Document, error) {
	s.mu.Lock()
	var prev map[string]json.RawMessage
	if d := s.docs[m.Keyspace][m.Key]; d != nil {
		prev = d.Xattrs
	}
	s.mu.Unlock()
	d, err := s.fakeStore.Apply(m, selfRecursion)
	if err != nil || d.Deleted || m.Op == docstore.OpTouch {
		return d, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := s.docs[m.Keyspace][m.Key]
	stored.Xattrs = prev
	if m.Xattrs != nil {
		stored.Xattrs = m.Xattrs
	}
	stored.Flags = m.Flags
	cp := *stored
	return &cp, nil
}

// handleX handles an event against the xattr-aware store.
func (h *harness) handleX(ev docstore.Event) error {
	h.t.Helper()
	return h.w.Handle(context.Background(), ev, xattrStore{h.store})
}

func (h *harness) mustHandleX(ev docstore.Event) {
	h.t.Helper()
	if err := h.handleX(ev); err != nil {
		h.t.Fatalf("Handle(%s): %v\napp log:\n%s", ev.Doc.Key, err, strings.Join(h.logLines(), "\n"))
	}
}

// putX stores a JSON document with xattrs, expiry and flags.
func (h *harness) putX(ks docstore.Keyspace, key, body string, xattrs map[string]string, expiry uint32) *docstore.Document {
	h.t.Helper()
	h.store.put(ks, key, body)
	d, _ := h.store.doc(ks, key)
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	if xattrs != nil {
		d.Xattrs = map[string]json.RawMessage{}
		for k, v := range xattrs {
			d.Xattrs[k] = json.RawMessage(v)
		}
	}
	d.Expiry = expiry
	d.Flags = 33554432
	return d
}

func TestSubdoc_MutateInBody(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var S = couchbase.MutateInSpec;
  var before = couchbase.get(dst, {id: 'd'}, {cache: true});
  var r = couchbase.mutateIn(dst, {id: 'd'}, [
    S.insert('x', {new: true}),
    S.upsert('b.d', 'D'),
    S.replace('b.c[1]', 20),
    S.remove('z'),
    S.arrayAppend('b.c', 4),
    S.arrayPrepend('b.c', 0),
    S.arrayInsert('b.c[2]', 15),
    S.arrayAddUnique('b.c', 99),
    S.replace('b.c[-1]', 100),
    S.upsert('n.m.o', [1], {create_path: true}),
    S.arrayAppend('list', 'first', {create_path: true}),
    S.upsert('`+"`dotted.key`"+`', 1),
  ]);
  var after = couchbase.get(dst, {id: 'd'}, {cache: true});
  dst['result'] = {
    success: r.success, keys: Object.keys(r).sort().join(), metaKeys: Object.keys(r.meta).sort().join(),
    id: r.meta.id, casString: typeof r.meta.cas === 'string', casChanged: r.meta.cas !== before.meta.cas,
    casMatchesGet: r.meta.cas === after.meta.cas, cacheSeesWrite: after.doc.x !== undefined,
  };
}`, harnessOpts{})
	h.store.put(dstKS, "d", `{"a":1,"b":{"c":[1,2,3]},"z":true,"big":12345678901234567890}`)
	h.mustHandleX(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"success": true, "keys": "meta,success", "metaKeys": "cas,id", "id": "d", "casString": true,
		"casChanged": true, "casMatchesGet": true, "cacheSeesWrite": true,
	})
	// Key order and number text are kept; new keys go last.
	want := `{"a":1,"b":{"c":[0,1,15,20,3,4,100],"d":"D"},"big":12345678901234567890,` +
		`"x":{"new":true},"n":{"m":{"o":[1]}},"list":["first"],"dotted.key":1}`
	if got := h.body(dstKS, "d"); got != want {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}
	d, _ := h.store.doc(dstKS, "d")
	if d.Datatype != docstore.DatatypeJSON {
		t.Errorf("datatype = %v", d.Datatype)
	}
	h.wantStat("bucket_op_exception_count", 0)
}

func TestSubdoc_MutateInFailures(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var S = couchbase.MutateInSpec, r = {};
  function flags(res) {
    if (res.success) return 'success';
    var e = res.error;
    return [Object.keys(e).join('+'), e.code, e.name, typeof e.desc].join(' ');
  }
  r.missingDoc = flags(couchbase.mutateIn(dst, {id: 'nope'}, [S.upsert('a', 1)]));
  r.staleCas = flags(couchbase.mutateIn(dst, {id: 'd', cas: '12345'}, [S.upsert('a', 1)]));
  r.insertExisting = flags(couchbase.mutateIn(dst, {id: 'd'}, [S.insert('a', 2)]));
  r.replaceMissing = flags(couchbase.mutateIn(dst, {id: 'd'}, [S.replace('nope', 2)]));
  r.removeMissing = flags(couchbase.mutateIn(dst, {id: 'd'}, [S.remove('arr[9]')]));
  r.noCreatePath = flags(couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('p.q', 1)]));
  r.addUniqueDup = flags(couchbase.mutateIn(dst, {id: 'd'}, [S.arrayAddUnique('arr', 2.0)]));
  r.insertPastEnd = flags(couchbase.mutateIn(dst, {id: 'd'}, [S.arrayInsert('arr[5]', 1)]));
  // All or nothing: the first spec succeeds, the second fails.
  r.atomic = flags(couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('written', true), S.replace('nope', 1)]));
  var cur = couchbase.get(dst, {id: 'd'});
  r.goodCas = flags(couchbase.mutateIn(dst, {id: 'd', cas: cur.meta.cas}, [S.upsert('ok', 1)]));
  dst['result'] = r;
}`, harnessOpts{})
	h.store.put(dstKS, "d", `{"a":1,"arr":[1,2]}`)
	h.mustHandleX(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"missingDoc":     "code+name+desc+key_not_found 272 LCB_KEY_ENOENT string",
		"staleCas":       "code+name+desc+cas_mismatch 272 LCB_KEY_EEXISTS string",
		"insertExisting": "code+name+desc+field_already_exists 784 LCB_SUBDOC_PATH_EEXISTS string",
		"replaceMissing": "code+name+desc+field_not_found 784 LCB_SUBDOC_PATH_ENOENT string",
		"removeMissing":  "code+name+desc+field_not_found 784 LCB_SUBDOC_PATH_ENOENT string",
		"noCreatePath":   "code+name+desc+field_not_found 784 LCB_SUBDOC_PATH_ENOENT string",
		"addUniqueDup":   "code+name+desc+field_already_exists 784 LCB_SUBDOC_PATH_EEXISTS string",
		"insertPastEnd":  "code+name+desc+field_not_found 784 LCB_SUBDOC_PATH_ENOENT string",
		"atomic":         "code+name+desc+field_not_found 784 LCB_SUBDOC_PATH_ENOENT string",
		"goodCas":        "success",
	})
	if got := h.body(dstKS, "d"); got != `{"a":1,"arr":[1,2],"ok":1}` {
		t.Errorf("body = %s; only the conditional write should have landed", got)
	}
	h.wantStat("bkt_ops_cas_mismatch_count", 1)
	h.wantStat("bucket_op_exception_count", 0)
}

func TestSubdoc_MutateInThrows(t *testing.T) {
	cases := []struct{ name, call, want string }{
		{"path through a number", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('a.b', 1)])`,
			`KVError {"code":784,"desc":"Type of element in sub-document path conflicts with type in document","name":"LCB_SUBDOC_PATH_MISMATCH"}`},
		{"append to an object", `couchbase.mutateIn(dst, {id: 'd'}, [S.arrayAppend('o', 1)])`,
			`KVError {"code":784,"desc":"Type of element in sub-document path conflicts with type in document","name":"LCB_SUBDOC_PATH_MISMATCH"}`},
		{"add non-primitive to unique array", `couchbase.mutateIn(dst, {id: 'd'}, [S.arrayAddUnique('arr', {x: 1})])`,
			`KVError {"code":769,"desc":"Subdocument operation would invalidate the JSON","name":"LCB_SUBDOC_VALUE_CANTINSERT"}`},
		{"malformed path", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('a..b', 1)])`,
			`KVError {"code":769,"desc":"Malformed sub-document path","name":"LCB_SUBDOC_PATH_EINVAL"}`},
		{"upsert at an index", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('arr[0]', 1)])`,
			`KVError {"code":769,"desc":"Malformed sub-document path","name":"LCB_SUBDOC_PATH_EINVAL"}`},
		{"binary document", `couchbase.mutateIn(dst, {id: 'bin'}, [S.upsert('a', 1)])`,
			`KVError {"code":784,"desc":"Existing document is not valid JSON","name":"LCB_SUBDOC_DOC_NOTJSON"}`},
		{"read-only binding", `couchbase.mutateIn(src, {id: 'd'}, [S.upsert('a', 1)])`,
			`EventingError "Writing to source bucket is forbidden"`},
		{"system xattr", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('_sync.rev', 1, {xattrs: true})])`,
			`EventingError "couchbase.mutateIn: xattr path \"_sync.rev\" names a system xattr: user xattr names may not start with '_'"`},
		{"long xattr name", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('sixteen_chars_xx', 1, {xattrs: true})])`,
			`EventingError "couchbase.mutateIn: xattr name \"sixteen_chars_xx\" is longer than 15 bytes"`},
		{"undefined value", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('a', undefined)])`,
			`EventingError "Invalid data type for value - undefined is not supported"`},
		{"function value", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('a', function () {})])`,
			`EventingError "Invalid data type for value - function is not supported"`},
		{"binary value", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('a', new ArrayBuffer(1))])`,
			`TypeError "couchbase.mutateIn: a sub-document value must be JSON, not an ArrayBuffer"`},
		{"specs not an array", `couchbase.mutateIn(dst, {id: 'd'}, S.upsert('a', 1))`,
			`TypeError "couchbase.mutateIn: the third argument must be an array of couchbase.MutateInSpec objects"`},
		{"no specs", `couchbase.mutateIn(dst, {id: 'd'}, [])`,
			`TypeError "couchbase.mutateIn: between 1 and 16 specs are allowed, got 0"`},
		{"too many specs", `couchbase.mutateIn(dst, {id: 'd'}, new Array(17).fill(S.upsert('a', 1)))`,
			`TypeError "couchbase.mutateIn: between 1 and 16 specs are allowed, got 17"`},
		{"lookup spec", `couchbase.mutateIn(dst, {id: 'd'}, [couchbase.LookupInSpec.get('a')])`,
			`TypeError "couchbase.mutateIn: spec 0 is not a couchbase.MutateInSpec object"`},
		{"look-alike spec", `couchbase.mutateIn(dst, {id: 'd'}, [{spec_type: 2, path: 'a', value: 1}])`,
			`TypeError "couchbase.mutateIn: spec 0 is not a couchbase.MutateInSpec object"`},
		{"bad option", `couchbase.mutateIn(dst, {id: 'd'}, [S.upsert('a', 1, {create_path: 'yes'})])`,
			`TypeError "couchbase.mutateIn: spec option create_path must be a boolean"`},
		{"no meta id", `couchbase.mutateIn(dst, {}, [S.upsert('a', 1)])`,
			`TypeError "couchbase.mutateIn: meta.id must be a non-empty string"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, `function OnUpdate(doc, meta) {
  var S = couchbase.MutateInSpec, out;
  try { `+c.call+`; out = 'no exception'; }
  catch (e) { out = e.name + ' ' + JSON.stringify(e.message); }
  dst['result'] = {out: out};
}`, harnessOpts{})
			h.store.put(dstKS, "d", `{"a":1,"o":{},"arr":[1]}`)
			h.store.put(srcKS, "d", `{"a":1}`)
			h.store.putBinary(dstKS, "bin", []byte{1, 2})
			h.mustHandleX(mutation("k", `{}`))
			if got := h.result("result")["out"]; got != c.want {
				t.Errorf("got  %v\nwant %v", got, c.want)
			}
			if got := h.body(dstKS, "d"); got != `{"a":1,"o":{},"arr":[1]}` {
				t.Errorf("document changed: %s", got)
			}
			h.wantStat("bucket_op_exception_count", 1)
		})
	}
}

func TestSubdoc_SpecConstructors(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var S = couchbase.MutateInSpec, r = {};
  var names = ['insert', 'upsert', 'replace', 'remove', 'arrayAppend', 'arrayPrepend', 'arrayInsert', 'arrayAddUnique'];
  r.types = names.map(function (n) { return n === 'remove' ? S[n]('p').spec_type : S[n]('p', 1).spec_type; }).join();
  var u = S.upsert('a.b', {v: 1}, {create_path: true, xattrs: true});
  r.upsert = [u.path, JSON.stringify(u.value), u.options.create_path, u.options.xattrs].join();
  r.get = couchbase.LookupInSpec.get('x', {xattrs: true}).spec_type;
  for (const [name, f] of [['path', function () { S.upsert(5, 1); }], ['value', function () { S.insert('a'); }],
      ['options', function () { S.upsert('a', 1, 'x'); }], ['getPath', function () { couchbase.LookupInSpec.get(); }]]) {
    try { f(); r[name] = 'no exception'; } catch (e) { r[name] = e instanceof TypeError ? 'TypeError: ' + e.message : String(e); }
  }
  dst['result'] = r;
}`, harnessOpts{})
	h.mustHandleX(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"types": "1,2,3,4,5,6,7,8", "upsert": `a.b,{"v":1},true,true`, "get": 1,
		"path":    "TypeError: couchbase.MutateInSpec.upsert: path must be a string",
		"value":   "TypeError: couchbase.MutateInSpec.insert: a value is required",
		"options": "TypeError: couchbase.MutateInSpec.upsert: options must be an object",
		"getPath": "TypeError: couchbase.LookupInSpec.get: path must be a string",
	})
}

func TestSubdoc_Xattrs(t *testing.T) {
	// The sequence of Couchbase's user_xattr.js test, with both spellings
	// of the option, plus lookups.
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var S = couchbase.MutateInSpec, r = {}, m = {id: 'x'};
  function ok(res) { return res.success ? 'ok' : JSON.stringify(res.error); }
  r.insert = ok(couchbase.mutateIn(dst, m, [S.insert('user_xattrs', {testField: 'insert'}, {xattr: true})]));
  r.insertAgain = couchbase.mutateIn(dst, m, [S.insert('user_xattrs', {}, {xattrs: true})]).error.field_already_exists;
  r.upsert = ok(couchbase.mutateIn(dst, m, [S.upsert('user_xattrs', {testField: 'upsert'}, {xattr: true})]));
  r.replace = ok(couchbase.mutateIn(dst, m, [S.replace('user_xattrs', {testField: 'replace'}, {xattrs: true})]));
  r.arrays = ok(couchbase.mutateIn(dst, m, [
    S.upsert('user_xattrs.arrayTest', [], {create_path: true, xattrs: true}),
    S.arrayAppend('user_xattrs.arrayTest', 2, {create_path: true, xattrs: true}),
    S.arrayPrepend('user_xattrs.arrayTest', 1, {create_path: true, xattrs: true}),
    S.arrayInsert('user_xattrs.arrayTest[0]', 0, {create_path: true, xattrs: true}),
    S.arrayAddUnique('user_xattrs.arrayTest', 3, {create_path: true, xattrs: true}),
    S.upsert('other', 'o', {xattrs: true}),
    S.upsert('body_field', 'b'),
  ]));
  r.removeXattr = ok(couchbase.mutateIn(dst, m, [S.remove('gone', {xattrs: true})]));
  var L = couchbase.LookupInSpec;
  var l = couchbase.lookupIn(dst, m, [L.get('user_xattrs.arrayTest', {xattrs: true}), L.get('user_xattrs', {xattr: true}),
    L.get('missing', {xattrs: true}), L.get('body_field')]);
  r.lookup = JSON.stringify(l.doc);
  dst['result'] = r;
}`, harnessOpts{})
	h.putX(dstKS, "x", `{"v":1}`, map[string]string{"gone": `1`, "_sync": `{"rev":"1-a"}`}, 0)
	h.mustHandleX(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"insert": "ok", "insertAgain": true, "upsert": "ok", "replace": "ok", "arrays": "ok", "removeXattr": "ok",
		"lookup": `[{"value":[0,1,2,3],"success":true},{"value":{"testField":"replace","arrayTest":[0,1,2,3]},"success":true},` +
			`{"success":false},{"value":"b","success":true}]`,
	})
	d, _ := h.store.doc(dstKS, "x")
	got, _ := json.Marshal(d.Xattrs)
	if want := `{"_sync":{"rev":"1-a"},"other":"o","user_xattrs":{"testField":"replace","arrayTest":[0,1,2,3]}}`; string(got) != want {
		t.Errorf("xattrs = %s, want %s", got, want)
	}
	if string(d.Body) != `{"v":1,"body_field":"b"}` {
		t.Errorf("body = %s", d.Body)
	}
	// OnUpdate sees the user xattrs, never the system ones.
	h2 := newHarness(t, `function OnUpdate(doc, meta, xattrs) { dst['seen'] = xattrs; }`, harnessOpts{})
	ev := mutation("x", string(d.Body))
	ev.Doc.Xattrs = d.Xattrs
	h2.mustHandleX(ev)
	if got := h2.body(dstKS, "seen"); got != `{"other":"o","user_xattrs":{"testField":"replace","arrayTest":[0,1,2,3]}}` {
		t.Errorf("OnUpdate xattrs = %s", got)
	}
}

func TestSubdoc_XattrOnlyKeepsBodyAndExpiry(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var S = couchbase.MutateInSpec;
  couchbase.mutateIn(dst, {id: 'keep'}, [S.upsert('tag', 'x', {xattrs: true})]);
  couchbase.mutateIn(dst, {id: 'bin'}, [S.upsert('tag', 'y', {xattrs: true})]);
  couchbase.mutateIn(dst, {id: 'exp'}, [S.upsert('a', 2)]);
  couchbase.mutateIn(dst, {id: 'newexp', expiry_date: new Date(2000000000 * 1000)}, [S.upsert('a', 2)]);
}`, harnessOpts{})
	keep := h.putX(dstKS, "keep", `{ "spaced" : 1 }`, nil, 0)
	h.store.putBinary(dstKS, "bin", []byte{9})
	h.putX(dstKS, "exp", `{"a":1}`, nil, 1900000000)
	h.putX(dstKS, "newexp", `{"a":1}`, nil, 1900000000)
	h.mustHandleX(mutation("k", `{}`))
	d, _ := h.store.doc(dstKS, "keep")
	if string(d.Body) != `{ "spaced" : 1 }` || string(d.Xattrs["tag"]) != `"x"` || d.Flags != keep.Flags {
		t.Errorf("keep = %s %s flags %d: an xattr-only mutation must keep the body bytes and flags", d.Body, d.Xattrs, d.Flags)
	}
	d, _ = h.store.doc(dstKS, "bin")
	if d.Datatype != docstore.DatatypeBinary || string(d.Body) != "\x09" || string(d.Xattrs["tag"]) != `"y"` {
		t.Errorf("binary document = %+v", d)
	}
	if d, _ := h.store.doc(dstKS, "exp"); d.Expiry != 1900000000 {
		t.Errorf("expiry = %d, want the document's own", d.Expiry)
	}
	if d, _ := h.store.doc(dstKS, "newexp"); d.Expiry != 2000000000 {
		t.Errorf("expiry = %d, want meta.expiry_date's", d.Expiry)
	}
}

func TestSubdoc_LookupIn(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var L = couchbase.LookupInSpec, r = {};
  var res = couchbase.lookupIn(src, {id: 'd'}, [L.get('a'), L.get('b.c[1]'), L.get('b.c[-1]'), L.get('missing'),
    L.get('b.c[7]'), L.get('a.deeper'), L.get(''), L.get('`+"`odd.key`"+`')]);
  r.success = res.success;
  r.keys = Object.keys(res).sort().join();
  r.meta = [res.meta.id, typeof res.meta.cas, res.meta.datatype, res.meta.expiry_date instanceof Date].join();
  r.isArray = Array.isArray(res.doc);
  r.values = res.doc.map(function (e) { return e.success ? JSON.stringify(e.value) : 'undefined:' + (e.value === undefined) + ':' + ('value' in e); }).join(' | ');
  var missing = couchbase.lookupIn(src, {id: 'nope'}, [L.get('a')]);
  r.missing = [missing.success, missing.error.key_not_found, missing.error.name].join();
  var bin = couchbase.lookupIn(dst, {id: 'bin'}, [L.get('a')]);
  r.bin = [bin.success, bin.meta.datatype, bin.doc[0].success].join();
  try { couchbase.lookupIn(src, {id: 'd'}, [couchbase.MutateInSpec.upsert('a', 1)]); r.wrongSpec = 'no exception'; }
  catch (e) { r.wrongSpec = e.name + ': ' + e.message; }
  try { couchbase.lookupIn(src, {id: 'd'}, [L.get('a[')]); r.badPath = 'no exception'; }
  catch (e) { r.badPath = e.name + ': ' + e.message.name; }
  dst['result'] = r;
}`, harnessOpts{})
	h.putX(srcKS, "d", `{"a":1,"b":{"c":[10,20,30]},"odd.key":"o"}`, nil, 1900000000)
	h.store.putBinary(dstKS, "bin", []byte{1})
	h.mustHandleX(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"success": true, "keys": "doc,meta,success", "meta": "d,string,json,true", "isArray": true,
		"values": `1 | 20 | 30 | undefined:true:true | undefined:true:true | undefined:true:true | ` +
			`{"a":1,"b":{"c":[10,20,30]},"odd.key":"o"} | "o"`,
		"missing":   "false,true,LCB_KEY_ENOENT",
		"bin":       "true,binary,false",
		"wrongSpec": "TypeError: couchbase.lookupIn: spec 0 is not a couchbase.LookupInSpec object",
		"badPath":   "KVError: LCB_SUBDOC_PATH_EINVAL",
	})
	h.wantStat("bucket_op_exception_count", 2)
}

func TestSubdoc_WildcardBindings(t *testing.T) {
	bindings := append(defaultBindings(),
		Binding{Alias: "all", Keyspace: docstore.Keyspace{Bucket: "dst", Scope: "*", Collection: "*"}},
		Binding{Alias: "scoped", Keyspace: docstore.Keyspace{Bucket: "dst", Scope: "s1", Collection: "*"}, Access: AccessRead},
	)
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var S = couchbase.MutateInSpec, L = couchbase.LookupInSpec, r = {};
  var ks = {scope_name: 's1', collection_name: 'c1'};
  r.mutate = couchbase.mutateIn(all, {id: 'w', keyspace: ks}, [S.upsert('via', 'wildcard')]).success;
  // A binding's own scope wins; only its "*" collection comes from meta.
  r.lookup = couchbase.lookupIn(scoped, {id: 'w', keyspace: {scope_name: 'ignored', collection_name: 'c1'}}, [L.get('via')]).doc[0].value;
  r.get = couchbase.get(scoped, {id: 'w', keyspace: {collection_name: 'c1'}}).doc.via;
  for (const [name, f] of [
      ['noScope', function () { couchbase.mutateIn(all, {id: 'w', keyspace: {collection_name: 'c1'}}, [S.upsert('a', 1)]); }],
      ['noCollection', function () { couchbase.lookupIn(scoped, {id: 'w'}, [L.get('a')]); }],
      ['mapGet', function () { return all['w']; }],
      ['mapSet', function () { all['w'] = 1; }],
      ['mapDelete', function () { delete all['w']; }],
      ['scopedMapGet', function () { return scoped['w']; }],
      ['scopedMapDelete', function () { delete scoped['w']; }]]) {
    try { f(); r[name] = 'no exception'; } catch (e) { r[name] = e.name + ': ' + e.message; }
  }
  r.details = JSON.stringify([couchbase.bindingDetails(all), couchbase.bindingDetails(scoped, {id: 'w', keyspace: ks}),
    couchbase.bindingDetails(dst, {id: 'w', keyspace: {scope_name: 'x'}})]);
  try { couchbase.bindingDetails({}); r.detailsBad = 'no exception'; } catch (e) { r.detailsBad = e.name + ': ' + e.message; }
  dst['result'] = r;
}`, harnessOpts{bindings: bindings})
	h.store.put(dstKS, "w", `{}`)
	h.mustHandleX(mutation("k", `{}`))
	const wildcard = "EventingError: Map accessor is not allowed for wild card keyspace binding. Please use advance keyspace accessor"
	wantFields(t, h.result("result"), map[string]any{
		"mutate": true, "lookup": "wildcard", "get": "wildcard",
		"noScope":      "EventingError: Inconsistent wildcard usage. scope_name should be provided in the meta object",
		"noCollection": "EventingError: Inconsistent wildcard usage. collection_name should be provided in the meta object",
		"mapGet":       wildcard, "mapSet": wildcard, "mapDelete": wildcard, "scopedMapGet": wildcard,
		// A read-only binding refuses the write before looking at the keyspace.
		"scopedMapDelete": "EventingError: Delete from source bucket is forbidden",
		"details": `[{"access":"rw","keyspace":{"bucket_name":"dst","scope_name":"*","collection_name":"*"}},` +
			`{"access":"r","keyspace":{"bucket_name":"dst","scope_name":"s1","collection_name":"c1"}},` +
			`{"access":"rw","keyspace":{"bucket_name":"dst","scope_name":"s1","collection_name":"c1"}}]`,
		"detailsBad": "TypeError: couchbase.bindingDetails: the first argument must be a bucket binding",
	})
	if got := h.body(dstKS, "w"); got != `{"via":"wildcard"}` {
		t.Errorf("w = %s", got)
	}
	// The wildcard's own errors count (as Couchbase counts them); the map
	// accessor's refusal does not, the read-only refusal does.
	h.wantStat("bucket_op_exception_count", 3)
}

func TestSubdoc_StoreFailure(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {};
  try { couchbase.mutateIn(dst, {id: 'a'}, [couchbase.MutateInSpec.upsert('x', 1)]); } catch (e) { r.m = e.name + ' ' + e.message.desc; }
  try { couchbase.lookupIn(dst, {id: 'a'}, [couchbase.LookupInSpec.get('x')]); } catch (e) { r.l = e.name + ' ' + e.message.desc; }
  log(JSON.stringify(r));
}`, harnessOpts{})
	h.store.failWith = errors.New("disk on fire")
	h.mustHandleX(mutation("k", `{}`))
	if msgs := h.logMessages(); len(msgs) != 1 || msgs[0] != `[INFO] "{\"m\":\"KVError disk on fire\",\"l\":\"KVError disk on fire\"}" ` {
		t.Errorf("log = %q", msgs)
	}
}

func TestSubdoc_DeepDocumentThrows(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  try { couchbase.lookupIn(dst, {id: 'deep'}, [couchbase.LookupInSpec.get('a')]); dst['result'] = {out: 'none'}; }
  catch (e) { dst['result'] = {out: e.name + ' ' + e.message.name}; }
}`, harnessOpts{})
	h.store.put(dstKS, "deep", `{"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`)
	h.mustHandleX(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{"out": "KVError LCB_SUBDOC_DOC_E2DEEP"})
}

func TestSubdoc_UnparsedXattrsKept(t *testing.T) {
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var L = couchbase.LookupInSpec, r = {};
  r.write = couchbase.mutateIn(dst, {id: 'x'}, [couchbase.MutateInSpec.upsert('other', 1, {xattrs: true})]).success;
  r.raw = couchbase.lookupIn(dst, {id: 'x'}, [L.get('raw', {xattrs: true})]).doc[0].value;
  try { couchbase.lookupIn(dst, {id: 'x'}, [L.get('deep', {xattrs: true})]); r.deep = 'no exception'; }
  catch (e) { r.deep = e.message.name; }
  dst['result'] = r;
}`, harnessOpts{})
	h.putX(dstKS, "x", `{}`, map[string]string{"raw": "not json", "deep": deep}, 0)
	h.mustHandleX(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{"write": true, "raw": "not json", "deep": "LCB_SUBDOC_DOC_E2DEEP"})
	d, _ := h.store.doc(dstKS, "x")
	if string(d.Xattrs["raw"]) != "not json" || string(d.Xattrs["deep"]) != deep || string(d.Xattrs["other"]) != "1" {
		t.Errorf("xattrs = %s", d.Xattrs)
	}
}
