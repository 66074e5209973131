package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"eventide/handler"
	"eventide/proto/nodepb"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// MaxMessageBytes bounds a sent or received message; default
	// DefaultMaxMessageBytes (136 MiB). At least 1 MiB.
	MaxMessageBytes int
	// ReconnectMaxDelay caps the backoff between connection attempts to a
	// peer that is down, so a restarted peer is reached again quickly;
	// default 1s.
	ReconnectMaxDelay time.Duration
	// Logger receives the client's logs. Default discard.
	Logger *slog.Logger
	// Dialer, when set, opens the connections to peers (fault-injection
	// tests use it to cut the network). Default nil: plain TCP.
	Dialer func(ctx context.Context, addr string) (net.Conn, error)
	// TLS, when set, runs every connection over TLS with it, on top of
	// Dialer's connections. The node always sets it (mutual TLS with the
	// cluster CA). Default nil: plaintext, for this package's tests.
	TLS *tls.Config
}

// DefaultClientConfig returns the defaults.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{MaxMessageBytes: DefaultMaxMessageBytes, ReconnectMaxDelay: time.Second}
}

func (c ClientConfig) withDefaults() ClientConfig {
	d := DefaultClientConfig()
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.ReconnectMaxDelay == 0 {
		c.ReconnectMaxDelay = d.ReconnectMaxDelay
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every invalid setting. Zero values with a default are
// valid.
func (c ClientConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.MaxMessageBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("MaxMessageBytes %d is below 1 MiB", c.MaxMessageBytes))
	}
	if c.ReconnectMaxDelay < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("ReconnectMaxDelay %s is below 10ms", c.ReconnectMaxDelay))
	}
	if len(errs) > 0 {
		return fmt.Errorf("rpc: invalid client config: %w", errors.Join(errs...))
	}
	return nil
}

// Client calls peers' Node services. It keeps one connection per peer
// address, dialed on first use and kept (reconnecting by itself) until
// Forget or Close. Safe for concurrent use.
type Client struct {
	cfg ClientConfig
	log *slog.Logger

	// mu guards conns and closed.
	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

// NewClient validates cfg and returns a client with no connections yet.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Client{cfg: cfg, log: cfg.Logger.With("component", "grpc-client"), conns: make(map[string]*grpc.ClientConn)}, nil
}

// Node returns the Node client of the peer at addr (host:port), creating
// its connection on first use. The connection is made lazily by the first
// call; nothing is dialed here.
func (c *Client) Node(addr string) (nodepb.NodeClient, error) {
	cc, err := c.conn(addr)
	if err != nil {
		return nil, err
	}
	return nodepb.NewNodeClient(cc), nil
}

func (c *Client) conn(addr string) (*grpc.ClientConn, error) {
	if addr == "" {
		return nil, fmt.Errorf("%w: empty address", ErrUnknownPeer)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if cc := c.conns[addr]; cc != nil {
		return cc, nil
	}
	bc := backoff.DefaultConfig
	bc.BaseDelay = min(100*time.Millisecond, c.cfg.ReconnectMaxDelay)
	bc.MaxDelay = c.cfg.ReconnectMaxDelay
	creds := insecure.NewCredentials()
	if c.cfg.TLS != nil {
		creds = credentials.NewTLS(c.cfg.TLS)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 2 * time.Second}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                clientKeepaliveTime,
			Timeout:             keepaliveTimeout,
			PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(c.cfg.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(c.cfg.MaxMessageBytes),
		),
	}
	if c.cfg.Dialer != nil {
		opts = append(opts, grpc.WithContextDialer(c.cfg.Dialer))
	}
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: peer address %q: %v", ErrUnknownPeer, addr, err)
	}
	c.conns[addr] = cc
	return cc, nil
}

// Forget closes and drops the connection to addr (a peer that left for
// good); calls in flight on it fail. A later call dials again.
func (c *Client) Forget(addr string) {
	c.mu.Lock()
	cc := c.conns[addr]
	delete(c.conns, addr)
	c.mu.Unlock()
	if cc != nil {
		_ = cc.Close()
	}
}

// Close closes every connection; later calls return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	conns := c.conns
	c.conns = nil
	c.closed = true
	c.mu.Unlock()
	var errs []error
	for addr, cc := range conns {
		if err := cc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection to %s: %w", addr, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("rpc: close client: %w", errors.Join(errs...))
	}
	return nil
}

// AppLog returns the tail (at most size bytes, whole lines, oldest first)
// of the function's application log on the peer at addr.
func (c *Client) AppLog(ctx context.Context, addr, fn string, size int) (string, error) {
	if fn == "" || size <= 0 {
		return "", fmt.Errorf("%w: app log of %q with size %d", ErrInvalid, fn, size)
	}
	n, err := c.Node(addr)
	if err != nil {
		return "", err
	}
	resp, err := n.AppLog(ctx, &nodepb.AppLogRequest{Function: fn, Size: int64(size)})
	if err != nil {
		return "", fmt.Errorf("rpc: app log from %s: %w", addr, fromStatus(err))
	}
	return resp.GetText(), nil
}

// FunctionStats returns the peer's stats JSON for the function; false if
// the peer has none.
func (c *Client) FunctionStats(ctx context.Context, addr, fn string) ([]byte, bool, error) {
	if fn == "" {
		return nil, false, fmt.Errorf("%w: function name is required", ErrInvalid)
	}
	n, err := c.Node(addr)
	if err != nil {
		return nil, false, err
	}
	resp, err := n.FunctionStats(ctx, &nodepb.FunctionStatsRequest{Function: fn})
	if err != nil {
		return nil, false, fmt.Errorf("rpc: function stats from %s: %w", addr, fromStatus(err))
	}
	return resp.GetStatsJson(), resp.GetFound(), nil
}

// ResetStats zeroes the function's counters on the peer.
func (c *Client) ResetStats(ctx context.Context, addr, fn string) error {
	if fn == "" {
		return fmt.Errorf("%w: function name is required", ErrInvalid)
	}
	n, err := c.Node(addr)
	if err != nil {
		return err
	}
	if _, err := n.ResetStats(ctx, &nodepb.ResetStatsRequest{Function: fn}); err != nil {
		return fmt.Errorf("rpc: reset stats on %s: %w", addr, fromStatus(err))
	}
	return nil
}

// Insight returns the peer's code insight for each of fns (by line number
// of the function's code; empty for a function it has none of).
func (c *Client) Insight(ctx context.Context, addr string, fns []string) (map[string]map[int]handler.InsightLine, error) {
	n, err := c.Node(addr)
	if err != nil {
		return nil, err
	}
	resp, err := n.Insight(ctx, &nodepb.InsightRequest{Functions: fns})
	if err != nil {
		return nil, fmt.Errorf("rpc: insight from %s: %w", addr, fromStatus(err))
	}
	return insightAnswer(resp, fns), nil
}

// insightAnswer decodes an Insight response, with an entry for each of fns.
func insightAnswer(resp *nodepb.InsightResponse, fns []string) map[string]map[int]handler.InsightLine {
	out := make(map[string]map[int]handler.InsightLine, len(fns))
	for _, fn := range fns {
		out[fn] = insightFromPB(resp.GetFunctions()[fn])
	}
	return out
}
