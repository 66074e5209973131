package handler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

// fakeQuerier answers statements from a table: rows by statement text, or
// an error. It records what it was asked and which results are still open.
type fakeQuerier struct {
	mu      sync.Mutex
	rows    map[string][]string // statement → rows (JSON)
	errs    map[string]error    // statement → error at Query
	rowErrs map[string]error    // statement → error after its rows
	queries []Query
	ctxs    []context.Context
	open    int
	closes  int
}

func newFakeQuerier() *fakeQuerier {
	return &fakeQuerier{rows: map[string][]string{}, errs: map[string]error{}, rowErrs: map[string]error{}}
}

func (f *fakeQuerier) Query(ctx context.Context, q Query) (Rows, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	f.ctxs = append(f.ctxs, ctx)
	if err := f.errs[q.Statement]; err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	f.open++
	return &fakeRows{f: f, rows: f.rows[q.Statement], err: f.rowErrs[q.Statement]}, nil
}

func (f *fakeQuerier) stillOpen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open
}

func (f *fakeQuerier) last(t *testing.T) Query {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		t.Fatal("no query was issued")
	}
	return f.queries[len(f.queries)-1]
}

type fakeRows struct {
	f      *fakeQuerier
	rows   []string
	err    error
	closed bool
}

func (r *fakeRows) Next() (json.RawMessage, bool, error) {
	if len(r.rows) == 0 {
		return nil, false, r.err
	}
	row := r.rows[0]
	r.rows = r.rows[1:]
	return json.RawMessage(row), true, nil
}

func (r *fakeRows) Close() error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.f.open--
		r.f.closes++
	}
	return nil
}

func TestN1QL_IterateAndClose(t *testing.T) {
	fq := newFakeQuerier()
	fq.rows["SELECT name FROM b WHERE type = $type"] = []string{`{"name":"a"}`, `{"name":"b"}`, `{"name":"c"}`}
	code := `function OnUpdate(doc, meta) {
  var type = doc.type;
  var names = [];
  var it = SELECT name FROM b WHERE type = $type;
  for (var row of it) {
    names.push(row.name);
  }
  it.close();
  var again = N1QL('SELECT name FROM b WHERE type = $type', {'$type': 'x'});
  var first = null;
  for (var row of again) { first = row.name; break; }
  again.close();
  again.close();
  dst['out'] = {names: names.join(','), first: first};
}`
	h := newHarness(t, code, harnessOpts{querier: fq})
	h.mustHandle(mutation("k", `{"type": "hotel"}`))
	wantFields(t, h.result("out"), map[string]any{"names": "a,b,c", "first": "a"})
	if len(fq.queries) != 2 {
		t.Fatalf("queries = %d, want 2", len(fq.queries))
	}
	q := fq.queries[0]
	if string(q.Named["type"]) != `"hotel"` || q.Consistency != ConsistencyNone || q.Function != "fn" ||
		q.SourceKeyspace != srcKS || q.Store != h.store {
		t.Errorf("query = %+v", q)
	}
	if fq.stillOpen() != 0 {
		t.Errorf("%d results left open", fq.stillOpen())
	}
}

func TestN1QL_ParamsAndOptions(t *testing.T) {
	fq := newFakeQuerier()
	code := `function OnUpdate(doc, meta) {
  N1QL('SELECT $1, $2', [1, {a: [true, null]}], {consistency: 'request', isPrepared: true, clientContextId: 'ctx-1'});
}`
	h := newHarness(t, code, harnessOpts{querier: fq})
	h.mustHandle(mutation("k", `{}`))
	q := fq.last(t)
	if len(q.Positional) != 2 || string(q.Positional[0]) != "1" || string(q.Positional[1]) != `{"a":[true,null]}` {
		t.Errorf("positional = %s", q.Positional)
	}
	if q.Consistency != ConsistencyRequest || !q.Prepared || q.ClientContextID != "ctx-1" {
		t.Errorf("options = %+v", q)
	}
}

func TestN1QL_BadArgumentsThrow(t *testing.T) {
	cases := []struct{ name, call, msg string }{
		{"no arguments", `N1QL()`, "Need at least the query"},
		{"statement type", `N1QL(42)`, "Expecting a string for the first parameter"},
		{"undefined param", `N1QL('SELECT $x', {'$x': undefined})`, `Invalid data type for named parameters: "undefined" is not a valid type`},
		{"function param", `N1QL('SELECT $x', {'$x': function () {}})`, `Invalid data type for named parameters: "function" is not a valid type`},
		{"symbol param", `N1QL('SELECT $1', [1, Symbol('s')])`, `Invalid data type at index 1 for positional parameters: "symbol" is not a valid type`},
		{"undefined variable", `var x; SELECT $x;`, `Invalid data type for named parameters: "undefined" is not a valid type`},
		{"sparse array", `var a = [1]; a.length = 1e9; N1QL('SELECT $1', a)`, `Invalid data type at index 1 for positional parameters: "undefined" is not a valid type`},
		{"bad params type", `N1QL('SELECT 1', 'x')`, "Expecting an object or an array for the second parameter"},
		{"consistency type", `N1QL('SELECT 1', {}, {consistency: 1})`, "Expecting a string for consistency"},
		{"bad consistency", `N1QL('SELECT 1', {}, {consistency: 'strong'})`, "consistency must be one of 'none', 'request'"},
		{"bad isPrepared", `N1QL('SELECT 1', {}, {isPrepared: 'yes'})`, "Expecting a boolean for isPrepared property"},
		{"deprecated, no statement", `new N1qlQuery().execQuery()`, "Expecting a string for the first parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fq := newFakeQuerier()
			code := "function OnUpdate(doc, meta) {\n  try {\n    " + c.call + ";\n    dst['out'] = {threw: false};\n  } catch (e) {\n" +
				"    dst['out'] = {threw: e instanceof N1QLError, message: String(e.message)};\n  }\n}"
			h := newHarness(t, code, harnessOpts{querier: fq})
			h.mustHandle(mutation("k", `{}`))
			wantFields(t, h.result("out"), map[string]any{"threw": true, "message": c.msg})
			if n := h.stats.Get("n1ql_op_exception_count"); n != 1 {
				t.Errorf("n1ql_op_exception_count = %v, want 1", n)
			}
			if len(fq.queries) != 0 {
				t.Errorf("a query was issued: %+v", fq.queries)
			}
		})
	}
}

func TestN1QL_CapacityAndAutoClose(t *testing.T) {
	fq := newFakeQuerier()
	fq.rows["SELECT 1"] = []string{"1"}
	code := `function OnUpdate(doc, meta) {
  var its = [];
  for (var i = 0; i < 3; i++) its.push(N1QL('SELECT 1'));
  var r = {};
  try {
    N1QL('SELECT 1');
  } catch (e) {
    r.full = e instanceof N1QLError ? e.message : 'other';
  }
  its[0].close();
  for (var row of its[1]) r.row = row;    // read to the end: closed
  its.push(N1QL('SELECT 1'));
  its.push(N1QL('SELECT 1'));
  try { N1QL('SELECT 1'); } catch (e) { r.fullAgain = e.message; }
  dst['out'] = r;
}`
	h := newHarness(t, code, harnessOpts{querier: fq, settings: Settings{LCBInstCapacity: 3}})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("out"), map[string]any{"full": msgPoolCapacity, "row": 1, "fullAgain": msgPoolCapacity})
	if fq.stillOpen() != 0 {
		t.Errorf("%d results left open after the handler returned", fq.stillOpen())
	}
	if n := h.stats.Get("n1ql_op_exception_count"); n != 2 {
		t.Errorf("n1ql_op_exception_count = %v, want 2", n)
	}
	// The pool is free again for the next event.
	h.mustHandle(mutation("k2", `{}`))
}

func TestN1QL_AutoCloseAfterException(t *testing.T) {
	fq := newFakeQuerier()
	code := "function OnUpdate(doc, meta) {\n  var it = SELECT 1;\n  throw new Error('boom');\n}"
	h := newHarness(t, code, harnessOpts{querier: fq})
	var ie *InvocationError
	if err := h.handle(mutation("k", `{}`)); !errors.As(err, &ie) || ie.Line != 3 {
		t.Fatalf("Handle = %v, want the exception at line 3", err)
	}
	if fq.stillOpen() != 0 {
		t.Errorf("%d results left open", fq.stillOpen())
	}
}

func TestN1QL_QueryErrors(t *testing.T) {
	fq := newFakeQuerier()
	fq.errs["SELECT * FROM nope"] = &QueryError{Code: 12003, Msg: "Keyspace not found in CB datastore: default:nope"}
	fq.rowErrs["SELECT * FROM bad"] = &QueryError{Code: 3000, Msg: "syntax error - line 1, column 15"}
	fq.rows["SELECT * FROM late"] = []string{`{"a":1}`}
	fq.rowErrs["SELECT * FROM late"] = &QueryError{Code: 1080, Msg: "Timeout 1s exceeded"}
	code := `function errorOf(e) {
  return JSON.parse(e.message.substring('Query error : '.length)).errors[0];
}
function OnUpdate(doc, meta) {
  var r = {};
  try { SELECT * FROM nope; } catch (e) {
    r.isN1QL = e instanceof N1QLError && e instanceof Error;
    r.code = errorOf(e).code;
    r.msg = errorOf(e).msg;
  }
  // An error before the first row throws where the statement is issued.
  try { var it = SELECT * FROM bad; r.badIssued = true; } catch (e) { r.badCode = errorOf(e).code; }
  var rows = 0;
  var late = SELECT * FROM late;
  try { for (var row of late) rows++; } catch (e) { r.lateCode = errorOf(e).code; }
  r.rows = rows;
  dst['out'] = r;
}`
	h := newHarness(t, code, harnessOpts{querier: fq})
	h.mustHandle(mutation("k", `{}`))
	r := h.result("out")
	wantFields(t, r, map[string]any{"isN1QL": true, "code": 12003,
		"msg": "Keyspace not found in CB datastore: default:nope", "badCode": 3000, "lateCode": 1080, "rows": 1})
	if _, issued := r["badIssued"]; issued {
		t.Error("a statement failing before its first row did not throw when issued")
	}
	if n := h.stats.Get("n1ql_op_exception_count"); n != 3 {
		t.Errorf("n1ql_op_exception_count = %v, want 3", n)
	}
	if fq.stillOpen() != 0 {
		t.Errorf("%d results left open", fq.stillOpen())
	}
}

func TestN1QL_NoQuerier(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  try { var it = SELECT 1; dst['out'] = {threw: false}; }
  catch (e) { dst['out'] = {threw: e instanceof N1QLError, message: e.message}; }
}`
	h := newHarness(t, code, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("out"), map[string]any{"threw": true, "message": msgNoQuerier})
	if n := h.stats.Get("n1ql_op_exception_count"); n != 1 {
		t.Errorf("n1ql_op_exception_count = %v, want 1", n)
	}
}

func TestN1QL_DeprecatedN1qlQuery(t *testing.T) {
	fq := newFakeQuerier()
	fq.rows["SELECT v FROM b WHERE k = $k"] = []string{`{"v":1}`, `{"v":2}`}
	code := `function OnUpdate(doc, meta) {
  var q = new N1qlQuery('SELECT v FROM b WHERE k = $k', {namedParams: {'$k': meta.id}, consistency: 'request'});
  var rows = q.execQuery();
  var viaCouchbase = [];
  for (var r of couchbase.n1qlQuery('SELECT v FROM b WHERE k = $k', {'$k': 'x'})) viaCouchbase.push(r.v);
  dst['out'] = {isArray: Array.isArray(rows), sum: rows[0].v + rows[1].v, via: viaCouchbase.join(',')};
}`
	h := newHarness(t, code, harnessOpts{querier: fq})
	h.mustHandle(mutation("key1", `{}`))
	wantFields(t, h.result("out"), map[string]any{"isArray": true, "sum": 3, "via": "1,2"})
	q := fq.queries[0]
	if string(q.Named["k"]) != `"key1"` || q.Consistency != ConsistencyRequest {
		t.Errorf("query = %+v", q)
	}
	if fq.stillOpen() != 0 {
		t.Errorf("%d results left open", fq.stillOpen())
	}
}

func TestN1QL_ConsistencySettingAppliesToInline(t *testing.T) {
	fq := newFakeQuerier()
	code := `function OnUpdate(doc, meta) {
  SELECT 1;
  N1QL('SELECT 2');
  N1QL('SELECT 3', [], {consistency: 'none', isPrepared: false});
}`
	h := newHarness(t, code, harnessOpts{querier: fq, settings: Settings{N1QLConsistency: ConsistencyRequest, N1QLPrepareAll: true}})
	h.mustHandle(mutation("k", `{}`))
	if len(fq.queries) != 3 {
		t.Fatalf("queries = %+v", fq.queries)
	}
	if q := fq.queries[0]; q.Statement != "SELECT 1" || q.Consistency != ConsistencyRequest || !q.Prepared {
		t.Errorf("inline statement = %+v, want request_plus and prepared", q)
	}
	if q := fq.queries[1]; q.Consistency != ConsistencyRequest || !q.Prepared {
		t.Errorf("N1QL() = %+v, want the function's defaults too", q)
	}
	if q := fq.queries[2]; q.Consistency != ConsistencyNone || q.Prepared {
		t.Errorf("N1QL() with options = %+v, want its own options", q)
	}
	if _, err := Compile(code, Settings{N1QLConsistency: "strong"}, nil, nil); !errors.Is(err, ErrInvalidSettings) {
		t.Errorf("Compile with n1ql_consistency strong = %v, want ErrInvalidSettings", err)
	}
	if _, err := Compile(code, Settings{LCBInstCapacity: -1}, nil, nil); !errors.Is(err, ErrInvalidSettings) {
		t.Errorf("Compile with lcb_inst_capacity -1 = %v, want ErrInvalidSettings", err)
	}
}

func TestN1QL_RuntimeErrorLineAfterMultilineStatement(t *testing.T) {
	fq := newFakeQuerier()
	code := `function OnUpdate(doc, meta) {
  var it = SELECT a,
                  b /* the second
                       column */
           FROM src
           WHERE k = $meta.id
             AND t = "x;y";
  var n = 0;
  for (var r of it) n++;
  null.boom;
}`
	h := newHarness(t, code, harnessOpts{querier: fq})
	var ie *InvocationError
	if err := h.handle(mutation("k", `{}`)); !errors.As(err, &ie) || ie.Line != 10 || ie.Column != 8 {
		t.Fatalf("Handle = %v (line %d col %d), want the TypeError at 10:8", err, ie.Line, ie.Column)
	}
	q := fq.last(t)
	if strings.Contains(q.Statement, "column */") || !strings.Contains(q.Statement, `t = "x;y"`) {
		t.Errorf("statement = %q, want the comment dropped and the string kept", q.Statement)
	}
	var meta map[string]any
	if err := json.Unmarshal(q.Named["meta"], &meta); err != nil || meta["id"] != "k" {
		t.Errorf("$meta = %s, want the meta object", q.Named["meta"])
	}
}

func TestN1QL_QueryContextEndsWithTheInvocation(t *testing.T) {
	// The statement's context carries the execution timeout's deadline and
	// ends when the handler returns, so a querier stops its work.
	fq := newFakeQuerier()
	code := "function OnUpdate(doc, meta) {\n  var it = SELECT 1;\n}"
	h := newHarness(t, code, harnessOpts{querier: fq})
	h.mustHandle(mutation("k", `{}`))
	if ctx := fq.ctxs[0]; ctx.Err() == nil {
		t.Error("the statement's context is still live after the handler returned")
	} else if _, ok := ctx.Deadline(); !ok {
		t.Error("the statement's context has no deadline")
	}
}

func TestN1QL_OutsideAnEvent(t *testing.T) {
	// A constant binding runs when the program does, before any event:
	// no batch to query against.
	p, err := Compile("function OnUpdate(doc, meta) {}", Settings{}, []Constant{{Alias: "q", Literal: "N1QL('SELECT 1')"}}, nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	_, err = NewWorker(p, Config{Querier: newFakeQuerier(), Logger: testLogger(t)})
	var ie *InvocationError
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, msgNoInvocation) {
		t.Errorf("NewWorker = %v, want the N1QLError %q", err, msgNoInvocation)
	}
}
