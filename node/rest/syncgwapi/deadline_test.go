package syncgwapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLongpoll_OutlivesServerTimeouts serves a longpoll _changes request
// that waits (1.5 s) longer than the server's read and write timeouts
// (200 ms): the handler lifts them, so the answer arrives whole.
func TestLongpoll_OutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ method, query, body string }{
		{"GET", "?feed=longpoll&timeout=1500", ""},
		{"POST", "", `{"feed":"longpoll","timeout":1500}`},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+"/db/_changes"+tc.query, strings.NewReader(tc.body))
		req.SetBasicAuth(testUser, testPass)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s longpoll: %v", tc.method, err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"last_seq":"0"`) {
			t.Fatalf("%s longpoll = %d %q %v, want a complete empty feed", tc.method, resp.StatusCode, b, err)
		}
	}
}
