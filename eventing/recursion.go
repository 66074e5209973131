package eventing

import (
	"slices"
	"strings"

	"eventide/docstore"
	"eventide/handler"
)

// active reports whether a status counts as deployed for the recursion
// checks (its workers may still write).
func active(status string) bool {
	switch status {
	case StatusDeploying, StatusDeployed, StatusPausing, StatusPaused:
		return true
	}
	return false
}

// edge is a write path: function fn, triggered by from, writes to.
type edge struct {
	fn       string
	from, to docstore.Keyspace
}

// writeEdges lists a definition's source → destination edges through its
// read-write bucket bindings and the targets of its inline SQL++ DML;
// binding writes to its own source are suppressed by the runtime and so are
// not edges (SQL++ DML to its source is refused on its own, checkRecursion).
func writeEdges(fn string, d *Definition) []edge {
	var out []edge
	src := d.DepCfg.Source()
	for _, b := range d.DepCfg.Buckets {
		if b.Access != AccessReadWrite || b.Keyspace() == src {
			continue
		}
		out = append(out, edge{fn: fn, from: src, to: b.Keyspace()})
	}
	for _, ks := range handler.DMLTargets(d.AppCode) {
		if !KeyspacesOverlap(ks, src) {
			out = append(out, edge{fn: fn, from: src, to: ks})
		}
	}
	return out
}

// sourceDML returns a target of the definition's inline SQL++ DML that is
// its own source keyspace: SQL++ writes are not suppressed, so each would
// retrigger the function.
func sourceDML(d *Definition) (docstore.Keyspace, bool) {
	src := d.DepCfg.Source()
	for _, ks := range handler.DMLTargets(d.AppCode) {
		if KeyspacesOverlap(ks, src) {
			return ks, true
		}
	}
	return docstore.Keyspace{}, false
}

// checkRecursion refuses a deployment that would let functions trigger each
// other forever: inline SQL++ DML to the function's own source keyspace
// or a cycle of source → destination keyspaces across active functions
// (ERR_INTER_BUCKET_RECURSION), or two active functions writing their
// shared source keyspace (ERR_INTER_FUNCTION_RECURSION).
func (s *Service) checkRecursion(loc Location, d *Definition) *Error {
	self := loc.String()
	if ks, ok := sourceDML(d); ok {
		return newError(CodeInterBucketRecursion,
			"Inter bucket recursion error; function: %s has N1QL DML to source keyspace %s, hence deployment is disallowed", loc, ks)
	}
	var graph []edge
	for _, other := range s.records() {
		if other.rec.Name == self || !active(other.status()) {
			continue
		}
		if d.ReadWriteSource() && other.def.ReadWriteSource() && KeyspacesOverlap(other.def.DepCfg.Source(), d.DepCfg.Source()) {
			return newError(CodeInterFunctionRecursion, "Inter handler recursion error with app: %s", other.rec.Name)
		}
		graph = append(graph, writeEdges(other.rec.Name, other.def)...)
	}
	mine := writeEdges(self, d)
	graph = append(graph, mine...)
	target := d.DepCfg.Source()
	for _, start := range mine {
		if path := findPath(graph, start.to, target); path != nil {
			fns := []string{self}
			for _, e := range path {
				if !slices.Contains(fns, e.fn) {
					fns = append(fns, e.fn)
				}
			}
			return newError(CodeInterBucketRecursion,
				"Inter bucket recursion error; function: %s causes a cycle involving functions: [%s], hence deployment is disallowed",
				loc, strings.Join(fns, ", "))
		}
	}
	return nil
}

// findPath returns the edges of a path from → to (nil if none), by BFS
// over edges; keyspaces with wildcards connect wherever they overlap.
func findPath(graph []edge, from, to docstore.Keyspace) []edge {
	if KeyspacesOverlap(from, to) {
		return []edge{}
	}
	prev := make([]int, len(graph)) // edge index → the edge before it (-1: first)
	seen := make([]bool, len(graph))
	var queue []int
	for i, e := range graph {
		if KeyspacesOverlap(e.from, from) {
			seen[i], prev[i] = true, -1
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		if KeyspacesOverlap(graph[i].to, to) {
			var path []edge
			for k := i; k >= 0; k = prev[k] {
				path = append(path, graph[k])
			}
			slices.Reverse(path)
			return path
		}
		for j, e := range graph {
			if !seen[j] && KeyspacesOverlap(e.from, graph[i].to) {
				seen[j], prev[j] = true, i
				queue = append(queue, j)
			}
		}
	}
	return nil
}
