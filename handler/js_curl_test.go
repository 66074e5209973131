package handler

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newCurlHarness is newHarness with curl bindings and settings.
func newCurlHarness(t *testing.T, code string, s Settings, curl ...CurlBinding) *harness {
	t.Helper()
	p, err := Compile(code, s, nil, defaultBindings(), curl...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	dir := t.TempDir()
	al, err := OpenAppLog(dir, "fn", 1<<20, 3)
	if err != nil {
		t.Fatalf("OpenAppLog: %v", err)
	}
	t.Cleanup(func() { al.Close() })
	stats := NewStats()
	w, err := NewWorker(p, Config{FunctionName: "fn", AppLog: al, Stats: stats, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	t.Cleanup(w.Close)
	return &harness{t: t, w: w, store: newFakeStore(), stats: stats, appLog: al, dir: dir}
}

// seen is what a test server recorded of one request.
type seen struct {
	method, uri, body, contentType, auth, cookie string
}

// recorder is a test server's log of requests.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) add(req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, seen{method: req.Method, uri: req.RequestURI, body: string(body),
		contentType: req.Header.Get("Content-Type"), auth: req.Header.Get("Authorization"), cookie: req.Header.Get("Cookie")})
}

func (r *recorder) all() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func (r *recorder) last(t *testing.T) seen {
	t.Helper()
	all := r.all()
	if len(all) == 0 {
		t.Fatal("server saw no request")
	}
	return all[len(all)-1]
}

func newTestServer(t *testing.T, rec *recorder, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec != nil {
			rec.add(r)
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// catchWrap runs body in OnUpdate, storing its result (or the exception) in
// dst['result'].
func catchWrap(body string) string {
	return `function OnUpdate(doc, meta) {
  var out;
  try {
    out = (function () {` + body + `})();
  } catch (e) {
    out = {err: String(e), isCurl: e instanceof CurlError, isError: e instanceof Error};
  }
  dst['result'] = out;
}`
}

func TestCurl_GetJSONWithRawHeaders(t *testing.T) {
	rec := &recorder{}
	srv := newTestServer(t, rec, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Set-Cookie", "cookie-key=cookie-value; Path=/")
		fmt.Fprint(w, `{"a":1,"b":[true,"x"]}`)
	})
	h := newCurlHarness(t, catchWrap(`
    var r = curl('GET', api, {path: '/items/../../../../etc', params: {q: 'v'}});
    return {status: r.status, ct: r.headers['Content-Type'], cl: r.headers['Content-Length'],
      ck: r.headers['Set-Cookie'], a: r.body.a, b1: r.body.b[1], str: String(api)};`),
		Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL + "/base"})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"status": 200, "ct": " application/json; charset=utf-8\r\n", "cl": " 22\r\n",
		"ck": " cookie-key=cookie-value; Path=/\r\n", "a": 1, "b1": "x", "str": "[curl binding api]",
	})
	if got := rec.last(t); got.method != "GET" || got.uri != "/base/etc?q=v" {
		t.Errorf("server saw %s %s, want GET /base/etc?q=v (path clamped to the binding)", got.method, got.uri)
	}
	if got := h.stats.Get("curl_success_count"); got != 1 {
		t.Errorf("curl_success_count = %d, want 1", got)
	}
}

func TestCurl_RequestBodyMarshalling(t *testing.T) {
	rec := &recorder{}
	srv := newTestServer(t, rec, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	cases := []struct {
		name, req, wantCT, wantBody string
	}{
		{"string", `{body: 'hello'}`, "text/plain", "hello"},
		{"object", `{body: {a: 1, b: 'x'}}`, "application/json", `{"a":1,"b":"x"}`},
		{"array buffer", `{body: new Uint8Array([1, 2, 255]).buffer}`, "application/octet-stream", "\x01\x02\xff"},
		{"form", `{body: {a: '1 2', b: 'x&y'}, encoding: 'FORM'}`, "application/x-www-form-urlencoded", "a=1+2&b=x%26y"},
		{"json string", `{body: '{"z":0}', encoding: 'JSON'}`, "application/json", `{"z":0}`},
		{"text number", `{body: 42, encoding: 'TEXT'}`, "text/plain", "42"},
		{"explicit content type", `{body: {a: 1}, headers: {'Content-Type': 'application/vnd.x+json'}}`, "application/vnd.x+json", `{"a":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newCurlHarness(t, catchWrap(`var r = curl('POST', api, `+tc.req+`); return {status: r.status};`),
				Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL})
			h.mustHandle(mutation("k", `{}`))
			wantFields(t, h.result("result"), map[string]any{"status": 204})
			got := rec.last(t)
			if got.contentType != tc.wantCT || got.body != tc.wantBody || got.method != "POST" {
				t.Errorf("server saw %s %q body %q, want POST %q body %q", got.method, got.contentType, got.body, tc.wantCT, tc.wantBody)
			}
		})
	}
}

func TestCurl_ResponseBodyByContentType(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	zl := func(s string) []byte {
		var b bytes.Buffer
		zw := zlib.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	srv := newTestServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/text":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "plain words")
		case "/form":
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			fmt.Fprint(w, "a=1&b=x%20y")
		case "/binary":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte{0, 1, 2, 3})
		case "/none":
			w.Write([]byte{9, 8})
		case "/empty-json":
			w.Header().Set("Content-Type", "application/json")
		case "/bad-json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"a":`)
		case "/gzip":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz(`{"zipped":true}`))
		case "/deflate":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "deflate")
			w.Write(zl("deflated text"))
		case "/missing":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(404)
			fmt.Fprint(w, "nope")
		}
	})
	h := newCurlHarness(t, `function OnUpdate(doc, meta) {
  function get(p) { return curl('GET', api, {path: p}); }
  var bad;
  try { get('/bad-json'); } catch (e) { bad = {curl: e instanceof CurlError, err: e instanceof Error, msg: e.message}; }
  var bin = get('/binary').body, none = get('/none').body;
  dst['result'] = {
    text: get('/text').body, formA: get('/form').body.a, formB: get('/form').body.b,
    bin: bin instanceof ArrayBuffer, binBytes: Array.from(new Uint8Array(bin)).join(','),
    none: none instanceof ArrayBuffer && none.byteLength === 2,
    empty: get('/empty-json').body === null, badCurl: bad.curl, badErr: bad.err, badMsg: bad.msg,
    gzip: get('/gzip').body.zipped, gzipEnc: get('/gzip').headers['Content-Encoding'],
    deflate: get('/deflate').body, missing: get('/missing').status, missingBody: get('/missing').body,
  };
}`, Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL})
	h.mustHandle(mutation("k", `{}`))
	r := h.result("result")
	wantFields(t, r, map[string]any{
		"text": "plain words", "formA": "1", "formB": "x y", "bin": true, "binBytes": "0,1,2,3", "none": true,
		"empty": true, "badCurl": true, "badErr": true, "gzip": true, "gzipEnc": " gzip\r\n",
		"deflate": "deflated text", "missing": 404, "missingBody": "nope",
	})
	if msg, _ := r["badMsg"].(string); !strings.Contains(msg, "JSON") {
		t.Errorf("malformed JSON message = %q", msg)
	}
	if got := h.stats.Get("curl_non_200_response"); got != 2 {
		t.Errorf("curl_non_200_response = %d, want 2", got)
	}
	if got := h.stats.Get("curl_failure_count"); got != 1 {
		t.Errorf("curl_failure_count = %d, want 1", got)
	}
}

func TestCurl_Redirects(t *testing.T) {
	srv := newTestServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/from":
			http.Redirect(w, r, "/to", http.StatusFound)
		case "/to":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "arrived")
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	})
	h := newCurlHarness(t, `function OnUpdate(doc, meta) {
  var follow = curl('GET', api, {path: '/from'});
  var stay = curl('GET', api, {path: '/from', redirect: false});
  var loop;
  try { curl('GET', api, {path: '/loop'}); } catch (e) { loop = e.message; }
  dst['result'] = {follow: follow.body, stay: stay.status, loc: stay.headers['Location'], loop: loop};
}`, Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"follow": "arrived", "stay": 302, "loc": " /to\r\n",
		"loop": "Unable to perform the request: Number of redirects hit maximum amount",
	})
}

func TestCurl_Auth(t *testing.T) {
	const realm, nonce = "eventide", "abc123"
	rec := &recorder{}
	srv := newTestServer(t, rec, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/basic":
			if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
				w.WriteHeader(401)
				return
			}
		case "/bearer":
			if r.Header.Get("Authorization") != "Bearer tok-1" {
				w.WriteHeader(401)
				return
			}
		case "/digest":
			if !validDigest(r, "bob", "pw", realm, nonce) {
				w.Header().Set("WWW-Authenticate", `Digest realm="`+realm+`", qop="auth", nonce="`+nonce+`", opaque="op"`)
				w.WriteHeader(401)
				return
			}
		}
		w.WriteHeader(200)
	})
	h := newCurlHarness(t, `function OnUpdate(doc, meta) {
  dst['result'] = {
    basic: curl('GET', b, {path: '/basic'}).status,
    bearer: curl('GET', br, {path: '/bearer'}).status,
    digest: curl('POST', d, {path: '/digest', body: 'payload'}).status,
    none: curl('GET', n, {path: '/basic'}).status,
  };
}`, Settings{},
		CurlBinding{Alias: "b", Hostname: srv.URL, AuthType: CurlAuthBasic, Username: "alice", Password: "s3cret"},
		CurlBinding{Alias: "br", Hostname: srv.URL, AuthType: CurlAuthBearer, BearerKey: "tok-1"},
		CurlBinding{Alias: "d", Hostname: srv.URL, AuthType: CurlAuthDigest, Username: "bob", Password: "pw"},
		CurlBinding{Alias: "n", Hostname: srv.URL})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{"basic": 200, "bearer": 200, "digest": 200, "none": 401})
	for _, s := range rec.all() {
		if s.uri == "/digest" && s.auth != "" && s.body != "payload" {
			t.Errorf("digest retry lost the body: %q", s.body)
		}
	}
}

// digestParam matches one k=v or k="v" of an Authorization header.
var digestParam = regexp.MustCompile(`(\w+)=(?:"([^"]*)"|([^,\s]*))`)

// validDigest checks an RFC 2617 qop=auth MD5 digest response.
func validDigest(r *http.Request, user, pass, realm, nonce string) bool {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Digest ") {
		return false
	}
	// Parsed here rather than with curl's own parser, which the test checks.
	p := map[string]string{}
	for _, m := range digestParam.FindAllStringSubmatch(auth[len("Digest "):], -1) {
		p[m[1]] = m[2] + m[3]
	}
	md := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := md(user + ":" + realm + ":" + pass)
	ha2 := md(r.Method + ":" + r.RequestURI)
	want := md(ha1 + ":" + nonce + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	return p["username"] == user && p["uri"] == r.RequestURI && p["opaque"] == "op" && p["qop"] == "auth" && p["response"] == want
}

func TestCurl_CookiesOnlyWithinInvocation(t *testing.T) {
	rec := &recorder{}
	srv := newTestServer(t, rec, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "42", Path: "/"})
		}
	})
	code := `function OnUpdate(doc, meta) {
  if (doc.set) curl('GET', api, {path: '/set'});
  curl('GET', api, {path: '/use'});
}`
	for _, allow := range []bool{true, false} {
		t.Run(fmt.Sprint("allow=", allow), func(t *testing.T) {
			rec.mu.Lock()
			rec.reqs = nil
			rec.mu.Unlock()
			h := newCurlHarness(t, code, Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL, AllowCookies: allow})
			h.mustHandle(mutation("k1", `{"set":true}`))
			h.mustHandle(mutation("k2", `{"set":false}`))
			reqs := rec.all()
			if len(reqs) != 3 {
				t.Fatalf("server saw %d requests, want 3", len(reqs))
			}
			want := ""
			if allow {
				want = "sid=42"
			}
			if reqs[1].cookie != want {
				t.Errorf("same invocation sent cookie %q, want %q", reqs[1].cookie, want)
			}
			if reqs[2].cookie != "" {
				t.Errorf("next invocation sent cookie %q, want none", reqs[2].cookie)
			}
		})
	}
}

func TestCurl_InvalidRequests(t *testing.T) {
	srv := newTestServer(t, nil, func(w http.ResponseWriter, r *http.Request) {})
	cases := []struct{ name, call, want string }{
		{"zero timeout", `curl('GET', api, {timeout: 0})`, "CurlError: 'timeout' should be a positive integer"},
		{"fractional timeout", `curl('GET', api, {timeout: 1.5})`, "CurlError: 'timeout' should be a positive integer"},
		{"string timeout", `curl('GET', api, {timeout: '5'})`, "CurlError: 'timeout' should be a positive integer"},
		{"method", `curl('PATCH', api)`, "CurlError: Invalid HTTP method \"PATCH\", should be one of GET, POST, PUT, HEAD, DELETE"},
		{"not a binding", `curl('GET', {hostname: 'http://x'})`, "CurlError: Expected a curl binding as the second argument"},
		{"bucket binding", `curl('GET', dst)`, "CurlError: Expected a curl binding as the second argument"},
		{"few args", `curl('GET')`, "CurlError: curl expects at least 2 arguments: method and curl binding"},
		{"encoding", `curl('POST', api, {body: 'x', encoding: 'XML'})`, "CurlError: 'encoding' should be one of FORM, JSON, TEXT, BINARY"},
		{"url encode version", `curl('GET', api, {url_encode_version: '5.0'})`, "CurlError: 'url_encode_version' should be one of 6.6.2, 7.1.0, 7.2.0"},
		{"header object", `curl('GET', api, {headers: {a: {}}})`, "CurlError: header \"a\" should be a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newCurlHarness(t, catchWrap(tc.call+`; return {};`), Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL})
			h.mustHandle(mutation("k", `{}`))
			wantFields(t, h.result("result"), map[string]any{"err": tc.want, "isCurl": true, "isError": true})
		})
	}
}

func TestCurl_URLEncodingVersions(t *testing.T) {
	rec := &recorder{}
	srv := newTestServer(t, rec, func(w http.ResponseWriter, r *http.Request) {})
	const str = `'1=2&key1=value@1&key2=value=2'`
	const obj = `{key1: 'value@1', key2: 'value=2'}`
	cases := []struct{ lang, version, params, want string }{
		{Lang662, "", str, "/p@thA/p@thB?1%3D2%26key1%3Dvalue%401%26key2%3Dvalue%3D2"},
		{Lang662, "", obj, "/p@thA/p@thB?key1=value%401&key2=value%3D2"},
		{Lang720, "7.1.0", str, "/p%40thA/p%40thB?1=2&key1=value%401&key2=value%3D2"},
		{Lang720, "7.1.0", obj, "/p%40thA/p%40thB?key1=value%401&key2=value%3D2"},
		{Lang720, "", str, "/p@thA/p@thB?1=2&key1=value@1&key2=value=2"},
		{Lang720, "", obj, "/p@thA/p@thB?key1=value@1&key2=value=2"},
		{Lang600, "7.2.0", obj, "/p@thA/p@thB?key1=value@1&key2=value=2"},
	}
	for _, tc := range cases {
		t.Run(tc.lang+"/"+tc.version+"/"+tc.params, func(t *testing.T) {
			ver := ""
			if tc.version != "" {
				ver = `, url_encode_version: '` + tc.version + `'`
			}
			h := newCurlHarness(t, catchWrap(`curl('GET', api, {path: '/p@thA/p@thB', params: `+tc.params+ver+`}); return {ok: true};`),
				Settings{LanguageCompatibility: tc.lang}, CurlBinding{Alias: "api", Hostname: srv.URL})
			h.mustHandle(mutation("k", `{}`))
			wantFields(t, h.result("result"), map[string]any{"ok": true})
			if got := rec.last(t).uri; got != tc.want {
				t.Errorf("request URI %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCurl_ResponseSizeLimit(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 1<<20+10)
	srv := newTestServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(big)
			zw.Close()
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(big)
	})
	h := newCurlHarness(t, catchWrap(`
    var out = {};
    try { curl('GET', api, {path: '/plain'}); } catch (e) { out.plain = e instanceof CurlError && e.message; }
    try { curl('GET', api, {path: '/gzip'}); } catch (e) { out.gzip = e instanceof CurlError && e.message; }
    return out;`), Settings{CurlMaxAllowedRespSize: 1}, CurlBinding{Alias: "api", Hostname: srv.URL})
	h.mustHandle(mutation("k", `{}`))
	const msg = "Unable to perform the request: response size exceeds curl_max_allowed_resp_size"
	wantFields(t, h.result("result"), map[string]any{"plain": msg, "gzip": msg})
	if got := h.stats.Get("curl_max_resp_size_exceeded"); got != 2 {
		t.Errorf("curl_max_resp_size_exceeded = %d, want 2", got)
	}

	// Unlimited lifts it.
	h2 := newCurlHarness(t, catchWrap(`return {n: curl('GET', api, {path: '/plain'}).body.byteLength};`),
		Settings{CurlMaxAllowedRespSize: CurlRespSizeUnlimited}, CurlBinding{Alias: "api", Hostname: srv.URL})
	h2.mustHandle(mutation("k", `{}`))
	wantFields(t, h2.result("result"), map[string]any{"n": len(big)})
}

// hangingServer accepts requests and never answers until the test ends;
// started counts the requests it got.
func hangingServer(t *testing.T) (srv *httptest.Server, started *atomic.Int32) {
	t.Helper()
	stop := make(chan struct{})
	started = new(atomic.Int32)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv, started
}

func TestCurl_RequestTimeout(t *testing.T) {
	srv, _ := hangingServer(t)
	h := newCurlHarness(t, catchWrap(`curl('GET', api, {timeout: 1}); return {};`),
		Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL})
	start := time.Now()
	h.mustHandle(mutation("k", `{}`))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timed-out curl took %s", d)
	}
	wantFields(t, h.result("result"), map[string]any{"err": "CurlError: Unable to perform the request: Timeout was reached", "isCurl": true})
	if got := h.stats.Get("curl_timeout_count"); got != 1 {
		t.Errorf("curl_timeout_count = %d, want 1", got)
	}
}

func TestCurl_BoundedByExecutionTimeout(t *testing.T) {
	srv, _ := hangingServer(t)
	h := newCurlHarness(t, `function OnUpdate(doc, meta) { curl('GET', api); }`,
		Settings{ExecutionTimeout: 300 * time.Millisecond}, CurlBinding{Alias: "api", Hostname: srv.URL})
	start := time.Now()
	err := h.handle(mutation("k", `{}`))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Handle = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("invocation took %s past a 300ms execution timeout", d)
	}
	if got := h.stats.Get("curl_timeout_count"); got != 1 {
		t.Errorf("curl_timeout_count = %d, want 1", got)
	}
	if got := h.stats.Get("timeout_count"); got != 1 {
		t.Errorf("timeout_count = %d, want 1", got)
	}
}

func TestCurl_BoundedByContext(t *testing.T) {
	srv, started := hangingServer(t)
	h := newCurlHarness(t, `function OnUpdate(doc, meta) { curl('GET', api); }`,
		Settings{}, CurlBinding{Alias: "api", Hostname: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.w.Handle(ctx, mutation("k", `{}`), h.store) }()
	waitFor(t, 5*time.Second, func() bool { return started.Load() > 0 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Handle = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Handle did not return after its context was cancelled")
	}
}

func TestCurl_DeadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newCurlHarness(t, catchWrap(`curl('GET', api); return {};`), Settings{},
		CurlBinding{Alias: "api", Hostname: "http://" + addr})
	h.mustHandle(mutation("k", `{}`))
	r := h.result("result")
	if msg, _ := r["err"].(string); !strings.HasPrefix(msg, "CurlError: Unable to perform the request: ") || r["isCurl"] != true {
		t.Errorf("dead server gave %v", r)
	}
	if got := h.stats.Get("curl_failure_count"); got != 1 {
		t.Errorf("curl_failure_count = %d, want 1", got)
	}
}

func TestCompile_CurlBindings(t *testing.T) {
	const code = `function OnUpdate(doc, meta) {}`
	cases := []struct {
		name string
		code string
		b    []CurlBinding
		want string
	}{
		{"bad scheme", code, []CurlBinding{{Alias: "a", Hostname: "ftp://h"}}, "must start with http:// or https://"},
		{"no host", code, []CurlBinding{{Alias: "a", Hostname: "http://"}}, "has no host"},
		{"bad alias", code, []CurlBinding{{Alias: "1a", Hostname: "http://h"}}, "valid JavaScript variable"},
		{"dup curl", code, []CurlBinding{{Alias: "a", Hostname: "http://h"}, {Alias: "a", Hostname: "http://h"}}, "not unique"},
		{"dup bucket", code, []CurlBinding{{Alias: "dst", Hostname: "http://h"}}, "not unique"},
		{"auth type", code, []CurlBinding{{Alias: "a", Hostname: "http://h", AuthType: "kerberos"}}, "invalid auth type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.code, Settings{}, nil, defaultBindings(), tc.b...)
			if !errors.Is(err, ErrInvalidBinding) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile = %v, want ErrInvalidBinding containing %q", err, tc.want)
			}
		})
	}
	_, err := Compile(`function OnUpdate(doc, meta) {}
function api() {}`, Settings{}, nil, nil, CurlBinding{Alias: "api", Hostname: "http://h"})
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "same name as a curl binding") {
		t.Errorf("function named like a curl binding: %v", err)
	}
	p, err := Compile(code, Settings{}, nil, nil, CurlBinding{Alias: "api", Hostname: "https://h/x"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CurlBindings(); len(got) != 1 || got[0].AuthType != CurlAuthNone {
		t.Errorf("CurlBindings() = %+v, want auth type defaulted to no-auth", got)
	}
	if err := (Settings{CurlMaxAllowedRespSize: -2}).Validate(); !errors.Is(err, ErrInvalidSettings) {
		t.Errorf("Validate(-2 MB) = %v, want ErrInvalidSettings", err)
	}
}

func TestCurl_MethodsAndTLS(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, r.Method)
	}))
	t.Cleanup(srv.Close)
	h := newCurlHarness(t, `function OnUpdate(doc, meta) {
  var strict;
  try { curl('GET', strict_api); strict = 'no exception'; } catch (e) { strict = e instanceof CurlError; }
  dst['result'] = {
    get: curl('GET', api).body, put: curl('put', api, {body: 'x'}).body, del: curl('DELETE', api).body,
    head: curl('HEAD', api).status, headBody: curl('HEAD', api).body, strict: strict,
  };
}`, Settings{},
		CurlBinding{Alias: "api", Hostname: srv.URL},
		CurlBinding{Alias: "strict_api", Hostname: srv.URL, ValidateSSLCertificate: true})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"get": "GET", "put": "PUT", "del": "DELETE", "head": 200, "headBody": "", "strict": true,
	})
	if got := h.stats.Get("curl_success_count"); got != 5 {
		t.Errorf("curl_success_count = %d, want 5", got)
	}
}
