//go:build chaos

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// failoverTimeout is the nodes' --failover-timeout (docker-compose.yml
// keeps the default).
const failoverTimeout = 5 * time.Second

// function is the name of the counting function every scenario deploys.
const function = "counter"

// countingCode counts, per source document, how often it was handled, and
// sets a timer per document whose callback counts how often it fired: the
// faults hit timers pending in every vbucket too.
const countingCode = `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  dst[meta.id] = {n: prev ? prev.n + 1 : 1};
  createTimer(Fired, new Date(Date.now() + 1000), meta.id, {id: meta.id});
}
function Fired(ctx) {
  var prev = fired[ctx.id];
  fired[ctx.id] = {n: prev ? prev.n + 1 : 1};
}`

// counterDefinition is the counting function's definition: src to dst,
// metadata in meta, two workers per node, from the first mutation.
func counterDefinition() map[string]any {
	return map[string]any{
		"appname": function,
		"appcode": countingCode,
		"depcfg": map[string]any{
			"source_bucket": "src", "source_scope": "_default", "source_collection": "_default",
			"metadata_bucket": "meta", "metadata_scope": "_default", "metadata_collection": "_default",
			"buckets": []map[string]any{{
				"alias": "dst", "bucket_name": "dst", "scope_name": "_default",
				"collection_name": "_default", "access": "rw",
			}, {
				"alias": "fired", "bucket_name": "fired", "scope_name": "_default",
				"collection_name": "_default", "access": "rw",
			}},
		},
		"settings": map[string]any{"dcp_stream_boundary": "everything", "worker_count": 2},
	}
}

// setup starts a fresh cluster, creates the buckets through n1, creates
// the counting function through n1 and deploys it through n2, and waits
// until it runs on all three nodes.
func setup(t *testing.T) (*stack, *workload) {
	t.Helper()
	s := newStack(t)
	ctx := t.Context()
	n1, n2, n3 := s.nodes[0].api, s.nodes[1].api, s.nodes[2].api
	for _, b := range []string{"src", "dst", "fired", "meta"} {
		if err := n1.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := n1.CreateFunction(ctx, function, counterDefinition()); err != nil {
		t.Fatal(err)
	}
	if err := n2.Lifecycle(ctx, function, "deploy"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the function to be deployed", func() error {
		st, err := n3.Status(ctx, function)
		if err != nil {
			return err
		}
		if st.App.CompositeStatus != "deployed" {
			return fmt.Errorf("composite status %s", st.App.CompositeStatus)
		}
		return nil
	})
	s.waitHealthy(time.Minute, true)
	return s, newWorkload(t, s)
}

// health reports why the cluster, seen through the given nodes, is not
// healthy: each node must list three healthy nodes and the same node list
// and Raft leader; with deployed set, each must also show the same
// vbucket map, with every vbucket owned and every node owning some, and
// the function deployed on all three nodes.
func (s *stack) health(ctx context.Context, nodes []*member, deployed bool) error {
	var first string
	for _, m := range nodes {
		p, err := m.api.Pool(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		if len(p.Nodes) != len(s.nodes) || p.Healthy() != len(s.nodes) || p.RaftLeader == "" {
			return fmt.Errorf("%s sees %s", m, p.Key())
		}
		if first == "" {
			first = p.Key()
		} else if p.Key() != first {
			return fmt.Errorf("nodes disagree: %s sees %s, %s sees %s", nodes[0], first, m, p.Key())
		}
	}
	if !deployed {
		return nil
	}
	var firstMap []string
	for _, m := range nodes {
		owners, err := m.api.VBOwners(ctx, "src")
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		count := make(map[string]int)
		for vb, o := range owners {
			if o == "" {
				return fmt.Errorf("%s: vbucket %d has no owner", m, vb)
			}
			count[o]++
		}
		for _, n := range s.nodes {
			if count[n.ip] == 0 {
				return fmt.Errorf("%s: %s owns no vbucket (%v)", m, n, count)
			}
		}
		if firstMap == nil {
			firstMap = owners
		} else if !slices.Equal(owners, firstMap) {
			return fmt.Errorf("nodes disagree on the vbucket map: %s and %s", nodes[0], m)
		}
		st, err := m.api.Status(ctx, function)
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		if st.App.CompositeStatus != "deployed" || st.App.NumDeployedNodes != len(s.nodes) || st.NumEventingNodes != len(s.nodes) {
			return fmt.Errorf("%s: function %s on %d of %d eventing nodes", m, st.App.CompositeStatus, st.App.NumDeployedNodes, st.NumEventingNodes)
		}
	}
	return nil
}

// waitHealthy waits until every node agrees the cluster is healthy and
// returns how long that took.
func (s *stack) waitHealthy(timeout time.Duration, deployed bool) time.Duration {
	s.t.Helper()
	return waitFor(s.t, timeout, "a healthy cluster", func() error {
		return s.health(s.t.Context(), s.nodes, deployed)
	})
}

// leader returns the node every node names as Raft leader.
func (s *stack) leader() *member {
	s.t.Helper()
	var id string
	waitFor(s.t, time.Minute, "the nodes to agree on a leader", func() error {
		id = ""
		for _, m := range s.nodes {
			p, err := m.api.Pool(s.t.Context())
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			if p.RaftLeader == "" || (id != "" && p.RaftLeader != id) {
				return fmt.Errorf("%s names leader %q, another %q", m, p.RaftLeader, id)
			}
			id = p.RaftLeader
		}
		return nil
	})
	for _, m := range s.nodes {
		if m.service == id {
			return m
		}
	}
	s.t.Fatalf("leader %q is not a node of the cluster", id)
	return nil
}

// follower returns a node that is not the leader.
func (s *stack) follower() *member {
	s.t.Helper()
	l := s.leader()
	for _, m := range s.nodes {
		if m != l {
			return m
		}
	}
	panic("unreachable: three nodes, one leader")
}

// others returns every node but m.
func (s *stack) others(m *member) []*member {
	var out []*member
	for _, n := range s.nodes {
		if n != m {
			out = append(out, n)
		}
	}
	return out
}

// waitNewLeader waits until every node of among names the same leader,
// other than old, and returns how long that took.
func (s *stack) waitNewLeader(old *member, among []*member, timeout time.Duration) time.Duration {
	s.t.Helper()
	return waitFor(s.t, timeout, "a new leader other than "+old.service, func() error {
		var id string
		for _, m := range among {
			p, err := m.api.Pool(s.t.Context())
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			if p.RaftLeader == "" || p.RaftLeader == old.service || (id != "" && p.RaftLeader != id) {
				return fmt.Errorf("%s names leader %q", m, p.RaftLeader)
			}
			id = p.RaftLeader
		}
		return nil
	})
}

// waitFailedOver waits until the vbucket map, read through each node of
// among, gives no vbucket to the lost node and every vbucket to some node,
// and returns how long that took.
func (s *stack) waitFailedOver(lost *member, among []*member, timeout time.Duration) time.Duration {
	s.t.Helper()
	return waitFor(s.t, timeout, lost.service+" to be failed over", func() error {
		for _, m := range among {
			if err := m.api.FailedOver(s.t.Context(), "src", lost.ip); err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
		return nil
	})
}

// verify checks the invariants once the writers have finished: every node
// holds exactly the acknowledged source documents, the counting handler's
// effect and its timer's effect for each exactly once and nothing else,
// and all nodes hold the same dst and fired documents. It returns how long
// the handler and the timers took to catch up.
func (s *stack) verify(w *workload) time.Duration {
	s.t.Helper()
	acked := w.ackedIDs()
	want := len(acked)
	ctx := s.t.Context()
	caughtUp := waitFor(s.t, 3*time.Minute, fmt.Sprintf("every node to hold %d src, dst and fired documents", want), func() error {
		for _, m := range s.nodes {
			for _, ks := range []string{"src", "dst", "fired"} {
				rows, err := m.api.AllDocs(ctx, ks, false)
				if err != nil {
					return fmt.Errorf("%s: %w", m, err)
				}
				if len(rows) < want {
					return fmt.Errorf("%s holds %d %s documents", m, len(rows), ks)
				}
			}
		}
		return nil
	})

	first := map[string]map[string]string{} // keyspace → the first node's bodies
	for _, m := range s.nodes {
		src, err := m.api.AllDocs(ctx, "src", false)
		if err != nil {
			s.t.Fatalf("%s: %v", m, err)
		}
		seen := make(map[string]bool, len(src))
		var extra []string
		for _, r := range src {
			seen[r.ID] = true
			if !acked[r.ID] {
				extra = append(extra, r.ID)
			}
		}
		if len(extra) > 0 {
			s.t.Errorf("%s holds src documents that were never acknowledged: %s", m, examples(extra))
		}
		if missing := missingOf(acked, seen); len(missing) > 0 {
			s.t.Errorf("%s lost acknowledged src documents: %s", m, examples(missing))
		}

		for _, ks := range []string{"dst", "fired"} {
			bodies := s.checkCounted(m, ks, acked)
			if first[ks] == nil {
				first[ks] = bodies
				continue
			}
			var differ []string
			for id, b := range bodies {
				if first[ks][id] != b {
					differ = append(differ, fmt.Sprintf("%s (%s: %q, %s: %q)", id, s.nodes[0], first[ks][id], m, b))
				}
			}
			if len(differ) > 0 || len(first[ks]) != len(bodies) {
				s.t.Errorf("%s and %s disagree on %s (%d and %d documents): %s", s.nodes[0], m, ks, len(first[ks]), len(bodies), examples(differ))
			}
		}
	}
	if s.t.Failed() {
		s.t.FailNow()
	}
	return caughtUp
}

// checkCounted checks one node's counting keyspace (dst: handled, fired:
// timer callbacks): every acknowledged source document has a count of
// exactly 1 and there is nothing else. It returns the bodies by id.
func (s *stack) checkCounted(m *member, ks string, acked map[string]bool) map[string]string {
	rows, err := m.api.AllDocs(s.t.Context(), ks, true)
	if err != nil {
		s.t.Fatalf("%s: %v", m, err)
	}
	bodies := make(map[string]string, len(rows))
	counted := make(map[string]bool, len(rows))
	var dup, stray []string
	for _, r := range rows {
		var d struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(r.Doc, &d); err != nil {
			s.t.Errorf("%s: %s %s: %v: %s", m, ks, r.ID, err, r.Doc)
			continue
		}
		if !acked[r.ID] {
			stray = append(stray, r.ID)
		}
		if d.N != 1 {
			dup = append(dup, fmt.Sprintf("%s (n=%d)", r.ID, d.N))
		}
		counted[r.ID] = true
		bodies[r.ID] = string(r.Doc)
	}
	if len(dup) > 0 {
		s.t.Errorf("%s: %s: documents not counted exactly once: %s", m, ks, examples(dup))
	}
	if len(stray) > 0 {
		s.t.Errorf("%s: %s documents for sources never acknowledged: %s", m, ks, examples(stray))
	}
	if missing := missingOf(acked, counted); len(missing) > 0 {
		s.t.Errorf("%s: %s: acknowledged documents never counted: %s", m, ks, examples(missing))
	}
	return bodies
}

// missingOf returns the ids of want that have lacks, sorted.
func missingOf(want, have map[string]bool) []string {
	var out []string
	for id := range want {
		if !have[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// summary is what a scenario reports.
type summary struct {
	scenario string
	docs     int
	retries  int64
	stall    time.Duration // longest wait for one batch
	gap      string        // longest write gap on a node with no fault of its own
	events   []string      // faults and recovery times, in order
	perNode  string        // batches acknowledged / attempts failed, per node
	caughtUp time.Duration // handler catch-up after the writers stopped
	total    time.Duration
}

var (
	summariesMu sync.Mutex
	summaries   []summary
)

// report logs a scenario's summary and keeps it for the table TestMain
// prints at the end.
func report(t *testing.T, sum summary) {
	t.Helper()
	t.Logf("summary: %d documents, %d retried batch attempts, longest batch wait %v, handler caught up %v after the writers stopped, scenario took %v",
		sum.docs, sum.retries, sum.stall.Round(time.Millisecond), sum.caughtUp.Round(time.Millisecond), sum.total.Round(time.Second))
	t.Logf("  longest write gap on a node with no fault of its own: %s", sum.gap)
	t.Logf("  batches acknowledged/attempts failed per node: %s", sum.perNode)
	for _, e := range sum.events {
		t.Logf("  %s", e)
	}
	summariesMu.Lock()
	summaries = append(summaries, sum)
	summariesMu.Unlock()
}

// timeline records a scenario's events with their times.
type timeline struct {
	t      *testing.T
	events []string
}

// add logs an event and keeps it for the summary.
func (tl *timeline) add(format string, args ...any) {
	tl.t.Helper()
	e := fmt.Sprintf(format, args...)
	tl.t.Log(e)
	tl.events = append(tl.events, e)
}

// round rounds a duration for the summaries.
func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
