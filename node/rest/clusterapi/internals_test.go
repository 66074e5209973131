package clusterapi

import (
	"strings"
	"testing"

	"eventide/node/rest/resttest"
)

// TestMalformedInputs_NoGoInternals sends malformed forms and query
// parameters to every endpoint and checks that no answer carries Go's
// error text: every message is in ns_server's words.
func TestMalformedInputs_NoGoInternals(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "b")
	forms := []string{
		"%zz", "a=%", "name=%G1", "name=;", "a=1;b=2", "ramQuota=x&name=c", "ramQuota=99999999999999999999999999&name=c",
		"name=a.b&ramQuota=100", "name=&ramQuota=-1", "bucketType=x&name=c&ramQuota=100&replicaNumber=x", "name=_x",
		"name=s%25-1", "name=" + strings.Repeat("x", 300), "maxTTL=x&name=c", "maxTTL=99999999999999999999&name=c",
		"history=maybe&name=c", "name=c&name=d", "value=%zz", "flags=x&value=1", "expiry=-1", "expiry=99999999999",
		"preserveTTL=x", "flags=99999999999", "value=%7B%22a%22%3A", "value=" + strings.Repeat("%5B", 10001),
	}
	formTargets := []string{
		"/pools/default/buckets", "/pools/default/buckets/b/scopes", "/pools/default/buckets/b/scopes/_default/collections",
		"/pools/default/buckets/b/docs/k", "/pools/default/buckets/b/scopes/_default/collections/_default/docs/k",
		"/pools/default/buckets/nob/docs/k", "/pools/default/buckets/b/scopes/nos/collections/c/docs/k",
	}
	for _, p := range formTargets {
		for _, f := range forms {
			for _, ct := range []string{"application/x-www-form-urlencoded", "application/json", "x/y; ="} {
				r := e.raw(t, "POST", p, ct, f)
				resttest.CheckNoGoInternals(t, "POST "+p+" "+ct+" "+f, r)
			}
		}
	}
	queries := []string{
		"?limit=x", "?limit=99999999999999999999", "?skip=-1", "?include_docs=1", "?inclusive_end=x", "?startkey=x",
		"?endkey=%22", `?startkey="\ud800"`, "?limit=0&skip=1001",
	}
	for _, q := range queries {
		for _, p := range []string{"/pools/default/buckets/b/docs", "/pools/default/buckets/b/scopes/_default/collections/_default/docs"} {
			r := e.raw(t, "GET", p+q, "", "")
			resttest.CheckNoGoInternals(t, "GET "+p+q, r)
		}
	}
	for _, p := range []string{"/pools/default/b/nob", "/pools/default/buckets/b/docs/%F0%28", "/nothing"} {
		for _, m := range []string{"GET", "DELETE", "PUT", "POST"} {
			resttest.CheckNoGoInternals(t, m+" "+p, e.raw(t, m, p, "", ""))
		}
	}
}

// raw sends an authenticated request with a raw body and returns the
// response body.
func (e *testEnv) raw(t *testing.T, method, path, contentType, body string) string {
	t.Helper()
	return string(e.send(t, method, path, contentType, strings.NewReader(body), testUser, testPass).body)
}
