package library

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"eventide/consensus"
)

// Records is the replicated record store the libraries live in;
// *consensus.Store implements it. Changes are conditional on record
// versions (see consensus.RecordChange), so writers through different
// nodes never lose each other's updates.
type Records interface {
	// PutRecords applies changes atomically (all or none) and returns the
	// records written (a deleted one with its ID and no body), in order.
	PutRecords(ctx context.Context, changes ...consensus.RecordChange) ([]consensus.Record, error)
	// Record returns one record (consensus.ErrRecordNotFound when absent).
	Record(table, id string) (consensus.Record, error)
	// Records returns every record of a table, sorted by ID.
	Records(table string) []consensus.Record
	// RecordsWithPrefix returns the records of a table whose ID starts
	// with prefix, sorted by ID.
	RecordsWithPrefix(table, prefix string) []consensus.Record
}

// table is the records table of the libraries; a record's ID is the
// library's path (recordID).
const table = "query.libraries"

// Config configures a Service.
type Config struct {
	// Records is the replicated record store (*consensus.Store). Required.
	Records Records
	// ScopeExists reports whether a bucket's scope exists; a scoped
	// library can only be written into one that does. Default: every
	// scope exists.
	ScopeExists func(bucket, scope string) bool
	// MaxLibraryBytes bounds the code of one library (its text, or the
	// sum of its function objects' codes). Default 1 MiB; at most 32 MiB
	// (a write travels in one Raft command).
	MaxLibraryBytes int
	// Logger is the service's logger. Default: discard.
	Logger *slog.Logger
}

// maxLibraryBytesLimit keeps one library well inside consensus's largest
// command (64 MiB), with room for a bulk write of several.
const maxLibraryBytesLimit = 32 << 20

// DefaultConfig returns the defaults of every optional field.
func DefaultConfig() Config {
	return Config{
		ScopeExists:     func(string, string) bool { return true },
		MaxLibraryBytes: 1 << 20,
		Logger:          slog.New(slog.DiscardHandler),
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ScopeExists == nil {
		c.ScopeExists = d.ScopeExists
	}
	if c.MaxLibraryBytes == 0 {
		c.MaxLibraryBytes = d.MaxLibraryBytes
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// Validate reports every invalid setting (ErrInvalidConfig) and a missing
// Records (ErrMissingDependency).
func (c Config) Validate() error {
	var errs []error
	if c.Records == nil {
		errs = append(errs, fmt.Errorf("%w: Records", ErrMissingDependency))
	}
	if c.MaxLibraryBytes < 0 || c.MaxLibraryBytes > maxLibraryBytesLimit {
		errs = append(errs, fmt.Errorf("%w: max library bytes %d must be between 0 (default) and %d", ErrInvalidConfig, c.MaxLibraryBytes, maxLibraryBytesLimit))
	}
	return errors.Join(errs...)
}
