package engine_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"eventide/docstore"
	"eventide/query/engine"
	"eventide/query/engine/enginetest"
)

// batchStore is a request Store over a committed store whose writes stay
// pending (as an Eventing handler's batch does): Get sees them, the
// indexes do not.
type batchStore struct {
	*enginetest.Store
	pending map[docstore.Keyspace]map[string]*docstore.Document // nil: deleted
	cas     uint64
}

func newBatch(st *enginetest.Store) *batchStore {
	return &batchStore{Store: st, pending: map[docstore.Keyspace]map[string]*docstore.Document{}, cas: 1 << 40}
}

func (b *batchStore) Get(ks docstore.Keyspace, key string) (*docstore.Document, error) {
	if d, ok := b.pending[ks][key]; ok {
		if d == nil {
			return nil, fmt.Errorf("%w: %s", docstore.ErrNotFound, key)
		}
		return d, nil
	}
	return b.Store.Get(ks, key)
}

func (b *batchStore) Write(ctx context.Context, ms []docstore.Mutation) ([]engine.WriteResult, error) {
	out := make([]engine.WriteResult, len(ms))
	for i, m := range ms {
		cur, err := b.Get(m.Keyspace, m.Key)
		exists := err == nil
		switch {
		case m.Op == docstore.OpInsert && exists:
			out[i].Err = docstore.ErrExists
			continue
		case (m.Op == docstore.OpReplace || m.Op == docstore.OpDelete) && !exists:
			out[i].Err = docstore.ErrNotFound
			continue
		case m.IfCAS != 0 && (!exists || cur.CAS != m.IfCAS):
			out[i].Err = docstore.ErrCASMismatch
			continue
		}
		b.cas++
		if b.pending[m.Keyspace] == nil {
			b.pending[m.Keyspace] = map[string]*docstore.Document{}
		}
		if m.Op == docstore.OpDelete {
			b.pending[m.Keyspace][m.Key] = nil
			out[i].Doc = &docstore.Document{Key: m.Key, CAS: b.cas, Deleted: true}
			continue
		}
		d := &docstore.Document{Key: m.Key, Body: m.Body, Datatype: m.Datatype, CAS: b.cas}
		b.pending[m.Keyspace][m.Key] = d
		out[i].Doc = d
	}
	return out, nil
}

func (b *batchStore) PendingKeys(ks docstore.Keyspace) []string {
	var keys []string
	for k := range b.pending[ks] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var _ engine.PendingWrites = (*batchStore)(nil)

// batchQuery runs stmt over store, failing on errors, and returns the rows
// as a JSON array text.
func (e *env) batchQuery(store engine.Store, stmt string) string {
	e.t.Helper()
	rows, res := e.exec(engine.Request{Statement: stmt, Store: store})
	if len(res.Errors) > 0 {
		e.t.Fatalf("%s: errors %v", stmt, errs(res))
	}
	return "[" + strings.Join(rows, ",") + "]"
}

func TestPendingWrites_ScansSeeTheBatch(t *testing.T) {
	e := travelEnv(t)
	e.query(`CREATE INDEX ix_country ON travel(country)`)
	e.query(`CREATE INDEX ix_route_src ON travel(src) WHERE type = "route"`)
	b := newBatch(e.store)
	// The batch adds a US airline, moves a1 from FR to US, moves a2 from US
	// to DE, deletes a3, adds a route from CDG and a hotel outside it.
	e.batchQuery(b, `UPSERT INTO travel (KEY, VALUE) VALUES ("a4", {"type":"airline","name":"Delta","country":"US","rating":2})`)
	e.batchQuery(b, `UPDATE travel SET country = "US" WHERE META().id = "a1"`)
	e.batchQuery(b, `UPDATE travel USE KEYS "a2" SET country = "DE"`)
	e.batchQuery(b, `DELETE FROM travel WHERE name = "Gamma"`)
	e.batchQuery(b, `INSERT INTO travel (KEY, VALUE) VALUES ("r3", {"type":"route","src":"CDG","to":"LHR"}), ("h2", {"type":"hotel","src":"CDG"})`)

	cases := []struct{ name, stmt, plan, batch, committed string }{
		{"secondary eq", `SELECT RAW META().id FROM travel WHERE country = "US" ORDER BY META().id`,
			"IndexScan3:ix_country", `["a1","a4"]`, `["a2","a3"]`},
		{"secondary moved out", `SELECT RAW META().id FROM travel WHERE country = "FR" ORDER BY META().id`,
			"IndexScan3:ix_country", `["h1"]`, `["a1","h1"]`},
		{"secondary range", `SELECT RAW META().id FROM travel WHERE country >= "DE" AND country < "FR" ORDER BY META().id`,
			"IndexScan3:ix_country", `["a2"]`, `[]`},
		{"partial index", `SELECT RAW META().id FROM travel WHERE type = "route" AND src = "CDG" ORDER BY META().id`,
			"IndexScan3:ix_route_src", `["r1","r3"]`, `["r1"]`},
		{"primary", `SELECT RAW META().id FROM travel WHERE type = "airline" ORDER BY META().id`,
			"PrimaryScan3:#primary", `["a1","a2","a4"]`, `["a1","a2","a3"]`},
		{"primary key range", `SELECT RAW META().id FROM travel WHERE META().id BETWEEN "a3" AND "a9" ORDER BY META().id`,
			"IndexScan3:#primary", `["a4"]`, `["a3"]`},
		{"count secondary", `SELECT RAW COUNT(*) FROM travel WHERE country = "FR"`,
			"IndexScan3:ix_country", `[1]`, `[2]`},
		{"count secondary added", `SELECT RAW COUNT(*) FROM travel WHERE country = "DE"`,
			"IndexScan3:ix_country", `[1]`, `[0]`},
		{"count primary", `SELECT RAW COUNT(*) FROM travel`,
			"PrimaryScan3:#primary", `[8]`, `[6]`},
		{"offset primary", `SELECT META(travel).id FROM travel OFFSET 5`,
			"PrimaryScan3:#primary", `3 rows`, `1 rows`},
		{"limit no duplicates", `SELECT RAW META().id FROM travel WHERE country IS NOT NULL LIMIT 10`,
			"IndexScan3:ix_country", `4 rows`, `4 rows`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.with(t)
			if got := explainIndex(t, e, c.stmt); got != c.plan {
				t.Fatalf("plan %s, want %s", got, c.plan)
			}
			check := func(what, got, want string) {
				t.Helper()
				if n, ok := strings.CutSuffix(want, " rows"); ok {
					rows := strings.Count(got, ",") + 1
					if got == "[]" {
						rows = 0
					}
					if fmt.Sprint(rows) != n || hasDuplicate(got) {
						t.Errorf("%s: %s, want %s distinct", what, got, want)
					}
					return
				}
				sameJSON(t, what, got, want)
			}
			check("batch", e.batchQuery(b, c.stmt), c.batch)
			check("committed", e.query(c.stmt), c.committed)
		})
	}
}

func hasDuplicate(jsonList string) bool {
	seen := map[string]bool{}
	for _, s := range strings.Split(strings.Trim(jsonList, "[]"), ",") {
		if seen[s] {
			return true
		}
		seen[s] = true
	}
	return false
}

// A statement's DML finds the batch's earlier writes through an index, as
// a SELECT does.
func TestPendingWrites_DMLFindsTheBatch(t *testing.T) {
	e := travelEnv(t)
	e.query(`CREATE INDEX ix_country ON travel(country)`)
	b := newBatch(e.store)
	e.batchQuery(b, `INSERT INTO travel (KEY, VALUE) VALUES ("a4", {"type":"airline","name":"Delta","country":"IT"})`)
	got := e.batchQuery(b, `UPDATE travel SET rating = 1 WHERE country = "IT" RETURNING META().id, rating`)
	sameJSON(t, "update", got, `[{"id":"a4","rating":1}]`)
	got = e.batchQuery(b, `DELETE FROM travel WHERE country = "IT" RETURNING RAW META().id`)
	sameJSON(t, "delete", got, `["a4"]`)
	sameJSON(t, "after delete", e.batchQuery(b, `SELECT RAW COUNT(*) FROM travel WHERE country = "IT"`), `[0]`)
}

// A Store with no pending writes in the scanned keyspace keeps the index's
// answers (and other keyspaces' pending keys do not leak in).
func TestPendingWrites_OtherKeyspaceUnaffected(t *testing.T) {
	e := travelEnv(t)
	e.query(`CREATE PRIMARY INDEX ON users`)
	b := newBatch(e.store)
	e.batchQuery(b, `UPSERT INTO users (KEY, VALUE) VALUES ("u1", {"name":"Ann"})`)
	sameJSON(t, "travel", e.batchQuery(b, `SELECT RAW COUNT(*) FROM travel`), `[6]`)
	sameJSON(t, "users", e.batchQuery(b, `SELECT RAW META().id FROM users`), `["u1"]`)
	sameJSON(t, "users committed", e.query(`SELECT RAW META().id FROM users`), `[]`)
}
