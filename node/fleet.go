package node

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"eventide/eventing"
	"eventide/eventing/dataplane"
	"eventide/handler"
	"eventide/node/rpc"
)

// localRuntime exposes this node's supervisor to the gRPC server, which
// answers the other nodes' fan-outs with it.
type localRuntime struct{ sup *dataplane.Supervisor }

var _ rpc.Runtime = localRuntime{}

func (r localRuntime) AppLog(ctx context.Context, fn string, size int) (string, error) {
	return r.sup.AppLog(ctx, fn, size)
}

func (r localRuntime) StatsJSON(fn string) ([]byte, bool) {
	st, ok := r.sup.Stats(fn)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(st)
	return b, err == nil
}

func (r localRuntime) ResetStats(fn string) error { return r.sup.ResetStats(fn) }

func (r localRuntime) Running(fn string) bool { return r.sup.Running(fn) }

func (r localRuntime) Insight(fn string) map[int]handler.InsightLine { return r.sup.Insight(fn) }

// fleet answers the eventing service's questions about every eventing
// node: node counts from membership and the replicated reports, and stats,
// application logs and code insight fanned out to every member over gRPC,
// each within the request's context and fanOutTimeout.
type fleet struct{ n *Node }

var _ eventing.Fleet = fleet{}

// EventingNodes counts the live members (every node runs eventing).
func (f fleet) EventingNodes() int { return len(f.n.livePeers()) }

// DeployedNodes counts the nodes that reported the function's workers
// running.
func (f fleet) DeployedNodes(fn string) int {
	rec, err := f.n.store.Function(fn)
	if err != nil {
		return 0
	}
	return len(rec.Running)
}

// Stats sums the function's counters over every member; nodes that do not
// answer within the deadline are left out, named and logged.
func (f fleet) Stats(ctx context.Context, fn string) (eventing.RuntimeStats, bool) {
	res := f.n.client.FunctionStatsAll(ctx, f.n.memberPeers(), fanOutTimeout, fn)
	if len(res.Failed) > 0 {
		f.n.log.Warn("stats: nodes did not answer", "function", fn, "nodes", res.FailedIDs())
	}
	var sum eventing.RuntimeStats
	found := false
	for _, b := range res.Answers {
		if b == nil {
			continue
		}
		var st eventing.RuntimeStats
		if err := json.Unmarshal(b, &st); err != nil {
			continue
		}
		found = true
		sum.Add(st)
	}
	if !found {
		// No node could answer (or none runs it): fall back to local counters.
		st, ok := f.n.sup.Stats(fn)
		st.UnreachableNodes = res.FailedIDs()
		return st, ok
	}
	sum.UnreachableNodes = res.FailedIDs()
	return sum, true
}

// ResetStats zeroes the function's counters on every live node.
func (f fleet) ResetStats(ctx context.Context, fn string) error {
	res := f.n.client.ResetStatsAll(ctx, f.n.livePeers(), fanOutTimeout, fn)
	if len(res.Failed) > 0 {
		return fmt.Errorf("node: reset stats: nodes %v did not answer", res.FailedIDs())
	}
	return nil
}

// AppLogs returns every member's log tail; nodes that do not answer are
// left out (and logged) instead of failing the call.
func (f fleet) AppLogs(ctx context.Context, fn string, sizePerNode int) ([]string, error) {
	res := f.n.client.AppLogAll(ctx, f.n.memberPeers(), fanOutTimeout, fn, sizePerNode)
	if len(res.Failed) > 0 {
		f.n.log.Warn("application log: nodes did not answer", "function", fn, "nodes", res.FailedIDs())
	}
	out := make([]string, 0, len(res.Answers))
	for _, t := range res.Answers {
		out = append(out, t)
	}
	return out, nil
}

// Insight merges every member's code insight for each of fns, in node id
// order (so the kept texts are stable); nodes that do not answer within
// the deadline are left out, named and logged. When no node answers the
// answer is this node's own insight.
func (f fleet) Insight(ctx context.Context, fns []string) (map[string]map[int]handler.InsightLine, []string, error) {
	res := f.n.client.InsightAll(ctx, f.n.memberPeers(), fanOutTimeout, fns)
	failed := res.FailedIDs()
	if len(failed) > 0 {
		f.n.log.Warn("code insight: nodes did not answer", "nodes", failed)
	}
	ids := slices.Sorted(maps.Keys(res.Answers))
	out := make(map[string]map[int]handler.InsightLine, len(fns))
	for _, fn := range fns {
		snaps := make([]map[int]handler.InsightLine, 0, len(ids)+1)
		for _, id := range ids {
			snaps = append(snaps, res.Answers[id][fn])
		}
		if len(ids) == 0 {
			snaps = append(snaps, f.n.sup.Insight(fn))
		}
		out[fn] = handler.MergeInsight(snaps...)
	}
	return out, failed, nil
}
