package testlog_test

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"eventide/internal/testlog"
)

// afterAll is a Writer whose test has completed by the time TestMain
// writes to it: t.Log itself would panic there ("Log in goroutine after
// ... has completed"), since neither the test nor a parent can take the
// line.
var afterAll *testlog.Writer

func TestMain(m *testing.M) {
	code := m.Run()
	if afterAll != nil {
		if _, err := afterAll.Write([]byte("after every test\n")); err != nil {
			fmt.Fprintln(os.Stderr, "Write after the test:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func TestWriter_WriteAfterTheWholeTestDoesNotPanic(t *testing.T) {
	afterAll = testlog.New(t)
	if _, err := afterAll.Write([]byte("during the test\n")); err != nil {
		t.Fatal(err)
	}
}

// recordingT is a subtest's testing.T whose Log is recorded, so that a
// test can see which writes reached it, and whether any came after the
// subtest had returned (a real t.Log then goes to the parent test, or
// panics if that has completed too).
type recordingT struct {
	testing.TB
	ended *atomic.Bool // set once the subtest has returned

	mu        sync.Mutex
	lines     []string
	afterEnds int
}

func (r *recordingT) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended.Load() {
		r.afterEnds++
		return
	}
	r.lines = append(r.lines, fmt.Sprint(args...))
}

func (r *recordingT) logged() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines), r.afterEnds
}

func TestWriter_DropsAfterSubtestEnds(t *testing.T) {
	var ended atomic.Bool
	var rec *recordingT
	var w *testlog.Writer
	t.Run("sub", func(t *testing.T) {
		rec = &recordingT{TB: t, ended: &ended}
		w = testlog.New(rec)
		if _, err := w.Write([]byte("during\n")); err != nil {
			t.Fatal(err)
		}
	})
	ended.Store(true)
	n, err := w.Write([]byte("after\n"))
	if err != nil || n != len("after\n") {
		t.Fatalf("Write after the subtest = %d, %v; want %d, nil", n, err, len("after\n"))
	}
	lines, late := rec.logged()
	if late != 0 {
		t.Fatalf("%d writes reached t.Log after the subtest ended", late)
	}
	if !slices.Equal(lines, []string{"during"}) {
		t.Fatalf("lines logged = %q, want [during] (trailing newline trimmed)", lines)
	}
}

// Loggers in background goroutines keep writing while and after their
// test ends; under -race this also checks the Writer's locking.
func TestWriter_ConcurrentWritesAcrossTheEnd(t *testing.T) {
	var ended atomic.Bool
	var rec *recordingT
	var writes atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Run("sub", func(t *testing.T) {
		rec = &recordingT{TB: t, ended: &ended}
		log := slog.New(slog.NewTextHandler(testlog.New(rec), nil))
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					log.Info("tick", "g", g, "i", i)
					writes.Add(1)
				}
			}()
		}
		for writes.Load() < 100 {
			log.Info("waiting for the goroutines")
		}
	})
	ended.Store(true)
	for at := writes.Load(); writes.Load() < at+1000; {
		// the goroutines go on writing after the subtest has returned
	}
	close(stop)
	wg.Wait()
	lines, late := rec.logged()
	if late != 0 {
		t.Fatalf("%d writes reached t.Log after the subtest ended", late)
	}
	if len(lines) < 100 {
		t.Fatalf("%d lines logged during the subtest, want at least 100", len(lines))
	}
}
