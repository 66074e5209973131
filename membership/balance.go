package membership

import (
	"cmp"
	"slices"
)

// Balance returns a vbucket map that assigns every vbucket of owners
// (owners[vb] is a node id, "" for none) to one of nodes, with every node
// owning ⌊N/k⌋ or ⌈N/k⌉ of the N vbuckets, while moving as few vbuckets as
// possible:
//
//   - a vbucket whose owner is in nodes keeps it unless that owner holds
//     more than its quota;
//   - the ⌈N/k⌉ quotas go to the nodes that already own the most (ties by
//     id), which makes the number of moves the least any balanced map
//     needs;
//   - vbuckets of nodes not in nodes and unassigned ones are handed out
//     first, then the excess of the over-quota nodes (their
//     highest-numbered vbuckets), each in vbucket order, to the nodes
//     below their quota in id order.
//
// The result depends only on owners and the set of nodes (not their order;
// empty ids and repeats are ignored). With no nodes every vbucket is
// unassigned. owners is not modified.
func Balance(owners []string, nodes []string) []string {
	out := make([]string, len(owners))
	set := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if n != "" {
			set = append(set, n)
		}
	}
	slices.Sort(set)
	set = slices.Compact(set)
	if len(set) == 0 || len(owners) == 0 {
		return out
	}

	in := make(map[string]bool, len(set))
	count := make(map[string]int, len(set))
	for _, n := range set {
		in[n] = true
	}
	for _, o := range owners {
		if in[o] {
			count[o]++
		}
	}

	// Quotas: base each, one more for the extra most-loaded nodes.
	base, extra := len(owners)/len(set), len(owners)%len(set)
	byLoad := slices.Clone(set)
	slices.SortStableFunc(byLoad, func(a, b string) int { return cmp.Compare(count[b], count[a]) })
	quota := make(map[string]int, len(set))
	for i, n := range byLoad {
		quota[n] = base
		if i < extra {
			quota[n]++
		}
	}

	// Keep what each node may keep: its lowest-numbered vbuckets up to its
	// quota. The pool to hand out is the orphans (unassigned or owned by a
	// node not in the set), then the excess, each in vbucket order.
	kept := make(map[string]int, len(set))
	var pool, excess []int
	for vb, o := range owners {
		switch {
		case !in[o]:
			pool = append(pool, vb)
		case kept[o] < quota[o]:
			out[vb] = o
			kept[o]++
		default:
			excess = append(excess, vb)
		}
	}
	pool = append(pool, excess...)
	i := 0
	for _, n := range set {
		for ; kept[n] < quota[n]; kept[n]++ {
			out[pool[i]] = n
			i++
		}
	}
	return out
}
