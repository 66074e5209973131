package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"

	"eventide/eventing"
	"eventide/handler"
)

// decodeRunSpec turns a stored definition into what a node needs to run it.
func decodeRunSpec(raw json.RawMessage) (runSpec, error) {
	d, err := eventing.ParseStoredDefinition(raw)
	if err != nil {
		return runSpec{}, err
	}
	return runSpec{
		Code:            d.AppCode,
		Source:          d.DepCfg.Source(),
		Bindings:        d.HandlerBindings(),
		CurlBindings:    d.HandlerCurlBindings(),
		Constants:       d.HandlerConstants(),
		Settings:        d.HandlerSettings(),
		WorkerCount:     d.Settings.WorkerCount,
		TimerPartitions: d.Settings.NumTimerPartitions,
		AppLogMaxSize:   int64(d.Settings.AppLogMaxSize),
		AppLogMaxFiles:  d.Settings.AppLogMaxFiles,
	}, nil
}

// appLogPath returns the directory and file stem of a function's
// application log: <dir>/<name>.log for global functions and
// <dir>/b_<bucket>/s_<scope>/<name>.log for scoped ones, as Couchbase lays
// them out.
func appLogPath(dir, fn string) (string, string) {
	loc := eventing.ParseLocation(fn)
	if loc.IsGlobal() {
		return dir, loc.Name
	}
	return filepath.Join(dir, "b_"+loc.Bucket, "s_"+loc.Scope), loc.Name
}

// Stats implements eventing.Runtime: the function's counters on this node.
func (s *Supervisor) Stats(fn string) (eventing.RuntimeStats, bool) {
	s.mu.Lock()
	c := s.stats[fn]
	s.mu.Unlock()
	if c == nil {
		return eventing.RuntimeStats{}, false
	}
	rs := eventing.RuntimeStats{
		ExecutionStats:       eventing.Counters{},
		FailureStats:         eventing.Counters{},
		EventProcessingStats: eventing.Counters{},
		LatencyHistogram:     eventing.Counters{},
	}
	for name, v := range c.Handler.Snapshot() {
		switch handler.StatGroup(name) {
		case "failure_stats":
			rs.FailureStats[name] = v
		case "event_processing_stats":
			rs.EventProcessingStats[name] = v
		default:
			rs.ExecutionStats[name] = v
		}
	}
	rs.FailureStats["checkpoint_failure_count"] = c.CheckpointFailures.Load()
	for us, n := range c.Latency.Histogram() {
		rs.LatencyHistogram[strconv.FormatUint(us, 10)] = n
	}
	return rs, true
}

// ResetStats implements eventing.Runtime.
func (s *Supervisor) ResetStats(fn string) error {
	s.counters(fn).Reset()
	return nil
}

// Insight implements eventing.Runtime: the function's code insight on this
// node, empty if it has none here.
func (s *Supervisor) Insight(fn string) map[int]handler.InsightLine {
	s.mu.Lock()
	c := s.stats[fn]
	s.mu.Unlock()
	if c == nil {
		return map[int]handler.InsightLine{}
	}
	return c.Insight.Snapshot()
}

// AppLog implements eventing.Runtime.
func (s *Supervisor) AppLog(_ context.Context, fn string, size int) (string, error) {
	l := s.appLog(fn, nil)
	if l == nil {
		return "", fmt.Errorf("dataplane: application log of %s unavailable", fn)
	}
	return l.Tail(size)
}
