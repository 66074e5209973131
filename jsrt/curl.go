package jsrt

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// Authentication types of a curl binding (depcfg.curl[].auth_type).
const (
	CurlAuthNone   = "no-auth"
	CurlAuthBasic  = "basic"
	CurlAuthBearer = "bearer"
	CurlAuthDigest = "digest"
)

// CurlBinding is a curl binding (Eventing's depcfg.curl[]): Alias becomes a global
// holding an opaque object that curl() takes as its second argument, and
// every request through it goes to Hostname (plus the request's path, which
// cannot climb above Hostname's path).
type CurlBinding struct {
	// Alias is the global name (Eventing's depcfg "value"), a JavaScript
	// identifier, unique among all the function's bindings.
	Alias string
	// Hostname is the base URL, http:// or https://, with an optional path
	// (depcfg "hostname").
	Hostname string
	// AuthType is CurlAuthNone, CurlAuthBasic, CurlAuthBearer or
	// CurlAuthDigest; "" means CurlAuthNone.
	AuthType string
	// Username and Password are used by basic and digest authentication.
	Username, Password string
	// BearerKey is the token of bearer authentication.
	BearerKey string
	// AllowCookies keeps the cookies servers set, for the rest of one
	// invocation (never across invocations).
	AllowCookies bool
	// ValidateSSLCertificate verifies https servers' certificates; false
	// accepts any certificate.
	ValidateSSLCertificate bool
}

// ValidateCurlBinding checks a binding's hostname and auth type and fills
// the default auth type (CurlAuthNone). The alias is the caller's to check
// (its namespace is the caller's). Errors describe the field, without the
// alias.
func ValidateCurlBinding(b CurlBinding) (CurlBinding, error) {
	if _, err := parseCurlHostname(b.Hostname); err != nil {
		return b, err
	}
	switch b.AuthType {
	case "":
		b.AuthType = CurlAuthNone
	case CurlAuthNone, CurlAuthBasic, CurlAuthBearer, CurlAuthDigest:
	default:
		return b, fmt.Errorf("invalid auth type %q, should be one of %s, %s, %s, %s",
			b.AuthType, CurlAuthNone, CurlAuthBasic, CurlAuthBearer, CurlAuthDigest)
	}
	return b, nil
}

func parseCurlHostname(h string) (*url.URL, error) {
	u, err := url.Parse(h)
	if err != nil {
		return nil, fmt.Errorf("hostname %q is not a valid URL", h)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("hostname %q must start with http:// or https://", h)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("hostname %q has no host", h)
	}
	if u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("hostname %q must not carry credentials or a fragment", h)
	}
	return u, nil
}

// Limits of curl().
const (
	// curlMaxRedirects is how many redirects one call follows.
	curlMaxRedirects = 10
	// curlDialTimeout bounds connecting (the call's own deadline still
	// applies).
	curlDialTimeout = 30 * time.Second
)

// URLEncoding is a URL encoding style of curl(), named by the Couchbase
// version that introduced it: a request's url_encode_version, else the
// CurlConfig's default (Eventing's is by language compatibility).
type URLEncoding int

// URL encoding styles.
const (
	URLEncode720 URLEncoding = iota // nothing encoded
	URLEncode662                    // string params fully encoded, object values encoded
	URLEncode710                    // path segments and values encoded
)

// CurlStat is an outcome of curl() a CurlConfig.Count counts.
type CurlStat int

// Outcomes of curl(): one per method on every call, then one of the rest.
const (
	CurlGet CurlStat = iota
	CurlPost
	CurlPut
	CurlDelete
	CurlHead
	CurlSuccess             // a 2xx response
	CurlNon200              // any other response
	CurlFailure             // a bad request or a failed exchange (thrown as CurlError)
	CurlTimeout             // the request's own timeout
	CurlMaxRespSizeExceeded // the response exceeded MaxResponseSize
)

// CurlConfig configures curl().
type CurlConfig struct {
	// Bindings become globals holding the binding objects curl() takes;
	// each must have passed ValidateCurlBinding.
	Bindings []CurlBinding
	// MaxResponseSize bounds a response body, decoded, in bytes; < 0 means
	// unlimited.
	MaxResponseSize int64
	// URLEncoding is the style of requests without url_encode_version.
	URLEncoding URLEncoding
	// Count, when set, counts outcomes (Eventing's execution stats).
	Count func(CurlStat)
}

var (
	errTooManyRedirects = errors.New("Number of redirects hit maximum amount")
	errRespTooLarge     = errors.New("response exceeds curl_max_allowed_resp_size")
)

// curlTarget backs one curl binding object.
type curlTarget struct {
	b         CurlBinding
	base      *url.URL
	transport *http.Transport
}

// curlAPI is a Runtime's curl(): its binding objects and the cookies of
// the invocation in progress.
type curlAPI struct {
	r        *Runtime
	errCtor  *goja.Object
	targets  map[*goja.Object]*curlTarget
	maxResp  int64 // bytes; < 0 unlimited
	enc      URLEncoding
	count    func(CurlStat)
	jar      http.CookieJar
	jarToken time.Time // the invocation (its deadline) the jar belongs to
}

// InstallCurl defines curl(method, binding, request) and a global per
// binding. Failures are thrown as CurlError: run it after
// InstallErrorClasses with that class among the names.
func (r *Runtime) InstallCurl(cfg CurlConfig) error {
	ctor := r.ErrorClass("CurlError")
	if ctor == nil {
		return fmt.Errorf("%w: CurlError", ErrNotInstalled)
	}
	c := &curlAPI{r: r, errCtor: ctor, targets: make(map[*goja.Object]*curlTarget),
		maxResp: cfg.MaxResponseSize, enc: cfg.URLEncoding, count: cfg.Count}
	if c.count == nil {
		c.count = func(CurlStat) {}
	}
	vm := r.vm
	for _, b := range cfg.Bindings {
		base, err := parseCurlHostname(b.Hostname)
		if err != nil {
			return err
		}
		obj := vm.NewObject()
		if err := obj.Set("toString", func(goja.FunctionCall) goja.Value {
			return vm.ToValue("[curl binding " + b.Alias + "]")
		}); err != nil {
			return err
		}
		if err := obj.SetPrototype(nil); err != nil {
			return err
		}
		c.targets[obj] = &curlTarget{b: b, base: base, transport: newCurlTransport(b)}
		if err := vm.Set(b.Alias, obj); err != nil {
			return err
		}
	}
	return vm.Set("curl", c.call)
}

func newCurlTransport(b CurlBinding) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: curlDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: !b.ValidateSSLCertificate}, //nolint:gosec // the binding's choice
		TLSHandshakeTimeout:   curlDialTimeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true, // decoded here, so headers stay as sent
		ResponseHeaderTimeout: 0,    // bounded by the call's context
		ForceAttemptHTTP2:     true,
	}
}

// fail counts st and throws a CurlError.
func (c *curlAPI) fail(st CurlStat, msg string) {
	c.count(st)
	c.r.Throw(c.errCtor, c.r.vm.ToValue(msg))
}

// curlRequest is a parsed request argument.
type curlRequest struct {
	method      string
	target      *curlTarget
	header      http.Header
	body        []byte
	hasBody     bool
	path        string
	query       string
	redirect    bool
	timeout     time.Duration // 0: none of its own
	contentType string        // from the body's type, unless headers set one
	execBound   bool          // the call's deadline is the invocation's
}

// curlMethodStat counts calls per method (execution_stats.curl).
var curlMethodStat = map[string]CurlStat{
	http.MethodGet: CurlGet, http.MethodPost: CurlPost, http.MethodPut: CurlPut,
	http.MethodDelete: CurlDelete, http.MethodHead: CurlHead,
}

// call implements curl(method, binding, request).
func (c *curlAPI) call(call goja.FunctionCall) goja.Value {
	req := c.parse(call)
	hreq, cancel := c.build(req)
	defer cancel()
	resp, body, ok := c.do(req, hreq)
	if !ok {
		// The invocation is being terminated: the interrupt raised by
		// the return ends it (a thrown CurlError could be caught).
		return goja.Undefined()
	}
	return c.response(resp, body)
}

func (c *curlAPI) parse(call goja.FunctionCall) *curlRequest {
	if len(call.Arguments) < 2 {
		c.fail(CurlFailure, "curl expects at least 2 arguments: method and curl binding")
	}
	r := &curlRequest{header: make(http.Header), redirect: true}
	m, ok := JSString(call.Argument(0))
	if !ok {
		c.fail(CurlFailure, "method should be a string")
	}
	r.method = strings.ToUpper(m)
	switch r.method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodHead, http.MethodDelete:
	default:
		c.fail(CurlFailure, "Invalid HTTP method "+strconv.Quote(m)+", should be one of GET, POST, PUT, HEAD, DELETE")
	}
	c.count(curlMethodStat[r.method])
	if obj, ok := call.Argument(1).(*goja.Object); ok {
		r.target = c.targets[obj]
	}
	if r.target == nil {
		c.fail(CurlFailure, "Expected a curl binding as the second argument")
	}
	arg := call.Argument(2)
	if goja.IsUndefined(arg) || goja.IsNull(arg) {
		return r
	}
	opts, ok := arg.(*goja.Object)
	if !ok || IsFunction(arg) {
		c.fail(CurlFailure, "request should be an object")
	}
	enc := c.enc
	if v := opts.Get("url_encode_version"); v != nil && !goja.IsUndefined(v) {
		switch v.String() {
		case "6.6.2":
			enc = URLEncode662
		case "7.1.0":
			enc = URLEncode710
		case "7.2.0":
			enc = URLEncode720
		default:
			c.fail(CurlFailure, "'url_encode_version' should be one of 6.6.2, 7.1.0, 7.2.0")
		}
	}
	if v := opts.Get("timeout"); v != nil && !goja.IsUndefined(v) {
		f, isNum := v.Export().(int64)
		if fl, isFloat := v.Export().(float64); isFloat && fl == math.Trunc(fl) && fl < math.MaxInt32 {
			f, isNum = int64(fl), true
		}
		if !isNum || f <= 0 {
			c.fail(CurlFailure, "'timeout' should be a positive integer")
		}
		r.timeout = time.Duration(min(f, int64(math.MaxInt32))) * time.Second
	}
	if v := opts.Get("redirect"); v != nil && !goja.IsUndefined(v) {
		b, ok := v.Export().(bool)
		if !ok {
			c.fail(CurlFailure, "'redirect' should be a boolean")
		}
		r.redirect = b
	}
	if v := opts.Get("headers"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		h, ok := v.(*goja.Object)
		if !ok {
			c.fail(CurlFailure, "'headers' should be an object")
		}
		for _, k := range h.Keys() {
			hv := h.Get(k)
			if _, isObj := hv.(*goja.Object); isObj || goja.IsUndefined(hv) || goja.IsNull(hv) {
				c.fail(CurlFailure, "header "+strconv.Quote(k)+" should be a string")
			}
			r.header.Add(k, hv.String())
		}
	}
	if v := opts.Get("path"); v != nil && !goja.IsUndefined(v) {
		if _, ok := JSString(v); !ok {
			c.fail(CurlFailure, "'path' should be a string")
		}
		r.path = v.String()
	}
	pathQuery := ""
	if i := strings.IndexByte(r.path, '?'); i >= 0 {
		r.path, pathQuery = r.path[:i], r.path[i+1:]
	}
	r.path = encodePath(r.path, enc)
	var query []string
	if pathQuery != "" {
		query = append(query, pathQuery)
	}
	if v := opts.Get("params"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		switch p := v.(type) {
		case *goja.Object:
			if IsFunction(p) {
				c.fail(CurlFailure, "'params' should be an object or a string")
			}
			if q := c.encodeObjectParams(p, enc); q != "" {
				query = append(query, q)
			}
		default:
			if _, ok := JSString(v); !ok {
				c.fail(CurlFailure, "'params' should be an object or a string")
			}
			if s := encodeStringParams(v.String(), enc); s != "" {
				query = append(query, s)
			}
		}
	}
	r.query = strings.Join(query, "&")
	var encoding string
	if v := opts.Get("encoding"); v != nil && !goja.IsUndefined(v) {
		encoding = strings.ToUpper(v.String())
	}
	if v := opts.Get("body"); v != nil && !goja.IsUndefined(v) {
		r.body, r.contentType = c.encodeBody(v, encoding)
		r.hasBody = true
	} else if encoding != "" && !validEncoding(encoding) {
		c.fail(CurlFailure, "'encoding' should be one of FORM, JSON, TEXT, BINARY")
	}
	return r
}

func validEncoding(e string) bool {
	return e == "FORM" || e == "JSON" || e == "TEXT" || e == "BINARY"
}

// encodeBody marshals a request body by its encoding, or by its type.
func (c *curlAPI) encodeBody(v goja.Value, encoding string) ([]byte, string) {
	str, isStr := JSString(v)
	var ab *goja.ArrayBuffer
	if obj, ok := v.(*goja.Object); ok && obj.ExportType() == ArrayBufferType {
		if b, ok := obj.Export().(goja.ArrayBuffer); ok {
			ab = &b
		}
	}
	stringify := func() []byte {
		s := c.r.Stringify(v)
		if goja.IsUndefined(s) {
			c.fail(CurlFailure, "body cannot be serialized to JSON")
		}
		return []byte(s.String())
	}
	switch encoding {
	case "":
		switch {
		case isStr:
			return []byte(str), "text/plain"
		case ab != nil:
			return bytes.Clone(ab.Bytes()), "application/octet-stream"
		case goja.IsNull(v):
			return []byte("null"), "application/json"
		}
		return stringify(), "application/json"
	case "TEXT":
		return []byte(v.String()), "text/plain"
	case "JSON":
		if isStr {
			return []byte(str), "application/json"
		}
		return stringify(), "application/json"
	case "BINARY":
		switch {
		case ab != nil:
			return bytes.Clone(ab.Bytes()), "application/octet-stream"
		case isStr:
			return []byte(str), "application/octet-stream"
		}
		c.fail(CurlFailure, "body with BINARY encoding should be an ArrayBuffer")
	case "FORM":
		if isStr {
			return []byte(str), "application/x-www-form-urlencoded"
		}
		obj, ok := v.(*goja.Object)
		if !ok || ab != nil || IsFunction(v) {
			c.fail(CurlFailure, "body with FORM encoding should be an object or a string")
		}
		vals := url.Values{}
		for _, k := range obj.Keys() {
			vals.Add(k, obj.Get(k).String())
		}
		return []byte(vals.Encode()), "application/x-www-form-urlencoded"
	default:
		c.fail(CurlFailure, "'encoding' should be one of FORM, JSON, TEXT, BINARY")
	}
	return nil, ""
}

// pctEncode percent-encodes every byte but the unreserved characters.
func pctEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[ch>>4])
		b.WriteByte(hexDigits[ch&15])
	}
	return b.String()
}

// sanitizeRaw escapes only what cannot appear in a request target at all
// (controls, space, non-ASCII, '#'), for pass-through encoding.
func sanitizeRaw(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch <= ' ' || ch >= 0x7f || ch == '#' {
			b.WriteByte('%')
			b.WriteByte(hexDigits[ch>>4])
			b.WriteByte(hexDigits[ch&15])
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// encodePath encodes the request path's segments for 7.1.0 (dot segments
// are kept for clampPath).
func encodePath(p string, enc URLEncoding) string {
	if enc != URLEncode710 {
		return p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s != "." && s != ".." {
			segs[i] = pctEncode(s)
		}
	}
	return strings.Join(segs, "/")
}

func (c *curlAPI) encodeObjectParams(obj *goja.Object, enc URLEncoding) string {
	var parts []string
	for _, k := range obj.Keys() {
		v := obj.Get(k)
		var s string
		if o, ok := v.(*goja.Object); ok && !IsFunction(o) {
			s = c.r.Stringify(v).String()
		} else {
			s = v.String()
		}
		if enc == URLEncode720 {
			parts = append(parts, k+"="+s)
		} else {
			parts = append(parts, pctEncode(k)+"="+pctEncode(s))
		}
	}
	return strings.Join(parts, "&")
}

func encodeStringParams(s string, enc URLEncoding) string {
	s = strings.TrimPrefix(s, "?")
	switch enc {
	case URLEncode662:
		return pctEncode(s)
	case URLEncode710:
		parts := strings.Split(s, "&")
		for i, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			if ok {
				parts[i] = pctEncode(k) + "=" + pctEncode(v)
			} else {
				parts[i] = pctEncode(k)
			}
		}
		return strings.Join(parts, "&")
	}
	return s
}

// clampPath resolves the request path under the binding's path: ".."
// cannot climb above it.
func clampPath(base, p string) string {
	base = strings.TrimSuffix(base, "/")
	var stack []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			stack = append(stack, seg)
		}
	}
	if len(stack) == 0 {
		if base == "" {
			return "/"
		}
		return base
	}
	out := base + "/" + strings.Join(stack, "/")
	if strings.HasSuffix(p, "/") {
		out += "/"
	}
	return out
}

// build makes the HTTP request, bounded by the request's timeout, the
// invocation's remaining execution time and its context.
func (c *curlAPI) build(r *curlRequest) (*http.Request, context.CancelFunc) {
	parent := c.r.ctx
	if parent == nil {
		c.fail(CurlFailure, "curl can only be used while handling an event")
	}
	deadline := c.r.Deadline()
	r.execBound = true
	if r.timeout > 0 {
		if d := time.Now().Add(r.timeout); d.Before(deadline) {
			deadline, r.execBound = d, false
		}
	}
	ctx, cancel := context.WithDeadline(parent, deadline)

	base := r.target.base
	rawPath := base.EscapedPath()
	if r.path != "" {
		rawPath = clampPath(rawPath, sanitizeRaw(r.path))
	}
	var u strings.Builder
	u.WriteString(base.Scheme + "://" + base.Host + rawPath)
	q := base.RawQuery
	if r.query != "" {
		if q != "" {
			q += "&"
		}
		q += sanitizeRaw(r.query)
	}
	if q != "" {
		u.WriteString("?" + q)
	}
	parsed, err := url.Parse(u.String())
	if err != nil {
		cancel()
		c.fail(CurlFailure, "Unable to perform the request: invalid URL: "+err.Error())
	}
	var body io.Reader
	if r.hasBody {
		body = bytes.NewReader(r.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, r.method, parsed.String(), body)
	if err != nil {
		cancel()
		c.fail(CurlFailure, "Unable to perform the request: "+err.Error())
	}
	hreq.URL = parsed
	for k, vs := range r.header {
		hreq.Header[k] = vs
	}
	if r.hasBody && hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", r.contentType)
	}
	if hreq.Header.Get("Accept-Encoding") == "" {
		hreq.Header.Set("Accept-Encoding", "gzip, deflate")
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", "eventide-curl")
	}
	b := r.target.b
	switch b.AuthType {
	case CurlAuthBasic:
		hreq.SetBasicAuth(b.Username, b.Password)
	case CurlAuthBearer:
		hreq.Header.Set("Authorization", "Bearer "+b.BearerKey)
	}
	return hreq, cancel
}

// cookieJar returns the jar of the invocation in progress, creating a fresh
// one when a new invocation (told apart by its deadline) starts.
func (c *curlAPI) cookieJar() http.CookieJar {
	token := c.r.Deadline()
	if c.jar == nil || !token.Equal(c.jarToken) {
		jar, _ := cookiejar.New(nil) // never fails without options
		c.jar, c.jarToken = jar, token
	}
	return c.jar
}

// do sends the request (answering a digest challenge once) and reads the
// decoded body under the size limit. Failures are thrown as counted
// CurlErrors; ok is false when the invocation itself ran out of time or was
// cancelled (and has been interrupted).
func (c *curlAPI) do(r *curlRequest, hreq *http.Request) (resp *http.Response, body []byte, ok bool) {
	client := &http.Client{
		Transport: r.target.transport,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if !r.redirect {
				return http.ErrUseLastResponse
			}
			if len(via) > curlMaxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}
	if r.target.b.AllowCookies {
		client.Jar = c.cookieJar()
	}
	resp, err := client.Do(hreq)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && r.target.b.AuthType == CurlAuthDigest {
		if chal := resp.Header.Get("WWW-Authenticate"); strings.HasPrefix(strings.ToLower(chal), "digest ") {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			auth, aerr := digestAuthorization(chal, hreq.Method, hreq.URL.RequestURI(), r.target.b.Username, r.target.b.Password)
			if aerr != nil {
				c.fail(CurlFailure, "Unable to perform the request: "+aerr.Error())
			}
			retry := hreq.Clone(hreq.Context())
			if r.hasBody {
				retry.Body = io.NopCloser(bytes.NewReader(r.body))
			}
			retry.Header.Set("Authorization", auth)
			resp, err = client.Do(retry)
		}
	}
	if err != nil {
		return nil, nil, c.transportFailure(r, hreq.Context(), err)
	}
	defer resp.Body.Close()
	body, err = c.readBody(resp)
	if err != nil {
		if errors.Is(err, errRespTooLarge) {
			c.fail(CurlMaxRespSizeExceeded, "Unable to perform the request: response size exceeds curl_max_allowed_resp_size")
		}
		return nil, nil, c.transportFailure(r, hreq.Context(), err)
	}
	return resp, body, true
}

// transportFailure throws the CurlError of a failed exchange. When the
// invocation's own deadline passed or its context ended, it interrupts the
// runtime instead (the worker's timer or context watch may not have fired
// yet) and returns false.
func (c *curlAPI) transportFailure(r *curlRequest, ctx context.Context, err error) bool {
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
	if perr := c.r.ctx.Err(); perr != nil || (timedOut && r.execBound) {
		cause := ErrTimeout
		if perr != nil {
			cause = perr
			c.count(CurlFailure)
		} else {
			c.count(CurlTimeout)
		}
		c.r.Interrupt(cause)
		return false
	}
	switch {
	case errors.Is(err, errTooManyRedirects):
		c.fail(CurlFailure, "Unable to perform the request: "+errTooManyRedirects.Error())
	case timedOut:
		c.fail(CurlTimeout, "Unable to perform the request: Timeout was reached")
	case errors.Is(ctx.Err(), context.Canceled):
		c.fail(CurlFailure, "Unable to perform the request: handler invocation was cancelled")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	c.fail(CurlFailure, "Unable to perform the request: "+err.Error())
	return false
}

// readBody reads and decodes the body, failing past the size limit.
func (c *curlAPI) readBody(resp *http.Response) ([]byte, error) {
	limited := func(r io.Reader) ([]byte, error) {
		if c.maxResp < 0 {
			return io.ReadAll(r)
		}
		data, err := io.ReadAll(io.LimitReader(r, c.maxResp+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > c.maxResp {
			return nil, errRespTooLarge
		}
		return data, nil
	}
	raw, err := limited(resp.Body)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "gzip", "x-gzip":
		if len(raw) == 0 {
			return raw, nil
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("bad gzip response: %w", err)
		}
		return limited(zr)
	case "deflate":
		if len(raw) == 0 {
			return raw, nil
		}
		// "deflate" is zlib-wrapped by the standard, raw by some servers.
		if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
			return limited(zr)
		}
		return limited(flate.NewReader(bytes.NewReader(raw)))
	}
	return raw, nil
}

// response builds {status, headers, body}.
func (c *curlAPI) response(resp *http.Response, body []byte) goja.Value {
	vm := c.r.vm
	headers := vm.NewObject()
	for k, vs := range resp.Header {
		if len(vs) == 1 {
			_ = headers.Set(k, " "+vs[0]+"\r\n")
			continue
		}
		raw := make([]any, len(vs))
		for i, v := range vs {
			raw[i] = " " + v + "\r\n"
		}
		_ = headers.Set(k, vm.NewArray(raw...))
	}
	var jsBody goja.Value
	mt := resp.Header.Get("Content-Type")
	if parsed, _, err := mime.ParseMediaType(mt); err == nil {
		mt = parsed
	} else {
		mt, _, _ = strings.Cut(strings.ToLower(mt), ";")
		mt = strings.TrimSpace(mt)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if len(bytes.TrimSpace(body)) == 0 {
			jsBody = goja.Null()
			break
		}
		v, err := c.r.json.decode(body)
		if err != nil {
			c.fail(CurlFailure, "Unable to parse response body as JSON: "+err.Error())
		}
		jsBody = v
	case mt == "text/plain":
		jsBody = vm.ToValue(string(body))
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			c.fail(CurlFailure, "Unable to parse response body as form data: "+err.Error())
		}
		obj := vm.NewObject()
		for k, vs := range vals {
			if len(vs) == 1 {
				_ = obj.Set(k, vs[0])
			} else {
				arr := make([]any, len(vs))
				for i, v := range vs {
					arr[i] = v
				}
				_ = obj.Set(k, vm.NewArray(arr...))
			}
		}
		jsBody = obj
	default:
		jsBody = vm.ToValue(vm.NewArrayBuffer(body))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		c.count(CurlSuccess)
	} else {
		c.count(CurlNon200)
	}
	out := vm.NewObject()
	_ = out.Set("status", resp.StatusCode)
	_ = out.Set("headers", headers)
	_ = out.Set("body", jsBody)
	return out
}

// digestAuthorization answers a Digest challenge (RFC 7616: MD5, SHA-256
// and their -sess variants, qop auth or none).
func digestAuthorization(challenge, method, uri, user, pass string) (string, error) {
	p := parseAuthParams(challenge[len("digest "):])
	realm, nonce := p["realm"], p["nonce"]
	if nonce == "" {
		return "", errors.New("digest challenge without nonce")
	}
	alg := p["algorithm"]
	var newHash func() hash.Hash
	switch strings.ToUpper(strings.TrimSuffix(strings.ToUpper(alg), "-SESS")) {
	case "", "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		return "", fmt.Errorf("unsupported digest algorithm %q", alg)
	}
	h := func(s string) string {
		d := newHash()
		d.Write([]byte(s))
		return hex.EncodeToString(d.Sum(nil))
	}
	var cb [12]byte
	_, _ = rand.Read(cb[:])
	cnonce := hex.EncodeToString(cb[:])
	const nc = "00000001"
	ha1 := h(user + ":" + realm + ":" + pass)
	if strings.HasSuffix(strings.ToUpper(alg), "-SESS") {
		ha1 = h(ha1 + ":" + nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	qop := ""
	for _, q := range strings.Split(p["qop"], ",") {
		if strings.TrimSpace(q) == "auth" {
			qop = "auth"
		}
	}
	if p["qop"] != "" && qop == "" {
		return "", fmt.Errorf("unsupported digest qop %q", p["qop"])
	}
	var response string
	if qop != "" {
		response = h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
	} else {
		response = h(ha1 + ":" + nonce + ":" + ha2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q`, user, realm, nonce, uri, response)
	if alg != "" {
		fmt.Fprintf(&b, ", algorithm=%s", alg)
	}
	if o, ok := p["opaque"]; ok {
		fmt.Fprintf(&b, ", opaque=%q", o)
	}
	if qop != "" {
		fmt.Fprintf(&b, ", qop=%s, nc=%s, cnonce=%q", qop, nc, cnonce)
	}
	return b.String(), nil
}

// parseAuthParams parses `k=v, k="quoted, value"` lists.
func parseAuthParams(s string) map[string]string {
	out := make(map[string]string)
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return out
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			s = s[min(i+1, len(s)):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		out[key] = val
	}
}
