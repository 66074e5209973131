package eventing

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// DefaultAppLogSize is the tail size getAppLog returns when none is given.
const DefaultAppLogSize = 40960

// Legacy counter keys that every stats answer carries, at 0 when the
// runtime does not count them (reference §1.5).
var (
	executionStatKeys = []string{
		"on_update_success", "on_update_failure", "on_delete_success", "on_delete_failure",
		"timer_create_counter", "timer_create_failure", "timer_cancel_counter",
		"timer_callback_success", "timer_callback_failure", "timer_msg_counter",
		"dcp_mutation_msg_counter", "dcp_delete_msg_counter", "agg_queue_size",
		"agg_queue_memory", "agg_queue_size_max", "agg_queue_memory_cap", "messages_parsed",
		"no_op_counter", "curl_success_count", "lcb_retry_failure",
		"filtered_dcp_delete_counter", "filtered_dcp_mutation_counter", "num_processed_events",
		"enqueued_dcp_delete_msg_counter", "enqueued_dcp_mutation_msg_counter",
		"enqueued_timer_msg_counter", "dcp_delete_parse_failure", "dcp_mutation_parse_failure",
		"dcp_delete_checkpoint_cas_mismatch", "dcp_delete_checkpoint_failure",
		"dcp_mutation_checkpoint_cas_mismatch", "dcp_mutation_checkpoint_failure",
		"timer_responses_sent", "uv_try_write_failure_counter",
	}
	failureStatKeys = []string{
		"bucket_op_exception_count", "bkt_ops_cas_mismatch_count", "timeout_count",
		"n1ql_op_exception_count", "analytics_op_exception_count", "search_op_exception_count",
		"timer_callback_missing_counter", "timer_context_size_exception_counter",
		"checkpoint_failure_count", "curl_non_200_response", "curl_timeout_count",
		"curl_failure_count", "curl_max_resp_size_exceeded", "bucket_op_cache_miss_count",
		"bucket_cache_overflow_count", "debugger_events_lost", "dcp_events_lost",
		"timer_events_lost", "v8worker_events_lost", "app_worker_setting_events_lost",
		"commit_too_large_count", "events_skipped_count", "memory_budget_exceeded_count",
	}
	eventProcessingStatKeys = []string{
		"dcp_mutation_sent_to_worker", "dcp_deletion_sent_to_worker", "dcp_expiry_sent_to_worker",
		"dcp_mutation_suppressed_counter", "dcp_deletion_suppressed_counter",
		"worker_spawn_counter", "dcp_mutation", "dcp_deletion", "dcp_expiration",
		"dcp_snapshot", "dcp_stream_end", "dcp_streamreq", "dcp_stream_req_counter",
		"dcp_stream_req_err_counter", "dcp_system_event", "agg_messages_sent_to_worker",
		"adhoc_timer_response_received", "timer_responses_received",
	}
	curlMethodKeys = []string{"get", "post", "delete", "head", "put"}
	// latencyPercentiles are the keys of latency_percentile_stats.
	latencyPercentiles = []int{50, 80, 90, 95, 99, 100}
)

// StatsScope is the function scope as the stats answer names it.
type StatsScope struct {
	BucketName string `json:"bucket_name"`
	ScopeName  string `json:"scope_name"`
}

// FunctionStats is one function's entry of /api/v1/stats (reference §1.5).
type FunctionStats struct {
	FunctionName                string            `json:"function_name"`
	FunctionScope               StatsScope        `json:"function_scope"`
	FunctionID                  uint32            `json:"function_id"`
	DCPFeedBoundary             string            `json:"dcp_feed_boundary"`
	EventProcessingStats        map[string]any    `json:"event_processing_stats"`
	EventsRemaining             map[string]uint64 `json:"events_remaining"`
	ExecutionStats              map[string]any    `json:"execution_stats"`
	FailureStats                map[string]any    `json:"failure_stats"`
	LCBExceptionStats           map[string]uint64 `json:"lcb_exception_stats"`
	LatencyPercentileStats      map[string]uint64 `json:"latency_percentile_stats"`
	InternalVBDistributionStats map[string]string `json:"internal_vb_distribution_stats"`
	WorkerPIDs                  map[string]int    `json:"worker_pids"`
	LCBCredsRequestCounter      uint64            `json:"lcb_creds_request_counter"`
	GocbCredsRequestCounter     uint64            `json:"gocb_creds_request_counter"`
	// UnreachableNodes names the nodes that did not answer in time: their
	// counters are not in these sums (eventide's addition).
	UnreachableNodes []string `json:"unreachable_nodes,omitempty"`
	// Only with type=full.
	LatencyStats     any `json:"latency_stats,omitempty"`
	CurlLatencyStats any `json:"curl_latency_stats,omitempty"`
	SeqsProcessed    any `json:"seqs_processed,omitempty"`
}

// runtimeStats returns the function's counters: summed over every node
// with a Fleet, this node's without one (zero stats without a Runtime).
func (s *Service) runtimeStats(ctx context.Context, fn string) (RuntimeStats, bool) {
	switch {
	case s.fleet != nil:
		return s.fleet.Stats(ctx, fn)
	case s.runtime != nil:
		return s.runtime.Stats(fn)
	}
	return RuntimeStats{}, false
}

// withLegacyKeys copies c into an answer map and adds every key of keys it
// lacks as 0.
func withLegacyKeys(c Counters, keys []string) map[string]any {
	out := make(map[string]any, len(c)+len(keys))
	for _, k := range keys {
		out[k] = uint64(0)
	}
	for k, v := range c {
		out[k] = v
	}
	return out
}

// executionStats fills the legacy execution keys, including the curl
// per-method counters.
func executionStats(c Counters) map[string]any {
	out := withLegacyKeys(c, executionStatKeys)
	curl := map[string]any{}
	for _, k := range curlMethodKeys {
		curl[k] = uint64(0)
	}
	// The handler counts per-method calls as "curl.<method>".
	for k, v := range out {
		if m, ok := strings.CutPrefix(k, "curl."); ok {
			curl[m] = v
			delete(out, k)
		}
	}
	out["curl"] = curl
	return out
}

// histogram returns a copy of h, never nil.
func histogram(h map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	maps.Copy(out, h)
	return out
}

// percentiles computes latency_percentile_stats from a histogram whose keys
// are bucket upper bounds in microseconds.
func percentiles(h map[string]uint64) map[string]uint64 {
	type bucket struct {
		bound uint64
		count uint64
	}
	var buckets []bucket
	var total uint64
	for k, c := range h {
		b, err := strconv.ParseUint(k, 10, 64)
		if err != nil || c == 0 {
			continue
		}
		buckets = append(buckets, bucket{b, c})
		total += c
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].bound < buckets[j].bound })
	out := map[string]uint64{}
	for _, p := range latencyPercentiles {
		out[strconv.Itoa(p)] = 0
		if total == 0 {
			continue
		}
		need := (total*uint64(p) + 99) / 100
		var cum uint64
		for _, b := range buckets {
			cum += b.count
			if cum >= need {
				out[strconv.Itoa(p)] = b.bound
				break
			}
		}
	}
	return out
}

// functionStats composes one function's stats answer.
func (s *Service) functionStats(cur *current, rs RuntimeStats, full bool) FunctionStats {
	loc := cur.def.Location()
	fs := FunctionStats{
		FunctionName:                loc.Name,
		FunctionScope:               StatsScope{BucketName: loc.FunctionScope().Bucket, ScopeName: loc.FunctionScope().Scope},
		FunctionID:                  cur.def.HandlerUUID,
		DCPFeedBoundary:             cur.def.Settings.DCPStreamBoundary,
		EventProcessingStats:        withLegacyKeys(rs.EventProcessingStats, eventProcessingStatKeys),
		EventsRemaining:             map[string]uint64{"dcp_backlog": rs.DCPBacklog},
		ExecutionStats:              executionStats(rs.ExecutionStats),
		FailureStats:                withLegacyKeys(rs.FailureStats, failureStatKeys),
		LCBExceptionStats:           histogram(rs.LCBExceptionStats),
		LatencyPercentileStats:      percentiles(rs.LatencyHistogram),
		InternalVBDistributionStats: map[string]string{},
		WorkerPIDs:                  map[string]int{},
		UnreachableNodes:            rs.UnreachableNodes,
	}
	maps.Copy(fs.InternalVBDistributionStats, rs.VBDistribution)
	maps.Copy(fs.WorkerPIDs, rs.WorkerPIDs)
	if full {
		fs.LatencyStats = histogram(rs.LatencyHistogram)
		fs.CurlLatencyStats = histogram(rs.CurlLatencyHistogram)
		seqs := map[string]uint64{}
		for vb, seq := range cur.rec.Checkpoints {
			seqs[strconv.Itoa(vb)] = seq
		}
		fs.SeqsProcessed = seqs
	}
	return fs
}

// Stats returns the stats of every function that has counters (or is in
// a non-undeployed state), sorted by location.
func (s *Service) Stats(ctx context.Context, full bool) []FunctionStats {
	out := []FunctionStats{}
	for _, cur := range s.records() {
		rs, ok := s.runtimeStats(ctx, cur.rec.Name)
		if !ok && !active(cur.status()) {
			continue
		}
		out = append(out, s.functionStats(cur, rs, full))
	}
	return out
}

// FunctionStats returns one function's stats (zeros when not running).
func (s *Service) FunctionStats(ctx context.Context, loc Location, full bool) (FunctionStats, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return FunctionStats{}, err
	}
	rs, _ := s.runtimeStats(ctx, cur.rec.Name)
	return s.functionStats(cur, rs, full), nil
}

// ExecutionStats returns one function's execution_stats.
func (s *Service) ExecutionStats(ctx context.Context, loc Location) (map[string]any, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return nil, err
	}
	rs, _ := s.runtimeStats(ctx, cur.rec.Name)
	return executionStats(rs.ExecutionStats), nil
}

// FailureStats returns one function's failure_stats.
func (s *Service) FailureStats(ctx context.Context, loc Location) (map[string]any, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return nil, err
	}
	rs, _ := s.runtimeStats(ctx, cur.rec.Name)
	return withLegacyKeys(rs.FailureStats, failureStatKeys), nil
}

// LatencyStats returns one function's latency histogram (bucket upper
// bound in µs → count).
func (s *Service) LatencyStats(ctx context.Context, loc Location) (map[string]uint64, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return nil, err
	}
	rs, _ := s.runtimeStats(ctx, cur.rec.Name)
	return histogram(rs.LatencyHistogram), nil
}

// ResetStats zeroes one function's counters: on every node with a Fleet,
// on this node without one.
func (s *Service) ResetStats(ctx context.Context, loc Location) error {
	cur, err := s.mustRead(loc)
	if err != nil {
		return err
	}
	var rerr error
	switch {
	case s.fleet != nil:
		rerr = s.fleet.ResetStats(ctx, cur.rec.Name)
	case s.runtime != nil:
		rerr = s.runtime.ResetStats(cur.rec.Name)
	}
	if err := rerr; err != nil {
		return internalError(err, "Function: %s: failed to reset counters", loc)
	}
	return nil
}

// AppLog returns the function's most recent application log lines,
// newest first. size bounds the bytes read (per node when aggregating,
// size divided by the node count); <= 0 means DefaultAppLogSize. With
// aggregate and a Fleet, every node's tail is merged; otherwise only this
// node's.
func (s *Service) AppLog(ctx context.Context, loc Location, size int, aggregate bool) ([]string, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		size = DefaultAppLogSize
	}
	var texts []string
	if s.fleet != nil && aggregate {
		per := size / max(s.eventingNodes(), 1)
		texts, err = s.fleet.AppLogs(ctx, cur.rec.Name, max(per, 1))
		if err != nil {
			return nil, internalError(err, "Function: %s: failed to collect application logs", loc)
		}
	} else if s.runtime != nil {
		text, err := s.runtime.AppLog(ctx, cur.rec.Name, size)
		if err != nil {
			return nil, internalError(err, "Function: %s: failed to read application log", loc)
		}
		texts = []string{text}
	}
	lines := []string{}
	for _, t := range texts {
		for line := range strings.SplitSeq(t, "\n") {
			if line = strings.TrimRight(line, "\r"); line != "" {
				lines = append(lines, line)
			}
		}
	}
	// Lines start with their timestamp, so reverse lexical order is
	// newest first, as Couchbase sorts them.
	slices.SortStableFunc(lines, func(a, b string) int { return strings.Compare(b, a) })
	return lines, nil
}
