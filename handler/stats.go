package handler

import "sync/atomic"

// stat indexes a counter in Stats.
type stat int

const (
	// execution_stats
	statOnUpdateSuccess stat = iota
	statOnUpdateFailure
	statOnDeleteSuccess
	statOnDeleteFailure
	statDCPMutationMsg
	statDCPDeleteMsg
	statFilteredDCPMutation
	statFilteredDCPDelete
	statMessagesParsed
	statNumProcessedEvents
	statTimerCreate
	statTimerCreateFailure
	statTimerCancel
	statTimerCallbackSuccess
	statTimerCallbackFailure
	statTimerMsg
	statCurlSuccess
	statCurlGet // per-method calls, nested under execution_stats.curl
	statCurlPost
	statCurlPut
	statCurlDelete
	statCurlHead
	statLCBRetryFailure

	// failure_stats
	statBucketOpException
	statBktOpsCASMismatch
	statTimeout
	statN1QLOpException
	statTimerCallbackMissing
	statTimerContextSizeException
	statCurlNon200
	statCurlTimeout
	statCurlFailure
	statCurlMaxRespSizeExceeded
	statBucketOpCacheMiss
	statBucketCacheOverflow
	statCommitTooLarge
	statEventSkipped
	statMemoryBudget

	// event_processing_stats
	statDCPMutationSentToWorker
	statDCPDeletionSentToWorker
	statDCPExpirySentToWorker
	statDCPMutationSuppressed
	statDCPDeletionSuppressed

	numStats
)

// Stat groups, as Couchbase's /api/v1/stats nests them.
const (
	StatGroupExecution       = "execution_stats"
	StatGroupFailure         = "failure_stats"
	StatGroupEventProcessing = "event_processing_stats"
)

var statNames = [numStats]string{
	statOnUpdateSuccess:      "on_update_success",
	statOnUpdateFailure:      "on_update_failure",
	statOnDeleteSuccess:      "on_delete_success",
	statOnDeleteFailure:      "on_delete_failure",
	statDCPMutationMsg:       "dcp_mutation_msg_counter",
	statDCPDeleteMsg:         "dcp_delete_msg_counter",
	statFilteredDCPMutation:  "filtered_dcp_mutation_counter",
	statFilteredDCPDelete:    "filtered_dcp_delete_counter",
	statMessagesParsed:       "messages_parsed",
	statNumProcessedEvents:   "num_processed_events",
	statTimerCreate:          "timer_create_counter",
	statTimerCreateFailure:   "timer_create_failure",
	statTimerCancel:          "timer_cancel_counter",
	statTimerCallbackSuccess: "timer_callback_success",
	statTimerCallbackFailure: "timer_callback_failure",
	statTimerMsg:             "timer_msg_counter",
	statCurlSuccess:          "curl_success_count",
	statCurlGet:              "curl.get",
	statCurlPost:             "curl.post",
	statCurlPut:              "curl.put",
	statCurlDelete:           "curl.delete",
	statCurlHead:             "curl.head",
	statLCBRetryFailure:      "lcb_retry_failure",

	statBucketOpException:         "bucket_op_exception_count",
	statBktOpsCASMismatch:         "bkt_ops_cas_mismatch_count",
	statTimeout:                   "timeout_count",
	statN1QLOpException:           "n1ql_op_exception_count",
	statTimerCallbackMissing:      "timer_callback_missing_counter",
	statTimerContextSizeException: "timer_context_size_exception_counter",
	statCurlNon200:                "curl_non_200_response",
	statCurlTimeout:               "curl_timeout_count",
	statCurlFailure:               "curl_failure_count",
	statCurlMaxRespSizeExceeded:   "curl_max_resp_size_exceeded",
	statBucketOpCacheMiss:         "bucket_op_cache_miss_count",
	statBucketCacheOverflow:       "bucket_cache_overflow_count",
	// eventide's: invocations whose writes exceeded the replicated-command
	// limit, and events given up on after their retries.
	statCommitTooLarge: "commit_too_large_count",
	statEventSkipped:   "events_skipped_count",
	statMemoryBudget:   "memory_budget_exceeded_count",

	statDCPMutationSentToWorker: "dcp_mutation_sent_to_worker",
	statDCPDeletionSentToWorker: "dcp_deletion_sent_to_worker",
	statDCPExpirySentToWorker:   "dcp_expiry_sent_to_worker",
	statDCPMutationSuppressed:   "dcp_mutation_suppressed_counter",
	statDCPDeletionSuppressed:   "dcp_deletion_suppressed_counter",
}

func statGroupOf(st stat) string {
	switch {
	case st < statBucketOpException:
		return StatGroupExecution
	case st < statDCPMutationSentToWorker:
		return StatGroupFailure
	}
	return StatGroupEventProcessing
}

var statByName = func() map[string]stat {
	m := make(map[string]stat, numStats)
	for i, n := range statNames {
		m[n] = stat(i)
	}
	return m
}()

// Stats holds the counters of one function on one node, shared by its
// workers. The zero value is ready to use; all methods are safe for
// concurrent use.
type Stats struct {
	c [numStats]atomic.Uint64
}

// NewStats returns zeroed counters.
func NewStats() *Stats { return new(Stats) }

func (s *Stats) inc(st stat) { s.c[st].Add(1) }

// Add adds delta to the counter with the given Couchbase name (for counters
// kept outside this package, e.g. timers or suppression at the stream). It
// reports false for an unknown name.
func (s *Stats) Add(name string, delta uint64) bool {
	st, ok := statByName[name]
	if !ok {
		return false
	}
	s.c[st].Add(delta)
	return true
}

// Get returns the counter with the given Couchbase name (0 if unknown).
func (s *Stats) Get(name string) uint64 {
	if st, ok := statByName[name]; ok {
		return s.c[st].Load()
	}
	return 0
}

// Snapshot returns every counter by its Couchbase name (on_update_success,
// on_update_failure, on_delete_success, on_delete_failure, timeout_count,
// bucket_op_exception_count, dcp_mutation_msg_counter,
// dcp_delete_msg_counter, ...). Counters never touched are present as 0, as
// Couchbase reports them.
func (s *Stats) Snapshot() map[string]uint64 {
	m := make(map[string]uint64, numStats)
	for i := range s.c {
		m[statNames[i]] = s.c[i].Load()
	}
	return m
}

// MergeInto adds every counter to dst and zeroes it here: a worker counts a
// batch privately and merges once the batch is committed, so a batch that
// is re-run is counted once.
func (s *Stats) MergeInto(dst *Stats) {
	for i := range s.c {
		if v := s.c[i].Swap(0); v != 0 {
			dst.c[i].Add(v)
		}
	}
}

// Reset zeroes every counter.
func (s *Stats) Reset() {
	for i := range s.c {
		s.c[i].Store(0)
	}
}

// StatGroup returns the group a counter belongs to in Couchbase's stats
// document: StatGroupExecution, StatGroupFailure or StatGroupEventProcessing
// ("" for an unknown name).
func StatGroup(name string) string {
	st, ok := statByName[name]
	if !ok {
		return ""
	}
	return statGroupOf(st)
}
