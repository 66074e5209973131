package jsrt

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPool_BoundedAndWarm(t *testing.T) {
	var made, dropped atomic.Int32
	p := NewPool(2, func() (*Runtime, error) {
		made.Add(1)
		return New(Config{Timeout: time.Second}), nil
	}, func(r *Runtime) { dropped.Add(1); r.Close() })
	ctx := context.Background()
	a, _ := p.Get(ctx)
	b, _ := p.Get(ctx)
	// A third waits for one to come back.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := p.Get(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past the bound: %v", err)
	}
	p.Put(a)
	if c, _ := p.Get(ctx); c != a {
		t.Fatal("Get did not reuse the warm runtime")
	}
	// Discarding frees a place for a new one.
	p.Discard(b)
	if _, err := p.Get(ctx); err != nil || made.Load() != 3 {
		t.Fatalf("after Discard: %v, made %d", err, made.Load())
	}
	p.Put(a)
	p.Close()
	if _, err := p.Get(ctx); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if dropped.Load() != 2 { // b, then a when the pool closed
		t.Errorf("dropped %d, want 2", dropped.Load())
	}
}

func TestPool_ConcurrentUseStaysBounded(t *testing.T) {
	const size = 3
	var live, peak atomic.Int32
	p := NewPool(size, func() (int, error) { return 0, nil }, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				v, err := p.Get(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				n := live.Add(1)
				for o := peak.Load(); n > o && !peak.CompareAndSwap(o, n); o = peak.Load() {
				}
				live.Add(-1)
				p.Put(v)
			}
		}()
	}
	wg.Wait()
	if peak.Load() > size {
		t.Errorf("%d checked out at once, bound %d", peak.Load(), size)
	}
}

func TestPool_NewFailureFreesItsPlace(t *testing.T) {
	fail := errors.New("boom")
	calls := 0
	p := NewPool(1, func() (int, error) {
		calls++
		if calls == 1 {
			return 0, fail
		}
		return 7, nil
	}, nil)
	if _, err := p.Get(context.Background()); !errors.Is(err, fail) {
		t.Fatalf("first Get: %v", err)
	}
	if v, err := p.Get(context.Background()); err != nil || v != 7 {
		t.Fatalf("second Get: %v, %v", v, err)
	}
}
