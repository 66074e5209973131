package docstore

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/google/btree"
)

// Secondary indexes. docstore knows nothing of the language that defines
// them: a definition is opaque bytes, turned into a key function by the
// IndexCompiler given to the store. Every document install updates every
// index of its collection under the store lock, in the apply path, so an
// index is always exactly in step with the documents.

// IndexKeys returns a live document's index keys. Zero keys: the document
// is not in the index (a partial index's condition is false, the key is
// MISSING). Several keys: an array index. Keys are order-preserving
// encodings: bytes.Compare order is the index order. The store keeps the
// returned slices, so they must be fresh; duplicates collapse into one
// entry. It must be a pure function of the document: the FSM calls it on
// every node, and again never (the keys are remembered for removal). A
// panic inside counts as zero keys.
type IndexKeys func(d *Document) (keys [][]byte)

// IndexCompiler compiles an index definition on keyspace ks into its key
// function, or says why the definition is unusable. It must be
// deterministic and the same on every node (the FSM calls it while
// applying a create and while restoring a snapshot).
type IndexCompiler func(ks Keyspace, def []byte) (IndexKeys, error)

// Index states (IndexInfo.State), named as in Couchbase's system:indexes.
const (
	// IndexOnline: the index is built and kept in step; scans work.
	IndexOnline = "online"
	// IndexOffline: a snapshot restored the index but its definition did
	// not compile on this node (IndexInfo.Error says why); it has no
	// entries and scans fail with ErrIndexOffline until it is dropped.
	IndexOffline = "offline"
)

// Limits on index definitions.
const (
	// MaxIndexNameLen is the longest index name in bytes.
	MaxIndexNameLen = 255
	// MaxIndexDefLen is the largest index definition in bytes.
	MaxIndexDefLen = 64 << 10
)

// Index errors.
var (
	// ErrIndexNotFound: no index of that name on the keyspace.
	ErrIndexNotFound = errors.New("docstore: index not found")
	// ErrIndexOffline: the index exists but cannot be scanned (see
	// IndexOffline).
	ErrIndexOffline = errors.New("docstore: index offline")
)

// IndexInfo describes one index.
type IndexInfo struct {
	Keyspace Keyspace `json:"keyspace"`
	Name     string   `json:"name"`
	// Primary indexes hold every live document's key, in key order.
	Primary bool `json:"primary,omitempty"`
	// Definition is the opaque definition it was created with (a copy).
	Definition []byte `json:"definition,omitempty"`
	// State is IndexOnline or IndexOffline; Error is why it is offline.
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Entries is the number of (key, document) entries.
	Entries int `json:"entries"`
}

// index is one index of a collection. name, def, primary, keysFn and err
// never change; tree is changed in place under Store.mu (exclusive), and
// view caches a read-only clone of it for scans.
type index struct {
	name    string
	def     []byte
	primary bool
	keysFn  IndexKeys // nil for primary and offline indexes
	err     error     // why the index is offline; nil when online
	tree    *btree.BTreeG[ixEntry]

	// view is a copy-on-write clone of tree taken by a reader since the
	// last write (nil after a write). cmu serialises readers' Clone calls,
	// which update tree's copy-on-write context.
	view atomic.Pointer[btree.BTreeG[ixEntry]]
	cmu  sync.Mutex
}

// ixEntry is one index entry: key, then the document key (doc, which
// shares sl.key's memory and is kept here so that comparisons need not
// visit the slot). The fields are compared separately, never
// concatenated, so no two (key, document key) pairs can collide. exp is the
// document's expiry (0: none), so scans can skip what is due without
// reading the slot. pos makes scan pivots: -1 sorts before every entry of
// its key, +1 after; real entries have 0.
type ixEntry struct {
	key []byte
	doc string
	sl  *slot
	exp uint32
	pos int8
}

func ixLess(a, b ixEntry) bool {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	if a.pos != 0 || b.pos != 0 {
		return a.pos < b.pos
	}
	return a.doc < b.doc
}

// slotKeys remembers the keys a slot has in one index, so that an update
// removes exactly what was inserted without evaluating the old version.
type slotKeys struct {
	ix   *index
	keys [][]byte
	exp  uint32
}

func newIndex(name string, def []byte, primary bool) *index {
	if len(def) == 0 {
		def = nil // one form of "no definition", before and after a snapshot
	}
	return &index{name: name, def: def, primary: primary, tree: btree.NewG(btreeDegree, ixLess)}
}

// SetIndexCompiler sets the compiler of index definitions. Call it before
// the first CreateIndex or RestoreSnapshot; later calls affect only later
// compilations. A store without one creates primary indexes only.
func (s *Store) SetIndexCompiler(c IndexCompiler) {
	s.mu.Lock()
	s.compiler = c
	s.mu.Unlock()
}

// ValidateIndexName applies eventide's index name rules: 1-255 bytes of
// valid UTF-8 without control characters. (SQL++ identifiers are checked
// by the query parser; this keeps the store's records sane.)
func ValidateIndexName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: index name cannot be empty", ErrInvalid)
	case len(name) > MaxIndexNameLen:
		return fmt.Errorf("%w: index name cannot exceed %d bytes", ErrInvalid, MaxIndexNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: index name %q is not valid UTF-8", ErrInvalid, name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: index name %q holds a control character", ErrInvalid, name)
	}
	return nil
}

// CompileIndex checks a secondary index definition without changing
// anything: a proposer calls it before replicating a create, so that a bad
// definition never reaches the log.
func (s *Store) CompileIndex(ks Keyspace, name string, def []byte, primary bool) error {
	s.mu.RLock()
	compiler := s.compiler
	s.mu.RUnlock()
	_, err := compileIndex(compiler, ks.normalize(), name, def, primary)
	return err
}

// compileIndex validates an index and compiles its definition (not for a
// primary index, whose definition is only kept).
func compileIndex(compiler IndexCompiler, ks Keyspace, name string, def []byte, primary bool) (fn IndexKeys, err error) {
	if err := ValidateIndexName(name); err != nil {
		return nil, err
	}
	if len(def) > MaxIndexDefLen {
		return nil, fmt.Errorf("%w: definition of index %q is %d bytes, more than %d", ErrInvalid, name, len(def), MaxIndexDefLen)
	}
	if primary {
		return nil, nil
	}
	if compiler == nil {
		return nil, fmt.Errorf("%w: index %q: this store has no index compiler", ErrInvalid, name)
	}
	defer func() {
		if r := recover(); r != nil {
			fn, err = nil, fmt.Errorf("%w: index %q on %s: the compiler panicked: %v", ErrInvalid, name, ks, r)
		}
	}()
	fn, err = compiler(ks, def)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: index %q on %s: %w", ErrInvalid, name, ks, err)
	case fn == nil:
		return nil, fmt.Errorf("%w: index %q on %s: the compiler returned no key function", ErrInvalid, name, ks)
	}
	return fn, nil
}

// CreateIndex creates index name on collection ks and builds it from the
// collection's live documents (in key order, deterministically). A primary
// index holds every live document's key and needs no compiler; def is kept
// as is. Errors: the keyspace's not-found errors, ErrExists for a name
// already used on ks, ErrInvalid for a bad name or a definition the
// compiler rejects (wrapping the compiler's error). Nothing changes on
// error.
func (s *Store) CreateIndex(ks Keyspace, name string, def []byte, primary bool) error {
	ks = ks.normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.collectionLocked(ks)
	if err != nil {
		return err
	}
	if c.indexLocked(name) != nil {
		return fmt.Errorf("%w: index %q on %s", ErrExists, name, c.ks)
	}
	fn, err := compileIndex(s.compiler, c.ks, name, def, primary)
	if err != nil {
		return err
	}
	ix := newIndex(name, cloneBytes(def), primary)
	ix.keysFn = fn
	c.addIndex(ix)
	c.buildIndex(ix)
	return nil
}

// buildIndex fills a new, empty ix from c's documents. Entries are sorted
// first and inserted in order, so that each insert stays on the tree's
// right edge (cache-friendly) whatever the keys' order by document.
func (c *collection) buildIndex(ix *index) {
	if ix.err != nil {
		return
	}
	var entries []ixEntry
	c.keys.Ascend(func(sl *slot) bool {
		keys := ix.keysOf(sl.doc, nil)
		if keys == nil {
			return true
		}
		exp := sl.doc.Expiry
		sl.setKeys(ix, keys, exp)
		for _, k := range keys {
			entries = append(entries, ixEntry{key: k, doc: sl.key, sl: sl, exp: exp})
		}
		return true
	})
	slices.SortFunc(entries, func(a, b ixEntry) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.doc, b.doc)
	})
	for _, e := range entries {
		ix.tree.ReplaceOrInsert(e)
	}
}

// DropIndex removes index name from collection ks (ErrIndexNotFound if
// there is none). Views taken before stay readable.
func (s *Store) DropIndex(ks Keyspace, name string) error {
	ks = ks.normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.collectionLocked(ks)
	if err != nil {
		return err
	}
	ix := c.indexLocked(name)
	if ix == nil {
		return fmt.Errorf("%w: %q on %s", ErrIndexNotFound, name, c.ks)
	}
	ix.tree.Ascend(func(e ixEntry) bool {
		e.sl.setKeys(ix, nil, 0)
		return true
	})
	c.indexes = slices.DeleteFunc(c.indexes, func(x *index) bool { return x == ix })
	return nil
}

// Indexes lists the indexes of collection ks sorted by name.
func (s *Store) Indexes(ks Keyspace) ([]IndexInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.collectionLocked(ks.normalize())
	if err != nil {
		return nil, err
	}
	out := make([]IndexInfo, len(c.indexes))
	for i, ix := range c.indexes {
		out[i] = ix.info(c.ks)
	}
	return out, nil
}

// AllIndexes lists every index of every collection, sorted by bucket,
// scope, collection and name (for system:indexes).
func (s *Store) AllIndexes() []IndexInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []IndexInfo
	for _, bn := range sortedKeys(s.buckets) {
		b := s.buckets[bn]
		for _, sn := range sortedKeys(b.scopes) {
			sc := b.scopes[sn]
			for _, cn := range sortedKeys(sc.colls) {
				c := sc.colls[cn]
				for _, ix := range c.indexes {
					out = append(out, ix.info(c.ks))
				}
			}
		}
	}
	return out
}

// info describes ix; the caller holds mu (either mode).
func (ix *index) info(ks Keyspace) IndexInfo {
	in := IndexInfo{Keyspace: ks, Name: ix.name, Primary: ix.primary, Definition: cloneBytes(ix.def), State: IndexOnline, Entries: ix.tree.Len()}
	if ix.err != nil {
		in.State, in.Error = IndexOffline, ix.err.Error()
	}
	return in
}

// indexLocked finds an index of c by name; the caller holds mu.
func (c *collection) indexLocked(name string) *index {
	i, ok := slices.BinarySearchFunc(c.indexes, name, func(ix *index, n string) int { return strings.Compare(ix.name, n) })
	if !ok {
		return nil
	}
	return c.indexes[i]
}

// addIndex inserts ix in c.indexes, which stays sorted by name.
func (c *collection) addIndex(ix *index) {
	i, _ := slices.BinarySearchFunc(c.indexes, ix.name, func(x *index, n string) int { return strings.Compare(x.name, n) })
	c.indexes = slices.Insert(c.indexes, i, ix)
}

// keysOf returns d's keys in ix, sorted and without duplicates; nil when d
// is not in it. old is what the slot holds now (reused by primary indexes).
func (ix *index) keysOf(d *Document, old [][]byte) (keys [][]byte) {
	if d == nil || d.Deleted || ix.err != nil {
		return nil
	}
	if ix.primary {
		if old != nil {
			return old
		}
		return [][]byte{[]byte(d.Key)}
	}
	defer func() {
		if recover() != nil {
			keys = nil // documented: a panicking key function indexes nothing
		}
	}()
	keys = ix.keysFn(d)
	if len(keys) > 1 {
		slices.SortFunc(keys, bytes.Compare)
		keys = slices.CompactFunc(keys, bytes.Equal)
	}
	if len(keys) == 0 {
		return nil
	}
	return keys
}

// updateSlotIndex brings sl's entries in ix in line with its current doc.
// The caller holds mu exclusively.
func (c *collection) updateSlotIndex(ix *index, sl *slot) {
	old, oldExp := sl.keysIn(ix)
	keys := ix.keysOf(sl.doc, old)
	exp := uint32(0)
	if keys != nil {
		exp = sl.doc.Expiry
	}
	if exp == oldExp && equalKeys(old, keys) {
		return
	}
	ix.view.Store(nil)
	for _, k := range old {
		ix.tree.Delete(ixEntry{key: k, doc: sl.key})
	}
	for _, k := range keys {
		ix.tree.ReplaceOrInsert(ixEntry{key: k, doc: sl.key, sl: sl, exp: exp})
	}
	sl.setKeys(ix, keys, exp)
}

// indexSlot updates every index of sl's collection after an install.
func (c *collection) indexSlot(sl *slot) {
	for _, ix := range c.indexes {
		c.updateSlotIndex(ix, sl)
	}
}

func equalKeys(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

// keysIn returns the keys sl has in ix and their expiry.
func (sl *slot) keysIn(ix *index) ([][]byte, uint32) {
	for i := range sl.ix {
		if sl.ix[i].ix == ix {
			return sl.ix[i].keys, sl.ix[i].exp
		}
	}
	return nil, 0
}

// setKeys records sl's keys in ix (nil: none).
func (sl *slot) setKeys(ix *index, keys [][]byte, exp uint32) {
	for i := range sl.ix {
		if sl.ix[i].ix == ix {
			if keys == nil {
				sl.ix = slices.Delete(sl.ix, i, i+1)
				if len(sl.ix) == 0 {
					sl.ix = nil
				}
			} else {
				sl.ix[i].keys, sl.ix[i].exp = keys, exp
			}
			return
		}
	}
	if keys != nil {
		sl.ix = append(sl.ix, slotKeys{ix: ix, keys: keys, exp: exp})
	}
}

// ScanRange bounds an index scan. A nil bound is unbounded; a non-nil one
// (even empty) is a key compared with bytes.Compare.
type ScanRange struct {
	Low, High                   []byte
	LowInclusive, HighInclusive bool
}

// ScanOptions shape a scan.
type ScanOptions struct {
	// Descending scans from High down to Low (by key, then document key
	// descending).
	Descending bool
	// Limit stops after that many entries; 0 means no limit.
	Limit int
	// Now, when non-zero, skips entries of documents whose expiry is at or
	// before Now (unix seconds): expired, but not yet turned into
	// tombstones by the expiry pager. Reads filter them the same way.
	Now uint32
}

// IndexView is a read-only, point-in-time view of one index: every scan of
// it sees the index as it was when the view was taken, whatever the FSM
// applies meanwhile, so the spans of one query agree with each other.
// Taking a view is O(1) (a copy-on-write clone); it is safe for
// concurrent use.
type IndexView struct {
	info IndexInfo
	tree *btree.BTreeG[ixEntry]
}

// Index returns a view of index name on ks: ErrIndexNotFound, the
// keyspace's not-found errors, or ErrIndexOffline for an index that did
// not compile on this node.
func (s *Store) Index(ks Keyspace, name string) (*IndexView, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.collectionLocked(ks.normalize())
	if err != nil {
		return nil, err
	}
	ix := c.indexLocked(name)
	if ix == nil {
		return nil, fmt.Errorf("%w: %q on %s", ErrIndexNotFound, name, c.ks)
	}
	if ix.err != nil {
		return nil, fmt.Errorf("%w: %q on %s: %v", ErrIndexOffline, name, c.ks, ix.err)
	}
	return &IndexView{info: ix.info(c.ks), tree: ix.readView()}, nil
}

// readView returns a clone of ix.tree no writer will touch. The caller
// holds Store.mu for reading, so no writer runs meanwhile.
func (ix *index) readView() *btree.BTreeG[ixEntry] {
	if v := ix.view.Load(); v != nil {
		return v
	}
	ix.cmu.Lock()
	defer ix.cmu.Unlock()
	if v := ix.view.Load(); v != nil {
		return v
	}
	v := ix.tree.Clone()
	ix.view.Store(v)
	return v
}

// Info describes the index as of the view.
func (v *IndexView) Info() IndexInfo {
	in := v.info
	in.Definition = cloneBytes(in.Definition)
	return in
}

// Len returns the number of entries in the view.
func (v *IndexView) Len() int { return v.tree.Len() }

// Scan calls fn with each entry within r, in index order (or reverse), until
// fn returns false or opts.Limit entries were given. key aliases the
// index's memory and must not be modified; docKey is the document's key
// (for a primary index key holds the same bytes). A range whose Low is
// above its High is empty.
func (v *IndexView) Scan(r ScanRange, opts ScanOptions, fn func(key []byte, docKey string) bool) {
	n := 0
	visit := func(e ixEntry) bool {
		if opts.Now != 0 && e.exp != 0 && e.exp <= opts.Now {
			return true
		}
		n++
		return fn(e.key, e.doc) && (opts.Limit <= 0 || n < opts.Limit)
	}
	lo, hasLo := pivot(r.Low, r.LowInclusive, true)
	hi, hasHi := pivot(r.High, r.HighInclusive, false)
	if hasLo && hasHi && !ixLess(lo, hi) {
		return // empty (pivots never equal entries, so lo < hi is needed)
	}
	t := v.tree
	if !opts.Descending {
		switch {
		case hasLo && hasHi:
			t.AscendRange(lo, hi, visit)
		case hasLo:
			t.AscendGreaterOrEqual(lo, visit)
		case hasHi:
			t.AscendLessThan(hi, visit)
		default:
			t.Ascend(visit)
		}
		return
	}
	// Descend's "less or equal" and "greater than" pivots match no entry,
	// so they act as the same exclusive/inclusive bounds.
	switch {
	case hasLo && hasHi:
		t.DescendRange(hi, lo, visit)
	case hasHi:
		t.DescendLessOrEqual(hi, visit)
	case hasLo:
		t.DescendGreaterThan(lo, visit)
	default:
		t.Descend(visit)
	}
}

// pivot makes the scan pivot of a bound: the low pivot sorts just before
// (inclusive) or after (exclusive) every entry of its key; the high pivot
// just after (inclusive) or before (exclusive).
func pivot(key []byte, inclusive, low bool) (ixEntry, bool) {
	if key == nil {
		return ixEntry{}, false
	}
	var pos int8 = 1
	if inclusive == low {
		pos = -1
	}
	return ixEntry{key: key, pos: pos}, true
}

// Entries is Scan as an iterator of (key, document key).
func (v *IndexView) Entries(r ScanRange, opts ScanOptions) iter.Seq2[[]byte, string] {
	return func(yield func([]byte, string) bool) {
		v.Scan(r, opts, yield)
	}
}

// Count returns the number of entries within r (skipping those due at now
// when now is non-zero). An unbounded count without now is O(1).
func (v *IndexView) Count(r ScanRange, now uint32) int {
	if r.Low == nil && r.High == nil && now == 0 {
		return v.tree.Len()
	}
	n := 0
	v.Scan(r, ScanOptions{Now: now}, func([]byte, string) bool { n++; return true })
	return n
}

// ScanIndex takes a view of index name on ks and scans it (see
// IndexView.Scan): the convenience for a single span.
func (s *Store) ScanIndex(ks Keyspace, name string, r ScanRange, opts ScanOptions, fn func(key []byte, docKey string) bool) error {
	v, err := s.Index(ks, name)
	if err != nil {
		return err
	}
	v.Scan(r, opts, fn)
	return nil
}
