package qinling

import (
	"encoding/json"
	"log/slog"
	"sync"
)

// countKey identifies a function version's executions (0: latest code).
type countKey struct {
	function string
	version  int
}

// cachedExec is a decoded execution record and the record version it was
// decoded from. rec and version never change once published; a changed
// record gets a new cachedExec.
type cachedExec struct {
	version uint64
	rec     *executionRec
	// pass is the last resync that saw the record (guarded by the
	// index's mu).
	pass uint64
}

// execIndex keeps the execution records decoded, and how many there are
// per function version, in step with the replicated table, which any node
// writes. It resyncs only once the store reports a change
// (Records.RecordsChanged), and then decodes only the records whose
// version moved and adjusts the counts by what changed: while nothing
// changes a count costs O(1); after a change, one pass over the records'
// versions. (The store offers no feed of changed records, so the pass
// cannot be avoided without one.)
type execIndex struct {
	// mu guards every field, and is held across a resync so that one
	// runs at a time.
	mu sync.Mutex
	// synced is the store's RecordsChanged channel taken before the last
	// resync read the table: while it is open the index is current. Nil
	// before the first resync.
	synced <-chan struct{}
	pass   uint64
	byID   map[string]*cachedExec
	// list holds the decoded records sorted by id; a new slice replaces
	// it whenever the set changes, so a published one is never modified.
	list   []*cachedExec
	counts map[countKey]int
	// bad holds the versions of the undecodable records, so each is
	// logged once, not at every resync.
	bad map[string]uint64
}

func newExecIndex() *execIndex {
	return &execIndex{byID: make(map[string]*cachedExec), counts: make(map[countKey]int)}
}

func keyOf(e *executionRec) countKey { return countKey{e.FunctionID, e.FunctionVersion} }

// syncLocked brings the index up to date with rec, if the store changed
// since the last resync. Undecodable records are logged and left out.
func (x *execIndex) syncLocked(rec Records, log *slog.Logger) {
	if x.synced != nil {
		select {
		case <-x.synced:
		default:
			return
		}
	}
	// Taken before the read: a change after it closes it, so the next
	// call resyncs again.
	changed := rec.RecordsChanged()
	rs := rec.Records(tableExecutions)
	x.pass++
	var (
		same = true // the records so far are x.list[:kept]
		kept int
		list []*cachedExec
		bad  map[string]uint64
	)
	for _, r := range rs {
		e := x.byID[r.ID]
		if e == nil || e.version != r.Version {
			var d executionRec
			if err := json.Unmarshal(r.Body, &d); err != nil {
				if x.bad[r.ID] != r.Version {
					log.Warn("undecodable execution record skipped", "id", r.ID, "err", err)
				}
				if bad == nil {
					bad = make(map[string]uint64)
				}
				bad[r.ID] = r.Version
				continue // an old decoded version, if any, goes as unseen
			}
			if e != nil {
				x.uncount(e.rec)
			}
			e = &cachedExec{version: r.Version, rec: &d}
			x.byID[r.ID] = e
			x.counts[keyOf(&d)]++
		}
		e.pass = x.pass
		if same {
			if kept < len(x.list) && x.list[kept] == e {
				kept++
				continue
			}
			same = false
			list = make([]*cachedExec, kept, len(rs))
			copy(list, x.list[:kept])
		}
		list = append(list, e)
	}
	switch {
	case !same:
		x.list = list
	case kept < len(x.list):
		x.list = x.list[:kept:kept]
	}
	if len(x.byID) != len(x.list) {
		// Some records are gone (deleted, or no longer decodable).
		for id, e := range x.byID {
			if e.pass != x.pass {
				x.uncount(e.rec)
				delete(x.byID, id)
			}
		}
	}
	x.bad = bad
	x.synced = changed
}

func (x *execIndex) uncount(e *executionRec) {
	k := keyOf(e)
	if x.counts[k]--; x.counts[k] <= 0 {
		delete(x.counts, k)
	}
}

// executions returns every execution record decoded, sorted by id. The
// slice and the records are shared: never modify them.
func (s *Service) executions() []*cachedExec {
	s.execs.mu.Lock()
	defer s.execs.mu.Unlock()
	s.execs.syncLocked(s.rec, s.log)
	return s.execs.list
}

// executionCounts calls count with a lookup of how many executions the
// cluster holds of a function version; the lookup is valid only during
// the call.
func (s *Service) executionCounts(count func(of func(countKey) int)) {
	s.execs.mu.Lock()
	defer s.execs.mu.Unlock()
	s.execs.syncLocked(s.rec, s.log)
	count(func(k countKey) int { return s.execs.counts[k] })
}
