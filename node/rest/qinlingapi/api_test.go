package qinlingapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"eventide/internal/testzip"
	"eventide/node/rest/resttest"
	"eventide/qinling"
)

// TestAPI_Versions: GET / lists v1.0 CURRENT with a self link, without
// credentials, in the document's shape.
func TestAPI_Versions(t *testing.T) {
	h := newHarness(t, nil)
	var doc struct {
		Versions []struct {
			ID, Status string
			Links      []struct{ Href, Target, Rel string }
		} `json:"versions"`
	}
	h.do("GET", "/", nil, noAuth).expect(t, http.StatusOK).decode(t, &doc)
	if len(doc.Versions) != 1 {
		t.Fatalf("versions %+v", doc)
	}
	v := doc.Versions[0]
	if v.ID != "v1.0" || v.Status != "CURRENT" || len(v.Links) != 1 || v.Links[0].Href != h.ts.URL+"/v1" || v.Links[0].Target != "v1" || v.Links[0].Rel != "self" {
		t.Fatalf("version %+v", v)
	}
}

// TestAPI_UnknownPathsAndMethods: unknown paths are 404 and known paths
// with another method 405 (with Allow), in Qinling's shape, credentials
// or not.
func TestAPI_UnknownPathsAndMethods(t *testing.T) {
	h := newHarness(t, nil)
	for _, p := range []string{"/v1/nothing", "/v2/functions", "/v1/functions/x/y/z/w", "/v1//functions"} {
		h.do("GET", p, nil).fault(t, http.StatusNotFound)
		h.do("GET", p, nil, noAuth).fault(t, http.StatusNotFound)
	}
	r := h.do("PATCH", "/v1/functions", nil)
	r.fault(t, http.StatusMethodNotAllowed)
	if allow := r.header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow %q, want \"GET, POST\"", allow)
	}
	h.do("DELETE", "/v1/webhooks/x/invoke", nil).fault(t, http.StatusMethodNotAllowed)
}

// TestAPI_Jobs: create 201 (by function and by alias), show, list
// {"jobs": [...]}, update 202 (pause, refusals), delete 204, in the
// document's shapes; Qinling's validation as 400s and unknown functions as
// 404; other projects see nothing; credentials are required.
func TestAPI_Jobs(t *testing.T) {
	h := newHarness(t, nil)
	fn := h.createFunction(h.createRuntime())["id"].(string)
	job := h.do("POST", "/v1/jobs", map[string]any{
		"name": "every-minute", "pattern": "* * * * *", "count": 5,
		"function_input": `{"name": "Foo"}`, "function_id": fn,
	}).expect(t, http.StatusCreated).object(t)
	hasKeys(t, "job", job, "id", "name", "function_id", "function_alias", "function_version", "function_input",
		"pattern", "count", "first_execution_time", "next_execution_time", "status", "project_id", "created_at", "updated_at")
	checkTimes(t, "job", job)
	if job["status"] != "running" || job["count"] != 5.0 || job["pattern"] != "* * * * *" || job["function_input"] != `{"name": "Foo"}` ||
		job["function_version"] != 0.0 || job["function_alias"] != nil || job["name"] != "every-minute" || job["updated_at"] != nil {
		t.Errorf("job %v", job)
	}
	for _, k := range []string{"first_execution_time", "next_execution_time"} {
		v, _ := job[k].(string)
		if !qinlingTime.MatchString(v) || !strings.HasSuffix(v, ":00") {
			t.Errorf("%s %v, want a whole minute like 2019-06-07 19:12:00", k, job[k])
		}
	}
	id := job["id"].(string)

	first := time.Now().UTC().Add(10 * time.Minute).Format("2006-01-02 15:04:05")
	shot := h.do("POST", "/v1/jobs", map[string]any{"first_execution_time": first, "function_id": fn, "function_input": map[string]any{"a": 1}}).
		expect(t, http.StatusCreated).object(t)
	if shot["count"] != 1.0 || shot["pattern"] != nil || shot["first_execution_time"] != first || shot["next_execution_time"] != first || shot["function_input"] != `{"a":1}` {
		t.Errorf("one-shot job %v", shot)
	}
	h.do("POST", "/v1/aliases", map[string]any{"name": "prod", "function_id": fn}).expect(t, http.StatusCreated)
	byAlias := h.do("POST", "/v1/jobs", map[string]any{"pattern": "0 0 * * SUN", "function_alias": "prod"}).expect(t, http.StatusCreated).object(t)
	if byAlias["function_alias"] != "prod" || byAlias["function_id"] != nil || byAlias["count"] != nil {
		t.Errorf("alias job %v", byAlias)
	}

	soon := time.Now().UTC().Add(10 * time.Second).Format("2006-01-02 15:04:05")
	for _, tc := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{}`, 400, "function_alias or function_id"},
		{`{"function_id": "` + fn + `"}`, 400, "pattern or first_execution_time"},
		{`{"function_id": "` + fn + `", "first_execution_time": "` + soon + `"}`, 400, "at least 1 minute in the future"},
		{`{"function_id": "` + fn + `", "first_execution_time": "` + first + `", "count": 3}`, 400, "pattern must be provided if count is greater than 1"},
		{`{"function_id": "` + fn + `", "pattern": "every minute"}`, 400, "pattern is not valid"},
		{`{"function_id": "` + fn + `", "pattern": "* * * * *", "count": "5"}`, 400, "count"},
		{`{"function_id": "nope", "pattern": "* * * * *"}`, 404, "nope"},
		{`{"function_alias": "nope", "pattern": "* * * * *"}`, 404, "nope"},
	} {
		if msg := h.do("POST", "/v1/jobs", tc.body).fault(t, tc.status); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %q, want %q", tc.body, msg, tc.msg)
		}
	}

	var list struct {
		Jobs []map[string]any `json:"jobs"`
	}
	h.do("GET", "/v1/jobs", nil).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Jobs) != 3 {
		t.Fatalf("jobs %v", list)
	}
	h.do("GET", "/v1/jobs", nil, asUser("alice")).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Jobs) != 0 {
		t.Fatalf("alice lists the admin's jobs: %v", list)
	}
	h.do("GET", "/v1/jobs/"+id, nil, asUser("alice")).fault(t, http.StatusNotFound)
	if got := h.do("GET", "/v1/jobs/"+id, nil).expect(t, http.StatusOK).object(t); got["id"] != id || got["next_execution_time"] != job["next_execution_time"] {
		t.Errorf("shown job %v", got)
	}

	up := h.do("PUT", "/v1/jobs/"+id, `{"status": "paused", "name": "paused-one", "function_input": "{\"name\": \"Bar\"}"}`).expect(t, http.StatusAccepted).object(t)
	if up["status"] != "paused" || up["name"] != "paused-one" || up["function_input"] != `{"name": "Bar"}` || up["updated_at"] == nil {
		t.Errorf("paused job %v", up)
	}
	checkTimes(t, "updated job", up)
	if msg := h.do("PUT", "/v1/jobs/"+id, `{"status": "done"}`).fault(t, http.StatusBadRequest); !strings.Contains(msg, "invalid status") {
		t.Errorf("status done: %q", msg)
	}
	if msg := h.do("PUT", "/v1/jobs/"+shot["id"].(string), `{"pattern": "* * * * *"}`).fault(t, http.StatusBadRequest); !strings.Contains(msg, "can not change job type") {
		t.Errorf("one-shot pattern: %q", msg)
	}
	h.do("PUT", "/v1/jobs/"+id, `{"status": "cancelled"}`).expect(t, http.StatusAccepted)
	if msg := h.do("PUT", "/v1/jobs/"+id, `{"status": "running"}`).fault(t, http.StatusBadRequest); !strings.Contains(msg, "finished job") {
		t.Errorf("cancelled job resumed: %q", msg)
	}
	h.do("PUT", "/v1/jobs/nope", `{"status": "paused"}`).fault(t, http.StatusNotFound)

	// A running job keeps its function.
	h.do("DELETE", "/v1/functions/"+fn, nil).fault(t, http.StatusForbidden)
	h.do("DELETE", "/v1/jobs/"+id, nil, asUser("alice")).fault(t, http.StatusNotFound)
	h.do("DELETE", "/v1/jobs/"+id, nil).expect(t, http.StatusNoContent)
	h.do("GET", "/v1/jobs/"+id, nil).fault(t, http.StatusNotFound)
	h.do("DELETE", "/v1/jobs/"+id, nil).fault(t, http.StatusNotFound)
	h.do("GET", "/v1/jobs", nil, noAuth).fault(t, http.StatusUnauthorized)
	h.do("POST", "/v1/jobs", `{"pattern":"* * * * *"}`, noAuth).fault(t, http.StatusUnauthorized)
}

// TestAPI_MalformedJSON: every malformed body to every JSON endpoint is a
// 400 (413 when too large) in Qinling's shape with no Go internals, and
// creates nothing.
func TestAPI_MalformedJSON(t *testing.T) {
	h := newHarness(t, nil)
	rt := h.createRuntime()
	fn := h.createFunction(rt)["id"].(string)
	job := h.do("POST", "/v1/jobs", map[string]any{"pattern": "0 * * * *", "function_id": fn}).expect(t, http.StatusCreated).object(t)["id"].(string)
	paths := []struct{ method, path string }{
		{"POST", "/v1/runtimes"}, {"PUT", "/v1/runtimes/" + rt},
		{"POST", "/v1/functions"}, {"PUT", "/v1/functions/" + fn},
		{"POST", "/v1/executions"}, {"POST", "/v1/aliases"}, {"POST", "/v1/webhooks"},
		{"POST", "/v1/jobs"}, {"PUT", "/v1/jobs/" + job},
		{"POST", "/v1/functions/" + fn + "/scale_up"}, {"POST", "/v1/functions/" + fn + "/versions"},
	}
	for _, p := range paths {
		for _, body := range resttest.MalformedJSON {
			r := h.do(p.method, p.path, body)
			if r.status == http.StatusRequestEntityTooLarge {
				r.fault(t, http.StatusRequestEntityTooLarge)
				continue
			}
			trimmed := strings.TrimSpace(body)
			if trimmed == "" && (strings.HasSuffix(p.path, "/scale_up") || strings.HasSuffix(p.path, "/versions")) {
				continue // their bodies are optional
			}
			if !json.Valid([]byte(trimmed)) || !strings.HasPrefix(trimmed, "{") {
				r.fault(t, http.StatusBadRequest)
				continue
			}
			// A well-formed object with wrong or unknown fields: the
			// service judges it (an update or an optional body may
			// succeed; a creation lacks what it needs).
			switch {
			case r.status/100 == 2:
				if p.method == "POST" && (p.path == "/v1/runtimes" || p.path == "/v1/functions" || p.path == "/v1/executions" || p.path == "/v1/aliases" || p.path == "/v1/webhooks" || p.path == "/v1/jobs") {
					t.Errorf("%s %s %q: %d, want a refusal", p.method, p.path, abbreviate(body, 40), r.status)
				}
			case r.status >= 500:
				t.Errorf("%s %s %q: %d: %s", p.method, p.path, abbreviate(body, 40), r.status, r.body)
			default:
				r.fault(t, r.status)
			}
		}
	}
	var lists struct {
		Runtimes  []json.RawMessage `json:"runtimes"`
		Functions []json.RawMessage `json:"functions"`
		Jobs      []json.RawMessage `json:"jobs"`
	}
	h.do("GET", "/v1/runtimes", nil).expect(t, http.StatusOK).decode(t, &lists)
	h.do("GET", "/v1/functions", nil).expect(t, http.StatusOK).decode(t, &lists)
	h.do("GET", "/v1/jobs", nil).expect(t, http.StatusOK).decode(t, &lists)
	if len(lists.Runtimes) != 1 || len(lists.Functions) != 1 || len(lists.Jobs) != 1 {
		t.Fatalf("after malformed requests: %d runtimes, %d functions, %d jobs; want 1 of each", len(lists.Runtimes), len(lists.Functions), len(lists.Jobs))
	}
}

// checkTimes checks created_at (and updated_at unless null) are in
// Qinling's "2006-01-02 15:04:05" format.
func checkTimes(t *testing.T, what string, obj map[string]any) {
	t.Helper()
	c, _ := obj["created_at"].(string)
	if !qinlingTime.MatchString(c) {
		t.Errorf("%s created_at %v, want like 2019-06-06 23:13:37", what, obj["created_at"])
	}
	if u, ok := obj["updated_at"]; !ok {
		t.Errorf("%s has no updated_at", what)
	} else if u != nil && !qinlingTime.MatchString(u.(string)) {
		t.Errorf("%s updated_at %v, want null or like 2019-06-06 23:13:37", what, u)
	}
}

// hasKeys checks obj has every key.
func hasKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s has no %q: %v", what, k, obj)
		}
	}
}

// TestAPI_Runtimes: create 201, show, list, pool, update 200, delete 204
// (409 while a function uses it), in the document's shapes.
func TestAPI_Runtimes(t *testing.T) {
	h := newHarness(t, nil)
	rt := h.do("POST", "/v1/runtimes", `{"name":"python3","description":"Python","image":"openstackqinling/python3-runtime","is_public":true,"trusted":true}`).
		expect(t, http.StatusCreated).object(t)
	hasKeys(t, "runtime", rt, "id", "name", "image", "description", "is_public", "trusted", "project_id", "status", "created_at", "updated_at")
	checkTimes(t, "runtime", rt)
	id := rt["id"].(string)
	if rt["project_id"] != ProjectID("admin") || rt["status"] != "available" {
		t.Errorf("runtime project %v status %v, want %s available", rt["project_id"], rt["status"], ProjectID("admin"))
	}
	h.do("GET", "/v1/runtimes/"+id, nil).expect(t, http.StatusOK)
	var list struct {
		Runtimes []map[string]any `json:"runtimes"`
	}
	h.do("GET", "/v1/runtimes", nil).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Runtimes) != 1 || list.Runtimes[0]["id"] != id {
		t.Fatalf("runtimes %v", list)
	}
	var pool qinling.RuntimePool
	h.do("GET", "/v1/runtimes/"+id+"/pool", nil).expect(t, http.StatusOK).decode(t, &pool)
	if pool.Name != id || pool.Capacity.Total != 4 || pool.Capacity.Available != 3 {
		t.Errorf("pool %+v, want %s with 3 of 4 available", pool, id)
	}
	up := h.do("PUT", "/v1/runtimes/"+id, `{"description":"Python 3"}`).expect(t, http.StatusOK).object(t)
	if up["description"] != "Python 3" || up["name"] != "python3" {
		t.Errorf("updated runtime %v", up)
	}
	fn := h.createFunction(id)["id"].(string)
	// Qinling refuses deleting what is in use with a 403 (NotAllowed).
	h.do("DELETE", "/v1/runtimes/"+id, nil).fault(t, http.StatusForbidden)
	h.do("DELETE", "/v1/functions/"+fn, nil).expect(t, http.StatusNoContent)
	r := h.do("DELETE", "/v1/runtimes/"+id, nil).expect(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %s", r.body)
	}
	h.do("GET", "/v1/runtimes/"+id, nil).fault(t, http.StatusNotFound)
	h.do("POST", "/v1/runtimes", `{"name":"x"}`).fault(t, http.StatusBadRequest)
}

// TestAPI_FunctionUpload: the multipart upload with a verified md5, the
// download, the inline and multipart updates; a mismatched md5 is a 400
// and a package over the limit a 413, neither creating anything.
func TestAPI_FunctionUpload(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPackageBytes = 4096 })
	rt := h.createRuntime()
	fn := h.createFunction(rt)
	hasKeys(t, "function", fn, "id", "name", "description", "runtime_id", "code", "entry", "timeout", "memory_size", "cpu", "count", "latest_version", "project_id", "created_at", "updated_at")
	checkTimes(t, "function", fn)
	id := fn["id"].(string)
	code, _ := fn["code"].(map[string]any)
	if code["source"] != "package" || len(code["md5sum"].(string)) != 32 || fn["entry"] != "hello.main" {
		t.Errorf("function code %v entry %v", fn["code"], fn["entry"])
	}

	// Download returns the very zip.
	pkg := testzip.Of(map[string]string{"hello.js": "exports.main = (ctx, input) => 'hello'"})
	r := h.do("GET", "/v1/functions/"+id+"?download=true", nil).expect(t, http.StatusOK)
	if r.header.Get("Content-Type") != "application/zip" || md5hex(r.body) != code["md5sum"] || !bytes.Equal(r.body, pkg) {
		t.Errorf("download: %s, md5 %s, want the uploaded zip (md5 %s)", r.header.Get("Content-Type"), md5hex(r.body), code["md5sum"])
	}
	h.do("GET", "/v1/functions/"+id+"?download=maybe", nil).fault(t, http.StatusBadRequest)

	// md5 mismatch: 400, nothing created.
	body, ct := multipartBody(t, map[string]string{"name": "bad", "runtime_id": rt, "entry": "hello.main",
		"code": `{"source": "package", "md5sum": "00000000000000000000000000000000"}`}, pkg)
	h.do("POST", "/v1/functions", body, contentType(ct)).fault(t, http.StatusBadRequest)
	// Too large: 413.
	big := bytes.Repeat([]byte("x"), 5000)
	body, ct = multipartBody(t, map[string]string{"name": "big", "runtime_id": rt, "code": `{"source": "package"}`}, big)
	msg := h.do("POST", "/v1/functions", body, contentType(ct)).fault(t, http.StatusRequestEntityTooLarge)
	if !strings.Contains(msg, "4096") {
		t.Errorf("413 faultstring %q, want the limit", msg)
	}
	// Bad fields: 400.
	for name, fields := range map[string]map[string]string{
		"code not JSON":    {"name": "x", "runtime_id": rt, "code": "package"},
		"timeout not int":  {"name": "x", "runtime_id": rt, "code": `{"source":"package"}`, "timeout": "soon"},
		"no code":          {"name": "x", "runtime_id": rt},
		"memory not int":   {"name": "x", "runtime_id": rt, "code": `{"source":"package"}`, "memory": "lots"},
		"swift":            {"name": "x", "runtime_id": rt, "code": `{"source":"swift","swift":{"container":"c","object":"o"}}`},
		"image, no docker": {"name": "x", "code": `{"source":"image","image":"hello-world"}`},
	} {
		body, ct := multipartBody(t, fields, nil)
		if msg := h.do("POST", "/v1/functions", body, contentType(ct)).fault(t, http.StatusBadRequest); msg == "" {
			t.Errorf("%s: empty faultstring", name)
		}
	}
	h.do("POST", "/v1/functions", "--x--", contentType("multipart/form-data; boundary=x")).fault(t, http.StatusBadRequest)
	h.do("POST", "/v1/functions", "a", contentType("multipart/form-data")).fault(t, http.StatusBadRequest)
	h.do("POST", "/v1/functions", "a", contentType("text/csv")).fault(t, http.StatusUnsupportedMediaType)

	var list struct {
		Functions []map[string]any `json:"functions"`
	}
	h.do("GET", "/v1/functions", nil).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Functions) != 1 {
		t.Fatalf("functions after refused uploads: %d, want 1", len(list.Functions))
	}

	// Inline update, as the client sends it without a package (a
	// URL-encoded form).
	form := url.Values{"name": {"renamed"}, "timeout": {"7"}}
	up := h.do("PUT", "/v1/functions/"+id, form.Encode(), contentType("application/x-www-form-urlencoded")).expect(t, http.StatusOK).object(t)
	if up["name"] != "renamed" || up["timeout"] != float64(7) || up["updated_at"] == nil {
		t.Errorf("inline update: %v", up)
	}
	// JSON update.
	up = h.do("PUT", "/v1/functions/"+id, `{"description":"d","memory_size":67108864}`).expect(t, http.StatusOK).object(t)
	if up["description"] != "d" || up["memory_size"] != float64(64<<20) {
		t.Errorf("JSON update: %v", up)
	}
	// Multipart update with a new package: new md5.
	pkg2 := testzip.Of(map[string]string{"hello.js": "exports.main = () => 'bye'"})
	body, ct = multipartBody(t, map[string]string{"code": `{"source":"package","md5sum":"` + md5hex(pkg2) + `"}`}, pkg2)
	up = h.do("PUT", "/v1/functions/"+id, body, contentType(ct)).expect(t, http.StatusOK).object(t)
	if up["code"].(map[string]any)["md5sum"] != md5hex(pkg2) {
		t.Errorf("package update: code %v, want md5 %s", up["code"], md5hex(pkg2))
	}
	r = h.do("GET", "/v1/functions/"+id+"?download=1", nil).expect(t, http.StatusOK)
	if !bytes.Equal(r.body, pkg2) {
		t.Error("download after update is not the new package")
	}
	// The form field "memory" of the document's curl example.
	body, ct = multipartBody(t, map[string]string{"memory": "33554432"}, nil)
	up = h.do("PUT", "/v1/functions/"+id, body, contentType(ct)).expect(t, http.StatusOK).object(t)
	if up["memory_size"] != float64(32<<20) {
		t.Errorf("memory field: memory_size %v", up["memory_size"])
	}

	// Actions: 202 with no body; a count below 1 is a 400.
	for _, action := range []string{"detach", "scale_up", "scale_down"} {
		r := h.do("POST", "/v1/functions/"+id+"/"+action, `{"count": 1}`).expect(t, http.StatusAccepted)
		if len(r.body) != 0 {
			t.Errorf("%s: 202 with a body %s", action, r.body)
		}
	}
	h.do("POST", "/v1/functions/"+id+"/scale_up", nil).expect(t, http.StatusAccepted)
	h.do("POST", "/v1/functions/"+id+"/scale_up", `{"count": 0}`).fault(t, http.StatusBadRequest)
	h.do("POST", "/v1/functions/nope/detach", nil).fault(t, http.StatusNotFound)

	h.do("DELETE", "/v1/functions/"+id, nil).expect(t, http.StatusNoContent)
	h.do("GET", "/v1/functions/"+id, nil).fault(t, http.StatusNotFound)
}

// TestAPI_FunctionWorkers: GET /v1/functions/{id}/workers lists the warm
// workers in Qinling's shape, each named by its node (this test's service
// has no other nodes); scale up grows the list, detach empties it;
// another project's function is a 404.
func TestAPI_FunctionWorkers(t *testing.T) {
	h := newHarness(t, nil)
	rt := h.createRuntime()
	id := h.createFunction(rt)["id"].(string)
	type worker struct {
		FunctionID      string `json:"function_id"`
		FunctionVersion int    `json:"function_version"`
		WorkerName      string `json:"worker_name"`
	}
	workers := func(query string) []worker {
		t.Helper()
		r := h.do("GET", "/v1/functions/"+id+"/workers"+query, nil).expect(t, http.StatusOK)
		var body map[string][]worker
		r.decode(t, &body)
		ws, ok := body["workers"]
		if !ok || ws == nil || len(body) != 1 {
			t.Fatalf("body %s, want {\"workers\": [...]}", r.body)
		}
		for _, w := range ws {
			if w.FunctionID != id || w.FunctionVersion != 0 || w.WorkerName == "" {
				t.Fatalf("worker %+v", w)
			}
		}
		return ws
	}
	if ws := workers(""); len(ws) != 0 {
		t.Fatalf("before scale up: %+v", ws)
	}
	h.do("POST", "/v1/functions/"+id+"/scale_up", `{"count": 2}`).expect(t, http.StatusAccepted)
	if ws := workers(""); len(ws) != 2 || ws[0].WorkerName != "n1/worker-0" || ws[1].WorkerName != "n1/worker-1" {
		t.Fatalf("after scale up 2: %+v", ws)
	}
	h.do("POST", "/v1/functions/"+id+"/scale_up", nil).expect(t, http.StatusAccepted)
	if ws := workers("?function_version=0"); len(ws) != 3 {
		t.Fatalf("after scale up 1 more: %+v", ws)
	}
	h.do("POST", "/v1/functions/"+id+"/detach", nil).expect(t, http.StatusAccepted)
	if ws := workers(""); len(ws) != 0 {
		t.Fatalf("after detach: %+v", ws)
	}

	h.do("GET", "/v1/functions/"+id+"/workers", nil, asUser("alice")).fault(t, http.StatusNotFound)
	h.do("GET", "/v1/functions/nope/workers", nil).fault(t, http.StatusNotFound)
	h.do("GET", "/v1/functions/"+id+"/workers?function_version=1", nil).fault(t, http.StatusNotFound)
	for _, bad := range []string{"-1", "x", "1.5"} {
		h.do("GET", "/v1/functions/"+id+"/workers?function_version="+bad, nil).fault(t, http.StatusBadRequest)
	}
	h.do("POST", "/v1/functions/"+id+"/workers", nil).fault(t, http.StatusMethodNotAllowed)
	h.do("GET", "/v1/functions/"+id+"/workers", nil, noAuth).fault(t, http.StatusUnauthorized)
}

// TestAPI_Executions: sync execution 201 with result as a JSON string of
// duration and output, input as object or string; the log as text; list
// filters; delete.
func TestAPI_Executions(t *testing.T) {
	h := newHarness(t, nil)
	rt := h.createRuntime()
	fn := h.createFunction(rt)["id"].(string)
	other := h.createFunction(rt)["id"].(string)

	ex := h.do("POST", "/v1/executions", map[string]any{"function_id": fn, "input": `{"name": "foo"}`, "sync": true, "function_alias": nil}).
		expect(t, http.StatusCreated).object(t)
	hasKeys(t, "execution", ex, "id", "function_id", "function_version", "description", "status", "sync", "input", "result", "project_id", "created_at", "updated_at")
	checkTimes(t, "execution", ex)
	if ex["status"] != "success" || ex["sync"] != true || ex["function_version"] != float64(0) {
		t.Errorf("execution %v", ex)
	}
	res, ok := ex["result"].(string)
	if !ok {
		t.Fatalf("result %v is not a JSON string", ex["result"])
	}
	var result struct {
		Duration *float64       `json:"duration"`
		Output   map[string]any `json:"output"`
	}
	if err := json.Unmarshal([]byte(res), &result); err != nil || result.Duration == nil || result.Output["name"] != "foo" {
		t.Errorf("result %q, want {\"duration\": ..., \"output\": {\"name\": \"foo\"}}", res)
	}
	if in, _ := ex["input"].(string); !strings.Contains(in, "foo") {
		t.Errorf("input %v, want the input as a JSON string", ex["input"])
	}
	id := ex["id"].(string)

	// Input as an object, and an execution of the other function.
	h.do("POST", "/v1/executions", map[string]any{"function_id": fn, "input": map[string]any{"a": 1}}).expect(t, http.StatusCreated)
	h.do("POST", "/v1/executions", map[string]any{"function_id": other}).expect(t, http.StatusCreated)

	r := h.do("GET", "/v1/executions/"+id+"/log", nil).expect(t, http.StatusOK)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(string(r.body), "Start execution: "+id) {
		t.Errorf("log (%s): %q", r.header.Get("Content-Type"), r.body)
	}

	count := func(query string) int {
		t.Helper()
		var list struct {
			Executions []map[string]any `json:"executions"`
		}
		h.do("GET", "/v1/executions"+query, nil).expect(t, http.StatusOK).decode(t, &list)
		return len(list.Executions)
	}
	for query, want := range map[string]int{
		"": 3, "?function_id=" + fn: 2, "?function_id=eq:" + fn: 2, "?function_id=" + other: 1,
		"?status=success": 3, "?status=failed": 0, "?function_version=0": 3, "?function_version=1": 0,
		"?function_id=" + fn + "&status=running": 0,
	} {
		if got := count(query); got != want {
			t.Errorf("GET /v1/executions%s: %d executions, want %d", query, got, want)
		}
	}
	h.do("GET", "/v1/executions?function_version=x", nil).fault(t, http.StatusBadRequest)
	h.do("GET", "/v1/executions?status=in:a,b", nil).fault(t, http.StatusBadRequest)
	h.do("GET", "/v1/executions?all_projects=perhaps", nil).fault(t, http.StatusBadRequest)

	h.do("GET", "/v1/executions/"+id, nil).expect(t, http.StatusOK)
	h.do("DELETE", "/v1/executions/"+id, nil).expect(t, http.StatusNoContent)
	h.do("GET", "/v1/executions/"+id, nil).fault(t, http.StatusNotFound)
	h.do("GET", "/v1/executions/"+id+"/log", nil).fault(t, http.StatusNotFound)
	h.do("POST", "/v1/executions", `{"input":"x"}`).fault(t, http.StatusBadRequest)
	h.do("POST", "/v1/executions", `{"function_id":"nope"}`).fault(t, http.StatusNotFound)
	h.do("POST", "/v1/executions", `{"function_id":5}`).fault(t, http.StatusBadRequest)
}

// TestAPI_VersionsAndAliases: versions 201/200/202/204, aliases 201, the
// document's 202 on update, 204; a version an alias uses is not deleted.
func TestAPI_VersionsAndAliases(t *testing.T) {
	h := newHarness(t, nil)
	rt := h.createRuntime()
	fn := h.createFunction(rt)["id"].(string)
	base := "/v1/functions/" + fn + "/versions"

	v := h.do("POST", base, `{"description":"ready"}`).expect(t, http.StatusCreated).object(t)
	hasKeys(t, "version", v, "id", "function_id", "version_number", "description", "count", "project_id", "created_at", "updated_at")
	checkTimes(t, "version", v)
	if v["version_number"] != float64(1) || v["function_id"] != fn {
		t.Fatalf("version %v", v)
	}
	var list struct {
		Versions []map[string]any `json:"function_versions"`
	}
	h.do("GET", base, nil).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Versions) != 1 {
		t.Fatalf("versions %v", list)
	}
	h.do("GET", base+"/1", nil).expect(t, http.StatusOK)
	h.do("GET", base+"/one", nil).fault(t, http.StatusBadRequest)
	h.do("GET", base+"/9", nil).fault(t, http.StatusNotFound)
	h.do("POST", base+"/1/detach", nil).expect(t, http.StatusAccepted)

	a := h.do("POST", "/v1/aliases", map[string]any{"name": "prod", "function_id": fn, "function_version": 1, "description": "d"}).
		expect(t, http.StatusCreated).object(t)
	hasKeys(t, "alias", a, "name", "function_id", "function_version", "description", "project_id", "created_at", "updated_at")
	h.do("POST", "/v1/aliases", map[string]any{"name": "prod", "function_id": fn}).fault(t, http.StatusConflict)
	h.do("DELETE", base+"/1", nil).fault(t, http.StatusForbidden)

	ex := h.do("POST", "/v1/executions", map[string]any{"function_alias": "prod"}).expect(t, http.StatusCreated).object(t)
	if ex["function_id"] != fn || ex["function_version"] != float64(1) {
		t.Errorf("execution by alias: %v", ex)
	}
	var aliases struct {
		Aliases []map[string]any `json:"function_aliases"`
	}
	h.do("GET", "/v1/aliases", nil).expect(t, http.StatusOK).decode(t, &aliases)
	if len(aliases.Aliases) != 1 {
		t.Fatalf("aliases %v", aliases)
	}
	up := h.do("PUT", "/v1/aliases/prod", map[string]any{"function_version": 0, "function_id": nil, "description": "latest"}).
		expect(t, http.StatusAccepted).object(t)
	if up["function_version"] != float64(0) || up["description"] != "latest" {
		t.Errorf("updated alias %v", up)
	}
	h.do("PUT", "/v1/aliases/prod", `{"name":"other"}`).fault(t, http.StatusBadRequest)
	// The openstack client sends --function-version as a string of digits.
	up = h.do("PUT", "/v1/aliases/prod", `{"function_id":null,"function_version":"1","description":null}`).
		expect(t, http.StatusAccepted).object(t)
	if up["function_version"] != float64(1) || up["description"] != "latest" {
		t.Errorf("alias updated with a string version %v", up)
	}
	if msg := h.do("PUT", "/v1/aliases/prod", `{"function_version":"one"}`).fault(t, http.StatusBadRequest); !strings.Contains(msg, "function_version") {
		t.Errorf("bad version string: %q", msg)
	}
	h.do("DELETE", "/v1/aliases/prod", nil).expect(t, http.StatusNoContent)
	h.do("POST", "/v1/aliases", map[string]any{"name": "prod", "function_id": fn, "function_version": 0}).expect(t, http.StatusCreated)
	h.do("GET", "/v1/aliases/prod", nil).expect(t, http.StatusOK)
	h.do("DELETE", base+"/1", nil).expect(t, http.StatusNoContent)
	h.do("DELETE", "/v1/aliases/prod", nil).expect(t, http.StatusNoContent)
	h.do("GET", "/v1/aliases/prod", nil).fault(t, http.StatusNotFound)
}

// TestAPI_Webhooks: create 201 with a webhook_url on the node's address,
// invoke without credentials 202 {"execution_id"}, update 202, delete 204.
func TestAPI_Webhooks(t *testing.T) {
	h := newHarness(t, nil)
	rt := h.createRuntime()
	fn := h.createFunction(rt)["id"].(string)
	wh := h.do("POST", "/v1/webhooks", map[string]any{"function_id": fn, "description": "hook", "function_alias": nil}).
		expect(t, http.StatusCreated).object(t)
	hasKeys(t, "webhook", wh, "id", "function_id", "function_version", "description", "webhook_url", "project_id", "created_at", "updated_at")
	id := wh["id"].(string)
	if wh["webhook_url"] != h.ts.URL+"/v1/webhooks/"+id+"/invoke" {
		t.Errorf("webhook_url %v", wh["webhook_url"])
	}
	var inv struct {
		ExecutionID string `json:"execution_id"`
	}
	h.do("POST", "/v1/webhooks/"+id+"/invoke", `{"name":"hook"}`, noAuth).expect(t, http.StatusAccepted).decode(t, &inv)
	if inv.ExecutionID == "" {
		t.Fatal("invoke: no execution_id")
	}
	ex := h.do("GET", "/v1/executions/"+inv.ExecutionID, nil).expect(t, http.StatusOK).object(t)
	if ex["function_id"] != fn || ex["project_id"] != ProjectID("admin") {
		t.Errorf("webhook's execution %v", ex)
	}
	h.do("POST", "/v1/webhooks/nope/invoke", `{}`, noAuth).fault(t, http.StatusNotFound)

	var list struct {
		Webhooks []map[string]any `json:"webhooks"`
	}
	h.do("GET", "/v1/webhooks", nil).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Webhooks) != 1 {
		t.Fatalf("webhooks %v", list)
	}
	up := h.do("PUT", "/v1/webhooks/"+id, `{"description":"moved"}`).expect(t, http.StatusAccepted).object(t)
	if up["description"] != "moved" {
		t.Errorf("updated webhook %v", up)
	}
	// As the openstack client sends it: every field, version as a string.
	h.do("POST", "/v1/functions/"+fn+"/versions", `{}`).expect(t, http.StatusCreated)
	up = h.do("PUT", "/v1/webhooks/"+id, `{"function_id":null,"function_version":"1","description":null}`).expect(t, http.StatusAccepted).object(t)
	if up["function_version"] != float64(1) || up["description"] != "moved" {
		t.Errorf("webhook updated with a string version %v", up)
	}
	h.do("GET", "/v1/webhooks/"+id, nil, noAuth).fault(t, http.StatusUnauthorized)
	h.do("DELETE", "/v1/functions/"+fn, nil).fault(t, http.StatusForbidden)
	h.do("DELETE", "/v1/webhooks/"+id, nil).expect(t, http.StatusNoContent)
	h.do("GET", "/v1/webhooks/"+id, nil).fault(t, http.StatusNotFound)
}

// TestAPI_Projects: a non-admin's token sees 404 for another project's
// function and lists only its own; the administrator lists across
// projects with all_projects.
func TestAPI_Projects(t *testing.T) {
	h := newHarness(t, nil)
	rt := h.createRuntime()
	adminTok := h.login("Administrator", "demo")
	fn := h.createFunction(rt, withToken(adminTok))
	if fn["project_id"] != ProjectID("demo") {
		t.Fatalf("function project %v, want demo's %s", fn["project_id"], ProjectID("demo"))
	}
	id := fn["id"].(string)

	alice := h.login("alice", "alice")
	h.do("GET", "/v1/functions/"+id, nil, withToken(alice)).fault(t, http.StatusNotFound)
	h.do("DELETE", "/v1/functions/"+id, nil, withToken(alice)).fault(t, http.StatusNotFound)
	h.do("POST", "/v1/executions", map[string]any{"function_id": id}, withToken(alice)).fault(t, http.StatusNotFound)
	// Basic auth as alice is alice's project too.
	h.do("GET", "/v1/functions/"+id, nil, asUser("alice")).fault(t, http.StatusNotFound)
	mine := h.createFunction(rt, withToken(alice))

	count := func(tok, query string) int {
		t.Helper()
		var list struct {
			Functions []map[string]any `json:"functions"`
		}
		h.do("GET", "/v1/functions"+query, nil, withToken(tok)).expect(t, http.StatusOK).decode(t, &list)
		return len(list.Functions)
	}
	if n := count(alice, ""); n != 1 {
		t.Errorf("alice lists %d functions, want her 1", n)
	}
	if n := count(alice, "?all_projects=true"); n != 1 {
		t.Errorf("alice with all_projects lists %d functions, want her 1", n)
	}
	if n := count(adminTok, "?all_projects=true"); n != 2 {
		t.Errorf("admin with all_projects lists %d functions, want 2", n)
	}
	if n := count(adminTok, "?project_id="+ProjectID("alice")); n != 1 {
		t.Errorf("admin with project_id lists %d functions, want alice's 1", n)
	}
	h.do("GET", "/v1/functions/"+mine["id"].(string), nil, withToken(alice)).expect(t, http.StatusOK)
}
