package consensus

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"eventide/clustersec"
	"eventide/docstore"
)

// countingNetwork is a plain TCP Network that counts what goes through it.
type countingNetwork struct {
	dials, accepts atomic.Int64
}

func (n *countingNetwork) WrapListener(l net.Listener) net.Listener {
	return countingListener{Listener: l, n: n}
}

func (n *countingNetwork) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	n.dials.Add(1)
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

type countingListener struct {
	net.Listener
	n *countingNetwork
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.accepts.Add(1)
	}
	return c, err
}

func TestStore_NetworkCarriesRaft(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testNetworkCarriesRaft(t, nil) })
	// TLS sits on top of the Network, so faults injected there still cut
	// Raft.
	t.Run("mutual TLS", func(t *testing.T) {
		keys, err := clustersec.Derive([]byte("a cluster secret for the tests"))
		if err != nil {
			t.Fatal(err)
		}
		testNetworkCarriesRaft(t, func(c *Config) {
			id, err := keys.Issue(c.NodeID)
			if err != nil {
				t.Fatal(err)
			}
			c.ServerTLS, c.ClientTLS = id.ServerTLS(), id.ClientTLS()
		})
	})
}

// testNetworkCarriesRaft replicates a write from n1 to n2, each on its own
// counting Network and adjusted by tune, and checks that Raft went through
// the Networks.
func testNetworkCarriesRaft(t *testing.T, tune func(*Config)) {
	nw1, nw2 := &countingNetwork{}, &countingNetwork{}
	c1 := testConfig(t, "n1")
	c1.Network = nw1
	c2 := testConfig(t, "n2")
	c2.Bootstrap = false
	c2.Network = nw2
	// This test is about the path Raft's traffic takes, not its timing: a
	// 50 ms leader lease lost to a slow TLS handshake under -race on a
	// loaded machine failed the write with "leadership lost".
	for _, c := range []*Config{&c1, &c2} {
		c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = time.Second, time.Second, time.Second
	}
	if tune != nil {
		tune(&c1)
		tune(&c2)
	}
	s1 := mustOpen(t, c1)
	s2, err := Open(c2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	if err := s1.AddVoter(ctxT(t), "n2", s2.Addr()); err != nil {
		t.Fatalf("AddVoter: %v", err)
	}
	mustBucket(t, s1, "b")
	mustWrite(t, s1, upsert(docstore.Keyspace{Bucket: "b", Scope: "_default", Collection: "_default"}, "k", `{"a":1}`))
	waitFor(t, 5*time.Second, func() bool { return s2.Stats().AppliedIndex == s1.Stats().AppliedIndex })
	if nw1.dials.Load() == 0 || nw2.accepts.Load() == 0 {
		t.Fatalf("raft bypassed the Network: leader dialed %d, follower accepted %d", nw1.dials.Load(), nw2.accepts.Load())
	}
}

func TestConfig_TLSComesInPairs(t *testing.T) {
	c := testConfig(t, "n1")
	c.ServerTLS = &tls.Config{}
	if err := c.Validate(); err == nil {
		t.Fatal("ServerTLS without ClientTLS was accepted")
	}
}

func TestOpen_NetworkNeedsRoutableAdvertise(t *testing.T) {
	c := testConfig(t, "n1")
	c.BindAddr = "0.0.0.0:0"
	c.Network = &countingNetwork{}
	if s, err := Open(c); err == nil {
		_ = s.Close()
		t.Fatal("Open on 0.0.0.0 without an advertise address succeeded")
	}
}

// A client that opens a connection to the Raft port and never completes
// the TLS handshake is dropped at the handshake deadline.
func TestStore_SilentTLSClientIsDropped(t *testing.T) {
	old := tlsHandshakeTimeout
	tlsHandshakeTimeout = 200 * time.Millisecond
	t.Cleanup(func() { tlsHandshakeTimeout = old })
	keys, err := clustersec.Derive([]byte("a cluster secret for the tests"))
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig(t, "n1")
	id, err := keys.Issue(c.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	c.ServerTLS, c.ClientTLS = id.ServerTLS(), id.ClientTLS()
	s := mustOpen(t, c)
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Generous: the point is that the server closes it, not when.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Fatalf("read %d bytes, %v; want the server to close the silent connection", n, err)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept the silent connection open for 30s")
	}
}
