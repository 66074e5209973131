package qinling

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"eventide/consensus"
)

// Job firings on their executor.
//
// The leader decides a firing ahead of its due time (fireJob) and hands it
// to an executor through a record of tableFirings keyed by the executor's
// id. Every node runs RunFirings, which watches its own firing records and
// starts each at its StartAt; the run's result batch deletes the firing
// record. A firing is started at most once: this process remembers what
// it started (fired) until the record is gone, and a firing due before
// this process began may have been started by an earlier process, so it
// is never started but left to FailOrphans.

// firing is a firing record's body.
type firing struct {
	StartAt time.Time `json:"start_at"`
}

// firingID is the tableFirings id of execution execID's firing on node.
func firingID(node, execID string) string { return node + "/" + execID }

// firingChange creates the firing record of rec, a job's execution.
func firingChange(rec executionRec) consensus.RecordChange {
	return putChange(tableFirings, firingID(rec.NodeID, rec.ID), 0, firing{StartAt: rec.StartAt})
}

// firingEnd deletes the firing record of rec, if it has one.
func (s *Service) firingEnd(rec executionRec) []consensus.RecordChange {
	if rec.StartAt.IsZero() {
		return nil
	}
	r, err := s.rec.Record(tableFirings, firingID(rec.NodeID, rec.ID))
	if err != nil {
		return nil
	}
	return []consensus.RecordChange{deleteChange(tableFirings, r.ID, r.Version)}
}

// firingsMaxSleep bounds RunFirings' sleep with no firing due sooner.
const firingsMaxSleep = 5 * time.Second

// RunFirings starts this node's job firings at their due time until ctx
// ends. Every node runs it.
func (s *Service) RunFirings(ctx context.Context) {
	for {
		// Taken before the scan, so no firing recorded after it is missed.
		changed := s.rec.RecordsChanged()
		wait := firingsMaxSleep
		if next := s.StartDueFirings(ctx); !next.IsZero() {
			wait = min(wait, max(next.Sub(s.cfg.Now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-changed:
			t.Stop()
			// Gather a burst of record changes (every execution writes
			// several) into one scan; a firing is recorded JobLookahead
			// before it is due, so this delays none.
			select {
			case <-ctx.Done():
				return
			case <-time.After(jobChangeSettle):
			}
		}
	}
}

// StartDueFirings starts this node's firings whose time has come and
// returns the earliest StartAt of those still to start (zero: none).
// Runs go on in the background; a firing that cannot start here (its
// function is gone, or its runtime has no engine on this node) is
// recorded failed before it returns.
func (s *Service) StartDueFirings(ctx context.Context) time.Time {
	prefix := firingID(s.cfg.NodeID, "")
	rs := s.rec.RecordsWithPrefix(tableFirings, prefix)
	now := s.cfg.Now()
	var next time.Time
	var due []string
	seen := make(map[string]bool, len(rs))
	s.mu.Lock()
	for _, r := range rs {
		id := strings.TrimPrefix(r.ID, prefix)
		seen[id] = true
		if s.fired[id] {
			continue
		}
		var f firing
		if err := json.Unmarshal(r.Body, &f); err != nil {
			s.log.Warn("undecodable firing record skipped", "id", r.ID, "err", err)
			continue
		}
		switch {
		case !f.StartAt.After(s.created):
			// An earlier process may have started it: FailOrphans ends it.
		case f.StartAt.After(now):
			if next.IsZero() || f.StartAt.Before(next) {
				next = f.StartAt
			}
		case s.closed:
		default:
			// Held here, under the lock that FailOrphans reads inflight
			// under, so it never takes a firing starting for a lost one.
			s.fired[id] = true
			s.inflight[id] = true
			s.runs.Add(1)
			due = append(due, id)
		}
	}
	for id := range s.fired {
		if !seen[id] {
			delete(s.fired, id)
		}
	}
	s.mu.Unlock()
	for _, id := range due {
		if err := s.startFiring(ctx, id); err != nil && ctx.Err() == nil {
			s.log.Warn("job firing not started", "execution", id, "err", err)
		}
	}
	return next
}

// startFiring starts firing id, fired and held, on this node.
func (s *Service) startFiring(ctx context.Context, id string) error {
	rec, ver, err := getRec[executionRec](s, tableExecutions, id, "execution")
	if err != nil || rec.Status != ExecutionRunning || rec.NodeID != s.cfg.NodeID {
		s.release(id)
		// Deleted, or failed by FailOrphans meanwhile: the firing record
		// is left over.
		if fr, ferr := s.rec.Record(tableFirings, firingID(s.cfg.NodeID, id)); ferr == nil {
			_, _ = s.rec.PutRecords(ctx, deleteChange(tableFirings, fr.ID, fr.Version))
		}
		return nil
	}
	r, err := s.runnableOf(Caller{ProjectID: rec.ProjectID}, rec.FunctionID, "", rec.FunctionVersion)
	var input json.RawMessage
	if err == nil {
		raw, _ := json.Marshal(string(rec.Input))
		_, input, err = normalizeInput(raw)
	}
	if err != nil {
		defer s.release(id)
		reason := fmt.Sprintf("%s could not run its function on node %s: %s", strings.TrimPrefix(string(rec.Description), "Created by "), s.cfg.NodeID, strings.TrimPrefix(err.Error(), "qinling: "))
		rec.Status, rec.Result, rec.UpdatedAt = ExecutionFailed, NullString(failureResult(reason)), Time{s.now()}
		changes := append([]consensus.RecordChange{putChange(tableExecutions, id, ver, rec),
			{Table: tableLogs, ID: id, Body: []byte(reason + "\n")}}, s.firingEnd(rec)...)
		if _, err := s.rec.PutRecords(ctx, changes...); err != nil && !lostRace(err) {
			return fmt.Errorf("recording the failure: %w", err)
		}
		return nil
	}
	s.start(r, input, rec, ver)
	return nil
}

// pendingFiring reports whether e, running on this node, is a firing this
// process will still start.
func (s *Service) pendingFiring(e *executionRec) bool {
	return !e.StartAt.IsZero() && e.StartAt.After(s.created)
}
