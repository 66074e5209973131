package membership

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func counts(owners []string) map[string]int {
	c := make(map[string]int)
	for _, o := range owners {
		c[o]++
	}
	return c
}

func moves(before, after []string) int {
	n := 0
	for vb := range before {
		if before[vb] != after[vb] {
			n++
		}
	}
	return n
}

// leastMoves is the fewest vbuckets any balanced map of owners onto nodes
// must move, by brute force over which nodes get the larger quota.
func leastMoves(owners, nodes []string) int {
	if len(nodes) == 0 {
		return 0
	}
	c := counts(owners)
	orphans := 0
	in := map[string]bool{}
	for _, n := range nodes {
		in[n] = true
	}
	for _, o := range owners {
		if !in[o] {
			orphans++
		}
	}
	base, extra := len(owners)/len(nodes), len(owners)%len(nodes)
	best := -1
	for mask := 0; mask < 1<<len(nodes); mask++ {
		bits := 0
		for i := range nodes {
			if mask&(1<<i) != 0 {
				bits++
			}
		}
		if bits != extra {
			continue
		}
		excess := 0
		for i, n := range nodes {
			q := base
			if mask&(1<<i) != 0 {
				q++
			}
			excess += max(0, c[n]-q)
		}
		if best < 0 || orphans+excess < best {
			best = orphans + excess
		}
	}
	return best
}

// checkBalance asserts every property of Balance's result.
func checkBalance(t *testing.T, owners, nodes, out []string) {
	t.Helper()
	if len(out) != len(owners) {
		t.Fatalf("len = %d, want %d", len(out), len(owners))
	}
	set := slices.Compact(slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(nodes), func(s string) bool { return s == "" }))))
	in := map[string]bool{}
	for _, n := range set {
		in[n] = true
	}
	for vb, o := range out {
		if len(set) == 0 && o != "" {
			t.Fatalf("vb %d owned by %q with no nodes", vb, o)
		}
		if len(set) > 0 && !in[o] {
			t.Fatalf("vb %d owned by %q, not one of %v", vb, o, set)
		}
	}
	if len(set) == 0 {
		return
	}
	before, after := counts(owners), counts(out)
	lo, hi := len(out), 0
	for _, n := range set {
		lo, hi = min(lo, after[n]), max(hi, after[n])
	}
	if hi-lo > 1 {
		t.Fatalf("unbalanced: counts %v (min %d, max %d)", after, lo, hi)
	}
	for vb := range owners {
		o := owners[vb]
		if o == out[vb] || !in[o] {
			continue
		}
		// o kept its place in the set but lost vb: it must have been over
		// its quota, so it ends with fewer than it had and gains nothing.
		if after[o] >= before[o] {
			t.Fatalf("vb %d moved from %s (%d → %d vbuckets) though %s was not over quota", vb, o, before[o], after[o], o)
		}
	}
	for _, n := range set {
		lost, gained := false, false
		for vb := range owners {
			if owners[vb] == n && out[vb] != n {
				lost = true
			}
			if owners[vb] != n && out[vb] == n {
				gained = true
			}
		}
		if lost && gained {
			t.Fatalf("%s both lost and gained vbuckets", n)
		}
	}
	if got, want := moves(owners, out), leastMoves(owners, set); got != want {
		t.Fatalf("moved %d vbuckets, the least possible is %d", got, want)
	}
}

func TestBalance_Examples(t *testing.T) {
	all := func(n int, o string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = o
		}
		return s
	}
	t.Run("initial map to the bootstrap node", func(t *testing.T) {
		out := Balance(make([]string, 1024), []string{"n1"})
		if !slices.Equal(out, all(1024, "n1")) {
			t.Fatal("not every vbucket went to n1")
		}
	})
	t.Run("second node takes half", func(t *testing.T) {
		owners := all(1024, "n1")
		out := Balance(owners, []string{"n2", "n1"})
		c := counts(out)
		if c["n1"] != 512 || c["n2"] != 512 || moves(owners, out) != 512 {
			t.Fatalf("counts %v, moves %d", c, moves(owners, out))
		}
		// n1 keeps its lowest vbuckets.
		if out[0] != "n1" || out[1023] != "n2" {
			t.Fatalf("out[0]=%s out[1023]=%s", out[0], out[1023])
		}
	})
	t.Run("failed node's share goes to survivors", func(t *testing.T) {
		owners := Balance(make([]string, 1024), []string{"n1", "n2", "n3"})
		out := Balance(owners, []string{"n1", "n3"})
		checkBalance(t, owners, []string{"n1", "n3"}, out)
		if moves(owners, out) != counts(owners)["n2"] {
			t.Fatalf("moved %d, want exactly n2's %d", moves(owners, out), counts(owners)["n2"])
		}
		back := Balance(out, []string{"n1", "n2", "n3"})
		checkBalance(t, out, []string{"n1", "n2", "n3"}, back)
		if c := counts(back); c["n2"] < 341 {
			t.Fatalf("returning n2 got %d vbuckets back", c["n2"])
		}
	})
	t.Run("no nodes", func(t *testing.T) {
		out := Balance(all(8, "n1"), nil)
		if !slices.Equal(out, make([]string, 8)) {
			t.Fatalf("got %v, want all unassigned", out)
		}
	})
	t.Run("no vbuckets", func(t *testing.T) {
		if out := Balance(nil, []string{"n1"}); len(out) != 0 {
			t.Fatalf("got %v", out)
		}
	})
	t.Run("input untouched", func(t *testing.T) {
		owners := all(16, "gone")
		Balance(owners, []string{"n1"})
		if !slices.Equal(owners, all(16, "gone")) {
			t.Fatal("Balance modified its input")
		}
	})
}

func TestBalance_Properties(t *testing.T) {
	universe := []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"}
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		nvb := []int{1, 2, 7, 16, 64, 1024}[r.IntN(6)]
		// A skewed map: a few heavy owners, some unassigned, some gone.
		owners := make([]string, nvb)
		weights := make([]int, len(universe)+1)
		for i := range weights {
			weights[i] = r.IntN(10) * r.IntN(10)
		}
		weights[r.IntN(len(weights))] += 1
		total := 0
		for _, w := range weights {
			total += w
		}
		for vb := range owners {
			x := r.IntN(total)
			for i, w := range weights {
				if x < w {
					if i < len(universe) {
						owners[vb] = universe[i]
					}
					break
				}
				x -= w
			}
		}
		var nodes []string
		for _, n := range universe {
			if r.IntN(2) == 0 {
				nodes = append(nodes, n)
			}
		}
		t.Run(fmt.Sprintf("seed=%d/vbs=%d/nodes=%d", seed, nvb, len(nodes)), func(t *testing.T) {
			out := Balance(owners, nodes)
			checkBalance(t, owners, nodes, out)
			// Deterministic whatever the order of nodes, repeats and blanks.
			shuffled := append(slices.Clone(nodes), "")
			if len(nodes) > 0 {
				shuffled = append(shuffled, nodes[0])
			}
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if again := Balance(owners, shuffled); !slices.Equal(again, out) {
				t.Fatal("different result for the same node set in another order")
			}
			// A balanced map stays as it is.
			if again := Balance(out, nodes); !slices.Equal(again, out) {
				t.Fatalf("rebalancing a balanced map moved %d vbuckets", moves(out, again))
			}
		})
	}
}
