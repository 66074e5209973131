package qinling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"eventide/consensus"
)

// Service is Qinling's model over the replicated records: every method
// validates, checks the caller's project, reads this node's replica and
// writes through Records; executions run on this node's engines. Any node
// serves any request: the records are the same everywhere.
type Service struct {
	cfg Config
	rec Records
	log *slog.Logger

	// lifetime is cancelled by Close; background executions run under it
	// and runs counts them.
	lifetime context.Context
	stop     context.CancelFunc
	runs     sync.WaitGroup

	// execs is the decoded execution records and their counts.
	execs *execIndex

	// mu guards inflight (ids of executions running in this process, so
	// FailOrphans never fails them), limiters (per webhook), jobCache
	// (decoded job records by id, valid while the version matches) and
	// scale.
	mu       sync.Mutex
	closed   bool
	inflight map[string]bool
	limiters map[string]*rate.Limiter
	jobCache map[string]scheduledJob
	scale    map[string]int // warm workers asked of engines, by function
	// fired holds the firings this process started (or failed to start),
	// until their record in tableFirings is gone: a firing whose result
	// could not be written is never started again.
	fired map[string]bool
	// created is when this process's service began: a firing of this node
	// due before then may have been started by an earlier process.
	created time.Time
	// rr spreads firings over the executors.
	rr atomic.Uint64
}

// New returns a Service; Close stops its background executions.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		cfg:      cfg,
		rec:      cfg.Records,
		log:      cfg.Logger.With("component", "qinling"),
		inflight: make(map[string]bool),
		limiters: make(map[string]*rate.Limiter),
		execs:    newExecIndex(),
		scale:    make(map[string]int),
		fired:    make(map[string]bool),
		created:  cfg.Now(),
	}
	s.lifetime, s.stop = context.WithCancel(context.Background())
	return s, nil
}

// Close ends the executions running on this node (their engines see their
// context cancelled, so they are recorded failed) and waits for them.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	s.runs.Wait()
	return nil
}

// now is the service's clock, UTC to the second as Qinling stores it.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Second) }

// visible reports whether the caller sees a resource of project p: a
// token is scoped to one project, the administrator's too, so another
// project's resource is not found; the administrator reaches across
// projects only by listing with all_projects.
func visible(c Caller, p string) bool { return c.ProjectID == p }

// inList reports whether a list with opts covers a resource of project p.
func inList(c Caller, opts ListOptions, p string) bool {
	if c.Admin && opts.AllProjects {
		return opts.ProjectID == "" || opts.ProjectID == p
	}
	return c.ProjectID == p
}

func checkCaller(c Caller) error {
	if c.ProjectID == "" {
		return errorf(http.StatusUnauthorized, "no project in the caller's credentials")
	}
	return nil
}

// getRec reads and decodes one record; notFound(kind, id) when absent.
func getRec[T any](s *Service, table, id, kind string) (T, uint64, error) {
	var v T
	r, err := s.rec.Record(table, id)
	if errors.Is(err, consensus.ErrRecordNotFound) {
		return v, 0, notFound(kind, id)
	}
	if err != nil {
		return v, 0, err
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return v, 0, fmt.Errorf("qinling: decode %s %s: %w", kind, id, err)
	}
	return v, r.Version, nil
}

// listRecs decodes every record of table with prefix; undecodable ones
// are logged and skipped (a list must not fail on one bad record).
func listRecs[T any](s *Service, table, prefix string) []T {
	rs := s.rec.RecordsWithPrefix(table, prefix)
	out := make([]T, 0, len(rs))
	for _, r := range rs {
		var v T
		if err := json.Unmarshal(r.Body, &v); err != nil {
			s.log.Warn("undecodable record skipped", "table", table, "id", r.ID, "err", err)
			continue
		}
		out = append(out, v)
	}
	return out
}

// putChange encodes v as the body of a change of (table, id).
func putChange(table, id string, expect uint64, v any) consensus.RecordChange {
	b, err := json.Marshal(v)
	if err != nil {
		// Our own record types always marshal.
		panic(fmt.Sprintf("qinling: marshal %s record: %v", table, err))
	}
	return consensus.RecordChange{Table: table, ID: id, ExpectVersion: expect, Body: b}
}

func deleteChange(table, id string, expect uint64) consensus.RecordChange {
	return consensus.RecordChange{Table: table, ID: id, ExpectVersion: expect, Delete: true}
}

// write applies changes; a lost condition (another writer got there
// first) is a 409 the client may retry.
func (s *Service) write(ctx context.Context, changes ...consensus.RecordChange) ([]consensus.Record, error) {
	rs, err := s.rec.PutRecords(ctx, changes...)
	switch {
	case err == nil:
		return rs, nil
	case errors.Is(err, consensus.ErrRecordVersion), errors.Is(err, consensus.ErrRecordExists), errors.Is(err, consensus.ErrRecordNotFound):
		return nil, conflict("concurrent change, try again: %v", err)
	case errors.Is(err, consensus.ErrTooLarge):
		return nil, errorf(http.StatusRequestEntityTooLarge, "request too large to replicate: %v", err)
	}
	return nil, fmt.Errorf("qinling: write records: %w", err)
}

// adminOnly refuses non-administrators, as Qinling's policy does for
// runtimes.
func adminOnly(c Caller, what string) error {
	if !c.Admin {
		return errorf(http.StatusForbidden, "only the administrator may %s", what)
	}
	return nil
}

// ListOptions selects the projects a list covers: the caller's own, or,
// for the administrator with AllProjects, every project (ProjectID, when
// set, narrows that to one).
type ListOptions struct {
	AllProjects bool
	ProjectID   string
}

// RuntimeSpec creates a runtime. IsPublic and Trusted default to true.
type RuntimeSpec struct {
	Name        string
	Description string
	Image       string
	IsPublic    *bool
	Trusted     *bool
}

// RuntimeUpdate changes the fields that are set.
type RuntimeUpdate struct {
	Name        *string
	Description *string
	Image       *string
}

// FunctionSpec creates a function. For Code.Source "package", Package is
// the zip and Code.MD5Sum, when set, must be its md5 (hex); for "image"
// Code.Image names the container image. Timeout (seconds), MemorySize
// (bytes) and CPU (millicores) of 0 take the configured defaults.
type FunctionSpec struct {
	Name        string
	Description string
	RuntimeID   string
	Entry       string
	Code        FunctionCode
	Package     []byte
	Timeout     int
	MemorySize  int64
	CPU         int64
}

// FunctionUpdate changes the fields that are set. A non-nil Package
// replaces the function's latest code (Code.MD5Sum, when set, must match
// it); existing versions keep theirs. An image function's code cannot be
// updated.
type FunctionUpdate struct {
	Name        *string
	Description *string
	RuntimeID   *string
	Entry       *string
	Timeout     *int
	MemorySize  *int64
	CPU         *int64
	Code        *FunctionCode
	Package     []byte
}

// AliasSpec creates an alias of a function version (0: the latest code).
type AliasSpec struct {
	Name            string
	FunctionID      string
	FunctionVersion int
	Description     string
}

// AliasUpdate changes the fields that are set.
type AliasUpdate struct {
	FunctionID      *string
	FunctionVersion *int
	Description     *string
}

// ExecutionSpec creates an execution of a function version (0: the
// latest code) or of an alias's version. Sync defaults to true. Input is
// the request's input as it came: a JSON object, or a JSON string holding
// JSON or plain text (as the openstack client sends it); nil or null for
// none.
type ExecutionSpec struct {
	FunctionID      string
	FunctionAlias   string
	FunctionVersion int
	Description     string
	Sync            *bool
	Input           json.RawMessage
}

// ExecutionFilter selects executions; empty or nil fields match all.
type ExecutionFilter struct {
	ListOptions
	FunctionID      string
	FunctionAlias   string
	FunctionVersion *int
	Status          string
	Description     string
	Sync            *bool
}

// WebhookSpec creates a webhook on a function version (0: the latest
// code) or on an alias.
type WebhookSpec struct {
	FunctionID      string
	FunctionAlias   string
	FunctionVersion int
	Description     string
}

// WebhookUpdate changes the fields that are set.
type WebhookUpdate struct {
	FunctionID      *string
	FunctionAlias   *string
	FunctionVersion *int
	Description     *string
}
