package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"eventide/consensus"
)

// Store is what the Coordinator needs of the replicated store; the
// consensus store implements it.
type Store interface {
	// IsLeader reports whether this node is the Raft leader.
	IsLeader() bool
	// Changed returns a channel closed at the next change of the
	// replicated records.
	Changed() <-chan struct{}
	// Servers returns the Raft configuration.
	Servers() ([]consensus.Server, error)
	// AddVoter adds or promotes a voter, or updates its address.
	AddVoter(ctx context.Context, id, addr string) error
	// AddNonvoter adds a non-voting member.
	AddNonvoter(ctx context.Context, id, addr string) error
	// RemoveServer removes a member from the Raft configuration.
	RemoveServer(ctx context.Context, id string) error
	// VBMap returns the vbucket map (Epoch 0: none yet).
	VBMap() consensus.VBMap
	// SetVBMap replaces the map if its Epoch is still expectEpoch.
	SetVBMap(ctx context.Context, expectEpoch uint64, owners []string) (consensus.VBMap, error)
}

// Members is the membership view the Coordinator acts on; *Membership
// implements it.
type Members interface {
	// Members returns every known member, dead and left ones included.
	Members() []Member
	// Changed returns a channel closed at the next change of the members.
	Changed() <-chan struct{}
}

var (
	_ Store   = (*consensus.Store)(nil)
	_ Members = (*Membership)(nil)
)

// CoordinatorConfig configures a Coordinator.
type CoordinatorConfig struct {
	// NodeID is this node's id. Required.
	NodeID string
	// Store is the local replicated store. Required.
	Store Store
	// Members is this node's membership view. Required.
	Members Members
	// NumVBuckets is the vbucket count of the map; default 1024. It must
	// equal the store's.
	NumVBuckets int
	// MaxVoters is the most Raft voters; members beyond join as
	// non-voters. Default 5.
	MaxVoters int
	// FailoverTimeout is how long a member stays dead before its vbuckets
	// move to the survivors. Default 5s.
	FailoverTimeout time.Duration
	// Interval is how often the duties are re-evaluated without an event;
	// default 1s.
	Interval time.Duration
	// CallTimeout bounds each Raft configuration change and map write;
	// default 10s.
	CallTimeout time.Duration
	// Logger receives the coordinator's logs. Default discard.
	Logger *slog.Logger
}

// DefaultCoordinatorConfig returns the defaults; NodeID, Store and Members
// are left for the caller.
func DefaultCoordinatorConfig() CoordinatorConfig {
	return CoordinatorConfig{
		NumVBuckets:     1024,
		MaxVoters:       5,
		FailoverTimeout: 5 * time.Second,
		Interval:        time.Second,
		CallTimeout:     10 * time.Second,
	}
}

func (c CoordinatorConfig) withDefaults() CoordinatorConfig {
	d := DefaultCoordinatorConfig()
	if c.NumVBuckets == 0 {
		c.NumVBuckets = d.NumVBuckets
	}
	if c.MaxVoters == 0 {
		c.MaxVoters = d.MaxVoters
	}
	if c.FailoverTimeout == 0 {
		c.FailoverTimeout = d.FailoverTimeout
	}
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = d.CallTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every invalid setting.
func (c CoordinatorConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("NodeID is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if c.Members == nil {
		errs = append(errs, errors.New("Members is required"))
	}
	if c.NumVBuckets < 1 || c.NumVBuckets > 1<<15 {
		errs = append(errs, fmt.Errorf("NumVBuckets %d is not in [1, 32768]", c.NumVBuckets))
	}
	if c.MaxVoters < 1 {
		errs = append(errs, fmt.Errorf("MaxVoters %d is not positive", c.MaxVoters))
	}
	if c.FailoverTimeout < 0 {
		errs = append(errs, fmt.Errorf("FailoverTimeout %s is negative", c.FailoverTimeout))
	}
	if c.Interval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("Interval %s is below 10ms", c.Interval))
	}
	if c.CallTimeout < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("CallTimeout %s is below 10ms", c.CallTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: invalid coordinator config: %w", err)
	}
	return nil
}

// Coordinator performs the Raft leader's duties; it acts only while the
// local store leads:
//
//   - every alive member is in the Raft configuration, as a voter while
//     there are fewer than MaxVoters, else as a non-voter (promoted when a
//     voter goes);
//   - a member that left gracefully is removed from Raft and from the
//     vbucket map;
//   - a member dead for longer than FailoverTimeout is failed over: its
//     vbuckets go to the survivors; it stays in Raft so that it can rejoin
//     with its data dir, and gets its share back when it is alive again;
//   - the vbucket map stays balanced over the alive members that are in
//     the Raft configuration (Balance). While a member that owns vbuckets
//     is dead but not yet failed over, the map is left as it is, so that no
//     vbucket moves twice. The first leader creates the map.
//
// A member that the leader's membership does not know at all but that owns
// vbuckets (the leader restarted and never saw it) counts as dead since
// this node became leader.
type Coordinator struct {
	cfg CoordinatorConfig
	log *slog.Logger

	// mu serialises passes (Run's loop and Reconcile) and guards
	// leaderSince.
	mu          sync.Mutex
	leaderSince time.Time // zero while not leader
}

// NewCoordinator validates cfg and returns a Coordinator; Run starts it.
func NewCoordinator(cfg CoordinatorConfig) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Coordinator{cfg: cfg, log: cfg.Logger.With("component", "coordinator")}, nil
}

// Run performs the duties until ctx ends, re-evaluating on membership
// changes, store changes, every Interval, and when a dead member's
// failover is due.
func (c *Coordinator) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Take the change channels before reading, so no change is missed.
		memCh, storeCh := c.cfg.Members.Changed(), c.cfg.Store.Changed()
		wait := c.cfg.Interval
		due, err := c.pass(ctx)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("leader duties", "err", err)
			wait = min(wait, 200*time.Millisecond) // retry soon
		}
		if !due.IsZero() {
			wait = min(wait, max(time.Until(due), time.Millisecond))
		}
		timer.Reset(wait) // Go ≥ 1.23: no stale tick survives Reset
		select {
		case <-ctx.Done():
			return
		case <-memCh:
		case <-storeCh:
		case <-timer.C:
		}
	}
}

// Reconcile performs one pass of the duties now (a no-op unless this node
// leads). A node calls it once it leads at start-up so that a new cluster
// has its vbucket map before anything needs it.
func (c *Coordinator) Reconcile(ctx context.Context) error {
	_, err := c.pass(ctx)
	return err
}

// pass performs the duties once; due is when a pending failover falls due
// (zero if none).
func (c *Coordinator) pass(ctx context.Context) (due time.Time, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.cfg.Store
	if !st.IsLeader() {
		if !c.leaderSince.IsZero() {
			c.log.Info("no longer leader; leader duties paused")
		}
		c.leaderSince = time.Time{}
		return time.Time{}, nil
	}
	if c.leaderSince.IsZero() {
		c.leaderSince = time.Now()
		c.log.Info("leader; taking up the leader duties")
	}
	members := c.cfg.Members.Members()
	servers, rerr := c.raftMembership(ctx, members)
	if servers == nil {
		return time.Time{}, rerr
	}
	// A failed configuration change does not hold up the map: failover
	// must not wait for a newcomer's AddVoter.
	due, verr := c.vbuckets(ctx, members, servers)
	return due, errors.Join(rerr, verr)
}

// raftMembership adds alive members to the Raft configuration, promotes
// non-voters while there is room and removes members that left. It
// returns the configuration as it stands afterwards (nil if it cannot be
// read) and the changes that failed.
func (c *Coordinator) raftMembership(ctx context.Context, members []Member) ([]consensus.Server, error) {
	st := c.cfg.Store
	servers, err := st.Servers()
	if err != nil {
		return nil, fmt.Errorf("cluster: read raft configuration: %w", err)
	}
	byID := make(map[string]consensus.Server, len(servers))
	voters := 0
	for _, s := range servers {
		byID[s.ID] = s
		if s.Suffrage != consensus.SuffrageNonvoter {
			voters++
		}
	}
	var errs []error
	changed := false
	change := func(what, id string, f func(ctx context.Context) error) bool {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		if err := f(cctx); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", what, id, err))
			return false
		}
		c.log.Info("raft configuration changed", "change", what, "member", id)
		changed = true
		return true
	}

	// Members that left first: they free voter places.
	for _, m := range members {
		s, in := byID[m.NodeID]
		if m.State != StateLeft || !in || m.NodeID == c.cfg.NodeID {
			continue
		}
		if change("remove", m.NodeID, func(ctx context.Context) error { return st.RemoveServer(ctx, m.NodeID) }) {
			delete(byID, m.NodeID)
			if s.Suffrage != consensus.SuffrageNonvoter {
				voters--
			}
		}
	}
	// Alive members not in the configuration, or at a new address.
	for _, m := range members {
		if m.State != StateAlive || m.NodeID == c.cfg.NodeID || m.RaftAddr == "" {
			continue
		}
		s, in := byID[m.NodeID]
		switch {
		case !in && voters < c.cfg.MaxVoters:
			if change("add voter", m.NodeID, func(ctx context.Context) error { return st.AddVoter(ctx, m.NodeID, m.RaftAddr) }) {
				voters++
			}
		case !in:
			change("add non-voter", m.NodeID, func(ctx context.Context) error { return st.AddNonvoter(ctx, m.NodeID, m.RaftAddr) })
		case s.Address != m.RaftAddr && s.Suffrage == consensus.SuffrageNonvoter:
			change("update non-voter address", m.NodeID, func(ctx context.Context) error { return st.AddNonvoter(ctx, m.NodeID, m.RaftAddr) })
		case s.Address != m.RaftAddr:
			change("update voter address", m.NodeID, func(ctx context.Context) error { return st.AddVoter(ctx, m.NodeID, m.RaftAddr) })
		}
	}
	// Promote alive non-voters while there is room, in id order.
	for _, m := range members {
		if voters >= c.cfg.MaxVoters {
			break
		}
		s, in := byID[m.NodeID]
		if !in || s.Suffrage != consensus.SuffrageNonvoter || m.State != StateAlive || m.RaftAddr == "" {
			continue
		}
		if change("promote to voter", m.NodeID, func(ctx context.Context) error { return st.AddVoter(ctx, m.NodeID, m.RaftAddr) }) {
			voters++
		}
	}
	if changed {
		now, err := st.Servers()
		if err != nil {
			return nil, fmt.Errorf("cluster: read raft configuration: %w", errors.Join(append(errs, err)...))
		}
		servers = now
	}
	if err := errors.Join(errs...); err != nil {
		return servers, fmt.Errorf("cluster: raft membership: %w", err)
	}
	return servers, nil
}

// vbuckets keeps the vbucket map balanced over the eligible members.
func (c *Coordinator) vbuckets(ctx context.Context, members []Member, servers []consensus.Server) (due time.Time, err error) {
	st := c.cfg.Store
	cur := st.VBMap()
	owners := cur.Owners
	if cur.Epoch == 0 || len(owners) == 0 {
		owners = make([]string, c.cfg.NumVBuckets)
	}
	if len(owners) != c.cfg.NumVBuckets {
		return time.Time{}, fmt.Errorf("cluster: the vbucket map has %d vbuckets, configured %d", len(owners), c.cfg.NumVBuckets)
	}
	inRaft := make(map[string]bool, len(servers))
	for _, s := range servers {
		inRaft[s.ID] = true
	}
	owns := make(map[string]int)
	for _, o := range owners {
		if o != "" {
			owns[o]++
		}
	}

	now := time.Now()
	nodes := []string{c.cfg.NodeID}
	known := map[string]bool{c.cfg.NodeID: true}
	for _, m := range members {
		known[m.NodeID] = true
		if m.NodeID == c.cfg.NodeID {
			continue
		}
		switch m.State {
		case StateAlive:
			if inRaft[m.NodeID] {
				nodes = append(nodes, m.NodeID)
			}
		case StateDead:
			if owns[m.NodeID] == 0 {
				continue
			}
			if at := m.Since.Add(c.cfg.FailoverTimeout); now.Before(at) {
				due = earliest(due, at)
			}
		}
	}
	// Owners this node never saw in its membership: dead since it leads.
	for o := range owns {
		if !known[o] {
			if at := c.leaderSince.Add(c.cfg.FailoverTimeout); now.Before(at) {
				due = earliest(due, at)
			}
		}
	}
	if !due.IsZero() {
		return due, nil // a failover is pending: leave the map as it is
	}
	next := Balance(owners, nodes)
	if cur.Epoch != 0 && slices.Equal(next, cur.Owners) {
		return time.Time{}, nil
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	m, err := st.SetVBMap(cctx, cur.Epoch, next)
	if err != nil {
		return time.Time{}, fmt.Errorf("cluster: write the vbucket map (epoch %d): %w", cur.Epoch, err)
	}
	c.log.Info("vbucket map updated", "epoch", m.Epoch, "nodes", nodes, "moved", moved(owners, next), "per_node", countOwners(next))
	return time.Time{}, nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func moved(before, after []string) int {
	n := 0
	for vb := range before {
		if before[vb] != after[vb] {
			n++
		}
	}
	return n
}

func countOwners(owners []string) map[string]int {
	c := make(map[string]int)
	for _, o := range owners {
		c[o]++
	}
	return c
}
