package clusterapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"eventide/consensus"
	"eventide/docstore"
)

// The documents API of ns_server (menelaus_web_crud), which the web
// console's document browser uses: list a collection's keys in order, read
// one document of any datatype with its metadata and xattrs, set or delete
// one. Writes are ordinary replicated mutations, so they reach functions,
// _changes and every node like any other client write.

// DocReader reads the node's replica of the documents; *docstore.Store
// satisfies it.
type DocReader interface {
	// Get returns the current version of a key, tombstones included.
	Get(ks docstore.Keyspace, key string) (*docstore.Document, error)
	// AllDocs returns live documents sorted by key.
	AllDocs(ks docstore.Keyspace, now uint32, opts docstore.AllDocsOptions) ([]*docstore.Document, error)
	// CheckKeyspace returns nil if the collection exists, else
	// docstore.ErrBucketNotFound, docstore.ErrScopeNotFound or docstore.ErrCollectionNotFound.
	CheckKeyspace(ks docstore.Keyspace) error
}

// DocWriter replicates document mutations; *consensus.Store satisfies it.
type DocWriter interface {
	WriteDocs(ctx context.Context, ms []docstore.Mutation) ([]consensus.DocResult, error)
}

var (
	_ DocReader = (*docstore.Store)(nil)
	_ DocWriter = (*consensus.Store)(nil)
)

// Limits of the listing, as ns_server's defaults (maxDocsLimit and
// maxDocsSkip of /internalSettings).
const (
	maxDocsLimit = 1000
	maxDocsSkip  = 1000
	// listBinaryPrefix is how many bytes of a binary document a listing
	// shows (mc_binary:annotate_value strips the rest).
	listBinaryPrefix = 128
	// commonFlagsJSON is the RFC-20 common flags value for JSON, the
	// default flags of a document set through this API.
	commonFlagsJSON = 0x02000006
	// maxExpiry is the largest expiry the API takes (ns_server's bound).
	maxExpiry = 1<<31 - 1
)

// docsKeyspace resolves the keyspace of a documents route: the bucket's
// default collection, or the scope and collection named in the path.
func docsKeyspace(p params) docstore.Keyspace {
	ks := docstore.Keyspace{Bucket: p["bucket"], Scope: docstore.DefaultScope, Collection: docstore.DefaultCollection}
	if s, ok := p["scope"]; ok {
		ks.Scope, ks.Collection = s, p["collection"]
	}
	return ks
}

// checkDocsKeyspace answers as ns_server does for a missing keyspace: the
// plain 404 for a bucket (its permission check finds no bucket), and
// {"error": msg} for a scope or collection (assert_collection_uid).
func (h *Server) checkDocsKeyspace(w http.ResponseWriter, r *http.Request, ks docstore.Keyspace) bool {
	err := h.docs.CheckKeyspace(ks)
	if err == nil {
		return true
	}
	h.writeError(w, r, keyspaceMissing(err, ks))
	return false
}

// keyspaceMissing maps a keyspace lookup of the documents API.
func keyspaceMissing(err error, ks docstore.Keyspace) error {
	switch msg := missingKeyspaceMessage(err, ks.Bucket, ks.Scope, ks.Collection); {
	case errors.Is(err, docstore.ErrBucketNotFound):
		return notFound()
	case msg != "":
		return &apiError{status: http.StatusNotFound, json: map[string]string{"error": msg}}
	}
	return docUnexpected(err)
}

// docUnexpected is the documents API's 500 of an unexpected failure, in
// menelaus_web_crud's shape; writeError logs err.
func docUnexpected(err error) *apiError {
	e := crudError(http.StatusInternalServerError, "unexpected_error", unexpectedMessage)
	e.cause = err
	return e
}

// listParams are the query parameters of a listing.
type listParams struct {
	skip, limit  int
	includeDocs  bool
	inclusiveEnd bool
	start        string
	end          string
	hasEnd       bool
}

// parseListParams reads the parameters in ns_server's order and with its
// answers: a bad limit or skip is a plain-text 400, anything else a
// bad_request.
func parseListParams(q url.Values) (lp listParams, err error) {
	intParam := func(name string, lo, hi, def int) (int, error) {
		v, present := q[name]
		if !present {
			return def, nil
		}
		n, err := strconv.Atoi(v[0])
		if err != nil || n < lo || n > hi {
			return 0, textError(http.StatusBadRequest, fmt.Sprintf("'%q' must be a valid integer between %d and %d", name, lo, hi))
		}
		return n, nil
	}
	boolParam := func(name string, def bool) (bool, error) {
		v, present := q[name]
		if !present {
			return def, nil
		}
		switch v[0] {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, badRequest(fmt.Sprintf("%s must be true or false", name))
	}
	keyParam := func(name string) (string, bool, error) {
		v, present := q[name]
		if !present {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal([]byte(v[0]), &s); err != nil {
			return "", false, badRequest(fmt.Sprintf(`%s must be a document key as a JSON string, e.g. "doc1"`, name))
		}
		return s, true, nil
	}
	if lp.limit, err = intParam("limit", 1, maxDocsLimit, maxDocsLimit); err != nil {
		return lp, err
	}
	if lp.skip, err = intParam("skip", 0, maxDocsSkip, 0); err != nil {
		return lp, err
	}
	if lp.includeDocs, err = boolParam("include_docs", false); err != nil {
		return lp, err
	}
	if lp.inclusiveEnd, err = boolParam("inclusive_end", true); err != nil {
		return lp, err
	}
	if lp.start, _, err = keyParam("startkey"); err != nil {
		return lp, err
	}
	lp.end, lp.hasEnd, err = keyParam("endkey")
	return lp, err
}

// docRow is one row of a listing; Doc is set with include_docs.
type docRow struct {
	ID  string            `json:"id"`
	Doc map[string]string `json:"doc,omitempty"`
}

func (h *Server) listDocs(w http.ResponseWriter, r *http.Request, p params) {
	ks := docsKeyspace(p)
	if !h.checkDocsKeyspace(w, r, ks) {
		return
	}
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	docs, err := h.docs.AllDocs(ks, h.nowSec(), docstore.AllDocsOptions{StartKey: lp.start, Limit: lp.skip + lp.limit})
	if err != nil {
		h.writeError(w, r, keyspaceMissing(err, ks))
		return
	}
	rows := make([]docRow, 0, min(len(docs), lp.limit))
	for i, d := range docs {
		if lp.hasEnd && (d.Key > lp.end || !lp.inclusiveEnd && d.Key == lp.end) {
			break
		}
		if i < lp.skip {
			continue
		}
		row := docRow{ID: d.Key}
		if lp.includeDocs {
			row.Doc = listedBody(d)
		}
		rows = append(rows, row)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rows": rows})
}

// listedBody is a listing's view of a body: JSON text, or the base64 of
// the first bytes of a binary one.
func listedBody(d *docstore.Document) map[string]string {
	if d.Datatype == docstore.DatatypeBinary {
		b := d.Body
		if len(b) > listBinaryPrefix {
			b = b[:listBinaryPrefix]
		}
		return map[string]string{"base64": base64.StdEncoding.EncodeToString(b)}
	}
	return map[string]string{"json": string(d.Body)}
}

// docMeta is the "meta" of a document read: ns_server's own fields, and
// the CAS as a decimal string (a JavaScript number cannot hold 64 bits),
// the way Eventing's meta.cas is given.
type docMeta struct {
	ID         string `json:"id"`
	Rev        string `json:"rev"`
	Expiration uint32 `json:"expiration"`
	Flags      uint32 `json:"flags"`
	CAS        string `json:"cas"`
}

// docJSON is a document read: the body is the document's JSON text (a
// string, whatever the JSON type) or, for a binary document, its base64.
type docJSON struct {
	Meta   docMeta                    `json:"meta"`
	JSON   *string                    `json:"json,omitempty"`
	Base64 *string                    `json:"base64,omitempty"`
	Xattrs map[string]json.RawMessage `json:"xattrs"`
}

// revString renders a revision as memcached's get_meta does:
// "<revision seqno>-<cas><expiry><flags>" in 16, 8 and 8 hex digits.
func revString(d *docstore.Document) string {
	gen, _, _ := strings.Cut(d.RevID, "-") // the RevID's generation counts every version
	return fmt.Sprintf("%s-%016x%08x%08x", gen, d.CAS, d.Expiry, d.Flags)
}

func (h *Server) getDoc(w http.ResponseWriter, r *http.Request, p params) {
	ks := docsKeyspace(p)
	if !h.checkDocsKeyspace(w, r, ks) {
		return
	}
	d, err := h.docs.Get(ks, p["docid"])
	switch {
	case errors.Is(err, docstore.ErrNotFound):
		h.writeError(w, r, &apiError{status: http.StatusNotFound, kind: bodyEmpty})
		return
	case err != nil:
		h.writeError(w, r, keyspaceMissing(err, ks))
		return
	case !d.Live(h.nowSec()):
		h.writeError(w, r, &apiError{status: http.StatusNotFound, kind: bodyEmpty})
		return
	}
	out := docJSON{
		Meta: docMeta{
			ID: d.Key, Rev: revString(d), Expiration: d.Expiry, Flags: d.Flags,
			CAS: strconv.FormatUint(d.CAS, 10),
		},
		Xattrs: make(map[string]json.RawMessage, len(d.Xattrs)+len(d.SysXattrs)),
	}
	if d.Datatype == docstore.DatatypeBinary {
		s := base64.StdEncoding.EncodeToString(d.Body)
		out.Base64 = &s
	} else {
		s := string(d.Body)
		out.JSON = &s
	}
	for k, v := range d.SysXattrs {
		out.Xattrs[k] = v
	}
	for k, v := range d.Xattrs {
		out.Xattrs[k] = v
	}
	writeJSON(w, http.StatusOK, out)
}

// maxDocFormBytes bounds a set request's body: a value at the size limit,
// percent-encoded (up to three bytes a byte), and the other fields.
const maxDocFormBytes = 3*docstore.MaxBodyLen + 64<<10

func (h *Server) setDoc(w http.ResponseWriter, r *http.Request, p params) {
	ks := docsKeyspace(p)
	if !h.checkDocsKeyspace(w, r, ks) {
		return
	}
	// ns_server takes a form body, or none at all; JSON bodies are refused.
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
			h.writeError(w, r, badRequest("Must use 'application/x-www-form-urlencoded'"))
			return
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDocFormBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.writeError(w, r, badRequest(fmt.Sprintf("The value is larger than the document size limit of %d bytes", docstore.MaxBodyLen)))
			return
		}
		h.writeError(w, r, badRequest("The request body could not be read"))
		return
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		h.writeError(w, r, badRequest("The request body is not valid application/x-www-form-urlencoded"))
		return
	}
	m := docstore.Mutation{Keyspace: ks, Key: p["docid"], Op: docstore.OpUpsert, Flags: commonFlagsJSON}
	if v, ok := form["flags"]; ok {
		f, err := strconv.ParseUint(v[0], 10, 32)
		if err != nil {
			h.writeError(w, r, textError(http.StatusBadRequest, "'flags' must be a valid positive integer"))
			return
		}
		m.Flags = uint32(f)
	}
	if v, ok := form["expiry"]; ok {
		e, err := strconv.ParseUint(v[0], 10, 32)
		if err != nil || e > maxExpiry {
			h.writeError(w, r, textError(http.StatusBadRequest, fmt.Sprintf("'%q' must be a valid integer between 0 and %d", "expiry", maxExpiry)))
			return
		}
		m.Expiry, _ = docstore.AbsoluteExpiry(int64(e), h.now()) // e ≤ 2^31-1 always fits
	}
	if v, ok := form["preserveTTL"]; ok {
		switch v[0] {
		case "true":
			m.PreserveExpiry = true
		case "false":
		default:
			h.writeError(w, r, badRequest("preserveTTL must be true or false"))
			return
		}
	}
	value := []byte(form.Get("value"))
	if len(value) > docstore.MaxBodyLen {
		h.writeError(w, r, badRequest(fmt.Sprintf("The value is %d bytes, larger than the document size limit of %d bytes", len(value), docstore.MaxBodyLen)))
		return
	}
	// memcached decides the datatype from the bytes: any JSON value is a
	// JSON document, anything else (the empty value too) is binary.
	m.Body, m.Datatype = value, docstore.DatatypeBinary
	if json.Valid(value) {
		m.Datatype = docstore.DatatypeJSON
	}
	h.writeDoc(w, r, ks, m)
}

func (h *Server) deleteDoc(w http.ResponseWriter, r *http.Request, p params) {
	ks := docsKeyspace(p)
	if !h.checkDocsKeyspace(w, r, ks) {
		return
	}
	h.writeDoc(w, r, ks, docstore.Mutation{Keyspace: ks, Key: p["docid"], Op: docstore.OpDelete})
}

// writeDoc replicates one mutation and answers as menelaus_web_crud:
// 200 [] on success, 400 bad_request with memcached's reason otherwise.
func (h *Server) writeDoc(w http.ResponseWriter, r *http.Request, ks docstore.Keyspace, m docstore.Mutation) {
	res, err := h.writer.WriteDocs(r.Context(), []docstore.Mutation{m})
	if err == nil && len(res) == 1 {
		err = res[0].Err
	}
	if err != nil {
		h.writeError(w, r, docWriteError(err, ks))
		return
	}
	writeJSON(w, http.StatusOK, []any{})
}

// docWriteError maps a failed document write as menelaus_web_crud does.
func docWriteError(err error, ks docstore.Keyspace) error {
	switch {
	case errors.Is(err, docstore.ErrNotFound):
		return badRequest("Key doesn't exist")
	case errors.Is(err, docstore.ErrBucketNotFound), errors.Is(err, docstore.ErrScopeNotFound), errors.Is(err, docstore.ErrCollectionNotFound):
		return keyspaceMissing(err, ks)
	case errors.Is(err, docstore.ErrInvalid):
		return badRequest(docstore.InvalidReason(err))
	case errors.Is(err, consensus.ErrTooLarge):
		return badRequest(fmt.Sprintf("The document is larger than the document size limit of %d bytes", docstore.MaxBodyLen))
	case errors.Is(err, consensus.ErrNotLeader), errors.Is(err, consensus.ErrClosed),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// ns_server's answer to a temporary failure (etmpfail).
		return crudError(http.StatusServiceUnavailable, "retry_needed", "The write could not be replicated now; retry it")
	}
	return docUnexpected(err)
}

func (h *Server) nowSec() uint32 { return uint32(h.now().Unix()) }
