package docstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// stream follows one vbucket the way a data-plane worker does, through the
// methods of its Source (Changed, then ReadVBucket past its position):
// backfill from after, then the tail. The tests below check the stream
// guarantee of those methods with it.
type stream struct {
	s      *Store
	bucket string
	vb     uint16
	after  uint64
}

func newStream(s *Store, bucket string, vb uint16, after uint64) *stream {
	return &stream{s: s, bucket: bucket, vb: vb, after: after}
}

// Seqno returns the seqno of the last event Next returned (initially the
// stream's start seqno).
func (st *stream) Seqno() uint64 { return st.after }

// Next blocks until at least one event is available (or ctx ends) and
// returns up to limit of them (limit <= 0: all available), in order.
func (st *stream) Next(ctx context.Context, limit int) ([]Event, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Taken before reading, so a change between the read and the wait
		// still wakes us.
		ch := st.s.Changed(st.bucket)
		evs, err := st.s.ReadVBucket(st.bucket, st.vb, st.after, max(limit, 0))
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

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestChanged(t *testing.T) {
	s := NewStore(8)
	early := s.Changed("b") // before the bucket exists
	if isClosed(early) {
		t.Fatal("closed before anything happened")
	}
	if err := s.CreateBucket(BucketSpec{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if !isClosed(early) {
		t.Fatal("not closed by bucket creation")
	}
	ch := s.Changed("b")
	if ch2 := s.Changed("b"); ch2 != ch {
		t.Fatal("two waiters for the same change got different channels")
	}
	other := s.Changed("other")
	if _, err := s.Apply(upsert(defKS, "k", `1`), 0); err != nil {
		t.Fatal(err)
	}
	if !isClosed(ch) {
		t.Fatal("not closed by a mutation")
	}
	if isClosed(other) {
		t.Fatal("another bucket's channel was closed")
	}
	ch = s.Changed("b")
	if _, err := s.Apply(Mutation{Keyspace: defKS, Key: "nope", Op: OpDelete}, 0); err == nil {
		t.Fatal("delete of a missing key succeeded")
	}
	if isClosed(ch) {
		t.Fatal("closed by a failed mutation")
	}
	if _, err := s.ApplyAll([]Mutation{upsert(defKS, "x", `1`), upsert(defKS, "y", `1`)}, 0); err != nil {
		t.Fatal(err)
	}
	if !isClosed(ch) {
		t.Fatal("not closed by a batch")
	}
	ch = s.Changed("b")
	mustApply(t, s, Mutation{Keyspace: defKS, Key: "e", Op: OpUpsert, Body: []byte(`1`), Expiry: 5}, 0)
	ch = s.Changed("b")
	if s.ExpireDue(5, 0) != 1 || !isClosed(ch) {
		t.Fatal("not closed by expiry")
	}
	ch = s.Changed("b")
	if err := s.DeleteBucket("b"); err != nil {
		t.Fatal(err)
	}
	if !isClosed(ch) {
		t.Fatal("not closed by bucket deletion")
	}
}

// TestStream_BackfillThenTail runs writers and one stream per vbucket
// concurrently and checks the DCP guarantee: seqnos strictly increase, and
// every mutation is delivered or superseded by a delivered later mutation
// of the same key (so the final version of every key is delivered).
func TestStream_BackfillThenTail(t *testing.T) {
	const (
		numVB    = 4
		writers  = 4
		perWrite = 1500
		keys     = 200
	)
	s := mustNewStore(t, numVB)
	kss := []Keyspace{defKS, {"b", "s1", "c1"}, {"b", "s1", "c2"}}
	type ref struct {
		ks  Keyspace
		key string
	}
	var (
		mu      sync.Mutex
		written []Event // every version applied, with its keyspace
	)
	record := func(ks Keyspace, docs ...*Document) {
		mu.Lock()
		for _, d := range docs {
			written = append(written, Event{Keyspace: ks, Doc: d})
		}
		mu.Unlock()
	}
	// Backfill material before the streams start.
	for i := range keys {
		ks := kss[i%len(kss)]
		record(ks, mustApply(t, s, upsert(ks, fmt.Sprintf("k%d", i), `{"pre":true}`), 0))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type got struct {
		evs []Event
		err error
	}
	results := make([]got, numVB)
	done := make(chan struct{})
	var streams sync.WaitGroup
	for vb := range numVB {
		streams.Go(func() {
			st := newStream(s, "b", uint16(vb), 0)
			for {
				// Once every write is in (done), drain up to the final high
				// seqno, read after done, and stop.
				select {
				case <-done:
					high, _ := s.HighSeqnos("b")
					if st.Seqno() >= high[vb] {
						return
					}
				default:
				}
				// A short wait, so a stream idle at its tail re-checks done.
				nctx, ncancel := context.WithTimeout(ctx, 100*time.Millisecond)
				evs, err := st.Next(nctx, 50)
				ncancel()
				if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
					continue
				}
				if err != nil {
					results[vb].err = err
					return
				}
				results[vb].evs = append(results[vb].evs, evs...)
				if st.Seqno() != evs[len(evs)-1].Doc.Seqno {
					results[vb].err = fmt.Errorf("Seqno() = %d, last event %d", st.Seqno(), evs[len(evs)-1].Doc.Seqno)
					return
				}
			}
		})
	}
	var ws sync.WaitGroup
	for w := range writers {
		ws.Go(func() {
			for i := range perWrite {
				ks := kss[(w+i)%len(kss)]
				key := fmt.Sprintf("k%d", (w*7+i*13)%keys)
				if i%10 == 0 {
					ms := []Mutation{upsert(ks, key, `{"batch":1}`), upsert(ks, key+"x", `{"batch":2}`)}
					docs, err := s.ApplyAll(ms, 0)
					if err != nil {
						t.Error(err)
						return
					}
					record(ks, docs...)
					continue
				}
				m := upsert(ks, key, fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				if i%7 == 0 {
					m = Mutation{Keyspace: ks, Key: key, Op: OpDelete}
				}
				d, err := s.Apply(m, 0)
				if errors.Is(err, ErrNotFound) {
					continue // deleting an already deleted key
				}
				if err != nil {
					t.Error(err)
					return
				}
				record(ks, d)
			}
		})
	}
	ws.Wait()
	// One last write per vbucket, then done: the streams drain to the high
	// seqnos as they are after these writes.
	for vb := range numVB {
		for i := 0; ; i++ {
			key := fmt.Sprintf("final-%d", i)
			if VBucketOf(key, numVB) == uint16(vb) {
				record(defKS, mustApply(t, s, upsert(defKS, key, `1`), 0))
				break
			}
		}
	}
	close(done)
	streams.Wait()

	delivered := map[ref]uint64{} // highest delivered seqno per key
	for vb, r := range results {
		if r.err != nil {
			t.Fatalf("vb %d stream: %v", vb, r.err)
		}
		var last uint64
		for _, ev := range r.evs {
			if ev.Doc.Seqno <= last {
				t.Fatalf("vb %d: seqno %d after %d", vb, ev.Doc.Seqno, last)
			}
			if ev.Doc.VBucket != uint16(vb) {
				t.Fatalf("vb %d stream delivered a doc of vb %d", vb, ev.Doc.VBucket)
			}
			last = ev.Doc.Seqno
			delivered[ref{ev.Keyspace, ev.Doc.Key}] = ev.Doc.Seqno
		}
	}
	for _, w := range written {
		if got := delivered[ref{w.Keyspace, w.Doc.Key}]; got < w.Doc.Seqno {
			t.Fatalf("%s %q seqno %d was neither delivered nor superseded (last delivered %d)", w.Keyspace, w.Doc.Key, w.Doc.Seqno, got)
		}
	}
}

func TestStream_FromNowAndCancel(t *testing.T) {
	s := mustNewStore(t, 1)
	for i := range 5 {
		mustApply(t, s, upsert(defKS, fmt.Sprintf("old%d", i), `1`), 0)
	}
	high, _ := s.HighSeqnos("b")
	st := newStream(s, "b", 0, high[0])

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := st.Next(ctx, 10)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel = %v, want context.Canceled", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	if _, err := st.Next(dctx, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next at deadline = %v, want DeadlineExceeded", err)
	}

	// A blocked Next wakes for the next write and sees only it.
	evc := make(chan []Event, 1)
	go func() {
		evs, err := st.Next(context.Background(), 0)
		if err != nil {
			t.Error(err)
		}
		evc <- evs
	}()
	mustApply(t, s, upsert(defKS, "new", `1`), 0)
	select {
	case evs := <-evc:
		if len(evs) != 1 || evs[0].Doc.Key != "new" || evs[0].Doc.Seqno != high[0]+1 {
			t.Fatalf("tail events = %+v", evs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not wake for a write")
	}
}

func TestStream_BucketDeleted(t *testing.T) {
	s := mustNewStore(t, 2)
	st := newStream(s, "b", 1, 0)
	errc := make(chan error, 1)
	go func() {
		for {
			if _, err := st.Next(context.Background(), 0); err != nil {
				errc <- err
				return
			}
		}
	}()
	if err := s.DeleteBucket("b"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrBucketNotFound) {
			t.Fatalf("Next after bucket deletion = %v, want ErrBucketNotFound", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not return after bucket deletion")
	}
	if _, err := newStream(s, "zz", 0, 0).Next(context.Background(), 1); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("stream on unknown bucket = %v", err)
	}
	if _, err := newStream(NewStore(2), "zz", 5, 0).Next(context.Background(), 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("stream on vbucket out of range = %v", err)
	}
}

func TestConcurrentReadsDuringWrites(t *testing.T) {
	s := mustNewStore(t, 8)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	readers := []func(){
		func() { _, _ = s.AllDocs(defKS, 0, AllDocsOptions{Limit: 20}) },
		func() { _, _, _ = s.Changes(defKS, 0, 20) },
		func() { _, _ = s.ReadVBucket("b", 3, 0, 0) },
		func() { _, _ = s.Get(defKS, "k1") },
		func() { _ = s.Buckets() },
		func() { _ = s.WriteSnapshot(discard{}) },
	}
	for _, r := range readers {
		wg.Go(func() {
			for ctx.Err() == nil {
				r()
			}
		})
	}
	for i := range 3000 {
		mustApply(t, s, upsert(defKS, fmt.Sprintf("k%d", i%50), `{"x":1}`), 0)
		if i%500 == 0 {
			mustApply(t, s, Mutation{Keyspace: defKS, Key: fmt.Sprintf("k%d", i%50), Op: OpDelete}, 0)
		}
	}
	cancel()
	wg.Wait()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
