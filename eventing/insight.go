package eventing

import (
	"context"

	"eventide/handler"
)

// InsightRuntime is an optional extension of Runtime: a Runtime that
// implements it reports the code insight of this node (the Supervisor
// does). Without it, functions have no insight lines.
type InsightRuntime interface {
	// Insight returns the function's code insight on this node by line
	// number of its code; empty if it has none.
	Insight(fn string) map[int]handler.InsightLine
}

// InsightAggregator is an optional extension of Cluster: when the node's
// Cluster implements it, aggregate=true insight requests fan out through it
// instead of reading only the local Runtime.
type InsightAggregator interface {
	// AggregateInsight returns, for each of fns, the code insight of every
	// answering node merged with handler.MergeInsight, and the ids of the
	// nodes that did not answer (sorted).
	AggregateInsight(ctx context.Context, fns []string) (map[string]map[int]handler.InsightLine, []string, error)
}

// FunctionInsight is one function's entry of /getInsight, in Couchbase's
// shape: the function's code and, by line number, what code insight
// recorded there.
type FunctionInsight struct {
	Script string                      `json:"script"`
	Lines  map[int]handler.InsightLine `json:"lines"`
	// UnreachableNodes names the nodes that did not answer an aggregate
	// request: their insight is missing (eventide's addition, as in stats).
	UnreachableNodes []string `json:"unreachable_nodes,omitempty"`
}

// Insight returns the code insight of every function, by location string.
// With aggregate every node's insight is merged (when the Cluster
// implements InsightAggregator); otherwise it is this node's.
func (s *Service) Insight(ctx context.Context, aggregate bool) (map[string]FunctionInsight, error) {
	return s.insight(ctx, s.records(), aggregate)
}

// FunctionInsight returns one function's code insight, keyed by its
// location string as Insight keys it; ERR_APP_NOT_FOUND_TS when it does
// not exist.
func (s *Service) FunctionInsight(ctx context.Context, loc Location, aggregate bool) (map[string]FunctionInsight, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return nil, err
	}
	return s.insight(ctx, []*current{cur}, aggregate)
}

func (s *Service) insight(ctx context.Context, curs []*current, aggregate bool) (map[string]FunctionInsight, error) {
	out := make(map[string]FunctionInsight, len(curs))
	if len(curs) == 0 {
		return out, nil
	}
	names := make([]string, len(curs))
	for i, cur := range curs {
		names[i] = cur.rec.Name
	}
	var lines map[string]map[int]handler.InsightLine
	var unreachable []string
	if agg, ok := s.cluster.(InsightAggregator); ok && aggregate {
		var err error
		lines, unreachable, err = agg.AggregateInsight(ctx, names)
		if err != nil {
			return nil, internalError(err, "failed to collect code insight")
		}
	} else if rt, ok := s.runtime.(InsightRuntime); ok {
		lines = make(map[string]map[int]handler.InsightLine, len(names))
		for _, n := range names {
			lines[n] = rt.Insight(n)
		}
	}
	for _, cur := range curs {
		l := lines[cur.rec.Name]
		if l == nil {
			l = map[int]handler.InsightLine{}
		}
		out[cur.rec.Name] = FunctionInsight{Script: cur.def.AppCode, Lines: l, UnreachableNodes: unreachable}
	}
	return out, nil
}
