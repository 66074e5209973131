package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/docstore"
)

// result reads the JSON document the handler stored under key in dst.
func (h *harness) result(key string) map[string]any {
	h.t.Helper()
	d, ok := h.store.doc(dstKS, key)
	if !ok {
		h.t.Fatalf("handler stored no %q; app log:\n%s", key, strings.Join(h.logLines(), "\n"))
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(d.Body)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		h.t.Fatalf("stored %q is not a JSON object: %s", key, d.Body)
	}
	return m
}

func wantFields(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v (%T), want %v", k, got[k], got[k], v)
		}
	}
}

var langs = []string{Lang600, Lang650, Lang662, Lang720}

func TestWorker_BucketRead(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  var r = {};
  var j = dst['json'];
  r.json = j.a + j.b.length;
  var b = dst['bin'];
  r.binIsBuffer = b instanceof ArrayBuffer;
  r.binBytes = Array.from(new Uint8Array(b)).join(',');
  r.srcRead = src['s1'].v;
  r.hasJSON = 'json' in dst;
  r.hasMissing = 'missing' in dst;
  try {
    r.missingType = typeof dst['missing'];
  } catch (e) {
    r.missingThrew = e instanceof KVError && e instanceof Error;
    r.missingCode = e.message.code;
    r.missingName = e.message.name;
    r.missingDesc = e.message.desc;
  }
  dst['result'] = r;
}`
	for _, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, code, harnessOpts{settings: Settings{LanguageCompatibility: lang}})
			h.store.put(dstKS, "json", `{"a": 40, "b": [1, 2]}`)
			h.store.putBinary(dstKS, "bin", []byte{0, 1, 255})
			h.store.put(srcKS, "s1", `{"v": "source"}`)
			h.mustHandle(mutation("k", `{}`))
			r := h.result("result")
			wantFields(t, r, map[string]any{"json": 42, "binIsBuffer": true, "binBytes": "0,1,255",
				"srcRead": "source", "hasJSON": true, "hasMissing": false})
			exc := h.stats.Get("bucket_op_exception_count")
			if lang == Lang600 {
				wantFields(t, r, map[string]any{"missingThrew": true, "missingCode": 272, "missingName": "LCB_KEY_ENOENT",
					"missingDesc": "The document key does not exist on the server"})
				if exc != 1 {
					t.Errorf("bucket_op_exception_count = %d, want 1", exc)
				}
			} else {
				wantFields(t, r, map[string]any{"missingType": "undefined"})
				if exc != 0 {
					t.Errorf("bucket_op_exception_count = %d, want 0", exc)
				}
			}
		})
	}
}

func TestWorker_BucketWrite(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  dst['obj'] = {n: 1, s: 'x', nested: {arr: [1, null, true]}};
  dst['str'] = 'plain';
  dst['num'] = 3.5;
  dst['nul'] = null;
  dst['date'] = new Date(0);
  var view = new Uint8Array([7, 8, 9]);
  dst['bin'] = view.buffer;
  var chained = (dst['chain'] = 5);
  dst['chainResult'] = {v: chained};
  dst[42] = 'numeric key';
  dst.dotted = {via: 'dot'};
  dst['obj'] = {n: 2};
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	want := map[string]string{
		"obj": `{"n":2}`, "str": `"plain"`, "num": `3.5`, "nul": `null`, "date": `"1970-01-01T00:00:00.000Z"`,
		"chainResult": `{"v":5}`, "42": `"numeric key"`, "dotted": `{"via":"dot"}`,
	}
	for k, v := range want {
		d, ok := h.store.doc(dstKS, k)
		if !ok || string(d.Body) != v || d.Datatype != docstore.DatatypeJSON {
			t.Errorf("%s = %+v, want JSON %s", k, d, v)
		}
	}
	if d, ok := h.store.doc(dstKS, "bin"); !ok || d.Datatype != docstore.DatatypeBinary || string(d.Body) != "\x07\x08\x09" {
		t.Errorf("bin = %+v, want binary 07 08 09", d)
	}
	if n := h.stats.Get("on_update_success"); n != 1 {
		t.Errorf("on_update_success = %d", n)
	}
}

func TestWorker_BucketInvalidTypesThrow(t *testing.T) {
	cases := []struct{ name, stmt, want string }{
		{"undefined value", "dst['k'] = undefined", "Invalid data type for value - undefined"},
		{"function value", "dst['k'] = function () {}", "Invalid data type for value - function"},
		{"symbol value", "dst['k'] = Symbol('s')", "Invalid data type for value - Symbol"},
		{"symbol key get", "var x = dst[Symbol('s')]", "Invalid data type for key - Symbol"},
		{"symbol key set", "dst[Symbol('s')] = 1", "Invalid data type for key - Symbol"},
		{"symbol key in", "var x = Symbol('s') in dst", "Invalid data type for key - Symbol"},
		{"toJSON undefined", "dst['k'] = {toJSON: function () { return undefined; }}", "cannot be serialized"},
		{"define property", "Object.defineProperty(dst, 'k', {value: 1})", "not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, `function OnUpdate(doc, meta) {
  try {
    `+c.stmt+`;
    dst['result'] = {threw: false};
  } catch (e) {
    dst['result'] = {threw: true, eventing: e instanceof EventingError, msg: e.message};
  }
}`, harnessOpts{})
			h.mustHandle(mutation("k0", `{}`))
			r := h.result("result")
			if r["threw"] != true || r["eventing"] != true || !strings.Contains(fmt.Sprint(r["msg"]), c.want) {
				t.Errorf("result = %v, want EventingError containing %q", r, c.want)
			}
			if _, stored := h.store.doc(dstKS, "k"); stored {
				t.Error("invalid value was stored")
			}
			if n := h.stats.Get("bucket_op_exception_count"); n != 1 {
				t.Errorf("bucket_op_exception_count = %d, want 1", n)
			}
		})
	}
}

func TestWorker_BucketDelete(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  var r = {};
  r.deleted = delete dst['there'];
  try {
    delete dst['missing'];
    r.missing = 'no-op';
  } catch (e) {
    r.missing = e instanceof KVError ? 'KVError ' + e.message.name : String(e);
  }
  dst['result'] = r;
}`
	for _, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, code, harnessOpts{settings: Settings{LanguageCompatibility: lang}})
			h.store.put(dstKS, "there", `1`)
			h.mustHandle(mutation("k", `{}`))
			r := h.result("result")
			if _, still := h.store.doc(dstKS, "there"); still || r["deleted"] != true {
				t.Errorf("delete of an existing doc: result %v, still stored %v", r, still)
			}
			want := "no-op"
			if lang == Lang600 {
				want = "KVError LCB_KEY_ENOENT"
			}
			if r["missing"] != want {
				t.Errorf("delete of a missing doc = %v, want %v", r["missing"], want)
			}
		})
	}
}

func TestWorker_ReadOnlyBinding(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {read: src['s'].v};
  try { src['s'] = {v: 2}; } catch (e) { r.write = e.name + ': ' + e.message; r.writeIsEventing = e instanceof EventingError; }
  try { delete src['s']; } catch (e) { r.del = e.name + ': ' + e.message; }
  dst['result'] = r;
}`, harnessOpts{})
	h.store.put(srcKS, "s", `{"v": 1}`)
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"read":            1,
		"write":           "EventingError: Writing to source bucket is forbidden",
		"writeIsEventing": true,
		"del":             "EventingError: Delete from source bucket is forbidden",
	})
	if d, _ := h.store.doc(srcKS, "s"); string(d.Body) != `{"v": 1}` {
		t.Errorf("read-only doc changed: %s", d.Body)
	}
	if n := h.stats.Get("bucket_op_exception_count"); n != 2 {
		t.Errorf("bucket_op_exception_count = %d, want 2", n)
	}
}

func TestWorker_StoreFailureThrowsKVError(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  try { var x = dst['a']; } catch (e) { log(e instanceof KVError, e.message.desc); throw e; }
}`, harnessOpts{})
	h.store.failWith = errors.New("disk on fire")
	err := h.handle(mutation("k", `{}`))
	if !errors.Is(err, ErrException) {
		t.Fatalf("Handle = %v, want ErrException", err)
	}
	msgs := h.logMessages()
	if len(msgs) == 0 || msgs[0] != `[INFO] true "disk on fire" ` {
		t.Errorf("log = %q", msgs)
	}
}

func TestWorker_BucketUseOutsideInvocation(t *testing.T) {
	p := mustCompile(t, `function OnUpdate(doc, meta) {}`, harnessOpts{
		constants: []Constant{{"early", "dst['x']"}}, bindings: defaultBindings()})
	_, err := NewWorker(p, Config{})
	var ie *InvocationError
	if !errors.As(err, &ie) || ie.Entry != "init" || !errors.Is(err, ErrException) ||
		!strings.Contains(ie.Message, "can only be used while handling an event") {
		t.Errorf("NewWorker = %v, want init exception about bucket use", err)
	}
}

func TestWorker_WildcardBindingRejectsMapAccess(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  try { var x = any['k']; } catch (e) { dst['result'] = {msg: e.message}; }
}`, harnessOpts{bindings: []Binding{
		{Alias: "dst", Keyspace: dstKS},
		{Alias: "any", Keyspace: docstore.Keyspace{Bucket: "b", Scope: "*", Collection: "*"}},
	}})
	h.mustHandle(mutation("k", `{}`))
	if msg := h.result("result")["msg"]; !strings.Contains(fmt.Sprint(msg), "wild card keyspace") {
		t.Errorf("msg = %v", msg)
	}
}

func TestWorker_Meta(t *testing.T) {
	code := `function OnUpdate(doc, meta, xattrs) {
  dst['result'] = {
    keys: Object.keys(meta).join(','),
    id: meta.id, cas: meta.cas, casType: typeof meta.cas,
    flags: meta.flags, vb: meta.vb, vbType: typeof meta.vb, seq: meta.seq,
    datatype: meta.datatype, expiration: meta.expiration,
    ks: meta.keyspace.bucket_name + '/' + meta.keyspace.scope_name + '/' + meta.keyspace.collection_name,
    hasExpiryDate: 'expiry_date' in meta,
    expiryIsDate: meta.expiry_date instanceof Date,
    expiryMatches: meta.expiry_date ? meta.expiry_date.getTime() === meta.expiration * 1000 : null,
    docType: doc instanceof ArrayBuffer ? 'ArrayBuffer' : typeof doc,
    xattrs: xattrs,
  };
}`
	h := newHarness(t, code, harnessOpts{settings: Settings{LanguageCompatibility: Lang662}})
	ev := mutation("doc-1", `{"x": 1}`)
	ev.Keyspace = docstore.Keyspace{Bucket: "travel", Scope: "inventory", Collection: "hotel"}
	ev.Doc.CAS = 1700000000123456789 // beyond 2^53: must stay exact as a string
	ev.Doc.Flags = 33554432
	ev.Doc.VBucket = 1023
	ev.Doc.Seqno = 99
	h.mustHandle(ev)
	wantFields(t, h.result("result"), map[string]any{
		"keys": "id,cas,flags,vb,seq,datatype,expiration,keyspace",
		"id":   "doc-1", "cas": "1700000000123456789", "casType": "string",
		"flags": 0, "vb": 1023, "vbType": "number", "seq": 99, // 8.x always sends flags 0
		"datatype": "json", "expiration": 0, "ks": "travel/inventory/hotel",
		"hasExpiryDate": false, "expiryIsDate": false, "docType": "object", "xattrs": nil,
	})

	exp := mutation("doc-2", "\x00\x01")
	exp.Doc.Datatype = docstore.DatatypeBinary
	exp.Doc.Expiry = 1893456000
	h.mustHandle(exp)
	wantFields(t, h.result("result"), map[string]any{
		"datatype": "binary", "expiration": 1893456000, "hasExpiryDate": true, "expiryIsDate": true,
		"expiryMatches": true, "docType": "ArrayBuffer",
	})
}

func TestWorker_BinaryDocumentsByLanguage(t *testing.T) {
	for _, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, `function OnUpdate(doc, meta) {
  dst['result'] = {len: doc.byteLength, first: new Uint8Array(doc)[0]};
}`, harnessOpts{settings: Settings{LanguageCompatibility: lang}})
			ev := mutation("bin", "\x09\x08")
			ev.Doc.Datatype = docstore.DatatypeBinary
			h.mustHandle(ev)
			_, invoked := h.store.doc(dstKS, "result")
			filtered := h.stats.Get("filtered_dcp_mutation_counter")
			if lang == Lang600 || lang == Lang650 {
				if invoked || filtered != 1 {
					t.Errorf("invoked %v, filtered %d; want skipped and counted", invoked, filtered)
				}
			} else {
				if !invoked || filtered != 0 {
					t.Fatalf("invoked %v, filtered %d; want delivered", invoked, filtered)
				}
				wantFields(t, h.result("result"), map[string]any{"len": 2, "first": 9})
			}
			if n := h.stats.Get("dcp_mutation_msg_counter"); n != 1 {
				t.Errorf("dcp_mutation_msg_counter = %d, want 1", n)
			}
		})
	}
}

func TestWorker_DocumentIsNotShared(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) { new Uint8Array(doc)[0] = 0xff; }`,
		harnessOpts{settings: Settings{LanguageCompatibility: Lang720}})
	ev := mutation("bin", "\x01")
	ev.Doc.Datatype = docstore.DatatypeBinary
	h.mustHandle(ev)
	if ev.Doc.Body[0] != 1 {
		t.Error("the handler changed the stream's document body")
	}
}

func TestWorker_Xattrs(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta, xattrs) {
  dst['result_' + meta.id] = {isNull: xattrs === null, x: xattrs};
}`, harnessOpts{})
	none := mutation("none", `{}`)
	user := mutation("user", `{}`)
	user.Doc.Xattrs = map[string]json.RawMessage{"test_xattr": json.RawMessage(`{"a":1}`), "_sync": json.RawMessage(`{"rev":"1-a"}`),
		"__proto__": json.RawMessage(`{"polluted":true}`), "raw": json.RawMessage(`not json`)}
	sysOnly := mutation("sys", `{}`)
	sysOnly.Doc.Xattrs = map[string]json.RawMessage{"_eventing": json.RawMessage(`{}`)}
	for _, ev := range []docstore.Event{none, user, sysOnly} {
		h.mustHandle(ev)
	}
	if r := h.result("result_none"); r["isNull"] != true {
		t.Errorf("no xattrs: %v, want null", r)
	}
	if r := h.result("result_sys"); r["isNull"] != true {
		t.Errorf("system xattrs only: %v, want null", r)
	}
	r := h.result("result_user")
	// "_"-prefixed names (system xattrs, "__proto__" included) stay hidden.
	if got, _ := json.Marshal(r["x"]); string(got) != `{"raw":"not json","test_xattr":{"a":1}}` {
		t.Errorf("user xattrs = %s", got)
	}
}

func TestWorker_OnDelete(t *testing.T) {
	h := newHarness(t, `function OnDelete(meta, options) {
  dst['result_' + meta.id] = {expired: options.expired, optionKeys: Object.keys(options).join(','),
    datatype: meta.datatype, cas: meta.cas, seq: meta.seq};
}`, harnessOpts{})
	del := docstore.Event{Kind: docstore.EventDeletion, Keyspace: srcKS, Doc: &docstore.Document{Key: "d", CAS: 7, Seqno: 3, Deleted: true, Datatype: docstore.DatatypeBinary}}
	exp := docstore.Event{Kind: docstore.EventExpiration, Keyspace: srcKS, Doc: &docstore.Document{Key: "e", Deleted: true}}
	expFlag := docstore.Event{Kind: docstore.EventDeletion, Keyspace: srcKS, Doc: &docstore.Document{Key: "f", Deleted: true, Expired: true}}
	for _, ev := range []docstore.Event{del, exp, expFlag} {
		h.mustHandle(ev)
	}
	wantFields(t, h.result("result_d"), map[string]any{"expired": false, "optionKeys": "expired", "datatype": "json", "cas": "7", "seq": 3})
	wantFields(t, h.result("result_e"), map[string]any{"expired": true})
	wantFields(t, h.result("result_f"), map[string]any{"expired": true})
	if n := h.stats.Get("on_delete_success"); n != 3 {
		t.Errorf("on_delete_success = %d", n)
	}
	if n := h.stats.Get("dcp_delete_msg_counter"); n != 3 {
		t.Errorf("dcp_delete_msg_counter = %d", n)
	}
	// No OnUpdate: mutations are counted but nothing runs.
	h.mustHandle(mutation("m", `{}`))
	if n := h.stats.Get("dcp_mutation_msg_counter"); n != 1 || h.stats.Get("on_update_success") != 0 {
		t.Errorf("mutation without OnUpdate: stats %v", h.stats.Snapshot())
	}
}

func TestWorker_Suppression(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) { dst[meta.id] = 1; }
function OnDelete(meta) { dst[meta.id] = 2; }`, harnessOpts{fiid: "fn-123"})
	own := mutation("own", `{}`)
	own.Doc.Origin = "fn-123"
	other := mutation("other", `{}`)
	other.Doc.Origin = "fn-999"
	ownDel := docstore.Event{Kind: docstore.EventDeletion, Keyspace: srcKS, Doc: &docstore.Document{Key: "ownDel", Origin: "fn-123"}}
	for _, ev := range []docstore.Event{own, other, ownDel} {
		h.mustHandle(ev)
	}
	if _, ok := h.store.doc(dstKS, "own"); ok {
		t.Error("own mutation was handled")
	}
	if _, ok := h.store.doc(dstKS, "ownDel"); ok {
		t.Error("own deletion was handled")
	}
	if _, ok := h.store.doc(dstKS, "other"); !ok {
		t.Error("another writer's mutation was not handled")
	}
	if h.stats.Get("dcp_mutation_suppressed_counter") != 1 || h.stats.Get("dcp_deletion_suppressed_counter") != 1 {
		t.Errorf("suppression counters: %v", h.stats.Snapshot())
	}
}

// recordHandler is a slog.Handler that keeps records.
type recordHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordHandler) find(msg string) (map[string]string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if r.Message == msg {
			attrs := map[string]string{}
			r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			return attrs, true
		}
	}
	return nil, false
}

func TestWorker_UncaughtException(t *testing.T) {
	code := "function OnUpdate(doc, meta) {\n  helper(doc);\n}\nfunction helper(doc) {\n  if (doc.fail) {\n    throw new Error('boom ' + doc.fail);\n  }\n}\nfunction OnDelete(meta) {\n  null.x;\n}"
	for _, s := range []Settings{{}, {HandlerHeaders: []string{"'use strict';", "var headerA = 1;", "var headerB = 2;"}}} {
		t.Run(fmt.Sprint(len(s.HandlerHeaders)), func(t *testing.T) {
			p := mustCompile(t, code, harnessOpts{settings: s, constants: []Constant{{"k", "1"}}})
			dir := t.TempDir()
			al, err := OpenAppLog(dir, "fn", 1<<20, 2)
			if err != nil {
				t.Fatal(err)
			}
			defer al.Close()
			rec := &recordHandler{}
			stats := NewStats()
			w, err := NewWorker(p, Config{FunctionName: "fn", AppLog: al, Stats: stats, Logger: slog.New(rec)})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			st := newFakeStore()

			err = w.Handle(context.Background(), mutation("k1", `{"fail": 7}`), st)
			var ie *InvocationError
			if !errors.As(err, &ie) || !errors.Is(err, ErrException) {
				t.Fatalf("Handle = %v, want an exception", err)
			}
			if ie.Entry != "OnUpdate" || ie.Key != "k1" || ie.Message != "Error: boom 7" || ie.Line != 6 || ie.Column != 11 {
				t.Errorf("exception = %+v, want OnUpdate k1 'Error: boom 7' at 6:11", ie)
			}
			if !strings.Contains(ie.Stack, "at helper (handler.js:6:11)") || !strings.Contains(ie.Stack, "at OnUpdate (handler.js:2:9)") {
				t.Errorf("stack = %q", ie.Stack)
			}
			if err := w.Handle(context.Background(), mutation("k2", `{}`), st); err != nil {
				t.Errorf("next event: %v", err)
			}
			err = w.Handle(context.Background(), docstore.Event{Kind: docstore.EventDeletion, Keyspace: srcKS, Doc: &docstore.Document{Key: "k3"}}, st)
			if !errors.As(err, &ie) || ie.Line != 10 || !strings.HasPrefix(ie.Message, "TypeError: ") {
				t.Errorf("OnDelete = %+v, want a TypeError at line 10", err)
			}

			snap := stats.Snapshot()
			if snap["on_update_failure"] != 1 || snap["on_update_success"] != 1 || snap["on_delete_failure"] != 1 {
				t.Errorf("stats = %v", snap)
			}
			data, err := al.Tail(1 << 20)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(data, "\n")
			if len(lines) != 2 || !strings.Contains(lines[1], `[ERROR] OnUpdate (key "k1"): uncaught exception at line 6, column 11: Error: boom 7`) {
				t.Errorf("app log = %q", lines)
			}
			attrs, ok := rec.find("handler invocation failed")
			if !ok || attrs["line"] != "6" || attrs["message"] != "Error: boom 7" || attrs["entry"] != "OnUpdate" {
				t.Errorf("system log attrs = %v", attrs)
			}
		})
	}
}

func TestWorker_ThrownNonErrors(t *testing.T) {
	cases := []struct{ stmt, want string }{
		{`throw 'plain string'`, "plain string"},
		{`throw {code: 5}`, `{"code":5}`},
		{`throw new KVError({code: 1, name: 'LCB_X', desc: 'oops'})`, `KVError: {"code":1,"name":"LCB_X","desc":"oops"}`},
		{`throw new EventingError('bad')`, "EventingError: bad"},
		{`throw {toString: function () { throw 1; }, toJSON: function () { throw 2; }}`, "<unprintable exception>"},
		{`undefinedFunction()`, "ReferenceError: undefinedFunction is not defined"},
		{`implicitGlobal = 1`, "ReferenceError: implicitGlobal is not defined"},
	}
	for _, c := range cases {
		t.Run(c.stmt, func(t *testing.T) {
			h := newHarness(t, "function OnUpdate(doc, meta) {\n  "+c.stmt+";\n}", harnessOpts{})
			err := h.handle(mutation("k", `{}`))
			var ie *InvocationError
			if !errors.As(err, &ie) || ie.Message != c.want || ie.Line != 2 {
				t.Errorf("Handle = %+v, want %q at line 2", err, c.want)
			}
		})
	}
}

func TestWorker_ExceptionFromBucketAccessHasUserLine(t *testing.T) {
	h := newHarness(t, "function OnUpdate(doc, meta) {\n\n  src['x'] = 1;\n}", harnessOpts{})
	err := h.handle(mutation("k", `{}`))
	var ie *InvocationError
	if !errors.As(err, &ie) || ie.Line != 3 || ie.Message != "EventingError: Writing to source bucket is forbidden" {
		t.Errorf("Handle = %+v", err)
	}
}

func TestWorker_Timeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	h := newHarness(t, `function OnUpdate(doc, meta) {
  if (doc.spin === 'plain') { while (true) {} }
  if (doc.spin === 'catching') {
    while (true) { try { for (;;) {} } catch (e) {} finally { dst['finally'] = 1; } }
  }
  dst[meta.id] = 'done';
}`, harnessOpts{settings: Settings{ExecutionTimeout: timeout}})
	for i, spin := range []string{"plain", "catching"} {
		start := time.Now()
		err := h.handle(mutation("spin-"+spin, `{"spin": "`+spin+`"}`))
		elapsed := time.Since(start)
		var ie *InvocationError
		if !errors.As(err, &ie) || !errors.Is(err, ErrTimeout) {
			t.Fatalf("%s: Handle = %v, want ErrTimeout", spin, err)
		}
		if elapsed < timeout || elapsed > timeout+2*time.Second {
			t.Errorf("%s: interrupted after %v, want about %v", spin, elapsed, timeout)
		}
		if ie.Line < 2 || ie.Line > 4 {
			t.Errorf("%s: interrupted at line %d, want the loop", spin, ie.Line)
		}
		if n := h.stats.Get("timeout_count"); n != uint64(i+1) {
			t.Errorf("timeout_count = %d, want %d", n, i+1)
		}
		// The worker is reusable straight away.
		start = time.Now()
		h.mustHandle(mutation(fmt.Sprintf("after-%d", i), `{}`))
		if d, ok := h.store.doc(dstKS, fmt.Sprintf("after-%d", i)); !ok || string(d.Body) != `"done"` {
			t.Errorf("event after the timeout was not handled")
		}
		if time.Since(start) > timeout/2 {
			t.Errorf("event after the timeout took %v", time.Since(start))
		}
	}
	if _, ok := h.store.doc(dstKS, "finally"); ok {
		t.Error("finally block ran after termination")
	}
	snap := h.stats.Snapshot()
	if snap["on_update_failure"] != 2 || snap["on_update_success"] != 2 {
		t.Errorf("stats = %v", snap)
	}
	lines := h.logMessages()
	if len(lines) != 2 || !strings.Contains(lines[0], `[ERROR] OnUpdate (key "spin-plain"): execution timeout`) {
		t.Errorf("app log = %q", lines)
	}
}

func TestWorker_TimeoutDuringInit(t *testing.T) {
	p := mustCompile(t, `function OnUpdate(doc, meta) {}
function spin() { while (true) {} }`, harnessOpts{
		settings:  Settings{ExecutionTimeout: 100 * time.Millisecond},
		constants: []Constant{{"c", "spin()"}},
	})
	_, err := NewWorker(p, Config{})
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrTimeout) || ie.Entry != "init" || ie.Line != 2 {
		t.Errorf("NewWorker = %+v, want an init timeout at line 2", err)
	}
}

func TestWorker_ContextCancelInterrupts(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  if (doc.spin) { while (true) {} }
  dst[meta.id] = 1;
}`, harnessOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := h.w.Handle(ctx, mutation("spin", `{"spin": true}`), h.store)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("Handle = %v after %v, want context.Canceled", err, time.Since(start))
	}
	// A cancelled context stops before running; neither is a handler failure.
	if err := h.w.Handle(ctx, mutation("late", `{}`), h.store); !errors.Is(err, context.Canceled) {
		t.Errorf("Handle with a done context = %v", err)
	}
	if _, ok := h.store.doc(dstKS, "late"); ok {
		t.Error("handler ran under a cancelled context")
	}
	snap := h.stats.Snapshot()
	if snap["on_update_failure"] != 0 || snap["timeout_count"] != 0 {
		t.Errorf("cancellation was counted as a failure: %v", snap)
	}
	// The worker still works with a live context, and a new context per call
	// is fine too.
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		if err := h.w.Handle(ctx, mutation(fmt.Sprint("ok", i), `{}`), h.store); err != nil {
			t.Errorf("Handle after cancellation: %v", err)
		}
		cancel()
	}
}

func TestWorker_StackOverflow(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) { if (doc.deep) { recurse(); } dst[meta.id] = 1; }
function recurse() { return recurse() + 1; }`, harnessOpts{})
	err := h.handle(mutation("deep", `{"deep": true}`))
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrException) || !strings.Contains(ie.Message, "Maximum call stack size exceeded") {
		t.Fatalf("Handle = %v", err)
	}
	h.mustHandle(mutation("shallow", `{}`))
}

func TestWorker_ErrorClasses(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var ee = new EventingError('e1');
  var kv = new KVError({code: 272, name: 'LCB_KEY_ENOENT', desc: 'missing'});
  var kv2 = new KVError('plain');
  var r = {
    eeError: ee instanceof Error, eeOwn: ee instanceof EventingError, eeName: ee.name, eeStr: String(ee),
    eeStack: typeof ee.stack === 'string' && ee.stack.indexOf('at OnUpdate (handler.js:2:') >= 0,
    eeStackClean: ee.stack.indexOf('errors.js') < 0 && ee.stack.indexOf('dispatch.js') < 0,
    eeKeys: Object.keys(ee).join(','), eeJSON: JSON.parse(JSON.stringify(ee)).message,
    kvError: kv instanceof Error, kvMsgCode: kv.message.code, kvMsgName: kv.message.name, kvMsgDesc: kv.message.desc,
    kvName: kv.name, kv2Str: String(kv2), kvNotEventing: !(kv instanceof EventingError),
    curl: String(new CurlError('c')), ctorName: KVError.name, noArgMessage: new EventingError().message,
  };
  for (const name of ['EventingError', 'KVError', 'N1QLError', 'CurlError', 'AnalyticsError', 'SearchError']) {
    var C = globalThis[name], e = new C('m');
    r[name] = [typeof C, e instanceof Error, e instanceof C, e.name, e.message, Object.getPrototypeOf(C.prototype) === Error.prototype].join();
  }
  class Mine extends EventingError {}
  r.sub = [new Mine('x') instanceof EventingError, new Mine('x') instanceof Error].join();
  dst['result'] = r;
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	want := map[string]any{
		"eeError": true, "eeOwn": true, "eeName": "EventingError", "eeStr": "EventingError: e1", "eeStack": true,
		"eeStackClean": true, "eeKeys": "message,stack", "eeJSON": "e1",
		"kvError": true, "kvMsgCode": 272, "kvMsgName": "LCB_KEY_ENOENT", "kvMsgDesc": "missing", "kvName": "KVError",
		"kv2Str": "KVError: plain", "kvNotEventing": true, "curl": "CurlError: c", "ctorName": "KVError",
		"noArgMessage": "", "sub": "true,true",
	}
	for _, name := range []string{"EventingError", "KVError", "N1QLError", "CurlError", "AnalyticsError", "SearchError"} {
		want[name] = "function,true,true," + name + ",m,true"
	}
	wantFields(t, h.result("result"), want)
}

var logLineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \[INFO\] (.*)$`)

func TestWorker_Log(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  log('text', 42, {a: [1, 'b']}, null, true, new Error('bad'), new EventingError('ev'));
  log();
  var cyclic = {}; cyclic.self = cyclic;
  log('cyclic', cyclic);
  log('big', 10n);
  log('undef', undefined, function f() {});
  log('throwing', {toJSON: function () { throw new Error('no'); }});
  JSON.stringify = function () { throw new Error('overridden'); };
  log('after override', {x: 1});
  log('multi\nline');
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	want := []string{
		// Native errors through toString; the eventing classes are plain
		// objects to Couchbase's log, so they are stringified as they are.
		`"text" 42 {"a":[1,"b"]} null true "Error: bad" {"message":"ev","stack":"EventingError\n\tat OnUpdate (handler.js:2:64)"} `,
		``,
		`"cyclic" [object Object] `,
		`"big" 10 `,
		`"undef" undefined function f() {} `,
		`"throwing" [object Object] `,
		`"after override" {"x":1} `,
		`"multi\nline" `,
	}
	lines := h.logLines()
	if len(lines) != len(want) {
		t.Fatalf("log lines = %q", lines)
	}
	for i, l := range lines {
		m := logLineRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %d %q does not match the app log format", i, l)
			continue
		}
		if m[1] != want[i] {
			t.Errorf("line %d = %q, want %q", i, m[1], want[i])
		}
	}
	if n := h.stats.Get("on_update_success"); n != 1 {
		t.Errorf("log threw: on_update_success = %d", n)
	}
}

func TestWorker_LogWithoutAppLog(t *testing.T) {
	p := mustCompile(t, `function OnUpdate(doc, meta) { log('x'); }`, harnessOpts{})
	w, err := NewWorker(p, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(context.Background(), mutation("k", `{}`), newFakeStore()); err != nil {
		t.Fatal(err)
	}
}

func TestWorker_LogTimestampIsLocalTimeWithOffset(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) { log('t'); }`, harnessOpts{})
	before := time.Now().Truncate(time.Millisecond)
	h.mustHandle(mutation("k", `{}`))
	ts, _, _ := strings.Cut(h.logLines()[0], " ")
	at, err := time.Parse(AppLogTimeFormat, ts)
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(before) || at.After(time.Now()) {
		t.Errorf("timestamp %v not within the call", at)
	}
}

func TestWorker_InvalidInput(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}`, harnessOpts{})
	cases := []struct {
		name string
		ev   docstore.Event
		st   Store
		want error
	}{
		{"nil doc", docstore.Event{Kind: docstore.EventMutation}, h.store, ErrInvalidEvent},
		{"nil store", mutation("k", `{}`), nil, ErrInvalidEvent},
		{"unknown kind", docstore.Event{Kind: 9, Doc: &docstore.Document{Key: "k"}}, h.store, ErrInvalidEvent},
	}
	for _, c := range cases {
		if err := h.w.Handle(context.Background(), c.ev, c.st); !errors.Is(err, c.want) {
			t.Errorf("%s: Handle = %v, want %v", c.name, err, c.want)
		}
	}
	// A corrupt JSON body is a failed invocation, not a crash.
	err := h.handle(mutation("bad", `{"a": `))
	if !errors.Is(err, ErrException) || h.stats.Get("on_update_failure") != 1 {
		t.Errorf("corrupt body: %v, stats %v", err, h.stats.Snapshot())
	}
	h.w.Close()
	if err := h.handle(mutation("k", `{}`)); !errors.Is(err, ErrWorkerClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestNewWorker_Config(t *testing.T) {
	p := mustCompile(t, `function OnUpdate(doc, meta) { dst[meta.id] = 1; }`, harnessOpts{bindings: defaultBindings()})
	if _, err := NewWorker(nil, Config{}); err == nil {
		t.Error("NewWorker(nil) succeeded")
	}
	_, err := NewWorker(p, Config{Bindings: []Binding{{Alias: "other", Keyspace: dstKS}}})
	if !errors.Is(err, ErrInvalidBinding) {
		t.Errorf("mismatched bindings: %v", err)
	}
	if _, err := NewWorker(p, Config{Settings: Settings{LanguageCompatibility: "1.0"}}); !errors.Is(err, ErrInvalidSettings) {
		t.Errorf("bad settings: %v", err)
	}
	// The worker's bindings may differ in access: here dst becomes read-only.
	w, err := NewWorker(p, Config{Bindings: []Binding{
		{Alias: "dst", Keyspace: dstKS, Access: AccessRead},
		{Alias: "src", Keyspace: srcKS, Access: AccessRead},
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Handle(context.Background(), mutation("k", `{}`), newFakeStore())
	var ie *InvocationError
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "Writing to source bucket is forbidden") {
		t.Errorf("read-only override: %v", err)
	}
	// Config settings override the program's.
	p2 := mustCompile(t, `function OnUpdate(doc, meta) { var x = dst['missing']; }`, harnessOpts{bindings: defaultBindings()})
	w2, err := NewWorker(p2, Config{Settings: Settings{LanguageCompatibility: Lang600}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Handle(context.Background(), mutation("k", `{}`), newFakeStore()); !errors.Is(err, ErrException) {
		t.Errorf("6.0.0 override: missing read should throw, got %v", err)
	}
}

func TestWorker_ConstantsAvailable(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  dst['result'] = {n: limit, s: greeting, o: settings.mode, f: twice(21)};
}`, harnessOpts{constants: []Constant{
		{"limit", "10"}, {"greeting", `"hi" // trailing comment`}, {"settings", "{mode: 'fast'}"},
		{"twice", "function (x) { return x * 2; }"},
	}})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{"n": 10, "s": "hi", "o": "fast", "f": 42})
}

func TestWorker_SystemLogIsRateLimited(t *testing.T) {
	p := mustCompile(t, `function OnUpdate(doc, meta) { throw new Error('always'); }`, harnessOpts{})
	dir := t.TempDir()
	al, err := OpenAppLog(dir, "fn", 1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	rec := &recordHandler{}
	w, err := NewWorker(p, Config{AppLog: al, Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := w.Handle(context.Background(), mutation(fmt.Sprint(i), `{}`), newFakeStore()); !errors.Is(err, ErrException) {
			t.Fatalf("Handle = %v", err)
		}
	}
	rec.mu.Lock()
	n := len(rec.records)
	rec.mu.Unlock()
	if n != 1 {
		t.Errorf("%d system log records for 5 quick failures, want 1", n)
	}
	tail, _ := al.Tail(1 << 20)
	if got := strings.Count(tail, "[ERROR]"); got != 5 {
		t.Errorf("app log has %d failures, want 5", got)
	}
}

// TestWorker_SharedProgramConcurrent runs several workers of one Program at
// once, sharing the AppLog and Stats, as a node does.
func TestWorker_SharedProgramConcurrent(t *testing.T) {
	p := mustCompile(t, `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  dst[meta.id] = {n: doc.n, seen: prev === undefined ? 0 : prev.seen + 1};
  if (doc.n % 50 === 0) { log('at', doc.n); }
  if (doc.n % 97 === 0) { throw new Error('every 97th'); }
}`, harnessOpts{bindings: defaultBindings()})
	dir := t.TempDir()
	al, err := OpenAppLog(dir, "fn", 4096, 20)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	stats := NewStats()
	const workers, events = 4, 300
	var wg sync.WaitGroup
	for w := range workers {
		wk, err := NewWorker(p, Config{FunctionName: "fn", AppLog: al, Stats: stats})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer wk.Close()
			st := newFakeStore()
			for i := 1; i <= events; i++ {
				err := wk.Handle(context.Background(), mutation(fmt.Sprintf("w%d-%d", w, i%10), fmt.Sprintf(`{"n": %d}`, i)), st)
				if (i%97 == 0) != (err != nil) {
					t.Errorf("worker %d event %d: %v", w, i, err)
				}
			}
			if d, ok := st.doc(dstKS, fmt.Sprintf("w%d-0", w)); !ok || !strings.Contains(string(d.Body), `"seen":29`) {
				t.Errorf("worker %d: reads did not see earlier writes: %s", w, d.Body)
			}
		}()
	}
	wg.Wait()
	failures := uint64(workers * (events / 97))
	snap := stats.Snapshot()
	if snap["on_update_success"] != workers*events-failures || snap["on_update_failure"] != failures ||
		snap["dcp_mutation_msg_counter"] != workers*events {
		t.Errorf("stats = %v", snap)
	}
	tail, err := al.Tail(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(tail, `[INFO] "at"`); got != workers*(events/50) {
		t.Errorf("%d log lines kept", got)
	}
}

// panicStore panics on every call, as a buggy Store might.
type panicStore struct{ *fakeStore }

func (panicStore) Get(docstore.Keyspace, string) (*docstore.Document, error) { panic("store bug") }

func TestWorker_StorePanicBreaksWorkerNotNode(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) { var x = dst['k']; }`, harnessOpts{})
	err := h.w.Handle(context.Background(), mutation("k", `{}`), panicStore{newFakeStore()})
	if !errors.Is(err, ErrWorkerBroken) || !strings.Contains(err.Error(), "store bug") {
		t.Fatalf("Handle = %v, want ErrWorkerBroken", err)
	}
	if err := h.handle(mutation("k2", `{}`)); !errors.Is(err, ErrWorkerBroken) {
		t.Errorf("next Handle = %v, want ErrWorkerBroken", err)
	}
	if n := h.stats.Get("on_update_failure"); n != 1 {
		t.Errorf("on_update_failure = %d", n)
	}
}

func TestWorker_CorruptStoredDocument(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  try { var x = dst['bad']; } catch (e) { dst['result'] = {msg: e.message, eventing: e instanceof EventingError}; }
}`, harnessOpts{})
	h.store.put(dstKS, "bad", `{"unterminated": `)
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{"msg": "Unable to parse response body as JSON", "eventing": true})

	err := h.handle(mutation("corrupt", `[1, 2`))
	var ie *InvocationError
	if !errors.As(err, &ie) || !strings.HasPrefix(ie.Message, "document body is not valid JSON") {
		t.Errorf("corrupt event body: %v", err)
	}
}

func TestWorker_BindingOf(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}`, harnessOpts{})
	for alias, ks := range map[string]docstore.Keyspace{"dst": dstKS, "src": srcKS} {
		bb, ok := h.w.bindingOf(h.w.vm.Get(alias))
		if !ok || bb.ks != ks || bb.alias != alias || bb.readOnly != (alias == "src") {
			t.Errorf("bindingOf(%s) = %+v, %v", alias, bb, ok)
		}
	}
	if _, ok := h.w.bindingOf(h.w.vm.NewObject()); ok {
		t.Error("a plain object is a binding")
	}
	if _, ok := h.w.bindingOf(h.w.vm.ToValue(1)); ok {
		t.Error("a number is a binding")
	}
}
