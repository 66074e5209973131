package dcp

// This file fixes the exported API of Store so that consensus, node and the
// REST packages can be written against it. Bodies are being implemented.

import (
	"context"
	"io"
)

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

// AllDocsOptions selects rows for AllDocs. Keys, when non-nil, lists exact
// keys (missing ones are skipped by AllDocs; the caller reports them).
type AllDocsOptions struct {
	StartKey string
	EndKey   string // inclusive; "" = no bound
	Limit    int    // 0 = no limit
	Keys     []string
}

// VBucketOf returns the vbucket of key: (crc32(key) >> 16) & 0x7fff modulo
// numVBuckets, as Couchbase computes it.
func VBucketOf(key string, numVBuckets int) uint16 { panic("unimplemented") }

// Live reports whether d is a live (not deleted, not expired at now) version.
func (d *Document) Live(now uint32) bool { panic("unimplemented") }

// Store holds every keyspace and document in memory. Mutating methods are
// called only by the consensus FSM, in log order, and are deterministic.
// Read methods are safe for concurrent use with them.
type Store struct{}

// NewStore returns an empty store with numVBuckets vbuckets per bucket.
func NewStore(numVBuckets int) *Store { panic("unimplemented") }

// NumVBuckets returns the vbucket count per bucket.
func (s *Store) NumVBuckets() int { panic("unimplemented") }

// CreateBucket adds a bucket with its _default scope and collection.
func (s *Store) CreateBucket(spec BucketSpec) error { panic("unimplemented") }

// DeleteBucket removes a bucket and everything in it.
func (s *Store) DeleteBucket(name string) error { panic("unimplemented") }

// CreateScope adds an empty scope.
func (s *Store) CreateScope(bucket, scope string) error { panic("unimplemented") }

// DeleteScope removes a scope (not _default) and its collections.
func (s *Store) DeleteScope(bucket, scope string) error { panic("unimplemented") }

// CreateCollection adds an empty collection.
func (s *Store) CreateCollection(ks Keyspace) error { panic("unimplemented") }

// DeleteCollection removes a collection and its documents.
func (s *Store) DeleteCollection(ks Keyspace) error { panic("unimplemented") }

// Buckets lists the buckets sorted by name.
func (s *Store) Buckets() []BucketInfo { panic("unimplemented") }

// Bucket describes one bucket.
func (s *Store) Bucket(name string) (BucketInfo, error) { panic("unimplemented") }

// CheckKeyspace returns nil if the collection exists, else the precise
// not-found error (ErrBucketNotFound, ErrScopeNotFound, ErrCollectionNotFound).
func (s *Store) CheckKeyspace(ks Keyspace) error { panic("unimplemented") }

// Apply applies one mutation with CAS at least cas, returning the new
// version. Preconditions (IfRev, RequireRev, IfCAS, Op) are checked first;
// a failed one changes nothing.
func (s *Store) Apply(m Mutation, cas uint64) (*Document, error) { panic("unimplemented") }

// ApplyAll applies ms in order as one unit: if any precondition fails
// (evaluated as if the earlier ones had been applied), nothing changes and
// the error names the index of the failing mutation (wrapped in *BatchError).
func (s *Store) ApplyAll(ms []Mutation, cas uint64) ([]*Document, error) { panic("unimplemented") }

// ExpireDue turns every live document whose expiry is <= now into an
// expired tombstone, returning how many it expired.
func (s *Store) ExpireDue(now uint32, cas uint64) int { panic("unimplemented") }

// Get returns the current version of a key, tombstones included; ErrNotFound
// if the key never existed (or the keyspace's precise not-found error).
func (s *Store) Get(ks Keyspace, key string) (*Document, error) { panic("unimplemented") }

// AllDocs returns live documents (at now) sorted by key, selected by opts.
func (s *Store) AllDocs(ks Keyspace, now uint32, opts AllDocsOptions) ([]*Document, error) {
	panic("unimplemented")
}

// Changes returns up to limit (0 = all) current versions, tombstones
// included, whose ChangeSeq > since, in ChangeSeq order, and the
// collection's last ChangeSeq.
func (s *Store) Changes(ks Keyspace, since uint64, limit int) ([]*Document, uint64, error) {
	panic("unimplemented")
}

// ReadVBucket returns up to max events (0 = all): the current version of
// every key of the bucket (any collection) in vbucket vb whose Seqno >
// after, in Seqno order.
func (s *Store) ReadVBucket(bucket string, vb uint16, after uint64, max int) ([]Event, error) {
	panic("unimplemented")
}

// HighSeqnos returns the current high seqno of every vbucket of bucket.
func (s *Store) HighSeqnos(bucket string) ([]uint64, error) { panic("unimplemented") }

// Changed returns a channel that is closed at the next change to any
// document of bucket (or when the bucket is deleted). Callers re-read and
// call Changed again; it is an edge-triggered wake-up.
func (s *Store) Changed(bucket string) <-chan struct{} { panic("unimplemented") }

// Stream follows one vbucket: backfill from after, then the tail.
type Stream struct{}

// NewStream opens a stream on (bucket, vb) for events with Seqno > after.
func (s *Store) NewStream(bucket string, vb uint16, after uint64) *Stream { panic("unimplemented") }

// Next blocks until at least one event is available (or ctx ends) and
// returns up to max of them, in order, without gaps.
func (st *Stream) Next(ctx context.Context, max int) ([]Event, error) { panic("unimplemented") }

// WriteSnapshot writes a consistent snapshot of the whole store. It holds the
// read lock only long enough to take a shallow copy.
func (s *Store) WriteSnapshot(w io.Writer) error { panic("unimplemented") }

// RestoreSnapshot replaces the store's contents with a snapshot.
func (s *Store) RestoreSnapshot(r io.Reader) error { panic("unimplemented") }
