package docstore

import (
	"crypto/md5"
	"fmt"
	"hash"
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"
)

// Store holds every keyspace and document in memory. Mutating methods are
// called only by the consensus FSM, in log order, and are deterministic.
// Read methods are safe for concurrent use with them.
//
// Layout: each collection maps a key to a slot, the key's stable home whose
// doc pointer is swapped on every update (Documents themselves are never
// modified). Each vbucket keeps an append-only log of (seqno, slot) in seqno
// order; an entry is stale once its slot's doc has a newer seqno, and the log
// is compacted when stale entries dominate, so that reading "current version
// of every key after seqno N" is a binary search plus a scan. Collections
// keep the same kind of log by ChangeSeq for _changes.
type Store struct {
	numVB int

	// mu guards everything below it. Writers (the FSM) take it exclusively;
	// readers share it and copy out immutable *Document pointers.
	mu       sync.RWMutex
	buckets  map[string]*bucket
	lastCAS  uint64
	expiring *btree.BTreeG[expItem] // live docs with an expiry, by expiry
	hasher   hash.Hash              // md5 for revision digests; used under mu
	sumBuf   []byte
	compiler IndexCompiler // compiles secondary index definitions; may be nil

	// nmu guards waiters, the lazily created wake-up channels of Changed and
	// of streams. It is never held while taking mu.
	nmu     sync.Mutex
	waiters map[string]*bucketWaiters
}

type bucket struct {
	spec         BucketSpec
	manifestUID  uint64
	nextScopeUID uint32
	nextCollUID  uint32
	scopes       map[string]*scope
	vbs          []vbucket
}

type scope struct {
	name  string
	uid   uint32
	colls map[string]*collection
}

type collection struct {
	ks        Keyspace
	uid       uint32
	bucket    *bucket
	docs      map[string]*slot
	keys      *btree.BTreeG[*slot] // every slot, by key, for AllDocs
	changeSeq uint64
	changes   seqLog // by ChangeSeq
	items     int    // non-deleted documents
	dropped   bool
	indexes   []*index // secondary and primary indexes, sorted by name
}

// slot is one key's home in a collection. Its doc pointer changes (under
// mu) as versions are installed; key and coll never change.
type slot struct {
	key    string
	coll   *collection
	doc    *Document
	expIdx uint32     // expiry under which the slot is in Store.expiring; 0 = absent
	ix     []slotKeys // the slot's keys in each index of coll that holds it
}

type vbucket struct {
	high uint64
	log  seqLog // by Seqno
}

// logEntry says "slot sl got sequence number seq". It is stale when the
// slot's current doc carries a different number.
type logEntry struct {
	seq uint64
	sl  *slot
}

// seqLog is an append-only, sequence-ordered log with lazy compaction.
type seqLog struct {
	entries []logEntry
	dead    int
}

// compactMin is the number of dead entries below which a log is never
// compacted; above it a log is compacted once half its entries are dead.
const compactMin = 32

func (l *seqLog) add(seq uint64, sl *slot, supersedes bool) {
	l.entries = append(l.entries, logEntry{seq: seq, sl: sl})
	if supersedes {
		l.dead++
	}
}

func (l *seqLog) maybeCompact(byChange bool) {
	if l.dead < compactMin || l.dead*2 < len(l.entries) {
		return
	}
	live := len(l.entries) - l.dead
	out := make([]logEntry, 0, live+live/2+1)
	for _, e := range l.entries {
		if !e.stale(byChange) {
			out = append(out, e)
		}
	}
	l.entries, l.dead = out, 0
}

// search returns the index of the first entry with seq > after.
func (l *seqLog) search(after uint64) int {
	lo, hi := 0, len(l.entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.entries[m].seq <= after {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (e logEntry) stale(byChange bool) bool {
	if e.sl.coll.dropped {
		return true
	}
	if byChange {
		return e.sl.doc.ChangeSeq != e.seq
	}
	return e.sl.doc.Seqno != e.seq
}

// expItem orders live expiring documents by expiry, then keyspace and key,
// so that ExpireDue visits them in a deterministic order.
type expItem struct {
	exp uint32
	sl  *slot
}

func expLess(a, b expItem) bool {
	if a.exp != b.exp {
		return a.exp < b.exp
	}
	if a.sl == b.sl {
		return false
	}
	x, y := &a.sl.coll.ks, &b.sl.coll.ks
	if c := strings.Compare(x.Bucket, y.Bucket); c != 0 {
		return c < 0
	}
	if c := strings.Compare(x.Scope, y.Scope); c != 0 {
		return c < 0
	}
	if c := strings.Compare(x.Collection, y.Collection); c != 0 {
		return c < 0
	}
	return a.sl.key < b.sl.key
}

func slotLess(a, b *slot) bool { return a.key < b.key }

// btreeDegree is the fan-out of the key and expiry trees.
const btreeDegree = 32

// NewStore returns an empty store with numVBuckets vbuckets per bucket.
// numVBuckets <= 0 means DefaultNumVBuckets; other values are rounded up to
// a power of two and capped at MaxNumVBuckets (see ValidateNumVBuckets).
func NewStore(numVBuckets int) *Store {
	return &Store{
		numVB:    normalizeNumVBuckets(numVBuckets),
		buckets:  make(map[string]*bucket),
		expiring: btree.NewG(btreeDegree, expLess),
		hasher:   md5.New(),
		waiters:  make(map[string]*bucketWaiters),
	}
}

// NumVBuckets returns the vbucket count per bucket.
func (s *Store) NumVBuckets() int { return s.numVB }

func newBucket(spec BucketSpec, numVB int) *bucket {
	b := &bucket{
		spec:         spec,
		nextScopeUID: firstUserUID,
		nextCollUID:  firstUserUID,
		scopes:       make(map[string]*scope),
		vbs:          make([]vbucket, numVB),
	}
	def := &scope{name: DefaultScope, uid: 0, colls: make(map[string]*collection)}
	b.scopes[DefaultScope] = def
	def.colls[DefaultCollection] = newCollection(b, DefaultScope, DefaultCollection, 0)
	return b
}

// firstUserUID is the first uid Couchbase gives a user scope or collection
// (0-7 are reserved).
const firstUserUID = 8

func newCollection(b *bucket, scopeName, name string, uid uint32) *collection {
	return &collection{
		ks:     Keyspace{Bucket: b.spec.Name, Scope: scopeName, Collection: name},
		uid:    uid,
		bucket: b,
		docs:   make(map[string]*slot),
		keys:   btree.NewG(btreeDegree, slotLess),
	}
}

// normalizeSpec validates a bucket spec and fills defaults.
func normalizeSpec(spec BucketSpec) (BucketSpec, error) {
	if err := ValidateBucketName(spec.Name); err != nil {
		return spec, err
	}
	switch spec.Type {
	case "", "couchbase", BucketTypeMembase:
		spec.Type = BucketTypeMembase
	case BucketTypeEphemeral, BucketTypeMemcached:
	default:
		return spec, fmt.Errorf("%w: bucket type %q is not one of couchbase, membase, ephemeral, memcached", ErrInvalid, spec.Type)
	}
	if spec.RAMQuotaMB < 0 {
		return spec, fmt.Errorf("%w: bucket RAM quota %d MiB is negative", ErrInvalid, spec.RAMQuotaMB)
	}
	return spec, nil
}

// CreateBucket adds a bucket with its _default scope and collection. Bucket
// names are unique ignoring case, as in Couchbase. Type "" or "couchbase"
// is stored as "membase".
func (s *Store) CreateBucket(spec BucketSpec) error {
	spec, err := normalizeSpec(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for name := range s.buckets {
		if strings.EqualFold(name, spec.Name) {
			s.mu.Unlock()
			return fmt.Errorf("%w: bucket %q (bucket names are case-insensitive)", ErrExists, name)
		}
	}
	s.buckets[spec.Name] = newBucket(spec, s.numVB)
	s.mu.Unlock()
	s.signalBucket(spec.Name)
	return nil
}

// DeleteBucket removes a bucket and everything in it.
func (s *Store) DeleteBucket(name string) error {
	s.mu.Lock()
	b := s.buckets[name]
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrBucketNotFound, name)
	}
	for _, sc := range b.scopes {
		for _, c := range sc.colls {
			s.dropCollectionLocked(c)
		}
	}
	delete(s.buckets, name)
	s.mu.Unlock()
	s.signalBucket(name)
	return nil
}

// CreateScope adds an empty scope.
func (s *Store) CreateScope(bucketName, scopeName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucketName]
	if b == nil {
		return fmt.Errorf("%w: %q", ErrBucketNotFound, bucketName)
	}
	if b.scopes[scopeName] != nil {
		return fmt.Errorf("%w: scope %q in bucket %q", ErrExists, scopeName, bucketName)
	}
	if err := ValidateScopeName("scope", scopeName); err != nil {
		return err
	}
	b.scopes[scopeName] = &scope{name: scopeName, uid: b.nextScopeUID, colls: make(map[string]*collection)}
	b.nextScopeUID++
	b.manifestUID++
	return nil
}

// DeleteScope removes a scope (not _default) and its collections.
func (s *Store) DeleteScope(bucketName, scopeName string) error {
	s.mu.Lock()
	b := s.buckets[bucketName]
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrBucketNotFound, bucketName)
	}
	if scopeName == DefaultScope {
		s.mu.Unlock()
		return fmt.Errorf("%w: the _default scope cannot be dropped", ErrInvalid)
	}
	sc := b.scopes[scopeName]
	if sc == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: scope %q in bucket %q", ErrScopeNotFound, scopeName, bucketName)
	}
	for _, c := range sc.colls {
		s.dropCollectionLocked(c)
	}
	delete(b.scopes, scopeName)
	b.manifestUID++
	s.mu.Unlock()
	s.signalBucket(bucketName)
	return nil
}

// CreateCollection adds an empty collection. Like Couchbase, it refuses
// names starting with _ or %, so a dropped _default collection cannot be
// recreated.
func (s *Store) CreateCollection(ks Keyspace) error {
	ks = ks.normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[ks.Bucket]
	if b == nil {
		return fmt.Errorf("%w: %q", ErrBucketNotFound, ks.Bucket)
	}
	sc := b.scopes[ks.Scope]
	if sc == nil {
		return fmt.Errorf("%w: scope %q in bucket %q", ErrScopeNotFound, ks.Scope, ks.Bucket)
	}
	if sc.colls[ks.Collection] != nil {
		return fmt.Errorf("%w: collection %s", ErrExists, ks)
	}
	if err := ValidateScopeName("collection", ks.Collection); err != nil {
		return err
	}
	sc.colls[ks.Collection] = newCollection(b, ks.Scope, ks.Collection, b.nextCollUID)
	b.nextCollUID++
	b.manifestUID++
	return nil
}

// DeleteCollection removes a collection and its documents. As in Couchbase,
// the _default collection may be dropped (and then not recreated).
func (s *Store) DeleteCollection(ks Keyspace) error {
	ks = ks.normalize()
	s.mu.Lock()
	c, err := s.collectionLocked(ks)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.dropCollectionLocked(c)
	b := c.bucket
	delete(b.scopes[ks.Scope].colls, ks.Collection)
	b.manifestUID++
	s.mu.Unlock()
	s.signalBucket(ks.Bucket)
	return nil
}

// dropCollectionLocked marks c dropped: its log entries become stale and
// its documents leave the expiry index.
func (s *Store) dropCollectionLocked(c *collection) {
	c.dropped = true
	b := c.bucket
	for _, sl := range c.docs {
		b.vbs[sl.doc.VBucket].log.dead++
		if sl.expIdx != 0 {
			s.expiring.Delete(expItem{exp: sl.expIdx, sl: sl})
			sl.expIdx = 0
		}
	}
	for i := range b.vbs {
		b.vbs[i].log.maybeCompact(false)
	}
}

// normalize maps a keyspace with neither scope nor collection to the
// default collection.
func (k Keyspace) normalize() Keyspace {
	if k.Scope == "" && k.Collection == "" {
		k.Scope, k.Collection = DefaultScope, DefaultCollection
	}
	return k
}

// collectionLocked finds a collection or returns the precise not-found
// error. Callers hold mu (either mode).
func (s *Store) collectionLocked(ks Keyspace) (*collection, error) {
	b := s.buckets[ks.Bucket]
	if b == nil {
		return nil, fmt.Errorf("%w: %q", ErrBucketNotFound, ks.Bucket)
	}
	if ks.Scope == "" && ks.Collection == "" {
		ks.Scope, ks.Collection = DefaultScope, DefaultCollection
	}
	sc := b.scopes[ks.Scope]
	if sc == nil {
		return nil, fmt.Errorf("%w: scope %q in bucket %q", ErrScopeNotFound, ks.Scope, ks.Bucket)
	}
	c := sc.colls[ks.Collection]
	if c == nil {
		return nil, fmt.Errorf("%w: collection %q in %s.%s", ErrCollectionNotFound, ks.Collection, ks.Bucket, ks.Scope)
	}
	return c, nil
}

// CheckKeyspace returns nil if the collection exists, else the precise
// not-found error (ErrBucketNotFound, ErrScopeNotFound, ErrCollectionNotFound).
// A keyspace with empty scope and collection means the default collection.
func (s *Store) CheckKeyspace(ks Keyspace) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, err := s.collectionLocked(ks)
	return err
}

// Buckets lists the buckets sorted by name.
func (s *Store) Buckets() []BucketInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]BucketInfo, 0, len(s.buckets))
	for _, b := range s.buckets {
		out = append(out, b.info())
	}
	slices.SortFunc(out, func(a, b BucketInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Bucket describes one bucket.
func (s *Store) Bucket(name string) (BucketInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.buckets[name]
	if b == nil {
		return BucketInfo{}, fmt.Errorf("%w: %q", ErrBucketNotFound, name)
	}
	return b.info(), nil
}

// info describes b; the caller holds mu.
func (b *bucket) info() BucketInfo {
	bi := BucketInfo{BucketSpec: b.spec, ManifestUID: b.manifestUID, Scopes: make([]ScopeInfo, 0, len(b.scopes))}
	for _, sc := range b.scopes {
		si := ScopeInfo{Name: sc.name, UID: sc.uid, Collections: make([]CollectionInfo, 0, len(sc.colls))}
		for _, c := range sc.colls {
			si.Collections = append(si.Collections, CollectionInfo{Name: c.ks.Collection, UID: c.uid, ItemCount: c.items})
			bi.ItemCount += c.items
		}
		slices.SortFunc(si.Collections, func(a, b CollectionInfo) int { return compareDefaultFirst(a.Name, b.Name) })
		bi.Scopes = append(bi.Scopes, si)
	}
	slices.SortFunc(bi.Scopes, func(a, b ScopeInfo) int { return compareDefaultFirst(a.Name, b.Name) })
	return bi
}

// compareDefaultFirst orders names with _default first, then by name.
func compareDefaultFirst(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == DefaultScope:
		return -1
	case b == DefaultScope:
		return 1
	}
	return strings.Compare(a, b)
}

// sortedKeys returns a map's keys in order, for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
