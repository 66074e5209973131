package dataplane

import (
	"slices"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/handler"
)

// storedTimers is a timerLookup over a fixed set of pending timers.
type storedTimers map[timerKey]consensus.Timer

func (s storedTimers) PendingTimer(_, callback, reference string) (consensus.Timer, bool) {
	t, ok := s[timerKey{callback, reference}]
	return t, ok
}

// noTimers gives an overlay over s a function without pending timers.
func noTimers(s *docstore.Store) *overlayTimers {
	return newOverlayTimers("f", storedTimers{}, s.NumVBuckets(), 1024)
}

func TestOverlayTimers_BatchView(t *testing.T) {
	s := newOverlayStore(t, nil)
	stored := storedTimers{{"Cb", "old"}: {Callback: "Cb", Reference: "old"}, {"Cb", "firing"}: {Callback: "Cb", Reference: "firing"}}
	o := newOverlay(s, "fiid", newOverlayTimers("f", stored, s.NumVBuckets(), 1024))
	o.timers.firing[timerKey{"Cb", "firing"}] = true
	due := time.UnixMilli(1_700_000_000_123)

	cancel := func(ref string) bool {
		t.Helper()
		ok, err := o.CancelTimer("Cb", ref)
		if err != nil {
			t.Fatalf("CancelTimer(%s): %v", ref, err)
		}
		return ok
	}
	if !cancel("old") || cancel("old") {
		t.Fatal("a stored timer should cancel once")
	}
	if cancel("firing") || cancel("never") {
		t.Fatal("the timer being fired, or an unknown one, is not pending to the batch")
	}
	for _, ctx := range []string{`1`, `2`} { // the second overwrites the first
		if err := o.CreateTimer(handler.Timer{Callback: "Cb", Reference: "new", Due: due, Context: []byte(ctx)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.CreateTimer(handler.Timer{Callback: "Cb", Reference: "gone", Due: due, Context: []byte(`3`)}); err != nil {
		t.Fatal(err)
	}
	if !cancel("gone") {
		t.Fatal("the batch's own timer should cancel")
	}

	ops := o.timers.timerOps()
	var got []string
	for _, op := range ops {
		got = append(got, op.Timer.Reference)
	}
	if !slices.Equal(got, []string{"old", "new", "gone"}) || !ops[0].Cancel || ops[1].Cancel || !ops[2].Cancel {
		t.Fatalf("net ops = %+v, want cancel old, create new, cancel gone", ops)
	}
	if n := ops[1].Timer; string(n.Context) != `2` || n.Due != due.UnixMilli() || n.VB != o.timers.partition("Cb", "new") {
		t.Fatalf("created timer = %+v, want the second context, due %d", n, due.UnixMilli())
	}
}

// Partitions are vbuckets aligned to num_timer_partitions, rounded up to a
// power of two and at most one per vbucket.
func TestOverlayTimers_Partitions(t *testing.T) {
	for _, c := range []struct{ numVB, parts, step int }{
		{16, 1024, 1}, {16, 4, 4}, {16, 3, 4}, {16, 1, 16}, {1024, 100, 8},
	} {
		ot := newOverlayTimers("f", storedTimers{}, c.numVB, c.parts)
		if ot.step != c.step {
			t.Errorf("%d vbuckets, %d partitions: step %d, want %d", c.numVB, c.parts, ot.step, c.step)
		}
		seen := map[uint16]bool{}
		for i := range 200 {
			vb := ot.partition("Cb", string(rune('a'+i%26))+string(rune('a'+i/26)))
			if int(vb) >= c.numVB || int(vb)%c.step != 0 {
				t.Fatalf("%d vbuckets, %d partitions: partition %d", c.numVB, c.parts, vb)
			}
			seen[vb] = true
		}
		if want := min(c.numVB/c.step, 8); len(seen) < want {
			t.Errorf("%d vbuckets, %d partitions: 200 timers used only %d partitions", c.numVB, c.parts, len(seen))
		}
	}
}
