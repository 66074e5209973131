package syncgwapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"eventide/docstore"
	"eventide/query/value"
)

// This file turns request documents into mutations without decoding them
// into maps: a document arrives as the raw bytes of a JSON object (already
// validated by encoding/json), is compacted in place, and loses its Sync
// Gateway special properties in the same single pass. The remaining bytes
// are the stored body. The hot path (_bulk_docs) therefore allocates
// nothing per document beyond the raw message encoding/json made and the
// strings of _id and _rev.

// maxDocIDBytes is Couchbase's key length limit, which Sync Gateway enforces.
const maxDocIDBytes = 250

// special is one top-level Sync Gateway property pulled out of a document.
type special struct {
	key string
	val string // compact JSON
}

// specialKeys are the top-level properties Sync Gateway interprets or
// reserves, besides the "_sync_" prefix. Other keys starting with '_' are
// ordinary user properties, kept in the body as Sync Gateway 3.x does.
var specialKeys = [...]string{"_id", "_rev", "_deleted", "_exp", "_attachments", "_revisions", "_sync", "_purged", "_removed"}

// specialKey returns the canonical name of k if it is special.
func specialKey(k []byte) (string, bool) {
	for _, s := range specialKeys {
		if string(k) == s {
			return s, true
		}
	}
	if bytes.HasPrefix(k, []byte("_sync_")) {
		return string(k), true
	}
	return "", false
}

// specialKeyName returns the decoded key and true if raw (a JSON string
// token, quotes included) names a special property.
func specialKeyName(raw []byte) (string, bool) {
	if len(raw) < 3 {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		if raw[1] != '_' {
			return "", false
		}
		return specialKey(raw[1 : len(raw)-1])
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil || len(k) == 0 || k[0] != '_' {
		return "", false
	}
	return specialKey([]byte(k))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string token at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// compactValue copies the JSON value starting at b[r] to b[w:] (w <= r)
// without insignificant whitespace and returns the read and write positions
// after it.
func compactValue(b []byte, r, w int) (int, int) {
	depth := 0
	for r < len(b) {
		c := b[r]
		switch {
		case isSpace(c):
			r++
			if depth == 0 {
				return r, w
			}
			continue
		case c == '"':
			e := stringEnd(b, r)
			w += copy(b[w:], b[r:e])
			r = e
			if depth == 0 {
				return r, w
			}
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return r, w
			}
			depth--
			b[w] = c
			w, r = w+1, r+1
			if depth == 0 {
				return r, w
			}
			continue
		case c == ',' && depth == 0:
			return r, w
		}
		b[w] = c
		w, r = w+1, r+1
	}
	return r, w
}

// splitDoc rewrites the JSON object in b in place: it drops insignificant
// whitespace and moves the special properties (see isSpecialKey) into
// specials, in document order. It returns the remaining object, a prefix of
// b (or of a sanitised copy if b holds invalid UTF-8). b must be valid
// JSON; ok is false if it is not an object.
func splitDoc(b []byte, specials []special) (body []byte, out []special, ok bool) {
	if !utf8.Valid(b) {
		// Only string contents can hold invalid UTF-8; store what a JSON
		// decoder would read (encoding/json and Sync Gateway substitute U+FFFD).
		b = sanitizeUTF8(b)
	}
	r := skipSpace(b, 0)
	if r >= len(b) || b[r] != '{' {
		return nil, specials, false
	}
	b[0] = '{'
	w, r := 1, r+1
	members := 0
	for {
		r = skipSpace(b, r)
		if r >= len(b) {
			return nil, specials, false
		}
		if b[r] == '}' {
			b[w] = '}'
			return b[:w+1], specials, true
		}
		if b[r] == ',' {
			r = skipSpace(b, r+1)
		}
		if r >= len(b) || b[r] != '"' {
			return nil, specials, false
		}
		ks, ke := r, stringEnd(b, r)
		r = skipSpace(b, ke)
		if r >= len(b) || b[r] != ':' {
			return nil, specials, false
		}
		r = skipSpace(b, r+1)
		if name, sp := specialKeyName(b[ks:ke]); sp {
			// Compact the value into the already consumed gap at w, copy
			// it out, and leave w where it was.
			nr, nw := compactValue(b, r, w)
			specials = append(specials, special{key: name, val: string(b[w:nw])})
			r = nr
			continue
		}
		if members > 0 {
			b[w] = ','
			w++
		}
		w += copy(b[w:], b[ks:ke])
		b[w] = ':'
		w++
		r, w = compactValue(b, r, w)
		members++
	}
}

// sanitizeUTF8 returns a copy of b with each invalid byte replaced by
// U+FFFD, as encoding/json decodes strings.
func sanitizeUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

// docFields are the special properties of one request document.
type docFields struct {
	id      string
	hasID   bool // _id present and a string
	rev     string
	hasRev  bool // _rev present and not null
	deleted bool
	expiry  uint32     // absolute unix seconds; 0 none
	err     *httpError // the first problem Sync Gateway would report
}

// readSpecials interprets the special properties as Sync Gateway's Put
// does. It reads them all, recording the first error in f.err, so that
// the caller can still check _id and _rev first, as Sync Gateway does.
func readSpecials(specials []special, now time.Time) docFields {
	var f docFields
	fail := func(e *httpError) {
		if f.err == nil {
			f.err = e
		}
	}
	for i, sp := range specials {
		if repeated(specials[i+1:], sp.key) {
			continue // a later value of the same key wins (see dupkeys.go)
		}
		switch sp.key {
		case "_id":
			f.id, f.hasID = jsonString(sp.val)
		case "_rev":
			if sp.val == "null" {
				f.rev, f.hasRev = "", false
				continue
			}
			s, ok := jsonString(sp.val)
			if !ok {
				fail(errorf(http.StatusBadRequest, reasonInvalidRev))
				continue
			}
			f.rev, f.hasRev = s, true
		case "_deleted":
			f.deleted = sp.val == "true"
		case "_exp":
			exp, err := parseExpiry(sp.val, now)
			if err != nil {
				fail(errorf(http.StatusBadRequest, "Invalid expiry: %v", err))
				continue
			}
			f.expiry = exp
		case "_attachments":
			if sp.val != "null" && sp.val != "{}" {
				fail(errorf(http.StatusNotImplemented, reasonNoAttachments))
			}
		case "_revisions":
			// Only meaningful with new_edits=false; Sync Gateway drops it.
		case "_sync":
			fail(errorf(http.StatusBadRequest, "document-top level property '_sync' is a reserved internal property"))
		case "_purged":
			fail(errorf(http.StatusBadRequest, "user defined top-level property '_purged' is not allowed in document body"))
		case "_removed":
			fail(errorf(http.StatusNotFound, "Document revision is not accessible"))
		default: // _sync_*
			fail(errorf(http.StatusBadRequest, "user defined top-level properties that start with '_sync_' are not allowed in document body"))
		}
	}
	return f
}

// repeated reports whether key occurs in specials.
func repeated(specials []special, key string) bool {
	for _, sp := range specials {
		if sp.key == key {
			return true
		}
	}
	return false
}

// jsonString decodes a JSON string token.
func jsonString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	if strings.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], true
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// parseExpiry reads an _exp value as Sync Gateway's ReflectExpiry does: a
// JSON integer, a string holding an integer, or an ISO-8601 (RFC 3339)
// date; null means none. Couchbase semantics turn values up to 30 days into
// an offset from now; the result is always an absolute unix time (0: none).
func parseExpiry(raw string, now time.Time) (uint32, error) {
	if raw == "" {
		return 0, fmt.Errorf("empty expiry")
	}
	var v int64
	switch c := raw[0]; {
	case raw == "null":
		return 0, nil
	case c == '-' || (c >= '0' && c <= '9'):
		n, err := strconv.ParseInt(raw, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("expiry value is not within valid range: %s", raw)
		}
		if err != nil {
			return 0, fmt.Errorf("expiry %s is not an integer number of seconds", raw)
		}
		v = n
	case c == '"':
		s, ok := jsonString(raw)
		if !ok {
			return 0, fmt.Errorf("unrecognized expiry format")
		}
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			v = n
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			v = t.Unix()
		} else {
			// Neither parser's error is for a client: name the forms instead.
			return 0, fmt.Errorf("unable to parse expiry %s as either numeric or date expiry: use seconds or an RFC 3339 date", s)
		}
	default:
		return 0, fmt.Errorf("unrecognized expiry format")
	}
	exp, ok := docstore.AbsoluteExpiry(v, now)
	if !ok {
		return 0, fmt.Errorf("expiry value is not within valid range: %d", v)
	}
	return exp, nil
}

// validDocID reports whether Sync Gateway accepts id as a document ID.
func validDocID(id string) bool {
	return id != "" && len(id) <= maxDocIDBytes && id[0] != '_' && utf8.ValidString(id)
}

// validRevID reports whether rev has Sync Gateway's "generation-digest"
// form with a positive generation.
func validRevID(rev string) bool {
	i := strings.IndexByte(rev, '-')
	if i <= 0 {
		return false
	}
	gen, err := strconv.Atoi(rev[:i])
	return err == nil && gen >= 1
}

// live reports whether d is a live version at now: not a tombstone and
// not past its expiry (ExpireDue expires documents whose expiry <= now).
func live(d *docstore.Document, now uint32) bool {
	return !d.Deleted && (d.Expiry == 0 || d.Expiry > now)
}

// visible reports whether Sync Gateway would show d at all: a tombstone,
// or a JSON document whose body is an object. Binary or non-object
// documents written by other APIs cannot be imported by Sync Gateway.
func visible(d *docstore.Document) bool {
	if d.Deleted {
		return true
	}
	if d.Datatype != docstore.DatatypeJSON {
		return false
	}
	i := skipSpace(d.Body, 0)
	return i < len(d.Body) && d.Body[i] == '{'
}

// appendDoc appends the document as Sync Gateway returns it: _id and _rev
// (and _exp and _deleted when wanted) merged into the stored body.
func appendDoc(dst []byte, d *docstore.Document, showExp bool) []byte {
	dst = append(dst, `{"_id":`...)
	dst = value.AppendQuoted(dst, d.Key)
	dst = append(dst, `,"_rev":`...)
	dst = value.AppendQuoted(dst, d.RevID)
	if showExp && d.Expiry != 0 {
		dst = append(dst, `,"_exp":"`...)
		dst = time.Unix(int64(d.Expiry), 0).UTC().AppendFormat(dst, time.RFC3339)
		dst = append(dst, '"')
	}
	if d.Deleted {
		dst = append(dst, `,"_deleted":true`...)
	}
	if d.Datatype == docstore.DatatypeJSON {
		if i := skipSpace(d.Body, 0); i < len(d.Body) && d.Body[i] == '{' {
			if j := skipSpace(d.Body, i+1); j < len(d.Body) && d.Body[j] != '}' {
				dst = append(dst, ',')
				return append(dst, d.Body[j:]...)
			}
		}
	}
	return append(dst, '}')
}
