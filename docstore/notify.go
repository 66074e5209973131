package docstore

// bucketWaiters holds the wake-up channel of one bucket name, for Changed.
// It is closed (and forgotten) at the first change it covers.
type bucketWaiters struct {
	all chan struct{}
}

// Changed returns a channel that is closed at the next change to any
// document of bucket (or when the bucket is created, deleted or restored
// from a snapshot). Callers re-read and call Changed again; it is an
// edge-triggered wake-up. Call it before reading, so that a change between
// the read and the wait is not missed. The bucket need not exist yet.
func (s *Store) Changed(bucket string) <-chan struct{} {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	w := s.waitersLocked(bucket)
	if w.all == nil {
		w.all = make(chan struct{})
	}
	return w.all
}

func (s *Store) waitersLocked(bucket string) *bucketWaiters {
	w := s.waiters[bucket]
	if w == nil {
		w = &bucketWaiters{}
		s.waiters[bucket] = w
	}
	return w
}

// signal wakes the waiters of a change in bucket.
func (s *Store) signal(bucket string) {
	s.nmu.Lock()
	s.signalLocked(bucket)
	s.nmu.Unlock()
}

func (s *Store) signalLocked(bucket string) {
	if w := s.waiters[bucket]; w != nil {
		close(w.all)
		delete(s.waiters, bucket)
	}
}

// signalWrites wakes the waiters of every write's bucket.
func (s *Store) signalWrites(ws []write) {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	if len(s.waiters) == 0 {
		return
	}
	for _, w := range ws {
		s.signalLocked(w.coll.ks.Bucket)
	}
}

// signalBucket wakes every waiter of bucket.
func (s *Store) signalBucket(bucket string) { s.signal(bucket) }
