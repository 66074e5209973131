package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"eventide/consensus"
	"eventide/handler"
	"eventide/proto/nodepb"
)

// Applier applies a log entry forwarded by a follower. The consensus store
// implements it on the leader; elsewhere it returns consensus.ErrNotLeader.
type Applier interface {
	// ApplyEntry proposes one encoded log entry and returns once it is
	// committed and applied, or why not.
	ApplyEntry(ctx context.Context, entry []byte) error
}

// Runtime is what this node reports about the functions it runs. Functions
// are named by location string (the consensus record name).
type Runtime interface {
	// AppLog returns the last size bytes of the function's application log
	// on this node, whole lines in file (oldest-first) order.
	AppLog(ctx context.Context, fn string, size int) (string, error)
	// StatsJSON returns the function's stats on this node as one JSON
	// object in the nested Couchbase shape; false if it has none here.
	StatsJSON(fn string) ([]byte, bool)
	// ResetStats zeroes the function's counters on this node.
	ResetStats(fn string) error
	// Insight returns the function's code insight on this node, by line
	// number of its code; empty if it has none here.
	Insight(fn string) map[int]handler.InsightLine
}

// Qinling reports this node's Qinling warm workers.
type Qinling interface {
	// LocalWorkers names the warm workers this node holds for version (0:
	// the latest code) of the function, sorted; none for a function it
	// does not know.
	LocalWorkers(functionID string, version int) []string
}

// Defaults of ServerConfig and ClientConfig.
const (
	// DefaultMaxMessageBytes bounds one message: the leader accepts
	// forwarded entries up to 128 MiB (twice consensus's largest command),
	// plus room for the request's own framing.
	DefaultMaxMessageBytes = 136 << 20
	// DefaultMaxAppLogBytes bounds one AppLog answer.
	DefaultMaxAppLogBytes = 16 << 20
	// maxFunctionsPerInsight bounds the functions named in one Insight
	// request.
	maxFunctionsPerInsight = 100_000
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Applier applies forwarded entries (the consensus store). Required.
	Applier Applier
	// Runtime reports on this node's functions (the eventing supervisor).
	// Required.
	Runtime Runtime
	// Qinling reports on this node's Qinling workers (the Qinling
	// service). Default nil: the node holds none.
	Qinling Qinling
	// MaxMessageBytes bounds a received or sent message; default
	// DefaultMaxMessageBytes (136 MiB). At least 1 MiB.
	MaxMessageBytes int
	// MaxAppLogBytes is the largest log tail one AppLog returns; larger
	// requests are cut to it. Default DefaultMaxAppLogBytes (16 MiB); at
	// most MaxMessageBytes less 64 KiB.
	MaxAppLogBytes int
	// Logger receives the server's logs. Default discard.
	Logger *slog.Logger
	// TLS, when set, serves over TLS with it: a connection that does not
	// complete the handshake (without a client certificate the config
	// accepts, when it requires one) reaches no service. The node always
	// sets it (mutual TLS with the cluster CA). Default nil: plaintext,
	// for this package's tests.
	TLS *tls.Config
}

// DefaultServerConfig returns the defaults; Applier and Runtime are left
// for the caller.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{MaxMessageBytes: DefaultMaxMessageBytes, MaxAppLogBytes: DefaultMaxAppLogBytes}
}

func (c ServerConfig) withDefaults() ServerConfig {
	d := DefaultServerConfig()
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.MaxAppLogBytes == 0 {
		c.MaxAppLogBytes = min(d.MaxAppLogBytes, c.MaxMessageBytes-64<<10)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every invalid setting. Zero values with a default are
// valid.
func (c ServerConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Applier == nil {
		errs = append(errs, errors.New("Applier is required"))
	}
	if c.Runtime == nil {
		errs = append(errs, errors.New("Runtime is required"))
	}
	if c.MaxMessageBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("MaxMessageBytes %d is below 1 MiB", c.MaxMessageBytes))
	}
	if c.MaxAppLogBytes < 1 || c.MaxAppLogBytes > c.MaxMessageBytes-64<<10 {
		errs = append(errs, fmt.Errorf("MaxAppLogBytes %d is not in [1, MaxMessageBytes-64KiB]", c.MaxAppLogBytes))
	}
	if len(errs) > 0 {
		return fmt.Errorf("rpc: invalid server config: %w", errors.Join(errs...))
	}
	return nil
}

// Server serves nodepb.Node over gRPC.
type Server struct {
	nodepb.UnimplementedNodeServer
	cfg  ServerConfig
	log  *slog.Logger
	grpc *grpc.Server

	stopOnce sync.Once
}

// NewServer validates cfg and builds a server; Serve starts it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "grpc")}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxMessageBytes),
		grpc.MaxSendMsgSize(cfg.MaxMessageBytes),
		// Clients ping every clientKeepaliveTime; allow it (and pings
		// without calls in flight) rather than closing the connection with
		// "too many pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             clientKeepaliveTime / 2,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    serverKeepaliveTime,
			Timeout: keepaliveTimeout,
		}),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	nodepb.RegisterNodeServer(s.grpc, s)
	return s, nil
}

// Serve serves on l until Stop; it returns nil after Stop.
func (s *Server) Serve(l net.Listener) error {
	err := s.grpc.Serve(l)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Stop stops accepting calls and waits for those in flight, or until ctx
// ends, when it cuts them off. Serve returns.
func (s *Server) Stop(ctx context.Context) {
	s.stopOnce.Do(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.grpc.GracefulStop()
		}()
		select {
		case <-done:
		case <-ctx.Done():
			s.grpc.Stop()
			<-done
		}
	})
}

// Forward implements nodepb.NodeServer.
func (s *Server) Forward(ctx context.Context, req *nodepb.ForwardRequest) (*nodepb.ForwardResponse, error) {
	if len(req.GetEntry()) == 0 {
		return nil, toStatus(fmt.Errorf("%w: empty log entry", consensus.ErrInvalid))
	}
	if err := s.cfg.Applier.ApplyEntry(ctx, req.GetEntry()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ForwardResponse{}, nil
}

// AppLog implements nodepb.NodeServer.
func (s *Server) AppLog(ctx context.Context, req *nodepb.AppLogRequest) (*nodepb.AppLogResponse, error) {
	if req.GetFunction() == "" {
		return nil, toStatus(fmt.Errorf("%w: function name is required", ErrInvalid))
	}
	if req.GetSize() <= 0 {
		return nil, toStatus(fmt.Errorf("%w: log size %d is not positive", ErrInvalid, req.GetSize()))
	}
	size := int(min(req.GetSize(), int64(s.cfg.MaxAppLogBytes)))
	text, err := s.cfg.Runtime.AppLog(ctx, req.GetFunction(), size)
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.AppLogResponse{Text: text}, nil
}

// FunctionStats implements nodepb.NodeServer.
func (s *Server) FunctionStats(_ context.Context, req *nodepb.FunctionStatsRequest) (*nodepb.FunctionStatsResponse, error) {
	if req.GetFunction() == "" {
		return nil, toStatus(fmt.Errorf("%w: function name is required", ErrInvalid))
	}
	b, ok := s.cfg.Runtime.StatsJSON(req.GetFunction())
	if !ok {
		return &nodepb.FunctionStatsResponse{}, nil
	}
	return &nodepb.FunctionStatsResponse{Found: true, StatsJson: b}, nil
}

// ResetStats implements nodepb.NodeServer.
func (s *Server) ResetStats(_ context.Context, req *nodepb.ResetStatsRequest) (*nodepb.ResetStatsResponse, error) {
	if req.GetFunction() == "" {
		return nil, toStatus(fmt.Errorf("%w: function name is required", ErrInvalid))
	}
	if err := s.cfg.Runtime.ResetStats(req.GetFunction()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ResetStatsResponse{}, nil
}

// Insight implements nodepb.NodeServer.
func (s *Server) Insight(_ context.Context, req *nodepb.InsightRequest) (*nodepb.InsightResponse, error) {
	fns := req.GetFunctions()
	if len(fns) > maxFunctionsPerInsight {
		return nil, toStatus(fmt.Errorf("%w: %d functions in one insight request (at most %d)", ErrInvalid, len(fns), maxFunctionsPerInsight))
	}
	for _, fn := range fns {
		if fn == "" {
			return nil, toStatus(fmt.Errorf("%w: empty function name", ErrInvalid))
		}
	}
	out := make(map[string]*nodepb.FunctionInsight, len(fns))
	for _, fn := range fns {
		out[fn] = insightToPB(s.cfg.Runtime.Insight(fn))
	}
	return &nodepb.InsightResponse{Functions: out}, nil
}

// QinlingWorkers implements nodepb.NodeServer.
func (s *Server) QinlingWorkers(_ context.Context, req *nodepb.QinlingWorkersRequest) (*nodepb.QinlingWorkersResponse, error) {
	if req.GetFunctionId() == "" {
		return nil, toStatus(fmt.Errorf("%w: function id is required", ErrInvalid))
	}
	if v := req.GetVersion(); v < 0 || v > math.MaxInt32 {
		return nil, toStatus(fmt.Errorf("%w: function version %d is out of range", ErrInvalid, v))
	}
	if s.cfg.Qinling == nil {
		return &nodepb.QinlingWorkersResponse{}, nil
	}
	return &nodepb.QinlingWorkersResponse{Names: s.cfg.Qinling.LocalWorkers(req.GetFunctionId(), int(req.GetVersion()))}, nil
}

// insightToPB encodes one function's insight, lines in ascending order.
func insightToPB(lines map[int]handler.InsightLine) *nodepb.FunctionInsight {
	fi := &nodepb.FunctionInsight{Lines: make([]*nodepb.InsightLine, 0, len(lines))}
	for _, n := range slices.Sorted(maps.Keys(lines)) {
		if n <= 0 || n > math.MaxInt32 {
			continue
		}
		l := lines[n]
		fi.Lines = append(fi.Lines, &nodepb.InsightLine{
			Line: int32(n), ErrorCount: l.ErrorCount, ErrorMsg: l.ErrorMsg, LastLog: l.LastLog,
		})
	}
	return fi
}

// insightFromPB decodes one function's insight. Lines that are not
// positive are dropped; a repeated line adds up as handler.MergeInsight
// merges (counts summed, the first non-empty texts kept).
func insightFromPB(fi *nodepb.FunctionInsight) map[int]handler.InsightLine {
	out := make(map[int]handler.InsightLine, len(fi.GetLines()))
	for _, l := range fi.GetLines() {
		n := int(l.GetLine())
		if n <= 0 {
			continue
		}
		m := out[n]
		m.ErrorCount += l.GetErrorCount()
		if m.ErrorMsg == "" {
			m.ErrorMsg = l.GetErrorMsg()
		}
		if m.LastLog == "" {
			m.LastLog = l.GetLastLog()
		}
		out[n] = m
	}
	return out
}

// Keepalive settings shared by the server and client.
const (
	// clientKeepaliveTime is how long a client connection stays idle before
	// it pings the peer, so a dead peer is noticed without a call.
	clientKeepaliveTime = 10 * time.Second
	// serverKeepaliveTime is the same for the server's side.
	serverKeepaliveTime = 30 * time.Second
	// keepaliveTimeout is how long a ping waits for its answer before the
	// connection is closed.
	keepaliveTimeout = 5 * time.Second
)
