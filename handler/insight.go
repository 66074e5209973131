package handler

import "sync"

// Code insight (§2.1): per line of a function's code, how many uncaught
// exceptions were thrown there, the last one's message, and the last text
// log() wrote from there. Lines are numbered as compile errors and the
// application log number them: in the user's code, whatever headers and
// constants were injected around it. eventide measures no per-line call
// counts or call times, so it reports none.

// InsightLine is what code insight knows about one line of a function's
// code.
type InsightLine struct {
	// ErrorCount is the number of uncaught exceptions (and timeouts) whose
	// innermost frame in the user's code was on this line.
	ErrorCount int64 `json:"error_count"`
	// ErrorMsg is the last such exception, rendered as the application log
	// renders it ("Error: boom"); "" if none.
	ErrorMsg string `json:"error_msg"`
	// LastLog is the text of the last log() call made from this line, as
	// written to the application log; "" if none.
	LastLog string `json:"last_log"`
}

// Insight collects code insight for one function on one node. Every
// worker of the function shares it; it is safe for concurrent use. The
// methods of a nil *Insight do nothing (Snapshot returns an empty map).
//
// A batch that the supervisor re-runs (a commit conflict, a stop in the
// middle of a batch) records its exceptions and logs again, as it writes
// them to the application log again.
type Insight struct {
	mu    sync.Mutex // guards lines
	lines map[int]*InsightLine
}

// NewInsight returns an empty Insight.
func NewInsight() *Insight { return &Insight{lines: make(map[int]*InsightLine)} }

// line returns the entry of line n, creating it; in.mu must be held.
func (in *Insight) line(n int) *InsightLine {
	l := in.lines[n]
	if l == nil {
		l = &InsightLine{}
		in.lines[n] = l
	}
	return l
}

// recordError counts an uncaught exception thrown on user line n.
func (in *Insight) recordError(n int, msg string) {
	if in == nil || n <= 0 {
		return
	}
	in.mu.Lock()
	l := in.line(n)
	l.ErrorCount++
	l.ErrorMsg = msg
	in.mu.Unlock()
}

// recordLog keeps text as the last log of user line n.
func (in *Insight) recordLog(n int, text string) {
	if in == nil || n <= 0 {
		return
	}
	in.mu.Lock()
	in.line(n).LastLog = text
	in.mu.Unlock()
}

// Snapshot returns a copy of every line's insight, by user line number
// (1-based). Lines with nothing recorded are absent.
func (in *Insight) Snapshot() map[int]InsightLine {
	out := make(map[int]InsightLine)
	if in == nil {
		return out
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for n, l := range in.lines {
		out[n] = *l
	}
	return out
}

// MergeInto moves everything recorded into dst: counts are added, and the
// messages recorded here, being newer, replace dst's. A worker records a
// batch privately and merges once the batch is committed, so a batch that
// is re-run is recorded once.
func (in *Insight) MergeInto(dst *Insight) {
	if in == nil || dst == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.lines) == 0 {
		return
	}
	dst.mu.Lock()
	for n, l := range in.lines {
		d := dst.line(n)
		d.ErrorCount += l.ErrorCount
		if l.ErrorMsg != "" {
			d.ErrorMsg = l.ErrorMsg
		}
		if l.LastLog != "" {
			d.LastLog = l.LastLog
		}
	}
	dst.mu.Unlock()
	in.lines = make(map[int]*InsightLine)
}

// Reset forgets everything recorded.
func (in *Insight) Reset() {
	if in == nil {
		return
	}
	in.mu.Lock()
	in.lines = make(map[int]*InsightLine)
	in.mu.Unlock()
}

// MergeInsight combines the snapshots of several nodes: per line the error
// counts are summed, and ErrorMsg and LastLog are the first non-empty ones
// in argument order (a node's "last" cannot be ordered against another's,
// so callers pass the snapshots in a stable order, such as by node id, to
// get a stable answer). Line numbers <= 0 are dropped. The result is never
// nil; the arguments are not changed.
func MergeInsight(snapshots ...map[int]InsightLine) map[int]InsightLine {
	out := make(map[int]InsightLine)
	for _, snap := range snapshots {
		for n, l := range snap {
			if n <= 0 {
				continue
			}
			m := out[n]
			m.ErrorCount += l.ErrorCount
			if m.ErrorMsg == "" {
				m.ErrorMsg = l.ErrorMsg
			}
			if m.LastLog == "" {
				m.LastLog = l.LastLog
			}
			out[n] = m
		}
	}
	return out
}

// insightStackDepth bounds the frames looked at to find log()'s caller:
// the native write, log.js's log, and the caller, with room for a caller
// that passes log to a built-in (arr.forEach(log)).
const insightStackDepth = 6

// insightRecordFailure records a failed invocation at the line it failed
// on; failures with no position in the user's code (a timer whose stored
// context is not JSON) are only counted in the failure stats.
func (w *Worker) insightRecordFailure(ie *InvocationError) {
	if w.insight != nil {
		w.insight.recordError(ie.Line, ie.Message)
	}
}

// insightRecordLog records text as the last log of the user line that
// called log(). It runs inside log()'s native write, so the innermost
// user frame of the JavaScript stack is the caller; the frames go into a
// buffer the worker reuses, so a log line allocates nothing here.
func (w *Worker) insightRecordLog(text string) {
	if w.insight == nil {
		return
	}
	w.stackBuf = w.vm.CaptureCallStack(insightStackDepth, w.stackBuf[:0])
	for i := range w.stackBuf {
		pos := w.stackBuf[i].Position()
		if pos.Filename != handlerFileName {
			continue
		}
		if line, _, ok := w.p.userPos(pos.Line, pos.Column); ok {
			w.insight.recordLog(line, text)
		}
		return
	}
}
