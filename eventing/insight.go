package eventing

import (
	"context"

	"eventide/handler"
)

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
// With aggregate and a Fleet every node's insight is merged; otherwise it
// is this node's.
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
	if s.fleet != nil && aggregate {
		var err error
		lines, unreachable, err = s.fleet.Insight(ctx, names)
		if err != nil {
			return nil, internalError(err, "failed to collect code insight")
		}
	} else if s.runtime != nil {
		lines = make(map[string]map[int]handler.InsightLine, len(names))
		for _, n := range names {
			lines[n] = s.runtime.Insight(n)
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
