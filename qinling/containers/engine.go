package containers

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"eventide/qinling"
)

// Labels set on every container this engine creates.
const (
	LabelFunction  = "eventide.qinling.function"
	LabelExecution = "eventide.qinling.execution"
)

const (
	timeoutMessage = "Function execution timeout."
	// apiTimeout bounds each Docker call but the wait, and cleanup calls
	// made after the run's context ended.
	apiTimeout  = 30 * time.Second
	pingTimeout = 3 * time.Second
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("containers: engine closed")

// Engine runs image functions as containers of one Docker engine.
type Engine struct {
	cfg    Config
	client *http.Client
	base   string // "http://docker/v1.41"
	log    *slog.Logger
	slots  chan struct{}

	// ctx ends at Close: runs in flight kill their containers.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

var _ qinling.Engine = (*Engine)(nil)

// New returns an engine for the Docker engine at cfg.Host. It does not
// contact the daemon: Available does.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	network, addr, _ := parseHost(cfg.Host)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:    cfg.MaxConcurrent * 2,
		IdleConnTimeout: 90 * time.Second,
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:    cfg,
		client: &http.Client{Transport: tr},
		// The host part is a placeholder: the dialer picks the address.
		base:   "http://docker/" + cfg.APIVersion,
		log:    cfg.Logger,
		slots:  make(chan struct{}, cfg.MaxConcurrent),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// Available pings the daemon.
func (e *Engine) Available() error {
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if _, err := e.call(ctx, http.MethodGet, "/_ping", nil, nil); err != nil {
		return fmt.Errorf("docker engine at %s: %w", e.cfg.Host, err)
	}
	return nil
}

// Scale does nothing: every run is a fresh container, none are kept warm.
func (e *Engine) Scale(qinling.Code, int) {}

// Workers is always empty: no container outlives its run.
func (e *Engine) Workers(string, int) []string { return nil }

// Detach does nothing: no container outlives its run.
func (e *Engine) Detach(string) {}

// Pool reports the concurrency bound and the free slots.
func (e *Engine) Pool() qinling.PoolInfo {
	return qinling.PoolInfo{Total: cap(e.slots), Available: cap(e.slots) - len(e.slots)}
}

// Close ends the runs in flight (their containers are killed and removed)
// and waits for them.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	e.client.CloseIdleConnections()
	return nil
}

// Run runs code.Image once with inv's input as its arguments.
func (e *Engine) Run(ctx context.Context, code qinling.Code, inv qinling.Invocation) (qinling.Result, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return qinling.Result{}, ErrClosed
	}
	e.wg.Add(1)
	e.mu.Unlock()
	defer e.wg.Done()
	if code.Image == "" {
		return qinling.Result{}, errors.New("containers: code has no image")
	}
	args, err := Args(inv.Input)
	if err != nil {
		return qinling.Result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.ctx, cancel)
	defer stop()

	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	case <-ctx.Done():
		return qinling.Result{}, fmt.Errorf("containers: waiting for a free slot: %w", ctx.Err())
	}

	// Creation is not abandoned when ctx ends: a request cut mid-way could
	// leave a container the daemon finishes creating after we looked.
	id, failure, err := e.create(context.WithoutCancel(ctx), code, inv, args)
	if err != nil {
		// A transport failure may still have created it: find it by label.
		e.removeLabelled(LabelExecution + "=" + inv.ExecutionID)
	}
	if id != "" && ctx.Err() != nil {
		e.remove(id)
	}
	if ctx.Err() != nil {
		return qinling.Result{}, interrupted(ctx)
	}
	if err != nil || failure != "" {
		return failed(inv.ExecutionID, failure, ""), err
	}
	// The container goes whatever happens, even when ctx has ended.
	defer e.remove(id)

	timeout := code.Timeout
	if timeout <= 0 {
		timeout = e.cfg.DefaultTimeout
	}
	started := time.Now()
	if _, err := e.call(ctx, http.MethodPost, "/containers/"+id+"/start", nil, nil); err != nil {
		if ctx.Err() != nil {
			return qinling.Result{}, interrupted(ctx)
		}
		return failed(inv.ExecutionID, "container did not start: "+err.Error(), ""), nil
	}
	wctx, wcancel := context.WithTimeout(ctx, timeout)
	status, werr := e.wait(wctx, id)
	wcancel()
	dur := time.Since(started)
	if werr != nil {
		e.kill(id)
		stdout, stderr := e.logs(id)
		switch {
		case ctx.Err() != nil:
			return qinling.Result{}, interrupted(ctx)
		case errors.Is(werr, context.DeadlineExceeded):
			res := failed(inv.ExecutionID, timeoutMessage, stderr+stdout)
			res.Duration = timeout
			return res, nil
		}
		return qinling.Result{}, fmt.Errorf("containers: waiting for the container: %w", werr)
	}
	stdout, stderr := e.logs(id)
	if status.code != 0 {
		msg := fmt.Sprintf("Function exited with status %d.", status.code)
		if status.oom {
			msg = fmt.Sprintf("Function exceeded its memory limit of %d bytes.", code.MemoryBytes)
		}
		res := failed(inv.ExecutionID, msg, stderr+stdout)
		res.Duration = dur
		return res, nil
	}
	return qinling.Result{
		Success:  true,
		Output:   outputOf(stdout),
		Log:      framed(inv.ExecutionID, stderr),
		Duration: dur,
	}, nil
}

// interrupted is the error of a run whose context ended: the service (or
// this engine) is closing.
func interrupted(ctx context.Context) error {
	return fmt.Errorf("containers: execution interrupted: %w", ctx.Err())
}

// failed is a failed run's result: the message as its output.
func failed(execID, msg, log string) qinling.Result {
	out, _ := json.Marshal(msg)
	return qinling.Result{Success: false, Output: out, Log: framed(execID, log)}
}

// framed wraps a log in Qinling's execution lines.
func framed(execID, log string) string {
	if log != "" && !strings.HasSuffix(log, "\n") {
		log += "\n"
	}
	return "Start execution: " + execID + "\n" + log + "Finished execution: " + execID + "\n"
}

// outputOf is stdout as the execution's output: JSON as is, anything else
// as a JSON string; nothing is null.
func outputOf(stdout string) json.RawMessage {
	s := strings.TrimSpace(stdout)
	if s == "" {
		return json.RawMessage("null")
	}
	if json.Valid([]byte(s)) {
		var b bytes.Buffer
		if json.Compact(&b, []byte(s)) == nil {
			return b.Bytes()
		}
	}
	out, _ := json.Marshal(s)
	return out
}

// Args turns an execution's input into the container's arguments (see the
// package doc).
func Args(input json.RawMessage) ([]string, error) {
	input = bytes.TrimSpace(input)
	if len(input) == 0 || string(input) == "null" {
		return nil, nil
	}
	switch input[0] {
	case '"':
		var s string
		if err := json.Unmarshal(input, &s); err != nil {
			return nil, fmt.Errorf("containers: input: %w", err)
		}
		return strings.Fields(s), nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(input, &items); err != nil {
			return nil, fmt.Errorf("containers: input: %w", err)
		}
		args := make([]string, 0, len(items))
		for _, it := range items {
			args = append(args, argOf(it))
		}
		return args, nil
	case '{':
		var members map[string]json.RawMessage
		if err := json.Unmarshal(input, &members); err != nil {
			return nil, fmt.Errorf("containers: input: %w", err)
		}
		keys := make([]string, 0, len(members))
		for k := range members {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		args := make([]string, 0, len(keys))
		for _, k := range keys {
			args = append(args, "--"+k+"="+argOf(members[k]))
		}
		return args, nil
	}
	if !json.Valid(input) {
		return nil, errors.New("containers: input is not valid JSON")
	}
	return []string{string(input)}, nil
}

// argOf is a JSON value as one argument: a string's text, else its JSON.
func argOf(v json.RawMessage) string {
	var s string
	if v = bytes.TrimSpace(v); len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		return b.String()
	}
	return string(v)
}

// create creates the run's container. A missing image (or a spec the
// daemon refuses) is the function's failure, returned as a message.
func (e *Engine) create(ctx context.Context, code qinling.Code, inv qinling.Invocation, args []string) (id, failure string, err error) {
	if args == nil {
		args = []string{}
	}
	spec := map[string]any{
		"Image":           code.Image,
		"Labels":          map[string]string{LabelFunction: code.FunctionID, LabelExecution: inv.ExecutionID},
		"NetworkDisabled": true,
		"HostConfig": map[string]any{
			"NetworkMode": "none",
			"AutoRemove":  false,
		},
	}
	if len(args) > 0 {
		// Like Kubernetes args: they replace the image's CMD and follow
		// its ENTRYPOINT. With no input the image's CMD stays.
		spec["Cmd"] = args
	}
	hc := spec["HostConfig"].(map[string]any)
	if code.MemoryBytes > 0 {
		// Swap equal to memory: no swap beyond the limit.
		hc["Memory"] = code.MemoryBytes
		hc["MemorySwap"] = code.MemoryBytes
	}
	if code.CPUMillis > 0 {
		hc["NanoCpus"] = code.CPUMillis * 1_000_000
	}
	body, _ := json.Marshal(spec)
	var created struct{ Id string }
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if _, err := e.call(cctx, http.MethodPost, "/containers/create", body, &created); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusNotFound {
			return "", fmt.Sprintf("Image %s is not on this node's Docker engine (images are never pulled): %s", code.Image, ae.msg), nil
		}
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
			return "", "The container was refused: " + ae.msg, nil
		}
		return "", "", fmt.Errorf("containers: create: %w", err)
	}
	return created.Id, "", nil
}

type exitStatus struct {
	code int
	oom  bool
}

// wait blocks until the container stops or ctx ends.
func (e *Engine) wait(ctx context.Context, id string) (exitStatus, error) {
	var w struct {
		StatusCode int
		Error      *struct{ Message string }
	}
	if _, err := e.call(ctx, http.MethodPost, "/containers/"+id+"/wait?condition=not-running", nil, &w); err != nil {
		if ctx.Err() != nil {
			return exitStatus{}, ctx.Err()
		}
		return exitStatus{}, err
	}
	if w.Error != nil && w.Error.Message != "" {
		return exitStatus{}, errors.New(w.Error.Message)
	}
	st := exitStatus{code: w.StatusCode}
	if st.code != 0 {
		var info struct{ State struct{ OOMKilled bool } }
		ictx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		defer cancel()
		if _, err := e.call(ictx, http.MethodGet, "/containers/"+id+"/json", nil, &info); err == nil {
			st.oom = info.State.OOMKilled
		}
	}
	return st, nil
}

// kill stops a container that overran; errors are logged (remove forces
// it anyway).
func (e *Engine) kill(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if _, err := e.call(ctx, http.MethodPost, "/containers/"+id+"/kill", nil, nil); err != nil {
		var ae *apiError
		// 409: it is no longer running.
		if !errors.As(err, &ae) || ae.status != http.StatusConflict {
			e.log.Warn("containers: kill", "container", id, "err", err)
		}
	}
}

// remove deletes a container, killing it if it still runs.
func (e *Engine) remove(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if _, err := e.call(ctx, http.MethodDelete, "/containers/"+id+"?force=1&v=1", nil, nil); err != nil {
		e.log.Warn("containers: remove", "container", id, "err", err)
	}
}

// removeLabelled removes every container with a label ("key=value").
func (e *Engine) removeLabelled(label string) {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	filters, _ := json.Marshal(map[string][]string{"label": {label}})
	var list []struct{ Id string }
	if _, err := e.call(ctx, http.MethodGet, "/containers/json?all=1&filters="+url.QueryEscape(string(filters)), nil, &list); err != nil {
		e.log.Warn("containers: listing containers to remove", "label", label, "err", err)
		return
	}
	for _, c := range list {
		e.remove(c.Id)
	}
}

// logs reads a stopped container's stdout and stderr, each bounded.
func (e *Engine) logs(id string) (stdout, stderr string) {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/containers/"+id+"/logs?stdout=1&stderr=1", nil)
	if err != nil {
		return "", ""
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.log.Warn("containers: logs", "container", id, "err", err)
		return "", ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.log.Warn("containers: logs", "container", id, "status", resp.Status)
		return "", ""
	}
	out, errOut := demux(resp.Body, e.cfg.MaxOutputBytes)
	return out, errOut
}

// demux splits Docker's multiplexed log stream (a non-TTY container's):
// frames of an 8-byte header (stream, 0, 0, 0, big-endian size) and the
// payload. Each stream keeps at most limit bytes.
func demux(r io.Reader, limit int64) (stdout, stderr string) {
	var bufs [3]bytes.Buffer
	var cut [3]bool
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break
		}
		n := int64(binary.BigEndian.Uint32(hdr[4:]))
		s := int(hdr[0])
		if s != 1 && s != 2 {
			s = 1
		}
		keep := min(n, limit-int64(bufs[s].Len()))
		if keep > 0 {
			if _, err := io.CopyN(&bufs[s], r, keep); err != nil {
				break
			}
		}
		if n > keep {
			cut[s] = true
			if _, err := io.CopyN(io.Discard, r, n-keep); err != nil {
				break
			}
		}
	}
	for s := 1; s <= 2; s++ {
		if cut[s] {
			bufs[s].WriteString("\n[truncated]\n")
		}
	}
	return bufs[1].String(), bufs[2].String()
}

// apiError is a Docker API error response.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return strconv.Itoa(e.status) + ": " + e.msg }

// call makes one API request; a JSON response decodes into out when set.
func (e *Engine) call(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		var m struct{ Message string }
		if json.Unmarshal(data, &m) != nil || m.Message == "" {
			m.Message = strings.TrimSpace(string(data))
		}
		return resp.StatusCode, &apiError{status: resp.StatusCode, msg: m.Message}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding the response: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
