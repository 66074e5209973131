package engine_test

import (
	"fmt"
	"strings"
	"testing"
)

// explainIndex returns the index the plan of stmt scans ("" if none).
func explainIndex(t *testing.T, e *env, stmt string) string {
	t.Helper()
	plan := e.query("EXPLAIN " + stmt)
	for _, op := range []string{"IndexScan3", "PrimaryScan3", "KeyScan"} {
		if strings.Contains(plan, `"#operator":"`+op+`"`) {
			i := strings.Index(plan, `"index":"`)
			if i < 0 {
				return op
			}
			rest := plan[i+len(`"index":"`):]
			return op + ":" + rest[:strings.IndexByte(rest, '"')]
		}
	}
	return ""
}

func TestIndex_SecondaryChosenAndSameResults(t *testing.T) {
	e := travelEnv(t)
	queries := []string{
		`SELECT RAW META().id FROM travel WHERE country = "US" ORDER BY META().id`,
		`SELECT RAW META().id FROM travel WHERE country IN ["FR","XX"] ORDER BY META().id`,
		`SELECT RAW META().id FROM travel WHERE country > "A" AND country < "G" ORDER BY META().id`,
		`SELECT RAW META().id FROM travel WHERE country LIKE "U%" ORDER BY META().id`,
		`SELECT RAW META().id FROM travel WHERE country IS NOT NULL ORDER BY META().id`,
		`SELECT RAW META().id FROM travel t WHERE t.country BETWEEN "FR" AND "FR" ORDER BY META().id`,
		`SELECT RAW META().id FROM travel WHERE country = "US" AND rating >= 4 ORDER BY META().id`,
	}
	before := make([]string, len(queries))
	for i, q := range queries {
		before[i] = e.query(q)
		if got := explainIndex(t, e, q); got != "PrimaryScan3:#primary" {
			t.Fatalf("%s: plan %s before the index", q, got)
		}
	}
	e.query(`CREATE INDEX ix_country ON travel(country, rating)`)
	for i, q := range queries {
		if got := explainIndex(t, e, q); got != "IndexScan3:ix_country" {
			t.Errorf("%s: plan %s, want ix_country", q, got)
		}
		sameJSON(t, q, e.query(q), before[i])
	}
	// A query that does not constrain the leading key keeps the primary.
	if got := explainIndex(t, e, `SELECT * FROM travel WHERE rating = 4`); got != "PrimaryScan3:#primary" {
		t.Errorf("rating only: %s", got)
	}
}

func TestIndex_NoPrimaryNeedsMatchingIndex(t *testing.T) {
	e := newEnv(t, "b")
	docs := map[string]string{}
	for i := 0; i < 50; i++ {
		docs[fmt.Sprintf("k%02d", i)] = fmt.Sprintf(`{"n":%d,"tags":["t%d","all"],"kind":"%s"}`, i, i%3, []string{"even", "odd"}[i%2])
	}
	e.load("b", docs)
	if err := e.fails(`SELECT * FROM b WHERE n = 3`); err.Code != 4000 {
		t.Fatalf("no index: %+v", err)
	}
	e.query(`CREATE INDEX ix_n ON b(n)`)
	sameJSON(t, "eq", e.query(`SELECT RAW META().id FROM b WHERE n = 3`), `["k03"]`)
	sameJSON(t, "range", e.query(`SELECT RAW n FROM b WHERE n >= 47 ORDER BY n`), `[47,48,49]`)
	if err := e.fails(`SELECT * FROM b WHERE kind = "odd"`); err.Code != 4000 {
		t.Fatalf("unindexed field: %+v", err)
	}

	// Partial index: used only when its condition is in the WHERE.
	e.query(`CREATE INDEX ix_odd ON b(n) WHERE kind = "odd"`)
	if got := explainIndex(t, e, `SELECT * FROM b WHERE kind = "odd" AND n < 10`); !strings.HasPrefix(got, "IndexScan3:") {
		t.Fatalf("partial: %s", got)
	}
	sameJSON(t, "partial", e.query(`SELECT RAW n FROM b WHERE kind = "odd" AND n < 10 ORDER BY n`), `[1,3,5,7,9]`)

	// Array index.
	e.query(`CREATE INDEX ix_tags ON b(DISTINCT ARRAY t FOR t IN tags END)`)
	q := `SELECT RAW n FROM b WHERE ANY t IN tags SATISFIES t = "t1" END AND n < 12 ORDER BY n`
	sameJSON(t, "array", e.query(q), `[1,4,7,10]`)
	q2 := `SELECT RAW COUNT(*) FROM b WHERE ANY t IN tags SATISFIES t = "all" END`
	if got := explainIndex(t, e, q2); got != "IndexScan3:ix_tags" {
		t.Fatalf("array index plan: %s", got)
	}
	sameJSON(t, "array dedup", e.query(q2), `[50]`)

}

func TestIndex_SystemIndexesAndDDL(t *testing.T) {
	e := newEnv(t, "b")
	e.query(`CREATE PRIMARY INDEX ON b`)
	e.query(`CREATE INDEX ix1 ON b(name, LOWER(city)) WHERE age > 10`)
	got := e.query("SELECT i.name, i.index_key, i.`condition`, i.is_primary, i.keyspace_id, i.namespace_id, i.state, i.`using` FROM system:indexes AS i ORDER BY i.name")
	sameJSON(t, "system:indexes", got, `[{"name":"#primary","index_key":[],"is_primary":true,"keyspace_id":"b","namespace_id":"default","state":"online","using":"gsi"},`+
		`{"name":"ix1","index_key":["`+"`name`"+`","lower(`+"`city`"+`)"],"condition":"(`+"`age`"+` > 10)","keyspace_id":"b","namespace_id":"default","state":"online","using":"gsi"}]`)
	if err := e.fails(`CREATE INDEX ix1 ON b(x)`); err.Code != 4300 {
		t.Fatalf("duplicate index: %+v", err)
	}
	e.query(`CREATE INDEX IF NOT EXISTS ix1 ON b(x)`)
	e.query(`CREATE INDEX ix2 ON b(x) WITH {"defer_build": true}`)
	e.query(`BUILD INDEX ON b(ix2)`)
	e.query(`DROP INDEX ix2 ON b`)
	e.query(`DROP INDEX b.ix1`)
	if err := e.fails(`DROP INDEX ix1 ON b`); err.Code != 12016 {
		t.Fatalf("drop missing: %+v", err)
	}
	e.query(`DROP INDEX IF EXISTS ix1 ON b`)
	e.query(`DROP PRIMARY INDEX ON b`)
	sameJSON(t, "empty", e.query(`SELECT RAW COUNT(*) FROM system:indexes`), `[0]`)
}

func TestJoin_ANSI(t *testing.T) {
	e := travelEnv(t)
	q := `SELECT a.name, r.src FROM travel r JOIN travel a ON r.airline = META(a).id WHERE r.type = "route" ORDER BY a.name`
	sameJSON(t, "meta id join", e.query(q), `[{"name":"Alpha","src":"CDG"},{"name":"Beta","src":"SFO"}]`)
	q2 := `SELECT a.name, h.name AS hotel FROM travel a JOIN travel h ON h.country = a.country AND h.type = "hotel" WHERE a.type = "airline"`
	if err := e.fails(q2); err.Code != 4330 || err.Msg != "No index available for ANSI join term h" {
		t.Fatalf("no index: %+v", err)
	}
	e.query(`CREATE INDEX ix_c ON travel(country)`)
	sameJSON(t, "indexed join", e.query(q2), `[{"name":"Alpha","hotel":"Inn"}]`)
	q3 := `SELECT a.name, h.name AS hotel FROM travel a LEFT JOIN travel h ON h.country = a.country AND h.type = "hotel" WHERE a.type = "airline" ORDER BY a.name`
	sameJSON(t, "left join", e.query(q3), `[{"name":"Alpha","hotel":"Inn"},{"name":"Beta"},{"name":"Gamma"}]`)
}

func TestIndex_PrimaryKeySpans(t *testing.T) {
	e := travelEnv(t)
	q := `SELECT RAW name FROM travel t WHERE META(t).id IN ["a2", "a3", "zz"] ORDER BY name`
	sameJSON(t, "meta id in", e.query(q), `["Beta","Gamma"]`)
	if got := explainIndex(t, e, q); got != "IndexScan3:#primary" {
		t.Fatalf("plan %s", got)
	}
}

func TestIndex_LetVariableIsNotAField(t *testing.T) {
	e := newEnv(t, "b")
	e.load("b", map[string]string{"k1": `{"n":1}`, "k2": `{"n":3}`})
	e.query(`CREATE INDEX ix_n ON b(n)`)
	e.query(`CREATE PRIMARY INDEX ON b`)
	sameJSON(t, "let shadows field", e.query(`SELECT RAW META(b).id FROM b LET n = 3 WHERE n = 3 ORDER BY META(b).id`), `["k1","k2"]`)
}

func TestIndex_PrimaryKeyRanges(t *testing.T) {
	e := travelEnv(t)
	for q, want := range map[string]string{
		`SELECT RAW META().id FROM travel WHERE META().id LIKE "a%" ORDER BY META().id`:                    `["a1","a2","a3"]`,
		`SELECT RAW META().id FROM travel WHERE META().id >= "a2" AND META().id < "r2" ORDER BY META().id`: `["a2","a3","h1","r1"]`,
		`SELECT RAW META().id FROM travel t WHERE META(t).id BETWEEN "h" AND "r1" ORDER BY META().id`:      `["h1","r1"]`,
		`SELECT RAW META().id FROM travel WHERE "r" < META().id ORDER BY META().id`:                        `["r1","r2"]`,
	} {
		sameJSON(t, q, e.query(q), want)
		if got := explainIndex(t, e, q); got != "IndexScan3:#primary" {
			t.Errorf("%s: plan %s", q, got)
		}
	}
}

func TestIndex_PartialConditionNotMatchedByVariable(t *testing.T) {
	e := newEnv(t, "b")
	e.load("b", map[string]string{"k1": `{"n":1,"kind":"odd"}`, "k2": `{"n":2,"kind":"even"}`})
	e.query(`CREATE INDEX ix_odd ON b(n) WHERE kind = "odd"`)
	e.query(`CREATE PRIMARY INDEX ON b`)
	sameJSON(t, "let kind", e.query(`SELECT RAW META(b).id FROM b LET kind = "odd" WHERE kind = "odd" AND n > 0 ORDER BY META(b).id`), `["k1","k2"]`)
	sameJSON(t, "field kind", e.query(`SELECT RAW META(b).id FROM b WHERE kind = "odd" AND n > 0`), `["k1"]`)
}

func TestIndex_LetVariableIsNotAConstant(t *testing.T) {
	e := newEnv(t, "b")
	e.load("b", map[string]string{"k1": `{"n":1}`, "k2": `{"n":5}`})
	e.query(`CREATE INDEX ix_n ON b(n)`)
	e.query(`CREATE PRIMARY INDEX ON b`)
	sameJSON(t, "let value", e.query(`SELECT RAW META(b).id FROM b LET x = 5 WHERE n = x`), `["k2"]`)
	sameJSON(t, "let meta", e.query(`SELECT RAW META().id FROM b LET x = 5 WHERE n = x`), `["k2"]`)
}

func TestIndex_KeysMustBeDocumentFunctions(t *testing.T) {
	e := newEnv(t, "b")
	for _, stmt := range []string{
		`CREATE INDEX ix ON b((SELECT RAW 1))`,
		`CREATE INDEX ix ON b(n) WHERE n > $1`,
		`CREATE INDEX ix ON b(COUNT(n))`,
		`CREATE INDEX ix ON b(myudf(n))`,
	} {
		if err := e.fails(stmt); err.Code != 3000 {
			t.Errorf("%s: %+v", stmt, err)
		}
	}
	e.query(`CREATE INDEX ix ON b(LOWER(name), n + 1)`)
}
