// Package resttest holds what the REST packages' tests share: malformed
// request inputs, and the check that no answer to one of them carries Go's
// own error text or type names instead of the API's words.
package resttest

import (
	"net/url"
	"strings"
	"testing"
)

// GoInternals are substrings that mark text of Go's standard library
// (encoding/json, strconv, net/url, mime, time, compress, net/http) or
// eventide's Go packages in a response body.
var GoInternals = []string{
	"strconv.", "json:", "Go value", "Go struct field", "invalid character", "unexpected end of JSON",
	"syncgwapi.", "eventingapi.", "clusterapi.", "eventing.", "dcp:", "consensus:", "handler:", "eventing:",
	"invalid URL escape", "invalid semicolon", "mime:", "parsing time", "runtime error", "goroutine ",
	"gzip:", "flate:", "http: ", "unexpected EOF", "map[", "[]uint8", "exceeded max depth", "reflect.",
}

// CheckNoGoInternals fails t if body holds any of GoInternals; what names
// the request in the failure.
func CheckNoGoInternals(t testing.TB, what, body string) {
	t.Helper()
	for _, s := range GoInternals {
		if strings.Contains(body, s) {
			t.Errorf("%s: response carries Go internals (%q): %s", what, s, abbreviate(body))
			return
		}
	}
}

func abbreviate(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// MalformedJSON are request bodies that no JSON endpoint expects as they
// are: syntax errors at every position, wrong types for the fields the
// APIs read, out-of-range numbers, invalid UTF-8 and nesting deeper than
// encoding/json accepts.
var MalformedJSON = []string{
	"", " ", "{", "}", "[", "]", `{"a":`, `{"a" 1}`, `{"a":1,}`, `{"a":1}x`, "x", "nul", "tru", `"str`, `"\x"`,
	"1e999", "-", "01", `{"a":1e400}`, "\xff\xfe", `{"a":"\ud800"}`, "[1,2]", `"s"`, "42", "null", "true",
	`{"docs":{}}`, `{"docs":"x"}`, `{"docs":[1,"x",null]}`, `{"docs":[{"_id":5,"_rev":7,"_exp":"x"}]}`,
	`{"keys":"x"}`, `{"keys":[1,{}]}`, `{"new_edits":"x","docs":[]}`,
	`{"limit":"x","since":{},"heartbeat":-1,"timeout":1.5,"feed":7,"doc_ids":7,"include_docs":"maybe"}`,
	`{"since":"x"}`, `{"limit":99999999999999999999999}`, `{"doc_ids":[1,2]}`,
	`{"_id":5,"_rev":7,"_exp":"x"}`, `{"_exp":99999999999999999999}`, `{"_exp":"99999999999999999999"}`,
	`{"_exp":1.5}`, `{"_exp":"2024-13-45T99:00:00Z"}`, `{"_deleted":"yes","_attachments":5}`,
	`{"appname":5,"depcfg":"x","settings":[],"appcode":{}}`, `{"appname":"f1","depcfg":{"buckets":5,"source_bucket":{}}}`,
	`{"appname":"f1","appcode":"function OnUpdate(doc, meta) {","depcfg":{"source_bucket":"src","metadata_bucket":"meta"}}`,
	`{"settings":{"worker_count":"x","dcp_stream_boundary":5}}`, `{"worker_count":"x","timer_context_size":1e99}`,
	`{"deployment_status":"x","processing_status":7}`, `[{"appname":1}]`, `[1]`, `{"version":5,"function_scope":"x"}`,
	`{"enable_debugger":"x","ram_quota":-1}`,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

// RequestTarget returns a fuzzed path as a request target that
// httptest.NewRequest accepts, and false for what no client could send
// (an absolute or opaque URL, a query, a method that is not a token).
func RequestTarget(method, path string) (string, bool) {
	u, err := url.ParseRequestURI(path)
	if err != nil || u.RawQuery != "" || u.Scheme != "" || u.Opaque != "" || !strings.HasPrefix(path, "/") {
		return "", false
	}
	if method == "" || method == "CONNECT" {
		return "", false
	}
	for _, c := range method {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return "", false
		}
	}
	return u.RequestURI(), true
}
