package syncgwapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"eventide/docstore"
)

func TestBulkDocs_MixedOperationsInOneWrite(t *testing.T) {
	e := newEnv(t)
	revA := e.put("/db/a", `{"v":1}`)
	revB := e.put("/db/b", `{"v":1}`)
	e.put("/db/c", `{"v":1}`)
	callsBefore := len(e.writer.Calls())

	body := `{"new_edits": true, "docs": [
		{"_id": "new1", "x": 1},
		{"_id": "a", "_rev": "` + revA + `", "v": 2},
		{"_id": "b", "_rev": "` + revB + `", "_deleted": true},
		{"_id": "c", "v": 9},
		{"_id": "c", "_rev": "1-00000000000000000000000000000000", "v": 9},
		{"_id": "_local/ck", "seq": 1},
		{"noid": true},
		{"_id": "_bad"},
		{"_id": "new2", "_exp": "nope"},
		{"_id": "new1", "again": true}
	]}`
	r := e.do("POST", "/db/_bulk_docs", body)
	if r.Code != http.StatusCreated {
		t.Fatalf("_bulk_docs = %d %s", r.Code, r.Body)
	}
	var res []map[string]any
	if err := json.Unmarshal([]byte(r.Body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 10 {
		t.Fatalf("%d results: %s", len(res), r.Body)
	}
	ok := func(i int, id string, gen int) {
		t.Helper()
		if res[i]["id"] != id || res[i]["error"] != nil || revGen(t, res[i]["rev"].(string)) != gen {
			t.Errorf("result %d = %v, want id %s generation %d", i, res[i], id, gen)
		}
	}
	fail := func(i int, id string, status float64, name, reason string) {
		t.Helper()
		want := map[string]any{"error": name, "reason": reason, "status": status}
		if id != "" {
			want["id"] = id
		}
		if len(res[i]) != len(want) {
			t.Errorf("result %d = %v, want %v", i, res[i], want)
			return
		}
		for k, v := range want {
			if res[i][k] != v {
				t.Errorf("result %d: %s = %v, want %v", i, k, res[i][k], v)
			}
		}
	}
	ok(0, "new1", 1)
	ok(1, "a", 2)
	ok(2, "b", 2)
	fail(3, "c", 409, "conflict", "Document exists")
	fail(4, "c", 409, "conflict", "Document revision conflict")
	if id, _ := res[5]["id"].(string); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) || res[5]["rev"] == nil {
		t.Errorf("generated-id result = %v", res[5])
	}
	fail(6, "_bad", 400, "Bad Request", "Invalid doc ID")
	if res[7]["id"] != "new2" || res[7]["status"] != float64(400) || !strings.HasPrefix(res[7]["reason"].(string), "Invalid expiry: ") {
		t.Errorf("bad _exp result = %v", res[7])
	}
	fail(8, "new1", 409, "conflict", "Document exists")
	fail(9, "_local/ck", 501, "Not Implemented", "_local documents are not supported yet")

	// Exactly one WriteDocs call, with every writable document in order.
	calls := e.writer.Calls()[callsBefore:]
	if len(calls) != 1 {
		t.Fatalf("%d WriteDocs calls, want 1", len(calls))
	}
	var keys []string
	for _, m := range calls[0] {
		keys = append(keys, m.Key)
	}
	if got := strings.Join(keys[:5], ","); got != "new1,a,b,c,c" || len(keys) != 7 || keys[6] != "new1" {
		t.Errorf("mutations %v", keys)
	}
	if m := calls[0][2]; m.Op != docstore.OpDelete || m.IfRev != revB {
		t.Errorf("delete mutation = %+v", m)
	}
	if m := calls[0][0]; string(m.Body) != `{"x":1}` || !m.RequireRev || m.IfRev != "" {
		t.Errorf("create mutation = %+v body %s", m, m.Body)
	}

	if d, _ := e.store.Get(ksDefault, "a"); string(d.Body) != `{"v":2}` {
		t.Errorf("a = %s", d.Body)
	}
	if d, _ := e.store.Get(ksDefault, "b"); !d.Deleted {
		t.Error("b not deleted")
	}
	if d, _ := e.store.Get(ksDefault, "c"); string(d.Body) != `{"v":1}` {
		t.Errorf("c changed: %s", d.Body)
	}
	if _, err := e.store.Get(ksDefault, "new2"); err == nil {
		t.Error("new2 written despite bad _exp")
	}
}

func TestBulkDocs_RequestErrors(t *testing.T) {
	e := newEnv(t)
	e.put("/db/a", `{}`)
	cases := []struct {
		name, body      string
		headers         []string
		status          int
		errName, reason string
	}{
		{"invalid JSON", `{"docs":[`, nil, 400, "Bad Request", "Bad JSON: *"},
		{"not an object", `[{"_id":"x"}]`, nil, 400, "Bad Request", "Bad JSON: *"},
		{"no docs", `{"new_edits":true}`, nil, 400, "Bad Request", "missing 'docs' property"},
		{"null docs", `{"docs":null}`, nil, 400, "Bad Request", "missing 'docs' property"},
		{"docs not array", `{"docs":{"_id":"x"}}`, nil, 400, "Bad Request", "missing 'docs' property"},
		{"docs of numbers", `{"docs":[{"_id":"ok"},5]}`, nil, 400, "Bad Request", "Document body must be JSON"},
		{"docs of arrays", `{"docs":[{"_id":"ok"},[]]}`, nil, 400, "Bad Request", "Document body must be JSON"},
		{"new_edits false", `{"new_edits":false,"docs":[{"_id":"x","_rev":"1-a"}]}`, nil, 501, "Not Implemented", "new_edits=false is not supported yet"},
		{"content type", `{"docs":[]}`, []string{"Content-Type", "text/plain"}, 415, "Unsupported Media Type", "Invalid content type text/plain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			calls := len(e.writer.Calls())
			wantError(t, e.do("POST", "/db/_bulk_docs", tc.body, tc.headers...), tc.status, tc.errName, tc.reason)
			e.unchanged(before)
			if len(e.writer.Calls()) != calls {
				t.Error("a rejected request reached the writer")
			}
		})
	}
	r := e.do("POST", "/db/_bulk_docs", `{"docs":[]}`)
	if r.Code != 201 || r.Body != "[]" {
		t.Errorf("empty docs = %d %s", r.Code, r.Body)
	}
	// A non-boolean new_edits counts as true, as in Sync Gateway.
	r = e.do("POST", "/db.sc.col/_bulk_docs", `{"new_edits":"no","docs":[{"_id":"k","a":1}]}`)
	if r.Code != 201 || !strings.Contains(r.Body, `"id":"k","rev":"1-`) {
		t.Errorf("new_edits string = %d %s", r.Code, r.Body)
	}
}
