package qinling

import (
	"context"

	"eventide/consensus"
)

// Records is the replicated record store the service keeps its state in;
// *consensus.Store implements it. Changes are conditional on record
// versions (see consensus.RecordChange), so concurrent writers through any
// node never lose each other's updates.
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
	// RecordsChanged is closed at the next change of any record.
	RecordsChanged() <-chan struct{}
}

// Tables of the records the service keeps.
const (
	tableRuntimes   = "qinling.runtimes"
	tableFunctions  = "qinling.functions"
	tablePackages   = "qinling.packages" // id: function id + "/" + md5
	tableVersions   = "qinling.versions" // id: function id + "/" + number
	tableAliases    = "qinling.aliases"  // id: project id + "/" + name
	tableExecutions = "qinling.executions"
	tableLogs       = "qinling.execution_logs" // id: execution id
	tableWebhooks   = "qinling.webhooks"
	tableJobs       = "qinling.jobs"
	// tableFirings holds the job firings decided and not yet ended, by
	// executor: id executor node id + "/" + execution id.
	tableFirings = "qinling.firings"
)
