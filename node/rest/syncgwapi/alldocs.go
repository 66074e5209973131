package syncgwapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"eventide/docstore"
	"eventide/query/value"
)

// flushBytes is the response size after which streamed responses
// (_all_docs, _changes) are written out instead of buffered further.
const flushBytes = 64 << 10

// handleAllDocs serves GET, HEAD and POST /{keyspace}/_all_docs as Sync
// Gateway: rows of live documents sorted by ID (startkey/endkey inclusive,
// limit), or, with keys (query JSON array or POST body), one row per key
// in the given order, missing ones as {"key","error":"not_found","status":404}.
// total_rows counts the rows returned, as Sync Gateway does.
func (s *Server) handleAllDocs(q *request) error {
	ks, err := s.resolveKeyspace(q.ksName)
	if err != nil {
		return err
	}
	includeDocs := q.boolQuery("include_docs")
	includeSeqs := q.boolQuery("update_seq")
	var keys []string
	haveKeys := false
	if q.r.Method == http.MethodPost {
		if err := checkJSONContentType(q.r); err != nil {
			return err
		}
		buf, err := s.readBody(q.r)
		if err != nil {
			return err
		}
		var in struct {
			Keys json.RawMessage `json:"keys"`
		}
		err = json.Unmarshal(buf.Bytes(), &in)
		s.putBuf(buf)
		if err != nil {
			return badJSON(err)
		}
		if len(in.Keys) == 0 || json.Unmarshal(in.Keys, &keys) != nil || keys == nil {
			return errorf(http.StatusBadRequest, "Bad/missing keys")
		}
		haveKeys = true
	} else if v := q.query().Get("keys"); v != "" {
		if err := json.Unmarshal([]byte(v), &keys); err != nil {
			return errorf(http.StatusBadRequest, "Bad keys")
		}
		haveKeys = keys != nil
	}
	limit, err := q.uintQuery("limit", 0)
	if err != nil {
		return err
	}
	startKey := jsonStringParam(q.query().Get("startkey"))
	endKey := jsonStringParam(q.query().Get("endkey"))
	seq, err := s.lastSeq(ks)
	if err != nil {
		return keyspaceError(err, ks.Bucket, q.ksName)
	}
	now := s.now()

	var docs []*docstore.Document
	if !haveKeys {
		lim := 0
		if limit > 0 && limit < uint64(int(^uint(0)>>1)) {
			lim = int(limit)
		}
		docs, err = s.docs.AllDocs(ks, now, docstore.AllDocsOptions{StartKey: startKey, EndKey: endKey, Limit: lim})
		if err != nil {
			return keyspaceError(err, ks.Bucket, q.ksName)
		}
	}

	q.w.Header().Set("Content-Type", "application/json")
	out := make([]byte, 0, 4096)
	out = append(out, "{\"rows\":[\n"...)
	rows := 0
	row := func(build func([]byte) []byte) {
		if rows > 0 {
			out = append(out, ',')
		}
		out = build(out)
		rows++
		if len(out) >= flushBytes {
			q.w.writeChunk(out)
			out = out[:0]
		}
	}
	if haveKeys {
		for _, k := range keys {
			if limit > 0 && uint64(rows) >= limit {
				break
			}
			status := http.StatusNotFound
			var d *docstore.Document
			if !validDocID(k) {
				status = http.StatusBadRequest
			} else if got, err := s.docs.Get(ks, k); err == nil {
				if visible(got) && live(got, now) {
					d = got
				}
			} else if !errors.Is(err, docstore.ErrNotFound) {
				return keyspaceError(err, ks.Bucket, q.ksName)
			}
			if d == nil {
				row(func(b []byte) []byte { return appendErrorRow(b, k, status) })
				continue
			}
			row(func(b []byte) []byte { return appendAllDocsRow(b, d, includeDocs, includeSeqs) })
		}
	} else {
		for _, d := range docs {
			if !visible(d) || !live(d, now) {
				continue
			}
			row(func(b []byte) []byte { return appendAllDocsRow(b, d, includeDocs, includeSeqs) })
		}
	}
	out = append(out, "],\n\"total_rows\":"...)
	out = strconv.AppendInt(out, int64(rows), 10)
	out = append(out, `,"update_seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, "}\n"...)
	q.w.writeChunk(out)
	return nil
}

// appendAllDocsRow appends {"key","id","value":{"rev"},"doc"?,"update_seq"?}.
func appendAllDocsRow(dst []byte, d *docstore.Document, includeDoc, includeSeq bool) []byte {
	dst = append(dst, `{"key":`...)
	dst = value.AppendQuoted(dst, d.Key)
	dst = append(dst, `,"id":`...)
	dst = value.AppendQuoted(dst, d.Key)
	dst = append(dst, `,"value":{"rev":`...)
	dst = value.AppendQuoted(dst, d.RevID)
	dst = append(dst, '}')
	if includeDoc {
		dst = append(dst, `,"doc":`...)
		dst = appendDoc(dst, d, false)
	}
	if includeSeq {
		dst = append(dst, `,"update_seq":`...)
		dst = strconv.AppendUint(dst, d.ChangeSeq, 10)
	}
	return append(dst, '}')
}

// appendErrorRow appends {"key","error","status"} for a key that has no row.
func appendErrorRow(dst []byte, key string, status int) []byte {
	dst = append(dst, `{"key":`...)
	dst = value.AppendQuoted(dst, key)
	dst = append(dst, `,"error":`...)
	dst = value.AppendQuoted(dst, errorName(status))
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	return append(dst, '}')
}
