package queryapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"eventide/internal/restclient"
	"eventide/node/rest/resttest"
)

// The fuzz targets send arbitrary bodies and paths to the library APIs.
// Every answer keeps the invariants: no 500, errors as plain-text
// messages, no Go internals. One store serves every input of a target, so
// inputs also meet the libraries earlier ones wrote.

func serveFuzz(t *testing.T, h *harness, method, target, body string) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.SetBasicAuth(restclient.AdminUser, restclient.AdminPassword)
	w := httptest.NewRecorder()
	h.api.ServeHTTP(w, req)
	what := method + " " + target + " " + body
	if w.Code >= http.StatusInternalServerError {
		t.Fatalf("%s: %d %s", what, w.Code, w.Body)
	}
	if w.Code >= 400 && w.Code != http.StatusNotFound && !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("%s: error %d is not plain text: %q", what, w.Code, w.Header().Get("Content-Type"))
	}
	resttest.CheckNoGoInternals(t, what, w.Body.String())
}

func FuzzLibraryBodies(f *testing.F) {
	for _, s := range append([]string{seedCollection,
		`{"name":"math","functions":[{"name":"add","code":"function add(a, b) { return a + b; }"}]}`,
		`{"name":"add","id":"d8:91:45:37:79:75:eb:15","code":"function add(a, b) { return a + b; }"}`,
		"function add(a, b) { return a + b; }", `"function f() {}"`, "function f( {", "\x00", "/*"}, resttest.MalformedJSON...) {
		f.Add(s)
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, m := range []string{"POST", "PUT"} {
			for _, p := range []string{"/functions/v1/libraries", "/functions/v1/libraries/math", "/functions/v1/libraries/math/functions/add",
				"/evaluator/v1/libraries/math", "/evaluator/v1/libraries/science?bucket=travel-sample&scope=inventory"} {
				serveFuzz(t, h, m, p, body)
			}
		}
	})
}

func FuzzLibraryPaths(f *testing.F) {
	for _, p := range []string{"/functions/v1/libraries/math", "/evaluator/v1/libraries/math?bucket=b&scope=s",
		"/evaluator/v1/libraries/%2F", "/functions/v1/libraries/a/functions/b/c", "//evaluator//v1/libraries", "/query/service",
		"/evaluator/v1/libraries/m?bucket=%zz", "/functions/v1/libraries/" + strings.Repeat("a", 300)} {
		f.Add("GET", p)
		f.Add("DELETE", p)
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, method, path string) {
		target, ok := resttest.RequestTarget(method, path)
		if !ok {
			return
		}
		serveFuzz(t, h, method, target, "function f() {}")
	})
}

// FuzzQueryServiceRequests sends arbitrary request bodies, as JSON and as
// form values, to the query service: every answer is one JSON object with
// a request ID and a status, 5xx only for the two request errors
// Couchbase itself answers with 500 (1090, 1110), and no Go internals.
func FuzzQueryServiceRequests(f *testing.F) {
	for _, s := range append([]string{`{"statement":"SELECT 1","args":[1],"$a":2}`, `{"prepared":"p","timeout":"1:2:3"}`,
		`statement=SELECT+1&args=[1]&$a=2`, `{"statement":"SELECT 1","readonly":false,"scan_consistency":"at_plus","scan_vector":{}}`,
		`{"statement":"SELECT 1","creds":[{"user":"u"}]}`, `{"statement":"SELECT 1","timeout":"-5s","client_context_id":"` + strings.Repeat("é", 40) + `"}`,
		`timeout=%zz`, `{"":1,"$":2}`}, resttest.MalformedJSON...) {
		f.Add(s)
	}
	h := newServiceHarness(f, &fakeEngine{})
	f.Fuzz(func(t *testing.T, body string) {
		for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", "text/plain"} {
			req := httptest.NewRequest("POST", "/query/service", strings.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.SetBasicAuth(restclient.AdminUser, restclient.AdminPassword)
			w := httptest.NewRecorder()
			h.api.ServeHTTP(w, req)
			what := ct + " " + body
			var v struct {
				RequestID string `json:"requestID"`
				Status    string `json:"status"`
				Errors    []struct{ Code int }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v.RequestID == "" || v.Status == "" {
				t.Fatalf("%s: %d %q is not a query service answer: %v", what, w.Code, w.Body, err)
			}
			if w.Code >= 500 && (len(v.Errors) == 0 || (v.Errors[0].Code != 1090 && v.Errors[0].Code != 1110)) {
				t.Fatalf("%s: %d %s", what, w.Code, w.Body)
			}
			resttest.CheckNoGoInternals(t, what, w.Body.String())
		}
	})
}
