package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// client speaks the public REST APIs of one node, as a user with curl would.
type client struct {
	t                      testing.TB
	mgmt, eventing, syncgw string // base URLs
	user, password         string
	http                   *http.Client
}

func newClient(t testing.TB, mgmt, eventing, syncgw string) *client {
	return &client{t: t, mgmt: mgmt, eventing: eventing, syncgw: syncgw,
		user: "Administrator", password: "password", http: &http.Client{Timeout: 60 * time.Second}}
}

// do sends a request and returns status and body.
func (c *client) do(method, u, contentType string, body []byte) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	req.SetBasicAuth(c.user, c.password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp.StatusCode, b
}

// must sends a request and fails the test unless the status is want.
func (c *client) must(want int, method, u, contentType string, body []byte) []byte {
	c.t.Helper()
	code, b := c.do(method, u, contentType, body)
	if code != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, u, code, want, b)
	}
	return b
}

func (c *client) createBucket(name string) {
	c.t.Helper()
	form := url.Values{"name": {name}, "ramQuota": {"100"}, "bucketType": {"couchbase"}}
	c.must(http.StatusAccepted, "POST", c.mgmt+"/pools/default/buckets",
		"application/x-www-form-urlencoded", []byte(form.Encode()))
}

func (c *client) createFunction(name string, def any) {
	c.t.Helper()
	b, _ := json.Marshal(def)
	c.must(http.StatusOK, "POST", c.eventing+"/api/v1/functions/"+name, "application/json", b)
}

func (c *client) lifecycle(name, op string) {
	c.t.Helper()
	c.must(http.StatusOK, "POST", c.eventing+"/api/v1/functions/"+name+"/"+op, "", nil)
}

func (c *client) compositeStatus(name string) string {
	c.t.Helper()
	var st struct {
		App struct {
			CompositeStatus string `json:"composite_status"`
		} `json:"app"`
	}
	b := c.must(http.StatusOK, "GET", c.eventing+"/api/v1/status/"+name, "", nil)
	if err := json.Unmarshal(b, &st); err != nil {
		c.t.Fatalf("status body %s: %v", b, err)
	}
	return st.App.CompositeStatus
}

func (c *client) waitStatus(name, want string) {
	c.t.Helper()
	waitFor(c.t, 30*time.Second, fmt.Sprintf("%s to be %s", name, want), func() bool {
		return c.compositeStatus(name) == want
	})
}

// bulkDocs posts docs to keyspace ks and returns id → rev.
func (c *client) bulkDocs(ks string, docs []map[string]any) map[string]string {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"docs": docs})
	out := c.must(http.StatusCreated, "POST", c.syncgw+"/"+ks+"/_bulk_docs", "application/json", b)
	var res []struct {
		ID     string `json:"id"`
		Rev    string `json:"rev"`
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		c.t.Fatalf("_bulk_docs response %s: %v", out, err)
	}
	revs := make(map[string]string, len(res))
	for _, r := range res {
		if r.Error != "" {
			c.t.Fatalf("_bulk_docs: doc %s: %s: %s", r.ID, r.Error, r.Reason)
		}
		revs[r.ID] = r.Rev
	}
	return revs
}

type row struct {
	ID  string          `json:"id"`
	Doc json.RawMessage `json:"doc"`
}

// allDocs returns every live document of ks.
func (c *client) allDocs(ks string) []row {
	c.t.Helper()
	out := c.must(http.StatusOK, "GET", c.syncgw+"/"+ks+"/_all_docs?include_docs=true", "", nil)
	var res struct {
		Rows []row `json:"rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		c.t.Fatalf("_all_docs response: %v", err)
	}
	return res.Rows
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holdsFor checks that cond stays true for d (used to show that nothing
// happens while a function is paused).
func holdsFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func docs(prefix string, from, to int) []map[string]any {
	out := make([]map[string]any, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, map[string]any{"_id": fmt.Sprintf("%s%05d", prefix, i), "n": i, "kind": strings.ToUpper(prefix)})
	}
	return out
}
