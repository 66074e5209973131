package consensus

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeProposer records entries; each proposal resolves when its gate
// channel is closed (or at once when gated is false), answering every
// command with n = its second byte.
type fakeProposer struct {
	mu      sync.Mutex
	gated   bool
	entries [][][]byte // decoded commands per entry
	gates   []chan struct{}
	fail    error
}

type fakeProposal struct {
	gate chan struct{}
	cmds [][]byte
	err  error
}

func (p *fakeProposal) wait() ([]cmdResult, error) {
	<-p.gate
	if p.err != nil {
		return nil, p.err
	}
	out := make([]cmdResult, len(p.cmds))
	for i, c := range p.cmds {
		out[i] = cmdResult{n: int(c[1])}
	}
	return out, nil
}

func (p *fakeProposer) propose(_ callers, cmds [][]byte) proposal {
	gate := make(chan struct{})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = append(p.entries, cmds)
	p.gates = append(p.gates, gate)
	if !p.gated {
		close(gate)
	}
	return &fakeProposal{gate: gate, cmds: cmds, err: p.fail}
}

func (p *fakeProposer) numEntries() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

func (p *fakeProposer) openAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gated = false
	for _, g := range p.gates {
		select {
		case <-g:
		default:
			close(g)
		}
	}
}

// gatedBatcher returns a batcher whose proposals wait for p.openAll; the
// cleanup opens them before closing, so a failed test does not hang.
func gatedBatcher(t *testing.T, maxBatch, maxBytes int) (*fakeProposer, *batcher) {
	t.Helper()
	p := &fakeProposer{gated: true}
	b := newBatcher(p, maxBatch, maxBytes)
	t.Cleanup(func() {
		p.openAll()
		b.close()
	})
	return p, b
}

func cmd(id byte) []byte { return []byte{byte(kindSetConfig), id} }

func TestBatcher_LoneCallerIsNotDelayed(t *testing.T) {
	p := &fakeProposer{}
	b := newBatcher(p, 100, 1<<20)
	defer b.close()
	for i := range 20 {
		start := time.Now()
		res := b.submit(context.Background(), cmd(byte(i)))
		if res.err != nil || res.n != i {
			t.Fatalf("submit %d = %+v", i, res)
		}
		// No linger timer: a lone command is proposed at once.
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("lone submit took %v", d)
		}
	}
	if n := p.numEntries(); n != 20 {
		t.Fatalf("%d entries for 20 sequential commands", n)
	}
}

// TestBatcher_GroupsWhilePipelineIsFull fills the pipeline, queues more
// commands, and checks they are grouped into few entries, each caller
// receiving its own result.
func TestBatcher_GroupsWhilePipelineIsFull(t *testing.T) {
	p, b := gatedBatcher(t, 8, 1<<20)
	const n = 40
	results := make([]cmdResult, n)
	var wg sync.WaitGroup
	submit := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = b.submit(context.Background(), cmd(byte(i)))
		}()
	}
	// Fill the pipeline one entry at a time.
	for i := range maxInflight {
		submit(i)
		waitFor(t, 5*time.Second, func() bool { return p.numEntries() == i+1 })
	}
	for i := maxInflight; i < n; i++ {
		submit(i)
	}
	// The batcher holds the next command while it waits for room; the
	// queue (capacity MaxBatch) fills, the rest wait to enter it.
	waitFor(t, 5*time.Second, func() bool { return len(b.queue) == cap(b.queue) })
	p.openAll()
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.n != i {
			t.Fatalf("caller %d got %+v", i, r)
		}
	}
	entries := p.numEntries()
	if entries >= n-maxInflight || entries < n/8 {
		t.Fatalf("%d commands in %d entries (max 8 per entry)", n, entries)
	}
	for _, e := range p.entries {
		if len(e) > 8 {
			t.Fatalf("entry of %d commands exceeds MaxBatch 8", len(e))
		}
	}
}

func TestBatcher_ByteCap(t *testing.T) {
	p, b := gatedBatcher(t, 100, 10) // 10 bytes: at most 5 two-byte commands
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := b.submit(context.Background(), cmd(byte(i))); r.err != nil || r.n != i {
				t.Errorf("caller %d got %+v", i, r)
			}
		}()
	}
	waitFor(t, 5*time.Second, func() bool { return p.numEntries() == maxInflight })
	p.openAll()
	wg.Wait()
	total := 0
	for _, e := range p.entries {
		size := 0
		for _, c := range e {
			size += len(c)
		}
		if size > 10 {
			t.Fatalf("entry of %d bytes exceeds the 10-byte cap", size)
		}
		total += len(e)
	}
	if total != 30 {
		t.Fatalf("%d commands proposed, want 30", total)
	}
}

func TestBatcher_CancelledCallerDoesNotBreakOthers(t *testing.T) {
	p, b := gatedBatcher(t, 100, 1<<20)
	// Fill the pipeline so later commands queue.
	var wg sync.WaitGroup
	for i := range maxInflight {
		wg.Add(1)
		go func() { defer wg.Done(); b.submit(context.Background(), cmd(byte(i))) }()
		waitFor(t, 5*time.Second, func() bool { return p.numEntries() == i+1 })
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan cmdResult, 1)
	go func() { cancelled <- b.submit(ctx, cmd(100)) }()
	others := make([]chan cmdResult, 3)
	for i := range others {
		others[i] = make(chan cmdResult, 1)
		go func() { others[i] <- b.submit(context.Background(), cmd(byte(101+i))) }()
	}
	// One waits in the batcher for room in the pipeline, three in the queue.
	waitFor(t, 5*time.Second, func() bool { return len(b.queue) == 3 })
	cancel()
	if r := <-cancelled; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled caller got %+v", r)
	}
	p.openAll()
	for i, ch := range others {
		if r := <-ch; r.err != nil || r.n != 101+i {
			t.Fatalf("caller %d got %+v", 101+i, r)
		}
	}
	wg.Wait()
	for _, e := range p.entries {
		for _, c := range e {
			if c[1] == 100 {
				t.Fatal("a command whose caller gave up was still proposed")
			}
		}
	}
}

func TestBatcher_ProposalErrorGoesToEveryCallerOfTheEntry(t *testing.T) {
	p := &fakeProposer{fail: ErrNotLeader}
	b := newBatcher(p, 100, 1<<20)
	defer b.close()
	if r := b.submit(context.Background(), cmd(1)); !errors.Is(r.err, ErrNotLeader) {
		t.Fatalf("submit = %+v, want ErrNotLeader", r)
	}
}

func TestBatcher_CloseFailsQueuedAndLaterCommands(t *testing.T) {
	p, b := gatedBatcher(t, 100, 1<<20)
	results := make(chan cmdResult, 20)
	for i := range 20 {
		go func() { results <- b.submit(context.Background(), cmd(byte(i))) }()
		if i < maxInflight {
			waitFor(t, 5*time.Second, func() bool { return p.numEntries() == i+1 })
		}
	}
	waitFor(t, 5*time.Second, func() bool { return len(b.queue) == 20-maxInflight-1 })
	go func() {
		// Entries in flight finish; close waits for them.
		time.Sleep(20 * time.Millisecond)
		p.openAll()
	}()
	b.close()
	var ok, closed int
	for range 20 {
		r := <-results
		switch {
		case r.err == nil:
			ok++
		case errors.Is(r.err, ErrClosed):
			closed++
		default:
			t.Fatalf("unexpected result %+v", r)
		}
	}
	if ok == 0 || closed == 0 || ok+closed != 20 {
		t.Fatalf("%d applied, %d closed; want both and 20 in all", ok, closed)
	}
	if r := b.submit(context.Background(), cmd(1)); !errors.Is(r.err, ErrClosed) {
		t.Fatalf("submit after close = %+v", r)
	}
}
