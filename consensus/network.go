package consensus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// newNetworkTransport is raft's TCP transport with its listener and dialer
// going through nw (Config.Network).
func newNetworkTransport(bind string, adv net.Addr, nw Network, log hclog.Logger) (*raft.NetworkTransport, error) {
	l, err := net.Listen("tcp", bind)
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
	sl := &streamLayer{Listener: nw.WrapListener(l), adv: adv, nw: nw}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  sl,
		MaxPool: tcpMaxPool,
		Timeout: tcpTimeout,
		Logger:  log,
	}), nil
}

// streamLayer is a raft.StreamLayer over a Network.
type streamLayer struct {
	net.Listener
	adv net.Addr
	nw  Network
}

// Dial implements raft.StreamLayer.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if addr == "" {
		return nil, errors.New("consensus: dial an empty raft address")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.nw.DialContext(ctx, "tcp", string(addr))
}

// Addr implements net.Listener with the advertised address.
func (s *streamLayer) Addr() net.Addr { return s.adv }
