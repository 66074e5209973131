package eventing_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"eventide/eventing"
)

// Per-node stats cross the wire as JSON and are summed with Add: counters
// and histograms add up exactly, worker names and vbucket shares unite.
func TestRuntimeStats_AddAfterJSONRoundTrip(t *testing.T) {
	nodes := []eventing.RuntimeStats{
		{
			ExecutionStats:   eventing.Counters{"on_update_success": 1 << 53, "curl.get": 2},
			FailureStats:     eventing.Counters{"timeout_count": 1},
			LatencyHistogram: eventing.Counters{"128": 3},
			DCPBacklog:       4,
			WorkerPIDs:       map[string]int{"worker_f_0": 1},
			VBDistribution:   map[string]string{"worker_f_0": "[0-1]"},
		},
		{
			ExecutionStats:       eventing.Counters{"on_update_success": 1, "on_delete_success": 5},
			EventProcessingStats: eventing.Counters{"dcp_mutation_sent_to_worker": 6},
			LatencyHistogram:     eventing.Counters{"128": 1, "256": 2},
			CurlLatencyHistogram: eventing.Counters{"1024": 1},
			LCBExceptionStats:    eventing.Counters{"201": 1},
			DCPBacklog:           1,
			WorkerPIDs:           map[string]int{"worker_f_1": 2},
			VBDistribution:       map[string]string{"worker_f_1": "[2-3]"},
		},
		{}, // a node with no counters yet
	}
	var sum eventing.RuntimeStats
	for _, n := range nodes {
		b, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		var got eventing.RuntimeStats
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		sum.Add(got)
	}
	want := eventing.RuntimeStats{
		ExecutionStats:       eventing.Counters{"on_update_success": 1<<53 + 1, "curl.get": 2, "on_delete_success": 5},
		FailureStats:         eventing.Counters{"timeout_count": 1},
		EventProcessingStats: eventing.Counters{"dcp_mutation_sent_to_worker": 6},
		LatencyHistogram:     eventing.Counters{"128": 4, "256": 2},
		CurlLatencyHistogram: eventing.Counters{"1024": 1},
		LCBExceptionStats:    eventing.Counters{"201": 1},
		DCPBacklog:           5,
		WorkerPIDs:           map[string]int{"worker_f_0": 1, "worker_f_1": 2},
		VBDistribution:       map[string]string{"worker_f_0": "[0-1]", "worker_f_1": "[2-3]"},
	}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("sum\n%+v\nwant\n%+v", sum, want)
	}
}
