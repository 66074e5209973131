package docstore

import (
	"math"
	"time"
)

// MaxRelativeExpiry is the largest expiry that Couchbase reads as seconds
// from now (30 days); a larger one is a unix time.
const MaxRelativeExpiry = 30 * 24 * 60 * 60

// AbsoluteExpiry turns a client's expiry into Document.Expiry by
// memcached's rule: 0 never expires, up to MaxRelativeExpiry is relative to
// now, anything larger is already a unix time. ok is false when e is
// negative or the result does not fit 32 bits.
func AbsoluteExpiry(e int64, now time.Time) (exp uint32, ok bool) {
	if e > 0 && e <= MaxRelativeExpiry {
		e += now.Unix()
	}
	if e < 0 || e > math.MaxUint32 {
		return 0, false
	}
	return uint32(e), true
}
