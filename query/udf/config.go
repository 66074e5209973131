package udf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"eventide/consensus"
	"eventide/jsrt"
	"eventide/query/library"
)

// Records is the replicated record store the definitions live in;
// *consensus.Store implements it.
type Records interface {
	// PutRecords applies changes atomically (all or none).
	PutRecords(ctx context.Context, changes ...consensus.RecordChange) ([]consensus.Record, error)
	// Record returns one record (consensus.ErrRecordNotFound when absent).
	Record(table, id string) (consensus.Record, error)
	// Records returns every record of a table, sorted by ID.
	Records(table string) []consensus.Record
	// RecordsChanged is closed at the next change of any record: the
	// runner keeps library programs until then, rather than look each
	// library up on every call.
	RecordsChanged() <-chan struct{}
}

// Libraries gives the compiled programs of JavaScript libraries;
// *library.Service implements it.
type Libraries interface {
	// Program returns the program defining function fn of library lib of
	// scope sc, with the library's version (library.ErrNotFound,
	// library.ErrFunctionNotFound when there is none).
	Program(sc library.Scope, lib, fn string) (library.Program, error)
}

// table is the records table of the functions; a record's ID is
// recordID(name).
const table = "query.functions"

// MaxTimeout is the longest a JavaScript call may run, Couchbase's limit
// (2 minutes) whatever the request's timeout.
const MaxTimeout = 2 * time.Minute

// Config configures a Service.
type Config struct {
	// Records is the replicated record store (*consensus.Store). Required.
	Records Records
	// Libraries compiles library functions (*library.Service). Required.
	Libraries Libraries
	// ScopeExists reports whether a bucket's scope exists; a scoped
	// function can only be created in one that does. Default: every
	// scope exists.
	ScopeExists func(bucket, scope string) bool
	// Timeout bounds one JavaScript call when ctx has no earlier
	// deadline. Default and maximum MaxTimeout.
	Timeout time.Duration
	// MemoryBudget is the heap one call may add, in bytes, enforced by
	// Memory. Default jsrt.DefaultMemoryBudget.
	MemoryBudget int64
	// Memory stops calls over MemoryBudget; the node's shared guard.
	// Default: none (the one-call allocation guards still apply).
	Memory *jsrt.MemoryGuard
	// RuntimesPerProgram bounds the warm runtimes of one compiled program
	// (a library version's function, or an inline function); calls beyond
	// it wait for a free runtime. Default 2 × GOMAXPROCS, at most 1024.
	RuntimesPerProgram int
	// MaxPrograms bounds the programs that have warm runtimes; the least
	// recently used one's runtimes are closed beyond it. Default 256.
	MaxPrograms int
	// Logger is the service's logger. Default: discard.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults of every optional field.
func DefaultConfig() Config {
	return Config{
		ScopeExists:        func(string, string) bool { return true },
		Timeout:            MaxTimeout,
		MemoryBudget:       jsrt.DefaultMemoryBudget,
		RuntimesPerProgram: 2 * runtime.GOMAXPROCS(0),
		MaxPrograms:        256,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ScopeExists == nil {
		c.ScopeExists = d.ScopeExists
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = d.MemoryBudget
	}
	if c.RuntimesPerProgram == 0 {
		c.RuntimesPerProgram = d.RuntimesPerProgram
	}
	if c.MaxPrograms == 0 {
		c.MaxPrograms = d.MaxPrograms
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// Validate reports every invalid setting (ErrInvalidConfig) and missing
// dependency (ErrMissingDependency).
func (c Config) Validate() error {
	var errs []error
	if c.Records == nil {
		errs = append(errs, fmt.Errorf("%w: Records", ErrMissingDependency))
	}
	if c.Libraries == nil {
		errs = append(errs, fmt.Errorf("%w: Libraries", ErrMissingDependency))
	}
	if c.Timeout < 0 || c.Timeout > MaxTimeout {
		errs = append(errs, fmt.Errorf("%w: timeout %s must be between 0 (default) and %s", ErrInvalidConfig, c.Timeout, MaxTimeout))
	}
	if c.MemoryBudget < 0 {
		errs = append(errs, fmt.Errorf("%w: memory budget %d must not be negative", ErrInvalidConfig, c.MemoryBudget))
	}
	if c.RuntimesPerProgram < 0 || c.RuntimesPerProgram > 1024 {
		errs = append(errs, fmt.Errorf("%w: runtimes per program %d must be between 0 (default) and 1024", ErrInvalidConfig, c.RuntimesPerProgram))
	}
	if c.MaxPrograms < 0 {
		errs = append(errs, fmt.Errorf("%w: max programs %d must not be negative", ErrInvalidConfig, c.MaxPrograms))
	}
	return errors.Join(errs...)
}
