package consensus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// newNetworkTransport is raft's TCP transport with its listener and dialer
// going through cfg.Network (plain TCP if nil) and, when cfg.ServerTLS is
// set, TLS on top of it: faults injected below TLS still cut Raft.
func newNetworkTransport(cfg Config, adv net.Addr, log hclog.Logger) (*raft.NetworkTransport, error) {
	nw := cfg.Network
	if nw == nil {
		nw = tcpNetwork{}
	}
	l, err := net.Listen("tcp", cfg.BindAddr)
	if err != nil {
		return nil, err
	}
	if adv == nil {
		adv = l.Addr()
	}
	if ta, ok := adv.(*net.TCPAddr); !ok || ta.IP == nil || ta.IP.IsUnspecified() {
		_ = l.Close()
		return nil, fmt.Errorf("advertise address %v is not a routable TCP address", adv)
	}
	wrapped := nw.WrapListener(l)
	if cfg.ServerTLS != nil {
		// The handshake runs lazily, on raft's per-connection goroutine at
		// its first read, so a client that stalls it holds no one else up;
		// a failed one ends that connection before raft decodes a byte.
		wrapped = &tlsListener{Listener: wrapped, cfg: cfg.ServerTLS}
	}
	sl := &streamLayer{Listener: wrapped, adv: adv, nw: nw, tls: cfg.ClientTLS}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  sl,
		MaxPool: tcpMaxPool,
		Timeout: tcpTimeout,
		Logger:  log,
	}), nil
}

// tlsHandshakeTimeout bounds an accepted connection's TLS handshake: a
// client that opens a connection and says nothing is dropped instead of
// holding a goroutine forever. A variable so that tests can shorten it.
var tlsHandshakeTimeout = 10 * time.Second

// tlsListener is tls.NewListener with a deadline on each handshake.
type tlsListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(tlsHandshakeTimeout))
	return &serverTLSConn{Conn: tls.Server(c, l.cfg)}, nil
}

// serverTLSConn completes its handshake, under the deadline Accept set, at
// its first read or write, then lifts the deadline (raft sets its own).
type serverTLSConn struct {
	*tls.Conn
	once sync.Once
	err  error
}

func (c *serverTLSConn) handshake() error {
	c.once.Do(func() {
		if c.err = c.Conn.Handshake(); c.err == nil {
			c.err = c.Conn.SetDeadline(time.Time{})
		}
	})
	return c.err
}

func (c *serverTLSConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *serverTLSConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// tcpNetwork is a Network of plain TCP.
type tcpNetwork struct{}

func (tcpNetwork) WrapListener(l net.Listener) net.Listener { return l }

func (tcpNetwork) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// streamLayer is a raft.StreamLayer over a Network, with TLS when tls is
// set.
type streamLayer struct {
	net.Listener
	adv net.Addr
	nw  Network
	tls *tls.Config // nil: plaintext
}

// Dial implements raft.StreamLayer. Over TLS it completes the handshake
// within timeout, so a peer that is not of the cluster fails the dial
// rather than a later write.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if addr == "" {
		return nil, errors.New("consensus: dial an empty raft address")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := s.nw.DialContext(ctx, "tcp", string(addr))
	if err != nil || s.tls == nil {
		return c, err
	}
	tc := tls.Client(c, s.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("consensus: TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// Addr implements net.Listener with the advertised address.
func (s *streamLayer) Addr() net.Addr { return s.adv }
