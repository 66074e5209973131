package qinling

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"eventide/consensus"
)

// maxLogBytes bounds an execution's stored log; the rest is cut.
const maxLogBytes = 1 << 20

// runGrace is how long past its timeout a run's context lives: the engine
// enforces the timeout itself and reports it as the function's failure;
// the context is the backstop for an engine that does not.
const runGrace = 5 * time.Second

// executionRec is an execution's record: the API's view plus the node
// running it (for FailOrphans).
type executionRec struct {
	Execution
	NodeID string `json:"node_id"`
	// StartAt is set on a job's firing: NodeID starts it then, on its own
	// clock, and its record in tableFirings says it is still to start.
	StartAt time.Time `json:"start_at,omitzero"`
}

// sortByCreated sorts by creation time, then id.
func sortByCreated[T any](xs []T, key func(T) (Time, string)) {
	slices.SortStableFunc(xs, func(a, b T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		if c := ta.Compare(tb.Time); c != 0 {
			return c
		}
		return cmp.Compare(ia, ib)
	})
}

// normalizeInput turns an execution's input as it came (a JSON object or
// value, or a JSON string holding JSON or plain text, as the openstack
// client sends it) into the input string shown and the JSON the engine
// gets. Plain text reaches the engine as a JSON string.
func normalizeInput(raw json.RawMessage) (shown string, forEngine json.RawMessage, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, nil
	}
	if !json.Valid(raw) {
		return "", nil, badRequest("input is not valid JSON")
	}
	if raw[0] != '"' {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", nil, badRequest("input: %v", err)
		}
		return b.String(), b.Bytes(), nil
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return "", nil, badRequest("input: %v", err)
	}
	if text == "" {
		return "", nil, nil
	}
	if inner := bytes.TrimSpace([]byte(text)); json.Valid(inner) {
		var b bytes.Buffer
		_ = json.Compact(&b, inner)
		return text, b.Bytes(), nil
	}
	quoted, _ := json.Marshal(text)
	return text, quoted, nil
}

// formatResult is Qinling's result string: {"duration": s, "output": o}.
func formatResult(d time.Duration, output json.RawMessage) string {
	out := bytes.TrimSpace(output)
	if len(out) == 0 {
		out = []byte("null")
	} else if !json.Valid(out) {
		out, _ = json.Marshal(string(out))
	}
	secs := math.Round(d.Seconds()*1000) / 1000
	return fmt.Sprintf(`{"duration": %s, "output": %s}`, strconv.FormatFloat(secs, 'f', -1, 64), out)
}

// failureResult is the result of an execution that could not run or was
// lost: its output is the reason.
func failureResult(reason string) string {
	msg, _ := json.Marshal(reason)
	return formatResult(0, msg)
}

// codeFor assembles what the engine needs to run version n of f.
func (s *Service) codeFor(f Function, n int) (Code, error) {
	code := Code{
		FunctionID:  f.ID,
		Version:     n,
		Timeout:     time.Duration(f.Timeout) * time.Second,
		MemoryBytes: f.MemorySize,
		CPUMillis:   f.CPU,
	}
	if f.Code.Source == SourceImage {
		code.Image = f.Code.Image
		return code, nil
	}
	sum, entry := f.Code.MD5Sum, string(f.Entry)
	if n > 0 {
		v, _, err := s.version(f, n)
		if err != nil {
			return Code{}, err
		}
		sum, entry = v.MD5Sum, v.Entry
	}
	pkg, err := s.packageOf(f.ID, FunctionCode{Source: SourcePackage, MD5Sum: sum})
	if err != nil {
		return Code{}, err
	}
	if rt, _, err := getRec[Runtime](s, tableRuntimes, string(f.RuntimeID), "runtime"); err == nil {
		code.Image = rt.Image
	}
	code.Digest, code.Package, code.Entry = sum, pkg, entry
	return code, nil
}

// CreateExecution runs a function on this node, at most once. Sync: it
// returns when the run ended, with its result. Async: it returns the
// running record at once and the run goes on in the background.
func (s *Service) CreateExecution(ctx context.Context, c Caller, spec ExecutionSpec) (Execution, error) {
	if err := checkCaller(c); err != nil {
		return Execution{}, err
	}
	return s.execute(ctx, c, spec)
}

func (s *Service) execute(ctx context.Context, c Caller, spec ExecutionSpec) (Execution, error) {
	if err := checkField("description", spec.Description, false); err != nil {
		return Execution{}, err
	}
	r, err := s.runnableOf(c, spec.FunctionID, spec.FunctionAlias, spec.FunctionVersion)
	if err != nil {
		return Execution{}, err
	}
	shown, input, err := normalizeInput(spec.Input)
	if err != nil {
		return Execution{}, err
	}
	sync := spec.Sync == nil || *spec.Sync
	rec := executionRec{
		Execution: Execution{
			ID:              uuid.NewString(),
			FunctionID:      r.f.ID,
			FunctionVersion: r.n,
			FunctionAlias:   NullString(spec.FunctionAlias),
			Description:     NullString(spec.Description),
			Sync:            sync,
			Input:           NullString(shown),
			Status:          ExecutionRunning,
			ProjectID:       r.f.ProjectID,
			CreatedAt:       Time{s.now()},
		},
		NodeID: s.cfg.NodeID,
	}
	if err := s.hold(rec.ID); err != nil {
		return Execution{}, err
	}
	rs, err := s.write(ctx, putChange(tableExecutions, rec.ID, 0, rec))
	if err != nil {
		s.release(rec.ID)
		return Execution{}, err
	}
	done := s.start(r, input, rec, rs[0].Version)
	if !sync {
		return rec.Execution, nil
	}
	select {
	case e := <-done:
		return e, nil
	case <-ctx.Done():
		// The run goes on and records its result; this caller left.
		return Execution{}, ctx.Err()
	}
}

// runnable is what running version n (0: the latest code) of function f
// on this node takes.
type runnable struct {
	f      Function
	n      int
	engine Engine
	code   Code
}

// runnableOf resolves what an execution of function fid (or of alias's
// version) runs, in the caller's project, and checks that this node can
// run it.
func (s *Service) runnableOf(c Caller, fid, alias string, n int) (runnable, error) {
	r, err := s.resolve(c, fid, alias, n)
	if err != nil {
		return runnable{}, err
	}
	if err := r.engine.Available(); err != nil {
		return runnable{}, errorf(http.StatusConflict, "runtime of function %s is not available on node %s: %v", r.f.ID, s.cfg.NodeID, err)
	}
	return r, nil
}

// resolve is runnableOf without the check that this node can run it: the
// leader resolves a job's firing, which another node may run.
func (s *Service) resolve(c Caller, fid, alias string, n int) (runnable, error) {
	if alias != "" {
		a, _, err := s.alias(c, alias)
		if err != nil {
			return runnable{}, err
		}
		fid, n = a.FunctionID, a.FunctionVersion
	}
	if fid == "" {
		return runnable{}, badRequest("either function_alias or function_id must be provided")
	}
	if n < 0 {
		return runnable{}, badRequest("function_version must not be negative")
	}
	f, _, err := s.function(c, fid)
	if err != nil {
		return runnable{}, err
	}
	if n > 0 && f.Code.Source != SourcePackage {
		return runnable{}, badRequest("can not specify version for %s type function", f.Code.Source)
	}
	engine, err := s.engineOf(f)
	if err != nil {
		return runnable{}, err
	}
	code, err := s.codeFor(f, n)
	if err != nil {
		return runnable{}, err
	}
	return runnable{f: f, n: n, engine: engine, code: code}, nil
}

// hold marks an execution in flight in this process before its record
// exists, so FailOrphans on this node never takes it for a run lost by
// an earlier process, and counts it as a run Close waits for. Every hold
// ends with start or release.
func (s *Service) hold(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errorf(http.StatusServiceUnavailable, "the node is shutting down")
	}
	s.inflight[id] = true
	s.runs.Add(1)
	return nil
}

// release ends a hold whose execution will not run here.
func (s *Service) release(id string) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.mu.Unlock()
	s.runs.Done()
}

// start runs a held execution, whose record (at version) exists, in the
// background; the channel receives its outcome.
func (s *Service) start(r runnable, input json.RawMessage, rec executionRec, version uint64) <-chan Execution {
	done := make(chan Execution, 1)
	inv := Invocation{ExecutionID: rec.ID, ProjectID: rec.ProjectID, Input: input}
	go func() {
		defer s.runs.Done()
		done <- s.run(r.engine, r.code, inv, rec, version)
	}()
	return done
}

// run runs one execution on engine and records its outcome, once: the
// conditional write fails if the record changed meanwhile (FailOrphans
// took this node for dead, or the execution was deleted), and then the
// result is dropped, never written twice.
func (s *Service) run(engine Engine, code Code, inv Invocation, rec executionRec, version uint64) Execution {
	defer func() {
		s.mu.Lock()
		delete(s.inflight, rec.ID)
		s.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(s.lifetime, code.Timeout+runGrace)
	defer cancel()
	start := time.Now()
	res, err := runSafely(ctx, engine, code, inv)
	if err != nil {
		msg, _ := json.Marshal(err.Error())
		res = Result{Success: false, Output: msg, Log: res.Log, Duration: time.Since(start)}
	}
	rec.Result = NullString(formatResult(res.Duration, res.Output))
	rec.Status = ExecutionSuccess
	if !res.Success {
		rec.Status = ExecutionFailed
	}
	rec.UpdatedAt = Time{s.now()}
	log := res.Log
	if len(log) > maxLogBytes {
		log = log[:maxLogBytes] + "\n[log truncated]\n"
	}
	changes := append([]consensus.RecordChange{putChange(tableExecutions, rec.ID, version, rec)}, s.firingEnd(rec)...)
	if log != "" {
		changes = append(changes, consensus.RecordChange{Table: tableLogs, ID: rec.ID, Body: []byte(log)})
	}
	// The result is recorded even when the node is closing.
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if _, err := s.rec.PutRecords(wctx, changes...); err != nil {
		s.log.Warn("execution result not recorded", "execution", rec.ID, "err", err)
		if cur, _, gerr := getRec[executionRec](s, tableExecutions, rec.ID, "execution"); gerr == nil {
			return cur.Execution
		}
	}
	return rec.Execution
}

// runSafely runs the engine, turning a panic into an error: user code
// must fail its execution, never the node.
func runSafely(ctx context.Context, e Engine, code Code, inv Invocation) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine failed: %v", r)
		}
	}()
	return e.Run(ctx, code, inv)
}

// ListExecutions lists executions by creation time.
func (s *Service) ListExecutions(ctx context.Context, c Caller, f ExecutionFilter) ([]Execution, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	var out []Execution
	for _, ce := range s.executions() {
		e := ce.rec
		switch {
		case !inList(c, f.ListOptions, e.ProjectID),
			f.FunctionID != "" && e.FunctionID != f.FunctionID,
			f.FunctionAlias != "" && string(e.FunctionAlias) != f.FunctionAlias,
			f.FunctionVersion != nil && e.FunctionVersion != *f.FunctionVersion,
			f.Status != "" && e.Status != f.Status,
			f.Description != "" && string(e.Description) != f.Description,
			f.Sync != nil && e.Sync != *f.Sync:
			continue
		}
		out = append(out, e.Execution)
	}
	sortByCreated(out, func(e Execution) (Time, string) { return e.CreatedAt, e.ID })
	return out, nil
}

// execution returns an execution the caller sees.
func (s *Service) execution(c Caller, id string) (executionRec, uint64, error) {
	e, ver, err := getRec[executionRec](s, tableExecutions, id, "execution")
	if err != nil {
		return executionRec{}, 0, err
	}
	if !visible(c, e.ProjectID) {
		return executionRec{}, 0, notFound("execution", id)
	}
	return e, ver, nil
}

// GetExecution returns one execution.
func (s *Service) GetExecution(ctx context.Context, c Caller, id string) (Execution, error) {
	if err := checkCaller(c); err != nil {
		return Execution{}, err
	}
	e, _, err := s.execution(c, id)
	return e.Execution, err
}

// ExecutionLog returns an execution's log as plain text ("" while it
// runs).
func (s *Service) ExecutionLog(ctx context.Context, c Caller, id string) (string, error) {
	if err := checkCaller(c); err != nil {
		return "", err
	}
	if _, _, err := s.execution(c, id); err != nil {
		return "", err
	}
	r, err := s.rec.Record(tableLogs, id)
	if err != nil {
		return "", nil
	}
	return string(r.Body), nil
}

// DeleteExecution deletes an execution and its log. A run still going on
// then finds its record gone and drops its result.
func (s *Service) DeleteExecution(ctx context.Context, c Caller, id string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	_, ver, err := s.execution(c, id)
	if err != nil {
		return err
	}
	_, err = s.write(ctx, s.deleteExecutionChanges(id, ver)...)
	return err
}

func (s *Service) deleteExecutionChanges(id string, ver uint64) []consensus.RecordChange {
	changes := []consensus.RecordChange{deleteChange(tableExecutions, id, ver)}
	if rec, _, err := getRec[executionRec](s, tableExecutions, id, "execution"); err == nil {
		changes = append(changes, s.firingEnd(rec)...)
	}
	if l, err := s.rec.Record(tableLogs, id); err == nil {
		changes = append(changes, deleteChange(tableLogs, id, l.Version))
	}
	return changes
}

// FailOrphans marks failed every running execution whose run is lost: its
// node is not live, or it is this node but no run of this process holds
// it (the node restarted). The run is never repeated. It returns how
// many it failed. The leader calls it with live from membership; every
// node may call it at start with live always true, to fail its own runs
// lost in a restart.
func (s *Service) FailOrphans(ctx context.Context, live func(nodeID string) bool) (int, error) {
	n := 0
	var errs []error
	for _, ce := range s.executions() {
		e := ce.rec
		if e.Status != ExecutionRunning {
			continue
		}
		var reason string
		if e.NodeID == s.cfg.NodeID {
			s.mu.Lock()
			running := s.inflight[e.ID] || s.pendingFiring(e) && !s.fired[e.ID]
			s.mu.Unlock()
			if running {
				continue
			}
			reason = fmt.Sprintf("execution lost: node %s restarted while running it; it is not run again", e.NodeID)
		} else if !live(e.NodeID) {
			reason = fmt.Sprintf("execution lost: node %s left the cluster while running it; it is not run again", e.NodeID)
			if e.StartAt.After(s.cfg.Now()) {
				reason = fmt.Sprintf("execution lost: node %s left the cluster before the job's firing was due; it is not run", e.NodeID)
			}
		} else {
			continue
		}
		r, err := s.rec.Record(tableExecutions, e.ID)
		if err != nil {
			continue // deleted meanwhile
		}
		var cur executionRec
		if err := json.Unmarshal(r.Body, &cur); err != nil || cur.Status != ExecutionRunning {
			continue
		}
		cur.Status = ExecutionFailed
		cur.Result = NullString(failureResult(reason))
		cur.UpdatedAt = Time{s.now()}
		_, err = s.rec.PutRecords(ctx, append([]consensus.RecordChange{
			putChange(tableExecutions, cur.ID, r.Version, cur),
			{Table: tableLogs, ID: cur.ID, Body: []byte(reason + "\n")}}, s.firingEnd(cur)...)...)
		switch {
		case err == nil:
			n++
			s.log.Warn("running execution failed: its node is gone", "execution", cur.ID, "node", cur.NodeID)
		case errors.Is(err, consensus.ErrRecordVersion), errors.Is(err, consensus.ErrRecordNotFound), errors.Is(err, consensus.ErrRecordExists):
			// It finished (or was deleted) meanwhile.
		default:
			errs = append(errs, err)
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("qinling: fail orphaned executions: %w", errors.Join(errs...))
	}
	return n, nil
}

// collectBatch is how many executions one GC write deletes.
const collectBatch = 64

// CollectExecutions deletes executions, with their logs, that ended more
// than Config.ExecutionRetention ago, and returns how many. The leader
// calls it periodically.
func (s *Service) CollectExecutions(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.cfg.ExecutionRetention)
	var changes []consensus.RecordChange
	n, pending := 0, 0
	flush := func() error {
		if len(changes) == 0 {
			return nil
		}
		_, err := s.rec.PutRecords(ctx, changes...)
		if err == nil {
			n += pending
		} else if !errors.Is(err, consensus.ErrRecordVersion) && !errors.Is(err, consensus.ErrRecordNotFound) {
			return fmt.Errorf("qinling: collect executions: %w", err)
		}
		// A lost condition (one was deleted or changed meanwhile) skips
		// this batch; the next sweep sees the rest again.
		changes, pending = changes[:0], 0
		return nil
	}
	for _, ce := range s.executions() {
		e := ce.rec
		last := e.UpdatedAt
		if last.IsZero() {
			last = e.CreatedAt
		}
		if e.Status == ExecutionRunning || !last.Before(cutoff) {
			continue
		}
		r, err := s.rec.Record(tableExecutions, e.ID)
		if err != nil {
			continue
		}
		changes = append(changes, s.deleteExecutionChanges(e.ID, r.Version)...)
		pending++
		if pending == collectBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, nil
}
