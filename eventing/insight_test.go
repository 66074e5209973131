package eventing_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"eventide/eventing"
	"eventide/eventing/eventingtest"
	"eventide/handler"
)

// insightRuntime gives the stand-in runtime this node's code insight.
type insightRuntime struct {
	*eventingtest.Runtime
	lines map[string]map[int]handler.InsightLine
}

func (r insightRuntime) Insight(fn string) map[int]handler.InsightLine {
	return maps.Clone(r.lines[fn])
}

// insightFleet gives the stand-in fleet an aggregating fan-out.
type insightFleet struct {
	*eventingtest.Fleet
	nodes       []map[string]map[int]handler.InsightLine // each node's insight
	unreachable []string
	err         error
	asked       [][]string
}

func (c *insightFleet) Insight(_ context.Context, fns []string) (map[string]map[int]handler.InsightLine, []string, error) {
	c.asked = append(c.asked, fns)
	if c.err != nil {
		return nil, nil, c.err
	}
	out := map[string]map[int]handler.InsightLine{}
	for _, fn := range fns {
		var snaps []map[int]handler.InsightLine
		for _, n := range c.nodes {
			snaps = append(snaps, n[fn])
		}
		out[fn] = handler.MergeInsight(snaps...)
	}
	return out, c.unreachable, nil
}

func TestInsight_LocalAndAggregate(t *testing.T) {
	local := map[string]map[int]handler.InsightLine{"f": {2: {ErrorCount: 1, ErrorMsg: "Error: local", LastLog: "l"}}}
	cl := &insightFleet{
		Fleet: &eventingtest.Fleet{Nodes: 2, Deployed: map[string]int{}},
		nodes: []map[string]map[int]handler.InsightLine{
			local,
			{"f": {2: {ErrorCount: 3, ErrorMsg: "Error: remote"}, 4: {LastLog: "remote log"}}},
		},
		unreachable: []string{"n3"},
	}
	f := newFixture(t, func(c *eventing.Config) {
		c.Runtime = insightRuntime{Runtime: eventingtest.NewRuntime(), lines: local}
		c.Fleet = cl
	})
	code := "function OnUpdate(doc, meta) {\n  log(meta.id);\n}"
	f.create(t, "f", func(m map[string]any) { m["appcode"] = code })
	f.create(t, "g", nil)
	ctx := context.Background()

	all, err := f.svc.Insight(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(all)); !slices.Equal(got, []string{"f", "g"}) {
		t.Fatalf("functions = %v", got)
	}
	if all["f"].Script != code || !maps.Equal(all["f"].Lines, local["f"]) || all["f"].UnreachableNodes != nil {
		t.Errorf("f = %+v", all["f"])
	}
	if all["g"].Lines == nil || len(all["g"].Lines) != 0 || all["g"].Script == "" {
		t.Errorf("g = %+v, want its script and no lines", all["g"])
	}
	if len(cl.asked) != 0 {
		t.Errorf("a local request fanned out: %v", cl.asked)
	}

	one, err := f.svc.FunctionInsight(ctx, eventing.GlobalLocation("f"), true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]handler.InsightLine{2: {ErrorCount: 4, ErrorMsg: "Error: local", LastLog: "l"}, 4: {LastLog: "remote log"}}
	if len(one) != 1 || !maps.Equal(one["f"].Lines, want) || !slices.Equal(one["f"].UnreachableNodes, []string{"n3"}) {
		t.Errorf("aggregate f = %+v, want lines %v from all but n3", one, want)
	}
	if len(cl.asked) != 1 || !slices.Equal(cl.asked[0], []string{"f"}) {
		t.Errorf("fan-out asked for %v, want [[f]]", cl.asked)
	}

	_, err = f.svc.FunctionInsight(ctx, eventing.GlobalLocation("nope"), true)
	wantCode(t, err, eventing.CodeAppNotFoundTS)
	cl.err = errors.New("boom")
	_, err = f.svc.Insight(ctx, true)
	wantCode(t, err, eventing.CodeInternal)
}

func TestInsight_FunctionWithoutLines(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if all, err := f.svc.Insight(ctx, true); err != nil || all == nil || len(all) != 0 {
		t.Fatalf("Insight with no functions = %v, %v", all, err)
	}
	f.create(t, "f", nil)
	all, err := f.svc.Insight(ctx, true)
	if err != nil || len(all) != 1 || all["f"].Lines == nil || len(all["f"].Lines) != 0 {
		t.Fatalf("Insight = %+v, %v; want f with no lines", all, err)
	}
}
