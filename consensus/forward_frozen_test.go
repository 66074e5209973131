package consensus

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// frozenForwarder is a testForwarder whose forwards to one leader never
// answer until their context ends, as with a leader that froze (docker
// pause) or was cut off without a reset.
type frozenForwarder struct {
	*testForwarder
	mu     sync.Mutex
	frozen string
	stuck  chan struct{} // closed when a forward first hangs
	once   sync.Once
}

func (f *frozenForwarder) freeze(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozen = id
}

func (f *frozenForwarder) Forward(ctx context.Context, leaderID, leaderAddr string, entry []byte) error {
	f.mu.Lock()
	frozen := f.frozen == leaderID
	f.mu.Unlock()
	if frozen {
		f.once.Do(func() { close(f.stuck) })
		<-ctx.Done()
		return fmt.Errorf("frozen leader %s: %w", leaderID, ctx.Err())
	}
	return f.testForwarder.Forward(ctx, leaderID, leaderAddr, entry)
}

// TestForward_LeaderFreezesMidForward: a follower's forward to a leader
// that stops answering is abandoned as soon as the follower sees a new
// leader, and the write is applied once through it, long before
// ApplyTimeout ends the stuck call.
func TestForward_LeaderFreezesMidForward(t *testing.T) {
	const applyTimeout = 30 * time.Second
	fwd := &frozenForwarder{testForwarder: &testForwarder{nodes: map[string]*Store{}}, stuck: make(chan struct{})}
	nodes := newCluster(t, 3, false, func(c *Config) { c.Forwarder = fwd; c.ApplyTimeout = applyTimeout })
	fwd.mu.Lock()
	for _, s := range nodes {
		fwd.nodes[s.cfg.NodeID] = s
	}
	fwd.mu.Unlock()
	mustBucket(t, nodes[0], "b")
	converge(t, nodes)

	fwd.freeze("n1")
	ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	began := time.Now()
	type outcome struct{ err error }
	done := make(chan outcome, 1)
	go func() {
		res, err := nodes[1].WriteDocs(ctx, []docstore.Mutation{upsert(testKS, "k", `{"v":1}`)})
		if err == nil {
			err = res[0].Err
		}
		done <- outcome{err}
	}()
	select {
	case <-fwd.stuck: // the write's forward hangs on n1
	case o := <-done:
		t.Fatalf("the write returned (%v) without a forward to n1", o.err)
	case <-time.After(5 * time.Second):
		t.Fatal("the write never forwarded to n1")
	}
	// n1 is cut off; n2 and n3 elect a leader between them.
	for _, s := range nodes[1:] {
		s.trans.(*raft.InmemTransport).Disconnect("n1")
	}
	nodes[0].trans.(*raft.InmemTransport).DisconnectAll()

	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("write through n2: %v", o.err)
		}
	case <-time.After(applyTimeout / 3):
		t.Fatalf("the write through n2 still waits %v after n1 froze (a new leader: %v)", time.Since(began), nodes[1].IsLeader() || nodes[2].IsLeader())
	}
	t.Logf("write through n2 returned %v after n1 froze", time.Since(began).Round(time.Millisecond))
	survivors := nodes[1:]
	converge(t, survivors)
	for _, s := range survivors {
		d, err := s.Docs().Get(testKS, "k")
		if err != nil || d.RevID[:2] != "1-" {
			t.Fatalf("%s: k = %+v, %v; want one write", s.cfg.NodeID, d, err)
		}
	}
}
