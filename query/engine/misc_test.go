package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"eventide/docstore"
	"eventide/query/engine"
	"eventide/query/engine/enginetest"
	"eventide/query/value"
)

func TestPrepareExecute(t *testing.T) {
	e := travelEnv(t)
	rows, res := e.exec(engine.Request{Statement: `PREPARE p1 FROM SELECT RAW name FROM travel WHERE type = $1 ORDER BY name`})
	if len(res.Errors) > 0 || len(rows) != 1 || !strings.Contains(rows[0], `"name":"p1"`) || !strings.Contains(rows[0], `"operator"`) {
		t.Fatalf("prepare: %v %s", rows, errs(res))
	}
	sameJSON(t, "execute using", e.query(`EXECUTE p1 USING ["hotel"]`), `["Inn"]`)
	rows, res = e.exec(engine.Request{Prepared: "p1", Positional: []value.Value{value.NewString("airline")}})
	if len(res.Errors) > 0 {
		t.Fatal(errs(res))
	}
	sameJSON(t, "request prepared", "["+strings.Join(rows, ",")+"]", `["Alpha","Beta","Gamma"]`)
	if err := e.fails(`EXECUTE nope`); err.Code != 4040 {
		t.Fatalf("missing prepared: %+v", err)
	}
	// Readonly requests may execute prepared SELECTs but not prepared DML.
	e.query(`PREPARE ins FROM INSERT INTO travel (KEY, VALUE) VALUES ("x", {})`)
	_, res = e.exec(engine.Request{Statement: `EXECUTE ins`, Readonly: true})
	if len(res.Errors) != 1 || res.Errors[0].Code != 1000 {
		t.Fatalf("readonly execute: %s", errs(res))
	}
}

func TestExplain_Shape(t *testing.T) {
	e := travelEnv(t)
	e.query(`CREATE INDEX ix_type ON travel(type)`)
	plan := e.query(`EXPLAIN SELECT name FROM travel WHERE type = "route"`)
	for _, want := range []string{`"#operator":"Sequence"`, `"#operator":"IndexScan3"`, `"index":"ix_type"`, `"#operator":"Fetch"`, `"low":"\"route\""`} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %s: %s", want, plan)
		}
	}
}

func TestFunctions(t *testing.T) {
	e := travelEnv(t)
	e.query(`CREATE FUNCTION celsius(f) { (f - 32) * 5 / 9 }`)
	sameJSON(t, "inline", e.query(`SELECT RAW celsius(212)`), `[100]`)
	e.query(`CREATE FUNCTION double(x) LANGUAGE JAVASCRIPT AS "double" AT "mylib"`)
	sameJSON(t, "javascript", e.query(`SELECT RAW double(21)`), `[42]`)
	sameJSON(t, "execute function", e.query(`EXECUTE FUNCTION celsius(32)`), `[0]`)
	e.query(`CREATE FUNCTION rated(n) { (SELECT RAW name FROM travel WHERE rating = n) }`)
	sameJSON(t, "subquery body", e.query(`SELECT RAW rated(5)`), `[["Gamma"]]`)

	// Scoped: unqualified names resolve through query_context.
	_, res := e.exec(engine.Request{Statement: `CREATE FUNCTION f() { "scoped" }`, QueryContext: "default:travel._default"})
	if len(res.Errors) > 0 {
		t.Fatal(errs(res))
	}
	rows, res := e.exec(engine.Request{Statement: `SELECT RAW f()`, QueryContext: "default:travel._default"})
	if len(res.Errors) > 0 || len(rows) != 1 || rows[0] != `"scoped"` {
		t.Fatalf("scoped call: %v %s", rows, errs(res))
	}
	if err := e.fails(`SELECT RAW f()`); err.Code != 10101 || err.Msg != "Function 'default:f' not found" {
		t.Fatalf("global f: %+v", err)
	}
	got := e.query("SELECT RAW f.identity.name FROM system:functions AS f ORDER BY f.identity.name")
	sameJSON(t, "system:functions", got, `["celsius","double","f","rated"]`)
	e.query(`DROP FUNCTION celsius`)
	if err := e.fails(`DROP FUNCTION celsius`); err.Code != 10101 {
		t.Fatalf("drop missing: %+v", err)
	}
	if err := e.fails(`SELECT RAW celsius(1)`); err.Code != 10101 {
		t.Fatalf("dropped: %+v", err)
	}

	// Without Functions, UDFs are refused.
	st, _ := newStoreOnly(t)
	eng, _ := engine.New(engine.Config{Store: st})
	res = eng.Execute(context.Background(), engine.Request{Statement: `CREATE FUNCTION g() { 1 }`}, nil)
	if len(res.Errors) != 1 {
		t.Fatalf("no functions: %s", errs(res))
	}
}

func newStoreOnly(t *testing.T) (engine.Store, error) {
	e := newEnv(t, "b")
	return e.store, nil
}

func TestCollections_QueryContext(t *testing.T) {
	e := newEnv(t, "b")
	if err := e.store.CreateScope("b", "s"); err != nil {
		t.Fatal(err)
	}
	ks := docstore.Keyspace{Bucket: "b", Scope: "s", Collection: "c"}
	if err := e.store.CreateCollection(ks); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Load(ks, map[string]string{"x": `{"v":1}`}); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "full path", e.query(`SELECT RAW v FROM b.s.c USE KEYS "x"`), `[1]`)
	rows, res := e.exec(engine.Request{Statement: `SELECT RAW v FROM c USE KEYS "x"`, QueryContext: "default:b.s"})
	if len(res.Errors) > 0 || len(rows) != 1 || rows[0] != "1" {
		t.Fatalf("relative: %v %s", rows, errs(res))
	}
	rows, res = e.exec(engine.Request{Statement: `SELECT RAW v FROM s.c USE KEYS "x"`, QueryContext: "b"})
	if len(res.Errors) > 0 || len(rows) != 1 {
		t.Fatalf("scope-relative: %v %s", rows, errs(res))
	}
	e.query(`CREATE INDEX ix ON b.s.c(v)`)
	got := e.query("SELECT i.bucket_id, i.scope_id, i.keyspace_id FROM system:indexes AS i")
	sameJSON(t, "collection index row", got, `[{"bucket_id":"b","scope_id":"s","keyspace_id":"c"}]`)
	sameJSON(t, "indexed", e.query(`SELECT RAW META().id FROM b.s.c WHERE v = 1`), `["x"]`)
	got = e.query("SELECT RAW k.`path` FROM system:keyspaces AS k ORDER BY k.`path`")
	sameJSON(t, "keyspaces", got, `["default:b","default:b._default._default","default:b.s.c"]`)
}

func TestExecute_EmitErrorStops(t *testing.T) {
	e := travelEnv(t)
	n := 0
	res := e.eng.Execute(context.Background(), engine.Request{Statement: `SELECT * FROM travel`}, func([]byte) error {
		n++
		return errors.New("client gone")
	})
	if n != 1 || len(res.Errors) != 1 {
		t.Fatalf("emitted %d, errors %s", n, errs(res))
	}
}

// panicStore panics on every read, to show Execute recovers.
type panicStore struct{ engine.Store }

func (panicStore) Get(docstore.Keyspace, string) (*docstore.Document, error) { panic("boom") }

func TestExecute_RecoversPanic(t *testing.T) {
	e := travelEnv(t)
	eng, err := engine.New(engine.Config{Store: panicStore{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Execute(context.Background(), engine.Request{Statement: `SELECT * FROM travel USE KEYS "a1"`}, nil)
	if len(res.Errors) != 1 || res.Errors[0].Code != 5000 || res.Status != "fatal" {
		t.Fatalf("got %s %s", errs(res), res.Status)
	}
}

func TestExecute_RequestPlusAndSyntax(t *testing.T) {
	e := travelEnv(t)
	_, res := e.exec(engine.Request{Statement: `SELECT RAW COUNT(*) FROM travel`, Consistency: engine.RequestPlus})
	if len(res.Errors) > 0 {
		t.Fatal(errs(res))
	}
	_, res = e.exec(engine.Request{Statement: `SELECT * FRM travel`})
	if len(res.Errors) != 1 || res.Errors[0].Code != 3000 || !strings.Contains(res.Errors[0].Msg, "line 1, column") {
		t.Fatalf("syntax: %s", errs(res))
	}
	if _, err := engine.New(engine.Config{}); err == nil {
		t.Fatal("New without store succeeded")
	}
}

func TestExecute_ConcurrentRequests(t *testing.T) {
	e := travelEnv(t)
	e.query(`CREATE INDEX ix_type ON travel(type)`)
	done := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			var rows []string
			stmt := `SELECT RAW name FROM travel WHERE type = "airline" ORDER BY name`
			if i%2 == 1 {
				stmt = fmt.Sprintf(`UPSERT INTO travel (KEY, VALUE) VALUES ("w%d", {"type":"writer"})`, i)
			}
			res := e.eng.Execute(context.Background(), engine.Request{Statement: stmt}, func(b []byte) error {
				rows = append(rows, string(b))
				return nil
			})
			if len(res.Errors) > 0 {
				done <- errs(res)
				return
			}
			if i%2 == 0 && strings.Join(rows, ",") != `"Alpha","Beta","Gamma"` {
				done <- strings.Join(rows, ",")
				return
			}
			done <- ""
		}(i)
	}
	for i := 0; i < 8; i++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
	sameJSON(t, "writers", e.query(`SELECT RAW COUNT(*) FROM travel WHERE type = "writer"`), `[4]`)
}

func TestExecute_RequestStore(t *testing.T) {
	e := newEnv(t, "b")
	e.load("b", map[string]string{"k": `{"from":"engine"}`})
	other, err := enginetest.New("b")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Load(bucketKS("b"), map[string]string{"k": `{"from":"request"}`}); err != nil {
		t.Fatal(err)
	}
	var rows []string
	res := e.eng.Execute(context.Background(), engine.Request{Statement: "SELECT RAW b.`from` FROM b USE KEYS \"k\"", Store: other}, func(b []byte) error {
		rows = append(rows, string(b))
		return nil
	})
	if len(res.Errors) > 0 || len(rows) != 1 || rows[0] != `"request"` {
		t.Fatalf("rows %v %s", rows, errs(res))
	}
	e.query(`UPSERT INTO b (KEY, VALUE) VALUES ("w", {})`)
	if _, err := other.Get(bucketKS("b"), "w"); err == nil {
		t.Fatal("a request without Store wrote to the other store")
	}
}
