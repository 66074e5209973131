package rpc

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"eventide/proto/nodepb"
)

// fakeQinling names workers "<function>@<version>-<i>", count of them,
// after waiting for block when it is set.
type fakeQinling struct {
	count int
	block chan struct{}
}

func (q *fakeQinling) LocalWorkers(functionID string, version int) []string {
	if q.block != nil {
		<-q.block
	}
	var out []string
	for i := range q.count {
		out = append(out, functionID+"@"+string(rune('0'+version))+"-"+string(rune('a'+i)))
	}
	return out
}

// TestFanOut_QinlingWorkers: every answering peer's workers of the
// version asked; a node without Qinling answers none; a peer that is
// down and one slower than the deadline are named as failed, and the
// slow one does not hold the others' answers.
func TestFanOut_QinlingWorkers(t *testing.T) {
	block := make(chan struct{})
	sa := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: &fakeRuntime{}, Qinling: &fakeQinling{count: 2}})
	sb := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: &fakeRuntime{}, Qinling: &fakeQinling{count: 1}})
	none := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: &fakeRuntime{}})
	slow := startServer(t, ServerConfig{Applier: &fakeApplier{}, Runtime: &fakeRuntime{}, Qinling: &fakeQinling{count: 1, block: block}})
	// Registered after the server's own cleanup, so it runs first: the
	// server's graceful stop waits for the blocked call.
	t.Cleanup(func() { close(block) })
	peers := []Peer{{ID: "n1", Addr: sa.addr}, {ID: "n2", Addr: sb.addr}, {ID: "n3", Addr: none.addr},
		{ID: "n4", Addr: freeAddr(t)}, {ID: "n5", Addr: slow.addr}}
	c := mustClient(t)
	res := c.QinlingWorkersAll(ctxTimeout(t, 10*time.Second), peers, 300*time.Millisecond, "fn", 1)
	if got := strings.Join(res.FailedIDs(), ","); got != "n4,n5" {
		t.Fatalf("failed = %s, want n4,n5", got)
	}
	if len(res.Answers) != 3 || !slices.Equal(res.Answers["n1"], []string{"fn@1-a", "fn@1-b"}) ||
		!slices.Equal(res.Answers["n2"], []string{"fn@1-a"}) || len(res.Answers["n3"]) != 0 {
		t.Fatalf("answers = %v", res.Answers)
	}

	// Bad requests are refused, by the client and by the server.
	bad := c.QinlingWorkersAll(ctxTimeout(t, 10*time.Second), peers[:1], time.Second, "", 0)
	if len(bad.Failed) != 1 || !errors.Is(bad.Failed[0].Err, ErrInvalid) {
		t.Fatalf("no function id: %+v", bad)
	}
	n, _ := c.Node(sa.addr)
	for _, req := range []*nodepb.QinlingWorkersRequest{{Version: 0}, {FunctionId: "fn", Version: -1}, {FunctionId: "fn", Version: 1 << 40}} {
		if _, err := n.QinlingWorkers(ctxTimeout(t, 10*time.Second), req); !errors.Is(fromStatus(err), ErrInvalid) {
			t.Fatalf("QinlingWorkers(%v) = %v, want InvalidArgument", req, err)
		}
	}
}
