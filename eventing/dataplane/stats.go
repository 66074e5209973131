package dataplane

import (
	"math/bits"
	"sync/atomic"
	"time"

	"eventide/docstore"
	"eventide/handler"
)

// functionCounters are one function's counters on this node: the
// handler's counters (execution, failure and event-processing stats, by
// Couchbase name), its code insight, and the supervisor's latency histogram.
type functionCounters struct {
	Handler *handler.Stats
	// Insight is the function's code insight; workers record a batch's
	// privately and merge it here on commit, like Handler's counts.
	Insight *handler.Insight
	// Latency is the time from a document's write (its CAS) to the start of
	// its handler invocation.
	Latency *latencyHistogram
	// CheckpointFailures counts batches whose commit failed a precondition
	// and were re-run (checkpoint_failure_count).
	CheckpointFailures atomic.Uint64
}

func newFunctionCounters() *functionCounters {
	return &functionCounters{Handler: handler.NewStats(), Insight: handler.NewInsight(),
		Latency: &latencyHistogram{}}
}

func (c *functionCounters) sent(k docstore.EventKind) {
	switch k {
	case docstore.EventMutation:
		c.Handler.Add("dcp_mutation_sent_to_worker", 1)
	case docstore.EventDeletion:
		c.Handler.Add("dcp_deletion_sent_to_worker", 1)
	case docstore.EventExpiration:
		c.Handler.Add("dcp_expiry_sent_to_worker", 1)
	}
}

func (c *functionCounters) suppressed(k docstore.EventKind) {
	if k == docstore.EventMutation {
		c.Handler.Add("dcp_mutation_suppressed_counter", 1)
	} else {
		c.Handler.Add("dcp_deletion_suppressed_counter", 1)
	}
}

// Reset zeroes every counter.
func (c *functionCounters) Reset() {
	c.Handler.Reset()
	c.Insight.Reset()
	c.Latency.Reset()
	c.CheckpointFailures.Store(0)
}

// latencyHistogram counts durations in power-of-two microsecond buckets;
// lock-free for concurrent observers.
type latencyHistogram struct {
	buckets [40]atomic.Uint64 // bucket i: [2^(i-1), 2^i) µs; bucket 0: < 1 µs
}

// Observe records one duration.
func (h *latencyHistogram) Observe(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	i := bits.Len64(uint64(us))
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i].Add(1)
}

// Reset zeroes the histogram.
func (h *latencyHistogram) Reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
}

// Histogram returns bucket upper bound (µs) → count for non-empty buckets.
func (h *latencyHistogram) Histogram() map[uint64]uint64 {
	out := make(map[uint64]uint64)
	for i := range h.buckets {
		if c := h.buckets[i].Load(); c > 0 {
			out[1<<i] = c
		}
	}
	return out
}
