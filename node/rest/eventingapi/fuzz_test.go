package eventingapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"eventide/node/rest/resttest"
)

// The fuzz targets send arbitrary bodies to the endpoints that decode
// function definitions and settings, as the API decodes them. Every
// answer keeps the invariants: no 500, an error in Couchbase Eventing's
// shape (name, code, description), no Go internals.

func checkEventingAnswer(t *testing.T, what string, r resp) {
	t.Helper()
	if r.code >= http.StatusInternalServerError {
		t.Fatalf("%s: %d %s", what, r.code, r.body)
	}
	if r.code >= 400 {
		var body struct {
			Name        string `json:"name"`
			Code        int    `json:"code"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Name == "" || body.Code == 0 || body.Description == "" {
			t.Fatalf("%s: error body not in Eventing's shape: %d %q", what, r.code, r.body)
		}
	}
	resttest.CheckNoGoInternals(t, what, r.body)
}

func addEventingSeeds(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, resttest.MalformedJSON...) {
		f.Add(s)
	}
}

func FuzzFunctionDefinition(f *testing.F) {
	addEventingSeeds(f, fn("f1", nil), "["+fn("f1", nil)+","+fn("f2", nil)+"]", fn("f1", func(m map[string]any) {
		m["depcfg"] = map[string]any{"source_bucket": "travel", "source_scope": "inventory", "source_collection": "hotels",
			"metadata_bucket": "meta", "buckets": []any{map[string]any{"alias": "dst", "bucket_name": "dst", "access": "rw"}},
			"constants": []any{map[string]any{"value": "k", "literal": "1"}}, "curl": []any{map[string]any{"value": "c", "hostname": "http://x"}}}
	}), fn("f1", func(m map[string]any) { m["appcode"] = "function OnUpdate(doc, meta) {" }))
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t)
		for _, p := range []string{"/api/v1/functions/f1", "/api/v1/functions", "/api/v1/import"} {
			checkEventingAnswer(t, "POST "+p+" "+body, e.do("POST", p, body))
		}
	})
}

func FuzzFunctionSettings(f *testing.F) {
	addEventingSeeds(f, `{"worker_count":3,"dcp_stream_boundary":"from_now","deployment_status":false}`,
		`{"description":"d","log_level":"TRACE","timer_context_size":2048,"handler_headers":["a"]}`,
		`{"source_bucket":"src","metadata_bucket":"meta"}`, `{"enable_debugger":true,"ram_quota":512}`)
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t)
		e.mustCreate("f1", nil)
		for _, p := range []string{"/api/v1/functions/f1/settings", "/api/v1/functions/f1/config", "/api/v1/config"} {
			checkEventingAnswer(t, "POST "+p+" "+body, e.do("POST", p, body))
		}
	})
}
