package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAuth_EveryAPIRefusesBadCredentials: each API answers 401 without
// credentials and with wrong ones, in its own error shape, and a refused
// write changes nothing.
func TestAuth_EveryAPIRefusesBadCredentials(t *testing.T) {
	_, c := newNode(t, "src", "meta")
	c.CreateFunction("fn", fnSpec{name: "fn", code: copyCode, bindings: []binding{{"dst", "src", "r"}}}.def())
	c.BulkDocs("src", docs("doc", 0, 3))
	fnBody, _ := json.Marshal(fnSpec{name: "intruder", code: copyCode}.def())
	bulk := []byte(`{"docs":[{"_id":"intruder","x":1}]}`)

	type req struct {
		method, url, ctype string
		body               []byte
	}
	apis := []struct {
		api   string
		reqs  []req
		check func(t *testing.T, r req, resp *http.Response, body []byte)
	}{
		{
			api: "eventing",
			reqs: []req{
				{"GET", c.Eventing + "/api/v1/functions", "", nil},
				{"GET", c.Eventing + "/api/v1/functions/fn", "", nil},
				{"POST", c.Eventing + "/api/v1/functions/intruder", "application/json", fnBody},
				{"POST", c.Eventing + "/api/v1/functions/fn/deploy", "", nil},
				{"DELETE", c.Eventing + "/api/v1/functions/fn", "", nil},
				{"GET", c.Eventing + "/api/v1/status", "", nil},
				{"GET", c.Eventing + "/api/v1/stats", "", nil},
				{"GET", c.Eventing + "/api/v1/config", "", nil},
				{"GET", c.Eventing + "/getAppLog?appName=fn", "", nil},
				{"GET", c.Eventing + "/resetStatsCounters?appName=fn", "", nil},
				{"GET", c.Eventing + "/api/v1/functions/fn/appcode", "", nil},
				{"GET", c.Eventing + "/", "", nil},
				{"GET", c.Eventing + "/no/such/endpoint", "", nil},
			},
			check: func(t *testing.T, r req, resp *http.Response, body []byte) {
				var e eventingError
				if err := json.Unmarshal(body, &e); err != nil || e.Name != "ERR_UNAUTHENTICATED" || e.Code != 61 {
					t.Errorf("%s %s: body %q, want ERR_UNAUTHENTICATED (61)", r.method, r.url, body)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s %s: Content-Type %q", r.method, r.url, ct)
				}
			},
		},
		{
			api: "sync gateway",
			reqs: []req{
				{"GET", c.SyncGW + "/src/_all_docs", "", nil},
				{"GET", c.SyncGW + "/src/doc00000", "", nil},
				{"PUT", c.SyncGW + "/src/intruder", "application/json", []byte(`{"x":1}`)},
				{"POST", c.SyncGW + "/src/_bulk_docs", "application/json", bulk},
				{"GET", c.SyncGW + "/src/_changes", "", nil},
				{"GET", c.SyncGW + "/src/", "", nil},
				{"GET", c.SyncGW + "/", "", nil},
				{"GET", c.SyncGW + "/nosuchdb/doc", "", nil},
			},
			check: func(t *testing.T, r req, resp *http.Response, body []byte) {
				var e struct{ Error, Reason string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error != "Unauthorized" || e.Reason == "" {
					t.Errorf("%s %s: body %q, want {\"error\":\"Unauthorized\",\"reason\":...}", r.method, r.url, body)
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: no WWW-Authenticate challenge", r.method, r.url)
				}
			},
		},
		{
			api: "cluster manager",
			reqs: []req{
				{"GET", c.Mgmt + "/pools", "", nil},
				{"GET", c.Mgmt + "/pools/default", "", nil},
				{"GET", c.Mgmt + "/pools/default/buckets", "", nil},
				{"GET", c.Mgmt + "/pools/default/buckets/src", "", nil},
				{"POST", c.Mgmt + "/pools/default/buckets", "application/x-www-form-urlencoded", []byte("name=intruder&ramQuota=100&bucketType=couchbase")},
				{"DELETE", c.Mgmt + "/pools/default/buckets/src", "", nil},
			},
			check: func(t *testing.T, r req, resp *http.Response, body []byte) {
				if len(body) != 0 {
					t.Errorf("%s %s: body %q, want empty", r.method, r.url, body)
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("%s %s: WWW-Authenticate %q", r.method, r.url, resp.Header.Get("WWW-Authenticate"))
				}
			},
		},
	}
	creds := []struct {
		name       string
		user, pass string
		set        bool
	}{
		{"no credentials", "", "", false},
		{"wrong password", "Administrator", "wrong", true},
		{"wrong user", "admin", "password", true},
		{"empty password", "Administrator", "", true},
	}
	for _, api := range apis {
		for _, cr := range creds {
			t.Run(api.api+"/"+cr.name, func(t *testing.T) {
				for _, r := range api.reqs {
					hr, err := http.NewRequest(r.method, r.url, bytes.NewReader(r.body))
					if err != nil {
						t.Fatal(err)
					}
					if cr.set {
						hr.SetBasicAuth(cr.user, cr.pass)
					}
					if r.ctype != "" {
						hr.Header.Set("Content-Type", r.ctype)
					}
					resp, err := http.DefaultClient.Do(hr)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("%s %s: status %d, want 401: %s", r.method, r.url, resp.StatusCode, body)
						continue
					}
					api.check(t, r, resp, body)
				}
			})
		}
	}

	// Nothing the refused requests asked for happened.
	var fns []struct {
		AppName string `json:"appname"`
	}
	c.GetJSON(c.Eventing+"/api/v1/functions", &fns)
	if len(fns) != 1 || fns[0].AppName != "fn" {
		t.Fatalf("functions after refused requests: %+v", fns)
	}
	if s := c.CompositeStatus("fn"); s != "undeployed" {
		t.Fatalf("fn is %s after a refused deploy", s)
	}
	if got := sortedKeys(c.docMap("src")); len(got) != 3 || got[0] != "doc00000" {
		t.Fatalf("src after refused writes: %v", got)
	}
	if code, _ := c.Do(http.MethodGet, c.Mgmt+"/pools/default/buckets/intruder", "", nil); code != http.StatusNotFound {
		t.Fatalf("bucket intruder: status %d, want 404", code)
	}
	c.Must(http.StatusOK, http.MethodGet, c.Mgmt+"/pools/default/buckets/src", "", nil)
}

// TestBadInput_ChangesNothing: invalid function definitions, lifecycle
// operations and document writes are refused with Couchbase's (and Sync
// Gateway's) errors, and leave the stored state as it was.
func TestBadInput_ChangesNothing(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	good := fnSpec{name: "good", code: copyCode, bindings: []binding{{"dst", "dst", "rw"}}}
	c.CreateFunction("good", good.def())
	list := c.functionList()

	post := func(def any) []byte {
		b, ok := def.([]byte)
		if !ok {
			b, _ = json.Marshal(def)
		}
		return b
	}
	with := func(change func(s *fnSpec)) map[string]any {
		s := good
		s.name = "bad"
		s.settings = map[string]any{}
		change(&s)
		return s.def()
	}
	cases := []struct {
		name     string
		fn       string
		body     any
		status   int
		errName  string
		contains string
	}{
		{"malformed JSON", "bad", []byte(`{"appname": "bad", "appcode": `), 400, "ERR_UNMARSHAL_PLD", ""},
		{"not an object", "bad", []byte(`"bad"`), 400, "ERR_UNMARSHAL_PLD", ""},
		{"unknown source bucket", "bad", with(func(s *fnSpec) { s.source = "nosuch" }), 400, "ERR_BUCKET_MISSING", "nosuch"},
		{"unknown metadata bucket", "bad", with(func(s *fnSpec) { s.meta = "nosuch" }), 400, "ERR_BUCKET_MISSING", "nosuch"},
		{"unknown binding bucket", "bad", with(func(s *fnSpec) { s.bindings = []binding{{"dst", "nosuch", "rw"}} }), 400, "ERR_BUCKET_MISSING", "nosuch"},
		{"source is metadata", "bad", with(func(s *fnSpec) { s.meta = "src" }), 422, "ERR_SRC_MB_SAME", ""},
		{"bad name", "bad@name", with(func(s *fnSpec) { s.name = "bad@name" }), 400, "ERR_INVALID_CONFIG", "Function name can only start with"},
		{"name starting with a hyphen", "-bad", with(func(s *fnSpec) { s.name = "-bad" }), 400, "ERR_INVALID_CONFIG", "Function name can only start with"},
		{"name too long", strings.Repeat("n", 100), with(func(s *fnSpec) { s.name = strings.Repeat("n", 100) }), 400, "ERR_INVALID_CONFIG", "less than 100"},
		{"name mismatch", "other", with(func(s *fnSpec) {}), 422, "ERR_APPNAME_MISMATCH", ""},
		{"worker_count 0", "bad", with(func(s *fnSpec) { s.settings["worker_count"] = 0 }), 400, "ERR_INVALID_CONFIG", "worker_count"},
		{"timer_context_size too big", "bad", with(func(s *fnSpec) { s.settings["timer_context_size"] = 20971521 }), 400, "ERR_INVALID_CONFIG", "timer_context_size"},
		{"execution_timeout a string", "bad", with(func(s *fnSpec) { s.settings["execution_timeout"] = "10" }), 400, "ERR_INVALID_CONFIG", "execution_timeout"},
		{"unknown stream boundary", "bad", with(func(s *fnSpec) { s.settings["dcp_stream_boundary"] = "yesterday" }), 400, "ERR_INVALID_CONFIG", "dcp_stream_boundary"},
		{"app_log_max_size too small", "bad", with(func(s *fnSpec) { s.settings["app_log_max_size"] = 100 }), 400, "ERR_INVALID_CONFIG", "app_log_max_size"},
		{"code that does not compile", "bad", with(func(s *fnSpec) {
			s.code = "function OnUpdate(doc, meta) {\n  var x = 1;\n  dst[meta.id] = doc +;\n}"
		}), 422, "ERR_HANDLER_COMPILATION", "line 3"},
		{"global variable", "bad", with(func(s *fnSpec) {
			s.code = "var counter = 0;\nfunction OnUpdate(doc, meta) {}"
		}), 422, "ERR_HANDLER_COMPILATION", "Only functions allowed in global space"},
		{"octal literal in strict mode", "bad", with(func(s *fnSpec) {
			s.code = "function OnUpdate(doc, meta) {\n  var mode = 0644;\n}"
		}), 422, "ERR_HANDLER_COMPILATION", "line 2"},
		{"no entry point", "bad", with(func(s *fnSpec) { s.code = "function Handle(doc) {}" }), 422, "ERR_HANDLER_COMPILATION", "OnUpdate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cc := &client{c.For(t)}
			e := cc.expectError(tc.status, tc.errName, http.MethodPost, c.Eventing+"/api/v1/functions/"+tc.fn, post(tc.body))
			if !strings.Contains(e.Description, tc.contains) {
				t.Errorf("description %q does not mention %q", e.Description, tc.contains)
			}
			if e.RuntimeInfo.Code != e.Code {
				t.Errorf("runtime_info.code %d, code %d", e.RuntimeInfo.Code, e.Code)
			}
			cc.requireUnchanged(list, tc.name)
		})
	}

	// The compilation error names the line and column in runtime_info.
	e := c.expectError(422, "ERR_HANDLER_COMPILATION", http.MethodPost, c.Eventing+"/api/v1/functions/bad",
		post(with(func(s *fnSpec) { s.code = "function OnUpdate(doc, meta) {\n\n  dst[meta.id] = ;\n}" })))
	var info struct {
		Line int  `json:"line_number"`
		OK   bool `json:"compile_success"`
	}
	if err := json.Unmarshal(e.RuntimeInfo.Info, &info); err != nil || info.Line != 3 || info.OK {
		t.Fatalf("compilation runtime_info.info %s (err %v), want line_number 3", e.RuntimeInfo.Info, err)
	}

	// Lifecycle and settings: deploy the good function, then try what a
	// deployed function refuses.
	c.Lifecycle("good", "deploy")
	c.WaitStatus("good", "deployed")
	list = c.functionList()
	settings := c.Must(http.StatusOK, http.MethodGet, c.Eventing+"/api/v1/functions/good/settings", "", nil)
	c.expectError(422, "ERR_APP_ALREADY_DEPLOYED", http.MethodPost, c.Eventing+"/api/v1/functions/good/deploy", nil)
	c.expectError(422, "ERR_APP_ALREADY_DEPLOYED", http.MethodPost, c.Eventing+"/api/v1/functions/good/resume", nil)
	e = c.expectError(400, "ERR_INVALID_REQUEST", http.MethodPost, c.Eventing+"/api/v1/functions/good/settings", []byte(`{"worker_count": 3}`))
	if !strings.Contains(e.Description, "worker_count") {
		t.Fatalf("settings refusal %q does not name worker_count", e.Description)
	}
	c.expectError(400, "ERR_INVALID_CONFIG", http.MethodPost, c.Eventing+"/api/v1/functions/good/settings", []byte(`{"worker_count": -1}`))
	redefined := good.def()
	redefined["appcode"] = "function OnUpdate(doc, meta) { log(meta.id); }"
	c.expectError(400, "ERR_INVALID_REQUEST", http.MethodPost, c.Eventing+"/api/v1/functions/good", post(redefined))
	c.expectError(400, "ERR_INVALID_REQUEST", http.MethodPost, c.Eventing+"/api/v1/functions/good/appcode", []byte("function OnUpdate(doc, meta) {}"))
	// eventide answers the 7.x 404 ERR_APP_NOT_FOUND_TS here (8.x: 400
	// ERR_APP_NOT_FOUND), which the SDKs map to "function not found".
	c.expectError(404, "ERR_APP_NOT_FOUND_TS", http.MethodPost, c.Eventing+"/api/v1/functions/nosuch/deploy", nil)
	c.requireUnchanged(list, "refused changes to a deployed function")
	if now := c.Must(http.StatusOK, http.MethodGet, c.Eventing+"/api/v1/functions/good/settings", "", nil); !bytes.Equal(now, settings) {
		t.Fatalf("settings changed:\nbefore %s\nafter  %s", settings, now)
	}
	if s := c.CompositeStatus("good"); s != "deployed" {
		t.Fatalf("good is %s", s)
	}
	// What a deployed function may change, it can.
	c.Must(http.StatusOK, http.MethodPost, c.Eventing+"/api/v1/functions/good/settings", "application/json", []byte(`{"description": "copies src to dst"}`))
	var st struct {
		Description string `json:"description"`
		WorkerCount int    `json:"worker_count"`
	}
	c.GetJSON(c.Eventing+"/api/v1/functions/good/settings", &st)
	if st.Description != "copies src to dst" || st.WorkerCount != 1 {
		t.Fatalf("settings after a description change: %+v", st)
	}
	// It still runs the original code.
	c.BulkDocs("src", docs("doc", 0, 5))
	waitCount(t, c, "dst", 5)

	// Sync Gateway: a _bulk_docs with a stale _rev fails for that document
	// (409) and applies the others.
	revs := c.BulkDocs("src", []map[string]any{{"_id": "k", "v": 1}})
	stale := revs["k"]
	c.BulkDocs("src", []map[string]any{{"_id": "k", "_rev": stale, "v": 2}})
	_, cur := c.getDoc("src", "k")
	body, _ := json.Marshal(map[string]any{"docs": []map[string]any{
		{"_id": "new1", "v": 1},
		{"_id": "k", "_rev": stale, "v": 3},
		{"_id": "new2", "v": 1},
	}})
	out := c.Must(http.StatusCreated, http.MethodPost, c.SyncGW+"/src/_bulk_docs", "application/json", body)
	var res []struct {
		ID, Rev, Error, Reason string
		Status                 int
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 3 {
		t.Fatalf("_bulk_docs answer %s: %v", out, err)
	}
	if res[0].Error != "" || res[0].Rev == "" || res[2].Error != "" || res[2].Rev == "" {
		t.Fatalf("the valid documents failed: %s", out)
	}
	if res[1].ID != "k" || res[1].Status != http.StatusConflict || res[1].Error != "conflict" {
		t.Fatalf("stale _rev result %+v, want 409 conflict", res[1])
	}
	code, now := c.getDoc("src", "k")
	if code != http.StatusOK || now["_rev"] != cur["_rev"] || now["v"] != 2.0 {
		t.Fatalf("src/k after a stale write: %d %v, want %v", code, now, cur)
	}
	for _, id := range []string{"new1", "new2"} {
		if code, d := c.getDoc("src", id); code != http.StatusOK || d["v"] != 1.0 {
			t.Fatalf("src/%s: %d %v", id, code, d)
		}
	}
	// The function saw the applied documents, and k only in its current version.
	waitFor(t, 30*time.Second, "dst copies of new1, new2 and k", func() bool {
		d := c.docMap("dst")
		return d["new1"] != nil && d["new2"] != nil && d["k"] != nil && d["k"]["v"] == 2.0
	})
}
