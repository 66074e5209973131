package clusterapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestStreaming_OutlivesServerTimeouts keeps a terse-config stream open
// through a server whose read and write timeouts are 250 ms, pushing
// changes until the stream has lived four times that: each write gets its
// own deadline, so every change still arrives.
func TestStreaming_OutlivesServerTimeouts(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "default")
	const timeout = 250 * time.Millisecond
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.ReadTimeout = timeout
	srv.Config.WriteTimeout = timeout
	srv.Start()
	t.Cleanup(srv.Close)
	se := *e
	se.srv = srv
	s := se.openStream(t, "/pools/default/bs/default")
	var cfg terseDoc
	if err := s.next(t, &cfg); err != nil {
		t.Fatalf("first config: %v", err)
	}
	start := time.Now()
	for i := 1; time.Since(start) < 4*timeout; i++ {
		e.do(t, "POST", "/pools/default/buckets/default/scopes", form("name", fmt.Sprintf("s%d", i))).expect(t, http.StatusOK)
		if err := s.next(t, &cfg); err != nil {
			t.Fatalf("config %d after %s: %v", i, time.Since(start), err)
		}
		if want := fmt.Sprintf("%x", i); cfg.CollectionsManifestUID != want {
			t.Fatalf("config %d has manifest %q, want %q", i, cfg.CollectionsManifestUID, want)
		}
	}
}
