package syncgwapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"eventide/docstore"
	"eventide/query/value"
)

// Sync Gateway's _changes heartbeat and timeout bounds, in milliseconds.
const (
	minHeartbeatMS     = 25_000
	maxHeartbeatMS     = 300_000
	defaultTimeoutMS   = 300_000
	maxTimeoutMS       = 900_000
	changesPage        = 1000 // documents read from the store per call
	changesCacheHeader = "private, max-age=0, no-cache, no-store"
)

// changesOptions are the parameters of one _changes request.
type changesOptions struct {
	feed        string
	since       uint64
	limit       uint64 // 0: none
	activeOnly  bool
	includeDocs bool
	filter      string
	channels    string
	docIDs      []string
	heartbeatMS uint64
	timeoutMS   uint64
}

// handleChanges serves GET and POST /{keyspace}/_changes: the normal feed
// (one response) and the longpoll feed (waits, up to timeout, for the first
// change after since). Each document appears once, at its latest change.
func (s *Server) handleChanges(q *request) error {
	ks, err := s.resolveKeyspace(q.ksName)
	if err != nil {
		return err
	}
	opts := changesOptions{timeoutMS: defaultTimeoutMS}
	if q.r.Method == http.MethodPost {
		if err := s.readChangesBody(q, &opts); err != nil {
			return err
		}
	}
	if err := s.changesOptionsFromQuery(q, &opts); err != nil {
		return err
	}
	switch opts.feed {
	case "", "normal", "longpoll":
	case "continuous", "websocket":
		return errorf(http.StatusNotImplemented, "feed=%s is not supported yet; use normal or longpoll", opts.feed)
	default:
		return errorf(http.StatusBadRequest, "Unknown feed type")
	}
	switch opts.filter {
	case "":
	case "sync_gateway/bychannel":
		if opts.channels == "" {
			return errorf(http.StatusBadRequest, "Missing 'channels' filter parameter")
		}
		if opts.channels != "*" {
			return errorf(http.StatusNotImplemented, "channel filters are not supported yet (only channels=*)")
		}
	case "_doc_ids":
		if opts.feed != "" && opts.feed != "normal" {
			return errorf(http.StatusBadRequest, "Filter '_doc_ids' is only valid for feed=normal replications")
		}
		if opts.docIDs == nil {
			return errorf(http.StatusBadRequest, "Missing 'doc_ids' filter parameter")
		}
		if len(opts.docIDs) == 0 {
			return errorf(http.StatusBadRequest, "Empty doc_ids list")
		}
	default:
		return errorf(http.StatusBadRequest, "Unknown filter; try sync_gateway/bychannel or _doc_ids")
	}

	f := &changesFeed{s: s, ks: ks, ksName: q.ksName, opts: opts, lastSeq: opts.since, now: s.now()}
	f.out = append(make([]byte, 0, 4096), "{\"results\":[\r\n"...)
	var wake <-chan struct{}
	if opts.feed == "longpoll" {
		// Take the wake-up channel before reading, so no change slips between.
		wake = s.docs.Changed(ks.Bucket)
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", changesCacheHeader)
	if opts.filter == "_doc_ids" {
		err = f.collectDocIDs()
	} else {
		err = f.collect(q)
	}
	if err != nil {
		return err
	}
	if f.count == 0 && opts.feed == "longpoll" {
		if err := f.wait(q, wake); err != nil {
			return err
		}
	}
	f.out = append(f.out, "],\n\"last_seq\":\""...)
	f.out = strconv.AppendUint(f.out, f.lastSeq, 10)
	f.out = append(f.out, "\"}\n"...)
	q.w.writeChunk(f.out)
	return nil
}

// changesFeed accumulates one _changes response.
type changesFeed struct {
	s       *Server
	ks      docstore.Keyspace
	ksName  string
	opts    changesOptions
	now     uint32
	out     []byte
	count   uint64 // entries written
	lastSeq uint64 // sequence of the last entry written (since if none)
	scanned uint64 // highest sequence read from the store
}

// full reports whether the limit is reached.
func (f *changesFeed) full() bool { return f.opts.limit > 0 && f.count >= f.opts.limit }

// add writes one entry if the options let it through.
func (f *changesFeed) add(q *request, d *docstore.Document) {
	if !visible(d) || (f.opts.activeOnly && !live(d, f.now)) {
		return
	}
	if f.count > 0 {
		f.out = append(f.out, ',')
	}
	f.out = appendChange(f.out, d, f.opts.includeDocs)
	f.count++
	f.lastSeq = d.ChangeSeq
	if q != nil && len(f.out) >= flushBytes {
		q.w.writeChunk(f.out)
		f.out = f.out[:0]
	}
}

// collect reads the changes after the last scanned sequence, page by page.
func (f *changesFeed) collect(q *request) error {
	if f.scanned < f.opts.since {
		f.scanned = f.opts.since
	}
	for !f.full() {
		want := uint64(changesPage)
		if f.opts.limit > 0 {
			want = min(want, f.opts.limit-f.count)
		}
		docs, _, err := f.s.docs.Changes(f.ks, f.scanned, int(want))
		if err != nil {
			return keyspaceError(err, f.ks.Bucket, f.ksName)
		}
		for _, d := range docs {
			f.scanned = max(f.scanned, d.ChangeSeq)
			f.add(q, d)
			if f.full() {
				return nil
			}
		}
		if uint64(len(docs)) < want {
			return nil
		}
	}
	return nil
}

// collectDocIDs serves filter=_doc_ids: the named documents changed after
// since, in sequence order.
func (f *changesFeed) collectDocIDs() error {
	var docs []*docstore.Document
	seen := make(map[string]bool, len(f.opts.docIDs))
	for _, id := range f.opts.docIDs {
		if seen[id] || !validDocID(id) {
			continue
		}
		seen[id] = true
		d, err := f.s.docs.Get(f.ks, id)
		if err != nil {
			if errors.Is(err, docstore.ErrNotFound) {
				continue
			}
			return keyspaceError(err, f.ks.Bucket, f.ksName)
		}
		if d.ChangeSeq > f.opts.since {
			docs = append(docs, d)
		}
	}
	slices.SortFunc(docs, func(a, b *docstore.Document) int {
		switch {
		case a.ChangeSeq < b.ChangeSeq:
			return -1
		case a.ChangeSeq > b.ChangeSeq:
			return 1
		}
		return 0
	})
	for _, d := range docs {
		if f.full() {
			break
		}
		f.add(nil, d)
	}
	return nil
}

// wait blocks a longpoll request until a change arrives, the timeout
// passes or the client goes away. As in Sync Gateway, a heartbeat (a
// newline every heartbeat ms) replaces the timeout.
func (f *changesFeed) wait(q *request, wake <-chan struct{}) error {
	q.w.writeChunk(f.out)
	f.out = f.out[:0]
	q.w.Flush()
	var heartbeat, timeout <-chan time.Time
	if f.opts.heartbeatMS > 0 {
		t := time.NewTicker(time.Duration(f.opts.heartbeatMS) * time.Millisecond)
		defer t.Stop()
		heartbeat = t.C
	} else if f.opts.timeoutMS > 0 {
		t := time.NewTimer(time.Duration(f.opts.timeoutMS) * time.Millisecond)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-wake:
			wake = f.s.docs.Changed(f.ks.Bucket)
			f.now = f.s.now()
			if err := f.collect(q); err != nil {
				return err
			}
			if f.count > 0 {
				return nil
			}
		case <-heartbeat:
			q.w.writeChunk([]byte("\n"))
			q.w.Flush()
		case <-timeout:
			return nil
		case <-q.r.Context().Done():
			return nil
		}
	}
}

// appendChange appends one entry: {"seq","id","deleted"?,"doc"?,"changes":[{"rev"}]}.
func appendChange(dst []byte, d *docstore.Document, includeDoc bool) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, d.ChangeSeq, 10)
	dst = append(dst, `,"id":`...)
	dst = value.AppendQuoted(dst, d.Key)
	if d.Deleted {
		dst = append(dst, `,"deleted":true`...)
	}
	if includeDoc {
		dst = append(dst, `,"doc":`...)
		dst = appendDoc(dst, d, false)
	}
	dst = append(dst, `,"changes":[{"rev":`...)
	dst = value.AppendQuoted(dst, d.RevID)
	return append(dst, "}]}\n"...)
}

// parseSince reads a since value: a sequence number, possibly written as a
// JSON string; "" is 0.
func parseSince(v string) (uint64, error) {
	v = jsonStringParam(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "Invalid sequence")
	}
	return n, nil
}

// clampMS applies Sync Gateway's bounds to a heartbeat or timeout: 0 stays
// 0 (off), other values are clamped into [lo, hi].
func clampMS(v, lo, hi uint64) uint64 {
	if v == 0 {
		return 0
	}
	return min(max(v, lo), hi)
}

// changesOptionsFromQuery reads the query parameters; for POST they
// override the body's, as in Sync Gateway.
func (s *Server) changesOptionsFromQuery(q *request, o *changesOptions) error {
	vals := q.query()
	var err error
	if _, ok := vals["feed"]; ok {
		o.feed = vals.Get("feed")
	}
	if _, ok := vals["since"]; ok {
		if o.since, err = parseSince(vals.Get("since")); err != nil {
			return err
		}
	}
	if _, ok := vals["limit"]; ok {
		if o.limit, err = q.uintQuery("limit", 0); err != nil {
			return err
		}
	}
	if _, ok := vals["active_only"]; ok {
		o.activeOnly = q.boolQuery("active_only")
	}
	if _, ok := vals["include_docs"]; ok {
		o.includeDocs = q.boolQuery("include_docs")
	}
	if _, ok := vals["filter"]; ok {
		o.filter = vals.Get("filter")
	}
	if _, ok := vals["channels"]; ok {
		o.channels = vals.Get("channels")
	}
	if v := vals.Get("doc_ids"); v != "" {
		o.docIDs = parseDocIDs(v)
	}
	if _, ok := vals["heartbeat"]; ok {
		hb, err := q.uintQuery("heartbeat", 0)
		if err != nil {
			return err
		}
		o.heartbeatMS = clampMS(hb, s.minHeartbeatMS, maxHeartbeatMS)
	}
	if _, ok := vals["timeout"]; ok {
		t, err := q.uintQuery("timeout", defaultTimeoutMS)
		if err != nil {
			return err
		}
		o.timeoutMS = min(t, maxTimeoutMS)
	}
	return nil
}

// parseDocIDs reads doc_ids: a JSON array of strings, or else a comma
// separated list, as in Sync Gateway.
func parseDocIDs(v string) []string {
	var ids []string
	if err := json.Unmarshal([]byte(v), &ids); err == nil {
		return ids
	}
	return strings.Split(v, ",")
}

// readChangesBody reads a POST _changes body. Sync Gateway types its
// fields (limit a number, include_docs a boolean, ...); the published API
// also shows them as strings, so both are accepted.
func (s *Server) readChangesBody(q *request, o *changesOptions) error {
	if err := checkJSONContentType(q.r); err != nil {
		return err
	}
	buf, err := s.readBody(q.r)
	if err != nil {
		return err
	}
	defer s.putBuf(buf)
	if len(strings.TrimSpace(buf.String())) == 0 {
		return nil
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &in); err != nil {
		return badJSON(err)
	}
	str := func(name string) (string, bool, error) {
		raw, ok := in[name]
		if !ok || string(raw) == "null" {
			return "", false, nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false, errorf(http.StatusBadRequest, "%s must be a string", name)
		}
		return v, true, nil
	}
	num := func(name string) (uint64, bool, error) {
		raw, ok := in[name]
		if !ok || string(raw) == "null" {
			return 0, false, nil
		}
		v := string(raw)
		if s, ok := jsonString(v); ok {
			v = s
		}
		n, err := parseUintParam(name, v)
		return n, err == nil, err
	}
	flag := func(name string) (bool, error) {
		raw, ok := in[name]
		if !ok {
			return false, nil
		}
		switch string(raw) {
		case "true", `"true"`:
			return true, nil
		case "false", `"false"`, "null":
			return false, nil
		}
		return false, errorf(http.StatusBadRequest, "%s must be a boolean", name)
	}
	if o.feed, _, err = str("feed"); err != nil {
		return err
	}
	if raw, ok := in["since"]; ok && string(raw) != "null" {
		if o.since, err = parseSince(string(raw)); err != nil {
			return err
		}
	}
	if o.limit, _, err = num("limit"); err != nil {
		return err
	}
	if o.activeOnly, err = flag("active_only"); err != nil {
		return err
	}
	if o.includeDocs, err = flag("include_docs"); err != nil {
		return err
	}
	if o.filter, _, err = str("filter"); err != nil {
		return err
	}
	if o.channels, _, err = str("channels"); err != nil {
		return err
	}
	if raw, ok := in["doc_ids"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &o.docIDs); err != nil {
			var v string
			if json.Unmarshal(raw, &v) != nil {
				return errorf(http.StatusBadRequest, "doc_ids must be an array of strings")
			}
			o.docIDs = parseDocIDs(v)
		}
	}
	if hb, ok, err := num("heartbeat"); err != nil {
		return err
	} else if ok {
		o.heartbeatMS = clampMS(hb, s.minHeartbeatMS, maxHeartbeatMS)
	}
	if t, ok, err := num("timeout"); err != nil {
		return err
	} else if ok {
		o.timeoutMS = min(t, maxTimeoutMS)
	}
	return nil
}
