package subdoc

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// Counter adds delta to the integer field count of a JSON object,
// keeping the other fields in their order, or adds count = delta when the
// object has none. It reports false for a body that is not an object, a
// count that is not an integer, or an overflow.
func Counter(body []byte, delta int64) ([]byte, int64, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, 0, false
	}
	var out bytes.Buffer
	out.WriteByte('{')
	var n int64
	found := false
	for i := 0; dec.More(); i++ {
		kt, err := dec.Token()
		key, ok := kt.(string)
		if err != nil || !ok {
			return nil, 0, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, 0, false
		}
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(&out, key)
		out.WriteByte(':')
		if key != "count" {
			out.Write(raw)
			continue
		}
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || (delta > 0 && v > math.MaxInt64-delta) || (delta < 0 && v < math.MinInt64-delta) {
			return nil, 0, false
		}
		n, found = v+delta, true
		out.WriteString(strconv.FormatInt(n, 10))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, 0, false
	}
	if !found {
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		n = delta
		out.WriteString(`"count":` + strconv.FormatInt(n, 10))
	}
	out.WriteByte('}')
	return out.Bytes(), n, true
}

// writeString writes s as a JSON string, HTML characters unescaped.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}
