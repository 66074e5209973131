package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"eventide/docstore"
)

// The wire format of commands is a small hand-written binary encoding:
// unsigned varints for integers, a varint length before every string and
// byte slice. It is about an order of magnitude cheaper than JSON for
// document bodies (no escaping, no reflection) and every decode is bounds
// checked, so a corrupt entry yields an error, never a panic.

// errShort reports a truncated or corrupt encoding.
var errShort = errors.New("truncated or corrupt encoding")

// encoder appends to a byte slice.
type encoder struct {
	b []byte
}

func (e *encoder) byte(v byte)      { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) string(s string)  { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) bool(v bool)      { e.byte(boolByte(v)) }
func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads what encoder wrote. The first error sticks: later reads
// return zero values, and err reports it.
type decoder struct {
	b   []byte
	off int
	err error
	// last* cache the previous keyspace's strings so that the many
	// mutations of one batch that share a keyspace share its strings.
	lastKS [3]string
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at offset %d", errShort, what, d.off)
	}
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("byte")
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("bool")
		return false
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) uint32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail("uint32")
		return 0
	}
	return uint32(v)
}

// count reads a element count and checks it against the bytes left, each
// element taking at least minSize bytes, so that a corrupt count cannot
// make the decoder allocate without bound.
func (d *decoder) count(minSize int) int {
	v := d.uvarint()
	if d.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if v > uint64(d.remaining()/minSize) {
		d.fail("count")
		return 0
	}
	return int(v)
}

// span returns the next length-prefixed bytes without copying.
func (d *decoder) span() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.remaining()) {
		d.fail("length")
		return nil
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p
}

func (d *decoder) string() string { return string(d.span()) }

// bytes returns a copy of the next length-prefixed bytes, so that decoded
// values never pin the whole log entry in memory.
func (d *decoder) bytes() []byte {
	p := d.span()
	if d.err != nil {
		return nil
	}
	return append(make([]byte, 0, len(p)), p...)
}

// cachedString reads a string, reusing slot's previous value when equal.
func (d *decoder) cachedString(slot int) string {
	p := d.span()
	if d.err != nil {
		return ""
	}
	if string(p) == d.lastKS[slot] { // no allocation for the comparison
		return d.lastKS[slot]
	}
	s := string(p)
	d.lastKS[slot] = s
	return s
}

// keyspace encodes a collection's name (commands and snapshots).
func (e *encoder) keyspace(ks docstore.Keyspace) {
	e.string(ks.Bucket)
	e.string(ks.Scope)
	e.string(ks.Collection)
}

func (d *decoder) keyspace() docstore.Keyspace {
	return docstore.Keyspace{
		Bucket:     d.cachedString(0),
		Scope:      d.cachedString(1),
		Collection: d.cachedString(2),
	}
}
