package clusterapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"eventide/node/rest/restauth"
	"eventide/node/rest/syncgwapi"
)

// TestNames_EveryCreatableNameIsAddressable creates buckets, scopes and
// collections with every character the cluster manager allows and reaches
// each through the Sync Gateway API and the documents API; a bucket name
// with a period, which the Sync Gateway keyspace path could not address,
// is refused at creation.
func TestNames_EveryCreatableNameIsAddressable(t *testing.T) {
	e := newTestEnv(t)
	errs := e.do(t, "POST", "/pools/default/buckets", form("name", "a.b", "ramQuota", "100")).expect(t, http.StatusBadRequest).errorsOf(t)
	if errs["name"] != bucketNamePeriod {
		t.Fatalf("dotted bucket: errors %v", errs)
	}
	sg, err := syncgwapi.New(syncgwapi.Config{Credentials: restauth.NewAdmin(testUser, testPass), Docs: e.store, Writer: e.ks})
	if err != nil {
		t.Fatal(err)
	}
	sgSrv := httptest.NewServer(sg)
	t.Cleanup(sgSrv.Close)

	const bucket, scope, coll = "Az09_-%b", "s-1%x_", "c%-2"
	e.mustCreateBucket(t, bucket)
	e.do(t, "POST", "/pools/default/buckets/"+esc(bucket)+"/scopes", form("name", scope)).expect(t, http.StatusOK)
	e.do(t, "POST", "/pools/default/buckets/"+esc(bucket)+"/scopes/"+esc(scope)+"/collections", form("name", coll)).expect(t, http.StatusOK)

	for _, ks := range []struct{ sgKeyspace, docsPath string }{
		{bucket, "/pools/default/buckets/" + esc(bucket) + "/docs/"},
		{bucket + "." + scope + "." + coll, "/pools/default/buckets/" + esc(bucket) + "/scopes/" + esc(scope) + "/collections/" + esc(coll) + "/docs/"},
	} {
		req, _ := http.NewRequest("PUT", sgSrv.URL+"/"+esc(ks.sgKeyspace)+"/doc1", strings.NewReader(`{"v":1}`))
		req.SetBasicAuth(testUser, testPass)
		resp, err := sgSrv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("Sync Gateway PUT in %s: %d", ks.sgKeyspace, resp.StatusCode)
		}
		var doc docJSON
		e.do(t, "GET", ks.docsPath+"doc1", nil).expect(t, http.StatusOK).json(t, &doc)
		if doc.JSON == nil || *doc.JSON != `{"v":1}` {
			t.Fatalf("documents API in %s: %+v", ks.sgKeyspace, doc)
		}
	}
}

// esc percent-encodes the characters of a name that a path cannot carry.
func esc(name string) string { return strings.ReplaceAll(name, "%", "%25") }
