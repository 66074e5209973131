package eventing

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/handler"
)

// Backend is the replicated store of function records and config. Its
// method set is a subset of *consensus.Store, so the node passes the store
// itself.
type Backend interface {
	// Functions lists function records sorted by name.
	Functions() []consensus.Function
	// Function returns one record or consensus.ErrFunctionNotFound.
	Function(name string) (consensus.Function, error)
	// ChangeFunction applies a conditional change (ExpectVersion) and
	// returns the new record; consensus.ErrVersionMismatch on a race.
	ChangeFunction(ctx context.Context, c consensus.FunctionChange) (consensus.Function, error)
	// DeleteFunction removes a record if its Version equals expectVersion.
	DeleteFunction(ctx context.Context, name string, expectVersion uint64) error
	// Config returns a replicated config value (nil if unset).
	Config(key string) json.RawMessage
	// SetConfig replicates a config value.
	SetConfig(ctx context.Context, key string, value json.RawMessage) error
}

// Keyspaces checks that collections exist; *docstore.Store satisfies it.
type Keyspaces interface {
	// CheckKeyspace returns nil, docstore.ErrBucketNotFound,
	// docstore.ErrScopeNotFound or docstore.ErrCollectionNotFound.
	CheckKeyspace(ks docstore.Keyspace) error
}

// Runtime is what this node's data plane (dataplane.Supervisor) reports
// about the functions it runs here, and only here. Functions are named by
// location string (consensus record name).
type Runtime interface {
	// Stats returns the function's counters on this node; false if the
	// function has no counters here.
	Stats(fn string) (RuntimeStats, bool)
	// ResetStats zeroes the function's counters on this node.
	ResetStats(fn string) error
	// AppLog returns the last size bytes of the function's application log
	// on this node, lines in file (oldest-first) order.
	AppLog(ctx context.Context, fn string, size int) (string, error)
	// Insight returns the function's code insight on this node by line
	// number of its code; empty if it has none here.
	Insight(fn string) map[int]handler.InsightLine
}

// Fleet answers for every eventing node of the cluster: node counts from
// membership and the replicated reports; stats, application logs and code
// insight gathered from every node. The calls that reach other nodes take
// the request's context and leave out (naming them where the answer has
// room) the nodes that do not answer, rather than failing.
type Fleet interface {
	// EventingNodes is the number of live eventing nodes.
	EventingNodes() int
	// DeployedNodes is the number of nodes on which the function (by
	// location string) has its workers running.
	DeployedNodes(fn string) int
	// Stats returns the function's counters summed over every node that
	// answers (RuntimeStats.Add), with the others in UnreachableNodes;
	// false if no node has counters for it.
	Stats(ctx context.Context, fn string) (RuntimeStats, bool)
	// ResetStats zeroes the function's counters on every live node; an
	// error names the nodes that did not answer.
	ResetStats(ctx context.Context, fn string) error
	// AppLogs returns each answering node's log tail (at most sizePerNode
	// bytes, lines in file order) for the function.
	AppLogs(ctx context.Context, fn string, sizePerNode int) ([]string, error)
	// Insight returns, for each of fns, the code insight of every
	// answering node merged with handler.MergeInsight, and the ids of the
	// nodes that did not answer (sorted).
	Insight(ctx context.Context, fns []string) (map[string]map[int]handler.InsightLine, []string, error)
}

// Counters are counters by their Couchbase name (reference §1.5).
type Counters map[string]uint64

// add adds o into *c, allocating it when nil.
func (c *Counters) add(o Counters) {
	if len(o) == 0 {
		return
	}
	if *c == nil {
		*c = Counters{}
	}
	for k, v := range o {
		(*c)[k] += v
	}
}

// RuntimeStats are one function's counters, on one node or summed over
// several (Add). The counter maps use the Couchbase key names of reference
// §1.5; the Service fills every legacy key a map lacks with 0, so a
// runtime reports only what it counts.
type RuntimeStats struct {
	ExecutionStats       Counters
	FailureStats         Counters
	EventProcessingStats Counters
	// LatencyHistogram maps a bucket's upper bound in microseconds (decimal
	// string) to the number of handler invocations that fell in it.
	LatencyHistogram Counters
	// CurlLatencyHistogram is the same for curl() calls.
	CurlLatencyHistogram Counters
	// LCBExceptionStats counts KV errors by code.
	LCBExceptionStats Counters
	// DCPBacklog is the number of mutations not yet processed.
	DCPBacklog uint64
	// WorkerPIDs names the workers ("worker_<fn>_<i>") and their ids.
	WorkerPIDs map[string]int
	// UnreachableNodes names the nodes that did not answer a cluster-wide
	// stats call; their counters are missing from the sums.
	UnreachableNodes []string
	// VBDistribution maps a worker name to the vbuckets it owns.
	VBDistribution map[string]string
}

// Add adds another node's stats of the same function into s: counters and
// histograms sum; worker names and vbucket shares (distinct per node)
// are united. UnreachableNodes is the caller's to set.
func (s *RuntimeStats) Add(o RuntimeStats) {
	s.ExecutionStats.add(o.ExecutionStats)
	s.FailureStats.add(o.FailureStats)
	s.EventProcessingStats.add(o.EventProcessingStats)
	s.LatencyHistogram.add(o.LatencyHistogram)
	s.CurlLatencyHistogram.add(o.CurlLatencyHistogram)
	s.LCBExceptionStats.add(o.LCBExceptionStats)
	s.DCPBacklog += o.DCPBacklog
	if len(o.WorkerPIDs) > 0 && s.WorkerPIDs == nil {
		s.WorkerPIDs = map[string]int{}
	}
	maps.Copy(s.WorkerPIDs, o.WorkerPIDs)
	if len(o.VBDistribution) > 0 && s.VBDistribution == nil {
		s.VBDistribution = map[string]string{}
	}
	maps.Copy(s.VBDistribution, o.VBDistribution)
}

// CompileError reports a handler compilation failure. The node's Compiler
// converts the handler package's error into this type.
type CompileError struct {
	Line    int
	Column  int
	Message string
}

// Error implements error.
func (e *CompileError) Error() string {
	return fmt.Sprintf("line %d column %d: %s", e.Line, e.Column, e.Message)
}

// Compiler compiles a function's handler code with its settings and
// bindings, exactly as deploying it would (the node wires it to
// handler.Compile). A failure of the code itself must be a *CompileError;
// any other error is reported as an internal failure.
type Compiler func(def *Definition) error

// Config configures a Service.
type Config struct {
	// Backend stores function records and config. Required.
	Backend Backend
	// Keyspaces checks keyspace existence. Required.
	Keyspaces Keyspaces
	// Compiler checks handler code. Required.
	Compiler Compiler
	// Fleet answers for every eventing node. Nil: a single node, on which
	// a function is running when its status is deployed, pausing or
	// deploying, and whose Runtime answers every stats and log request.
	Fleet Fleet
	// Runtime reports this node's stats, logs and insight. Nil: zero stats,
	// empty logs, no insight.
	Runtime Runtime
	// Logger receives the service's logs. Default: discard.
	Logger *slog.Logger
	// MaxRetries bounds the optimistic-concurrency retries of one change;
	// default 8.
	MaxRetries int
	// Rand is the source of handler uuids and instance ids; default
	// crypto/rand.
	Rand io.Reader
}

// DefaultConfig returns a Config with defaults for the optional fields.
func DefaultConfig() Config {
	return Config{
		Logger:     slog.New(slog.DiscardHandler),
		MaxRetries: 8,
		Rand:       rand.Reader,
	}
}

// Validate reports a missing dependency or a bad bound.
func (c Config) Validate() error {
	switch {
	case c.Backend == nil:
		return ErrNoBackend
	case c.Keyspaces == nil:
		return ErrNoKeyspaces
	case c.Compiler == nil:
		return ErrNoCompiler
	case c.MaxRetries < 0:
		return fmt.Errorf("eventing: MaxRetries %d is negative", c.MaxRetries)
	}
	return nil
}

// Service implements every operation of the eventing REST API on top of
// the replicated store. It is safe for concurrent use: every change reads
// the record, validates, and commits with ExpectVersion = record.Version,
// retrying a bounded number of times when another writer got there first.
// Moving a function out of deploying/pausing/undeploying is not the
// Service's job: the record completes them from the data plane's reports.
type Service struct {
	backend   Backend
	keyspaces Keyspaces
	compile   Compiler
	fleet     Fleet
	runtime   Runtime
	log       *slog.Logger
	retries   int
	rand      io.Reader

	// configMu serializes this node's global config writes: SetConfig is
	// not conditional, so concurrent read-merge-write cycles would lose
	// updates. (Writes from different nodes remain last-writer-wins.)
	configMu sync.Mutex
}

// New returns a Service. Zero optional fields take DefaultConfig's values.
func New(cfg Config) (*Service, error) {
	def := DefaultConfig()
	if cfg.Logger == nil {
		cfg.Logger = def.Logger
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = def.MaxRetries
	}
	if cfg.Rand == nil {
		cfg.Rand = def.Rand
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{
		backend:   cfg.Backend,
		keyspaces: cfg.Keyspaces,
		compile:   cfg.Compiler,
		fleet:     cfg.Fleet,
		runtime:   cfg.Runtime,
		log:       cfg.Logger.With("component", "eventing"),
		retries:   cfg.MaxRetries,
		rand:      cfg.Rand,
	}, nil
}

// current is a function record as read at the start of one attempt.
type current struct {
	exists bool
	rec    consensus.Function
	def    *Definition
}

// status returns the record's status ("" if the function does not exist).
func (c *current) status() string {
	if !c.exists {
		return ""
	}
	if c.rec.Status == "" {
		return StatusUndeployed
	}
	return c.rec.Status
}

// change is what one attempt wants to commit.
type change struct {
	// def replaces the stored definition when non-nil.
	def *Definition
	// status, when non-empty, is the new lifecycle state.
	status string
	// newInstance starts a fresh instance (checkpoints per boundary).
	newInstance bool
	// drop clears the instance and its checkpoints.
	drop bool
}

// read loads one record.
func (s *Service) read(loc Location) (*current, error) {
	rec, err := s.backend.Function(loc.String())
	if errors.Is(err, consensus.ErrFunctionNotFound) {
		return &current{}, nil
	}
	if err != nil {
		return nil, backendError(err, "read function %s", loc)
	}
	def, err := ParseStoredDefinition(rec.Definition)
	if err != nil {
		return nil, internalError(err, "Function: %s has a corrupt stored definition", loc)
	}
	return &current{exists: true, rec: rec, def: def}, nil
}

// mustRead loads one record or fails with ERR_APP_NOT_FOUND_TS.
func (s *Service) mustRead(loc Location) (*current, error) {
	cur, err := s.read(loc)
	if err != nil {
		return nil, err
	}
	if !cur.exists {
		return nil, notFound(loc)
	}
	return cur, nil
}

// notFound is the error for an unknown function.
func notFound(loc Location) *Error {
	return newError(CodeAppNotFoundTS, "Function: %s not found", loc)
}

// update runs the read-validate-commit loop for one function. plan sees the
// current record and returns the change to commit (nil: nothing to do) or a
// validation error, which is returned as is. With create false an unknown
// function is ERR_APP_NOT_FOUND_TS.
func (s *Service) update(ctx context.Context, loc Location, create bool, plan func(cur *current) (*change, error)) (consensus.Function, error) {
	var lastErr error
	for attempt := 0; attempt <= s.retries; attempt++ {
		if err := ctx.Err(); err != nil {
			return consensus.Function{}, internalError(err, "Function: %s: request cancelled", loc)
		}
		cur, err := s.read(loc)
		if err != nil {
			return consensus.Function{}, err
		}
		if !cur.exists && !create {
			return consensus.Function{}, notFound(loc)
		}
		ch, err := plan(cur)
		if err != nil {
			return consensus.Function{}, err
		}
		if ch == nil {
			return cur.rec, nil
		}
		fc := consensus.FunctionChange{
			Name:            loc.String(),
			ExpectVersion:   cur.rec.Version,
			Status:          ch.status,
			DropCheckpoints: ch.drop,
		}
		if !cur.exists {
			fc.ExpectVersion = 0
		}
		def := ch.def
		if ch.newInstance {
			if def == nil {
				def = cur.def.clone()
			}
			id, err := s.newInstanceID()
			if err != nil {
				return consensus.Function{}, internalError(err, "Function: %s: cannot create an instance id", loc)
			}
			def.FunctionInstanceID = id
			fc.NewInstanceID = id
			fc.Boundary = def.Settings.DCPStreamBoundary
		}
		if ch.status == StatusDeploying {
			d := def
			if d == nil {
				d = cur.def
			}
			if d != nil && HandlerHasOnDeploy(d) {
				fc.OnDeploy = consensus.OnDeployResume
				if ch.newInstance {
					fc.OnDeploy = consensus.OnDeployDeploy
				}
			}
		}
		if def != nil {
			raw, err := def.Marshal()
			if err != nil {
				return consensus.Function{}, internalError(err, "Function: %s: cannot encode definition", loc)
			}
			fc.Definition = raw
			fc.Source = def.DepCfg.Source()
		}
		rec, err := s.backend.ChangeFunction(ctx, fc)
		switch {
		case err == nil:
			s.log.Debug("function changed", "function", loc.String(), "status", rec.Status, "version", rec.Version)
			return rec, nil
		case errors.Is(err, consensus.ErrVersionMismatch),
			errors.Is(err, consensus.ErrFunctionExists),
			errors.Is(err, consensus.ErrFunctionNotFound):
			lastErr = err
			continue
		default:
			return consensus.Function{}, backendError(err, "store function %s", loc)
		}
	}
	return consensus.Function{}, internalError(lastErr, "Function: %s was changed concurrently %d times; retry the request", loc, s.retries+1)
}

// backendError wraps a store failure.
func backendError(err error, format string, args ...any) *Error {
	what := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, consensus.ErrNotLeader):
		return internalError(err, "%s: this node is not the cluster leader; retry", what)
	case errors.Is(err, consensus.ErrClosed):
		return internalError(err, "%s: the node is shutting down", what)
	}
	// err's text is Go's, not the API's; the REST layer logs it with Err.
	return &Error{Code: CodeMetakvWriteFailed, Description: what + ": the write failed; the server logged the details", Err: err}
}

// newInstanceID returns a fresh function instance id.
func (s *Service) newInstanceID() (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// newHandlerUUID returns a non-zero uint32 not used by another function.
func (s *Service) newHandlerUUID() (uint32, error) {
	used := map[uint32]bool{}
	for _, rec := range s.backend.Functions() {
		if d, err := ParseStoredDefinition(rec.Definition); err == nil {
			used[d.HandlerUUID] = true
		}
	}
	for range 64 {
		var b [4]byte
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			return 0, err
		}
		id := binary.BigEndian.Uint32(b[:])
		if id != 0 && !used[id] {
			return id, nil
		}
	}
	return 0, errors.New("eventing: no free handler uuid")
}

// globalConfig returns the stored global config over the defaults.
func (s *Service) globalConfig() GlobalConfig {
	cfg, err := decodeStoredConfig(s.backend.Config(GlobalConfigKey))
	if err != nil {
		s.log.Warn("stored eventing config is corrupt; using defaults", "err", err)
	}
	return cfg
}

// records lists every function record with its parsed definition, skipping
// (and logging) corrupt ones.
func (s *Service) records() []*current {
	recs := s.backend.Functions()
	out := make([]*current, 0, len(recs))
	for _, rec := range recs {
		def, err := ParseStoredDefinition(rec.Definition)
		if err != nil {
			s.log.Error("skipping function with a corrupt definition", "function", rec.Name, "err", err)
			continue
		}
		out = append(out, &current{exists: true, rec: rec, def: def})
	}
	return out
}
