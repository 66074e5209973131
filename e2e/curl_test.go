package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCurl_ThroughADeployedFunction: a handler calls a local HTTP service
// through a curl binding and stores what it answered; a slow endpoint gives
// counted curl timeouts (CurlError) instead of a stuck worker.
func TestCurl_ThroughADeployedFunction(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		user, pass, _ := r.BasicAuth()
		if user != "svc" || pass != "secret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/slow") {
			time.Sleep(3 * time.Second)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"q":%q}`, r.URL.Path, r.URL.Query().Get("id"))
	}))
	defer srv.Close()

	_, c := newNode(t, "src", "dst", "meta")
	def := fnSpec{
		name: "caller",
		code: `function OnUpdate(doc, meta) {
  try {
    var res = curl("GET", svc, {path: doc.slow ? "/slow" : "/item", params: {id: meta.id}, timeout: 1});
    dst[meta.id] = {status: res.status, body: res.body};
  } catch (e) {
    dst[meta.id] = {error: e instanceof CurlError, message: String(e.message || e)};
  }
}`,
		bindings: []binding{{alias: "dst", bucket: "dst", access: "rw"}},
		settings: map[string]any{"worker_count": 1, "execution_timeout": 10},
	}.def()
	def["depcfg"].(map[string]any)["curl"] = []map[string]any{{
		"hostname": srv.URL + "/api", "value": "svc", "auth_type": "basic",
		"username": "svc", "password": "secret", "allow_cookies": false, "validate_ssl_certificate": false,
	}}
	c.CreateFunction("caller", def)
	c.Lifecycle("caller", "deploy")
	c.WaitStatus("caller", "deployed")

	c.BulkDocs("src", []map[string]any{
		{"_id": "a"}, {"_id": "b"}, {"_id": "s1", "slow": true}, {"_id": "c"},
	})
	waitFor(t, 30*time.Second, "every document handled", func() bool { return len(c.docMap("dst")) == 4 })
	got := c.docMap("dst")
	for _, id := range []string{"a", "b", "c"} {
		d := got[id]
		body, _ := d["body"].(map[string]any)
		if d["status"] != float64(200) || body["path"] != "/api/item" || body["q"] != id {
			t.Fatalf("dst %s = %v, want status 200 and the service's answer for it", id, d)
		}
	}
	if d := got["s1"]; d["error"] != true {
		t.Fatalf("slow call stored %v, want a CurlError", d)
	}
	if n := c.stat("caller", "failure_stats", "curl_timeout_count"); n != 1 {
		t.Fatalf("curl_timeout_count = %v, want 1", n)
	}
	if n := c.stat("caller", "execution_stats", "curl_success_count"); n != 3 {
		t.Fatalf("curl_success_count = %v, want 3", n)
	}
}
