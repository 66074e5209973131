package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"eventide/docstore"
	"eventide/query/engine"
	"eventide/query/engine/enginetest"
	"eventide/query/value"
)

type env struct {
	t     *testing.T
	store *enginetest.Store
	eng   *engine.Engine
	fns   *memFunctions
}

func newEnv(t *testing.T, buckets ...string) *env {
	t.Helper()
	st, err := enginetest.New(buckets...)
	if err != nil {
		t.Fatal(err)
	}
	fns := &memFunctions{defs: map[string]engine.FunctionDef{}}
	eng, err := engine.New(engine.Config{Store: st, Functions: fns})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, eng: eng, fns: fns}
}

func bucketKS(b string) docstore.Keyspace {
	return docstore.Keyspace{Bucket: b, Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}
}

func (e *env) load(b string, docs map[string]string) {
	e.t.Helper()
	if err := e.store.Load(bucketKS(b), docs); err != nil {
		e.t.Fatal(err)
	}
}

// exec runs a request and returns its rows as JSON texts.
func (e *env) exec(req engine.Request) ([]string, engine.Result) {
	e.t.Helper()
	var rows []string
	res := e.eng.Execute(context.Background(), req, func(b []byte) error {
		rows = append(rows, string(b))
		return nil
	})
	return rows, res
}

// query runs stmt, failing on errors, and returns the rows joined as a
// JSON array text.
func (e *env) query(stmt string, args ...any) string {
	e.t.Helper()
	req := engine.Request{Statement: stmt}
	for _, a := range args {
		v, err := value.FromGo(a)
		if err != nil {
			e.t.Fatal(err)
		}
		req.Positional = append(req.Positional, v)
	}
	rows, res := e.exec(req)
	if len(res.Errors) > 0 {
		e.t.Fatalf("%s: errors %v", stmt, errs(res))
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// fails runs stmt and returns its first error.
func (e *env) fails(stmt string) *engine.Error {
	e.t.Helper()
	_, res := e.exec(engine.Request{Statement: stmt})
	if len(res.Errors) == 0 {
		e.t.Fatalf("%s: succeeded, want an error", stmt)
	}
	return res.Errors[0]
}

func errs(res engine.Result) string {
	var b strings.Builder
	for _, e := range res.Errors {
		fmt.Fprintf(&b, "[%d %s] ", e.Code, e.Msg)
	}
	return b.String()
}

// sameJSON compares two JSON texts by value (and object key order where
// the expected text has it).
func sameJSON(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: bad JSON %s", what, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expected JSON %s", what, want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s:\n got  %s\n want %s", what, got, want)
	}
}

// memFunctions is an in-memory engine.Functions whose JavaScript
// functions are a few Go implementations by object name.
type memFunctions struct {
	mu   sync.Mutex
	defs map[string]engine.FunctionDef
}

func (m *memFunctions) Create(_ context.Context, def engine.FunctionDef, orReplace, ifNotExists bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := def.Name.String()
	if _, ok := m.defs[k]; ok && !orReplace {
		if ifNotExists {
			return nil
		}
		return &engine.Error{Code: 10102, Msg: "Function already exists " + k}
	}
	m.defs[k] = def
	return nil
}

func (m *memFunctions) Drop(_ context.Context, name engine.FunctionName, ifExists bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.defs[name.String()]; !ok {
		if ifExists {
			return nil
		}
		return fmt.Errorf("function not found")
	}
	delete(m.defs, name.String())
	return nil
}

func (m *memFunctions) Get(name engine.FunctionName) (engine.FunctionDef, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.defs[name.String()]
	return d, ok
}

func (m *memFunctions) List() []engine.FunctionDef {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []engine.FunctionDef
	for _, d := range m.defs {
		out = append(out, d)
	}
	return out
}

func (m *memFunctions) CallJavaScript(_ context.Context, def engine.FunctionDef, args []value.Value) (value.Value, error) {
	switch def.Object {
	case "double":
		f, _ := args[0].Float()
		return value.NewNumber(2 * f), nil
	}
	return value.MissingValue, fmt.Errorf("ReferenceError: %s is not defined", def.Object)
}

func engineReqNamed(stmt, name string, v any) engine.Request {
	val, _ := value.FromGo(v)
	return engine.Request{Statement: stmt, Named: map[string]value.Value{name: val}}
}

// with is e reporting to subtest t.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}
