package eventingapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"eventide/eventing"
	"eventide/node/rest/eventingapi"
)

func TestFunctionCRUD(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f1", func(m map[string]any) {
		set(m)["worker_count"] = 2
		dep(m)["buckets"] = []any{map[string]any{"alias": "dst", "bucket_name": "dst", "access": "r"}}
		dep(m)["curl"] = []any{map[string]any{"hostname": "https://example.com/api", "value": "ext", "auth_type": "basic", "username": "u", "password": "secret"}}
		dep(m)["constants"] = []any{map[string]any{"value": "limit", "literal": "[1, 'two']"}}
		m["appcode"] = "function OnUpdate(doc, meta) {\n  log(limit);\n}"
	})

	got := e.do("GET", "/api/v1/functions/f1", "").obj(t)
	if got["appname"] != "f1" || got["appcode"] != "function OnUpdate(doc, meta) {\n  log(limit);\n}" {
		t.Errorf("definition %v", got)
	}
	s := got["settings"].(map[string]any)
	if s["worker_count"] != float64(2) || s["deployment_status"] != false || s["language_compatibility"] != "7.2.0" ||
		s["timer_context_size"] != float64(1024) || s["log_level"] != "INFO" {
		t.Errorf("settings %v", s)
	}
	d := got["depcfg"].(map[string]any)
	b := d["buckets"].([]any)[0].(map[string]any)
	if b["scope_name"] != "_default" || b["collection_name"] != "_default" || b["access"] != "r" {
		t.Errorf("bucket binding %v", b)
	}
	if k := d["constants"].([]any)[0].(map[string]any); k["value"] != "limit" || k["literal"] != "[1, 'two']" {
		t.Errorf("constant binding %v", k)
	}
	c := d["curl"].([]any)[0].(map[string]any)
	if c["password"] != "*****" || c["username"] != "u" {
		t.Errorf("curl binding not masked: %v", c)
	}
	if got["handleruuid"].(float64) == 0 || got["function_scope"].(map[string]any)["bucket"] != "*" {
		t.Errorf("ids/scope %v %v", got["handleruuid"], got["function_scope"])
	}

	// Posting the masked definition back keeps the stored password.
	e.do("POST", "/api/v1/functions/f1", e.do("GET", "/api/v1/functions/f1", "").body).wantOK(t, "Successfully stored")
	def, _ := e.svc.Function(eventing.GlobalLocation("f1"))
	rec, _ := e.be.Function("f1")
	stored, _ := eventing.ParseStoredDefinition(rec.Definition)
	if stored.DepCfg.Curl[0].Password != "secret" || def.DepCfg.Curl[0].Password != "*****" {
		t.Errorf("password after round trip: stored %q shown %q", stored.DepCfg.Curl[0].Password, def.DepCfg.Curl[0].Password)
	}

	list := e.do("GET", "/api/v1/functions", "").json(t).([]any)
	if len(list) != 1 || list[0].(map[string]any)["appname"] != "f1" {
		t.Errorf("list %v", list)
	}
	// A single-element array is accepted by the single-function endpoint.
	e.do("POST", "/api/v1/functions/f2", "["+fn("f2", nil)+"]").wantOK(t, "Successfully stored")

	e.do("DELETE", "/api/v1/functions/f1", "").wantOK(t, "Successfully deleted")
	e.do("GET", "/api/v1/functions/f1", "").wantErr(t, http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", "f1")
	e.do("DELETE", "/api/v1/functions/f1", "").wantErr(t, http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", "f1")

	// handleruuid on delete must match.
	uuid := e.do("GET", "/api/v1/functions/f2", "").obj(t)["handleruuid"].(float64)
	e.do("DELETE", fmt.Sprintf("/api/v1/functions/f2?handleruuid=%d", uint32(uuid)+1), "").wantErr(t, http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", "handleruuid")
	e.do("DELETE", "/api/v1/functions/f2?handleruuid=x", "").wantErr(t, http.StatusBadRequest, "ERR_INVALID_REQUEST", "handleruuid")
	e.do("DELETE", fmt.Sprintf("/api/v1/functions/f2?handleruuid=%d", uint32(uuid)), "").wantOK(t, "Successfully deleted")
}

func TestCreateErrors(t *testing.T) {
	long := strings.Repeat("a", 100)
	cases := []struct {
		name   string
		path   string
		body   string
		status int
		err    string
		substr string
	}{
		{"malformed JSON", "/api/v1/functions/f", `{"appname": "f", `, 400, "ERR_UNMARSHAL_PLD", "invalid JSON"},
		{"empty body", "/api/v1/functions/f", ``, 400, "ERR_UNMARSHAL_PLD", "empty"},
		{"not an object", "/api/v1/functions/f", `"f"`, 400, "ERR_UNMARSHAL_PLD", ""},
		{"appcode wrong type", "/api/v1/functions/f", `{"appname":"f","appcode":5,"depcfg":{"source_bucket":"src","metadata_bucket":"meta"}}`, 400, "ERR_UNMARSHAL_PLD", "appcode"},
		{"depcfg wrong type", "/api/v1/functions/f", `{"appname":"f","appcode":"","depcfg":[]}`, 400, "ERR_UNMARSHAL_PLD", "depcfg"},
		{"settings wrong type", "/api/v1/functions/f", `{"appname":"f","appcode":"","depcfg":{"source_bucket":"src","metadata_bucket":"meta"},"settings":[]}`, 400, "ERR_UNMARSHAL_PLD", "settings"},
		{"two functions", "/api/v1/functions/f", "[" + fn("f", nil) + "," + fn("f", nil) + "]", 400, "ERR_INVALID_REQUEST", "Only one function"},
		{"no appname", "/api/v1/functions/f", `{"appcode":"x","depcfg":{}}`, 400, "ERR_INVALID_REQUEST", "appname"},
		{"bad name", "/api/v1/functions/bad%20name", fn("bad name", nil), 400, "ERR_INVALID_CONFIG", "bad name"},
		{"leading underscore", "/api/v1/functions/_f", fn("_f", nil), 400, "ERR_INVALID_CONFIG", "_f"},
		{"name too long", "/api/v1/functions/" + long, fn(long, nil), 400, "ERR_INVALID_CONFIG", "less than 100"},
		{"appname mismatch", "/api/v1/functions/f", fn("g", nil), 422, "ERR_APPNAME_MISMATCH", "(f)"},
		{"unknown source bucket", "/api/v1/functions/f", fn("f", func(m map[string]any) { dep(m)["source_bucket"] = "nope" }), 400, "ERR_BUCKET_MISSING", "nope"},
		{"unknown metadata collection", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["metadata_bucket"] = "travel"
			dep(m)["metadata_scope"] = "inventory"
			dep(m)["metadata_collection"] = "nope"
		}), 400, "ERR_COLLECTION_MISSING", "travel/inventory/nope"},
		{"unknown scope", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["source_bucket"] = "travel"
			dep(m)["source_scope"] = "nope"
		}), 400, "ERR_COLLECTION_MISSING", "scope"},
		{"unknown binding bucket", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["buckets"] = []any{map[string]any{"alias": "x", "bucket_name": "nope", "access": "rw"}}
		}), 400, "ERR_BUCKET_MISSING", "nope"},
		{"source equals metadata", "/api/v1/functions/f", fn("f", func(m map[string]any) { dep(m)["metadata_bucket"] = "src" }), 422, "ERR_SRC_MB_SAME", "src/_default/_default"},
		{"wildcard source", "/api/v1/functions/f", fn("f", func(m map[string]any) { dep(m)["source_scope"] = "*" }), 400, "ERR_INVALID_REQUEST", "wildcard"},
		{"no source bucket", "/api/v1/functions/f", fn("f", func(m map[string]any) { delete(dep(m), "source_bucket") }), 400, "ERR_INVALID_REQUEST", "source_bucket"},
		{"reserved alias", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["buckets"] = []any{map[string]any{"alias": "select", "bucket_name": "dst"}}
		}), 400, "ERR_INVALID_REQUEST", "N1QL reserved word"},
		{"js reserved alias", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["buckets"] = []any{map[string]any{"alias": "function", "bucket_name": "dst"}}
		}), 400, "ERR_INVALID_REQUEST", "JavaScript reserved word"},
		{"hyphen alias", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["buckets"] = []any{map[string]any{"alias": "my-dst", "bucket_name": "dst"}}
		}), 400, "ERR_INVALID_REQUEST", "my-dst"},
		{"duplicate alias", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["buckets"] = []any{map[string]any{"alias": "x", "bucket_name": "dst"}}
			dep(m)["curl"] = []any{map[string]any{"alias": "x", "value": "x", "hostname": "http://h", "auth_type": "no-auth"}}
		}), 400, "ERR_INVALID_REQUEST", "more than one binding"},
		{"constant not an expression", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["constants"] = []any{map[string]any{"value": "k", "literal": "1; 2"}}
		}), 400, "ERR_INVALID_REQUEST", "single expression"},
		{"constant empty", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["constants"] = []any{map[string]any{"value": "k", "literal": " "}}
		}), 400, "ERR_INVALID_REQUEST", "empty literal"},
		{"curl scheme", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["curl"] = []any{map[string]any{"value": "x", "hostname": "ftp://h", "auth_type": "no-auth"}}
		}), 400, "ERR_INVALID_REQUEST", "http://"},
		{"curl auth type", "/api/v1/functions/f", fn("f", func(m map[string]any) {
			dep(m)["curl"] = []any{map[string]any{"value": "x", "hostname": "http://h", "auth_type": "kerberos"}}
		}), 400, "ERR_INVALID_REQUEST", "auth type"},
		{"setting out of range", "/api/v1/functions/f", fn("f", func(m map[string]any) { set(m)["timer_context_size"] = 20971521 }), 400, "ERR_INVALID_CONFIG", "timer_context_size"},
		{"setting wrong type", "/api/v1/functions/f", fn("f", func(m map[string]any) { set(m)["worker_count"] = "3" }), 400, "ERR_INVALID_CONFIG", "worker_count"},
		{"compile error", "/api/v1/functions/f", fn("f", func(m map[string]any) { m["appcode"] = "function OnUpdate(doc, meta) {\n  var = 1;\n}" }), 422, "ERR_HANDLER_COMPILATION", "line 2"},
		{"no entry point", "/api/v1/functions/f", fn("f", func(m map[string]any) { m["appcode"] = "function helper() {}" }), 422, "ERR_HANDLER_COMPILATION", "OnUpdate"},
		{"global statement", "/api/v1/functions/f", fn("f", func(m map[string]any) { m["appcode"] = "feefifofum" }), 422, "ERR_HANDLER_COMPILATION", "Only functions allowed"},
		{"native format", "/api/v1/functions/f", fn("f", func(m map[string]any) { m["version"] = 2 }), 400, "ERR_INVALID_REQUEST", "native"},
		{"processing without deployment", "/api/v1/functions/f", fn("f", func(m map[string]any) { set(m)["processing_status"] = true }), 400, "ERR_INVALID_REQUEST", "processing_status"},
		{"bucket without scope", "/api/v1/functions/f?bucket=travel", fn("f", nil), 400, "ERR_INVALID_REQUEST", "function scope"},
		{"too large", "/api/v1/functions/f", fn("f", func(m map[string]any) { m["appcode"] = strings.Repeat("x", 5000) }), 400, "ERR_READ_REQ", "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(_ *eventing.Config, a *eventingapi.Config) { a.MaxBodyBytes = 4096 })
			snap := e.be.Snapshot()
			e.do("POST", c.path, c.body).wantErr(t, c.status, c.err, c.substr)
			e.unchanged(snap)
		})
	}
}

func TestCompileErrorBody(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/functions/f", fn("f", func(m map[string]any) {
		m["appcode"] = "function OnUpdate(doc, meta) {\n  var x = ;\n}"
	}))
	r.wantErr(t, 422, "ERR_HANDLER_COMPILATION", "SyntaxError")
	info := r.obj(t)["runtime_info"].(map[string]any)["info"].(map[string]any)
	if info["line_number"] != float64(2) || info["column_number"] != float64(11) || info["compile_success"] != false {
		t.Errorf("compile info %v", info)
	}
}

func TestLifecycleEndpoints(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	e.do("POST", "/api/v1/functions/nope/deploy", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "nope")
	e.do("POST", "/api/v1/functions/f/undeploy", "").wantErr(t, 406, "ERR_APP_NOT_DEPLOYED", "already in undeployed state")
	e.do("POST", "/api/v1/functions/f/pause", "").wantErr(t, 423, "ERR_APP_NOT_BOOTSTRAPPED", "not deployed")
	e.do("POST", "/api/v1/functions/f/resume", "").wantErr(t, 406, "ERR_APP_NOT_DEPLOYED", "paused")

	e.do("POST", "/api/v1/functions/f/deploy", "").wantOK(t, "Function: f is deploying")
	if st := e.do("GET", "/api/v1/status/f", "").obj(t)["app"].(map[string]any)["composite_status"]; st != "deploying" {
		t.Errorf("composite_status %v", st)
	}
	snap := e.be.Snapshot()
	e.do("POST", "/api/v1/functions/f/deploy", "").wantErr(t, 422, "ERR_APP_ALREADY_DEPLOYED", "already in deployed state")
	e.do("DELETE", "/api/v1/functions/f", "").wantErr(t, 422, "ERR_APP_NOT_UNDEPLOYED", "hasn't been undeployed")
	e.do("POST", "/api/v1/functions/f/appcode", "function OnUpdate(doc, meta) {}").wantErr(t, 400, "ERR_INVALID_REQUEST", "already deployed")
	e.do("POST", "/api/v1/functions/f", fn("f", nil)).wantErr(t, 400, "ERR_INVALID_REQUEST", "deploying state")
	e.unchanged(snap)

	e.be.Settle(t, "f") // the supervisor's part
	e.do("POST", "/api/v1/functions/f/pause", "").wantOK(t, "Function: f is Pausing")
	e.be.Settle(t, "f")
	e.do("POST", "/api/v1/functions/f/pause", "").wantErr(t, 422, "ERR_APP_PAUSED", "already in paused state")
	// Code may change while paused.
	e.do("POST", "/api/v1/functions/f/appcode", "function OnUpdate(doc, meta) { log('v2'); }").wantOK(t, "Function: f appcode stored in the metakv")
	e.do("POST", "/api/v1/functions/f/resume", "").wantOK(t, "Function: f is Resuming")
	if st := e.do("GET", "/api/v1/status", "").obj(t)["apps"].([]any)[0].(map[string]any)["composite_status"]; st != "deploying" {
		t.Errorf("resume composite_status %v, want deploying", st)
	}
	e.be.Settle(t, "f")
	e.do("POST", "/api/v1/functions/f/undeploy", "").wantOK(t, "Function: f is undeploying")
	e.do("POST", "/api/v1/functions/f/deploy", "").wantErr(t, 423, "ERR_APP_NOT_BOOTSTRAPPED", "undeploying")
	e.be.Settle(t, "f")
	e.do("DELETE", "/api/v1/functions/f", "").wantOK(t, "Successfully deleted")
}

func TestConcurrentDeploysOneWins(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.do("POST", "/api/v1/functions/f/deploy", "").code
		}()
	}
	wg.Wait()
	ok, already := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 422:
			already++
		}
	}
	if ok != 1 || already != n-1 {
		t.Errorf("codes %v: want one 200 and %d 422", codes, n-1)
	}
}

func TestSettingsEndpoint(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	s := e.do("GET", "/api/v1/functions/f/settings", "").obj(t)
	if s["worker_count"] != float64(1) || s["deployment_status"] != false || s["processing_status"] != false ||
		s["app_log_max_size"] != float64(41943040) || s["num_timer_partitions"] != float64(1024) {
		t.Errorf("settings %v", s)
	}
	e.do("POST", "/api/v1/functions/f/settings", `{"worker_count": 4, "deployment_status": false, "processing_status": false}`).wantOK(t, "Function: f stored settings")
	if got := e.do("GET", "/api/v1/functions/f/settings", "").obj(t)["worker_count"]; got != float64(4) {
		t.Errorf("worker_count %v", got)
	}
	snap := e.be.Snapshot()
	e.do("POST", "/api/v1/functions/f/settings", `{"worker_count": 0}`).wantErr(t, 400, "ERR_INVALID_CONFIG", "worker_count")
	e.do("POST", "/api/v1/functions/f/settings", `{"worker_count": `).wantErr(t, 400, "ERR_UNMARSHAL_PLD", "")
	e.do("POST", "/api/v1/functions/f/settings", `["x"]`).wantErr(t, 400, "ERR_UNMARSHAL_PLD", "object")
	e.do("POST", "/api/v1/functions/nope/settings", `{}`).wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "nope")
	e.do("GET", "/api/v1/functions/nope/settings", ``).wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "nope")
	e.unchanged(snap)

	// The deprecated lifecycle: settings deploy, then only some settings may change.
	e.do("POST", "/api/v1/functions/f/settings", `{"deployment_status": true, "processing_status": true}`).wantOK(t, "")
	e.be.Settle(t, "f")
	snap = e.be.Snapshot()
	e.do("POST", "/api/v1/functions/f/settings", `{"worker_count": 8}`).wantErr(t, 400, "ERR_INVALID_REQUEST", "not allowed to change the setting: worker_count")
	e.unchanged(snap)
	e.do("POST", "/api/v1/functions/f/settings", `{"log_level": "TRACE", "deployment_status": true, "processing_status": true}`).wantOK(t, "")
	e.do("POST", "/api/v1/functions/f/settings", `{"deployment_status": true, "processing_status": false}`).wantOK(t, "")
	if st := e.do("GET", "/api/v1/status/f", "").obj(t)["app"].(map[string]any)["composite_status"]; st != "pausing" {
		t.Errorf("settings pause: composite_status %v", st)
	}
	got := e.do("GET", "/api/v1/functions/f/settings", "").obj(t)
	if got["log_level"] != "TRACE" || got["deployment_status"] != true || got["processing_status"] != false {
		t.Errorf("settings after pause %v", got)
	}
	e.be.Settle(t, "f")
	e.do("POST", "/api/v1/functions/f/settings", `{"deployment_status": false, "processing_status": false}`).wantOK(t, "")
	// No workers run a paused function: the FSM completes the undeploy at
	// once and drops the instance.
	rec, _ := e.be.Function("f")
	if rec.Status != eventing.StatusUndeployed || rec.InstanceID != "" {
		t.Errorf("settings undeploy: status %q instance %q", rec.Status, rec.InstanceID)
	}
}

func TestAppCodeEndpoints(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	r := e.do("GET", "/api/v1/functions/f/appcode", "")
	if r.code != 200 || r.body != "function OnUpdate(doc, meta) {\n  log(meta.id);\n}" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("appcode GET %d %q %q", r.code, r.body, r.header.Get("Content-Type"))
	}
	sum := sha256.Sum256([]byte(r.body))
	if c := e.do("GET", "/api/v1/functions/f/appcode/checksum", ""); c.body != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum %q", c.body)
	}
	e.do("POST", "/api/v1/functions/f/appcode/checksum", "x").wantErr(t, 405, "ERR_METHOD_NOT_ALLOWED", "checksum")

	// The handler defines its own N1qlQuery (a real one is refused until
	// the query service exists), which still draws the deprecation warning.
	code := "function OnUpdate(doc, meta) {\n  var r = new N1qlQuery('SELECT 1');\n}\nfunction log(x) {}\nfunction N1qlQuery(s) {}"
	r = e.do("POST", "/api/v1/functions/f/appcode", code)
	r.wantOK(t, "Function: f appcode stored in the metakv")
	warnings, _ := r.obj(t)["warning_info"].([]any)
	if len(warnings) != 2 || !strings.Contains(warnings[0].(string), "Deprecated") || !strings.Contains(warnings[1].(string), `["log","N1qlQuery"]`) {
		t.Errorf("warnings %v", warnings)
	}
	if got := e.do("GET", "/api/v1/functions/f/appcode", "").body; got != code {
		t.Errorf("stored code %q", got)
	}
	snap := e.be.Snapshot()
	e.do("POST", "/api/v1/functions/f/appcode", "function OnUpdate(doc, meta) { ; ; }}").wantErr(t, 422, "ERR_HANDLER_COMPILATION", "")
	e.do("GET", "/api/v1/functions/nope/appcode", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")
	e.do("GET", "/api/v1/functions/nope/appcode/checksum", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")
	e.unchanged(snap)
}

func TestFunctionConfigEndpoint(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", func(m map[string]any) {
		dep(m)["buckets"] = []any{map[string]any{"alias": "out", "bucket_name": "dst", "access": "rw"}}
	})
	got := e.do("GET", "/api/v1/functions/f/config", "").obj(t)
	want := map[string]any{
		"source_keyspace": map[string]any{"bucket_name": "src", "scope_name": "_default", "collection_name": "_default"},
		"meta_keyspace":   map[string]any{"bucket_name": "meta", "scope_name": "_default", "collection_name": "_default"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config %v", got)
	}
	e.do("POST", "/api/v1/functions/f/config", `{"source_bucket":"travel","source_scope":"inventory","source_collection":"hotels","metadata_bucket":"travel","metadata_scope":"inventory","metadata_collection":"meta"}`).
		wantOK(t, "Function: f stored deployment config")
	d := e.do("GET", "/api/v1/functions/f", "").obj(t)["depcfg"].(map[string]any)
	if d["source_collection"] != "hotels" || d["buckets"] != nil {
		t.Errorf("depcfg after POST %v (bindings are replaced, as Couchbase does)", d)
	}
	rec, _ := e.be.Function("f")
	if rec.Source.Collection != "hotels" {
		t.Errorf("record source %+v", rec.Source)
	}
	snap := e.be.Snapshot()
	e.do("POST", "/api/v1/functions/f/config", `{"source_bucket":"nope","metadata_bucket":"meta"}`).wantErr(t, 400, "ERR_BUCKET_MISSING", "nope")
	e.do("POST", "/api/v1/functions/f/config", `{"source_bucket":"meta","metadata_bucket":"meta"}`).wantErr(t, 422, "ERR_SRC_MB_SAME", "")
	e.do("POST", "/api/v1/functions/f/config", `{"source_bucket":5}`).wantErr(t, 400, "ERR_UNMARSHAL_PLD", "source_bucket")
	e.do("POST", "/api/v1/functions/nope/config", `{"source_bucket":"src","metadata_bucket":"meta"}`).wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")
	e.unchanged(snap)

	e.do("POST", "/api/v1/functions/f/deploy", "").wantOK(t, "")
	e.be.Settle(t, "f")
	snap = e.be.Snapshot()
	e.do("POST", "/api/v1/functions/f/config", `{"source_bucket":"src","metadata_bucket":"meta"}`).wantErr(t, 400, "ERR_INVALID_REQUEST", "deployed state")
	e.unchanged(snap)
	e.do("POST", "/api/v1/functions/f/pause", "").wantOK(t, "")
	e.be.Settle(t, "f")
	e.do("POST", "/api/v1/functions/f/config", `{"source_bucket":"src","metadata_bucket":"meta"}`).wantErr(t, 400, "ERR_INVALID_REQUEST", "not allowed to change the setting: depcfg.source_keyspace")
	// Bindings may change while paused.
	e.do("POST", "/api/v1/functions/f/config", `{"source_bucket":"travel","source_scope":"inventory","source_collection":"hotels","metadata_bucket":"travel","metadata_scope":"inventory","metadata_collection":"meta","buckets":[{"alias":"d","bucket_name":"dst","access":"r"}]}`).wantOK(t, "")
}

func TestStatusEndpoints(t *testing.T) {
	e := newEnv(t)
	e.cl.Nodes = 3
	e.mustCreate("a", nil)
	e.mustCreate("b", nil)
	e.do("POST", "/api/v1/functions/b/deploy", "").wantOK(t, "")
	e.be.Settle(t, "b")
	e.cl.Deployed["b"] = 3
	got := e.do("GET", "/api/v1/status", "").obj(t)
	want := map[string]any{
		"apps": []any{
			map[string]any{"composite_status": "undeployed", "name": "a", "function_scope": map[string]any{"bucket": "*", "scope": "*"},
				"num_bootstrapping_nodes": float64(0), "num_deployed_nodes": float64(0), "deployment_status": false, "processing_status": false, "redeploy_required": false},
			map[string]any{"composite_status": "deployed", "name": "b", "function_scope": map[string]any{"bucket": "*", "scope": "*"},
				"num_bootstrapping_nodes": float64(0), "num_deployed_nodes": float64(3), "deployment_status": true, "processing_status": true, "redeploy_required": false},
		},
		"num_eventing_nodes": float64(3),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status\n%v\nwant\n%v", got, want)
	}
	one := e.do("GET", "/api/v1/status/b", "").obj(t)
	if one["num_eventing_nodes"] != float64(3) || one["app"].(map[string]any)["name"] != "b" {
		t.Errorf("single status %v", one)
	}
	sel := e.do("GET", "/api/v1/status?appNames=b&appNames=zzz", "").obj(t)["apps"].([]any)
	if len(sel) != 1 || sel[0].(map[string]any)["name"] != "b" {
		t.Errorf("appNames selection %v", sel)
	}
	e.do("GET", "/api/v1/status/zzz", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "zzz")
}

func TestStatsEndpoints(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	e.do("POST", "/api/v1/functions/f/deploy", "").wantOK(t, "")
	e.rt.SetStats("f", eventing.RuntimeStats{
		ExecutionStats:   eventing.Counters{"on_update_success": 5},
		FailureStats:     eventing.Counters{"timeout_count": 1},
		LatencyHistogram: map[string]uint64{"1000": 2},
	})
	list := e.do("GET", "/api/v1/stats", "").json(t).([]any)
	if len(list) != 1 {
		t.Fatalf("stats %v", list)
	}
	st := list[0].(map[string]any)
	for _, k := range []string{"function_name", "function_scope", "function_id", "dcp_feed_boundary", "event_processing_stats",
		"events_remaining", "execution_stats", "failure_stats", "lcb_exception_stats", "latency_percentile_stats",
		"internal_vb_distribution_stats", "worker_pids", "lcb_creds_request_counter", "gocb_creds_request_counter"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stats lack %s", k)
		}
	}
	if _, ok := st["latency_stats"]; ok {
		t.Errorf("basic stats carry latency_stats")
	}
	full := e.do("GET", "/api/v1/stats?type=full", "").json(t).([]any)[0].(map[string]any)
	if full["latency_stats"].(map[string]any)["1000"] != float64(2) || full["seqs_processed"] == nil {
		t.Errorf("full stats %v", full)
	}
	if one := e.do("GET", "/api/v1/stats/f", "").obj(t); one["function_name"] != "f" {
		t.Errorf("single stats %v", one)
	}
	e.do("GET", "/api/v1/stats/nope", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")

	if ex := e.do("GET", "/getExecutionStats?name=f", "").obj(t); ex["on_update_success"] != float64(5) || ex["on_delete_success"] != float64(0) {
		t.Errorf("execution stats %v", ex)
	}
	if fs := e.do("GET", "/getFailureStats?name=f", "").obj(t); fs["timeout_count"] != float64(1) || fs["n1ql_op_exception_count"] != float64(0) {
		t.Errorf("failure stats %v", fs)
	}
	if ls := e.do("GET", "/getLatencyStats?name=f", "").obj(t); ls["1000"] != float64(2) {
		t.Errorf("latency stats %v", ls)
	}
	e.do("GET", "/getExecutionStats", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "name")
	e.do("GET", "/getLatencyStats?name=nope", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")
	e.do("GET", "/resetStatsCounters?appName=f", "").wantOK(t, "Done resetting counters")
	e.do("POST", "/resetStatsCounters?appName=f", "").wantOK(t, "Done resetting counters")
	e.do("GET", "/resetStatsCounters?appName=nope", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")
	if got := e.rt.Resets(); len(got) != 2 {
		t.Errorf("resets %v", got)
	}
}

func TestAppLogEndpoints(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("f", nil)
	e.rt.SetLog("f", "2024-05-01T10:00:00.000+00:00 [INFO] \"one\" \n2024-05-01T10:00:01.000+00:00 [INFO] \"two\" \n")
	r := e.do("GET", "/getAppLog?name=f", "")
	if r.code != 200 || r.body != "2024-05-01T10:00:01.000+00:00 [INFO] \"two\" \n2024-05-01T10:00:00.000+00:00 [INFO] \"one\" " ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("getAppLog %d %q", r.code, r.body)
	}
	if r := e.do("GET", "/getAppLog?appName=f&size=50", ""); r.body != "2024-05-01T10:00:01.000+00:00 [INFO] \"two\" " {
		t.Errorf("sized getAppLog %q", r.body)
	}
	lines := e.do("GET", "/api/v1/functions/f/applog?aggregate=false", "").json(t).([]any)
	if len(lines) != 2 || !strings.Contains(lines[0].(string), "two") {
		t.Errorf("local applog %v", lines)
	}
	// aggregate=true (the default of .../applog) goes through the cluster.
	e.cl.Nodes = 2
	e.cl.NodeLogs = map[string][]string{"f": {
		"2024-05-01T10:00:05.000+00:00 [INFO] \"remote\" \n",
		"2024-05-01T10:00:00.000+00:00 [INFO] \"one\" \n2024-05-01T10:00:01.000+00:00 [INFO] \"two\" \n",
	}}
	lines = e.do("GET", "/api/v1/functions/f/applog", "").json(t).([]any)
	if len(lines) != 3 || !strings.Contains(lines[0].(string), "remote") || !strings.Contains(lines[2].(string), "one") {
		t.Errorf("aggregated applog %v", lines)
	}
	if r := e.do("GET", "/getAppLog?name=f&aggregate=true&size=1000", ""); !strings.HasPrefix(r.body, "2024-05-01T10:00:05.000+00:00 [INFO] \"remote\"") {
		t.Errorf("aggregated getAppLog %q", r.body)
	}
	if len(e.cl.Sizes) != 2 || e.cl.Sizes[0] != eventing.DefaultAppLogSize/2 || e.cl.Sizes[1] != 500 {
		t.Errorf("per-node sizes %v", e.cl.Sizes)
	}
	e.do("GET", "/getAppLog?name=f&size=-1", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "size")
	e.do("GET", "/getAppLog?name=f&aggregate=maybe", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "aggregate")
	e.do("GET", "/getAppLog", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "name")
	e.do("GET", "/getAppLog?name=nope", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")
	e.do("GET", "/api/v1/functions/nope/applog", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")
}

func TestExportImport(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("a", nil)
	e.mustCreate("b", nil)
	e.do("POST", "/api/v1/functions/b/deploy", "").wantOK(t, "")
	exp := e.do("GET", "/api/v1/export", "").json(t).([]any)
	if len(exp) != 2 {
		t.Fatalf("export %v", exp)
	}
	for _, x := range exp {
		s := x.(map[string]any)["settings"].(map[string]any)
		if s["deployment_status"] != false || s["processing_status"] != false {
			t.Errorf("exported %v deployed", x.(map[string]any)["appname"])
		}
	}
	one := e.do("GET", "/api/v1/export/b", "").obj(t)
	if one["appname"] != "b" || one["settings"].(map[string]any)["deployment_status"] != false {
		t.Errorf("export b %v", one)
	}
	e.do("GET", "/api/v1/export/nope", "").wantErr(t, 404, "ERR_APP_NOT_FOUND_TS", "")

	// Import into a fresh cluster: undeployed, language_compatibility 6.0.0 when missing.
	e2 := newEnv(t)
	body := strings.ReplaceAll(e.do("GET", "/api/v1/export", "").body, `"language_compatibility": "7.2.0",`, "")
	res := e2.do("POST", "/api/v1/import", body).json(t).([]any)
	if len(res) != 2 {
		t.Fatalf("import results %v", res)
	}
	for _, x := range res {
		if x.(map[string]any)["code"] != float64(0) {
			t.Errorf("import result %v", x)
		}
	}
	got := e2.do("GET", "/api/v1/functions/b", "").obj(t)
	if got["settings"].(map[string]any)["language_compatibility"] != "6.0.0" {
		t.Errorf("imported language_compatibility %v", got["settings"])
	}
	if st, _ := e2.be.Function("b"); st.Status != eventing.StatusUndeployed {
		t.Errorf("imported status %q", st.Status)
	}
	// Importing a deployed definition still yields an undeployed function.
	dep := fn("c", func(m map[string]any) { set(m)["deployment_status"] = true; set(m)["processing_status"] = true })
	e2.do("POST", "/api/v1/import", dep)
	if st, _ := e2.be.Function("c"); st.Status != eventing.StatusUndeployed {
		t.Errorf("import honoured deployment_status: %q", st.Status)
	}

	// Whole-request failures store nothing.
	snap := e2.be.Snapshot()
	e2.do("POST", "/api/v1/import", "["+fn("x", nil)+","+fn("x", nil)+"]").wantErr(t, 400, "ERR_INVALID_REQUEST", "more than once")
	e2.do("POST", "/api/v1/import", "["+fn("y", nil)+`,{"appname": 1}]`).wantErr(t, 400, "ERR_UNMARSHAL_PLD", "function #1")
	e2.do("POST", "/api/v1/import", `{"a":`).wantErr(t, 400, "ERR_UNMARSHAL_PLD", "")
	e2.unchanged(snap)

	// Importing over a deployed function fails for that function only.
	e2.do("POST", "/api/v1/functions/c/deploy", "").wantOK(t, "")
	res = e2.do("POST", "/api/v1/import", "["+fn("c", nil)+","+fn("d", nil)+"]").json(t).([]any)
	if res[0].(map[string]any)["name"] != "ERR_APP_NOT_UNDEPLOYED" || res[1].(map[string]any)["code"] != float64(0) {
		t.Errorf("per-function import results %v", res)
	}
}

func TestBulkCreateAndDeleteAll(t *testing.T) {
	e := newEnv(t)
	body := "[" + fn("good", nil) + "," + fn("bad", func(m map[string]any) { m["appcode"] = "nonsense(" }) + "]"
	r := e.do("POST", "/api/v1/functions", body)
	if r.code != 200 {
		t.Fatalf("bulk create %d %s", r.code, r.body)
	}
	res := r.json(t).([]any)
	first, second := res[0].(map[string]any), res[1].(map[string]any)
	if first["code"] != float64(0) || first["warning_info"].(map[string]any)["status"] != "Stored function: 'good' in metakv" {
		t.Errorf("first %v", first)
	}
	if second["name"] != "ERR_HANDLER_COMPILATION" || second["code"] != float64(27) || second["function"] != "bad" {
		t.Errorf("second %v", second)
	}
	// A single object is accepted too; bulk create honours deployment_status.
	e.do("POST", "/api/v1/functions", fn("live", func(m map[string]any) {
		set(m)["deployment_status"] = true
		set(m)["processing_status"] = true
	}))
	if rec, _ := e.be.Function("live"); rec.Status != eventing.StatusDeploying || rec.InstanceID == "" {
		t.Errorf("created with deployment_status: status %q instance %q", rec.Status, rec.InstanceID)
	}
	r = e.do("DELETE", "/api/v1/functions", "")
	r.wantOK(t, "")
	items := r.obj(t)["info"].([]any)
	if len(items) != 2 {
		t.Fatalf("delete all %v", items)
	}
	if items[0].(map[string]any)["function"] != "good" || items[0].(map[string]any)["code"] != float64(0) ||
		items[1].(map[string]any)["name"] != "ERR_APP_NOT_UNDEPLOYED" {
		t.Errorf("delete all items %v", items)
	}
	names := e.do("GET", "/api/v1/list/functions", "").obj(t)["functions"].([]any)
	if len(names) != 1 || names[0] != "live" {
		t.Errorf("left after delete all %v", names)
	}
}

func TestListFunctions(t *testing.T) {
	e := newEnv(t)
	e.mustCreate("plain", nil)
	e.mustCreate("selfwriter", func(m map[string]any) {
		dep(m)["buckets"] = []any{map[string]any{"alias": "me", "bucket_name": "src", "access": "rw"}}
	})
	e.mustCreate("curly", func(m map[string]any) {
		dep(m)["source_bucket"] = "travel"
		dep(m)["source_scope"] = "inventory"
		dep(m)["source_collection"] = "hotels"
		dep(m)["curl"] = []any{map[string]any{"hostname": "http://h", "value": "h", "auth_type": "no-auth"}}
	})
	e.do("POST", "/api/v1/functions/plain/deploy", "").wantOK(t, "")
	cases := map[string][]any{
		"":                   {"curly", "plain", "selfwriter"},
		"?deployed=true":     {"plain"},
		"?deployed=false":    {"curly", "selfwriter"},
		"?source_bucket=src": {"plain", "selfwriter"},
		"?source_bucket=travel&source_scope=inventory&source_collection=hotels": {"curly"},
		"?source_bucket=travel&source_scope=other":                              {},
		"?function_type=sbm":    {"selfwriter"},
		"?function_type=notsbm": {"curly", "plain"},
		"?curl_binding=true":    {"curly"},
	}
	for q, want := range cases {
		for _, path := range []string{"/api/v1/list/functions", "/api/v1/list/functions/query"} {
			got := e.do("GET", path+q, "").obj(t)["functions"].([]any)
			if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("%s%s = %v, want %v", path, q, got, want)
			}
		}
	}
	e.do("GET", "/api/v1/list/functions?function_type=x", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "function_type")
	e.do("GET", "/api/v1/list/functions?deployed=perhaps", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "deployed")
	e.do("GET", "/api/v1/list/functions?source_scope=x", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "source_bucket")
	e.do("GET", "/api/v1/list/functions?source_bucket=a&source_bucket=b", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "more than one")
}

func TestGlobalConfigEndpoint(t *testing.T) {
	e := newEnv(t)
	got := e.do("GET", "/api/v1/config", "").obj(t)
	want := map[string]any{
		"enable_curl": true, "disable_curl_binding": false, "enable_debugger": false, "ram_quota": float64(256),
		"function_size": float64(131072), "metakv_max_doc_size": float64(131072), "http_request_timeout": float64(10000000000),
		"enable_lifecycle_ops_during_rebalance": false, "force_compress": true, "allow_interbucket_recursion": false,
		"deployment_mode": "hybrid_mode", "cursor_limit": float64(5), "num_nodes_running": float64(-1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config\n%v\nwant\n%v", got, want)
	}
	r := e.do("POST", "/api/v1/config", `{"enable_debugger": true, "ram_quota": 512}`)
	r.wantOK(t, "Config saved for *")
	if r.obj(t)["restart"] != false {
		t.Errorf("no restart flag: %s", r.body)
	}
	got = e.do("GET", "/api/v1/config", "").obj(t)
	if got["enable_debugger"] != true || got["ram_quota"] != float64(512) || got["enable_curl"] != true {
		t.Errorf("merged config %v", got)
	}
	snap := e.be.Snapshot()
	e.do("POST", "/api/v1/config", `{"enable_debugger": "yes"}`).wantErr(t, 400, "ERR_INVALID_CONFIG", "enable_debugger")
	e.do("POST", "/api/v1/config", `{"ram_quota": -5}`).wantErr(t, 400, "ERR_INVALID_CONFIG", "ram_quota")
	e.do("POST", "/api/v1/config", `nope`).wantErr(t, 400, "ERR_UNMARSHAL_PLD", "")
	e.do("DELETE", "/api/v1/config", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "not allowed")
	e.do("GET", "/api/v1/config?bucket=travel&scope=inventory", "").wantErr(t, 400, "ERR_INVALID_REQUEST", "global")
	e.unchanged(snap)
}
