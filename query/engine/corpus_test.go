package engine_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"eventide/docstore"
	"eventide/query/engine"
)

// TestExecute_DocsCorpusNeverPanics runs every statement of the
// Couchbase documentation corpus (query/parser/testdata) against a small
// travel-sample: whatever each statement answers, nothing may panic or
// report an internal error.
func TestExecute_DocsCorpusNeverPanics(t *testing.T) {
	data, err := os.ReadFile("../parser/testdata/couchbase_docs.sql")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "travel-sample", "default", "hotel", "beer-sample")
	for _, s := range []string{"inventory", "tenant_agent_00"} {
		if err := e.store.CreateScope("travel-sample", s); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"airline", "airport", "hotel", "route", "landmark"} {
		ks := docstore.Keyspace{Bucket: "travel-sample", Scope: "inventory", Collection: c}
		if err := e.store.CreateCollection(ks); err != nil {
			t.Fatal(err)
		}
		if err := e.store.Load(ks, map[string]string{
			c + "_1": `{"type":"` + c + `","id":1,"name":"One","country":"France","city":"Paris","airlineid":"airline_1","sourceairport":"CDG","destinationairport":"SFO","schedule":[{"day":1,"flight":"AF1"}],"reviews":[{"ratings":{"Overall":4}}],"public_likes":["a"]}`,
			c + "_2": `{"type":"` + c + `","id":2,"name":"Two","country":"United States","city":"San Francisco","faa":"SFO","geo":{"lat":1,"lon":2}}`,
		}); err != nil {
			t.Fatal(err)
		}
		e.query("CREATE PRIMARY INDEX ON `travel-sample`.inventory." + c)
	}
	e.load("travel-sample", map[string]string{"airline_10": `{"type":"airline","name":"40-Mile Air","country":"United States","id":10}`})
	e.query("CREATE PRIMARY INDEX ON `travel-sample`")
	blocks := strings.Split(string(data), "\n-- @ ")
	n := 0
	for _, b := range blocks[1:] {
		lines := strings.SplitN(b, "\n", 2)
		if len(lines) < 2 {
			continue
		}
		name, stmt := lines[0], strings.TrimSpace(lines[1])
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res := e.eng.Execute(ctx, engine.Request{Statement: stmt, QueryContext: "default:`travel-sample`.inventory"}, func([]byte) error { return nil })
		cancel()
		n++
		if os.Getenv("CORPUS_DEBUG") != "" && len(res.Errors) > 0 {
			t.Logf("%s: %d %s", name, res.Errors[0].Code, res.Errors[0].Msg)
		}
		for _, er := range res.Errors {
			if er.Code == 5000 {
				t.Errorf("%s: internal error %s\n%s", name, er.Msg, stmt)
			}
		}
	}
	if n < 100 {
		t.Fatalf("ran only %d statements", n)
	}
}
