package rpc

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestClient_DialerCarriesConnections(t *testing.T) {
	app := &fakeApplier{}
	ts := startServer(t, ServerConfig{Applier: app, Runtime: &fakeRuntime{}})
	var dials atomic.Int64
	var refuse atomic.Bool
	errCut := errors.New("cut")
	c, err := NewClient(ClientConfig{
		ReconnectMaxDelay: 50 * time.Millisecond,
		Logger:            testLogger(t),
		Dialer: func(ctx context.Context, addr string) (net.Conn, error) {
			dials.Add(1)
			if refuse.Load() {
				return nil, errCut
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f, err := NewForwarder(c, mapResolver{"n1": ts.addr})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Forward(ctxTimeout(t, 5*time.Second), "n1", "raft", []byte("e1")); err != nil {
		t.Fatalf("Forward through the dialer: %v", err)
	}
	if dials.Load() == 0 {
		t.Fatal("the client did not use its Dialer")
	}

	// A refusing dialer keeps a forgotten peer unreachable.
	refuse.Store(true)
	c.Forget(ts.addr)
	if err := f.Forward(ctxTimeout(t, time.Second), "n1", "raft", []byte("e2")); err == nil {
		t.Fatal("Forward succeeded while the dialer refuses")
	}
	if got := app.got(); len(got) != 1 {
		t.Fatalf("applier got %d entries, want 1", len(got))
	}
}
