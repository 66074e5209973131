package docstore

import (
	"fmt"
	"hash/crc32"
	"math/bits"
)

// Vbucket counts.
const (
	// DefaultNumVBuckets is Couchbase's vbucket count on Linux.
	DefaultNumVBuckets = 1024
	// MaxNumVBuckets is the largest count the 15-bit vbucket hash can fill.
	MaxNumVBuckets = 0x8000
)

// VBucketOf returns the vbucket of key: (crc32(key) >> 16) & 0x7fff modulo
// numVBuckets, as Couchbase computes it. A numVBuckets <= 0 means
// DefaultNumVBuckets.
func VBucketOf(key string, numVBuckets int) uint16 {
	if numVBuckets <= 0 {
		numVBuckets = DefaultNumVBuckets
	}
	h := (crc32.ChecksumIEEE([]byte(key)) >> 16) & 0x7fff
	return uint16(h % uint32(numVBuckets))
}

// ValidateNumVBuckets reports whether n is a usable vbucket count: a power
// of two between 1 and MaxNumVBuckets. Configs should call it; NewStore
// itself normalises bad values rather than fail.
func ValidateNumVBuckets(n int) error {
	if n < 1 || n > MaxNumVBuckets || bits.OnesCount(uint(n)) != 1 {
		return fmt.Errorf("%w: vbucket count %d must be a power of two between 1 and %d", ErrInvalid, n, MaxNumVBuckets)
	}
	return nil
}

// normalizeNumVBuckets maps n <= 0 to the default, clamps to the maximum and
// rounds up to a power of two.
func normalizeNumVBuckets(n int) int {
	switch {
	case n <= 0:
		return DefaultNumVBuckets
	case n >= MaxNumVBuckets:
		return MaxNumVBuckets
	}
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// Live reports whether d is a live (not deleted, not expired at now)
// version. A nil document is not live.
func (d *Document) Live(now uint32) bool {
	return d != nil && !d.Deleted && (d.Expiry == 0 || d.Expiry > now)
}
