// Package cluster is an eventide node's view of its cluster and the
// leader's duties in it.
//
// Membership runs hashicorp/memberlist: every node gossips its Meta (ids and
// addresses of its Raft, gRPC and REST listeners) and learns the others',
// and memberlist's failure detector tells alive, suspect, dead (stopped
// answering) and left (said goodbye) apart.
//
// Coordinator performs the Raft leader's duties from that view: every live
// member is in the Raft configuration (up to five voters, non-voters
// beyond), a member that left is removed from Raft and from the vbucket
// map, a member dead for longer than the failover timeout loses its
// vbuckets to the survivors (but stays in Raft, to rejoin with its data
// dir), and the vbucket map stays balanced (Balance).
package membership

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Sentinel errors.
var (
	// ErrMetaTooLarge: a node's Meta does not fit memberlist's 512 bytes.
	ErrMetaTooLarge = errors.New("cluster: node meta too large")
	// ErrInvalidMeta: gossiped node meta is not an eventide node's.
	ErrInvalidMeta = errors.New("cluster: invalid node meta")
	// ErrJoin: no seed of the join list could be reached in time.
	ErrJoin = errors.New("cluster: join failed")
	// ErrClosed: the membership is shut down.
	ErrClosed = errors.New("cluster: membership shut down")
)

// State is a member's state as this node sees it.
type State string

// Member states.
const (
	// StateAlive: the member answers probes, or is only suspected of not
	// answering (memberlist does not expose suspicion, and a suspect keeps
	// its duties until it is declared dead).
	StateAlive State = "alive"
	// StateDead: the member stopped answering (crashed, killed, cut off).
	StateDead State = "dead"
	// StateLeft: the member left gracefully (clean shutdown).
	StateLeft State = "left"
)

// Ports are a node's REST listener ports.
type Ports struct {
	Mgmt        int `json:"mgmt,omitempty"`
	Eventing    int `json:"ev,omitempty"`
	SyncGateway int `json:"sg,omitempty"`
	Query       int `json:"q,omitempty"`
}

// Meta is what a node tells the others about itself, gossiped as JSON in
// memberlist's node meta (at most 512 bytes).
type Meta struct {
	// NodeID is the node's id, the same as its Raft server id. Required;
	// it must equal Config.NodeID.
	NodeID string `json:"id"`
	// UUID is the node's UUID (hex), stable across restarts.
	UUID string `json:"uuid,omitempty"`
	// RaftAddr is the host:port peers dial for Raft. Required.
	RaftAddr string `json:"raft"`
	// GRPCAddr is the host:port of the node's gRPC server. Required.
	GRPCAddr string `json:"grpc"`
	// Ports are the node's REST ports; the host is the member's Host.
	Ports Ports `json:"ports"`
	// Services lists the Couchbase service names the node runs.
	Services []string `json:"svc,omitempty"`
}

// Encode returns the meta as gossiped, or ErrMetaTooLarge.
func (m Meta) Encode() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cluster: encode node meta: %w", err)
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMetaTooLarge, len(b), memberlist.MetaMaxSize)
	}
	return b, nil
}

// validate checks the fields every node must gossip.
func (m Meta) validate() error {
	var errs []error
	if m.NodeID == "" {
		errs = append(errs, errors.New("node id is empty"))
	}
	for what, addr := range map[string]string{"raft": m.RaftAddr, "grpc": m.GRPCAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%s address %q is not host:port", what, addr))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMeta, err)
	}
	return nil
}

// DecodeMeta parses gossiped meta.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, fmt.Errorf("%w: %v", ErrInvalidMeta, err)
	}
	return m, m.validate()
}

// Member is one node as this node sees it.
type Member struct {
	// Meta is the member's gossiped meta. For a member whose meta could not
	// be decoded only NodeID (its memberlist name) is set.
	Meta
	// Host is the member's advertised IP.
	Host string
	// GossipAddr is its memberlist host:port.
	GossipAddr string
	// State is its state; Since when this node saw that state begin.
	State State
	Since time.Time
	// Local is true for this node.
	Local bool
}

// Healthy reports whether the member is alive (not dead or left).
func (m Member) Healthy() bool { return m.State == StateAlive }

// Config configures a Membership.
type Config struct {
	// NodeID is the memberlist node name; it must equal Meta.NodeID.
	// Required.
	NodeID string
	// BindAddr is the IP gossip binds to (TCP and UDP). Required.
	BindAddr string
	// AdvertiseAddr is the IP peers reach; default BindAddr.
	AdvertiseAddr string
	// GossipPort is the gossip port; 0 picks a free one (see Addr).
	// Default in eventide 7946.
	GossipPort int
	// Join lists gossip addresses (host:port) of existing members; empty
	// starts alone.
	Join []string
	// Meta is gossiped to the others. NodeID, RaftAddr and GRPCAddr are
	// required.
	Meta Meta
	// ProbeInterval is how often a random member is probed; default
	// 500ms. With the suspicion settings below a killed node is declared
	// dead about 2–3 s after it stops answering.
	ProbeInterval time.Duration
	// JoinRetryMax caps the wait between join attempts; default 2s.
	JoinRetryMax time.Duration
	// GossipToTheDeadTime is how long memberlist keeps gossiping to a
	// member it declared dead, so that a member that was only cut off
	// hears of it and refutes; default 15s.
	GossipToTheDeadTime time.Duration
	// ReconnectInterval is how often this node tries to join again every
	// member it sees dead (not left), as serf does: after a partition
	// longer than GossipToTheDeadTime each side sees the other dead, and
	// memberlist never probes, gossips or syncs with a dead member again,
	// so without this the two sides would stay apart until a restart.
	// Default 1s.
	ReconnectInterval time.Duration
	// Logger receives membership and memberlist logs. Default discard.
	Logger *slog.Logger
	// GossipKey, when set, encrypts and authenticates all gossip (UDP
	// packets and TCP push/pull) with memberlist's keyring (AES-GCM; 16,
	// 24 or 32 bytes), and every unencrypted or foreign message is dropped:
	// a node without the key can neither join nor be heard. The node
	// always sets it (derived from the cluster secret). Default nil:
	// plaintext, for this package's tests.
	GossipKey []byte
	// WrapTransport, when set, wraps memberlist's UDP/TCP transport
	// (fault-injection tests filter gossip with it; internal/faultnet).
	// Default nil: memberlist's own transport.
	WrapTransport func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
}

// DefaultConfig returns the defaults; NodeID, BindAddr and Meta are left
// for the caller.
func DefaultConfig() Config {
	return Config{
		GossipPort: 7946, ProbeInterval: 500 * time.Millisecond, JoinRetryMax: 2 * time.Second,
		GossipToTheDeadTime: 15 * time.Second, ReconnectInterval: time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ProbeInterval == 0 {
		c.ProbeInterval = d.ProbeInterval
	}
	if c.JoinRetryMax == 0 {
		c.JoinRetryMax = d.JoinRetryMax
	}
	if c.GossipToTheDeadTime == 0 {
		c.GossipToTheDeadTime = d.GossipToTheDeadTime
	}
	if c.ReconnectInterval == 0 {
		c.ReconnectInterval = d.ReconnectInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("NodeID is required"))
	}
	if net.ParseIP(c.BindAddr) == nil {
		errs = append(errs, fmt.Errorf("BindAddr %q is not an IP address", c.BindAddr))
	}
	if c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil {
		errs = append(errs, fmt.Errorf("AdvertiseAddr %q is not an IP address", c.AdvertiseAddr))
	}
	if c.GossipPort < 0 || c.GossipPort > 65535 {
		errs = append(errs, fmt.Errorf("GossipPort %d out of range", c.GossipPort))
	}
	for _, j := range c.Join {
		if _, port, err := net.SplitHostPort(j); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("join address %q is not host:port", j))
		}
	}
	if err := c.Meta.validate(); err != nil {
		errs = append(errs, err)
	} else if c.Meta.NodeID != c.NodeID {
		errs = append(errs, fmt.Errorf("Meta.NodeID %q differs from NodeID %q", c.Meta.NodeID, c.NodeID))
	}
	if _, err := c.Meta.Encode(); err != nil {
		errs = append(errs, err)
	}
	if c.ProbeInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("ProbeInterval %s is below 10ms", c.ProbeInterval))
	}
	if c.JoinRetryMax < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("JoinRetryMax %s is below 10ms", c.JoinRetryMax))
	}
	if c.GossipToTheDeadTime < 0 {
		errs = append(errs, fmt.Errorf("GossipToTheDeadTime %s is negative", c.GossipToTheDeadTime))
	}
	if c.ReconnectInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("ReconnectInterval %s is below 10ms", c.ReconnectInterval))
	}
	if n := len(c.GossipKey); n != 0 && n != 16 && n != 24 && n != 32 {
		errs = append(errs, fmt.Errorf("GossipKey is %d bytes, want 16, 24 or 32", n))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: invalid config: %w", err)
	}
	return nil
}

// Membership is this node's memberlist instance and its view of the
// members, including dead and departed ones.
type Membership struct {
	cfg  Config
	log  *slog.Logger
	meta []byte
	ml   *memberlist.Memberlist

	// mu guards members, leaving, changed and down. memberlist calls the
	// event delegate under its own lock: nothing here calls memberlist
	// while holding mu.
	mu      sync.Mutex
	members map[string]*Member
	leaving map[string]bool // members that announced they are leaving
	changed chan struct{}   // closed and replaced on every change
	down    bool

	// lifeMu serialises Leave and Shutdown (memberlist panics on a Leave
	// after Shutdown).
	lifeMu sync.Mutex

	// The reconnect loop's owner: stopReconnect closes reconnectStop once
	// and waits for the loop (Leave and Shutdown call it).
	reconnectStop chan struct{}
	reconnectOnce sync.Once
	reconnectWG   sync.WaitGroup
}

// msgLeaving starts the user message a member sends every other member
// just before it leaves; its node id follows.
const msgLeaving byte = 1

// New validates cfg and starts memberlist (it binds the gossip port) with
// this node alone; Join joins the others.
func New(cfg Config) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	meta, _ := cfg.Meta.Encode()
	m := &Membership{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "membership"),
		meta:    meta,
		members: make(map[string]*Member),
		leaving: make(map[string]bool),
		changed: make(chan struct{}),
	}
	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.NodeID
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.GossipPort
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	mc.AdvertisePort = cfg.GossipPort
	// Tuned for a LAN or loopback: probe twice a second and declare a
	// silent node dead after SuspicionMult×ProbeInterval (×log10 of the
	// cluster size), at most twice that without confirmations from peers.
	mc.ProbeInterval = cfg.ProbeInterval
	mc.ProbeTimeout = cfg.ProbeInterval / 2
	mc.SuspicionMult = 3
	mc.SuspicionMaxTimeoutMult = 2
	mc.GossipInterval = 100 * time.Millisecond
	mc.TCPTimeout = 2 * time.Second
	mc.PushPullInterval = 15 * time.Second
	mc.GossipToTheDeadTime = cfg.GossipToTheDeadTime
	// A node restarted with another address (a new container IP, a test's
	// fresh port) takes its name back as soon as the old address is dead;
	// memberlist's default refuses it until the dead record is reaped. A
	// node id names one data dir, so the newcomer is the same node.
	mc.DeadNodeReclaimTime = time.Millisecond
	if len(cfg.GossipKey) > 0 {
		mc.SecretKey = cfg.GossipKey
		// Refuse plaintext both ways (memberlist's defaults today; set
		// here so that a change of default cannot open gossip up).
		mc.GossipVerifyIncoming = true
		mc.GossipVerifyOutgoing = true
	}
	mc.Delegate = (*delegate)(m)
	mc.Events = (*events)(m)
	mc.Conflict = (*events)(m)
	mc.Logger = slog.NewLogLogger(memberlistLogHandler{m.log.Handler()}, slog.LevelDebug)
	if cfg.WrapTransport != nil {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{cfg.BindAddr},
			BindPort:  cfg.GossipPort,
			Logger:    mc.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("cluster: gossip transport on %s: %w", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.GossipPort)), err)
		}
		if cfg.GossipPort == 0 {
			mc.BindPort = nt.GetAutoBindPort()
			mc.AdvertisePort = mc.BindPort
		}
		mc.Transport = cfg.WrapTransport(nt)
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		if mc.Transport != nil {
			_ = mc.Transport.Shutdown()
		}
		return nil, fmt.Errorf("cluster: start memberlist on %s: %w", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.GossipPort)), err)
	}
	m.ml = ml
	m.reconnectStop = make(chan struct{})
	m.reconnectWG.Add(1)
	go func() { defer m.reconnectWG.Done(); m.reconnect() }()
	return m, nil
}

// reconnect tries, every ReconnectInterval, to join each member this node
// sees dead (not left) at its gossip address, until stopReconnect. A join
// that reaches the member exchanges full state both ways: each side learns
// the other declared it dead, refutes, and both are alive again. Against a
// member that is really down a try costs one failed dial.
func (m *Membership) reconnect() {
	t := time.NewTicker(m.cfg.ReconnectInterval)
	defer t.Stop()
	for {
		select {
		case <-m.reconnectStop:
			return
		case <-t.C:
		}
		for _, mem := range m.Members() {
			if mem.Local || mem.State != StateDead || mem.GossipAddr == "" {
				continue
			}
			select {
			case <-m.reconnectStop:
				return
			default:
			}
			if n, err := m.ml.Join([]string{mem.GossipAddr}); n > 0 {
				m.log.Info("reached a member seen dead; rejoining it", "member", mem.NodeID, "addr", mem.GossipAddr)
			} else {
				m.log.Debug("member seen dead is still unreachable", "member", mem.NodeID, "addr", mem.GossipAddr, "err", err)
			}
		}
	}
}

// stopReconnect stops the reconnect loop and waits for it: a node that
// leaves or shuts down must not join anyone again.
func (m *Membership) stopReconnect() {
	m.reconnectOnce.Do(func() { close(m.reconnectStop) })
	m.reconnectWG.Wait()
}

// Addr returns the gossip address peers join (advertised host:port).
func (m *Membership) Addr() string { return m.ml.LocalNode().Address() }

// Join joins the cluster through cfg.Join, retrying with backoff while no
// seed answers (it may not be up yet) until ctx ends. It is a no-op without
// seeds.
func (m *Membership) Join(ctx context.Context) error {
	if len(m.cfg.Join) == 0 {
		return nil
	}
	wait := 100 * time.Millisecond
	for {
		if m.isDown() {
			return ErrClosed
		}
		n, err := m.ml.Join(m.cfg.Join)
		if n > 0 {
			m.log.Info("joined the cluster", "seeds", m.cfg.Join, "reached", n, "members", m.ml.NumMembers())
			return nil
		}
		m.log.Debug("join attempt failed", "seeds", m.cfg.Join, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: no seed of %v answered: %v (%w)", ErrJoin, m.cfg.Join, err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, m.cfg.JoinRetryMax)
	}
}

// Leave tells the others this node is leaving, so that they mark it left
// rather than dead, and waits up to timeout for that to spread. Call
// Shutdown after it.
//
// memberlist's own leave broadcast reaches the event delegate just like a
// failure (the state it carries is not set on the Node handed to the
// delegate), so every live member is first told over TCP that this node
// is leaving; a member that misses it sees the node dead.
func (m *Membership) Leave(timeout time.Duration) error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.isDown() {
		return ErrClosed
	}
	m.stopReconnect()
	m.mu.Lock()
	m.leaving[m.cfg.NodeID] = true
	m.mu.Unlock()
	msg := append([]byte{msgLeaving}, m.cfg.NodeID...)
	var wg sync.WaitGroup
	for _, n := range m.ml.Members() {
		if n.Name == m.cfg.NodeID {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.ml.SendReliable(n, msg); err != nil {
				m.log.Warn("cannot announce leaving", "member", n.Name, "err", err)
			}
		}()
	}
	sent := make(chan struct{})
	go func() { wg.Wait(); close(sent) }()
	start := time.Now()
	select {
	case <-sent:
	case <-time.After(timeout):
		m.log.Warn("announcing leaving timed out", "timeout", timeout)
	}
	if err := m.ml.Leave(max(timeout-time.Since(start), 100*time.Millisecond)); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	m.log.Info("left the cluster")
	return nil
}

// Shutdown stops gossip. Without a Leave first the others see this node
// dead after their failure detector's timeout. Later calls return nil.
func (m *Membership) Shutdown() error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.isDown() {
		return nil
	}
	m.stopReconnect()
	m.mu.Lock()
	m.down = true
	m.mu.Unlock()
	err := m.ml.Shutdown()
	m.notify()
	if err != nil {
		return fmt.Errorf("cluster: shutdown memberlist: %w", err)
	}
	return nil
}

func (m *Membership) isDown() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.down
}

// Changed returns a channel closed at the next change of the members
// (joined, meta updated, dead, left) or at Shutdown. Take it before reading
// Members, so that no change is missed.
func (m *Membership) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// notify wakes the waiters of Changed.
func (m *Membership) notify() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notifyLocked()
}

func (m *Membership) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Members returns every member this node knows of, itself included, dead
// and left ones too, sorted by node id.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members))
	for _, rec := range m.members {
		c := *rec
		c.Services = slices.Clone(rec.Services)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.NodeID, b.NodeID) })
	return out
}

// Member returns one member by node id.
func (m *Membership) Member(id string) (Member, bool) {
	for _, mem := range m.Members() {
		if mem.NodeID == id {
			return mem, true
		}
	}
	return Member{}, false
}

// GRPCAddr returns a member's gRPC address (it implements rpc.Resolver).
// Members that left are unknown.
func (m *Membership) GRPCAddr(id string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.members[id]
	if rec == nil || rec.State == StateLeft || rec.GRPCAddr == "" {
		return "", false
	}
	return rec.GRPCAddr, true
}

// observe records a member's state from a memberlist event.
func (m *Membership) observe(n *memberlist.Node, st State) {
	meta, err := DecodeMeta(n.Meta)
	switch {
	case err != nil:
		m.log.Warn("member gossips meta that is not an eventide node's", "member", n.Name, "addr", n.Address(), "err", err)
		meta = Meta{NodeID: n.Name}
	case meta.NodeID != n.Name:
		m.log.Warn("member's meta names another node; ignoring it", "member", n.Name, "meta_id", meta.NodeID)
		meta = Meta{NodeID: n.Name}
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.members[n.Name]
	if rec == nil {
		rec = &Member{Local: n.Name == m.cfg.NodeID}
		m.members[n.Name] = rec
	}
	if st == StateAlive {
		delete(m.leaving, n.Name) // back after leaving
	} else if st == StateDead && m.leaving[n.Name] {
		st = StateLeft
	}
	prev := rec.State
	rec.Meta = meta
	rec.Host = n.Addr.String()
	rec.GossipAddr = n.Address()
	if st != prev {
		rec.State, rec.Since = st, now
		m.log.Info("member state", "member", n.Name, "addr", rec.GossipAddr, "from", string(prev), "to", string(st))
	}
	m.notifyLocked()
}

// events receives memberlist's membership events.
type events Membership

func (e *events) NotifyJoin(n *memberlist.Node)   { (*Membership)(e).observe(n, StateAlive) }
func (e *events) NotifyUpdate(n *memberlist.Node) { (*Membership)(e).observe(n, StateAlive) }
func (e *events) NotifyLeave(n *memberlist.Node)  { (*Membership)(e).observe(n, StateDead) }

// NotifyConflict is called when another node claims this node's name.
func (e *events) NotifyConflict(existing, other *memberlist.Node) {
	e.log.Error("two nodes use the same node id", "node", existing.Name, "addr", existing.Address(), "other_addr", other.Address())
}

// delegate hands memberlist this node's meta; eventide gossips nothing
// else.
type delegate Membership

func (d *delegate) NodeMeta(limit int) []byte {
	if len(d.meta) > limit {
		return nil // Validate keeps meta within MetaMaxSize
	}
	return d.meta
}

// NotifyMsg receives user messages: a member announcing it is leaving.
func (d *delegate) NotifyMsg(b []byte) {
	if len(b) < 2 || b[0] != msgLeaving {
		d.log.Warn("unknown gossip message", "len", len(b))
		return
	}
	name := string(b[1:]) // copies: memberlist reuses b
	d.mu.Lock()
	d.leaving[name] = true
	d.mu.Unlock()
	d.log.Info("member announced it is leaving", "member", name)
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

// memberlistLogHandler turns memberlist's "[LEVEL] memberlist: msg" lines
// (written through slog.NewLogLogger at Debug) into records at their own
// level, without the prefix.
type memberlistLogHandler struct{ h slog.Handler }

func (l memberlistLogHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	// The level is only known from the line: let every line through to
	// Handle, which checks the real one.
	return true
}

func (l memberlistLogHandler) Handle(ctx context.Context, r slog.Record) error {
	msg, level := r.Message, slog.LevelInfo
	for prefix, lv := range map[string]slog.Level{
		"[DEBUG] ": slog.LevelDebug, "[INFO] ": slog.LevelInfo, "[WARN] ": slog.LevelWarn, "[ERR] ": slog.LevelError, "[ERROR] ": slog.LevelError,
	} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			msg, level = rest, lv
			break
		}
	}
	msg = strings.TrimPrefix(msg, "memberlist: ")
	if !l.h.Enabled(ctx, level) {
		return nil
	}
	nr := slog.NewRecord(r.Time, level, msg, r.PC)
	nr.AddAttrs(slog.String("lib", "memberlist"))
	return l.h.Handle(ctx, nr)
}

func (l memberlistLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return memberlistLogHandler{l.h.WithAttrs(as)}
}

func (l memberlistLogHandler) WithGroup(name string) slog.Handler {
	return memberlistLogHandler{l.h.WithGroup(name)}
}
