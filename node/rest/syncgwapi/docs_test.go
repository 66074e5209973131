package syncgwapi

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/node/rest/restauth"
)

func TestNew_RejectsBadConfig(t *testing.T) {
	store := docstore.NewStore(4)
	w := &storeWriter{store: store, clock: &testClock{}}
	valid := func(mod func(*Config)) Config {
		c := Config{Credentials: restauth.NewAdmin("u", "p"), Docs: store, Writer: w}
		mod(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no credentials", valid(func(c *Config) { c.Credentials = nil }), ErrMissingDependency},
		{"negative max", valid(func(c *Config) { c.MaxRequestBytes = -1 }), ErrInvalidConfig},
		{"negative max doc", valid(func(c *Config) { c.MaxDocBytes = -1 }), ErrInvalidConfig},
		{"no reader", valid(func(c *Config) { c.Docs = nil }), ErrMissingDependency},
		{"no writer", valid(func(c *Config) { c.Writer = nil }), ErrMissingDependency},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); !errors.Is(err, tc.want) {
				t.Fatalf("New error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAuth_Required(t *testing.T) {
	e := newEnv(t)
	paths := []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/db/"}, {"GET", "/db/doc"}, {"PUT", "/db/doc"}, {"DELETE", "/db/doc?rev=1-a"},
		{"POST", "/db/"}, {"POST", "/db/_bulk_docs"}, {"GET", "/db/_all_docs"}, {"GET", "/db/_changes"},
		{"GET", "/nodb/"}, {"GET", "/db/_local/x"},
		// Nothing is routed before authentication: unknown URLs, wrong
		// methods, OPTIONS and /_ping's other methods too.
		{"GET", "/_foo"}, {"GET", "/db/_foo"}, {"GET", "/db//x"}, {"GET", "/db/doc/att/more"},
		{"PATCH", "/db/doc"}, {"POST", "/"}, {"DELETE", "/db/_bulk_docs"}, {"OPTIONS", "/db/doc"}, {"OPTIONS", "/"},
		{"POST", "/_ping"}, {"OPTIONS", "/_ping"}, {"PUT", "/db/_bulk_get"},
	}
	for _, p := range paths {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			before := e.snapshot()
			r := e.send(req{method: p.method, path: p.path, body: `{"a":1}`, noAuth: true})
			wantError(t, r, http.StatusUnauthorized, "Unauthorized", "Login required")
			if r.Header.Get("Allow") != "" {
				t.Errorf("Allow = %q on a 401", r.Header.Get("Allow"))
			}
			if got := r.Header.Get("WWW-Authenticate"); got != `Basic realm="Couchbase Sync Gateway"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			r = e.send(req{method: p.method, path: p.path, body: `{"a":1}`, user: testUser, pass: "wrong"})
			wantError(t, r, http.StatusUnauthorized, "Unauthorized", "Invalid login")
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate on invalid login")
			}
			e.unchanged(before)
		})
	}
	for _, p := range []string{"/db/doc", "/_foo", "/"} {
		r := e.send(req{method: "HEAD", path: p, noAuth: true})
		if r.Code != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("HEAD %s without credentials = %d %v", p, r.Code, r.Header)
		}
	}
	r := e.send(req{method: "GET", path: "/_ping", noAuth: true})
	if r.Code != 200 || r.Body != "OK" {
		t.Fatalf("/_ping = %d %q", r.Code, r.Body)
	}
	if r := e.send(req{method: "HEAD", path: "/_ping", noAuth: true}); r.Code != 200 {
		t.Fatalf("HEAD /_ping = %d", r.Code)
	}
}

func TestRoot(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/", "")
	m := r.Obj(t)
	if r.Code != 200 || m["couchdb"] != "Welcome" {
		t.Fatalf("GET / = %d %s", r.Code, r.Body)
	}
	if v := m["vendor"].(map[string]any); v["name"] != "Couchbase Sync Gateway" {
		t.Errorf("vendor = %v", v)
	}
	if r.Header.Get("Server") != "Couchbase Sync Gateway" {
		t.Errorf("Server header = %q", r.Header.Get("Server"))
	}
}

func TestKeyspace_Unknown(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ method, path, reason string }{
		{"GET", "/nodb/", `no such database "nodb"`},
		{"GET", "/nodb/doc", `no such database "nodb"`},
		{"PUT", "/nodb/doc", `no such database "nodb"`},
		{"GET", "/db.sc.nope/doc", "keyspace db.sc.nope not found"},
		{"GET", "/db.nope.col/", "keyspace db.nope.col not found"},
		{"GET", "/db.nope/_all_docs", "keyspace db.nope not found"},
		{"POST", "/db.sc.nope/_bulk_docs", "keyspace db.sc.nope not found"},
		{"GET", "/db.sc.nope/_changes", "keyspace db.sc.nope not found"},
		{"DELETE", "/db.sc.nope/doc?rev=1-a", "keyspace db.sc.nope not found"},
		{"GET", "/db.a.b.c/doc", "keyspace db.a.b.c not found"},
		{"GET", "/db..col/doc", "keyspace db..col not found"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			before := e.snapshot()
			body := ""
			if tc.method == "PUT" || tc.method == "POST" {
				body = `{"docs":[{"_id":"x"}],"a":1}`
			}
			wantError(t, e.do(tc.method, tc.path, body), http.StatusNotFound, "not_found", tc.reason)
			e.unchanged(before)
		})
	}
}

func TestDBInfo(t *testing.T) {
	e := newEnv(t)
	e.put("/db/a", `{"x":1}`)
	e.put("/db/b", `{"x":2}`)
	e.put("/db.sc.col/c", `{}`)
	for _, path := range []string{"/db/", "/db"} {
		r := e.do("GET", path, "")
		if r.Code != 200 {
			t.Fatalf("GET %s = %d %s", path, r.Code, r.Body)
		}
		m := r.Obj(t)
		want := map[string]string{"db_name": "db", "update_seq": "2", "committed_update_seq": "2", "state": "Online",
			"server_uuid": "cluster-uuid", "compact_running": "false", "purge_seq": "0", "disk_format_version": "0",
			"instance_start_time": strconv.FormatInt(e.clock.Now().UnixMicro(), 10)}
		for k, v := range want {
			if got := jsonText(m[k]); got != v {
				t.Errorf("%s: %s = %s, want %s", path, k, got, v)
			}
		}
	}
	m := e.do("GET", "/db.sc.col/", "").Obj(t)
	if m["db_name"] != "db" || jsonText(m["update_seq"]) != "1" {
		t.Errorf("keyspace info = %v", m)
	}
	if r := e.do("HEAD", "/db/", ""); r.Code != 200 {
		t.Errorf("HEAD /db/ = %d", r.Code)
	}
	if r := e.do("HEAD", "/nodb/", ""); r.Code != 404 {
		t.Errorf("HEAD /nodb/ = %d", r.Code)
	}
}

var revRE = regexp.MustCompile(`^[0-9]+-[0-9a-f]{32}$`)

func revGen(t *testing.T, rev string) int {
	t.Helper()
	if !revRE.MatchString(rev) {
		t.Fatalf("revision %q is not generation-digest", rev)
	}
	g, _ := strconv.Atoi(rev[:strings.IndexByte(rev, '-')])
	return g
}

func TestPutGet_CreateUpdateConflict(t *testing.T) {
	e := newEnv(t)
	r := e.do("PUT", "/db/doc1", `{"name": "Alice", "n": [1, 2, {"x": "a b"}], "_foo": true}`)
	if r.Code != http.StatusCreated {
		t.Fatalf("create = %d %s", r.Code, r.Body)
	}
	m := r.Obj(t)
	rev1 := m["rev"].(string)
	if m["id"] != "doc1" || m["ok"] != true || revGen(t, rev1) != 1 {
		t.Fatalf("create response %s", r.Body)
	}
	if got := r.Header.Get("Etag"); got != strconv.Quote(rev1) {
		t.Errorf("Etag = %q, want %q", got, strconv.Quote(rev1))
	}

	r = e.do("GET", "/db/doc1", "")
	if r.Code != 200 {
		t.Fatalf("get = %d %s", r.Code, r.Body)
	}
	if r.Header.Get("Etag") != strconv.Quote(rev1) {
		t.Errorf("GET Etag = %q", r.Header.Get("Etag"))
	}
	wantBody := `{"_id":"doc1","_rev":"` + rev1 + `","name":"Alice","n":[1,2,{"x":"a b"}],"_foo":true}`
	if r.Body != wantBody {
		t.Errorf("GET body\n got %s\nwant %s", r.Body, wantBody)
	}
	d, err := e.store.Get(ksDefault, "doc1")
	if err != nil || string(d.Body) != `{"name":"Alice","n":[1,2,{"x":"a b"}],"_foo":true}` {
		t.Errorf("stored body = %s, %v", d.Body, err)
	}

	before := e.snapshot()
	wantError(t, e.do("PUT", "/db/doc1", `{"name":"again"}`), http.StatusConflict, "conflict", "Document exists")
	e.unchanged(before)

	// The three ways to name the parent revision.
	rev2 := e.put("/db/doc1?rev="+rev1, `{"v":2}`)
	if revGen(t, rev2) != 2 {
		t.Fatalf("rev2 = %s", rev2)
	}
	r = e.do("PUT", "/db/doc1", `{"v":3}`, "If-Match", strconv.Quote(rev2))
	if r.Code != http.StatusCreated {
		t.Fatalf("If-Match update = %d %s", r.Code, r.Body)
	}
	rev3 := r.Obj(t)["rev"].(string)
	rev4 := e.put("/db/doc1", `{"_rev":"`+rev3+`","v":4}`)
	if revGen(t, rev4) != 4 {
		t.Fatalf("rev4 = %s", rev4)
	}

	before = e.snapshot()
	for name, r := range map[string]response{
		"stale query rev":  e.do("PUT", "/db/doc1?rev="+rev2, `{"v":5}`),
		"stale If-Match":   e.do("PUT", "/db/doc1", `{"v":5}`, "If-Match", `"`+rev1+`"`),
		"stale body _rev":  e.do("PUT", "/db/doc1", `{"_rev":"`+rev3+`"}`),
		"rev on a missing": e.do("PUT", "/db/nodoc?rev="+rev1, `{}`),
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, r, http.StatusConflict, "conflict", "Document revision conflict")
		})
	}
	wantError(t, e.do("PUT", "/db/doc1?rev="+rev4, `{"_rev":"`+rev3+`"}`), http.StatusBadRequest, "Bad Request", "Revision IDs provided do not match")
	wantError(t, e.do("PUT", "/db/doc1?rev="+rev4, `{"_id":"other"}`), http.StatusBadRequest, "Bad Request",
		"The document ID provided in the body does not match the document ID in the path")
	e.unchanged(before)

	m = e.do("GET", "/db/doc1", "").Obj(t)
	if m["v"] != jsonNumber("4") || m["_rev"] != rev4 || m["name"] != nil {
		t.Errorf("after updates: %v", m)
	}
	// ?rev= finds the current revision only.
	if r := e.do("GET", "/db/doc1?rev="+rev4, ""); r.Code != 200 {
		t.Errorf("GET ?rev=current = %d", r.Code)
	}
	wantError(t, e.do("GET", "/db/doc1?rev="+rev1, ""), http.StatusNotFound, "not_found", "missing")
	wantError(t, e.do("GET", "/db/nodoc", ""), http.StatusNotFound, "not_found", "missing")

	// ?revs=true lists the ancestry.
	m = e.do("GET", "/db/doc1?revs=true", "").Obj(t)
	revs := m["_revisions"].(map[string]any)
	ids := revs["ids"].([]any)
	if jsonText(revs["start"]) != "4" || len(ids) != 4 || ids[0] != rev4[2:] || ids[3] != rev1[2:] {
		t.Errorf("_revisions = %v", revs)
	}
	m = e.do("GET", "/db/doc1?revs=true&revs_limit=2", "").Obj(t)
	if ids := m["_revisions"].(map[string]any)["ids"].([]any); len(ids) != 2 {
		t.Errorf("revs_limit=2 gave %v", ids)
	}
}

func TestPut_BadBodies(t *testing.T) {
	e := newEnv(t)
	rev := e.put("/db/doc", `{"a":1}`)
	cases := []struct {
		name, path, body string
		headers          []string
		status           int
		errName, reason  string
	}{
		{"invalid JSON", "/db/doc", `{"a":`, nil, 400, "Bad Request", "Bad JSON: *"},
		{"trailing garbage", "/db/new", `{"a":1} x`, nil, 400, "Bad Request", "Bad JSON: *"},
		{"array", "/db/new", `[1,2]`, nil, 400, "Bad Request", "Bad JSON: the document body must be a JSON object"},
		{"string", "/db/new", `"s"`, nil, 400, "Bad Request", "Bad JSON: the document body must be a JSON object"},
		{"empty", "/db/new", ``, nil, 400, "Bad Request", "Document body is empty"},
		{"null", "/db/new", `null`, nil, 400, "Bad Request", "Document body is empty"},
		{"_sync", "/db/new", `{"_sync":{}}`, nil, 400, "Bad Request", "document-top level property '_sync' is a reserved internal property"},
		{"_sync_x", "/db/new", `{"_sync_x":1}`, nil, 400, "Bad Request", "user defined top-level properties that start with '_sync_' are not allowed in document body"},
		{"_purged", "/db/new", `{"_purged":true}`, nil, 400, "Bad Request", "user defined top-level property '_purged' is not allowed in document body"},
		{"_removed", "/db/new", `{"_removed":true}`, nil, 404, "not_found", "Document revision is not accessible"},
		{"escaped _sync key", "/db/new", `{"\u005fsync":1}`, nil, 400, "Bad Request", "document-top level property '_sync' is a reserved internal property"},
		{"attachments", "/db/new", `{"_attachments":{"a.txt":{"data":"aGk="}}}`, nil, 501, "Not Implemented", "attachments are not supported yet"},
		{"bad rev", "/db/doc?rev=abc", `{}`, nil, 400, "Bad Request", "Invalid revision ID"},
		{"zero generation", "/db/doc?rev=0-abc", `{}`, nil, 400, "Bad Request", "Invalid revision ID"},
		{"numeric _rev", "/db/doc", `{"_rev":3}`, nil, 400, "Bad Request", "Invalid revision ID"},
		{"bad _exp", "/db/new", `{"_exp":"tomorrow"}`, nil, 400, "Bad Request", "Invalid expiry: *"},
		{"negative _exp", "/db/new", `{"_exp":-5}`, nil, 400, "Bad Request", "Invalid expiry: expiry value is not within valid range: -5"},
		{"fractional _exp", "/db/new", `{"_exp":1.5}`, nil, 400, "Bad Request", "Invalid expiry: *"},
		{"object _exp", "/db/new", `{"_exp":{}}`, nil, 400, "Bad Request", "Invalid expiry: unrecognized expiry format"},
		{"text content", "/db/new", `{}`, []string{"Content-Type", "text/plain"}, 415, "Unsupported Media Type", "Invalid content type text/plain"},
		{"multipart", "/db/new", `{}`, []string{"Content-Type", "multipart/related; boundary=x"}, 415, "Unsupported Media Type", "multipart/related *"},
		{"encoding", "/db/new", `{}`, []string{"Content-Encoding", "br"}, 415, "Unsupported Media Type", "Unsupported Content-Encoding; use gzip"},
		{"bad gzip", "/db/new", `{}`, []string{"Content-Encoding", "gzip"}, 400, "Bad Request", "invalid gzip request body: *"},
		{"new_edits=false", "/db/new?new_edits=false", `{"_rev":"1-a"}`, nil, 501, "Not Implemented", "new_edits=false is not supported yet"},
		{"doc id too long", "/db/" + strings.Repeat("k", 251), `{}`, nil, 400, "Bad Request", "Invalid doc ID"},
		{"doc id invalid utf8", "/db/%FF", `{}`, nil, 400, "Bad Request", "Invalid doc ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			wantError(t, e.do("PUT", tc.path, tc.body, tc.headers...), tc.status, tc.errName, tc.reason)
			e.unchanged(before)
		})
	}
	if got := e.do("GET", "/db/doc", "").Obj(t)["_rev"]; got != rev {
		t.Errorf("doc changed: rev %v", got)
	}
	if calls := e.writer.Calls(); len(calls) != 1 {
		t.Errorf("rejected requests reached the writer: %d calls", len(calls))
	}
}

func TestPut_SpecialProperties(t *testing.T) {
	e := newEnv(t)
	// _id equal to the path, _revisions, null _attachments and null _rev are
	// accepted and not stored; other underscore properties are user data.
	r := e.do("PUT", "/db.sc.col/d", `{"_id":"d","_revisions":{"start":1,"ids":["x"]},"_attachments":null,"_rev":null,"_user":1,"k":"v"}`)
	if r.Code != 201 {
		t.Fatalf("PUT = %d %s", r.Code, r.Body)
	}
	d, err := e.store.Get(ksCol, "d")
	if err != nil || string(d.Body) != `{"_user":1,"k":"v"}` {
		t.Fatalf("stored %s, %v", d.Body, err)
	}
	// _deleted:true with the revision deletes.
	rev := r.Obj(t)["rev"].(string)
	r = e.do("PUT", "/db.sc.col/d", `{"_deleted":true,"_rev":"`+rev+`"}`)
	if r.Code != 201 {
		t.Fatalf("PUT _deleted = %d %s", r.Code, r.Body)
	}
	wantError(t, e.do("GET", "/db.sc.col/d", ""), 404, "not_found", "deleted")
	// Unicode and slashes in IDs round-trip.
	id := "a/b ü"
	path := "/db/" + url.PathEscape(id)
	e.put(path, `{"x":"\u00e9"}`)
	m := e.do("GET", path, "").Obj(t)
	if m["_id"] != id || m["x"] != "é" {
		t.Errorf("GET %s = %v", path, m)
	}
}

func TestPut_Expiry(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	cases := []struct {
		name, exp string
		want      time.Time
	}{
		{"relative seconds", `60`, now.Add(60 * time.Second)},
		{"relative string", `"120"`, now.Add(120 * time.Second)},
		{"absolute unix", `1893456000`, time.Unix(1893456000, 0)},
		{"ISO-8601", `"2030-01-02T03:04:05+01:00"`, time.Date(2030, 1, 2, 2, 4, 5, 0, time.UTC)},
		{"thirty days is relative", `2592000`, now.Add(2592000 * time.Second)},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/db/exp" + strconv.Itoa(i)
			e.put(path, `{"_exp":`+tc.exp+`,"a":1}`)
			d, _ := e.store.Get(ksDefault, strings.TrimPrefix(path, "/db/"))
			if int64(d.Expiry) != tc.want.Unix() {
				t.Fatalf("expiry = %d, want %d", d.Expiry, tc.want.Unix())
			}
			if string(d.Body) != `{"a":1}` {
				t.Errorf("body = %s", d.Body)
			}
			m := e.do("GET", path+"?show_exp=true", "").Obj(t)
			if m["_exp"] != tc.want.UTC().Format(time.RFC3339) {
				t.Errorf("_exp = %v, want %s", m["_exp"], tc.want.UTC().Format(time.RFC3339))
			}
			if _, ok := e.do("GET", path, "").Obj(t)["_exp"]; ok {
				t.Error("_exp shown without show_exp")
			}
		})
	}
	// _exp 0 or null means no expiry.
	e.put("/db/noexp", `{"_exp":0}`)
	if d, _ := e.store.Get(ksDefault, "noexp"); d.Expiry != 0 {
		t.Errorf("_exp 0 gave expiry %d", d.Expiry)
	}
	// An expired document is gone for readers, and may be created again.
	e.clock.Advance(61 * time.Second)
	wantError(t, e.do("GET", "/db/exp0", ""), 404, "not_found", "deleted")
	if r := e.do("GET", "/db/exp1", ""); r.Code != 200 {
		t.Errorf("exp1 expired early: %d", r.Code)
	}
	if r := e.do("PUT", "/db/exp0", `{"again":true}`); r.Code != 201 {
		t.Errorf("recreate expired = %d %s", r.Code, r.Body)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	rev1 := e.put("/db/d", `{"a":1}`)
	before := e.snapshot()
	wantError(t, e.do("DELETE", "/db/d", ""), http.StatusConflict, "conflict", "Document exists")
	wantError(t, e.do("DELETE", "/db/d?rev=1-0000", ""), http.StatusConflict, "conflict", "Document revision conflict")
	wantError(t, e.do("DELETE", "/db/d?rev=bad", ""), http.StatusBadRequest, "Bad Request", "Invalid revision ID")
	wantError(t, e.do("DELETE", "/db/nodoc?rev="+rev1, ""), http.StatusConflict, "conflict", "Document revision conflict")
	wantError(t, e.do("DELETE", "/db/nodoc", ""), http.StatusNotFound, "not_found", "missing")
	e.unchanged(before)

	r := e.do("DELETE", "/db/d?rev="+rev1, "")
	if r.Code != 200 {
		t.Fatalf("DELETE = %d %s", r.Code, r.Body)
	}
	m := r.Obj(t)
	tomb := m["rev"].(string)
	if m["id"] != "d" || m["ok"] != true || revGen(t, tomb) != 2 {
		t.Fatalf("DELETE response %s", r.Body)
	}
	wantError(t, e.do("GET", "/db/d", ""), 404, "not_found", "deleted")
	r = e.do("GET", "/db/d?rev="+tomb, "")
	if r.Code != 200 || r.Body != `{"_id":"d","_rev":"`+tomb+`","_deleted":true}` {
		t.Errorf("GET tombstone rev = %d %s", r.Code, r.Body)
	}
	wantError(t, e.do("GET", "/db/d?rev="+rev1, ""), 404, "not_found", "missing")

	// Recreating a deleted document needs no revision and continues its history.
	rev3 := e.put("/db/d", `{"b":2}`)
	if revGen(t, rev3) != 3 {
		t.Errorf("recreated rev = %s", rev3)
	}
	r = e.do("DELETE", "/db/d", "", "If-Match", `"`+rev3+`"`)
	if r.Code != 200 {
		t.Errorf("DELETE with If-Match = %d %s", r.Code, r.Body)
	}
}

func TestPostDoc(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/db/", "/db", "/db.sc.col/"} {
		r := e.do("POST", path, `{"k":1}`)
		if r.Code != 200 {
			t.Fatalf("POST %s = %d %s", path, r.Code, r.Body)
		}
		m := r.Obj(t)
		id, _ := m["id"].(string)
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) || m["ok"] != true || revGen(t, m["rev"].(string)) != 1 {
			t.Fatalf("POST response %s", r.Body)
		}
		if r.Header.Get("Location") != id || r.Header.Get("Etag") != strconv.Quote(m["rev"].(string)) {
			t.Errorf("headers %v", r.Header)
		}
		ks, _ := parseKeyspace(strings.Trim(path, "/"))
		if d, err := e.store.Get(ks, id); err != nil || string(d.Body) != `{"k":1}` {
			t.Errorf("stored %v %v", d, err)
		}
	}
	r := e.do("POST", "/db/", `{"_id":"named","k":2}`)
	if r.Code != 200 || r.Obj(t)["id"] != "named" {
		t.Fatalf("POST with _id = %d %s", r.Code, r.Body)
	}
	before := e.snapshot()
	wantError(t, e.do("POST", "/db/", `{"_id":"named"}`), 409, "conflict", "Document exists")
	wantError(t, e.do("POST", "/db/", `{"_rev":"1-abc"}`), 404, "not_found", "No previous revision to replace")
	wantError(t, e.do("POST", "/db/", `{"_id":"_bad"}`), 400, "Bad Request", "Invalid doc ID")
	wantError(t, e.do("POST", "/db/", `[]`), 400, "Bad Request", "Bad JSON: *")
	e.unchanged(before)
}

func TestRouting_MethodsAndUnknownURLs(t *testing.T) {
	e := newEnv(t)
	e.put("/db/doc", `{}`)
	before := e.snapshot()
	cases := []struct {
		method, path, allow string
	}{
		{"PATCH", "/db/doc", "GET, HEAD, PUT, DELETE"},
		{"POST", "/db/doc", "GET, HEAD, PUT, DELETE"},
		{"GET", "/db/_bulk_docs", "POST"},
		{"DELETE", "/db/_all_docs", "GET, HEAD, POST"},
		{"PUT", "/db/_changes", "GET, POST"},
		{"DELETE", "/db/", "GET, HEAD, POST"},
		{"POST", "/", "GET, HEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := e.do(tc.method, tc.path, `{}`)
			wantError(t, r, http.StatusMethodNotAllowed, "Method Not Allowed", "method "+tc.method+" is not allowed here; allowed: "+tc.allow)
			if r.Header.Get("Allow") != tc.allow {
				t.Errorf("Allow = %q", r.Header.Get("Allow"))
			}
		})
	}
	if r := e.do("OPTIONS", "/db/doc", ""); r.Code != 204 || r.Header.Get("Allow") == "" {
		t.Errorf("OPTIONS = %d %v", r.Code, r.Header)
	}
	for _, p := range []string{"/_foo", "/db/_foo", "/db/doc/", "/db//x", "/db/_all_docs/x", "/db/doc/att/more"} {
		wantError(t, e.do("GET", p, ""), 404, "not_found", "unknown URL")
	}
	wantError(t, e.do("GET", "/db/doc/att.txt", ""), 501, "Not Implemented", "attachments are not supported yet")
	wantError(t, e.do("PUT", "/db/_local/x", `{}`), 501, "Not Implemented", "_local documents are not supported yet")
	wantError(t, e.do("POST", "/db/_bulk_get", `{}`), 501, "Not Implemented", "_bulk_get is not supported yet")
	e.unchanged(before)
}

func TestGzipRequestBody(t *testing.T) {
	e := newEnv(t)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(`{"docs":[{"_id":"z1","v":1},{"_id":"z2","v":2}]}`))
	_ = zw.Close()
	r := e.do("POST", "/db/_bulk_docs", b.String(), "Content-Encoding", "gzip", "Content-Type", "application/json; charset=utf-8")
	if r.Code != 201 {
		t.Fatalf("gzip bulk = %d %s", r.Code, r.Body)
	}
	if d, err := e.store.Get(ksDefault, "z2"); err != nil || string(d.Body) != `{"v":2}` {
		t.Errorf("z2 = %v %v", d, err)
	}
}

func TestRequestTooLarge(t *testing.T) {
	e := newEnv(t)
	h, err := New(Config{Credentials: restauth.NewAdmin(testUser, testPass), Docs: e.store, Writer: e.writer, MaxRequestBytes: 100, MaxDocBytes: 20, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	before := e.snapshot()
	wantError(t, e.do("PUT", "/db/big", `{"v":"`+strings.Repeat("x", 200)+`"}`), 413, "Request Entity Too Large", "request body exceeds 100 bytes")
	wantError(t, e.do("PUT", "/db/big", `{"v":"`+strings.Repeat("x", 30)+`"}`), 413, "Request Entity Too Large", "document exceeds the maximum size of 20 bytes")
	e.unchanged(before)
}

func TestWriterFailures(t *testing.T) {
	e := newEnv(t)
	e.writer.fail = consensus.ErrNotLeader
	wantError(t, e.do("PUT", "/db/x", `{}`), 503, "Service Unavailable", "this node cannot accept writes right now*")
	wantError(t, e.do("POST", "/db/_bulk_docs", `{"docs":[{"_id":"a"}]}`), 503, "Service Unavailable", "this node cannot accept writes right now*")
	e.writer.fail = consensus.ErrClosed
	wantError(t, e.do("DELETE", "/db/x?rev=1-a", ``), 503, "Service Unavailable", "the node is shutting down")
	e.writer.fail = errors.New("disk on fire")
	wantError(t, e.do("PUT", "/db/x", `{}`), 500, "Internal Server Error", reasonInternal) // the cause is logged, not answered
}

// panicReader panics on Get, to prove a panic never reaches the client.
type panicReader struct{ DocReader }

func (panicReader) Get(docstore.Keyspace, string) (*docstore.Document, error) { panic("boom") }

func TestPanicRecovered(t *testing.T) {
	e := newEnvWith(t, func(r DocReader) DocReader { return panicReader{r} })
	wantError(t, e.do("GET", "/db/doc", ""), 500, "Internal Server Error", reasonInternal)
	// The handler keeps serving.
	if r := e.do("GET", "/db/", ""); r.Code != 200 {
		t.Fatalf("after panic: %d", r.Code)
	}
}

// hiddenDocs: binary documents written by other APIs are invisible here.
func TestBinaryDocumentsInvisible(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.Apply(docstore.Mutation{Keyspace: ksDefault, Key: "bin", Body: []byte{0, 1, 2}, Datatype: docstore.DatatypeBinary}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Apply(docstore.Mutation{Keyspace: ksDefault, Key: "arr", Body: []byte(`[1]`)}, 2); err != nil {
		t.Fatal(err)
	}
	e.put("/db/json", `{}`)
	wantError(t, e.do("GET", "/db/bin", ""), 404, "not_found", "missing")
	wantError(t, e.do("GET", "/db/arr", ""), 404, "not_found", "missing")
	if rows := e.do("GET", "/db/_all_docs", "").Obj(t)["rows"].([]any); len(rows) != 1 {
		t.Errorf("_all_docs rows = %v", rows)
	}
	if res := e.do("GET", "/db/_changes", "").Obj(t)["results"].([]any); len(res) != 1 {
		t.Errorf("_changes results = %v", res)
	}
}
