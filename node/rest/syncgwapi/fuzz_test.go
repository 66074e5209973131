package syncgwapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"eventide/node/rest/resttest"
)

// The fuzz targets drive whole requests through the handler, so every
// parser a request reaches is covered as the API uses it. Each checks the
// invariants every answer keeps: no panic (a recovered one would be a 500),
// a status the endpoint may give, an error body in Sync Gateway's shape,
// and no Go internals in it.

// checkAnswer asserts the invariants of one response.
func checkAnswer(t *testing.T, what string, r response, allowed ...int) {
	t.Helper()
	if r.Code == http.StatusInternalServerError {
		t.Fatalf("%s: 500 %s", what, r.Body)
	}
	ok := false
	for _, c := range allowed {
		ok = ok || r.Code == c
	}
	if !ok {
		t.Fatalf("%s: unexpected status %d %s", what, r.Code, r.Body)
	}
	if r.Code >= 400 {
		var body struct{ Error, Reason string }
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.Error == "" || body.Reason == "" {
			t.Fatalf("%s: error body not in Sync Gateway's shape: %d %q", what, r.Code, r.Body)
		}
	}
	resttest.CheckNoGoInternals(t, what, r.Body)
}

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, resttest.MalformedJSON...) {
		f.Add(s)
	}
}

func FuzzDocBody(f *testing.F) {
	addSeeds(f, `{"a":1}`, `{"_id":"doc","_rev":"1-a","_exp":10,"_deleted":true}`, `{"a":1,"a":{"b":2,"b":3}}`,
		`{"_attachments":{}}`, `{"_sync":1}`, `{"_removed":true}`, `{"_exp":"2030-01-01T00:00:00Z"}`)
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t)
		r := e.do("PUT", "/db/doc", body)
		checkAnswer(t, "PUT "+body, r, 201, 400, 404, 409, 413, 501)
		if r.Code == 201 {
			// What was stored reads back as one JSON object without duplicates.
			d, err := e.store.Get(ksDefault, "doc")
			if err != nil || !json.Valid(d.Body) || hasDuplicateKeys(d.Body) {
				t.Fatalf("PUT %q stored %v (%v)", body, d, err)
			}
		}
		checkAnswer(t, "POST "+body, e.do("POST", "/db.sc.col/", body), 200, 400, 404, 409, 413, 501)
	})
}

func FuzzBulkDocs(f *testing.F) {
	addSeeds(f, `{"docs":[{"_id":"a","v":1},{"_id":"b","_deleted":true},{"_rev":"1-x"},{"_id":"_local/x"}]}`,
		`{"docs":[],"new_edits":false}`, `{"docs":[{"_id":"a","_id":"b","_exp":"x"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t)
		r := e.do("POST", "/db/_bulk_docs", body)
		checkAnswer(t, "_bulk_docs "+body, r, 201, 400, 413, 415, 501)
		if r.Code == 201 {
			var res []map[string]any
			if err := json.Unmarshal([]byte(r.Body), &res); err != nil {
				t.Fatalf("_bulk_docs %q answered %q", body, r.Body)
			}
			for _, x := range res {
				if x["status"] == float64(500) {
					t.Fatalf("_bulk_docs %q: %v", body, x)
				}
			}
		}
	})
}

func FuzzAllDocs(f *testing.F) {
	addSeeds(f, `{"keys":["a","b"]}`, `{"keys":[]}`, `{"keys":null}`, `["a"]`, `"a"`)
	f.Fuzz(func(t *testing.T, in string) {
		e := newEnv(t)
		e.put("/db/a", `{"v":1}`)
		checkAnswer(t, "POST _all_docs "+in, e.do("POST", "/db/_all_docs?include_docs=true", in), 200, 400)
		q := "keys=" + url.QueryEscape(in) + "&startkey=" + url.QueryEscape(in) + "&limit=" + url.QueryEscape(in)
		checkAnswer(t, "GET _all_docs?"+q, e.do("GET", "/db/_all_docs?"+q, ""), 200, 400)
	})
}

func FuzzChangesParams(f *testing.F) {
	f.Add("since=0&limit=2&include_docs=true&active_only=true", `{"since":"1","limit":"2"}`)
	f.Add("filter=_doc_ids&doc_ids=[\"a\"]", `{"filter":"_doc_ids","doc_ids":"a,b"}`)
	f.Add("feed=longpoll&timeout=1", `{"feed":"longpoll","heartbeat":1,"timeout":1}`)
	f.Add("filter=sync_gateway/bychannel&channels=*", `{"channels":"x","filter":"sync_gateway/bychannel"}`)
	for _, s := range resttest.MalformedJSON {
		f.Add("since="+url.QueryEscape(s), s)
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		e := newEnv(t)
		e.put("/db/a", `{"v":1}`)
		// A longpoll with nothing to report would wait: the query's
		// longpoll gets since=0, which has a change at once, and a body
		// asking for one is left to the non-fuzz tests.
		q, err := url.ParseQuery(query)
		if err != nil || strings.Contains(body, "longpoll") {
			return
		}
		if q.Get("feed") == "longpoll" {
			q.Set("since", "0")
			q.Del("filter")
		}
		raw := q.Encode()
		checkAnswer(t, "GET _changes?"+raw, e.do("GET", "/db/_changes?"+raw, ""), 200, 400, 501)
		checkAnswer(t, "POST _changes?"+raw+" "+body, e.do("POST", "/db/_changes?"+raw, body), 200, 400, 415, 501)
	})
}

// FuzzRoute sends arbitrary paths: routing, path unescaping and the
// keyspace segment's parsing.
func FuzzRoute(f *testing.F) {
	for _, p := range []string{"/", "/db/", "/db/doc", "/db.sc.col/doc", "/db.col/_all_docs", "/db.a.b.c/", "/db..x/",
		"/_ping", "/db/_local/x", "/db/doc/att", "/%2e/", "/db/%5Fx", "/db/doc%2Fx", "/n%25b.s-1.c%25/d"} {
		f.Add("GET", p)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		target, ok := resttest.RequestTarget(method, path)
		if !ok {
			return
		}
		e := newEnv(t)
		checkAnswer(t, method+" "+path, e.do(method, target, `{"a":1}`),
			200, 201, 204, 400, 404, 405, 409, 413, 415, 501)
	})
}
