package e2e

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/couchbase/gocb/v2"

	"eventide/node"
	"eventide/node/nodetest"
)

// connectQuery connects the Couchbase Go SDK to a node for SQL++: it
// bootstraps over HTTP from port 8091 and finds the query service in the
// cluster map. gocbcore can miss the first bucket config at the
// cluster level (node/rest/clusterapi DESIGN.md, finding 12); a client
// then connects again, as that finding advises.
func connectQuery(t *testing.T, n *nodetest.Node, bucket string) *gocb.Cluster {
	t.Helper()
	for attempt := 1; ; attempt++ {
		cluster, err := gocb.Connect("couchbase://"+n.Cfg.BindAddr+"?bootstrap_on=http", gocb.ClusterOptions{
			Authenticator: gocb.PasswordAuthenticator{Username: "Administrator", Password: "password"},
		})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		cluster.Bucket(bucket)
		err = cluster.WaitUntilReady(20*time.Second, &gocb.WaitUntilReadyOptions{
			ServiceTypes: []gocb.ServiceType{gocb.ServiceTypeQuery},
		})
		if err == nil {
			t.Cleanup(func() { _ = cluster.Close(nil) })
			return cluster
		}
		_ = cluster.Close(nil)
		if attempt == 3 {
			t.Fatalf("wait until ready: %v", err)
		}
		t.Logf("connect again after %v", err)
	}
}

// TestGocb_Query drives SQL++ through the Couchbase Go SDK's
// cluster.Query and scope.Query, unchanged, against a node: DDL, DML with
// positional and named parameters, request_plus reads of documents
// written through the Sync Gateway API, an index, and errors.
func TestGocb_Query(t *testing.T) {
	n := nodetest.NewNode(t, nodetest.Options{Mgmt8091: true})
	c := newClient(t, n.URL(node.APIMgmt), n.URL(node.APIEventing), n.URL(node.APISyncGateway))
	c.CreateBucket("travel")
	cluster := connectQuery(t, n, "travel")

	query := func(stmt string, opts *gocb.QueryOptions) []map[string]any {
		t.Helper()
		res, err := cluster.Query(stmt, opts)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		var rows []map[string]any
		for res.Next() {
			var row map[string]any
			if err := res.Row(&row); err != nil {
				t.Fatalf("%s: row: %v", stmt, err)
			}
			rows = append(rows, row)
		}
		if err := res.Err(); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		return rows
	}

	query("CREATE PRIMARY INDEX ON travel", nil)
	for i, city := range []string{"Paris", "Lyon", "Nice", "Paris"} {
		query("UPSERT INTO travel (KEY, VALUE) VALUES ($1, {\"type\": \"hotel\", \"city\": $2, \"stars\": $3})",
			&gocb.QueryOptions{PositionalParameters: []any{fmt.Sprintf("hotel_%d", i), city, i + 2}})
	}
	// A document written through the Sync Gateway API is read by
	// request_plus at once.
	c.BulkDocs("travel", []map[string]any{{"_id": "hotel_sg", "type": "hotel", "city": "Paris", "stars": 1}})
	rows := query("SELECT META(t).id AS id, t.stars FROM travel AS t WHERE t.city = $city ORDER BY t.stars DESC",
		&gocb.QueryOptions{NamedParameters: map[string]any{"city": "Paris"}, ScanConsistency: gocb.QueryScanConsistencyRequestPlus})
	want := []string{"hotel_3", "hotel_0", "hotel_sg"}
	if len(rows) != len(want) {
		t.Fatalf("Paris hotels: %v", rows)
	}
	for i, id := range want {
		if rows[i]["id"] != id {
			t.Fatalf("row %d: %v, want id %s (rows %v)", i, rows[i], id, rows)
		}
	}

	// A secondary index, then an aggregate through scope.Query and a
	// query_context-relative keyspace.
	query("CREATE INDEX by_city ON travel(city) WHERE type = \"hotel\"", nil)
	res, err := cluster.Bucket("travel").Scope("_default").Query(
		"SELECT city, COUNT(*) AS n FROM _default WHERE type = \"hotel\" AND city IS NOT NULL GROUP BY city ORDER BY city",
		&gocb.QueryOptions{ScanConsistency: gocb.QueryScanConsistencyRequestPlus, Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	type cityCount struct {
		City string `json:"city"`
		N    int    `json:"n"`
	}
	var got []cityCount
	for res.Next() {
		var r cityCount
		if err := res.Row(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[{Lyon 1} {Nice 1} {Paris 3}]" {
		t.Fatalf("counts by city: %v", got)
	}
	meta, err := res.MetaData()
	if err != nil || meta.Status != gocb.QueryStatusSuccess || meta.Metrics.ResultCount != 3 {
		t.Fatalf("metadata %+v, %v", meta, err)
	}

	// UPDATE with RETURNING, then DELETE; the mutation count comes back.
	rows = query("UPDATE travel SET stars = stars + 1 WHERE city = \"Nice\" RETURNING stars", nil)
	if len(rows) != 1 || rows[0]["stars"] != float64(5) {
		t.Fatalf("update returned %v", rows)
	}
	res, err = cluster.Query("DELETE FROM travel WHERE city = \"Lyon\"", &gocb.QueryOptions{Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	for res.Next() {
	}
	if meta, err := res.MetaData(); err != nil || meta.Metrics.MutationCount != 1 {
		t.Fatalf("delete metadata %+v, %v", meta, err)
	}

	// Errors arrive as the SDK's typed errors.
	if _, err := cluster.Query("SELEC 1", nil); !errors.Is(err, gocb.ErrParsingFailure) {
		t.Fatalf("syntax error: %v", err)
	}
	if _, err := cluster.Query("SELECT * FROM nosuchbucket", nil); err == nil {
		t.Fatal("a missing keyspace answered")
	}
}
