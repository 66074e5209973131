package syncgwapi

import (
	"errors"
	"net/http"
	"strconv"

	"eventide/docstore"
	"eventide/query/value"
)

// handleRoot serves GET / : server information, as Sync Gateway.
func (s *Server) handleRoot(q *request) error {
	out := []byte(`{"couchdb":"Welcome","vendor":{"name":`)
	out = value.AppendQuoted(out, productName)
	out = append(out, `,"version":`...)
	out = value.AppendQuoted(out, productVersion)
	out = append(out, `},"version":`...)
	out = value.AppendQuoted(out, versionString)
	out = append(out, '}')
	writeJSON(q.w, http.StatusOK, out)
	return nil
}

// handlePing serves GET /_ping, a liveness check that needs no credentials.
func (s *Server) handlePing(q *request) error {
	h := q.w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", "2")
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write([]byte("OK"))
	return nil
}

// handleDBInfo serves GET and HEAD /{db}/ (and /{keyspace}/): database
// information in Sync Gateway's shape. update_seq is the keyspace's last
// change sequence (the _default collection's for a bare database name, 0
// if that collection was dropped).
func (s *Server) handleDBInfo(q *request) error {
	ks, ok := parseKeyspace(q.ksName)
	if !ok {
		return errorf(http.StatusNotFound, "keyspace %s not found", q.ksName)
	}
	var seq uint64
	err := s.docs.CheckKeyspace(ks)
	switch {
	case err == nil:
		if seq, err = s.lastSeq(ks); err != nil {
			return keyspaceError(err, ks.Bucket, q.ksName)
		}
	case ks.Bucket == q.ksName && (errors.Is(err, docstore.ErrScopeNotFound) || errors.Is(err, docstore.ErrCollectionNotFound)):
		// The database exists without its default collection.
	default:
		return keyspaceError(err, ks.Bucket, q.ksName)
	}
	out := []byte(`{"db_name":`)
	out = value.AppendQuoted(out, ks.Bucket)
	out = append(out, `,"update_seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, `,"committed_update_seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, `,"instance_start_time":`...)
	out = strconv.AppendInt(out, s.startMicros, 10)
	out = append(out, `,"compact_running":false,"purge_seq":0,"disk_format_version":0,"state":"Online","server_uuid":`...)
	out = value.AppendQuoted(out, s.cfg.ServerUUID)
	out = append(out, '}')
	writeJSON(q.w, http.StatusOK, out)
	return nil
}
