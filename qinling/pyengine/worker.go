package pyengine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"eventide/qinling"
)

// worker is one python3 process running worker.py for one pool. Only the
// goroutine that took it from the pool (or started it) uses req and rd;
// dropped and lastUsed are guarded by Engine.mu.
type worker struct {
	pool   *pool
	name   string // by its pid, for Engine.Workers and ps
	cmd    *exec.Cmd
	req    *os.File      // fd 3 of the child: requests
	resp   *os.File      // fd 4 of the child: frames
	rd     *bufio.Reader // over resp
	exited chan struct{} // closed once the process is reaped

	dropped  bool
	lastUsed time.Time
}

// frame is one line the worker writes on fd 4.
type frame struct {
	T         string          `json:"t"` // ready, log, result
	S         string          `json:"s"` // log text
	Version   string          `json:"version"`
	Success   bool            `json:"success"`
	Output    json.RawMessage `json:"output"`
	Retire    bool            `json:"retire"`    // the worker exits after this result
	Truncated bool            `json:"truncated"` // the worker dropped log past its cap
}

// unreserve undoes the count of a worker that never started.
func (e *Engine) unreserve(p *pool) {
	e.mu.Lock()
	p.live--
	e.live--
	drop := e.removableLocked(p)
	e.wakeLocked()
	e.mu.Unlock()
	removeDirs(drop)
}

// start starts a worker for p and waits for its ready frame. The caller
// has counted it in p.live and e.live; on failure the count is undone (by
// unreserve before the process exists, by its reaper after).
func (e *Engine) start(ctx context.Context, p *pool) (*worker, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		e.unreserve(p)
		return nil, fmt.Errorf("%w: %v", ErrWorkerStart, err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		e.unreserve(p)
		reqR.Close()
		reqW.Close()
		return nil, fmt.Errorf("%w: %v", ErrWorkerStart, err)
	}
	log := e.log.With("function", p.key.fn, "version", p.key.version)
	cmd := exec.Command(e.python, "-u", "-B", "-E", e.script, p.dir,
		strconv.FormatInt(p.memory, 10), strconv.Itoa(e.cfg.MaxLogBytes), strconv.Itoa(e.cfg.MaxOutputBytes),
		strconv.Itoa(os.Getpid()))
	cmd.Dir = p.dir
	// A clean environment: the node's own (credentials among it) is none
	// of the function's business.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + p.dir, "LANG=C.UTF-8", "PYTHONIOENCODING=utf-8",
	}
	cmd.ExtraFiles = []*os.File{reqR, respW}
	stray := &strayLog{log: log}
	cmd.Stdout, cmd.Stderr = stray, stray
	// Its own process group, so a timeout kills whatever it forked too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild holding stdout open must not stall the reaper.
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	reqR.Close()
	respW.Close()
	if err != nil {
		e.unreserve(p)
		reqW.Close()
		respR.Close()
		return nil, fmt.Errorf("%w: %v", ErrWorkerStart, err)
	}
	w := &worker{
		pool: p, cmd: cmd, req: reqW, resp: respR, rd: bufio.NewReaderSize(respR, 64<<10), exited: make(chan struct{}),
		name: "pyworker-" + strconv.Itoa(cmd.Process.Pid),
	}
	e.mu.Lock()
	p.workers[w] = struct{}{}
	closed := e.closed
	e.mu.Unlock()
	if closed {
		// Close has already killed the workers it knew of.
		w.kill()
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		err := cmd.Wait()
		close(w.exited)
		w.req.Close()
		e.mu.Lock()
		dropped := w.dropped
		drop := e.dropLocked(w)
		e.mu.Unlock()
		removeDirs(drop)
		if !dropped {
			log.Warn("python worker exited", "pid", cmd.Process.Pid, "err", err)
		}
	}()

	// The ready frame says the interpreter is up and its limits are set.
	deadline := time.AfterFunc(e.cfg.StartTimeout, w.kill)
	stopCtx := context.AfterFunc(ctx, w.kill)
	line, err := readFrame(w.rd, 64<<10)
	timedOut := !deadline.Stop()
	cancelled := !stopCtx()
	var f frame
	if err == nil {
		err = json.Unmarshal(line, &f)
	}
	if err == nil && f.T != "ready" {
		err = fmt.Errorf("first frame is %q, not ready", f.T)
	}
	if err != nil || timedOut || cancelled {
		w.kill()
		<-w.exited
		w.resp.Close()
		switch {
		case cancelled:
			return nil, ctx.Err()
		case e.isClosed():
			return nil, ErrClosed
		case timedOut:
			return nil, fmt.Errorf("%w within %v", ErrWorkerStart, e.cfg.StartTimeout)
		}
		return nil, fmt.Errorf("%w: %v%s", ErrWorkerStart, err, stray.tail())
	}
	log.Debug("python worker started", "pid", cmd.Process.Pid, "python", f.Version)
	return w, nil
}

// kill kills the worker's process group. Safe to call at any time.
func (w *worker) kill() {
	select {
	case <-w.exited:
		return // reaped: its pid may belong to someone else now
	default:
	}
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	_ = w.cmd.Process.Kill()
}

// gone reports whether the process has exited.
func (w *worker) gone() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// execute runs one request on w. reusable is false when w was killed or
// died, or asked to retire.
func (e *Engine) execute(ctx context.Context, w *worker, id string, req []byte, timeout time.Duration) (res qinling.Result, reusable bool, err error) {
	var timedOut, cancelled atomic.Bool
	start := time.Now()
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); w.kill() })
	stopCtx := context.AfterFunc(ctx, func() { cancelled.Store(true); w.kill() })

	logb := newLogBuilder(e.cfg.MaxLogBytes)
	logb.line("Start execution: " + id)
	var result *frame
	_, werr := w.req.Write(req)
	rerr := werr
	for rerr == nil && result == nil {
		var line []byte
		line, rerr = readFrame(w.rd, e.cfg.MaxOutputBytes+(2<<20))
		if rerr != nil {
			break
		}
		var f frame
		if err := json.Unmarshal(line, &f); err != nil {
			rerr = fmt.Errorf("bad frame: %w", err)
			break
		}
		switch f.T {
		case "log":
			logb.add(f.S)
		case "result":
			result = &f
		}
	}
	dur := time.Since(start)
	fired := !timer.Stop()
	stopped := !stopCtx()
	reusable = result != nil && !fired && !stopped && !result.Retire

	switch {
	case result != nil:
		if result.Truncated {
			logb.truncated = true
		}
		logb.finish()
		logb.line("Finished execution: " + id)
		out := result.Output
		if len(out) == 0 {
			out = json.RawMessage("null")
		}
		return qinling.Result{Success: result.Success, Output: out, Log: logb.String(), Duration: dur}, reusable, nil
	case cancelled.Load():
		return qinling.Result{}, false, fmt.Errorf("pyengine: execution %s: %w", id, ctx.Err())
	case timedOut.Load():
		logb.finish()
		return failure(timeoutMessage, logb.String(), dur), false, nil
	case e.isClosed():
		return qinling.Result{}, false, fmt.Errorf("execution %s: %w", id, ErrClosed)
	default:
		// The worker died under the function (a memory limit the
		// interpreter could not turn into MemoryError, os._exit, a crash)
		// or broke the protocol: Qinling's runtime reported the same.
		w.kill()
		e.log.Warn("python worker failed during an execution", "function", w.pool.key.fn, "execution", id, "err", rerr)
		logb.finish()
		return failure(resourceMessage, logb.String(), dur), false, nil
	}
}

func failure(msg, log string, d time.Duration) qinling.Result {
	out, _ := json.Marshal(msg)
	return qinling.Result{Success: false, Output: out, Log: log, Duration: d}
}

// readFrame reads one line of at most max bytes.
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			return nil, fmt.Errorf("frame longer than %d bytes", max)
		}
		buf = append(buf, chunk...)
		if err == nil {
			return buf, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// logBuilder is one execution's log, capped.
type logBuilder struct {
	strings.Builder
	max       int
	truncated bool
}

func newLogBuilder(max int) *logBuilder { return &logBuilder{max: max} }

func (b *logBuilder) line(s string) {
	b.WriteString(s)
	b.WriteByte('\n')
}

func (b *logBuilder) add(s string) {
	room := b.max - b.Len()
	if room <= 0 {
		b.truncated = b.truncated || s != ""
		return
	}
	if len(s) > room {
		// Cut at a rune's start, so the log stays valid UTF-8.
		for room > 0 && !utf8.RuneStart(s[room]) {
			room--
		}
		s, b.truncated = s[:room], true
	}
	b.WriteString(s)
}

// finish ends the function's part of the log: a newline if it did not
// end with one, and a note if it was cut.
func (b *logBuilder) finish() {
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	if b.truncated {
		b.line(fmt.Sprintf("(log truncated at %d bytes)", b.max))
	}
}

// strayLog sends what a worker writes on fds 1 and 2 (outside any
// execution, or below Python's sys.stdout) to the engine's log, and keeps
// the last bytes for a start failure's message.
type strayLog struct {
	log  *slog.Logger
	last atomic.Value // string
}

func (s *strayLog) Write(p []byte) (int, error) {
	text := strings.TrimRight(string(p), "\n")
	if len(text) > 4096 {
		text = text[:4096] + "..."
	}
	s.log.Debug("python worker output", "text", text)
	s.last.Store(text)
	return len(p), nil
}

func (s *strayLog) tail() string {
	if v, _ := s.last.Load().(string); v != "" {
		return ": " + lastLine(v)
	}
	return ""
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}
