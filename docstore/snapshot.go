package docstore

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/google/btree"
)

// ErrCorruptSnapshot: RestoreSnapshot found a snapshot it cannot trust
// (bad magic, unknown version, checksum mismatch, truncation, inconsistent
// contents). The store is left unchanged.
var ErrCorruptSnapshot = errors.New("docstore: corrupt snapshot")

// Snapshot format, version 2. A snapshot is a stream, never one big value:
//
//	magic "EVDCPSNP", version byte
//	records: tag byte, uvarint payload length, payload, CRC-32C (little
//	endian) of tag and payload
//
// Records nest by counts: one store record (vbucket count, CAS clock, number
// of buckets); per bucket a bucket record (spec, manifest uid, next uids,
// every vbucket's high seqno, number of scopes); per scope a scope record
// (name, uid, number of collections); per collection a collection record
// (name, uid, ChangeSeq counter, number of documents, number of indexes)
// followed by one record per document in key order and one per index
// definition in name order (name, primary flag, definition); finally an
// end record with the total number of documents. Bodies and xattrs are raw
// bytes, so binary bodies round-trip exactly. Index entries are not
// written: a restore recompiles each definition and rebuilds its entries
// from the restored documents.
//
// Version 1 is version 2 without indexes (no index count, no index
// records); it is still read.
const (
	snapMagic   = "EVDCPSNP"
	snapVersion = 2
	// snapVersionNoIndexes is the previous version, still read.
	snapVersionNoIndexes = 1

	tagStore      = 'S'
	tagBucket     = 'B'
	tagScope      = 'P'
	tagCollection = 'C'
	tagDoc        = 'D'
	tagIndex      = 'I'
	tagEnd        = 'E'

	// maxSnapRecord bounds one record: a maximal body plus room for xattrs.
	maxSnapRecord = MaxBodyLen + 16<<20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot is a consistent capture of a Store, taken by Store.Snapshot in
// the time it takes to copy pointers; WriteTo then streams it while the
// store keeps changing. The consensus FSM takes it in FSM.Snapshot (so it
// matches the Raft index exactly) and writes it in Persist.
type Snapshot struct {
	numVB   int
	lastCAS uint64
	buckets []snapBucket
	docs    int
}

type snapBucket struct {
	spec         BucketSpec
	manifestUID  uint64
	nextScopeUID uint32
	nextCollUID  uint32
	highs        []uint64
	scopes       []snapScope
}

type snapScope struct {
	name  string
	uid   uint32
	colls []snapColl
}

type snapColl struct {
	name      string
	uid       uint32
	changeSeq uint64
	docs      []*Document
	indexes   []snapIndex
}

// snapIndex is an index definition; def is immutable once created.
type snapIndex struct {
	name    string
	primary bool
	def     []byte
}

// Snapshot captures the store. It holds the read lock only while copying
// document pointers (Documents are immutable).
func (s *Store) Snapshot() *Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sn := &Snapshot{numVB: s.numVB, lastCAS: s.lastCAS, buckets: make([]snapBucket, 0, len(s.buckets))}
	for _, bn := range sortedKeys(s.buckets) {
		b := s.buckets[bn]
		sb := snapBucket{
			spec:         b.spec,
			manifestUID:  b.manifestUID,
			nextScopeUID: b.nextScopeUID,
			nextCollUID:  b.nextCollUID,
			highs:        make([]uint64, len(b.vbs)),
		}
		for i := range b.vbs {
			sb.highs[i] = b.vbs[i].high
		}
		for _, scn := range sortedKeys(b.scopes) {
			sc := b.scopes[scn]
			ss := snapScope{name: sc.name, uid: sc.uid}
			for _, cn := range sortedKeys(sc.colls) {
				c := sc.colls[cn]
				docs := make([]*Document, 0, c.keys.Len())
				c.keys.Ascend(func(sl *slot) bool {
					docs = append(docs, sl.doc)
					return true
				})
				sn.docs += len(docs)
				ixs := make([]snapIndex, len(c.indexes))
				for i, ix := range c.indexes {
					ixs[i] = snapIndex{name: ix.name, primary: ix.primary, def: ix.def}
				}
				ss.colls = append(ss.colls, snapColl{name: cn, uid: c.uid, changeSeq: c.changeSeq, docs: docs, indexes: ixs})
			}
			sb.scopes = append(sb.scopes, ss)
		}
		sn.buckets = append(sn.buckets, sb)
	}
	return sn
}

// Len returns the number of documents (tombstones included) in sn.
func (sn *Snapshot) Len() int { return sn.docs }

// WriteSnapshot writes a consistent snapshot of the whole store. It holds the
// read lock only long enough to take a shallow copy (see Snapshot).
func (s *Store) WriteSnapshot(w io.Writer) error {
	_, err := s.Snapshot().WriteTo(w)
	return err
}

// WriteTo streams the snapshot to w in the versioned format described
// above, returning the bytes written.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	sw := &snapWriter{bw: bufio.NewWriterSize(cw, 256<<10)}
	sw.raw(append([]byte(snapMagic), snapVersion))

	b := sw.buf[:0]
	b = binary.AppendUvarint(b, uint64(sn.numVB))
	b = binary.AppendUvarint(b, sn.lastCAS)
	b = binary.AppendUvarint(b, uint64(len(sn.buckets)))
	sw.record(tagStore, b)
	for i := range sn.buckets {
		sb := &sn.buckets[i]
		b = sw.buf[:0]
		b = appendString(b, sb.spec.Name)
		b = appendString(b, sb.spec.UUID)
		b = binary.AppendVarint(b, int64(sb.spec.RAMQuotaMB))
		b = appendString(b, sb.spec.Type)
		b = binary.AppendUvarint(b, sb.manifestUID)
		b = binary.AppendUvarint(b, uint64(sb.nextScopeUID))
		b = binary.AppendUvarint(b, uint64(sb.nextCollUID))
		b = binary.AppendUvarint(b, uint64(len(sb.highs)))
		for _, h := range sb.highs {
			b = binary.AppendUvarint(b, h)
		}
		b = binary.AppendUvarint(b, uint64(len(sb.scopes)))
		sw.record(tagBucket, b)
		for _, ss := range sb.scopes {
			b = sw.buf[:0]
			b = appendString(b, ss.name)
			b = binary.AppendUvarint(b, uint64(ss.uid))
			b = binary.AppendUvarint(b, uint64(len(ss.colls)))
			sw.record(tagScope, b)
			for _, sc := range ss.colls {
				b = sw.buf[:0]
				b = appendString(b, sc.name)
				b = binary.AppendUvarint(b, uint64(sc.uid))
				b = binary.AppendUvarint(b, sc.changeSeq)
				b = binary.AppendUvarint(b, uint64(len(sc.docs)))
				b = binary.AppendUvarint(b, uint64(len(sc.indexes)))
				sw.record(tagCollection, b)
				for _, d := range sc.docs {
					sw.record(tagDoc, appendDoc(sw.buf[:0], d))
					if sw.err != nil {
						return cw.n, sw.err
					}
				}
				for _, ix := range sc.indexes {
					b = appendString(sw.buf[:0], ix.name)
					b = append(b, boolByte(ix.primary))
					sw.record(tagIndex, appendBytes(b, ix.def))
				}
			}
		}
	}
	sw.record(tagEnd, binary.AppendUvarint(sw.buf[:0], uint64(sn.docs)))
	if sw.err == nil {
		sw.err = sw.bw.Flush()
	}
	if sw.err != nil {
		return cw.n, fmt.Errorf("write dcp snapshot: %w", sw.err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// snapWriter frames records; its first error sticks.
type snapWriter struct {
	bw  *bufio.Writer
	buf []byte // reused payload buffer
	err error
}

func (w *snapWriter) raw(p []byte) {
	if w.err == nil {
		_, w.err = w.bw.Write(p)
	}
}

func (w *snapWriter) record(tag byte, payload []byte) {
	w.buf = payload[:0] // keep the grown buffer
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = tag
	k := binary.PutUvarint(hdr[1:], uint64(len(payload)))
	crc := crc32.Update(crc32.Update(0, castagnoli, hdr[:1]), castagnoli, payload)
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], crc)
	w.raw(hdr[:1+k])
	w.raw(payload)
	w.raw(tail[:])
}

// Document flag bits in a snapshot record.
const (
	docHasBody = 1 << iota
	docDeleted
	docExpired
)

func appendDoc(b []byte, d *Document) []byte {
	var fl byte
	if d.Body != nil {
		fl |= docHasBody
	}
	if d.Deleted {
		fl |= docDeleted
	}
	if d.Expired {
		fl |= docExpired
	}
	b = append(b, fl, byte(d.Datatype))
	b = appendString(b, d.Key)
	b = binary.AppendUvarint(b, d.CAS)
	b = appendString(b, d.RevID)
	b = binary.AppendUvarint(b, uint64(len(d.RevHistory)))
	for _, r := range d.RevHistory {
		b = appendString(b, r)
	}
	b = binary.AppendUvarint(b, uint64(d.Flags))
	b = binary.AppendUvarint(b, uint64(d.Expiry))
	b = binary.AppendUvarint(b, uint64(d.VBucket))
	b = binary.AppendUvarint(b, d.Seqno)
	b = binary.AppendUvarint(b, d.ChangeSeq)
	if d.Body != nil {
		b = appendBytes(b, d.Body)
	}
	b = appendXattrs(b, d.Xattrs)
	b = appendXattrs(b, d.SysXattrs)
	return appendString(b, d.Origin)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendXattrs(b []byte, x map[string]json.RawMessage) []byte {
	b = binary.AppendUvarint(b, uint64(len(x)))
	for _, k := range sortedKeys(x) {
		b = appendString(b, k)
		b = appendBytes(b, x[k])
	}
	return b
}

// RestoreSnapshot replaces the store's contents with a snapshot. The
// snapshot is decoded and checked completely before anything changes: on
// any error (ErrCorruptSnapshot, or ErrInvalid for a vbucket count other
// than the store's) the store is left as it was. Index definitions are
// recompiled with the store's compiler and rebuilt from the restored
// documents; one that no longer compiles is restored offline (see
// IndexOffline) rather than failing the restore. Waiters of every bucket,
// old and new, are woken.
func (s *Store) RestoreSnapshot(r io.Reader) error {
	s.mu.RLock()
	compiler := s.compiler
	s.mu.RUnlock()
	st, err := decodeSnapshot(r, s.numVB, compiler)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.buckets
	s.buckets, s.expiring, s.lastCAS = st.buckets, st.expiring, st.lastCAS
	for _, b := range old {
		for _, sc := range b.scopes {
			for _, c := range sc.colls {
				c.dropped = true
			}
		}
	}
	s.mu.Unlock()
	for name := range old {
		s.signalBucket(name)
	}
	for name := range st.buckets {
		s.signalBucket(name)
	}
	return nil
}

// restored is a decoded snapshot with its indexes built.
type restored struct {
	buckets  map[string]*bucket
	expiring *btree.BTreeG[expItem]
	lastCAS  uint64
	version  byte
	compiler IndexCompiler
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptSnapshot}, args...)...)
}

func decodeSnapshot(r io.Reader, numVB int, compiler IndexCompiler) (*restored, error) {
	sr := &snapReader{br: bufio.NewReaderSize(r, 256<<10)}
	var head [len(snapMagic) + 1]byte
	if _, err := io.ReadFull(sr.br, head[:]); err != nil {
		return nil, corrupt("reading header: %v", err)
	}
	if string(head[:len(snapMagic)]) != snapMagic {
		return nil, corrupt("not a dcp snapshot (bad magic)")
	}
	version := head[len(snapMagic)]
	if version != snapVersion && version != snapVersionNoIndexes {
		return nil, corrupt("unknown snapshot version %d (this build reads versions %d and %d)", version, snapVersionNoIndexes, snapVersion)
	}
	d, err := sr.expect(tagStore)
	if err != nil {
		return nil, err
	}
	snapVB := d.uint("vbucket count", MaxNumVBuckets)
	lastCAS := d.uvarint()
	nBuckets := d.uvarint()
	if err := d.finish(); err != nil {
		return nil, err
	}
	if int(snapVB) != numVB {
		return nil, fmt.Errorf("%w: snapshot has %d vbuckets per bucket, this store %d", ErrInvalid, snapVB, numVB)
	}
	st := &restored{buckets: make(map[string]*bucket), expiring: btree.NewG(btreeDegree, expLess), lastCAS: lastCAS, version: version, compiler: compiler}
	var total uint64
	for range nBuckets {
		n, err := sr.readBucket(st, numVB)
		if err != nil {
			return nil, err
		}
		total += n
	}
	d, err = sr.expect(tagEnd)
	if err != nil {
		return nil, err
	}
	if n := d.uvarint(); d.err == nil && n != total {
		return nil, corrupt("end record counts %d documents, snapshot holds %d", n, total)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if _, err := sr.br.ReadByte(); err != io.EOF {
		return nil, corrupt("trailing data after the end record")
	}
	return st, nil
}

// readBucket decodes one bucket with everything in it and builds its
// indexes, returning its number of documents.
func (sr *snapReader) readBucket(st *restored, numVB int) (uint64, error) {
	d, err := sr.expect(tagBucket)
	if err != nil {
		return 0, err
	}
	var spec BucketSpec
	spec.Name = d.str()
	spec.UUID = d.str()
	q := d.varint()
	if q < 0 || q > math.MaxInt32 {
		d.fail("RAM quota %d out of range", q)
	}
	spec.RAMQuotaMB = int(q)
	spec.Type = d.str()
	b := &bucket{spec: spec, scopes: make(map[string]*scope), vbs: make([]vbucket, numVB)}
	b.manifestUID = d.uvarint()
	b.nextScopeUID = uint32(d.uint("next scope uid", math.MaxUint32))
	b.nextCollUID = uint32(d.uint("next collection uid", math.MaxUint32))
	if n := d.uvarint(); d.err == nil && n != uint64(numVB) {
		d.fail("bucket %q has %d high seqnos, want %d", spec.Name, n, numVB)
	}
	for i := 0; i < numVB && d.err == nil; i++ {
		b.vbs[i].high = d.uvarint()
	}
	nScopes := d.uvarint()
	if err := d.finish(); err != nil {
		return 0, err
	}
	if err := ValidateBucketName(spec.Name); err != nil {
		return 0, corrupt("bucket: %v", err)
	}
	if st.buckets[spec.Name] != nil {
		return 0, corrupt("bucket %q appears twice", spec.Name)
	}
	st.buckets[spec.Name] = b

	var total uint64
	collUIDs := make(map[uint32]bool)
	for range nScopes {
		d, err := sr.expect(tagScope)
		if err != nil {
			return 0, err
		}
		sc := &scope{name: d.str(), uid: uint32(d.uint("scope uid", math.MaxUint32)), colls: make(map[string]*collection)}
		nColls := d.uvarint()
		if err := d.finish(); err != nil {
			return 0, err
		}
		if err := checkUID("scope", sc.name, sc.uid, b.nextScopeUID); err != nil {
			return 0, err
		}
		if b.scopes[sc.name] != nil {
			return 0, corrupt("scope %q appears twice in bucket %q", sc.name, spec.Name)
		}
		b.scopes[sc.name] = sc
		for range nColls {
			n, err := sr.readCollection(st, b, sc, collUIDs)
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	if b.scopes[DefaultScope] == nil {
		return 0, corrupt("bucket %q has no _default scope", spec.Name)
	}
	for i := range b.vbs {
		if err := sortLog(&b.vbs[i].log, false); err != nil {
			return 0, corrupt("bucket %q vbucket %d: %v", spec.Name, i, err)
		}
	}
	return total, nil
}

// checkUID accepts _default with uid 0 and a valid user name with a uid
// the bucket has already handed out.
func checkUID(kind, name string, uid, next uint32) error {
	if name == DefaultScope {
		if uid != 0 {
			return corrupt("%s _default has uid %d", kind, uid)
		}
		return nil
	}
	if err := ValidateScopeName(kind, name); err != nil {
		return corrupt("%v", err)
	}
	if uid < firstUserUID || uid >= next {
		return corrupt("%s %q has uid %d outside %d-%d", kind, name, uid, firstUserUID, next-1)
	}
	return nil
}

func (sr *snapReader) readCollection(st *restored, b *bucket, sc *scope, uids map[uint32]bool) (uint64, error) {
	d, err := sr.expect(tagCollection)
	if err != nil {
		return 0, err
	}
	name := d.str()
	uid := uint32(d.uint("collection uid", math.MaxUint32))
	changeSeq := d.uvarint()
	nDocs := d.uvarint()
	var nIndexes uint64
	if st.version >= snapVersion {
		nIndexes = d.uvarint()
	}
	if err := d.finish(); err != nil {
		return 0, err
	}
	if err := checkUID("collection", name, uid, b.nextCollUID); err != nil {
		return 0, err
	}
	if name == DefaultCollection && sc.name != DefaultScope {
		return 0, corrupt("_default collection in scope %q", sc.name)
	}
	if sc.colls[name] != nil || uids[uid] {
		return 0, corrupt("collection %q (uid %d) appears twice in bucket %q", name, uid, b.spec.Name)
	}
	uids[uid] = true
	c := newCollection(b, sc.name, name, uid)
	c.changeSeq = changeSeq
	c.docs = make(map[string]*slot, min(nDocs, 1<<20)) // the count is checksummed, but bound it anyway
	sc.colls[name] = c
	prevKey := ""
	for range nDocs {
		d, err := sr.expect(tagDoc)
		if err != nil {
			return 0, err
		}
		doc := d.doc()
		if err := d.finish(); err != nil {
			return 0, err
		}
		if err := checkDoc(doc, c, prevKey, st.lastCAS); err != nil {
			return 0, err
		}
		prevKey = doc.Key
		sl := &slot{key: doc.Key, coll: c, doc: doc}
		c.docs[doc.Key] = sl
		c.keys.ReplaceOrInsert(sl)
		b.vbs[doc.VBucket].log.entries = append(b.vbs[doc.VBucket].log.entries, logEntry{seq: doc.Seqno, sl: sl})
		c.changes.entries = append(c.changes.entries, logEntry{seq: doc.ChangeSeq, sl: sl})
		if !doc.Deleted {
			c.items++
			if doc.Expiry != 0 {
				sl.expIdx = doc.Expiry
				st.expiring.ReplaceOrInsert(expItem{exp: doc.Expiry, sl: sl})
			}
		}
	}
	if err := sortLog(&c.changes, true); err != nil {
		return 0, corrupt("collection %s: %v", c.ks, err)
	}
	for range nIndexes {
		if err := sr.readIndex(st, c); err != nil {
			return 0, err
		}
	}
	return nDocs, nil
}

// readIndex decodes one index definition of c, recompiles it and rebuilds
// its entries from c's documents. A definition the compiler rejects makes
// an offline index, not a corrupt snapshot: the compiler (another build)
// may have changed, and the documents are still good.
func (sr *snapReader) readIndex(st *restored, c *collection) error {
	d, err := sr.expect(tagIndex)
	if err != nil {
		return err
	}
	name := d.str()
	primary := d.byte()
	def := d.bytes()
	if err := d.finish(); err != nil {
		return err
	}
	switch {
	case primary > 1:
		return corrupt("index %q on %s: bad primary flag %d", name, c.ks, primary)
	case len(c.indexes) > 0 && name <= c.indexes[len(c.indexes)-1].name:
		return corrupt("index %q on %s out of order", name, c.ks)
	}
	if err := ValidateIndexName(name); err != nil {
		return corrupt("index on %s: %v", c.ks, err)
	}
	if len(def) > MaxIndexDefLen {
		return corrupt("index %q on %s: definition of %d bytes", name, c.ks, len(def))
	}
	ix := newIndex(name, def, primary == 1)
	ix.keysFn, ix.err = compileIndex(st.compiler, c.ks, name, def, ix.primary)
	c.indexes = append(c.indexes, ix)
	c.buildIndex(ix)
	return nil
}

// checkDoc rejects a document that could not have come from a store.
func checkDoc(doc *Document, c *collection, prevKey string, lastCAS uint64) error {
	if err := validateKey(doc.Key); err != nil {
		return corrupt("collection %s: %v", c.ks, err)
	}
	numVB := len(c.bucket.vbs)
	switch {
	case prevKey != "" && doc.Key <= prevKey:
		return corrupt("collection %s: key %q out of order after %q", c.ks, doc.Key, prevKey)
	case doc.Datatype > DatatypeBinary:
		return corrupt("document %q: unknown datatype %d", doc.Key, doc.Datatype)
	case doc.Expired && !doc.Deleted:
		return corrupt("document %q: expired but not deleted", doc.Key)
	case doc.RevID == "":
		return corrupt("document %q: no revision", doc.Key)
	case doc.CAS == 0 || doc.CAS > lastCAS:
		return corrupt("document %q: cas %d outside 1-%d", doc.Key, doc.CAS, lastCAS)
	case doc.VBucket != VBucketOf(doc.Key, numVB):
		return corrupt("document %q: in vbucket %d, hashes to %d", doc.Key, doc.VBucket, VBucketOf(doc.Key, numVB))
	case doc.Seqno == 0 || doc.Seqno > c.bucket.vbs[doc.VBucket].high:
		return corrupt("document %q: seqno %d outside 1-%d", doc.Key, doc.Seqno, c.bucket.vbs[doc.VBucket].high)
	case doc.ChangeSeq == 0 || doc.ChangeSeq > c.changeSeq:
		return corrupt("document %q: change seq %d outside 1-%d", doc.Key, doc.ChangeSeq, c.changeSeq)
	}
	return nil
}

// sortLog orders a rebuilt log and rejects duplicate sequence numbers.
func sortLog(l *seqLog, byChange bool) error {
	slices.SortFunc(l.entries, func(a, b logEntry) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	for i := 1; i < len(l.entries); i++ {
		if l.entries[i].seq == l.entries[i-1].seq {
			what := "seqno"
			if byChange {
				what = "change seq"
			}
			return fmt.Errorf("%s %d held by %q and %q", what, l.entries[i].seq, l.entries[i-1].sl.key, l.entries[i].sl.key)
		}
	}
	return nil
}

// snapReader reads framed records.
type snapReader struct {
	br  *bufio.Reader
	buf []byte
}

// expect reads the next record, which must carry tag.
func (r *snapReader) expect(tag byte) (*decoder, error) {
	t, err := r.br.ReadByte()
	if err != nil {
		return nil, corrupt("truncated: expected a %q record: %v", tag, eofUnexpected(err))
	}
	n, err := binary.ReadUvarint(r.br)
	if err != nil {
		return nil, corrupt("truncated %q record length: %v", t, eofUnexpected(err))
	}
	if n > maxSnapRecord {
		return nil, corrupt("%q record of %d bytes exceeds the %d limit", t, n, maxSnapRecord)
	}
	if uint64(cap(r.buf)) < n+4 {
		r.buf = make([]byte, n+4)
	}
	buf := r.buf[:n+4]
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return nil, corrupt("truncated %q record: %v", t, eofUnexpected(err))
	}
	payload := buf[:n]
	want := binary.LittleEndian.Uint32(buf[n:])
	if got := crc32.Update(crc32.Update(0, castagnoli, []byte{t}), castagnoli, payload); got != want {
		return nil, corrupt("%q record checksum mismatch", t)
	}
	if t != tag {
		return nil, corrupt("found a %q record where a %q record belongs", t, tag)
	}
	return &decoder{b: payload, tag: t}, nil
}

func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decoder reads one record's payload; its first error sticks and later
// reads return zero values.
type decoder struct {
	b   []byte
	tag byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corrupt("%q record: "+format, append([]any{d.tag}, args...)...)
	}
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uint reads a uvarint that must not exceed limit.
func (d *decoder) uint(what string, limit uint64) uint64 {
	v := d.uvarint()
	if v > limit {
		d.fail("%s %d exceeds %d", what, v, limit)
		return 0
	}
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("short record")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// raw returns the next length-prefixed bytes, aliasing the record buffer.
func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length %d exceeds the record", n)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string { return string(d.raw()) }

func (d *decoder) bytes() []byte {
	p := d.raw()
	if d.err != nil {
		return nil
	}
	return append(make([]byte, 0, len(p)), p...)
}

func (d *decoder) xattrs() map[string]json.RawMessage {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.b))/2 {
		d.fail("xattr count %d exceeds the record", n)
		return nil
	}
	x := make(map[string]json.RawMessage, n)
	for range n {
		k := d.str()
		x[k] = d.bytes()
	}
	if d.err == nil && uint64(len(x)) != n {
		d.fail("duplicate xattr names")
	}
	return x
}

func (d *decoder) doc() *Document {
	fl := d.byte()
	doc := &Document{Datatype: Datatype(d.byte())}
	if fl&^(docHasBody|docDeleted|docExpired) != 0 {
		d.fail("unknown document flags %#x", fl)
	}
	doc.Deleted = fl&docDeleted != 0
	doc.Expired = fl&docExpired != 0
	doc.Key = d.str()
	doc.CAS = d.uvarint()
	doc.RevID = d.str()
	if n := d.uint("revision history length", MaxRevHistory); n > 0 {
		doc.RevHistory = make([]string, n)
		for i := range doc.RevHistory {
			doc.RevHistory[i] = d.str()
		}
	}
	doc.Flags = uint32(d.uint("flags", math.MaxUint32))
	doc.Expiry = uint32(d.uint("expiry", math.MaxUint32))
	doc.VBucket = uint16(d.uint("vbucket", MaxNumVBuckets-1))
	doc.Seqno = d.uvarint()
	doc.ChangeSeq = d.uvarint()
	if fl&docHasBody != 0 {
		doc.Body = d.bytes()
	}
	doc.Xattrs = d.xattrs()
	doc.SysXattrs = d.xattrs()
	doc.Origin = d.str()
	if d.err != nil {
		return nil
	}
	if strings.ContainsRune(doc.RevID, 0) {
		d.fail("revision of %q holds NUL", doc.Key)
	}
	return doc
}
