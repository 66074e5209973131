package docstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
)

// BatchError is ApplyAll's error: mutation Index (0-based) failed with Err
// and nothing in the batch was applied.
type BatchError struct {
	Index int
	Err   error
}

// Error names the failing mutation.
func (e *BatchError) Error() string {
	return "mutation " + strconv.Itoa(e.Index) + " of batch: " + e.Err.Error()
}

// Unwrap returns the mutation's error, so errors.Is(err, ErrConflict) works.
func (e *BatchError) Unwrap() error { return e.Err }

// write is one prepared, not yet installed, new version.
type write struct {
	coll *collection
	sl   *slot // the key's slot if it existed before the batch
	doc  *Document
}

// txn prepares writes against the store as it would be after the writes
// prepared before them. For a single Apply it reads the store directly; for
// a batch the overlays record what the earlier writes of the batch changed.
type txn struct {
	s       *Store
	cas     uint64 // the CAS argument: the proposer's clock in nanoseconds
	now     uint32 // cas in unix seconds, the "now" of expiry checks
	lastCAS uint64

	// Batch overlays; nil for a single mutation.
	docs   map[docRef]int // latest write per key: index into writes
	vbHigh map[vbRef]uint64
	chSeq  map[*collection]uint64
	writes []write
}

type docRef struct {
	c   *collection
	key string
}

type vbRef struct {
	b  *bucket
	vb uint16
}

func (s *Store) newTxn(cas uint64, batch int) *txn {
	t := &txn{s: s, cas: cas, now: nowOf(cas), lastCAS: s.lastCAS}
	if batch > 1 {
		t.docs = make(map[docRef]int, batch)
		t.vbHigh = make(map[vbRef]uint64, min(batch, s.numVB))
		t.chSeq = make(map[*collection]uint64)
		t.writes = make([]write, 0, batch)
	}
	return t
}

// nowOf converts a CAS in nanoseconds to unix seconds.
func nowOf(cas uint64) uint32 {
	sec := cas / 1e9
	if sec > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(sec)
}

func (t *txn) current(c *collection, key string) (*Document, *slot) {
	if t.docs != nil {
		if i, ok := t.docs[docRef{c, key}]; ok {
			w := &t.writes[i]
			return w.doc, w.sl
		}
	}
	if sl := c.docs[key]; sl != nil {
		return sl.doc, sl
	}
	return nil, nil
}

func (t *txn) nextSeqno(c *collection, vb uint16) uint64 {
	if t.vbHigh != nil {
		if h, ok := t.vbHigh[vbRef{c.bucket, vb}]; ok {
			return h + 1
		}
	}
	return c.bucket.vbs[vb].high + 1
}

func (t *txn) nextChangeSeq(c *collection) uint64 {
	if t.chSeq != nil {
		if cs, ok := t.chSeq[c]; ok {
			return cs + 1
		}
	}
	return c.changeSeq + 1
}

func (t *txn) nextCAS() uint64 {
	return max(t.cas, t.lastCAS+1)
}

// record makes a prepared write visible to the rest of the batch.
func (t *txn) record(w write) {
	t.lastCAS = w.doc.CAS
	if t.docs == nil {
		return
	}
	t.docs[docRef{w.coll, w.doc.Key}] = len(t.writes)
	t.vbHigh[vbRef{w.coll.bucket, w.doc.VBucket}] = w.doc.Seqno
	t.chSeq[w.coll] = max(t.chSeq[w.coll], w.doc.ChangeSeq)
	t.writes = append(t.writes, w)
}

// prepare checks m's preconditions and builds its new version without
// changing the store.
func (t *txn) prepare(m *Mutation) (write, error) {
	c, err := t.s.collectionLocked(m.Keyspace)
	if err != nil {
		return write{}, err
	}
	if err := validateMutation(m); err != nil {
		return write{}, err
	}
	cur, sl := t.current(c, m.Key)
	live := cur.Live(t.now)
	switch {
	case m.IfRev != "":
		if cur == nil {
			return write{}, fmt.Errorf("%w: %q does not exist, so it is not at revision %q", ErrConflict, m.Key, m.IfRev)
		}
		if cur.RevID != m.IfRev {
			return write{}, fmt.Errorf("%w: %q is at revision %q, not %q", ErrConflict, m.Key, cur.RevID, m.IfRev)
		}
	case m.RequireRev && live:
		return write{}, fmt.Errorf("%w: %q exists (revision %q) and no revision was given", ErrConflict, m.Key, cur.RevID)
	}
	if m.IfCAS != 0 {
		if !live {
			return write{}, fmt.Errorf("%w: document %q in %s", ErrNotFound, m.Key, c.ks)
		}
		if cur.CAS != m.IfCAS {
			return write{}, fmt.Errorf("%w: %q has cas %d, not %d", ErrCASMismatch, m.Key, cur.CAS, m.IfCAS)
		}
	}
	switch m.Op {
	case OpInsert:
		if live {
			return write{}, fmt.Errorf("%w: document %q in %s", ErrExists, m.Key, c.ks)
		}
	case OpReplace, OpDelete, OpTouch:
		if !live {
			return write{}, fmt.Errorf("%w: document %q in %s", ErrNotFound, m.Key, c.ks)
		}
	}

	var d *Document
	switch m.Op {
	case OpTouch:
		cp := *cur
		d = &cp
		d.Expiry = m.Expiry
	case OpDelete:
		d = &Document{Key: m.Key, Deleted: true, SysXattrs: cur.SysXattrs}
		t.s.newRev(d, cur)
		d.ChangeSeq = t.nextChangeSeq(c)
	default: // upsert, insert, replace
		d = &Document{
			Key:      m.Key,
			Body:     cloneBytes(m.Body),
			Datatype: m.Datatype,
			Flags:    m.Flags,
			Expiry:   m.Expiry,
		}
		if m.PreserveExpiry && live {
			d.Expiry = cur.Expiry
		}
		switch {
		case m.Xattrs != nil:
			d.Xattrs = cloneXattrs(m.Xattrs)
		case live:
			d.Xattrs = cur.Xattrs
		}
		if cur != nil {
			d.SysXattrs = cur.SysXattrs
		}
		t.s.newRev(d, cur)
		d.ChangeSeq = t.nextChangeSeq(c)
	}
	if cur != nil {
		d.VBucket = cur.VBucket
	} else {
		d.VBucket = VBucketOf(m.Key, t.s.numVB)
	}
	d.Origin = m.Origin
	d.CAS = t.nextCAS()
	d.Seqno = t.nextSeqno(c, d.VBucket)
	w := write{coll: c, sl: sl, doc: d}
	t.record(w)
	return w, nil
}

// expire builds the expiry tombstone of a live document in sl.
func (t *txn) expire(sl *slot) write {
	cur := sl.doc
	d := &Document{Key: cur.Key, Deleted: true, Expired: true, SysXattrs: cur.SysXattrs, VBucket: cur.VBucket}
	t.s.newRev(d, cur)
	d.ChangeSeq = t.nextChangeSeq(sl.coll)
	d.CAS = t.nextCAS()
	d.Seqno = t.nextSeqno(sl.coll, d.VBucket)
	w := write{coll: sl.coll, sl: sl, doc: d}
	t.record(w)
	return w
}

// newRev sets d's RevID and RevHistory as the child of parent (nil for a
// new key): generation parent+1, digest md5(parent rev, deleted, body).
// It uses the store's hasher, so the caller holds mu exclusively.
func (s *Store) newRev(d *Document, parent *Document) {
	gen := uint64(1)
	parentRev := ""
	if parent != nil {
		parentRev = parent.RevID
		gen = revGeneration(parentRev) + 1
		n := min(len(parent.RevHistory)+1, MaxRevHistory)
		d.RevHistory = make([]string, n)
		d.RevHistory[0] = parentRev
		copy(d.RevHistory[1:], parent.RevHistory)
	}
	h := s.hasher
	h.Reset()
	var hdr [2]byte
	if d.Deleted {
		hdr[1] = 1
	}
	h.Write([]byte(parentRev))
	h.Write(hdr[:]) // NUL separates the parent rev (which has none) from the flag
	h.Write(d.Body)
	s.sumBuf = h.Sum(s.sumBuf[:0])
	var buf [20 + 1 + 2*md5Size]byte
	b := strconv.AppendUint(buf[:0], gen, 10)
	b = append(b, '-')
	b = hex.AppendEncode(b, s.sumBuf)
	d.RevID = string(b)
}

const md5Size = 16

// revGeneration parses the generation of a "generation-digest" revision; 0
// if it has none.
func revGeneration(rev string) uint64 {
	i := strings.IndexByte(rev, '-')
	if i <= 0 {
		return 0
	}
	g, err := strconv.ParseUint(rev[:i], 10, 64)
	if err != nil {
		return 0
	}
	return g
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

func cloneXattrs(x map[string]json.RawMessage) map[string]json.RawMessage {
	if len(x) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(x))
	for k, v := range maps.All(x) {
		out[k] = cloneBytes(v)
	}
	return out
}

// install makes a prepared write the current version. The caller holds mu
// exclusively.
func (s *Store) install(w write) {
	c, d := w.coll, w.doc
	sl := w.sl
	if sl == nil {
		if sl = c.docs[d.Key]; sl == nil {
			sl = &slot{key: d.Key, coll: c}
			c.docs[d.Key] = sl
			c.keys.ReplaceOrInsert(sl)
		}
	}
	prev := sl.doc
	sl.doc = d

	v := &c.bucket.vbs[d.VBucket]
	v.high = d.Seqno
	v.log.add(d.Seqno, sl, prev != nil)
	v.log.maybeCompact(false)
	if prev == nil || prev.ChangeSeq != d.ChangeSeq {
		c.changeSeq = d.ChangeSeq
		c.changes.add(d.ChangeSeq, sl, prev != nil)
		c.changes.maybeCompact(true)
	}
	if prev != nil && !prev.Deleted {
		c.items--
	}
	if !d.Deleted {
		c.items++
	}
	s.indexExpiry(sl)
	if len(c.indexes) > 0 {
		c.indexSlot(sl)
	}
	if d.CAS > s.lastCAS {
		s.lastCAS = d.CAS
	}
}

// indexExpiry keeps sl in the expiry index iff its doc is live with an expiry.
func (s *Store) indexExpiry(sl *slot) {
	want := uint32(0)
	if !sl.doc.Deleted {
		want = sl.doc.Expiry
	}
	if want == sl.expIdx {
		return
	}
	if sl.expIdx != 0 {
		s.expiring.Delete(expItem{exp: sl.expIdx, sl: sl})
	}
	if want != 0 {
		s.expiring.ReplaceOrInsert(expItem{exp: want, sl: sl})
	}
	sl.expIdx = want
}

// Apply applies one mutation with CAS at least cas, returning the new
// version. Preconditions (IfRev, RequireRev, IfCAS, Op) are checked first;
// a failed one changes nothing. cas is also the clock (in nanoseconds) that
// decides whether an unexpired-looking document has in fact expired.
//
// Preconditions, in order: IfRev must equal the current revision (live or
// tombstone; ErrConflict, also when the key never existed); otherwise
// RequireRev fails with ErrConflict if a live document exists; IfCAS must
// match a live document's CAS (ErrNotFound, ErrCASMismatch); Insert needs no
// live document (ErrExists); Replace, Delete and Touch need one
// (ErrNotFound). Touch keeps the revision and ChangeSeq (it is not a new
// Sync Gateway revision) and ignores Body, Flags and Xattrs.
func (s *Store) Apply(m Mutation, cas uint64) (*Document, error) {
	s.mu.Lock()
	t := s.newTxn(cas, 1)
	w, err := t.prepare(&m)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.install(w)
	s.mu.Unlock()
	s.signal(w.coll.ks.Bucket)
	return w.doc, nil
}

// ApplyAll applies ms in order as one unit: if any precondition fails
// (evaluated as if the earlier ones had been applied), nothing changes and
// the error names the index of the failing mutation (wrapped in *BatchError).
// Several mutations of one key are allowed; each gets its own CAS and seqno.
func (s *Store) ApplyAll(ms []Mutation, cas uint64) ([]*Document, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	if len(ms) == 1 {
		d, err := s.Apply(ms[0], cas)
		if err != nil {
			return nil, &BatchError{Index: 0, Err: err}
		}
		return []*Document{d}, nil
	}
	s.mu.Lock()
	t := s.newTxn(cas, len(ms))
	for i := range ms {
		if _, err := t.prepare(&ms[i]); err != nil {
			s.mu.Unlock()
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	docs := make([]*Document, len(t.writes))
	for i, w := range t.writes {
		s.install(w)
		docs[i] = w.doc
	}
	s.mu.Unlock()
	s.signalWrites(t.writes)
	return docs, nil
}

// ExpireDue turns every live document whose expiry is <= now into an
// expired tombstone, returning how many it expired. Documents are expired
// in order of expiry, then keyspace, then key; each gets the next CAS (at
// least cas) and seqno.
func (s *Store) ExpireDue(now uint32, cas uint64) int {
	s.mu.Lock()
	var due []*slot
	s.expiring.Ascend(func(it expItem) bool {
		if it.exp > now {
			return false
		}
		due = append(due, it.sl)
		return true
	})
	if len(due) == 0 {
		s.mu.Unlock()
		return 0
	}
	t := s.newTxn(cas, 1)
	writes := make([]write, len(due))
	for i, sl := range due {
		writes[i] = t.expire(sl)
		s.install(writes[i])
	}
	s.mu.Unlock()
	s.signalWrites(writes)
	return len(due)
}

// HasExpired reports whether some live document has an expiry <= now, i.e.
// whether ExpireDue(now, ...) would expire anything. It is cheap (the
// earliest expiry is at hand), so an expiry pager can poll it before
// proposing an expiry command.
func (s *Store) HasExpired(now uint32) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, ok := s.expiring.Min()
	return ok && it.exp <= now
}
