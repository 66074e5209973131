package handler

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"eventide/docstore"
)

// wantStat checks a counter.
func (h *harness) wantStat(name string, want uint64) {
	h.t.Helper()
	if got := h.stats.Get(name); got != want {
		h.t.Errorf("%s = %d, want %d", name, got, want)
	}
}

func (h *harness) body(ks docstore.Keyspace, key string) string {
	h.t.Helper()
	d, ok := h.store.doc(ks, key)
	if !ok {
		return "<absent>"
	}
	return string(d.Body)
}

func TestAdvanced_CRUDResultsAndErrorFlags(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {};
  var g0 = couchbase.get(dst, {id: 'k1'});
  r.g0 = [g0.success, g0.error.key_not_found, g0.error.code, g0.error.name, typeof g0.error.desc, 'meta' in g0].join();
  var ins = couchbase.insert(dst, {id: 'k1'}, {a: 1});
  r.ins = [ins.success, ins.meta.id, typeof ins.meta.cas, /^[0-9]+$/.test(ins.meta.cas), 'doc' in ins, 'expiry_date' in ins.meta].join();
  var ins2 = couchbase.insert(dst, {id: 'k1'}, {a: 2});
  r.ins2 = [ins2.success, ins2.error.key_already_exists, ins2.error.name, ins2.error.code].join();
  var g1 = couchbase.get(dst, {id: 'k1'});
  r.g1 = [g1.success, JSON.stringify(g1.doc), g1.meta.datatype, g1.meta.id, g1.meta.cas === ins.meta.cas].join();
  var rep = couchbase.replace(dst, {id: 'k1', cas: '12345'}, {a: 3});
  r.repBad = [rep.success, rep.error.cas_mismatch, rep.error.name].join();
  var rep2 = couchbase.replace(dst, {id: 'k1', cas: g1.meta.cas}, {a: 4});
  r.repOK = [rep2.success, rep2.meta.cas !== g1.meta.cas].join();
  var rep3 = couchbase.replace(dst, {id: 'k1'}, {a: 5});
  r.repNoCAS = rep3.success;
  var rep4 = couchbase.replace(dst, {id: 'nope'}, {a: 1});
  r.repMissing = [rep4.success, rep4.error.key_not_found].join();
  var up = couchbase.upsert(dst, {id: 'k2', cas: '999'}, 'str');
  r.up = up.success;
  var d1 = couchbase.delete(dst, {id: 'k2', cas: '1'});
  r.delBad = [d1.success, d1.error.cas_mismatch].join();
  var d2 = couchbase.delete(dst, {id: 'k2'});
  r.delOK = [d2.success, Object.keys(d2.meta).sort().join('+')].join();
  var d3 = couchbase.delete(dst, {id: 'k2'});
  r.delMissing = [d3.success, d3.error.key_not_found].join();
  var bin = couchbase.upsert(dst, {id: 'k3'}, new Uint8Array([1, 2]).buffer);
  var gb = couchbase.get(dst, {id: 'k3'});
  r.bin = [bin.success, gb.meta.datatype, gb.doc instanceof ArrayBuffer, gb.doc.byteLength].join();
  var gs = couchbase.get(src, {id: 's'});
  r.srcRead = gs.doc.v;
  dst['r'] = r;
}`, harnessOpts{})
	h.store.put(srcKS, "s", `{"v": "from source"}`)
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("r"), map[string]any{
		"g0":         "false,true,272,LCB_KEY_ENOENT,string,false",
		"ins":        "true,k1,string,true,false,false",
		"ins2":       "false,true,LCB_KEY_EEXISTS,272",
		"g1":         `true,{"a":1},json,k1,true`,
		"repBad":     "false,true,LCB_KEY_EEXISTS",
		"repOK":      "true,true",
		"repNoCAS":   true,
		"repMissing": "false,true",
		"up":         true,
		"delBad":     "false,true",
		"delOK":      "true,cas+id",
		"delMissing": "false,true",
		"bin":        "true,binary,true,2",
		"srcRead":    "from source",
	})
	if got := h.body(dstKS, "k1"); got != `{"a":5}` {
		t.Errorf("k1 = %s, want {\"a\":5}", got)
	}
	if got := h.body(dstKS, "k2"); got != "<absent>" {
		t.Errorf("k2 = %s, want deleted", got)
	}
	h.wantStat("bkt_ops_cas_mismatch_count", 2)
	h.wantStat("bucket_op_exception_count", 0)
	h.wantStat("on_update_success", 1)
}

func TestAdvanced_Counters(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {};
  r.inc1 = couchbase.increment(dst, {id: 'c'}).doc.count;
  var inc2 = couchbase.increment(dst, {id: 'c'});
  r.inc2 = [inc2.success, inc2.doc.count, typeof inc2.meta.cas].join();
  r.dec1 = couchbase.decrement(dst, {id: 'd'}).doc.count;
  r.dec2 = couchbase.decrement(dst, {id: 'd'}).doc.count;
  r.keep = couchbase.increment(dst, {id: 'other'}).doc.count;
  r.add = couchbase.increment(dst, {id: 'nocount'}).doc.count;
  var bad = couchbase.increment(dst, {id: 'str'});
  r.bad = [bad.success, bad.error.not_number, bad.error.name].join();
  var frac = couchbase.decrement(dst, {id: 'frac'});
  r.frac = [frac.success, frac.error.not_number].join();
  var bin = couchbase.increment(dst, {id: 'bin'});
  r.bin = [bin.success, bin.error.not_number].join();
  var arr = couchbase.increment(dst, {id: 'arr'});
  r.arr = [arr.success, arr.error.not_number].join();
  dst['r'] = r;
}`, harnessOpts{})
	h.store.put(dstKS, "other", `{"x": "<y>", "count": 41, "z": [1, 2]}`)
	h.store.put(dstKS, "nocount", `{"x": 1}`)
	h.store.put(dstKS, "str", `{"count": "7"}`)
	h.store.put(dstKS, "frac", `{"count": 1.5}`)
	h.store.put(dstKS, "arr", `[1]`)
	h.store.putBinary(dstKS, "bin", []byte{1})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("r"), map[string]any{
		"inc1": 1, "inc2": "true,2,string", "dec1": -1, "dec2": -2, "keep": 42, "add": 1,
		"bad": "false,true,LCB_DELTA_BADVAL", "frac": "false,true", "bin": "false,true", "arr": "false,true",
	})
	for key, want := range map[string]string{
		"c": `{"count":2}`, "d": `{"count":-2}`, "other": `{"x":"<y>","count":42,"z":[1, 2]}`,
		"nocount": `{"x":1,"count":1}`, "str": `{"count": "7"}`,
	} {
		if got := h.body(dstKS, key); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
	h.wantStat("bucket_op_exception_count", 0)
}

func TestAdvanced_Expiry(t *testing.T) {
	const exp = 4102444800 // 2100-01-01
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {};
  var when = new Date(4102444800123);
  var ins = couchbase.insert(dst, {id: 'e', expiry_date: when}, {v: 1});
  r.ins = [ins.meta.expiry_date instanceof Date, ins.meta.expiry_date.getTime()].join();
  var g = couchbase.get(dst, {id: 'e'});
  r.get = g.meta.expiry_date.getTime();
  r.inc = couchbase.increment(dst, {id: 'e'}).success;
  var up = couchbase.upsert(dst, {id: 'u'}, {v: 2});
  r.up = 'expiry_date' in up.meta;
  var t = couchbase.touch(dst, {id: 'u', expiry_date: when});
  r.touch = [t.success, t.meta.expiry_date.getTime()].join();
  var tm = couchbase.touch(dst, {id: 'missing', expiry_date: when});
  r.touchMissing = [tm.success, tm.error.key_not_found].join();
  couchbase.upsert(dst, {id: 'cleared', expiry_date: when}, {v: 3});
  couchbase.upsert(dst, {id: 'cleared'}, {v: 4});
  dst['r'] = r;
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("r"), map[string]any{
		"ins": "true,4102444800000", "get": 4102444800000, "inc": true, "up": false,
		"touch": "true,4102444800000", "touchMissing": "false,true",
	})
	for key, want := range map[string]uint32{"e": exp, "u": exp, "cleared": 0} {
		d, ok := h.store.doc(dstKS, key)
		if !ok || d.Expiry != want {
			t.Errorf("%s: %+v, want expiry %d", key, d, want)
		}
	}
	if got := h.body(dstKS, "e"); got != `{"v":1,"count":1}` {
		t.Errorf("e = %s, want the counter added, expiry kept", got)
	}
	if got := h.body(dstKS, "u"); got != `{"v":2}` {
		t.Errorf("u = %s: touch changed the body", got)
	}
}

func TestAdvanced_ArgumentErrors(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  function cls(e) {
    if (e instanceof KVError) return 'KVError';
    if (e instanceof EventingError) return 'EventingError';
    if (e instanceof TypeError) return 'TypeError';
    return 'other:' + e;
  }
  var cases = {
    noArgs: () => couchbase.get(),
    notBinding: () => couchbase.get({}, {id: 'a'}),
    metaString: () => couchbase.get(dst, 'a'),
    emptyID: () => couchbase.get(dst, {id: ''}),
    numericID: () => couchbase.get(dst, {id: 5}),
    casNumber: () => couchbase.replace(dst, {id: 'a', cas: 5}, 1),
    casGarbage: () => couchbase.delete(dst, {id: 'a', cas: 'x1'}),
    expiryNumber: () => couchbase.insert(dst, {id: 'a', expiry_date: 5}, 1),
    expiryInvalid: () => couchbase.touch(dst, {id: 'a', expiry_date: new Date(NaN)}),
    noValue: () => couchbase.insert(dst, {id: 'a'}),
    fnValue: () => couchbase.upsert(dst, {id: 'a'}, function () {}),
    badOptions: () => couchbase.get(dst, {id: 'a'}, 5),
    badCache: () => couchbase.get(dst, {id: 'a'}, {cache: 'yes'}),
    badRecursion: () => couchbase.upsert(dst, {id: 'a'}, 1, {self_recursion: 1}),
    roInsert: () => couchbase.insert(src, {id: 'a'}, 1),
    roUpsert: () => couchbase.upsert(src, {id: 'a'}, 1),
    roReplace: () => couchbase.replace(src, {id: 'a'}, 1),
    roDelete: () => couchbase.delete(src, {id: 'a'}),
    roIncrement: () => couchbase.increment(src, {id: 'a'}),
    roDecrement: () => couchbase.decrement(src, {id: 'a'}),
    roTouch: () => couchbase.touch(src, {id: 'a'}),
  };
  var r = {};
  for (var name in cases) {
    try { cases[name](); r[name] = 'no exception'; } catch (e) { r[name] = cls(e) + ': ' + e.message; }
  }
  r.roGet = couchbase.get(src, {id: 'a'}).error.key_not_found;
  dst['r'] = r;
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	r := h.result("r")
	want := map[string]string{
		"noArgs": "EventingError", "notBinding": "TypeError", "metaString": "TypeError",
		"emptyID": "TypeError: couchbase.get: meta.id", "numericID": "TypeError", "casNumber": "TypeError: couchbase.replace: meta.cas",
		"casGarbage": "TypeError", "expiryNumber": "TypeError: couchbase.insert: meta.expiry_date", "expiryInvalid": "TypeError",
		"noValue": "EventingError: Invalid data type for value - undefined", "fnValue": "EventingError: Invalid data type for value - function",
		"badOptions": "TypeError", "badCache": "TypeError: couchbase.get: option cache", "badRecursion": "TypeError",
		"roInsert": "EventingError: " + msgWriteForbidden, "roUpsert": "EventingError: " + msgWriteForbidden,
		"roReplace": "EventingError: " + msgWriteForbidden, "roDelete": "EventingError: " + msgDeleteForbidden,
		"roIncrement": "EventingError: " + msgWriteForbidden, "roDecrement": "EventingError: " + msgWriteForbidden,
		"roTouch": "EventingError: " + msgWriteForbidden,
	}
	for name, prefix := range want {
		got, _ := r[name].(string)
		if !strings.HasPrefix(got, prefix) {
			t.Errorf("%s threw %q, want %q...", name, got, prefix)
		}
	}
	if r["roGet"] != true {
		t.Errorf("get through a read-only binding: %v", r["roGet"])
	}
	h.wantStat("bucket_op_exception_count", uint64(len(want)))
	for _, op := range h.store.ops {
		if strings.HasPrefix(op, "apply") {
			t.Errorf("a rejected call reached the store: %s", op)
		}
	}
}

func TestAdvanced_StoreFailureThrowsKVError(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {};
  for (const op of ['get', 'insert', 'upsert', 'replace', 'delete', 'increment', 'decrement', 'touch']) {
    try { couchbase[op](dst, {id: 'a'}, {v: 1}); r[op] = 'no exception'; }
    catch (e) { r[op] = (e instanceof KVError) + ':' + e.message.code + ':' + e.message.name + ':' + e.message.desc; }
  }
  log(JSON.stringify(r));
  dst.last = null;
}`, harnessOpts{})
	h.store.failWith = errors.New("disk on fire")
	err := h.handle(mutation("k", `{}`))
	logs := strings.Join(h.logMessages(), "\n")
	if n := strings.Count(logs, `true:0:LCB_ERROR:disk on fire`); n != 8 {
		t.Errorf("%d of 8 operations threw the KVError; log:\n%s", n, logs)
	}
	// The final basic write fails too, which proves the handler got there.
	var ie *InvocationError
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "disk on fire") {
		t.Fatalf("Handle = %v, want the last write's KVError", err)
	}
	h.wantStat("bucket_op_exception_count", 9)
}

func TestAdvanced_StoreFailureResult(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  try { couchbase.insert(dst, {id: 'a'}, 1); } catch (e) {
    log('caught', e instanceof KVError, e.message.code, e.message.name, e.message.desc);
  }
}`, harnessOpts{})
	h.store.failWith = errors.New("disk on fire")
	h.mustHandle(mutation("k", `{}`))
	logs := strings.Join(h.logMessages(), "\n")
	if !strings.Contains(logs, `"caught" true 0 "LCB_ERROR" "disk on fire"`) {
		t.Fatalf("app log = %s", logs)
	}
}

func TestAdvanced_Cache(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  if (doc.write === 'basic') dst['c'] = {v: 'basic'};
  if (doc.write === 'advanced') couchbase.upsert(dst, {id: 'c'}, {v: 'advanced'});
  if (doc.write === 'delete') delete dst['c'];
  var g = couchbase.get(dst, {id: 'c'}, {cache: true});
  dst['out'] = g.success ? {v: g.doc.v, dt: g.meta.datatype} : {missing: g.error.key_not_found};
  if (doc.plain) dst['plain'] = couchbase.get(dst, {id: 'c'}).doc;
}`, harnessOpts{settings: Settings{BucketCacheAge: 5 * time.Second}})
	now := time.Unix(1700000000, 0)
	h.w.cache.now = func() time.Time { return now }
	out := func() string {
		t.Helper()
		r := h.result("out")
		if r["missing"] == true {
			return "missing"
		}
		return r["v"].(string)
	}
	h.store.put(dstKS, "c", `{"v": "one"}`)
	h.mustHandle(mutation("k", `{}`))
	if got := out(); got != "one" {
		t.Fatalf("first get = %s", got)
	}
	h.wantStat("bucket_op_cache_miss_count", 1)

	h.store.put(dstKS, "c", `{"v": "two"}`) // another writer
	now = now.Add(4 * time.Second)
	h.mustHandle(mutation("k", `{"plain": true}`))
	if got := out(); got != "one" {
		t.Errorf("get within bucket_cache_age = %s, want the cached one", got)
	}
	if d, _ := h.store.doc(dstKS, "plain"); string(d.Body) != `{"v":"two"}` {
		t.Errorf("get without cache = %s, want the stored one", d.Body)
	}
	h.wantStat("bucket_op_cache_miss_count", 1)

	now = now.Add(time.Second) // 5 s: stale
	h.mustHandle(mutation("k", `{}`))
	if got := out(); got != "two" {
		t.Errorf("get after bucket_cache_age = %s, want the stored one", got)
	}
	h.wantStat("bucket_op_cache_miss_count", 2)

	for _, w := range []string{"basic", "advanced", "delete"} {
		h.mustHandle(mutation("k", `{"write": "`+w+`"}`))
		want := w
		if w == "delete" {
			want = "missing"
		}
		if got := out(); got != want {
			t.Errorf("get after the worker's own %s write = %s, want %s", w, got, want)
		}
	}
	h.wantStat("bucket_op_cache_miss_count", 5)
	h.wantStat("bucket_op_exception_count", 0)
}

func TestBucketCache_SizeBound(t *testing.T) {
	c := newBucketCache(time.Minute, 100)
	doc := func(n int) *docstore.Document { return &docstore.Document{Body: []byte(strings.Repeat("x", n))} }
	if c.put(dstKS, "a", doc(40)) || c.put(dstKS, "b", doc(40)) {
		t.Fatal("overflow reported below the bound")
	}
	if !c.put(dstKS, "c", doc(40)) {
		t.Fatal("no overflow reported above the bound")
	}
	if c.size > 100 || len(c.entries) != 2 {
		t.Fatalf("size %d with %d entries after ejection", c.size, len(c.entries))
	}
	if _, ok := c.get(dstKS, "c"); !ok {
		t.Fatal("the newest entry was ejected")
	}
	if !c.put(dstKS, "huge", doc(200)) {
		t.Fatal("an entry larger than the cache was not reported")
	}
	if _, ok := c.get(dstKS, "huge"); ok {
		t.Fatal("an entry larger than the cache was kept")
	}
	c.invalidate(dstKS, "c")
	if _, ok := c.get(dstKS, "c"); ok || c.size != 41 {
		t.Fatalf("after invalidate: size %d", c.size)
	}
}

func TestAdvanced_SelfRecursion(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  couchbase.upsert(dst, {id: 'plain'}, 1);
  couchbase.upsert(dst, {id: 'rec'}, 1, {self_recursion: true});
  couchbase.insert(dst, {id: 'rec2'}, 1, {self_recursion: true});
  couchbase.replace(dst, {id: 'rec2'}, 2, {self_recursion: false});
  couchbase.delete(dst, {id: 'plain'}, {self_recursion: true});
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	if want := []string{"rec", "rec2", "plain"}; !slices.Equal(h.store.recursed, want) {
		t.Fatalf("self-recursive writes = %v, want %v", h.store.recursed, want)
	}
}

func TestAdvanced_WildcardBinding(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = couchbase.upsert(any, {id: 'w', keyspace: {scope_name: 's1', collection_name: 'c1'}}, {via: 'wildcard'});
  var g = couchbase.get(any, {id: 'w', keyspace: {scope_name: 's1', collection_name: 'c1'}});
  var msg;
  try { couchbase.get(any, {id: 'w'}); } catch (e) { msg = (e instanceof EventingError) + ' ' + e.message; }
  dst['r'] = {ok: r.success, got: g.doc.via, msg: msg};
}`, harnessOpts{bindings: append(defaultBindings(), Binding{Alias: "any", Keyspace: docstore.Keyspace{Bucket: "dst", Scope: "*", Collection: "*"}})})
	h.mustHandle(mutation("k", `{}`))
	r := h.result("r")
	wantFields(t, r, map[string]any{"ok": true, "got": "wildcard"})
	if msg, _ := r["msg"].(string); msg != "true Inconsistent wildcard usage. scope_name should be provided in the meta object" {
		t.Errorf("get without meta.keyspace threw %q", msg)
	}
	if got := h.body(dstKS, "w"); got != `{"via":"wildcard"}` {
		t.Errorf("w = %s", got)
	}
}

func TestAdvanced_OutsideInvocation(t *testing.T) {
	p := mustCompile(t, `function OnUpdate(doc, meta) { dst['early'] = {msg: early, t: typeof couchbase.touch}; }`,
		harnessOpts{bindings: defaultBindings(), constants: []Constant{{"early", `(function () {
  try { couchbase.get(dst, {id: 'a'}); return 'no exception'; } catch (e) { return (e instanceof EventingError) + ' ' + e.message; }
})()`}}})
	w, err := NewWorker(p, Config{})
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	defer w.Close()
	st := newFakeStore()
	if err := w.Handle(t.Context(), mutation("k", `{}`), st); err != nil {
		t.Fatal(err)
	}
	d, _ := st.doc(dstKS, "early")
	if !strings.Contains(string(d.Body), `"msg":"true couchbase.get can only be used while handling an event"`) ||
		!strings.Contains(string(d.Body), `"t":"function"`) {
		t.Fatalf("early = %s", d.Body)
	}
}

func TestAdvanced_SharesCouchbaseNamespace(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  dst['r'] = {adv: typeof couchbase.get + typeof couchbase.increment, builtin: typeof couchbase.base64Encode};
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("r"), map[string]any{"adv": "functionfunction", "builtin": "function"})
}

func TestSettings_BucketCacheValidation(t *testing.T) {
	for _, s := range []Settings{{BucketCacheAge: -time.Millisecond}, {BucketCacheSize: -1}} {
		if err := s.Validate(); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidSettings", s, err)
		}
	}
	if d := DefaultSettings(); d.BucketCacheAge != time.Second || d.BucketCacheSize != 64<<20 {
		t.Errorf("defaults: age %v, size %d", d.BucketCacheAge, d.BucketCacheSize)
	}
}
