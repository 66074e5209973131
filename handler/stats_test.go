package handler

import (
	"sync"
	"testing"
)

func TestStats(t *testing.T) {
	s := NewStats()
	snap := s.Snapshot()
	for _, name := range []string{"on_update_success", "on_update_failure", "on_delete_success", "on_delete_failure",
		"timeout_count", "bucket_op_exception_count", "dcp_mutation_msg_counter", "dcp_delete_msg_counter"} {
		if v, ok := snap[name]; !ok || v != 0 {
			t.Errorf("snapshot[%s] = %d, %v", name, v, ok)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				s.inc(statOnUpdateSuccess)
			}
		}()
	}
	wg.Wait()
	if !s.Add("timer_create_counter", 5) || s.Add("no_such_counter", 1) {
		t.Error("Add known/unknown")
	}
	snap = s.Snapshot()
	if snap["on_update_success"] != 4000 || snap["timer_create_counter"] != 5 {
		t.Errorf("snapshot = %v", snap)
	}
	if s.Get("no_such_counter") != 0 || s.Get("on_update_success") != 4000 {
		t.Error("Get")
	}
	s.Reset()
	for k, v := range s.Snapshot() {
		if v != 0 {
			t.Errorf("after Reset %s = %d", k, v)
		}
	}
	groups := map[string]string{
		"on_update_success":               StatGroupExecution,
		"dcp_mutation_msg_counter":        StatGroupExecution,
		"timeout_count":                   StatGroupFailure,
		"bucket_op_exception_count":       StatGroupFailure,
		"dcp_mutation_suppressed_counter": StatGroupEventProcessing,
		"nope":                            "",
	}
	for name, want := range groups {
		if got := StatGroup(name); got != want {
			t.Errorf("StatGroup(%s) = %q, want %q", name, got, want)
		}
	}
}
