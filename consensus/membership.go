package consensus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// AddVoter adds (or promotes) a voting member. It runs on the leader
// (ErrNotLeader elsewhere) and returns once the new configuration is
// committed or ctx ends.
func (s *Store) AddVoter(ctx context.Context, id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("%w: server id and address are required", ErrInvalid)
	}
	return s.awaitConfig(ctx, func(timeout time.Duration) raft.Future {
		return s.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeout)
	})
}

// AddNonvoter adds a member that receives the log but does not vote.
func (s *Store) AddNonvoter(ctx context.Context, id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("%w: server id and address are required", ErrInvalid)
	}
	return s.awaitConfig(ctx, func(timeout time.Duration) raft.Future {
		return s.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeout)
	})
}

// RemoveServer removes a member (a leader removing itself steps down).
func (s *Store) RemoveServer(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: server id is required", ErrInvalid)
	}
	return s.awaitConfig(ctx, func(timeout time.Duration) raft.Future {
		return s.raft.RemoveServer(raft.ServerID(id), 0, timeout)
	})
}

// Servers returns the latest Raft configuration, in configuration order.
func (s *Store) Servers() ([]Server, error) {
	select {
	case <-s.closing:
		return nil, ErrClosed
	default:
	}
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, raftError(err)
	}
	conf := f.Configuration()
	out := make([]Server, len(conf.Servers))
	for i, srv := range conf.Servers {
		out[i] = Server{ID: string(srv.ID), Address: string(srv.Address), Suffrage: suffrage(srv.Suffrage)}
	}
	return out, nil
}

func suffrage(s raft.ServerSuffrage) string {
	switch s {
	case raft.Voter:
		return SuffrageVoter
	case raft.Nonvoter:
		return SuffrageNonvoter
	default:
		return SuffrageStaging
	}
}

// awaitConfig starts a configuration change and waits for it or ctx. The
// change cannot be cancelled once started: if ctx ends first, the waiting
// goroutine (tracked by s.waiters, ended by raft's shutdown at the latest)
// lets it finish on its own.
func (s *Store) awaitConfig(ctx context.Context, start func(timeout time.Duration) raft.Future) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timeout := s.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.waiters.Add(1) // under mu: never concurrent with Close's Wait
	s.mu.Unlock()
	f := start(timeout)
	done := make(chan error, 1)
	go func() {
		defer s.waiters.Done()
		done <- f.Error()
	}()
	select {
	case err := <-done:
		if err != nil {
			if errors.Is(err, raft.ErrRaftShutdown) {
				return ErrClosed
			}
			return raftError(err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return ErrClosed
	}
}
