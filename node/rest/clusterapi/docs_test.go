package clusterapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventide/docstore"
)

// docsEnv is a test env with bucket "b" and collection b.s.c.
func docsEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.mustCreateBucket(t, "b")
	e.do(t, "POST", "/pools/default/buckets/b/scopes", form("name", "s")).expect(t, http.StatusOK)
	e.do(t, "POST", "/pools/default/buckets/b/scopes/s/collections", form("name", "c")).expect(t, http.StatusOK)
	return e
}

var defaultKS = docstore.Keyspace{Bucket: "b", Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}

func (e *testEnv) put(t *testing.T, m docstore.Mutation) *docstore.Document {
	t.Helper()
	if m.Keyspace == (docstore.Keyspace{}) {
		m.Keyspace = defaultKS
	}
	if m.Op == docstore.OpUpsert && m.Body == nil {
		m.Body = []byte(`{}`)
	}
	d, err := e.store.Apply(m, uint64(time.Now().UnixNano()))
	if err != nil {
		t.Fatalf("apply %+v: %v", m, err)
	}
	return d
}

// readDoc is the decoded answer of GET .../docs/{id}.
type readDoc struct {
	Meta struct {
		ID         string `json:"id"`
		Rev        string `json:"rev"`
		Expiration uint32 `json:"expiration"`
		Flags      uint32 `json:"flags"`
		CAS        string `json:"cas"`
	} `json:"meta"`
	JSON   *string                    `json:"json"`
	Base64 *string                    `json:"base64"`
	Xattrs map[string]json.RawMessage `json:"xattrs"`
}

func (e *testEnv) readDoc(t *testing.T, path string) readDoc {
	t.Helper()
	var d readDoc
	e.do(t, "GET", path, nil).expect(t, http.StatusOK).json(t, &d)
	return d
}

func TestDocs_GetEveryDatatypeExactly(t *testing.T) {
	e := docsEnv(t)
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	jsonBodies := map[string]string{
		"string": `"hello world"`, "number": `42.5`, "array": `[1,"a",null]`, "null": `null`,
		"object": `{"b":2,"a":[true,false]}`, "spaced": ` { "x" : 1 } `,
	}
	for id, body := range jsonBodies {
		e.put(t, docstore.Mutation{Key: id, Op: docstore.OpUpsert, Body: []byte(body), Flags: 7})
	}
	e.put(t, docstore.Mutation{Key: "bin", Op: docstore.OpUpsert, Body: bin, Datatype: docstore.DatatypeBinary, Flags: 3})
	for id, body := range jsonBodies {
		d := e.readDoc(t, "/pools/default/buckets/b/docs/"+id)
		if d.JSON == nil || *d.JSON != body || d.Base64 != nil {
			t.Errorf("%s: json %v base64 %v, want the JSON text %q", id, d.JSON, d.Base64, body)
		}
		if d.Meta.ID != id || d.Meta.Flags != 7 || d.Meta.Expiration != 0 {
			t.Errorf("%s: meta %+v", id, d.Meta)
		}
	}
	d := e.readDoc(t, "/pools/default/buckets/b/docs/bin")
	got, err := base64.StdEncoding.DecodeString(deref(d.Base64))
	if d.JSON != nil || err != nil || !bytes.Equal(got, bin) {
		t.Fatalf("binary: json %v, base64 decodes to %d bytes (%v), want the %d bytes stored", d.JSON, len(got), err, len(bin))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestDocs_GetMetaAndXattrs(t *testing.T) {
	e := docsEnv(t)
	exp := uint32(time.Now().Add(time.Hour).Unix())
	e.put(t, docstore.Mutation{Key: "k", Op: docstore.OpUpsert, Body: []byte(`1`)})
	doc := e.put(t, docstore.Mutation{Key: "k", Op: docstore.OpUpsert, Body: []byte(`{"v":2}`), Flags: 0x02000006, Expiry: exp,
		Xattrs: map[string]json.RawMessage{"tag": json.RawMessage(`{"n":1}`)}})
	d := e.readDoc(t, "/pools/default/buckets/b/docs/k")
	wantRev := fmt.Sprintf("2-%016x%08x%08x", doc.CAS, exp, 0x02000006)
	if d.Meta.Rev != wantRev || d.Meta.CAS != strconv.FormatUint(doc.CAS, 10) || d.Meta.Expiration != exp || d.Meta.Flags != 0x02000006 {
		t.Fatalf("meta %+v, want rev %s cas %d expiration %d flags %d", d.Meta, wantRev, doc.CAS, exp, 0x02000006)
	}
	if len(d.Xattrs) != 1 || string(d.Xattrs["tag"]) != `{"n":1}` {
		t.Fatalf("xattrs %v, want tag", d.Xattrs)
	}
	// A document without xattrs still has the (empty) object.
	e.put(t, docstore.Mutation{Key: "plain", Op: docstore.OpUpsert})
	r := e.do(t, "GET", "/pools/default/buckets/b/docs/plain", nil).expect(t, http.StatusOK)
	if !bytes.Contains(r.body, []byte(`"xattrs":{}`)) {
		t.Fatalf("body %s has no empty xattrs", r.body)
	}
}

func TestDocs_Missing(t *testing.T) {
	e := docsEnv(t)
	e.put(t, docstore.Mutation{Key: "gone", Op: docstore.OpUpsert})
	e.put(t, docstore.Mutation{Key: "gone", Op: docstore.OpDelete})
	e.put(t, docstore.Mutation{Key: "expired", Op: docstore.OpUpsert, Expiry: uint32(time.Now().Add(-time.Minute).Unix())})
	for _, id := range []string{"never", "gone", "expired", strings.Repeat("k", 300)} {
		r := e.do(t, "GET", "/pools/default/buckets/b/docs/"+id, nil).expect(t, http.StatusNotFound)
		if len(r.body) != 0 {
			t.Errorf("%s: body %q, want none (ns_server's reply(Req, 404))", id, r.body)
		}
	}
	cases := []struct{ path, want string }{
		{"/pools/default/buckets/nope/docs/k", notFoundBody},
		{"/pools/default/buckets/nope/docs", notFoundBody},
		{"/pools/default/buckets/b/scopes/x/collections/c/docs/k", `{"error":"Scope with name \"x\" is not found"}`},
		{"/pools/default/buckets/b/scopes/s/collections/x/docs", `{"error":"Collection with name \"x\" in scope \"s\" is not found"}`},
	}
	for _, tc := range cases {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			if strings.HasSuffix(tc.path, "/docs") && method != "GET" {
				continue
			}
			var f url.Values
			if method == "POST" {
				f = form("value", "1")
			}
			r := e.do(t, method, tc.path, f).expect(t, http.StatusNotFound)
			if string(r.body) != tc.want {
				t.Errorf("%s %s: body %q, want %q", method, tc.path, r.body, tc.want)
			}
		}
	}
	if n := len(mustAll(t, e.store, docstore.Keyspace{Bucket: "b", Scope: "s", Collection: "c"})); n != 0 {
		t.Fatalf("refused writes left %d documents", n)
	}
}

func mustAll(t *testing.T, s *docstore.Store, ks docstore.Keyspace) []*docstore.Document {
	t.Helper()
	docs, err := s.AllDocs(ks, uint32(time.Now().Unix()), docstore.AllDocsOptions{})
	if err != nil {
		t.Fatalf("AllDocs: %v", err)
	}
	return docs
}

func TestDocs_SetAndDelete(t *testing.T) {
	e := docsEnv(t)
	path := "/pools/default/buckets/b/scopes/s/collections/c/docs/"
	ks := docstore.Keyspace{Bucket: "b", Scope: "s", Collection: "c"}
	r := e.do(t, "POST", path+"a", form("value", `{"x":1}`)).expect(t, http.StatusOK)
	if string(r.body) != "[]" {
		t.Fatalf("set answered %q, want []", r.body)
	}
	d, err := e.store.Get(ks, "a")
	if err != nil || string(d.Body) != `{"x":1}` || d.Datatype != docstore.DatatypeJSON || d.Flags != 0x02000006 || d.Expiry != 0 {
		t.Fatalf("stored %+v (%v), want JSON with the common JSON flags", d, err)
	}
	// Replace: a new revision; a value that is not JSON is binary.
	e.do(t, "POST", path+"a", form("value", "not json", "flags", "4")).expect(t, http.StatusOK)
	d2, _ := e.store.Get(ks, "a")
	if string(d2.Body) != "not json" || d2.Datatype != docstore.DatatypeBinary || d2.Flags != 4 || d2.CAS <= d.CAS || !strings.HasPrefix(d2.RevID, "2-") {
		t.Fatalf("replaced %+v, want binary 'not json', flags 4, a newer CAS and revision 2", d2)
	}
	got := e.readDoc(t, path+"a")
	if b, _ := base64.StdEncoding.DecodeString(deref(got.Base64)); string(b) != "not json" || got.Meta.Flags != 4 {
		t.Fatalf("read back %+v", got)
	}
	// Delete, then it is gone; deleting again says so.
	r = e.do(t, "DELETE", path+"a", nil).expect(t, http.StatusOK)
	if string(r.body) != "[]" {
		t.Fatalf("delete answered %q", r.body)
	}
	e.do(t, "GET", path+"a", nil).expect(t, http.StatusNotFound)
	r = e.do(t, "DELETE", path+"a", nil).expect(t, http.StatusBadRequest)
	if string(r.body) != `{"error":"bad_request","reason":"Key doesn't exist"}` {
		t.Fatalf("second delete: %s", r.body)
	}
	// Keys with characters that need escaping round-trip.
	odd := "a/b c?d%e"
	e.do(t, "POST", path+url.PathEscape(odd), form("value", `"s"`)).expect(t, http.StatusOK)
	if got := e.readDoc(t, path+url.PathEscape(odd)); got.Meta.ID != odd || deref(got.JSON) != `"s"` {
		t.Fatalf("odd key read back as %+v", got)
	}
}

func TestDocs_SetExpiry(t *testing.T) {
	e := docsEnv(t)
	path := "/pools/default/buckets/b/docs/"
	now := time.Now().Unix()
	e.do(t, "POST", path+"rel", form("value", "1", "expiry", "3600")).expect(t, http.StatusOK)
	d, _ := e.store.Get(defaultKS, "rel")
	if int64(d.Expiry) < now+3600 || int64(d.Expiry) > now+3700 {
		t.Fatalf("relative expiry 3600 stored as %d (now %d)", d.Expiry, now)
	}
	abs := now + 40*24*3600
	e.do(t, "POST", path+"abs", form("value", "1", "expiry", strconv.FormatInt(abs, 10))).expect(t, http.StatusOK)
	if d, _ := e.store.Get(defaultKS, "abs"); int64(d.Expiry) != abs {
		t.Fatalf("absolute expiry stored as %d, want %d", d.Expiry, abs)
	}
	if got := e.readDoc(t, path+"abs"); int64(got.Meta.Expiration) != abs {
		t.Fatalf("meta.expiration %d, want %d", got.Meta.Expiration, abs)
	}
	// preserveTTL keeps it; a plain set clears it.
	e.do(t, "POST", path+"abs", form("value", "2", "preserveTTL", "true")).expect(t, http.StatusOK)
	if d, _ := e.store.Get(defaultKS, "abs"); int64(d.Expiry) != abs || string(d.Body) != "2" {
		t.Fatalf("preserveTTL: expiry %d body %s", d.Expiry, d.Body)
	}
	e.do(t, "POST", path+"abs", form("value", "3")).expect(t, http.StatusOK)
	if d, _ := e.store.Get(defaultKS, "abs"); d.Expiry != 0 {
		t.Fatalf("plain set kept expiry %d", d.Expiry)
	}
}

func TestDocs_SetRefusesBadInput(t *testing.T) {
	e := docsEnv(t)
	path := "/pools/default/buckets/b/docs/"
	e.put(t, docstore.Mutation{Key: "k", Op: docstore.OpUpsert, Body: []byte(`{"keep":true}`)})
	before, _ := e.store.Get(defaultKS, "k")
	cases := []struct {
		name string
		key  string
		f    url.Values
		want string
	}{
		{"flags not a number", "k", form("value", "1", "flags", "x"), "'flags' must be a valid positive integer"},
		{"flags too large", "k", form("value", "1", "flags", "4294967296"), "'flags' must be a valid positive integer"},
		{"negative expiry", "k", form("value", "1", "expiry", "-1"), `'"expiry"' must be a valid integer between 0 and 2147483647`},
		{"expiry too large", "k", form("value", "1", "expiry", "2147483648"), `'"expiry"' must be a valid integer between 0 and 2147483647`},
		{"bad preserveTTL", "k", form("value", "1", "preserveTTL", "yes"), `{"error":"bad_request","reason":"preserveTTL must be true or false"}`},
		{"key too long", strings.Repeat("x", 251), form("value", "1"), `{"error":"bad_request","reason":"document key is 251 bytes, more than 250"}`},
		{"value too large", "k", form("value", strings.Repeat("a", docstore.MaxBodyLen+1)), `{"error":"bad_request","reason":"The value is 20971521 bytes, larger than the document size limit of 20971520 bytes"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", path+tc.key, tc.f).expect(t, http.StatusBadRequest)
			if string(r.body) != tc.want {
				t.Fatalf("body %q, want %q", r.body, tc.want)
			}
		})
	}
	// A JSON body is refused: the API takes form fields.
	req, _ := http.NewRequest("POST", e.srv.URL+path+"k", strings.NewReader(`{"value":"1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(testUser, testPass)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("JSON body: status %d, want 400", resp.StatusCode)
	}
	if after, _ := e.store.Get(defaultKS, "k"); after != before {
		t.Fatalf("refused writes changed the document: %+v", after)
	}
}

func TestDocs_List(t *testing.T) {
	e := docsEnv(t)
	const n = 2500
	ms := make([]docstore.Mutation, 0, n)
	for i := range n {
		ms = append(ms, docstore.Mutation{Keyspace: defaultKS, Key: fmt.Sprintf("k%05d", i), Op: docstore.OpUpsert, Body: []byte(strconv.Itoa(i))})
	}
	if _, err := e.store.ApplyAll(ms, uint64(time.Now().UnixNano())); err != nil {
		t.Fatal(err)
	}
	bin := bytes.Repeat([]byte{0xff, 0x00}, 100)
	e.put(t, docstore.Mutation{Key: "z-bin", Op: docstore.OpUpsert, Body: bin, Datatype: docstore.DatatypeBinary})
	e.put(t, docstore.Mutation{Key: "k00001", Op: docstore.OpDelete})

	type rows struct {
		Rows []struct {
			ID  string            `json:"id"`
			Doc map[string]string `json:"doc"`
		} `json:"rows"`
	}
	list := func(query string) rows {
		t.Helper()
		var out rows
		e.do(t, "GET", "/pools/default/buckets/b/docs?"+query, nil).expect(t, http.StatusOK).json(t, &out)
		return out
	}
	ids := func(r rows) []string {
		out := make([]string, len(r.Rows))
		for i, row := range r.Rows {
			out[i] = row.ID
		}
		return out
	}
	r := list("")
	if len(r.Rows) != 1000 || r.Rows[0].ID != "k00000" || r.Rows[1].ID != "k00002" || r.Rows[0].Doc != nil {
		t.Fatalf("default listing: %d rows from %v", len(r.Rows), ids(r)[:3])
	}
	// Walk every key by startkey pages, as the console does.
	var all []string
	start := ""
	for {
		q := "limit=700"
		if start != "" {
			q += "&skip=1&startkey=" + url.QueryEscape(strconv.Quote(start))
		}
		page := ids(list(q))
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		start = page[len(page)-1]
	}
	if len(all) != n || all[len(all)-1] != "z-bin" {
		t.Fatalf("paged %d keys ending %q, want %d ending z-bin", len(all), all[len(all)-1], n)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] >= all[i] {
			t.Fatalf("keys out of order at %d: %q, %q", i, all[i-1], all[i])
		}
	}
	got := ids(list(`startkey="k00100"&endkey="k00105"`))
	if strings.Join(got, ",") != "k00100,k00101,k00102,k00103,k00104,k00105" {
		t.Fatalf("key range: %v", got)
	}
	got = ids(list(`startkey="k00100"&endkey="k00105"&inclusive_end=false&skip=2&limit=2`))
	if strings.Join(got, ",") != "k00102,k00103" {
		t.Fatalf("exclusive range with skip and limit: %v", got)
	}
	r = list(`include_docs=true&startkey="k02499"`)
	if len(r.Rows) != 2 || r.Rows[0].Doc["json"] != "2499" {
		t.Fatalf("include_docs: %+v", r.Rows)
	}
	if b, _ := base64.StdEncoding.DecodeString(r.Rows[1].Doc["base64"]); !bytes.Equal(b, bin[:128]) {
		t.Fatalf("binary row shows %d bytes, want the first 128", len(b))
	}
	var sc rows
	e.do(t, "GET", "/pools/default/buckets/b/scopes/s/collections/c/docs", nil).expect(t, http.StatusOK).json(t, &sc)
	if len(sc.Rows) != 0 {
		t.Fatalf("empty collection lists %d rows", len(sc.Rows))
	}
	for q, want := range map[string]string{
		"limit=0":            `'"limit"' must be a valid integer between 1 and 1000`,
		"limit=1001":         `'"limit"' must be a valid integer between 1 and 1000`,
		"limit=x":            `'"limit"' must be a valid integer between 1 and 1000`,
		"skip=-1":            `'"skip"' must be a valid integer between 0 and 1000`,
		"include_docs=yes":   `{"error":"bad_request","reason":"include_docs must be true or false"}`,
		"startkey=k1":        `{"error":"bad_request","reason":"startkey must be a document key as a JSON string, e.g. \"doc1\""}`,
		"endkey=%5B1%5D":     `{"error":"bad_request","reason":"endkey must be a document key as a JSON string, e.g. \"doc1\""}`,
		"inclusive_end=nope": `{"error":"bad_request","reason":"inclusive_end must be true or false"}`,
	} {
		r := e.do(t, "GET", "/pools/default/buckets/b/docs?"+q, nil).expect(t, http.StatusBadRequest)
		if string(r.body) != want {
			t.Errorf("%s: %q, want %q", q, r.body, want)
		}
	}
}

func TestDocs_RequireCredentials(t *testing.T) {
	e := docsEnv(t)
	e.put(t, docstore.Mutation{Key: "k", Op: docstore.OpUpsert})
	for _, rt := range []struct{ method, path string }{
		{"GET", "/pools/default/buckets/b/docs"},
		{"GET", "/pools/default/buckets/b/docs/k"},
		{"POST", "/pools/default/buckets/b/docs/k"},
		{"DELETE", "/pools/default/buckets/b/docs/k"},
		{"GET", "/pools/default/buckets/b/scopes/s/collections/c/docs"},
		{"DELETE", "/pools/default/buckets/nope/docs/k"},
	} {
		r := e.doAuth(t, rt.method, rt.path, form("value", "2"), testUser, "wrong")
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong password: %d", rt.method, rt.path, r.status)
		}
	}
	if d, _ := e.store.Get(defaultKS, "k"); d.Deleted || string(d.Body) != "{}" {
		t.Fatalf("unauthenticated requests changed the document: %+v", d)
	}
}
