package dataplane

import (
	"log/slog"
	"testing"
	"time"
)

// A worker stuck where interrupts do not reach is abandoned at the
// deadline instead of blocking the stop; a worker that returns is waited for.
func TestRunner_WaitAbandonsStuckWorkersAtTheDeadline(t *testing.T) {
	r := &runner{name: "fn", log: slog.New(slog.DiscardHandler)}
	release := make(chan struct{})
	r.wg.Add(1)
	go func() { <-release; r.wg.Done() }()
	if r.wait(time.Now().Add(20 * time.Millisecond)) {
		t.Fatal("wait reported a stuck worker as returned")
	}
	close(release)
	if !r.wait(time.Now().Add(time.Minute)) {
		t.Fatal("wait gave up on a worker that returned")
	}
}
