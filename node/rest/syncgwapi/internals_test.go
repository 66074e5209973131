package syncgwapi

import (
	"testing"

	"eventide/node/rest/resttest"
)

// TestMalformedInputs_NoGoInternals sends malformed bodies, query
// parameters and headers to every endpoint and checks that no answer
// carries Go's error text: every reason is in Sync Gateway's words.
func TestMalformedInputs_NoGoInternals(t *testing.T) {
	e := newEnv(t)
	e.put("/db/doc", `{"a":1}`)
	bodyTargets := []struct{ method, path string }{
		{"PUT", "/db/doc"}, {"PUT", "/db/new"}, {"PUT", "/db.sc.col/new"}, {"POST", "/db/"}, {"POST", "/db/_bulk_docs"},
		{"POST", "/db/_all_docs"}, {"POST", "/db/_changes"}, {"POST", "/db.sc.col/_bulk_docs"},
	}
	for _, tg := range bodyTargets {
		for _, body := range resttest.MalformedJSON {
			r := e.do(tg.method, tg.path, body)
			resttest.CheckNoGoInternals(t, tg.method+" "+tg.path+" "+body, r.Body)
		}
		for _, h := range [][]string{
			{"Content-Encoding", "gzip"}, {"Content-Encoding", "br"}, {"Content-Type", "application/json; charset"},
			{"Content-Type", "text/plain"}, {"Content-Type", "multipart/related; boundary=x"}, {"If-Match", `"x"`},
		} {
			r := e.do(tg.method, tg.path, `{"a":1}`, h...)
			resttest.CheckNoGoInternals(t, tg.method+" "+tg.path+" "+h[0]+": "+h[1], r.Body)
		}
	}
	queries := []string{
		"/db/_all_docs?limit=x", "/db/_all_docs?limit=-1", "/db/_all_docs?limit=99999999999999999999999",
		"/db/_all_docs?keys=[", "/db/_all_docs?keys=[1]", "/db/_all_docs?keys=x", `/db/_all_docs?startkey="x&endkey=%22%5C`,
		"/db/_changes?since=x", "/db/_changes?since=-1", `/db/_changes?since="x"`, "/db/_changes?limit=1.5",
		"/db/_changes?heartbeat=abc", "/db/_changes?timeout=1e9", "/db/_changes?feed=x", "/db/_changes?feed=continuous",
		"/db/_changes?filter=_doc_ids&doc_ids=[", "/db/_changes?filter=x", "/db/_changes?filter=sync_gateway/bychannel",
		"/db/doc?revs=true&revs_limit=x", "/db/doc?rev=x", "/db/doc?open_revs=all", "/db/doc?rev=1-", "/nodb/doc",
		"/db.x/doc", "/db.a.b.c/doc", "/db..x/", "/db/_foo", "/db/doc/att", "/db/" + "%F0%28%8C%28",
	}
	for _, q := range queries {
		for _, m := range []string{"GET", "DELETE", "PUT"} {
			r := e.do(m, q, `{"a":1}`)
			resttest.CheckNoGoInternals(t, m+" "+q, r.Body)
		}
	}
}
