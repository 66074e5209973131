package docstore

// bucketWaiters holds the wake-up channels of one bucket name: all for
// Changed, vbs for streams of one vbucket. A channel is closed (and
// forgotten) at the first change it covers.
type bucketWaiters struct {
	all chan struct{}
	vbs map[uint16]chan struct{}
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

// changedVB is Changed narrowed to one vbucket, so that a stream wakes only
// for its own vbucket.
func (s *Store) changedVB(bucket string, vb uint16) <-chan struct{} {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	w := s.waitersLocked(bucket)
	if w.vbs == nil {
		w.vbs = make(map[uint16]chan struct{})
	}
	ch := w.vbs[vb]
	if ch == nil {
		ch = make(chan struct{})
		w.vbs[vb] = ch
	}
	return ch
}

func (s *Store) waitersLocked(bucket string) *bucketWaiters {
	w := s.waiters[bucket]
	if w == nil {
		w = &bucketWaiters{}
		s.waiters[bucket] = w
	}
	return w
}

// signal wakes the waiters of a change in (bucket, vb).
func (s *Store) signal(bucket string, vb uint16) {
	s.nmu.Lock()
	s.signalLocked(bucket, vb)
	s.nmu.Unlock()
}

func (s *Store) signalLocked(bucket string, vb uint16) {
	w := s.waiters[bucket]
	if w == nil {
		return
	}
	if w.all != nil {
		close(w.all)
		w.all = nil
	}
	if ch, ok := w.vbs[vb]; ok {
		close(ch)
		delete(w.vbs, vb)
	}
	if w.all == nil && len(w.vbs) == 0 {
		delete(s.waiters, bucket)
	}
}

// signalWrites wakes the waiters of every write's bucket and vbucket.
func (s *Store) signalWrites(ws []write) {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	if len(s.waiters) == 0 {
		return
	}
	for _, w := range ws {
		s.signalLocked(w.coll.ks.Bucket, w.doc.VBucket)
	}
}

// signalBucket wakes every waiter of bucket.
func (s *Store) signalBucket(bucket string) {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	w := s.waiters[bucket]
	if w == nil {
		return
	}
	if w.all != nil {
		close(w.all)
	}
	for _, ch := range w.vbs {
		close(ch)
	}
	delete(s.waiters, bucket)
}
