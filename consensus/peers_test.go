package consensus

import (
	"testing"
	"time"
)

// TestLeading_ReportsUnreachableFollower: the leader says since when it
// leads and which follower its heartbeats stop reaching, at once and
// while gossip would still call that follower alive; followers say they
// do not lead.
func TestLeading_ReportsUnreachableFollower(t *testing.T) {
	nodes := newCluster(t, 3, true)
	since, unreachable := nodes[0].Leading()
	if since.IsZero() || since.After(time.Now()) || len(unreachable) != 0 {
		t.Fatalf("leader: since %s, unreachable %v", since, unreachable)
	}
	if s, u := nodes[1].Leading(); !s.IsZero() || u != nil {
		t.Fatalf("follower leads since %s, %v", s, u)
	}
	if err := nodes[2].Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		_, u := nodes[0].Leading()
		return u["n3"] && !u["n2"]
	})
	if s, _ := nodes[0].Leading(); !s.Equal(since) {
		t.Fatalf("leadership began again at %s (was %s)", s, since)
	}
}
