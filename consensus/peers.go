package consensus

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Peer reachability as the leader's heartbeats see it. Raft notices a
// dead follower within one heartbeat (HeartbeatTimeout/10), long before
// gossip declares it dead; work handed to followers (Qinling's job
// firings) goes only to those the leader reaches.

// peerWatch is fed by a raft observer.
type peerWatch struct {
	mu          sync.Mutex
	leaderSince time.Time // zero while this node does not lead
	failing     map[string]bool
}

// peerObservations is the observer's buffer; raft drops observations
// when it is full rather than block, so it is generous.
const peerObservations = 256

// watchPeers registers the observer; its goroutine ends with the store.
func (s *Store) watchPeers() {
	ch := make(chan raft.Observation, peerObservations)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.RaftState, raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
			return true
		}
		return false
	})
	s.raft.RegisterObserver(obs)
	if s.raft.State() == raft.Leader {
		s.peers.observe(raft.Leader)
	}
	go func() {
		defer s.raft.DeregisterObserver(obs)
		for {
			select {
			case <-s.closing:
				return
			case o := <-ch:
				s.peers.observe(o.Data)
			}
		}
	}()
}

func (w *peerWatch) observe(data any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch d := data.(type) {
	case raft.RaftState:
		switch {
		case d == raft.Leader && w.leaderSince.IsZero():
			w.leaderSince, w.failing = time.Now(), map[string]bool{}
		case d != raft.Leader:
			w.leaderSince, w.failing = time.Time{}, nil
		}
	case raft.FailedHeartbeatObservation:
		if w.failing != nil {
			w.failing[string(d.PeerID)] = true
		}
	case raft.ResumedHeartbeatObservation:
		delete(w.failing, string(d.PeerID))
	}
}

// Leading reports, while this node leads, since when it has led and the
// servers its heartbeats currently fail to reach; since is zero when it
// does not lead. The map is the caller's.
func (s *Store) Leading() (since time.Time, unreachable map[string]bool) {
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	if s.raft.State() != raft.Leader || s.peers.leaderSince.IsZero() {
		return time.Time{}, nil
	}
	unreachable = make(map[string]bool, len(s.peers.failing))
	for id := range s.peers.failing {
		unreachable[id] = true
	}
	return s.peers.leaderSince, unreachable
}
