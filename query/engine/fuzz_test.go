package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"eventide/query/engine"
	"eventide/query/engine/enginetest"
)

// FuzzExecute checks that no statement text makes Execute panic (a
// recovered panic is reported as "Internal error").
func FuzzExecute(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM b WHERE n = 1`,
		`SELECT RAW ARRAY v FOR v IN a END FROM b USE KEYS "k"`,
		`SELECT b.x[*].y, META().id FROM b UNNEST b.arr AS u GROUP BY u LETTING c = COUNT(*) HAVING c > 1 ORDER BY u`,
		`UPDATE b SET a.b[0] = 1 FOR v IN arr END UNSET c WHERE n > 1 RETURNING *`,
		`MERGE INTO b USING [{"k":"k"}] AS s ON KEY s.k WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT {}`,
		`INSERT INTO b (KEY, VALUE) VALUES ("k2", {"n": [1, {"a": MISSING}]}) RETURNING META().cas`,
		`SELECT (SELECT RAW x FROM b x WHERE x.n = y.n) FROM b y`,
		`CREATE INDEX ix ON b(DISTINCT ARRAY v FOR v IN arr END) WHERE n > 0`,
		`EXPLAIN SELECT * FROM b t JOIN b u ON t.n = u.n`,
		`WITH w AS (SELECT 1 AS one) SELECT w FROM w UNION ALL SELECT 2 INTERSECT SELECT 3 EXCEPT ALL SELECT 4`,
	} {
		f.Add(s)
	}
	st, err := enginetest.New("b")
	if err != nil {
		f.Fatal(err)
	}
	if err := st.Load(bucketKS("b"), map[string]string{"k": `{"n":1,"arr":[1,2],"a":{"b":[0]},"x":[{"y":1}]}`}); err != nil {
		f.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Store: st, DefaultTimeout: 200 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	eng.Execute(context.Background(), engine.Request{Statement: `CREATE PRIMARY INDEX ON b`}, nil)
	f.Fuzz(func(t *testing.T, stmt string) {
		res := eng.Execute(context.Background(), engine.Request{Statement: stmt}, func([]byte) error { return nil })
		for _, e := range res.Errors {
			if e.Code == 5000 && strings.HasPrefix(e.Msg, "Internal error") {
				t.Fatalf("%q: %s", stmt, e.Msg)
			}
		}
	})
}
