package pyengine

import (
	"strings"
	"testing"
)

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config (all defaults): %v", err)
	}
	bad := Config{MaxWorkers: 2, MaxWorkersPerFunction: 3, WarmWorkers: 5, IdleTimeout: -1, MaxLogBytes: -1}
	err := bad.Validate()
	if err == nil {
		t.Fatal("a bad config validated")
	}
	for _, want := range []string{"MaxWorkersPerFunction 3 exceeds MaxWorkers 2", "WarmWorkers 5", "IdleTimeout -1ns is negative", "limits must not be negative"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// An engine with a bad config is unavailable, and says why.
	e := New(bad)
	defer e.Close()
	if err := e.Available(); err == nil || !strings.Contains(err.Error(), "exceeds MaxWorkers") {
		t.Fatalf("Available = %v", err)
	}
}
