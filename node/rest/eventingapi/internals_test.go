package eventingapi_test

import (
	"testing"

	"eventide/node/rest/resttest"
)

// TestMalformedInputs_NoGoInternals sends malformed bodies and query
// parameters to every endpoint and checks that no answer carries Go's
// error text: every description is in Couchbase Eventing's words.
func TestMalformedInputs_NoGoInternals(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f1", nil)
	bodyTargets := []string{
		"/api/v1/functions", "/api/v1/functions/f1", "/api/v1/functions/f2", "/api/v1/functions/f1/settings",
		"/api/v1/functions/f1/config", "/api/v1/functions/f1/appcode", "/api/v1/config", "/api/v1/import",
		"/api/v1/functions/f1/deploy", "/resetStatsCounters?name=f1",
	}
	for _, p := range bodyTargets {
		for _, body := range resttest.MalformedJSON {
			r := e.do("POST", p, body)
			resttest.CheckNoGoInternals(t, "POST "+p+" "+body, r.body)
		}
	}
	queries := []string{
		"/api/v1/functions/f1?handleruuid=x", "/api/v1/functions/f1?handleruuid=99999999999", "/api/v1/functions/f1?bucket=a.b&scope=%25",
		"/getAppLog?name=f1&size=x", "/getAppLog?name=f1&size=99999999999999999999", "/getAppLog?name=f1&aggregate=maybe",
		"/api/v1/functions/f1/applog?size=-1", "/api/v1/list/functions?deployed=maybe&function_type=x",
		"/api/v1/list/functions?source_scope=x", "/api/v1/config?bucket=x", "/getExecutionStats", "/getExecutionStats?name=%00",
		"/api/v1/status/nofn", "/api/v1/stats/f1?type=x", "/api/v1/functions/" + "%F0%28", "/api/v1/nothing",
	}
	for _, q := range queries {
		for _, m := range []string{"GET", "DELETE", "PUT"} {
			r := e.do(m, q, "")
			resttest.CheckNoGoInternals(t, m+" "+q, r.body)
		}
	}
}
