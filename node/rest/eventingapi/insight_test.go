package eventingapi_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"eventide/eventing"
	"eventide/eventing/eventingtest"
	"eventide/handler"
	"eventide/node/rest/eventingapi"
)

// insightRuntime gives the stand-in runtime this node's code insight.
type insightRuntime struct {
	*eventingtest.Runtime
	lines map[string]map[int]handler.InsightLine
}

func (r insightRuntime) Insight(fn string) map[int]handler.InsightLine { return r.lines[fn] }

// insightFleet answers aggregate requests with fixed merged insight.
type insightFleet struct {
	*eventingtest.Fleet
	lines       map[string]map[int]handler.InsightLine
	unreachable []string
}

func (c insightFleet) Insight(_ context.Context, fns []string) (map[string]map[int]handler.InsightLine, []string, error) {
	out := map[string]map[int]handler.InsightLine{}
	for _, fn := range fns {
		out[fn] = c.lines[fn]
	}
	return out, c.unreachable, nil
}

func TestGetInsight(t *testing.T) {
	local := map[string]map[int]handler.InsightLine{
		"f": {2: {ErrorCount: 3, ErrorMsg: "Error: boom", LastLog: `"k1" `}},
	}
	merged := map[string]map[int]handler.InsightLine{
		"f": {2: {ErrorCount: 7, ErrorMsg: "Error: boom", LastLog: `"k1" `}},
	}
	e := newEnv(t, func(c *eventing.Config, _ *eventingapi.Config) {
		c.Runtime = insightRuntime{Runtime: eventingtest.NewRuntime(), lines: local}
		c.Fleet = insightFleet{Fleet: &eventingtest.Fleet{Nodes: 2, Deployed: map[string]int{}}, lines: merged, unreachable: []string{"n2"}}
	})
	e.mustCreate("f", nil)
	e.mustCreate("g", nil)
	code := "function OnUpdate(doc, meta) {\n  log(meta.id);\n}"

	r := e.do("GET", "/getInsight", "")
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("getInsight: %d %s", r.code, r.body)
	}
	want := map[string]any{
		"f": map[string]any{"script": code, "lines": map[string]any{
			"2": map[string]any{"error_count": float64(3), "error_msg": "Error: boom", "last_log": `"k1" `},
		}},
		"g": map[string]any{"script": code, "lines": map[string]any{}},
	}
	if got := r.obj(t); !reflect.DeepEqual(got, want) {
		t.Errorf("getInsight = %s\nwant %v", r.body, want)
	}

	r = e.do("GET", "/getInsight?name=f&aggregate=true", "")
	want = map[string]any{"f": map[string]any{"script": code, "unreachable_nodes": []any{"n2"}, "lines": map[string]any{
		"2": map[string]any{"error_count": float64(7), "error_msg": "Error: boom", "last_log": `"k1" `},
	}}}
	if got := r.obj(t); r.code != http.StatusOK || !reflect.DeepEqual(got, want) {
		t.Errorf("aggregated getInsight = %d %s\nwant %v", r.code, r.body, want)
	}
	if r := e.do("GET", "/getInsight?appName=g&aggregate=false", ""); r.code != http.StatusOK || len(r.obj(t)) != 1 || r.obj(t)["g"] == nil {
		t.Errorf("getInsight?appName=g = %d %s", r.code, r.body)
	}
	// Trailing slashes are ignored, as on every route.
	if r := e.do("GET", "/getInsight/?name=f", ""); r.code != http.StatusOK || !strings.Contains(r.body, `"error_count": 3`) {
		t.Errorf("getInsight/ = %d %s", r.code, r.body)
	}
}

func TestGetInsight_BadRequests(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	snap := e.be.Snapshot()
	e.do("GET", "/getInsight?name=nope", "").wantErr(t, http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", "Function: nope not found")
	e.do("GET", "/getInsight?name=f&bucket=b1&scope=s1", "").wantErr(t, http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", "b1/s1/f")
	e.do("GET", "/getInsight?aggregate=maybe", "").wantErr(t, http.StatusBadRequest, "ERR_INVALID_REQUEST", "aggregate")
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		r := e.do(m, "/getInsight?name=f", "{}")
		r.wantErr(t, http.StatusMethodNotAllowed, "ERR_METHOD_NOT_ALLOWED", "Only GET is allowed")
		if r.header.Get("Allow") != "GET" {
			t.Errorf("%s: Allow %q", m, r.header.Get("Allow"))
		}
	}
	e.doAs("GET", "/getInsight", "", user, "wrong").wantErr(t, http.StatusUnauthorized, "ERR_UNAUTHENTICATED", "Unauthenticated")
	e.unchanged(snap)
	// Without an insight runtime, functions are listed with no lines.
	r := e.do("GET", "/getInsight", "")
	if r.code != http.StatusOK || !strings.Contains(r.body, `"lines": {}`) {
		t.Errorf("getInsight = %d %s", r.code, r.body)
	}
}
