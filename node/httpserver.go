package node

import (
	"log/slog"
	"net/http"
	"time"
)

// The limits every REST listener shares. Without them an idle keep-alive
// connection or a body sent a byte a minute holds a connection and a
// goroutine forever. The values leave room for legitimate use: the largest
// bodies (a 128 MiB Sync Gateway _bulk_docs, a ~61 MiB document form on
// the cluster manager) upload within restReadTimeout at ~450 KB/s, and the
// long-lived or streamed responses (Sync Gateway's _changes and _all_docs,
// the cluster manager's streaming configs) give each write its own
// deadline with http.ResponseController, which lifts restWriteTimeout for
// them. restReadTimeout needs no lifting: net/http clears the read deadline
// once the request body has been read.
const (
	// restReadHeaderTimeout bounds the request line and headers, so that a
	// client trickling them (slowloris) is cut off early.
	restReadHeaderTimeout = 10 * time.Second
	// restReadTimeout bounds reading a whole request, body included.
	restReadTimeout = 5 * time.Minute
	// restWriteTimeout runs from the end of the request headers, so it
	// covers reading the body, committing it (a write waits up to a
	// minute) and writing the answer.
	restWriteTimeout = restReadTimeout + 2*time.Minute
	// restIdleTimeout closes a keep-alive connection idle this long.
	restIdleTimeout = 2 * time.Minute
	// restMaxHeaderBytes bounds the request line and headers. It is
	// generous because GET _all_docs?keys=[...] and _changes?doc_ids=[...]
	// carry their lists in the URL.
	restMaxHeaderBytes = 256 << 10
)

// restLimits are an HTTP server's timeouts and header limit.
type restLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

// defaultRESTLimits are the production values; tests use shorter ones.
var defaultRESTLimits = restLimits{
	readHeader: restReadHeaderTimeout, read: restReadTimeout, write: restWriteTimeout,
	idle: restIdleTimeout, maxHeaderBytes: restMaxHeaderBytes,
}

// newRESTServer is the one way a REST listener's server is built.
func newRESTServer(h http.Handler, lim restLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    lim.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
