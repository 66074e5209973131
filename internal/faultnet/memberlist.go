package faultnet

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// WrapTransport returns t (memberlist's gossip transport) seen through the
// partitions: packets to or from a partitioned node are dropped silently,
// as a cut network would, stream dials to one fail, streams accepted from
// one are closed, and open streams are cut when a partition starts. The
// returned transport owns t and shuts it down.
func (e *Endpoint) WrapTransport(t memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
	w := &transport{
		NodeAwareTransport: t,
		ep:                 e,
		packets:            make(chan *memberlist.Packet),
		streams:            make(chan net.Conn),
		done:               make(chan struct{}),
	}
	w.wg.Add(2)
	go w.pumpPackets()
	go w.pumpStreams()
	return w
}

// transport filters a memberlist transport. Its two pumps are owned by it
// and stop at Shutdown.
type transport struct {
	memberlist.NodeAwareTransport
	ep       *Endpoint
	packets  chan *memberlist.Packet
	streams  chan net.Conn
	done     chan struct{}
	shutOnce sync.Once
	wg       sync.WaitGroup
}

func (t *transport) pumpPackets() {
	defer t.wg.Done()
	in := t.NodeAwareTransport.PacketCh()
	for {
		select {
		case <-t.done:
			return
		case p := <-in:
			if p == nil || t.ep.blockedAddr(p.From.String()) {
				continue
			}
			select {
			case t.packets <- p:
			case <-t.done:
				return
			}
		}
	}
}

func (t *transport) pumpStreams() {
	defer t.wg.Done()
	in := t.NodeAwareTransport.StreamCh()
	for {
		select {
		case <-t.done:
			return
		case raw := <-in:
			if raw == nil {
				continue
			}
			c := &conn{Conn: raw, net: t.ep.net, node: t.ep.node}
			if !t.ep.net.track(c) {
				_ = raw.Close()
				continue
			}
			select {
			case t.streams <- c:
			case <-t.done:
				_ = c.Close()
				return
			}
		}
	}
}

// PacketCh implements memberlist.Transport.
func (t *transport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// StreamCh implements memberlist.Transport.
func (t *transport) StreamCh() <-chan net.Conn { return t.streams }

// WriteTo implements memberlist.Transport: a packet across a partition is
// dropped (reported as sent, as UDP would).
func (t *transport) WriteTo(b []byte, addr string) (time.Time, error) {
	if t.ep.blockedAddr(addr) {
		return time.Now(), nil
	}
	return t.NodeAwareTransport.WriteTo(b, addr)
}

// WriteToAddress implements memberlist.NodeAwareTransport.
func (t *transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.ep.blockedAddr(a.Addr) {
		return time.Now(), nil
	}
	return t.NodeAwareTransport.WriteToAddress(b, a)
}

// DialTimeout implements memberlist.Transport.
func (t *transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (t *transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.ep.blockedAddr(a.Addr) {
		return nil, fmt.Errorf("dial %s from %s: %w", a.Addr, t.ep.node, ErrPartitioned)
	}
	raw, err := t.NodeAwareTransport.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return t.ep.dialed(raw, a.Addr)
}

// Shutdown implements memberlist.Transport: it stops the pumps and shuts
// the wrapped transport down.
func (t *transport) Shutdown() error {
	var err error
	t.shutOnce.Do(func() {
		err = t.NodeAwareTransport.Shutdown()
		close(t.done)
		t.wg.Wait()
	})
	return err
}
