package node

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// shortLimits make every timeout of newRESTServer observable in a test.
var shortLimits = restLimits{
	readHeader: 200 * time.Millisecond, read: 300 * time.Millisecond, write: 300 * time.Millisecond,
	idle: 200 * time.Millisecond, maxHeaderBytes: 4 << 10,
}

// startRESTServer serves h with lim on a fresh loopback port.
func startRESTServer(t *testing.T, h http.Handler, lim restLimits) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newRESTServer(h, lim, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return l.Addr().String()
}

// readBodyHandler reads the whole body and answers its length.
var readBodyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, strings.Repeat("x", len(b)))
})

// waitClosed reads from c until the server closes it. The bound is
// generous: the server's timeouts are a few hundred milliseconds, and the
// test only asserts that the connection ends, not when.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept the connection open")
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRESTServer_ClosesIdleKeepAlive(t *testing.T) {
	addr := startRESTServer(t, readBodyHandler, shortLimits)
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("first response: %v %v", resp, err)
	}
	waitClosed(t, c) // kept alive, then idle past IdleTimeout
}

func TestRESTServer_ClosesSlowHeaders(t *testing.T) {
	addr := startRESTServer(t, readBodyHandler, shortLimits)
	c := dial(t, addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil { // headers never end
		t.Fatal(err)
	}
	waitClosed(t, c)
}

func TestRESTServer_EndsSlowBody(t *testing.T) {
	addr := startRESTServer(t, readBodyHandler, shortLimits)
	c := dial(t, addr)
	// A body announced at 1000 bytes of which 10 ever arrive.
	if _, err := io.WriteString(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, c)
}

func TestRESTServer_RefusesHugeHeaders(t *testing.T) {
	addr := startRESTServer(t, readBodyHandler, shortLimits)
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

func TestRESTServer_DefaultsAllowLargeUploads(t *testing.T) {
	// The production limits must not cut an ordinary large upload short.
	addr := startRESTServer(t, readBodyHandler, defaultRESTLimits)
	body := strings.Repeat("a", 8<<20)
	resp, err := http.Post("http://"+addr+"/", "application/octet-stream", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || n != int64(len(body)) {
		t.Fatalf("status %d, %d bytes back, want 200 and %d", resp.StatusCode, n, len(body))
	}
}
