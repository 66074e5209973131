package clusterapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"eventide/docstore"
	"eventide/node/rest/resttest"
)

// The fuzz targets send arbitrary forms, query parameters and paths to
// the cluster manager handler (in process, without a listener). Every
// answer keeps the invariants: no 500, a JSON body that is valid JSON,
// no Go internals.

// serveRaw serves one authenticated request and checks the invariants.
func serveRaw(t *testing.T, h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.SetBasicAuth(testUser, testPass)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	what := method + " " + target + " " + body
	if rec.Code >= http.StatusInternalServerError {
		t.Fatalf("%s: %d %s", what, rec.Code, rec.Body)
	}
	if rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s: invalid JSON body %q", what, rec.Body)
	}
	resttest.CheckNoGoInternals(t, what, rec.Body.String())
	return rec
}

const formType = "application/x-www-form-urlencoded"

func FuzzBucketForm(f *testing.F) {
	for _, s := range []string{"name=b2&ramQuota=100", "name=b2&ramQuota=100&bucketType=ephemeral&just_validate=1",
		"name=a.b&ramQuota=100", "name=s1", "name=c1&maxTTL=10&history=false", "name=%zz", "ramQuota=-1&name=_x", "name=x;y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, form string) {
		e := fuzzEnv(t)
		for _, p := range []string{"/pools/default/buckets", "/pools/default/buckets/b/scopes", "/pools/default/buckets/b/scopes/_default/collections"} {
			serveRaw(t, e.h, "POST", p, formType, form)
		}
	})
}

func FuzzDocsParams(f *testing.F) {
	f.Add("limit=2&skip=1&include_docs=true&startkey=%22a%22&endkey=%22z%22&inclusive_end=false", "value=%7B%22a%22%3A1%7D&flags=1&expiry=10")
	f.Add("limit=x&skip=-1", "value=abc&preserveTTL=true")
	f.Add("startkey=x", "flags=x&expiry=99999999999")
	f.Fuzz(func(t *testing.T, query, form string) {
		e := fuzzEnv(t)
		serveRaw(t, e.h, "POST", "/pools/default/buckets/b/docs/k1", formType, form)
		if v, err := url.ParseQuery(query); err == nil {
			query = v.Encode() // what a client sends for these values
			serveRaw(t, e.h, "GET", "/pools/default/buckets/b/docs?"+query, "", "")
			serveRaw(t, e.h, "GET", "/pools/default/buckets/b/scopes/_default/collections/_default/docs?"+query, "", "")
		}
	})
}

// FuzzPath sends arbitrary paths: path splitting, unescaping and routing.
func FuzzPath(f *testing.F) {
	for _, p := range []string{"/pools", "/pools/default/buckets/b", "/pools/default/buckets/b/docs/a%2Fb", "/pools/default/b/b",
		"/pools/default/buckets/b/scopes/s/collections/c/docs/k", "//pools//default/", "/pools/default/buckets/%25"} {
		f.Add("GET", p)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		target, ok := resttest.RequestTarget(method, path)
		if !ok || strings.Contains(path, "Streaming") || strings.Contains(path, "/bs/") {
			return // streaming endpoints answer until the client leaves
		}
		e := fuzzEnv(t)
		serveRaw(t, e.h, method, target, formType, "")
	})
}

// fuzzEnv is a test env with bucket "b".
func fuzzEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	if err := e.store.CreateBucket(docstore.BucketSpec{Name: "b", UUID: "bb", RAMQuotaMB: 100, Type: docstore.BucketTypeMembase}); err != nil {
		t.Fatal(err)
	}
	return e
}
