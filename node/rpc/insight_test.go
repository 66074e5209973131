package rpc

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"eventide/handler"
	"eventide/proto/nodepb"
)

func TestClient_Insight(t *testing.T) {
	rt := &fakeRuntime{insight: map[string]map[int]handler.InsightLine{
		"b/s/f1": {
			3:  {ErrorCount: 2, ErrorMsg: "Error: boom", LastLog: `"x" `},
			12: {LastLog: "ünïcode \n text"},
			0:  {ErrorCount: 5}, // no line: not sent
		},
	}}
	ts := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: rt})
	c := mustClient(t)
	ctx := ctxTimeout(t, 10*time.Second)

	got, err := c.Insight(ctx, ts.addr, []string{"b/s/f1", "b/s/none"})
	if err != nil {
		t.Fatalf("Insight = %v", err)
	}
	want := map[int]handler.InsightLine{
		3:  {ErrorCount: 2, ErrorMsg: "Error: boom", LastLog: `"x" `},
		12: {LastLog: "ünïcode \n text"},
	}
	if len(got) != 2 || !maps.Equal(got["b/s/f1"], want) || got["b/s/none"] == nil || len(got["b/s/none"]) != 0 {
		t.Fatalf("Insight = %v, want f1 %v and an empty none", got, want)
	}
	if got, err := c.Insight(ctx, ts.addr, nil); err != nil || len(got) != 0 {
		t.Fatalf("Insight(no functions) = %v, %v", got, err)
	}
	if _, err := c.Insight(ctx, ts.addr, []string{"f", ""}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Insight(\"\") = %v, want ErrInvalid", err)
	}
	n, _ := c.Node(ts.addr)
	if _, err := n.Insight(ctx, &nodepb.InsightRequest{Functions: make([]string, maxFunctionsPerInsight+1)}); !errors.Is(fromStatus(err), ErrInvalid) {
		t.Fatalf("raw Insight(too many) = %v, want InvalidArgument", err)
	}
}

func TestInsightFromPB_DropsAndMergesBadLines(t *testing.T) {
	got := insightFromPB(&nodepb.FunctionInsight{Lines: []*nodepb.InsightLine{
		{Line: -1, ErrorCount: 9},
		{Line: 0, ErrorCount: 9},
		{Line: 4, ErrorCount: 1, ErrorMsg: "first"},
		{Line: 4, ErrorCount: 2, ErrorMsg: "second", LastLog: "log"},
	}})
	want := map[int]handler.InsightLine{4: {ErrorCount: 3, ErrorMsg: "first", LastLog: "log"}}
	if !maps.Equal(got, want) {
		t.Fatalf("insightFromPB = %v, want %v", got, want)
	}
	if got := insightFromPB(nil); got == nil || len(got) != 0 {
		t.Fatalf("insightFromPB(nil) = %#v", got)
	}
}

func TestFanOut_Insight(t *testing.T) {
	a := &fakeRuntime{insight: map[string]map[int]handler.InsightLine{"f": {2: {ErrorCount: 1, ErrorMsg: "a"}}}}
	b := &fakeRuntime{insight: map[string]map[int]handler.InsightLine{"f": {2: {ErrorCount: 4, ErrorMsg: "b"}, 5: {LastLog: "b log"}}}}
	sa := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: a})
	sb := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: b})
	peers := []Peer{{ID: "n2", Addr: sb.addr}, {ID: "n1", Addr: sa.addr}, {ID: "n3", Addr: freeAddr(t)}}
	res := mustClient(t).InsightAll(ctxTimeout(t, 10*time.Second), peers, 2*time.Second, []string{"f"})
	if got := strings.Join(res.FailedIDs(), ","); got != "n3" {
		t.Fatalf("failed = %s, want n3", got)
	}
	if len(res.Answers) != 2 || res.Answers["n1"]["f"][2].ErrorCount != 1 || res.Answers["n2"]["f"][5].LastLog != "b log" {
		t.Fatalf("answers = %v", res.Answers)
	}
	merged := handler.MergeInsight(res.Answers["n1"]["f"], res.Answers["n2"]["f"])
	want := map[int]handler.InsightLine{2: {ErrorCount: 5, ErrorMsg: "a"}, 5: {LastLog: "b log"}}
	if !maps.Equal(merged, want) {
		t.Fatalf("merged = %v, want %v", merged, want)
	}
}
