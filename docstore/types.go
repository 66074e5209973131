// Package dcp owns keyspaces and documents: CAS, vbucket seqnos, Sync
// Gateway revisions, expiry, tombstones, and per-vbucket ordered mutation
// streams (backfill, then tail) in the manner of Couchbase's Database Change
// Protocol. The Store here is the in-memory state that the consensus FSM
// mutates deterministically; everything time-dependent (CAS, expiry) is
// decided by the proposer and handed in.
package docstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Names of the default scope and collection every bucket has.
const (
	DefaultScope      = "_default"
	DefaultCollection = "_default"
)

// Sentinel errors. REST packages map them to their API's status codes.
var (
	// ErrNotFound: the bucket, scope, collection or document does not exist
	// (a tombstone or an expired document counts as not found for reads).
	ErrNotFound = errors.New("docstore: not found")
	// ErrBucketNotFound: the named bucket does not exist.
	ErrBucketNotFound = errors.New("docstore: bucket not found")
	// ErrScopeNotFound: the named scope does not exist in its bucket.
	ErrScopeNotFound = errors.New("docstore: scope not found")
	// ErrCollectionNotFound: the named collection does not exist in its scope.
	ErrCollectionNotFound = errors.New("docstore: collection not found")
	// ErrExists: the bucket, scope, collection or (for inserts) live document
	// already exists.
	ErrExists = errors.New("docstore: already exists")
	// ErrConflict: a revision precondition failed (Sync Gateway 409).
	ErrConflict = errors.New("docstore: document update conflict")
	// ErrCASMismatch: a CAS precondition failed.
	ErrCASMismatch = errors.New("docstore: cas mismatch")
	// ErrInvalid: the request is malformed (bad name, bad body, ...).
	ErrInvalid = errors.New("docstore: invalid argument")
)

// InvalidReason is the message of an ErrInvalid error as a client should
// read it: the text after the sentinel's, without the package prefixes of
// the sentinel or of any wrapping error.
func InvalidReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ErrInvalid.Error()+": "); i >= 0 {
		return msg[i+len(ErrInvalid.Error())+2:]
	}
	return "invalid argument"
}

// Keyspace names one collection.
type Keyspace struct {
	Bucket     string `json:"bucket"`
	Scope      string `json:"scope"`
	Collection string `json:"collection"`
}

// String renders the keyspace as bucket.scope.collection.
func (k Keyspace) String() string {
	return k.Bucket + "." + k.Scope + "." + k.Collection
}

// ParseKeyspace reads "bucket" (the default collection) or
// "bucket.scope.collection".
func ParseKeyspace(s string) (Keyspace, error) {
	parts := strings.Split(s, ".")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return Keyspace{Bucket: parts[0], Scope: DefaultScope, Collection: DefaultCollection}, nil
	case len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "":
		return Keyspace{Bucket: parts[0], Scope: parts[1], Collection: parts[2]}, nil
	}
	return Keyspace{}, fmt.Errorf("%w: keyspace %q is neither bucket nor bucket.scope.collection", ErrInvalid, s)
}

// Datatype says how a document body is encoded.
type Datatype uint8

const (
	// DatatypeJSON bodies are valid JSON.
	DatatypeJSON Datatype = iota
	// DatatypeBinary bodies are opaque bytes.
	DatatypeBinary
)

// String is "json" or "binary", as in a handler's meta.datatype.
func (d Datatype) String() string {
	if d == DatatypeBinary {
		return "binary"
	}
	return "json"
}

// Document is one version of a key in a collection. Documents held by the
// Store are immutable: an update installs a new *Document, so readers may
// keep the pointer without locking.
type Document struct {
	Key      string          `json:"key"`
	Body     json.RawMessage `json:"body,omitempty"` // nil for tombstones; raw bytes when Datatype is binary
	Datatype Datatype        `json:"datatype,omitempty"`
	CAS      uint64          `json:"cas"`
	// RevID is the Sync Gateway revision "generation-digest".
	RevID string `json:"rev"`
	// RevHistory holds ancestor revision ids, newest first, bounded, so that
	// conflict handling and new_edits=false replication can be added.
	RevHistory []string `json:"rev_history,omitempty"`
	Flags      uint32   `json:"flags,omitempty"`
	// Expiry is the absolute expiry time in unix seconds; 0 never expires.
	Expiry  uint32 `json:"expiry,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
	// Expired marks a tombstone that expiry (not a delete) produced.
	Expired bool   `json:"expired,omitempty"`
	VBucket uint16 `json:"vb"`
	// Seqno is the document's position in its vbucket's stream.
	Seqno uint64 `json:"seqno"`
	// ChangeSeq is the collection-wide sequence for the _changes feed.
	ChangeSeq uint64 `json:"change_seq"`
	// Xattrs are user extended attributes; SysXattrs system ones ("_" prefix).
	Xattrs    map[string]json.RawMessage `json:"xattrs,omitempty"`
	SysXattrs map[string]json.RawMessage `json:"sys_xattrs,omitempty"`
	// Origin is the function instance that wrote this version ("" for
	// clients), so a function does not retrigger on its own writes.
	Origin string `json:"origin,omitempty"`
}

// OpKind is the kind of a document mutation.
type OpKind uint8

const (
	// OpUpsert creates or replaces the document.
	OpUpsert OpKind = iota
	// OpInsert creates the document; ErrExists if a live one exists.
	OpInsert
	// OpReplace replaces a live document; ErrNotFound if there is none.
	OpReplace
	// OpDelete turns a live document into a tombstone; ErrNotFound if none.
	OpDelete
	// OpTouch changes only the expiry of a live document.
	OpTouch
)

// Mutation is one requested change to one document. It is plain data so
// that it can travel in a Raft command.
type Mutation struct {
	Keyspace Keyspace        `json:"ks"`
	Key      string          `json:"key"`
	Op       OpKind          `json:"op"`
	Body     json.RawMessage `json:"body,omitempty"`
	Datatype Datatype        `json:"dt,omitempty"`
	Flags    uint32          `json:"flags,omitempty"`
	Expiry   uint32          `json:"exp,omitempty"`
	// PreserveExpiry keeps a live document's expiry on upsert and replace
	// (Expiry then applies only when the key has no live document), as
	// Couchbase's preserve-TTL option does.
	PreserveExpiry bool `json:"preserve_exp,omitempty"`
	// IfRev, when set, requires the current revision (live or tombstone) to
	// equal it (Sync Gateway rev / If-Match).
	IfRev string `json:"if_rev,omitempty"`
	// RequireRev makes a Sync Gateway write without IfRev fail with
	// ErrConflict when a live document exists (SG create semantics).
	RequireRev bool `json:"require_rev,omitempty"`
	// IfCAS, when non-zero, requires the current CAS to equal it.
	IfCAS uint64 `json:"if_cas,omitempty"`
	// Xattrs, when non-nil, replace the user xattrs; otherwise they are kept.
	Xattrs map[string]json.RawMessage `json:"xattrs,omitempty"`
	// Origin is the function instance making the write ("" for clients).
	Origin string `json:"origin,omitempty"`
}

// EventKind distinguishes stream events.
type EventKind uint8

const (
	// EventMutation: a document was created or updated.
	EventMutation EventKind = iota
	// EventDeletion: a document was deleted.
	EventDeletion
	// EventExpiration: a document expired.
	EventExpiration
)

// Event is one entry of a vbucket stream: the current version of a key
// that changed after the stream's start seqno. Doc is shared and immutable.
type Event struct {
	Kind     EventKind
	Keyspace Keyspace
	Doc      *Document
}

// BucketSpec describes a bucket as created through the cluster manager API.
type BucketSpec struct {
	Name string `json:"name"`
	// UUID is decided by the proposer (random hex) so the FSM stays deterministic.
	UUID string `json:"uuid"`
	// RAMQuotaMB is the bucket's RAM quota in MiB (informational).
	RAMQuotaMB int `json:"ram_quota_mb"`
	// Type is "membase" (couchbase), "ephemeral" or "memcached".
	Type string `json:"type"`
}

// CollectionInfo describes one collection.
type CollectionInfo struct {
	Name string `json:"name"`
	// UID is the collection id (hex in Couchbase's API), unique in its bucket;
	// _default is 0.
	UID       uint32 `json:"uid"`
	ItemCount int    `json:"item_count"`
}

// ScopeInfo describes one scope and its collections.
type ScopeInfo struct {
	Name        string           `json:"name"`
	UID         uint32           `json:"uid"`
	Collections []CollectionInfo `json:"collections"`
}

// BucketInfo describes a bucket, its scopes (sorted by name, _default first)
// and its manifest uid (bumped on every scope/collection change).
type BucketInfo struct {
	BucketSpec
	ManifestUID uint64      `json:"manifest_uid"`
	Scopes      []ScopeInfo `json:"scopes"`
	ItemCount   int         `json:"item_count"`
}
