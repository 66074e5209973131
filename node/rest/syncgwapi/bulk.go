package syncgwapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"eventide/docstore"
	"eventide/query/value"
)

// bulkRequest is the body of POST /{keyspace}/_bulk_docs. Documents stay
// raw: each is compacted and split in place (see splitDoc), never decoded
// into a map.
type bulkRequest struct {
	Docs     []json.RawMessage `json:"docs"`
	NewEdits json.RawMessage   `json:"new_edits"`
}

// bulkResult is one element of the _bulk_docs response.
type bulkResult struct {
	id  string
	rev string
	err *httpError
}

const localDocPrefix = "_local/"

// handleBulkDocs serves POST /{keyspace}/_bulk_docs: creates, updates
// (_rev) and deletions (_deleted) of many documents, each succeeding or
// failing on its own, all written in one WriteDocs call so that they share
// one group commit. The response lists one result per document in request
// order (_local documents, which Sync Gateway handles apart, last).
func (s *Server) handleBulkDocs(q *request) error {
	ks, err := s.resolveKeyspace(q.ksName)
	if err != nil {
		return err
	}
	if err := checkJSONContentType(q.r); err != nil {
		return err
	}
	buf, err := s.readBody(q.r)
	if err != nil {
		return err
	}
	var req bulkRequest
	err = json.Unmarshal(buf.Bytes(), &req)
	s.putBuf(buf) // the raw documents are copies
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && (te.Field == "docs" || strings.HasPrefix(te.Field, "docs.")) {
			return errorf(http.StatusBadRequest, "missing 'docs' property")
		}
		return badJSON(err)
	}
	if req.Docs == nil {
		return errorf(http.StatusBadRequest, "missing 'docs' property")
	}
	if string(req.NewEdits) == "false" {
		return errorf(http.StatusNotImplemented, "new_edits=false is not supported yet")
	}
	for _, raw := range req.Docs {
		if len(raw) == 0 || raw[0] != '{' {
			return errorf(http.StatusBadRequest, "Document body must be JSON")
		}
	}

	n := len(req.Docs)
	results := make([]bulkResult, 0, n)
	var locals []bulkResult
	muts := make([]docstore.Mutation, 0, n)
	slot := make([]int, 0, n) // muts[j] answers results[slot[j]]
	var specials []special    // reused across documents
	now := s.cfg.Now()
	for _, raw := range req.Docs {
		var body []byte
		body, specials, _ = splitDoc(raw, specials[:0])
		f := readSpecials(specials, now)
		if f.hasID && strings.HasPrefix(f.id, localDocPrefix) {
			locals = append(locals, bulkResult{id: f.id, err: errorf(http.StatusNotImplemented, "_local documents are not supported yet")})
			continue
		}
		id := f.id
		if !f.hasID {
			if f.hasRev {
				results = append(results, bulkResult{err: errorf(http.StatusNotFound, "No previous revision to replace")})
				continue
			}
			id = newDocID()
		}
		m, herr := s.docMutation(ks, id, f.rev, body, &f)
		if herr != nil {
			results = append(results, bulkResult{id: id, err: herr})
			continue
		}
		slot = append(slot, len(results))
		results = append(results, bulkResult{id: id})
		muts = append(muts, m)
	}

	if len(muts) > 0 {
		ctx, cancel := writeCtx(q.r)
		res, err := s.writer.WriteDocs(ctx, muts)
		cancel()
		if err != nil {
			return writeFailure(err)
		}
		if len(res) != len(muts) {
			return fmt.Errorf("writer returned %d results for %d mutations", len(res), len(muts))
		}
		for j := range res {
			r := &results[slot[j]]
			switch {
			case res[j].Err != nil:
				if r.err = mutationError(res[j].Err, &muts[j], q.ksName); r.err == nil {
					s.log.Error("bulk_docs write failed", "keyspace", q.ksName, "doc", r.id, "err", res[j].Err)
					r.err = errorf(http.StatusInternalServerError, reasonInternal)
				}
			case res[j].Doc == nil:
				r.err = errorf(http.StatusInternalServerError, reasonInternal)
			default:
				r.rev = res[j].Doc.RevID
			}
		}
	}

	results = append(results, locals...)
	out := make([]byte, 0, 16+len(results)*96)
	out = append(out, '[')
	for i := range results {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendBulkResult(out, &results[i])
	}
	out = append(out, ']')
	writeJSON(q.w, http.StatusCreated, out)
	return nil
}

// appendBulkResult appends one result with its keys in the order Sync
// Gateway's map encoding gives them (alphabetical).
func appendBulkResult(dst []byte, r *bulkResult) []byte {
	if r.err == nil {
		dst = append(dst, `{"id":`...)
		dst = value.AppendQuoted(dst, r.id)
		dst = append(dst, `,"rev":`...)
		dst = value.AppendQuoted(dst, r.rev)
		return append(dst, '}')
	}
	dst = append(dst, `{"error":`...)
	dst = value.AppendQuoted(dst, errorName(r.err.status))
	if r.id != "" {
		dst = append(dst, `,"id":`...)
		dst = value.AppendQuoted(dst, r.id)
	}
	dst = append(dst, `,"reason":`...)
	dst = value.AppendQuoted(dst, r.err.reason)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.err.status), 10)
	return append(dst, '}')
}
