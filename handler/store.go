package handler

import (
	"fmt"
	"time"

	"eventide/docstore"
)

// Store is what a worker needs from the data layer while handling events.
// The node implements it as a per-batch overlay over the replicated store:
// reads see the batch's own earlier writes, and the writes are committed with
// the batch. A worker calls it only from inside Handle, from one goroutine.
type Store interface {
	// Get returns the live document, or an error wrapping docstore.ErrNotFound
	// if it is missing, deleted or expired.
	Get(ks docstore.Keyspace, key string) (*docstore.Document, error)
	// Upsert creates or replaces the document with body (JSON or binary as
	// dt says). Like a Couchbase SET it clears any expiry and keeps no
	// xattrs from the handler's side.
	Upsert(ks docstore.Keyspace, key string, body []byte, dt docstore.Datatype) error
	// Delete deletes the live document; existed is false (and err nil) when
	// there was none.
	Delete(ks docstore.Keyspace, key string) (existed bool, err error)
	// Apply performs one operation of the advanced accessors (couchbase.*)
	// against the batch's view: m.Op is OpInsert, OpUpsert, OpReplace,
	// OpDelete or OpTouch; m.IfCAS, when non-zero, must equal the CAS the
	// batch sees (a document the batch wrote has the provisional CAS Apply
	// returned for it); m.Body, m.Datatype and m.Expiry are the new value
	// and expiry (0: none); m.Xattrs nil keeps the user xattrs; m.Origin is
	// ignored. The store stamps the write with its function instance, so it
	// does not retrigger the function, unless selfRecursion is set. The
	// preconditions the operation relied on (absence for insert, presence
	// for replace, delete and touch, the CAS) hold again when the write is
	// committed, or the batch is re-run. Apply returns the new version (a
	// tombstone for deletes) or an error wrapping docstore.ErrNotFound,
	// docstore.ErrExists or docstore.ErrCASMismatch when a precondition fails.
	Apply(m docstore.Mutation, selfRecursion bool) (*docstore.Document, error)
	// PendingKeys returns the keys of ks the batch has written (deletes
	// included), in first-write order, each once. The indexes of the
	// replicated store do not have these writes yet, so SQL++ scans fetch
	// these keys through Get too.
	PendingKeys(ks docstore.Keyspace) []string
	// CreateTimer records a timer in the batch, replacing any pending
	// timer with the same Callback and Reference (as the batch sees them).
	// It is committed with the batch, so it exists exactly once or not at
	// all.
	CreateTimer(t Timer) error
	// CancelTimer removes the pending timer (callback, reference) as the
	// batch sees it (the batch's own creations included), reporting
	// whether there was one.
	CancelTimer(callback, reference string) (bool, error)
}

// Timer is a timer as createTimer makes it and its callback receives it.
type Timer struct {
	// Callback is the name of the global function to call.
	Callback string
	// Reference identifies the timer with Callback; createTimer generates
	// one when the handler passes none.
	Reference string
	// Due is when the timer fires (millisecond precision).
	Due time.Time
	// Context is the JSON of the context argument ("null" for none).
	Context []byte
}

// Access modes of a bucket binding.
const (
	// AccessRead: the alias can only read.
	AccessRead = "r"
	// AccessReadWrite: the alias can read, write and delete.
	AccessReadWrite = "rw"
)

// Binding makes a keyspace visible to the handler as a global map named
// Alias.
type Binding struct {
	// Alias is the global name, a JavaScript identifier (see ValidateAlias).
	Alias string
	// Keyspace is the bound collection; empty Scope/Collection mean
	// "_default". "*" scope or collection (wildcard bindings) cannot be used
	// through the map accessor.
	Keyspace docstore.Keyspace
	// Access is AccessRead or AccessReadWrite; "" means AccessReadWrite.
	Access string
}

// Constant is a constant binding: `const <Alias> = <Literal>;` is placed in
// the program, so Literal may be any single JavaScript expression (number,
// quoted string, array, object, function).
type Constant struct {
	Alias, Literal string
}

// normalizeBindings validates bindings and fills their defaults.
func normalizeBindings(in []Binding) ([]Binding, error) {
	out := make([]Binding, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, b := range in {
		if err := ValidateAlias(b.Alias); err != nil {
			return nil, err
		}
		if seen[b.Alias] {
			return nil, fmt.Errorf("%w: bucket alias %s is not unique", ErrInvalidBinding, b.Alias)
		}
		seen[b.Alias] = true
		switch b.Access {
		case "":
			b.Access = AccessReadWrite
		case AccessRead, AccessReadWrite:
		default:
			return nil, fmt.Errorf("%w: bucket alias %s: invalid bucket access %q, should be either \"r\" or \"rw\"",
				ErrInvalidBinding, b.Alias, b.Access)
		}
		if b.Keyspace.Bucket == "" {
			return nil, fmt.Errorf("%w: bucket alias %s: bucket name should not be empty", ErrInvalidBinding, b.Alias)
		}
		if b.Keyspace.Scope == "" {
			b.Keyspace.Scope = docstore.DefaultScope
		}
		if b.Keyspace.Collection == "" {
			b.Keyspace.Collection = docstore.DefaultCollection
		}
		out = append(out, b)
	}
	return out, nil
}
