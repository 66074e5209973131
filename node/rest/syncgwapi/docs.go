package syncgwapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"eventide/docstore"
	"eventide/query/value"
)

// handleGetDoc serves GET and HEAD /{keyspace}/{docid}: the current
// revision with _id and _rev. Older revisions are not kept, so ?rev= finds
// only the current one (a tombstone's included, with _deleted).
func (s *Server) handleGetDoc(q *request) error {
	ks, err := s.resolveKeyspace(q.ksName)
	if err != nil {
		return err
	}
	vals := q.query()
	if vals.Get("open_revs") != "" {
		return errorf(http.StatusNotImplemented, "open_revs is not supported yet")
	}
	if q.boolQuery("replicator2") {
		return errorf(http.StatusNotImplemented, "replicator2 is not supported yet")
	}
	revsLimit := -1 // no _revisions
	if q.boolQuery("revs") {
		n, err := q.uintQuery("revs_limit", uint64(^uint32(0)>>1))
		if err != nil {
			return err
		}
		revsLimit = int(min(n, uint64(^uint32(0)>>1)))
	}
	rev := vals.Get("rev")
	d, err := s.docs.Get(ks, q.docID)
	if err != nil {
		if errors.Is(err, docstore.ErrNotFound) {
			return errorf(http.StatusNotFound, reasonMissing)
		}
		return keyspaceError(err, ks.Bucket, q.ksName)
	}
	if !visible(d) {
		return errorf(http.StatusNotFound, reasonMissing)
	}
	isLive := live(d, s.now())
	switch {
	case rev == "" && !isLive:
		return errorf(http.StatusNotFound, reasonDeleted)
	case rev != "" && (rev != d.RevID || (!d.Deleted && !isLive)):
		return errorf(http.StatusNotFound, reasonMissing)
	}
	out := appendDoc(make([]byte, 0, len(d.Body)+128), d, q.boolQuery("show_exp"))
	if revsLimit >= 0 {
		out = appendRevisions(out, d, revsLimit)
	}
	setEtag(q.w, d.RevID)
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

// appendRevisions adds "_revisions":{"start":gen,"ids":[digests]} to the
// document object that out ends with, as Sync Gateway's ?revs=true does:
// the current revision and its kept ancestors, newest first.
func appendRevisions(out []byte, d *docstore.Document, limit int) []byte {
	gen, digest, ok := splitRev(d.RevID)
	if !ok || limit == 0 {
		return out
	}
	out = out[:len(out)-1] // drop the closing brace
	out = append(out, `,"_revisions":{"start":`...)
	out = strconv.AppendInt(out, int64(gen), 10)
	out = append(out, `,"ids":[`...)
	out = value.AppendQuoted(out, digest)
	want := gen - 1
	for i, anc := range d.RevHistory {
		if i+1 >= limit {
			break
		}
		g, dg, ok := splitRev(anc)
		if !ok || g != want {
			break // history must chain generation by generation
		}
		out = append(out, ',')
		out = value.AppendQuoted(out, dg)
		want--
	}
	return append(out, "]}}"...)
}

// splitRev splits "gen-digest".
func splitRev(rev string) (int, string, bool) {
	i := strings.IndexByte(rev, '-')
	if i <= 0 {
		return 0, "", false
	}
	gen, err := strconv.Atoi(rev[:i])
	if err != nil || gen < 1 {
		return 0, "", false
	}
	return gen, rev[i+1:], true
}

// readDoc reads a request body that must be one JSON document object and
// returns its body without special properties and the special fields.
func (s *Server) readDoc(q *request) ([]byte, docFields, error) {
	if err := checkJSONContentType(q.r); err != nil {
		return nil, docFields{}, err
	}
	buf, err := s.readBody(q.r)
	if err != nil {
		return nil, docFields{}, err
	}
	defer s.putBuf(buf)
	data := buf.Bytes()
	var raw json.RawMessage // a validated, owned copy
	if err := json.Unmarshal(data, &raw); err != nil {
		if len(strings.TrimSpace(string(data))) == 0 {
			return nil, docFields{}, errorf(http.StatusBadRequest, reasonEmptyDoc)
		}
		return nil, docFields{}, badJSON(err)
	}
	if string(raw) == "null" {
		return nil, docFields{}, errorf(http.StatusBadRequest, reasonEmptyDoc)
	}
	body, specials, ok := splitDoc(raw, nil)
	if !ok {
		return nil, docFields{}, errorf(http.StatusBadRequest, "Bad JSON: the document body must be a JSON object")
	}
	return body, readSpecials(specials, s.cfg.Now()), nil
}

// ifMatch returns the If-Match header's revision, unquoted.
func ifMatch(r *http.Request) string {
	return strings.Trim(strings.TrimSpace(r.Header.Get("If-Match")), `"`)
}

// docMutation builds the mutation for a new revision of id (rev: the
// parent revision, "" to create), checking what Sync Gateway checks.
func (s *Server) docMutation(ks docstore.Keyspace, id, rev string, body []byte, f *docFields) (docstore.Mutation, *httpError) {
	if rev != "" && !validRevID(rev) {
		return docstore.Mutation{}, errorf(http.StatusBadRequest, reasonInvalidRev)
	}
	if f.err != nil {
		return docstore.Mutation{}, f.err
	}
	if !validDocID(id) {
		return docstore.Mutation{}, errorf(http.StatusBadRequest, reasonInvalidDocID)
	}
	body = dedupeKeys(body) // see dupkeys.go: the last value of a key wins
	if len(body) > s.cfg.MaxDocBytes {
		return docstore.Mutation{}, errorf(http.StatusRequestEntityTooLarge, "document exceeds the maximum size of %d bytes", s.cfg.MaxDocBytes)
	}
	m := docstore.Mutation{Keyspace: ks, Key: id, Op: docstore.OpUpsert, Body: body, Datatype: docstore.DatatypeJSON, Expiry: f.expiry, IfRev: rev, RequireRev: rev == ""}
	if f.deleted {
		m.Op, m.Body, m.Expiry = docstore.OpDelete, nil, 0
	}
	return m, nil
}

// writeOne applies one mutation and returns the new version.
func (s *Server) writeOne(q *request, m docstore.Mutation) (*docstore.Document, error) {
	ctx, cancel := writeCtx(q.r)
	defer cancel()
	res, err := s.writer.WriteDocs(ctx, []docstore.Mutation{m})
	if err != nil {
		return nil, writeFailure(err)
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("writer returned %d results for 1 mutation", len(res))
	}
	if res[0].Err != nil {
		if he := mutationError(res[0].Err, &m, q.ksName); he != nil {
			return nil, he
		}
		return nil, fmt.Errorf("write %s: %w", m.Key, res[0].Err)
	}
	if res[0].Doc == nil {
		return nil, fmt.Errorf("writer returned no document for %s", m.Key)
	}
	return res[0].Doc, nil
}

// appendNewRev appends {"id":...,"ok":true,"rev":...}.
func appendNewRev(dst []byte, id, rev string) []byte {
	dst = append(dst, `{"id":`...)
	dst = value.AppendQuoted(dst, id)
	dst = append(dst, `,"ok":true,"rev":`...)
	dst = value.AppendQuoted(dst, rev)
	return append(dst, '}')
}

// handlePutDoc serves PUT /{keyspace}/{docid}: create (no revision; 409
// "Document exists" if a live document exists) or update (revision in
// ?rev=, If-Match or _rev; 409 "Document revision conflict" if stale).
func (s *Server) handlePutDoc(q *request) error {
	ks, err := s.resolveKeyspace(q.ksName)
	if err != nil {
		return err
	}
	if q.query().Get("new_edits") == "false" {
		return errorf(http.StatusNotImplemented, "new_edits=false is not supported yet")
	}
	if q.boolQuery("replicator2") {
		return errorf(http.StatusNotImplemented, "replicator2 is not supported yet")
	}
	body, f, err := s.readDoc(q)
	if err != nil {
		return err
	}
	if f.hasID && f.id != q.docID {
		return errorf(http.StatusBadRequest, "The document ID provided in the body does not match the document ID in the path")
	}
	rev := f.rev
	if qrev := q.query().Get("rev"); qrev != "" {
		rev = qrev
	} else if im := ifMatch(q.r); im != "" {
		rev = im
	}
	if f.hasRev && f.rev != rev {
		return errorf(http.StatusBadRequest, "Revision IDs provided do not match")
	}
	m, herr := s.docMutation(ks, q.docID, rev, body, &f)
	if herr != nil {
		return herr
	}
	d, err := s.writeOne(q, m)
	if err != nil {
		return err
	}
	setEtag(q.w, d.RevID)
	writeJSON(q.w, http.StatusCreated, appendNewRev(nil, q.docID, d.RevID))
	return nil
}

// handlePostDoc serves POST /{keyspace}/: create a document, its ID from
// _id or generated.
func (s *Server) handlePostDoc(q *request) error {
	ks, err := s.resolveKeyspace(q.ksName)
	if err != nil {
		return err
	}
	body, f, err := s.readDoc(q)
	if err != nil {
		return err
	}
	if f.hasRev {
		// Sync Gateway's Post answers so (the status is its choice).
		return errorf(http.StatusNotFound, "No previous revision to replace")
	}
	id := f.id
	if !f.hasID {
		id = newDocID()
	}
	m, herr := s.docMutation(ks, id, "", body, &f)
	if herr != nil {
		return herr
	}
	d, err := s.writeOne(q, m)
	if err != nil {
		return err
	}
	q.w.Header().Set("Location", id)
	setEtag(q.w, d.RevID)
	writeJSON(q.w, http.StatusOK, appendNewRev(nil, id, d.RevID))
	return nil
}

// handleDeleteDoc serves DELETE /{keyspace}/{docid}?rev= (or If-Match):
// a new tombstone revision. Without a revision a live document is a
// conflict ("Document exists"), as in Sync Gateway.
func (s *Server) handleDeleteDoc(q *request) error {
	ks, err := s.resolveKeyspace(q.ksName)
	if err != nil {
		return err
	}
	rev := q.query().Get("rev")
	if rev == "" {
		rev = ifMatch(q.r)
	}
	if rev != "" && !validRevID(rev) {
		return errorf(http.StatusBadRequest, reasonInvalidRev)
	}
	m := docstore.Mutation{Keyspace: ks, Key: q.docID, Op: docstore.OpDelete, IfRev: rev, RequireRev: rev == ""}
	d, err := s.writeOne(q, m)
	if err != nil {
		return err
	}
	writeJSON(q.w, http.StatusOK, appendNewRev(nil, q.docID, d.RevID))
	return nil
}

// newDocID returns a random 32-hex-digit document ID, as Sync Gateway's
// CreateUUID.
func newDocID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
