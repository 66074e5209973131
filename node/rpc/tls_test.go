package rpc

import (
	"testing"
	"time"

	"eventide/clustersec"
)

func TestClient_MutualTLS(t *testing.T) {
	issue := func(secret string) *clustersec.Identity {
		k, err := clustersec.Derive([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		id, err := k.Issue("n")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	member, outsider := issue("the cluster's secret, long enough"), issue("another secret, also long enough")
	rt := &fakeRuntime{running: map[string]bool{"b/s/f": true}}
	ts := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: rt, TLS: member.ServerTLS()})
	client := func(cfg ClientConfig) *Client {
		cfg.Logger = testLogger(t)
		c, err := NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}

	got, err := client(ClientConfig{TLS: member.ClientTLS()}).FunctionStatus(ctxTimeout(t, 10*time.Second), ts.addr, []string{"b/s/f"})
	if err != nil || !got["b/s/f"] {
		t.Fatalf("FunctionStatus over mutual TLS = %v, %v", got, err)
	}
	for name, cfg := range map[string]ClientConfig{
		"plaintext":               {},
		"another cluster's certs": {TLS: outsider.ClientTLS()},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := client(cfg).FunctionStatus(ctxTimeout(t, 2*time.Second), ts.addr, []string{"b/s/f"}); err == nil {
				t.Fatal("the server answered a client without the cluster's certificate")
			}
		})
	}
}
