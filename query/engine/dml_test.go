package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"eventide/docstore"
	"eventide/query/engine"
	"eventide/query/engine/enginetest"
)

func TestDML_InsertUpsertDuplicate(t *testing.T) {
	e := newEnv(t, "b")
	e.query(`CREATE PRIMARY INDEX ON b`)
	rows, res := e.exec(engine.Request{Statement: `INSERT INTO b (KEY, VALUE) VALUES ("k1", {"n":1}), ("k2", {"n":2}) RETURNING META().id, n`})
	if len(res.Errors) > 0 || res.Metrics.MutationCount != 2 || len(rows) != 2 {
		t.Fatalf("insert: %v %s %+v", rows, errs(res), res.Metrics)
	}
	sameJSON(t, "returning", rows[0], `{"id":"k1","n":1}`)
	// A duplicate key is an error for that row; the others are written.
	_, res = e.exec(engine.Request{Statement: `INSERT INTO b (KEY, VALUE) VALUES ("k1", {"n":9}), ("k3", {"n":3})`})
	if len(res.Errors) != 1 || res.Errors[0].Code != 12009 || res.Metrics.MutationCount != 1 || res.Status != "errors" {
		t.Fatalf("duplicate: %s %+v", errs(res), res.Metrics)
	}
	if want := "DML Error, possible causes include concurrent modification. Failed to perform INSERT on key k1 - cause: Duplicate Key: k1"; res.Errors[0].Msg != want {
		t.Errorf("msg %q", res.Errors[0].Msg)
	}
	sameJSON(t, "after", e.query(`SELECT RAW n FROM b ORDER BY n`), `[1,2,3]`)
	e.query(`UPSERT INTO b (KEY, VALUE) VALUES ("k1", {"n":10}, {"expiration": 3600})`)
	d, err := e.store.Get(bucketKS("b"), "k1")
	if err != nil || string(d.Body) != `{"n":10}` || d.Expiry == 0 {
		t.Fatalf("upsert: %+v %v", d, err)
	}
	// INSERT ... SELECT.
	e.query(`INSERT INTO b (KEY k, VALUE v) SELECT "copy-" || META(x).id AS k, {"n": x.n * 100} AS v FROM b x WHERE x.n < 5`)
	sameJSON(t, "select form", e.query(`SELECT RAW n FROM b WHERE META().id LIKE "copy-%" ORDER BY n`), `[200,300]`)
	if err := e.fails(`INSERT INTO b (KEY, VALUE) VALUES (1, {})`); err.Code != 5070 {
		t.Errorf("non-string key: %+v", err)
	}
}

func TestDML_UpdateDelete(t *testing.T) {
	e := newEnv(t, "b")
	e.query(`CREATE PRIMARY INDEX ON b`)
	e.load("b", map[string]string{
		"u1": `{"name":"ann","age":30,"addr":{"city":"Paris"},"kids":[{"n":"x","age":3},{"n":"y","age":9}]}`,
		"u2": `{"name":"bob","age":40,"tmp":true}`,
	})
	rows, res := e.exec(engine.Request{Statement: `UPDATE b SET age = age + 1, addr.city = "Lyon", kids[0].age = 4 UNSET tmp WHERE name = "ann" RETURNING b.*`})
	if len(res.Errors) > 0 || res.Metrics.MutationCount != 1 {
		t.Fatalf("update: %s", errs(res))
	}
	sameJSON(t, "update", rows[0], `{"name":"ann","age":31,"addr":{"city":"Lyon"},"kids":[{"n":"x","age":4},{"n":"y","age":9}]}`)
	e.query(`UPDATE b USE KEYS "u1" SET k.age = k.age * 10 FOR k IN kids WHEN k.age > 5 END`)
	sameJSON(t, "update for", e.query(`SELECT RAW kids[*].age FROM b USE KEYS "u1"`), `[[4,90]]`)
	e.query(`UPDATE b SET tmp = NULL UNSET nothing WHERE name = "bob"`)
	sameJSON(t, "unset", e.query(`SELECT RAW tmp FROM b USE KEYS "u2"`), `[null]`)

	_, res = e.exec(engine.Request{Statement: `DELETE FROM b WHERE age > 35 RETURNING META().id`})
	if len(res.Errors) > 0 || res.Metrics.MutationCount != 1 {
		t.Fatalf("delete: %s", errs(res))
	}
	if _, err := e.store.Get(bucketKS("b"), "u2"); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatal("u2 still there")
	}
	e.query(`DELETE FROM b USE KEYS ["u1", "none"]`)
	sameJSON(t, "empty", e.query(`SELECT RAW COUNT(*) FROM b`), `[0]`)

	// LIMIT bounds how many documents change.
	e.load("b", map[string]string{"a": `{"v":1}`, "b": `{"v":1}`, "c": `{"v":1}`})
	_, res = e.exec(engine.Request{Statement: `DELETE FROM b WHERE v = 1 LIMIT 2`})
	if res.Metrics.MutationCount != 2 {
		t.Fatalf("limit: %+v", res.Metrics)
	}
}

func TestDML_Merge(t *testing.T) {
	e := newEnv(t, "b", "src")
	e.query(`CREATE PRIMARY INDEX ON b`)
	e.load("b", map[string]string{"k1": `{"n":1}`, "k2": `{"n":2}`})
	e.load("src", map[string]string{"s1": `{"key":"k1","n":10,"del":false}`, "s2": `{"key":"k2","n":20,"del":true}`, "s3": `{"key":"k3","n":30,"del":false}`})
	e.query(`CREATE PRIMARY INDEX ON src`)
	_, res := e.exec(engine.Request{Statement: "MERGE INTO b USING src s ON KEY s.`key` WHEN MATCHED THEN UPDATE SET b.n = s.n WHERE s.del = false WHEN MATCHED THEN DELETE WHERE s.del = true WHEN NOT MATCHED THEN INSERT {\"n\": s.n}"})
	if len(res.Errors) > 0 || res.Metrics.MutationCount != 3 {
		t.Fatalf("merge: %s %+v", errs(res), res.Metrics)
	}
	sameJSON(t, "merged", e.query(`SELECT META().id, n FROM b ORDER BY META().id`), `[{"id":"k1","n":10},{"id":"k3","n":30}]`)

	// ANSI form.
	e.query(`MERGE INTO b USING [{"id":"k1","n":5},{"id":"k9","n":9}] AS s ON META(b).id = s.id WHEN MATCHED THEN UPDATE SET b.n = b.n + s.n WHEN NOT MATCHED THEN INSERT (KEY s.id, VALUE {"n": s.n})`)
	sameJSON(t, "ansi", e.query(`SELECT META().id, n FROM b ORDER BY META().id`), `[{"id":"k1","n":15},{"id":"k3","n":30},{"id":"k9","n":9}]`)
}

func TestDML_Readonly(t *testing.T) {
	e := newEnv(t, "b")
	for _, stmt := range []string{`INSERT INTO b (KEY, VALUE) VALUES ("k", {})`, `CREATE PRIMARY INDEX ON b`, `DELETE FROM b`} {
		_, res := e.exec(engine.Request{Statement: stmt, Readonly: true})
		if len(res.Errors) != 1 || res.Errors[0].Code != 1000 {
			t.Errorf("%s: %s", stmt, errs(res))
		}
	}
	_, res := e.exec(engine.Request{Statement: `SELECT 1`, Readonly: true})
	if len(res.Errors) > 0 {
		t.Fatal(errs(res))
	}
	for stmt, want := range map[string]bool{`SELECT 1`: true, `EXPLAIN SELECT 1`: true, `UPSERT INTO b VALUES ("k", 1)`: false, `DROP INDEX i ON b`: false} {
		ro, err := engine.IsReadOnly(stmt)
		if err != nil || ro != want {
			t.Errorf("IsReadOnly(%s) = %v, %v", stmt, ro, err)
		}
	}
	if _, err := engine.IsReadOnly(`SELEKT`); err == nil || err.Code != 3000 {
		t.Errorf("IsReadOnly syntax error: %v", err)
	}
}

func TestDML_SetMetaExpiration(t *testing.T) {
	e := newEnv(t, "b")
	e.load("b", map[string]string{"k": `{"v":1}`})
	e.query(`UPDATE b USE KEYS "k" SET v = 2, META().expiration = 3600`)
	d, err := e.store.Get(bucketKS("b"), "k")
	if err != nil || string(d.Body) != `{"v":2}` || d.Expiry == 0 {
		t.Fatalf("got %+v %v", d, err)
	}
	e.query(`UPDATE b USE KEYS "k" SET v = 3`)
	if d2, _ := e.store.Get(bucketKS("b"), "k"); d2.Expiry != d.Expiry {
		t.Fatalf("expiry not preserved: %d -> %d", d.Expiry, d2.Expiry)
	}
}

// racingStore changes a document just before the engine's write, as a
// concurrent writer would.
type racingStore struct {
	*enginetest.Store
}

func (s racingStore) Write(ctx context.Context, ms []docstore.Mutation) ([]engine.WriteResult, error) {
	for _, m := range ms {
		if m.IfCAS != 0 {
			if _, err := s.Store.Write(ctx, []docstore.Mutation{{Keyspace: m.Keyspace, Key: m.Key, Op: docstore.OpUpsert, Body: []byte(`{"v":"theirs"}`)}}); err != nil {
				return nil, err
			}
		}
	}
	return s.Store.Write(ctx, ms)
}

func TestDML_CASMismatchIsPerDocumentError(t *testing.T) {
	e := newEnv(t, "b")
	e.load("b", map[string]string{"k": `{"v":1}`})
	eng, err := engine.New(engine.Config{Store: racingStore{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Execute(context.Background(), engine.Request{Statement: `UPDATE b USE KEYS "k" SET v = 2`}, nil)
	if len(res.Errors) != 1 || res.Errors[0].Code != 12009 || !strings.Contains(res.Errors[0].Msg, "CAS mismatch") || res.Metrics.MutationCount != 0 {
		t.Fatalf("got %s %+v", errs(res), res.Metrics)
	}
	if d, _ := e.store.Get(bucketKS("b"), "k"); string(d.Body) != `{"v":"theirs"}` {
		t.Fatalf("the concurrent write was overwritten: %s", d.Body)
	}
}
