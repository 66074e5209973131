package clusterapi

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"
)

// revTracker gives each rendered configuration (a terse bucket config, the
// nodeServices map) a revision number that SDKs compare to decide whether a
// config is newer than the one they hold (gocbcore ignores one whose rev is
// not greater). The revision of a config changes only when its content
// does, and it is the larger of the previous revision + 1 and the wall clock
// in milliseconds at which this node first rendered the new content. So it
// is monotonic on a node, and roughly comparable across nodes without any
// replicated counter: a node that applies a change later gives it a later
// revision. (ns_server uses a replicated revision; eventide's topology and
// catalog do not carry one.)
type revTracker struct {
	mu sync.Mutex
	m  map[string]revEntry // by config key; guarded by mu
}

type revEntry struct {
	sum [sha256.Size]byte // hash of the content rendered with rev 0
	rev int64
}

// rev returns the revision for content (rendered without its revision)
// under key.
func (t *revTracker) rev(key string, content []byte, now time.Time) int64 {
	sum := sha256.Sum256(content)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]revEntry)
	}
	e, ok := t.m[key]
	if ok && e.sum == sum {
		return e.rev
	}
	rev := now.UnixMilli()
	if ok && rev <= e.rev {
		rev = e.rev + 1
	}
	t.m[key] = revEntry{sum: sum, rev: rev}
	return rev
}

// size is the number of tracked configs.
func (t *revTracker) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// retain drops the entries whose key keep rejects (configs of deleted
// buckets), so the tracker does not grow without bound.
func (t *revTracker) retain(keep func(key string) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.m {
		if !keep(k) {
			delete(t.m, k)
		}
	}
}

// streamWriteTimeout bounds one write of a streaming response.
const streamWriteTimeout = 30 * time.Second

// streamSeparator follows every chunk of an ns_server streaming response.
var streamSeparator = []byte("\n\n\n\n")

// stream serves one of ns_server's streaming endpoints: it writes render's
// result, then re-renders every StreamPollInterval and writes the new
// result whenever it differs, until the client leaves, the handler is
// closed, or render reports the resource gone (which ends the stream, as
// ns_server does when a bucket is deleted). If the resource does not exist
// at the start, the reply is a plain 404.
func (h *Server) stream(w http.ResponseWriter, r *http.Request, render func() (body []byte, found bool, err error)) {
	body, found, err := render()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if !found {
		h.writeError(w, r, notFound())
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	write := func(b []byte) bool {
		// Each write gets its own deadline, which also lifts any server
		// WriteTimeout that would cut a long-lived stream; a client that
		// stops reading ends its stream instead of pinning this goroutine.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		if _, err := w.Write(streamSeparator); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(body) {
		return
	}
	last := body
	ticker := time.NewTicker(h.cfg.StreamPollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		case <-ticker.C:
		}
		body, found, err := render()
		if err != nil {
			h.log.Error("streaming render failed", "path", r.URL.Path, "err", err)
			return
		}
		if !found {
			return
		}
		if bytes.Equal(body, last) {
			continue
		}
		if !write(body) {
			return
		}
		last = body
	}
}
