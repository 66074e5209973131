package docstore

import (
	"testing"
	"time"
)

func TestAbsoluteExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		in   int64
		want uint32
		ok   bool
	}{
		{0, 0, true},
		{60, 1_700_000_060, true},
		{MaxRelativeExpiry, 1_700_000_000 + MaxRelativeExpiry, true},
		{MaxRelativeExpiry + 1, MaxRelativeExpiry + 1, true}, // a unix time in 1970
		{1_800_000_000, 1_800_000_000, true},
		{-1, 0, false},
		{1 << 32, 0, false},
	} {
		if got, ok := AbsoluteExpiry(tc.in, now); got != tc.want || ok != tc.ok {
			t.Errorf("AbsoluteExpiry(%d) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
