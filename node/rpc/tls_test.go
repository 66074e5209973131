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
	rt := &fakeRuntime{stats: map[string][]byte{"b/s/f": []byte(`{"a":1}`)}}
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

	got, found, err := client(ClientConfig{TLS: member.ClientTLS()}).FunctionStats(ctxTimeout(t, 10*time.Second), ts.addr, "b/s/f")
	if err != nil || !found || string(got) != `{"a":1}` {
		t.Fatalf("FunctionStats over mutual TLS = %s, %v, %v", got, found, err)
	}
	for name, cfg := range map[string]ClientConfig{
		"plaintext":               {},
		"another cluster's certs": {TLS: outsider.ClientTLS()},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := client(cfg).FunctionStats(ctxTimeout(t, 2*time.Second), ts.addr, "b/s/f"); err == nil {
				t.Fatal("the server answered a client without the cluster's certificate")
			}
		})
	}
}
