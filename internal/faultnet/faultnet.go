// Package faultnet injects network partitions between in-process nodes for
// tests. A Net knows which node owns which listener address (Register) and
// which pairs of nodes cannot talk (Partition, Heal). Each node reaches the
// network through its Endpoint: DialContext refuses dials to a blocked
// peer, WrapListener drops connections accepted from one, and
// WrapTransport drops gossip packets and refuses gossip streams across a
// partition. Partition also cuts every tracked connection between the
// newly separated nodes, in both directions.
//
// Peers are told apart by address: each in-process node listens on its own
// host:port. A connection accepted by a node is attributed to the node that
// dialed it by matching its remote address with the local address of a
// connection dialed through the same Net; connections whose dialer is not
// known are left alone.
//
// An Endpoint is what node.Config.Network takes (the in-process test
// cluster, node/nodetest, sets it); production leaves that nil and never
// imports this package.
package faultnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrPartitioned is returned for a dial across a partition.
var ErrPartitioned = errors.New("faultnet: peer unreachable (network partition)")

// pair is an unordered pair of node ids, stored with a < b.
type pair struct{ a, b string }

func mkPair(x, y string) pair {
	if x > y {
		x, y = y, x
	}
	return pair{x, y}
}

// Net is a set of nodes and the partitions between them. The zero value is
// not usable; call New. Safe for concurrent use.
type Net struct {
	// mu guards every field below.
	mu      sync.Mutex
	owner   map[string]string // listener address -> node id
	blocked map[pair]bool
	conns   map[*conn]struct{} // open tracked connections
	dialed  map[string]string  // local address of a dialed conn -> dialing node id
}

// New returns a Net with no nodes and no partition.
func New() *Net {
	return &Net{
		owner:   make(map[string]string),
		blocked: make(map[pair]bool),
		conns:   make(map[*conn]struct{}),
		dialed:  make(map[string]string),
	}
}

// Register records that node listens on addrs (host:port; Raft, gRPC and
// gossip). Registering an address again moves it to node.
func (n *Net) Register(node string, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		if a != "" {
			n.owner[a] = node
		}
	}
}

// Partition splits the given groups of node ids from each other: every
// node of one group is cut off from every node of every other group, in
// both directions, on top of any partition already in place. Nodes in no
// group are unaffected. Open connections across the new cuts are closed.
func (n *Net) Partition(groups ...[]string) {
	n.mu.Lock()
	for i, g := range groups {
		for _, h := range groups[i+1:] {
			for _, x := range g {
				for _, y := range h {
					if x != y {
						n.blocked[mkPair(x, y)] = true
					}
				}
			}
		}
	}
	var cut []*conn
	for c := range n.conns {
		if peer := n.peerLocked(c); peer != "" && n.blocked[mkPair(c.node, peer)] {
			cut = append(cut, c)
		}
	}
	n.mu.Unlock()
	for _, c := range cut {
		_ = c.Close()
	}
}

// Heal removes every partition. Connections cut earlier stay closed; the
// nodes dial again.
func (n *Net) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.blocked)
}

// Blocked reports whether nodes a and b are partitioned from each other.
func (n *Net) Blocked(a, b string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.blocked[mkPair(a, b)]
}

// Endpoint returns node's view of the network.
func (n *Net) Endpoint(node string) *Endpoint { return &Endpoint{net: n, node: node} }

// blockedAddrLocked reports whether node may not reach the owner of addr.
// An address nobody registered is always reachable.
func (n *Net) blockedAddrLocked(node, addr string) bool {
	peer, ok := n.owner[addr]
	return ok && n.blocked[mkPair(node, peer)]
}

// peerLocked returns the node at the other end of c, "" if unknown.
func (n *Net) peerLocked(c *conn) string {
	if c.peer != "" {
		return c.peer
	}
	return n.dialed[c.RemoteAddr().String()]
}

// track registers an open connection unless it crosses a partition, in
// which case it returns false and the caller closes it.
func (n *Net) track(c *conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if peer := n.peerLocked(c); peer != "" && n.blocked[mkPair(c.node, peer)] {
		return false
	}
	n.conns[c] = struct{}{}
	if c.dialed {
		n.dialed[c.LocalAddr().String()] = c.node
	}
	return true
}

func (n *Net) untrack(c *conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.conns, c)
	if c.dialed {
		if la := c.LocalAddr().String(); n.dialed[la] == c.node {
			delete(n.dialed, la)
		}
	}
}

// Endpoint is one node's access to a Net. It implements node.Network.
type Endpoint struct {
	net  *Net
	node string
}

// Node returns the endpoint's node id.
func (e *Endpoint) Node() string { return e.node }

// Register records the endpoint's node as the owner of addrs.
func (e *Endpoint) Register(addrs ...string) { e.net.Register(e.node, addrs...) }

// DialContext dials addr unless its owner is partitioned from this node;
// the connection is closed if a partition later separates them.
func (e *Endpoint) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if e.blockedAddr(addr) {
		return nil, fmt.Errorf("dial %s from %s: %w", addr, e.node, ErrPartitioned)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return e.dialed(raw, addr)
}

// dialed tracks raw, a connection this node dialed to addr; it fails if a
// partition separated them while dialing.
func (e *Endpoint) dialed(raw net.Conn, addr string) (net.Conn, error) {
	e.net.mu.Lock()
	peer := e.net.owner[addr]
	e.net.mu.Unlock()
	c := &conn{Conn: raw, net: e.net, node: e.node, peer: peer, dialed: true}
	if !e.net.track(c) {
		_ = raw.Close()
		return nil, fmt.Errorf("dial %s from %s: %w", addr, e.node, ErrPartitioned)
	}
	return c, nil
}

func (e *Endpoint) blockedAddr(addr string) bool {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	return e.net.blockedAddrLocked(e.node, addr)
}

// WrapListener returns l whose accepted connections are tracked: one from
// a node partitioned from this one is closed at once (or when a later
// partition separates them).
func (e *Endpoint) WrapListener(l net.Listener) net.Listener { return &listener{Listener: l, ep: e} }

type listener struct {
	net.Listener
	ep *Endpoint
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &conn{Conn: raw, net: l.ep.net, node: l.ep.node}
		if l.ep.net.track(c) {
			return c, nil
		}
		_ = raw.Close()
	}
}

// conn is a tracked connection of node; peer is the node at the other end
// when known at creation (dialed connections).
type conn struct {
	net.Conn
	net    *Net
	node   string
	peer   string
	dialed bool
	once   sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() { c.net.untrack(c) })
	return c.Conn.Close()
}
