package membership

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
)

// fakeStore is an in-memory Store: a Raft configuration and a vbucket map
// with consensus's epoch rules.
type fakeStore struct {
	mu        sync.Mutex
	leader    bool
	servers   []consensus.Server
	vbmap     consensus.VBMap
	index     uint64
	changed   chan struct{}
	calls     []string
	mismatchN int   // the next mismatchN SetVBMap calls fail
	addErr    error // AddVoter/AddNonvoter fail with it when set
}

func newFakeStore(self string) *fakeStore {
	return &fakeStore{
		leader:  true,
		servers: []consensus.Server{{ID: self, Address: "raft-" + self, Suffrage: consensus.SuffrageVoter}},
		changed: make(chan struct{}),
	}
}

func (s *fakeStore) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *fakeStore) IsLeader() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader
}

func (s *fakeStore) setLeader(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leader = v
}

func (s *fakeStore) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *fakeStore) Servers() ([]consensus.Server, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.servers), nil
}

func (s *fakeStore) upsert(id, addr, suffrage string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("%s %s %s", suffrage, id, addr))
	if !s.leader {
		return consensus.ErrNotLeader
	}
	if s.addErr != nil {
		return s.addErr
	}
	for i := range s.servers {
		if s.servers[i].ID == id {
			s.servers[i].Address = addr
			if suffrage == consensus.SuffrageVoter {
				s.servers[i].Suffrage = suffrage
			}
			return nil
		}
	}
	s.servers = append(s.servers, consensus.Server{ID: id, Address: addr, Suffrage: suffrage})
	return nil
}

func (s *fakeStore) AddVoter(_ context.Context, id, addr string) error {
	return s.upsert(id, addr, consensus.SuffrageVoter)
}

func (s *fakeStore) AddNonvoter(_ context.Context, id, addr string) error {
	return s.upsert(id, addr, consensus.SuffrageNonvoter)
}

func (s *fakeStore) RemoveServer(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "remove "+id)
	if !s.leader {
		return consensus.ErrNotLeader
	}
	s.servers = slices.DeleteFunc(s.servers, func(sv consensus.Server) bool { return sv.ID == id })
	return nil
}

func (s *fakeStore) VBMap() consensus.VBMap {
	s.mu.Lock()
	defer s.mu.Unlock()
	return consensus.VBMap{Epoch: s.vbmap.Epoch, Owners: slices.Clone(s.vbmap.Owners), VBEpochs: slices.Clone(s.vbmap.VBEpochs)}
}

func (s *fakeStore) SetVBMap(_ context.Context, expect uint64, owners []string) (consensus.VBMap, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf("setvbmap %d", expect))
	if !s.leader {
		return consensus.VBMap{}, consensus.ErrNotLeader
	}
	if s.mismatchN > 0 {
		s.mismatchN--
		s.index++ // someone else's write
		s.vbmap.Epoch = s.index
		return consensus.VBMap{}, consensus.ErrVersionMismatch
	}
	if expect != s.vbmap.Epoch {
		return consensus.VBMap{}, consensus.ErrVersionMismatch
	}
	s.index++
	next := consensus.VBMap{Epoch: s.index, Owners: slices.Clone(owners), VBEpochs: make([]uint64, len(owners))}
	for vb := range owners {
		if vb >= len(s.vbmap.Owners) || s.vbmap.Owners[vb] != owners[vb] {
			next.VBEpochs[vb] = s.index
		} else {
			next.VBEpochs[vb] = s.vbmap.VBEpochs[vb]
		}
	}
	s.vbmap = next
	s.notifyLocked()
	return next, nil
}

func (s *fakeStore) server(id string) (consensus.Server, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sv := range s.servers {
		if sv.ID == id {
			return sv, true
		}
	}
	return consensus.Server{}, false
}

func (s *fakeStore) countCalls(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// fakeMembers is a settable membership view.
type fakeMembers struct {
	mu      sync.Mutex
	members map[string]Member
	changed chan struct{}
}

func newFakeMembers() *fakeMembers {
	return &fakeMembers{members: map[string]Member{}, changed: make(chan struct{})}
}

func (f *fakeMembers) Members() []Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Member, 0, len(f.members))
	for _, m := range f.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.NodeID, b.NodeID) })
	return out
}

func (f *fakeMembers) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// set puts members in state st (since now).
func (f *fakeMembers) set(st State, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		m := f.members[id]
		m.NodeID, m.RaftAddr, m.GRPCAddr = id, "raft-"+id, "grpc-"+id
		m.State, m.Since = st, time.Now()
		f.members[id] = m
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeMembers) setAddr(id, raftAddr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.members[id]
	m.RaftAddr = raftAddr
	f.members[id] = m
	close(f.changed)
	f.changed = make(chan struct{})
}

func mustCoordinator(t *testing.T, st Store, mem Members, failover time.Duration) *Coordinator {
	t.Helper()
	c, err := NewCoordinator(CoordinatorConfig{
		NodeID: "n1", Store: st, Members: mem, NumVBuckets: 1024,
		FailoverTimeout: failover, Interval: 50 * time.Millisecond, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runCoordinator(t *testing.T, c *Coordinator) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func ownerCounts(st *fakeStore) map[string]int {
	return countOwners(st.VBMap().Owners)
}

func balancedOver(st *fakeStore, ids ...string) bool {
	m := st.VBMap()
	if len(m.Owners) != 1024 {
		return false
	}
	c := countOwners(m.Owners)
	if len(c) != len(ids) {
		return false
	}
	for _, id := range ids {
		if n := c[id]; n < 1024/len(ids) || n > (1024+len(ids)-1)/len(ids) {
			return false
		}
	}
	return true
}

func voters(st *fakeStore) []string {
	servers, _ := st.Servers()
	var out []string
	for _, s := range servers {
		if s.Suffrage == consensus.SuffrageVoter {
			out = append(out, s.ID)
		}
	}
	slices.Sort(out)
	return out
}

func TestCoordinatorConfig_Validate(t *testing.T) {
	st, mem := newFakeStore("n1"), newFakeMembers()
	for name, cfg := range map[string]CoordinatorConfig{
		"no node":      {Store: st, Members: mem},
		"no store":     {NodeID: "n1", Members: mem},
		"no members":   {NodeID: "n1", Store: st},
		"bad vbuckets": {NodeID: "n1", Store: st, Members: mem, NumVBuckets: -1},
		"bad voters":   {NodeID: "n1", Store: st, Members: mem, MaxVoters: -1},
		"bad failover": {NodeID: "n1", Store: st, Members: mem, FailoverTimeout: -time.Second},
		"bad interval": {NodeID: "n1", Store: st, Members: mem, Interval: time.Microsecond},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewCoordinator(cfg); err == nil || !strings.HasPrefix(err.Error(), "cluster: invalid coordinator config") {
				t.Fatalf("NewCoordinator = %v, want a config error", err)
			}
		})
	}
}

func TestCoordinator_BootstrapCreatesTheMap(t *testing.T) {
	st, mem := newFakeStore("n1"), newFakeMembers()
	mem.set(StateAlive, "n1")
	c := mustCoordinator(t, st, mem, time.Second)
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := st.VBMap()
	if m.Epoch == 0 || !balancedOver(st, "n1") {
		t.Fatalf("map after the first pass: epoch %d, counts %v", m.Epoch, ownerCounts(st))
	}
	// Nothing changed: no further write.
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := st.countCalls("setvbmap"); n != 1 {
		t.Fatalf("%d map writes for an unchanged cluster, want 1", n)
	}
}

func TestCoordinator_NotLeaderDoesNothing(t *testing.T) {
	st, mem := newFakeStore("n1"), newFakeMembers()
	st.setLeader(false)
	mem.set(StateAlive, "n1", "n2", "n3")
	c := mustCoordinator(t, st, mem, time.Second)
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	calls := len(st.calls)
	st.mu.Unlock()
	if calls != 0 || st.VBMap().Epoch != 0 {
		t.Fatalf("a follower acted: calls %v", st.calls)
	}
	// It takes the duties up once it leads.
	st.setLeader(true)
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(voters(st), []string{"n1", "n2", "n3"}) || !balancedOver(st, "n1", "n2", "n3") {
		t.Fatalf("voters %v, counts %v", voters(st), ownerCounts(st))
	}
}

func TestCoordinator_Duties(t *testing.T) {
	const failover = 400 * time.Millisecond
	st, mem := newFakeStore("n1"), newFakeMembers()
	mem.set(StateAlive, "n1")
	c := mustCoordinator(t, st, mem, failover)
	runCoordinator(t, c)
	waitFor(t, 2*time.Second, "the initial map", func() bool { return balancedOver(st, "n1") })

	// Five more members: four voters (five with n1), then a non-voter.
	mem.set(StateAlive, "n2", "n3", "n4", "n5", "n6")
	waitFor(t, 2*time.Second, "six members in raft and in the map", func() bool {
		return balancedOver(st, "n1", "n2", "n3", "n4", "n5", "n6")
	})
	if v := voters(st); !slices.Equal(v, []string{"n1", "n2", "n3", "n4", "n5"}) {
		t.Fatalf("voters = %v", v)
	}
	if s, _ := st.server("n6"); s.Suffrage != consensus.SuffrageNonvoter || s.Address != "raft-n6" {
		t.Fatalf("n6 = %+v, want a non-voter at raft-n6", s)
	}

	// n2 leaves: removed from raft and from the map; n6 takes its vote.
	mem.set(StateLeft, "n2")
	waitFor(t, 2*time.Second, "n2 removed everywhere", func() bool {
		_, in := st.server("n2")
		return !in && balancedOver(st, "n1", "n3", "n4", "n5", "n6")
	})
	waitFor(t, 2*time.Second, "n6 promoted", func() bool {
		return slices.Equal(voters(st), []string{"n1", "n3", "n4", "n5", "n6"})
	})

	// n3 dies: nothing moves before the failover timeout, then its
	// vbuckets go to the survivors and it stays in raft.
	before := st.VBMap()
	died := time.Now()
	mem.set(StateDead, "n3")
	time.Sleep(failover / 2)
	if m := st.VBMap(); m.Epoch != before.Epoch {
		t.Fatalf("the map changed %s after n3 died, before the failover timeout", time.Since(died))
	}
	waitFor(t, 2*time.Second, "n3 failed over", func() bool { return balancedOver(st, "n1", "n4", "n5", "n6") })
	if d := time.Since(died); d < failover {
		t.Fatalf("failed over after %s, before the %s timeout", d, failover)
	}
	if _, in := st.server("n3"); !in {
		t.Fatal("a dead member was removed from raft; it must stay to rejoin")
	}
	after := st.VBMap()
	for vb, o := range before.Owners {
		if o != "n3" && after.Owners[vb] != o {
			t.Fatalf("vb %d moved from %s, which was not failed over", vb, o)
		}
		if after.Owners[vb] != before.Owners[vb] && after.VBEpochs[vb] != after.Epoch {
			t.Fatalf("moved vb %d kept epoch %d, want the new %d", vb, after.VBEpochs[vb], after.Epoch)
		}
	}

	// n3 comes back: it gets its share again.
	mem.set(StateAlive, "n3")
	waitFor(t, 2*time.Second, "n3's share back", func() bool { return balancedOver(st, "n1", "n3", "n4", "n5", "n6") })

	// A member restarted at another raft address is updated in place.
	mem.setAddr("n4", "raft-n4-new")
	waitFor(t, 2*time.Second, "n4's new address", func() bool {
		s, _ := st.server("n4")
		return s.Address == "raft-n4-new" && s.Suffrage == consensus.SuffrageVoter
	})
}

func TestCoordinator_DeadMemberReturningBeforeFailoverKeepsItsVBuckets(t *testing.T) {
	st, mem := newFakeStore("n1"), newFakeMembers()
	mem.set(StateAlive, "n1", "n2")
	c := mustCoordinator(t, st, mem, time.Hour)
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := st.VBMap()
	mem.set(StateDead, "n2")
	mem.set(StateAlive, "n3") // a join while n2 is pending failover waits
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st.VBMap().Epoch != before.Epoch {
		t.Fatal("the map changed while a member was dead but not failed over")
	}
	mem.set(StateAlive, "n2")
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := st.VBMap()
	if !balancedOver(st, "n1", "n2", "n3") {
		t.Fatalf("counts %v", ownerCounts(st))
	}
	if n := moved(before.Owners, after.Owners); n != 1024/3 {
		t.Fatalf("moved %d vbuckets to add n3, want %d", n, 1024/3)
	}
}

func TestCoordinator_UnknownOwnerFailsOverAfterTimeout(t *testing.T) {
	const failover = 300 * time.Millisecond
	st, mem := newFakeStore("n1"), newFakeMembers()
	// A map from before this node led: n9 owns half, and this node's
	// membership has never seen n9.
	owners := make([]string, 1024)
	for vb := range owners {
		owners[vb] = []string{"n1", "n9"}[vb%2]
	}
	if _, err := st.SetVBMap(context.Background(), 0, owners); err != nil {
		t.Fatal(err)
	}
	mem.set(StateAlive, "n1")
	c := mustCoordinator(t, st, mem, failover)
	start := time.Now()
	if err := c.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := ownerCounts(st); c["n9"] != 512 {
		t.Fatalf("n9's vbuckets moved at once: %v", c)
	}
	runCoordinator(t, c)
	waitFor(t, 2*time.Second, "n9 failed over", func() bool { return balancedOver(st, "n1") })
	if d := time.Since(start); d < failover {
		t.Fatalf("failed over after %s, before %s", d, failover)
	}
}

func TestCoordinator_RetriesAfterErrors(t *testing.T) {
	st, mem := newFakeStore("n1"), newFakeMembers()
	mem.set(StateAlive, "n1", "n2")
	st.mismatchN = 1
	st.addErr = errors.New("raft: busy")
	c := mustCoordinator(t, st, mem, time.Second)
	err := c.Reconcile(context.Background())
	if err == nil || !strings.Contains(err.Error(), "raft: busy") || !errors.Is(err, consensus.ErrVersionMismatch) {
		t.Fatalf("Reconcile = %v, want the AddVoter error and the map write's version mismatch", err)
	}
	st.mu.Lock()
	st.addErr = nil
	st.mu.Unlock()
	runCoordinator(t, c)
	waitFor(t, 2*time.Second, "the map over n1 and n2", func() bool { return balancedOver(st, "n1", "n2") })
	if n := st.countCalls("setvbmap"); n < 2 {
		t.Fatalf("%d map writes; the version mismatch must have been retried", n)
	}
}

func TestCoordinator_MapSizeMismatch(t *testing.T) {
	st, mem := newFakeStore("n1"), newFakeMembers()
	if _, err := st.SetVBMap(context.Background(), 0, make([]string, 64)); err != nil {
		t.Fatal(err)
	}
	mem.set(StateAlive, "n1")
	c := mustCoordinator(t, st, mem, time.Second)
	if err := c.Reconcile(context.Background()); err == nil || !strings.Contains(err.Error(), "64 vbuckets") {
		t.Fatalf("Reconcile = %v, want a vbucket count error", err)
	}
}
