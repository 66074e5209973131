package docstore

import (
	"context"
	"fmt"
)

// Stream follows one vbucket: backfill from after, then the tail. A Stream
// is used by one goroutine at a time.
type Stream struct {
	s      *Store
	bucket string
	vb     uint16
	after  uint64
}

// NewStream opens a stream on (bucket, vb) for events with Seqno > after.
// Errors (unknown bucket, vbucket out of range) are reported by Next.
func (s *Store) NewStream(bucket string, vb uint16, after uint64) *Stream {
	return &Stream{s: s, bucket: bucket, vb: vb, after: after}
}

// Seqno returns the seqno of the last event Next returned (initially the
// stream's start seqno): where a consumer's checkpoint stands.
func (st *Stream) Seqno() uint64 { return st.after }

// Next blocks until at least one event is available (or ctx ends) and
// returns up to max of them (max <= 0: all available), in order, without
// gaps. It returns ctx.Err() when ctx ends and ErrBucketNotFound once the
// bucket is gone.
func (st *Stream) Next(ctx context.Context, max int) ([]Event, error) {
	if max < 0 {
		max = 0
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Take the wake-up channel before reading, so that a change landing
		// between the read and the wait still wakes us.
		ch := st.s.changedVB(st.bucket, st.vb)
		evs, err := st.s.ReadVBucket(st.bucket, st.vb, st.after, max)
		if err != nil {
			return nil, fmt.Errorf("stream %s vb %d: %w", st.bucket, st.vb, err)
		}
		if len(evs) > 0 {
			st.after = evs[len(evs)-1].Doc.Seqno
			return evs, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		}
	}
}
