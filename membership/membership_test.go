package membership

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventide/internal/testlog"
)

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testMeta(id string, i int) Meta {
	return Meta{
		NodeID:   id,
		UUID:     strings.Repeat(strconv.Itoa(i), 32),
		RaftAddr: "127.0.0.1:" + strconv.Itoa(19000+i),
		GRPCAddr: "127.0.0.1:" + strconv.Itoa(18000+i),
		Ports:    Ports{Mgmt: 8000 + i, Eventing: 8100 + i, SyncGateway: 8200 + i, Query: 8300 + i},
		Services: []string{"kv", "eventing"},
	}
}

// startMember starts a membership on 127.0.0.1 with a free gossip port
// (or port, when non-zero) joined to join.
func startMember(t *testing.T, id string, i, port int, join ...string) *Membership {
	t.Helper()
	m := newMember(t, id, i, port, nil, join...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Join(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// newMember starts, without joining, a membership like startMember's that
// gossips with key (nil: plaintext).
func newMember(t *testing.T, id string, i, port int, key []byte, join ...string) *Membership {
	t.Helper()
	m, err := New(Config{
		NodeID: id, BindAddr: "127.0.0.1", GossipPort: port, Join: join, GossipKey: key,
		Meta: testMeta(id, i), Logger: testLogger(t).With("node", id),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func stateOf(m *Membership, id string) State {
	mem, ok := m.Member(id)
	if !ok {
		return ""
	}
	return mem.State
}

func TestConfig_Validate(t *testing.T) {
	good := Config{NodeID: "n1", BindAddr: "127.0.0.1", Meta: testMeta("n1", 1)}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	big := testMeta("n1", 1)
	big.Services = []string{strings.Repeat("x", 600)}
	for name, mut := range map[string]func(*Config){
		"no node id":      func(c *Config) { c.NodeID = "" },
		"bad bind":        func(c *Config) { c.BindAddr = "localhost" },
		"bad advertise":   func(c *Config) { c.AdvertiseAddr = "nowhere" },
		"bad port":        func(c *Config) { c.GossipPort = 70000 },
		"bad join":        func(c *Config) { c.Join = []string{"10.0.0.1"} },
		"meta other id":   func(c *Config) { c.Meta.NodeID = "n2" },
		"meta no raft":    func(c *Config) { c.Meta.RaftAddr = "" },
		"meta no grpc":    func(c *Config) { c.Meta.GRPCAddr = "127.0.0.1" },
		"meta too large":  func(c *Config) { c.Meta = big },
		"probe too short": func(c *Config) { c.ProbeInterval = time.Millisecond },
		"bad gossip key":  func(c *Config) { c.GossipKey = make([]byte, 20) },
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			mut(&c)
			err := c.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), "cluster: invalid config") {
				t.Fatalf("Validate = %v, want a cluster config error", err)
			}
			if _, err := New(c); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
	if _, err := big.Encode(); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("Encode(600-byte meta) = %v, want ErrMetaTooLarge", err)
	}
	if _, err := DecodeMeta([]byte("not json")); !errors.Is(err, ErrInvalidMeta) {
		t.Fatalf("DecodeMeta(junk) = %v, want ErrInvalidMeta", err)
	}
	if b, _ := testMeta("n1", 1).Encode(); len(b) > 300 {
		t.Fatalf("a typical meta takes %d bytes; keep it well under 512", len(b))
	}
}

func TestMembership_GossipKey(t *testing.T) {
	keyA, keyB := bytes.Repeat([]byte{'a'}, 32), bytes.Repeat([]byte{'b'}, 32)
	start := func(id string, i int, key []byte, join ...string) (*Membership, error) {
		m := newMember(t, id, i, 0, key, join...)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return m, m.Join(ctx)
	}
	m1, _ := start("m1", 1, keyA)
	if _, err := start("m2", 2, keyA, m1.Addr()); err != nil {
		t.Fatalf("a member with the same key could not join: %v", err)
	}
	// Neither another key nor plaintext gets a member in: its push/pull
	// cannot be read by m1 (nor m1's by it).
	for name, key := range map[string][]byte{"other key": keyB, "no key": nil} {
		if _, err := start("x-"+strings.ReplaceAll(name, " ", ""), 3, key, m1.Addr()); !errors.Is(err, ErrJoin) {
			t.Errorf("%s: Join = %v, want ErrJoin", name, err)
		}
	}
	waitFor(t, 10*time.Second, "m1 to see m2", func() bool { return stateOf(m1, "m2") == StateAlive })
	for _, mem := range m1.Members() {
		if strings.HasPrefix(mem.NodeID, "x-") {
			t.Fatalf("m1 lists %s, which gossips without the key", mem.NodeID)
		}
	}
}

func TestMembership_JoinMetaDeadLeft(t *testing.T) {
	n1 := startMember(t, "n1", 1, 0)
	changed := n1.Changed()
	n2 := startMember(t, "n2", 2, 0, n1.Addr())
	n3 := startMember(t, "n3", 3, 0, n2.Addr()) // any member is a seed
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed did not fire when members joined")
	}
	all := []*Membership{n1, n2, n3}
	for _, m := range all {
		waitFor(t, 5*time.Second, "three alive members", func() bool {
			ms := m.Members()
			return len(ms) == 3 && ms[0].Healthy() && ms[1].Healthy() && ms[2].Healthy()
		})
	}
	// Meta travelled intact; the view is sorted and marks the local node.
	ms := n1.Members()
	for i, mem := range ms {
		want := testMeta("n"+strconv.Itoa(i+1), i+1)
		if mem.NodeID != want.NodeID || mem.UUID != want.UUID || mem.RaftAddr != want.RaftAddr ||
			mem.GRPCAddr != want.GRPCAddr || mem.Ports != want.Ports || strings.Join(mem.Services, ",") != "kv,eventing" {
			t.Fatalf("member %d = %+v, want meta %+v", i, mem, want)
		}
		if mem.Host != "127.0.0.1" || mem.Local != (i == 0) || mem.Since.IsZero() {
			t.Fatalf("member %d: host %q local %v since %v", i, mem.Host, mem.Local, mem.Since)
		}
		if _, port, _ := net.SplitHostPort(mem.GossipAddr); port == "0" || port == "" {
			t.Fatalf("member %d gossip addr %q", i, mem.GossipAddr)
		}
	}
	if addr, ok := n2.GRPCAddr("n3"); !ok || addr != testMeta("n3", 3).GRPCAddr {
		t.Fatalf("GRPCAddr(n3) = %q, %v", addr, ok)
	}
	if _, ok := n2.GRPCAddr("n9"); ok {
		t.Fatal("GRPCAddr of an unknown node resolved")
	}

	// n3 is killed: shut down without leaving. The others see it dead
	// within the failure detector's few seconds.
	killed := time.Now()
	if err := n3.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Membership{n1, n2} {
		waitFor(t, 8*time.Second, "n3 dead", func() bool { return stateOf(m, "n3") == StateDead })
	}
	if d := time.Since(killed); d > 6*time.Second {
		t.Fatalf("a killed node was declared dead after %s; want about 2–3 s", d)
	}
	if mem, _ := n1.Member("n3"); mem.Healthy() || mem.Since.Before(killed) {
		t.Fatalf("dead n3 = %+v", mem)
	}

	// n2 leaves gracefully: n1 sees it left, not dead.
	if err := n2.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := n2.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "n2 left", func() bool { return stateOf(n1, "n2") == StateLeft })
	if _, ok := n1.GRPCAddr("n2"); ok {
		t.Fatal("a left member still resolves")
	}
	if err := n2.Leave(time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("Leave after Shutdown = %v, want ErrClosed", err)
	}

	// n3 comes back (same id, new port) and is alive again.
	startMember(t, "n3", 3, 0, n1.Addr())
	waitFor(t, 5*time.Second, "n3 alive again", func() bool { return stateOf(n1, "n3") == StateAlive })
	if st := stateOf(n1, "n2"); st != StateLeft {
		t.Fatalf("n2 is %s after n3's return, want left", st)
	}
}

func TestMembership_JoinRetriesUntilSeedIsUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seedPort := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	seedAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(seedPort))

	joiner, err := New(Config{NodeID: "n2", BindAddr: "127.0.0.1", Join: []string{seedAddr}, Meta: testMeta("n2", 2), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = joiner.Shutdown() })

	// No seed within the deadline: a clear error.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err = joiner.Join(ctx)
	cancel()
	if !errors.Is(err, ErrJoin) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Join with no seed = %v, want ErrJoin and DeadlineExceeded", err)
	}

	// The seed comes up while Join retries.
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errc <- joiner.Join(ctx)
	}()
	time.Sleep(300 * time.Millisecond) // let a few attempts fail first
	seed := startMember(t, "n1", 1, seedPort)
	if err := <-errc; err != nil {
		t.Fatalf("Join once the seed is up = %v", err)
	}
	waitFor(t, 5*time.Second, "the seed to see the joiner", func() bool { return stateOf(seed, "n2") == StateAlive })
}
