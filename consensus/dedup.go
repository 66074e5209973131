package consensus

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Exactly-once application of entries.
//
// Every entry a store proposes carries a token (node, session, seq). A
// proposer whose forward's outcome is unknown resends the same bytes, so
// the FSM keeps, per session, which sequences it applied and ignores a
// token it has seen. The record is replicated state: it changes only in
// Apply, from the log, and is part of snapshots.
//
// Per session it keeps the highest sequence applied and the sequences
// below it, within dedupWindow, not yet applied (a proposer has at most a
// few entries in flight, so gaps are few and short-lived). A sequence more
// than dedupWindow below the highest counts as applied: no proposer holds
// an entry back that long. Sessions are evicted, least recently used
// first (by the Raft index of their last new entry), beyond
// dedupSessionsPerNode per node and dedupMaxSessions in all; a session is
// one process lifetime of a node, so only a node's latest sessions can
// still resend.

const (
	dedupWindow          = 1024
	dedupSessionsPerNode = 4
	dedupMaxSessions     = 1024
)

// sessionKey names one proposing session.
type sessionKey struct {
	node    string
	session uint64
}

func compareSessionKeys(a, b sessionKey) int {
	if c := strings.Compare(a.node, b.node); c != 0 {
		return c
	}
	return cmp.Compare(a.session, b.session)
}

// sessionRecord is what the FSM knows of one session's applied tokens.
type sessionRecord struct {
	max  uint64   // highest sequence applied
	gaps []uint64 // sorted sequences in (max-dedupWindow, max) not applied
	last uint64   // Raft index of the session's last applied new entry
}

// applied reports whether seq counts as applied.
func (r *sessionRecord) applied(seq uint64) bool {
	if seq > r.max {
		return false
	}
	if r.max-seq >= dedupWindow {
		return true
	}
	_, gap := slices.BinarySearch(r.gaps, seq)
	return !gap
}

// mark records seq (not applied before) as applied at Raft index index.
func (r *sessionRecord) mark(seq, index uint64) {
	r.last = index
	if seq <= r.max {
		if i, ok := slices.BinarySearch(r.gaps, seq); ok {
			r.gaps = slices.Delete(r.gaps, i, i+1)
		}
		return
	}
	lo := r.max + 1
	if seq >= dedupWindow && seq-dedupWindow+1 > lo {
		lo = seq - dedupWindow + 1
	}
	for g := lo; g < seq; g++ {
		r.gaps = append(r.gaps, g)
	}
	r.max = seq
	cut := 0
	for cut < len(r.gaps) && seq-r.gaps[cut] >= dedupWindow {
		cut++
	}
	r.gaps = r.gaps[cut:]
}

// seen reports whether tok was applied before; if not, it records it as
// applied at index (the caller then applies the entry).
func (f *fsm) seen(tok entryToken, index uint64) bool {
	k := sessionKey{tok.node, tok.session}
	r := f.sessions[k]
	if r == nil {
		f.evictSessions(tok.node)
		r = &sessionRecord{}
		f.sessions[k] = r
	}
	if r.applied(tok.seq) {
		return true
	}
	r.mark(tok.seq, index)
	return false
}

// evictSessions makes room for a new session of node. The least recently
// used session goes: the one with the lowest last index, which is unique
// because every new entry has its own index, so the choice is the same on
// every replica whatever the map's iteration order.
func (f *fsm) evictSessions(node string) {
	for {
		var perNode int
		var oldestOfNode, oldest *sessionKey
		var oldestOfNodeLast, oldestLast uint64
		for k, r := range f.sessions {
			if k.node == node {
				perNode++
				if oldestOfNode == nil || r.last < oldestOfNodeLast {
					kk := k
					oldestOfNode, oldestOfNodeLast = &kk, r.last
				}
			}
			if oldest == nil || r.last < oldestLast {
				kk := k
				oldest, oldestLast = &kk, r.last
			}
		}
		switch {
		case perNode >= dedupSessionsPerNode:
			delete(f.sessions, *oldestOfNode)
		case len(f.sessions) >= dedupMaxSessions:
			delete(f.sessions, *oldest)
		default:
			return
		}
	}
}

// sessionSnap is one session's record in a snapshot.
type sessionSnap struct {
	key sessionKey
	rec sessionRecord
}

// copySessions returns the records sorted by key (FSM goroutine only).
func (f *fsm) copySessions() []sessionSnap {
	out := make([]sessionSnap, 0, len(f.sessions))
	for k, r := range f.sessions {
		c := *r
		c.gaps = slices.Clone(r.gaps)
		out = append(out, sessionSnap{key: k, rec: c})
	}
	slices.SortFunc(out, func(a, b sessionSnap) int { return compareSessionKeys(a.key, b.key) })
	return out
}

// restoreSessions replaces the records with a snapshot's. A proposer of
// this node still waiting for an entry that the snapshot already contains
// will never see it applied: it learns that the outcome is unknown.
func (f *fsm) restoreSessions(snaps []sessionSnap) {
	m := make(map[sessionKey]*sessionRecord, len(snaps))
	for _, s := range snaps {
		r := s.rec
		m[s.key] = &r
	}
	f.sessions = m
	own := m[sessionKey{f.selfNode, f.selfSession}]
	if f.selfNode == "" || own == nil {
		return
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	for seq, ch := range f.waiting {
		if own.applied(seq) {
			ch <- entryResult{err: fmt.Errorf("%w: this node caught up past its entry %d from a snapshot, which has no results", ErrLeadershipLost, seq)}
			delete(f.waiting, seq)
		}
	}
}

// entryResult is what a proposer waiting for its own entry receives.
type entryResult struct {
	res []cmdResult
	err error
}

// setSelf names this node's proposing session; called before raft starts.
func (f *fsm) setSelf(node string, session uint64) {
	f.selfNode, f.selfSession = node, session
}

func (f *fsm) ownToken(tok entryToken) bool {
	return tok.node != "" && tok.node == f.selfNode && tok.session == f.selfSession && tok.seq != 0
}

// expect registers a waiter for this node's entry seq; it receives the
// entry's results when this FSM applies it (once).
func (f *fsm) expect(seq uint64) <-chan entryResult {
	ch := make(chan entryResult, 1)
	f.wmu.Lock()
	f.waiting[seq] = ch
	f.wmu.Unlock()
	return ch
}

// forget drops seq's waiter, if still registered.
func (f *fsm) forget(seq uint64) {
	f.wmu.Lock()
	delete(f.waiting, seq)
	f.wmu.Unlock()
}

// deliver hands seq's waiter (if any) its result.
func (f *fsm) deliver(seq uint64, r entryResult) {
	f.wmu.Lock()
	ch := f.waiting[seq]
	delete(f.waiting, seq)
	f.wmu.Unlock()
	if ch != nil {
		ch <- r // buffered(1), one send
	}
}
