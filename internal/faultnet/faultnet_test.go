package faultnet

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// echoServer serves l, echoing every byte back, until the test ends.
func echoServer(t *testing.T, l net.Listener) {
	t.Helper()
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
}

func mustListen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// roundTrip writes a byte on c and reads it back.
func roundTrip(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte{7}); err != nil {
		return err
	}
	var b [1]byte
	_, err := io.ReadFull(c, b[:])
	return err
}

func TestEndpoint_PartitionRefusesDialsAndCutsConns(t *testing.T) {
	fn := New()
	a, b, c := fn.Endpoint("a"), fn.Endpoint("b"), fn.Endpoint("c")
	lb, lc := mustListen(t), mustListen(t)
	b.Register(lb.Addr().String())
	c.Register(lc.Addr().String())
	echoServer(t, b.WrapListener(lb))
	echoServer(t, c.WrapListener(lc))
	ctx := context.Background()

	ab, err := a.DialContext(ctx, "tcp", lb.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ab.Close()
	ac, err := a.DialContext(ctx, "tcp", lc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	if err := roundTrip(ab); err != nil {
		t.Fatalf("before the partition: %v", err)
	}

	fn.Partition([]string{"a"}, []string{"b"})
	if !fn.Blocked("b", "a") || fn.Blocked("a", "c") {
		t.Fatalf("Blocked: b-a %v a-c %v, want true false", fn.Blocked("b", "a"), fn.Blocked("a", "c"))
	}
	if err := roundTrip(ab); err == nil {
		t.Fatal("a connection across the partition still works")
	}
	if err := roundTrip(ac); err != nil {
		t.Fatalf("a connection outside the partition broke: %v", err)
	}
	if _, err := a.DialContext(ctx, "tcp", lb.Addr().String()); !errors.Is(err, ErrPartitioned) {
		t.Fatalf("dial across the partition: %v, want ErrPartitioned", err)
	}
	// An unregistered address is always reachable.
	lx := mustListen(t)
	echoServer(t, lx)
	if x, err := b.DialContext(ctx, "tcp", lx.Addr().String()); err != nil {
		t.Fatalf("dial of an unknown address: %v", err)
	} else {
		_ = x.Close()
	}

	fn.Heal()
	ab2, err := a.DialContext(ctx, "tcp", lb.Addr().String())
	if err != nil {
		t.Fatalf("dial after the heal: %v", err)
	}
	defer ab2.Close()
	if err := roundTrip(ab2); err != nil {
		t.Fatalf("after the heal: %v", err)
	}
}

func TestEndpoint_PartitionCutsAcceptedSide(t *testing.T) {
	fn := New()
	a, b := fn.Endpoint("a"), fn.Endpoint("b")
	lb := mustListen(t)
	b.Register(lb.Addr().String())
	wl := b.WrapListener(lb)
	t.Cleanup(func() { _ = wl.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := wl.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	ab, err := a.DialContext(context.Background(), "tcp", lb.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ab.Close()
	var ba net.Conn
	select {
	case ba = <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("no connection accepted")
	}
	fn.Partition([]string{"b"}, []string{"a"})
	// b's side is closed by the partition itself, not only by a's.
	_ = ba.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := ba.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on the accepted side: %v, want net.ErrClosed", err)
	}
}

// newGossip starts a memberlist transport on a free loopback port, wrapped
// by ep and registered as ep's node, and returns it with its address.
func newGossip(t *testing.T, ep *Endpoint) (memberlist.NodeAwareTransport, string) {
	t.Helper()
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{"127.0.0.1"},
		Logger:    log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	w := ep.WrapTransport(nt)
	t.Cleanup(func() { _ = w.Shutdown() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(nt.GetAutoBindPort()))
	ep.Register(addr)
	return w, addr
}

func TestWrapTransport_DropsPacketsAndRefusesStreams(t *testing.T) {
	fn := New()
	a, b := fn.Endpoint("a"), fn.Endpoint("b")
	ta, aAddr := newGossip(t, a)
	tb, bAddr := newGossip(t, b)

	recv := func(tr memberlist.NodeAwareTransport, d time.Duration) *memberlist.Packet {
		select {
		case p := <-tr.PacketCh():
			return p
		case <-time.After(d):
			return nil
		}
	}
	if _, err := ta.WriteTo([]byte("hello"), bAddr); err != nil {
		t.Fatal(err)
	}
	if p := recv(tb, 2*time.Second); p == nil || string(p.Buf) != "hello" {
		t.Fatalf("before the partition: packet %v", p)
	}

	fn.Partition([]string{"a"}, []string{"b"})
	if _, err := ta.WriteTo([]byte("lost"), bAddr); err != nil {
		t.Fatalf("a dropped packet reports %v, want nil as UDP would", err)
	}
	if p := recv(tb, 300*time.Millisecond); p != nil {
		t.Fatalf("a packet crossed the partition: %q", p.Buf)
	}
	if _, err := ta.DialTimeout(bAddr, time.Second); !errors.Is(err, ErrPartitioned) {
		t.Fatalf("stream dial across the partition: %v, want ErrPartitioned", err)
	}

	fn.Heal()
	if _, err := tb.WriteTo([]byte("back"), aAddr); err != nil {
		t.Fatal(err)
	}
	if p := recv(ta, 2*time.Second); p == nil || string(p.Buf) != "back" {
		t.Fatalf("after the heal: packet %v", p)
	}
	c, err := ta.DialTimeout(bAddr, time.Second)
	if err != nil {
		t.Fatalf("stream dial after the heal: %v", err)
	}
	defer c.Close()
	select {
	case s := <-tb.StreamCh():
		_ = s.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("no stream accepted after the heal")
	}
}
