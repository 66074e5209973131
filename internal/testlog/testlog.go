package testlog

import (
	"strings"
	"sync"
	"testing"
)

// Writer is an io.Writer that sends each write to t.Log until t's test
// ends, then drops writes. It is safe for concurrent use.
type Writer struct {
	t testing.TB

	mu   sync.Mutex // held across t.Log, so no write reaches t after done is set
	done bool
}

// New returns a Writer for t. It registers a t.Cleanup that marks the test
// ended; cleanups run last-registered first, so create the Writer before
// whatever it logs for (a node, a server) and the Writer still forwards
// while their cleanups stop them.
func New(t testing.TB) *Writer {
	w := &Writer{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

// Write logs p, less one trailing newline (t.Log adds its own), unless the
// test has ended. It always reports the whole of p written.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
