//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMain prints a table of the scenarios' summaries after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	summariesMu.Lock()
	defer summariesMu.Unlock()
	if len(summaries) > 0 {
		fmt.Printf("\n%-26s %7s %8s %12s %10s %9s\n", "scenario", "docs", "retries", "longest ack", "catch-up", "duration")
		for _, s := range summaries {
			fmt.Printf("%-26s %7d %8d %12v %10v %9v\n", s.scenario, s.docs, s.retries,
				s.stall.Round(time.Millisecond), s.caughtUp.Round(time.Millisecond), s.total.Round(time.Second))
			fmt.Printf("    longest write gap on a node with no fault of its own: %s\n", s.gap)
			fmt.Printf("    batches acknowledged/attempts failed per node: %s\n", s.perNode)
			for _, e := range s.events {
				fmt.Printf("    %s\n", e)
			}
		}
	}
	os.Exit(code)
}

// maxWriteGap bounds how long a node with no fault of its own may go
// without acknowledging a write (its probe's longest gap): a fault
// elsewhere costs it at most a leader election (about a second) and a
// retry.
const maxWriteGap = 5 * time.Second

// scenario runs the part common to every scenario around inject: a fresh
// cluster with the counting function deployed, writers streaming through
// every node from the start until after the recovery, then the invariant
// checks and the summary.
func scenario(t *testing.T, name string, inject func(s *stack, w *workload, tl *timeline)) {
	began := time.Now()
	s, w := setup(t)
	tl := &timeline{t: t}
	writing := time.Now()
	w.start()
	w.waitWritten(2000, time.Minute)
	inject(s, w, tl)
	// Writes flow again after the recovery.
	w.waitMore(1000, time.Minute)
	w.finish()
	// Every node takes writes by itself again.
	w.writeThroughEach(time.Minute)
	caughtUp := s.verify(w)
	s.waitHealthy(time.Minute, true)
	stall, why := w.stall()
	t.Logf("longest batch wait %v: %s", stall.Round(time.Millisecond), why)
	gap, gapAt, gapEnd := w.gap()
	gapDesc := fmt.Sprintf("%v on %s, ending %v after the writers started", gap.Round(time.Millisecond), gapAt, gapEnd.Sub(writing).Round(100*time.Millisecond))
	t.Logf("longest write gap on a node with no fault of its own: %s", gapDesc)
	if gap > maxWriteGap {
		t.Errorf("a node with no fault of its own acknowledged no write for %s: writes through a healthy node must resume within %v", gapDesc, maxWriteGap)
	}
	for i, m := range s.nodes {
		if w.acks[i].Load() == 0 {
			t.Fatalf("%s never acknowledged a batch: the writers did not go round the nodes (%s)", m, w.perNode())
		}
	}
	report(t, summary{
		scenario: name, docs: int(w.written.Load()), retries: w.retries.Load(), stall: stall, gap: gapDesc,
		events: tl.events, perNode: w.perNode(), caughtUp: caughtUp, total: time.Since(began),
	})
}

// TestChaos_KillFollowerThenLeader kills (SIGKILL) a follower while
// documents stream in, starts it again, then kills the leader and starts
// it again.
func TestChaos_KillFollowerThenLeader(t *testing.T) {
	scenario(t, "kill follower, then leader", func(s *stack, w *workload, tl *timeline) {
		f := s.follower()
		t0 := time.Now()
		s.kill(f)
		tl.add("docker kill follower %s at %d docs", f, w.written.Load())
		s.waitFailedOver(f, s.others(f), time.Minute)
		tl.add("  %s failed over %v after the kill", f, round(time.Since(t0)))
		w.waitMore(2000, time.Minute) // a minority down does not stop writes
		s.start(f)
		d := s.waitHealthy(2*time.Minute, true)
		tl.add("  %s started again: cluster healthy, %s owning vbuckets, after %v", f, f, round(d))
		w.waitMore(2000, time.Minute)

		l := s.leader()
		t0 = time.Now()
		s.kill(l)
		tl.add("docker kill leader %s at %d docs", l, w.written.Load())
		s.waitNewLeader(l, s.others(l), time.Minute)
		tl.add("  new leader elected %v after the kill", round(time.Since(t0)))
		s.waitFailedOver(l, s.others(l), time.Minute)
		tl.add("  %s failed over %v after the kill", l, round(time.Since(t0)))
		w.waitMore(2000, time.Minute)
		s.start(l)
		d = s.waitHealthy(2*time.Minute, true)
		tl.add("  %s started again: cluster healthy after %v", l, round(d))
	})
}

// partitionFor is how long the partition scenario keeps a node off the
// network.
const partitionFor = 20 * time.Second

// TestChaos_PartitionLeader takes the leader off the network for 20 s
// (docker network disconnect) and puts it back: the majority elects a new
// leader and takes its vbuckets over; the old leader must not commit
// anything meanwhile, and rejoins afterwards.
func TestChaos_PartitionLeader(t *testing.T) {
	scenario(t, "partition leader 20s", func(s *stack, w *workload, tl *timeline) {
		l := s.leader()
		t0 := time.Now()
		s.disconnect(l)
		before := w.written.Load()
		tl.add("docker network disconnect leader %s at %d docs", l, before)
		s.waitNewLeader(l, s.others(l), time.Minute)
		tl.add("  new leader elected on the majority side %v after the cut", round(time.Since(t0)))
		s.waitFailedOver(l, s.others(l), partitionFor)
		tl.add("  %s failed over %v after the cut", l, round(time.Since(t0)))
		time.Sleep(time.Until(t0.Add(partitionFor))) // the fault lasts partitionFor
		during := w.written.Load() - before
		if during == 0 {
			t.Fatalf("no document was acknowledged while %s was cut off", l)
		}
		s.connect(l)
		tl.add("docker network connect %s after %v (%d docs written meanwhile)", l, round(time.Since(t0)), during)
		d := s.waitHealthy(2*time.Minute, true)
		tl.add("  cluster healthy, %s owning vbuckets, %v after the reconnect", l, round(d))
	})
}

// TestChaos_RollingRestart restarts the three nodes one at a time (SIGTERM,
// so each leaves gracefully, then start), waiting for a healthy cluster
// before the next.
func TestChaos_RollingRestart(t *testing.T) {
	scenario(t, "rolling restart", func(s *stack, w *workload, tl *timeline) {
		for _, m := range s.nodes {
			role := "follower"
			if s.leader() == m {
				role = "leader"
			}
			t0 := time.Now()
			s.stop(m)
			stopped := time.Since(t0)
			s.start(m)
			d := s.waitHealthy(2*time.Minute, true)
			tl.add("docker stop+start %s %s at %d docs: stopped in %v, healthy again %v after the start",
				role, m, w.written.Load(), round(stopped), round(d))
			w.waitMore(1000, time.Minute)
		}
	})
}

// pauseFor is how long the pause scenario freezes a node: well past the
// failover timeout, so that its vbuckets move while it is frozen.
const pauseFor = 3 * failoverTimeout

// TestChaos_Pause freezes a node (docker pause) for three failover
// timeouts, a follower in one run and the leader in another: its vbuckets
// move to the others while it still believes it owns them (and, for the
// leader, that it leads). When it thaws, its workers' stale batches must
// be rejected (ownership epochs, Raft terms), so nothing is handled twice.
func TestChaos_Pause(t *testing.T) {
	for _, role := range []string{"follower", "leader"} {
		t.Run(role, func(t *testing.T) {
			scenario(t, "pause "+role+" 15s", func(s *stack, w *workload, tl *timeline) {
				m := s.follower()
				if role == "leader" {
					m = s.leader()
				}
				t0 := time.Now()
				s.pause(m)
				before := w.written.Load()
				tl.add("docker pause %s %s at %d docs", role, m, before)
				if role == "leader" {
					s.waitNewLeader(m, s.others(m), pauseFor)
					tl.add("  new leader elected %v after the pause", round(time.Since(t0)))
				}
				s.waitFailedOver(m, s.others(m), pauseFor)
				tl.add("  %s failed over %v after the pause", m, round(time.Since(t0)))
				time.Sleep(time.Until(t0.Add(pauseFor))) // the fault lasts pauseFor
				during := w.written.Load() - before
				if during == 0 {
					t.Fatalf("no document was acknowledged while %s was paused", m)
				}
				s.unpause(m)
				tl.add("docker unpause %s after %v (%d docs written meanwhile)", m, round(time.Since(t0)), during)
				d := s.waitHealthy(2*time.Minute, true)
				tl.add("  cluster healthy, %s owning vbuckets, %v after the unpause", m, round(d))
			})
		})
	}
}
