package membership

import (
	"context"
	"testing"
	"time"

	"eventide/internal/faultnet"
)

// TestMembership_ReconnectsAfterLongPartition cuts two members apart for
// longer than memberlist gossips to the dead: each declares the other dead
// and stops talking to it, so only the reconnect loop brings them back
// together after the heal.
func TestMembership_ReconnectsAfterLongPartition(t *testing.T) {
	const deadGossip = 300 * time.Millisecond
	fn := faultnet.New()
	start := func(id string, i int, join ...string) *Membership {
		t.Helper()
		ep := fn.Endpoint(id)
		m, err := New(Config{
			NodeID: id, BindAddr: "127.0.0.1", Join: join, Meta: testMeta(id, i),
			ProbeInterval: 100 * time.Millisecond, GossipToTheDeadTime: deadGossip,
			ReconnectInterval: 100 * time.Millisecond, WrapTransport: ep.WrapTransport,
			Logger: testLogger(t).With("node", id),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Shutdown() })
		ep.Register(m.Addr())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Join(ctx); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := start("a", 1)
	b := start("b", 2, a.Addr())
	waitFor(t, 5*time.Second, "a and b to see each other alive", func() bool {
		return stateOf(a, "b") == StateAlive && stateOf(b, "a") == StateAlive
	})

	fn.Partition([]string{"a"}, []string{"b"})
	waitFor(t, 5*time.Second, "a and b to see each other dead", func() bool {
		return stateOf(a, "b") == StateDead && stateOf(b, "a") == StateDead
	})
	// The partition outlasts memberlist's gossip to the dead several times.
	time.Sleep(5 * deadGossip)
	fn.Heal()
	waitFor(t, 5*time.Second, "a and b to see each other alive after the heal", func() bool {
		return stateOf(a, "b") == StateAlive && stateOf(b, "a") == StateAlive
	})
}
