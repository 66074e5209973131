package docstore

import "fmt"

// AllDocsOptions selects rows for AllDocs. Keys, when non-nil, lists exact
// keys (missing ones are skipped by AllDocs; the caller reports them).
type AllDocsOptions struct {
	StartKey string
	EndKey   string // inclusive; "" = no bound
	Limit    int    // 0 = no limit
	Keys     []string
}

// Get returns the current version of a key, tombstones included; ErrNotFound
// if the key never existed (or the keyspace's precise not-found error).
func (s *Store) Get(ks Keyspace, key string) (*Document, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.collectionLocked(ks)
	if err != nil {
		return nil, err
	}
	sl := c.docs[key]
	if sl == nil {
		return nil, fmt.Errorf("%w: document %q in %s", ErrNotFound, key, c.ks)
	}
	return sl.doc, nil
}

// AllDocs returns live documents (at now) sorted by key, selected by opts.
// With opts.Keys it returns the live ones among Keys in the order given
// (StartKey and EndKey are ignored, Limit applies), like Sync Gateway's
// _all_docs with keys.
func (s *Store) AllDocs(ks Keyspace, now uint32, opts AllDocsOptions) ([]*Document, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("%w: negative limit %d", ErrInvalid, opts.Limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.collectionLocked(ks)
	if err != nil {
		return nil, err
	}
	var out []*Document
	if opts.Keys != nil {
		for _, k := range opts.Keys {
			if opts.Limit > 0 && len(out) >= opts.Limit {
				break
			}
			if sl := c.docs[k]; sl != nil && sl.doc.Live(now) {
				out = append(out, sl.doc)
			}
		}
		return out, nil
	}
	if opts.EndKey != "" && opts.EndKey < opts.StartKey {
		return nil, nil
	}
	iter := func(sl *slot) bool {
		if opts.EndKey != "" && sl.key > opts.EndKey {
			return false
		}
		if sl.doc.Live(now) {
			out = append(out, sl.doc)
			if opts.Limit > 0 && len(out) >= opts.Limit {
				return false
			}
		}
		return true
	}
	if opts.StartKey != "" {
		c.keys.AscendGreaterOrEqual(&slot{key: opts.StartKey}, iter)
	} else {
		c.keys.Ascend(iter)
	}
	return out, nil
}

// Changes returns up to limit (0 = all) current versions, tombstones
// included, whose ChangeSeq > since, in ChangeSeq order, and the
// collection's last ChangeSeq.
func (s *Store) Changes(ks Keyspace, since uint64, limit int) ([]*Document, uint64, error) {
	if limit < 0 {
		return nil, 0, fmt.Errorf("%w: negative limit %d", ErrInvalid, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.collectionLocked(ks)
	if err != nil {
		return nil, 0, err
	}
	entries := c.changes.entries[c.changes.search(since):]
	var out []*Document
	for _, e := range entries {
		if e.stale(true) {
			continue
		}
		out = append(out, e.sl.doc)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, c.changeSeq, nil
}

// ReadVBucket returns up to max events (0 = all): the current version of
// every key of the bucket (any collection) in vbucket vb whose Seqno >
// after, in Seqno order. A key changed several times appears once, at its
// latest version (DCP deduplication).
func (s *Store) ReadVBucket(bucket string, vb uint16, after uint64, max int) ([]Event, error) {
	if int(vb) >= s.numVB {
		return nil, fmt.Errorf("%w: vbucket %d out of range 0-%d", ErrInvalid, vb, s.numVB-1)
	}
	if max < 0 {
		return nil, fmt.Errorf("%w: negative max %d", ErrInvalid, max)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.buckets[bucket]
	if b == nil {
		return nil, fmt.Errorf("%w: %q", ErrBucketNotFound, bucket)
	}
	v := &b.vbs[vb]
	if after >= v.high {
		return nil, nil
	}
	entries := v.log.entries[v.log.search(after):]
	n := len(entries)
	if max > 0 && max < n {
		n = max
	}
	out := make([]Event, 0, n)
	for _, e := range entries {
		if e.stale(false) {
			continue
		}
		out = append(out, Event{Kind: eventKind(e.sl.doc), Keyspace: e.sl.coll.ks, Doc: e.sl.doc})
		if max > 0 && len(out) >= max {
			break
		}
	}
	return out, nil
}

func eventKind(d *Document) EventKind {
	switch {
	case d.Expired:
		return EventExpiration
	case d.Deleted:
		return EventDeletion
	}
	return EventMutation
}

// HighSeqnos returns the current high seqno of every vbucket of bucket.
func (s *Store) HighSeqnos(bucket string) ([]uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.buckets[bucket]
	if b == nil {
		return nil, fmt.Errorf("%w: %q", ErrBucketNotFound, bucket)
	}
	out := make([]uint64, len(b.vbs))
	for i := range b.vbs {
		out[i] = b.vbs[i].high
	}
	return out, nil
}
