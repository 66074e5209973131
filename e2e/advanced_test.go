package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestAdvancedAccessors drives couchbase.insert/get/replace (with CAS)
// /increment/decrement/delete/touch and a self-recursive upsert on a real
// node, and checks the destination documents and the stats. A second
// function increments one shared counter from four workers: their
// conflicting commits re-run batches, and the count comes out exact.
func TestAdvancedAccessors(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst", "dst2")
	c.deployNew(fnSpec{name: "advanced", code: `function OnUpdate(doc, meta) {
  var id = meta.id;
  if (id === 'rec') {
    if (doc.recursed) {
      couchbase.increment(dst, {id: 'rec::' + id});
    } else {
      doc.recursed = true;
      var r = couchbase.upsert(src, {id: id}, doc, {self_recursion: true});
      if (!r.success) throw new Error('self-recursive upsert: ' + JSON.stringify(r));
    }
    return;
  }
  function check(what, res, ok) {
    if (!ok) throw new Error(what + ': ' + JSON.stringify(res));
  }
  var ins = couchbase.insert(dst, {id: 'ins::' + id}, {n: doc.n});
  check('insert', ins, ins.success && typeof ins.meta.cas === 'string');
  var again = couchbase.insert(dst, {id: 'ins::' + id}, {n: -1});
  check('second insert', again, !again.success && again.error.key_already_exists);
  var bad = couchbase.replace(dst, {id: 'ins::' + id, cas: '1'}, {n: -1});
  check('replace with a wrong cas', bad, !bad.success && bad.error.cas_mismatch);
  var g = couchbase.get(dst, {id: 'ins::' + id});
  check('get', g, g.success && g.meta.cas === ins.meta.cas && g.doc.n === doc.n);
  var rep = couchbase.replace(dst, {id: 'ins::' + id, cas: g.meta.cas}, {n: g.doc.n, replaced: true});
  check('replace with cas', rep, rep.success);
  var inc = couchbase.increment(dst, {id: 'count::' + (doc.n % 2)});
  check('increment', inc, inc.success && inc.doc.count > 0);
  var dec = couchbase.decrement(dst, {id: 'down'});
  check('decrement', dec, dec.success && dec.doc.count < 0);
  couchbase.upsert(dst, {id: 'del::' + id}, {n: doc.n});
  var d = couchbase.delete(dst, {id: 'del::' + id});
  check('delete', d, d.success);
  var gone = couchbase.get(dst, {id: 'del::' + id});
  check('get after delete', gone, !gone.success && gone.error.key_not_found);
  couchbase.upsert(dst, {id: 'tmp::' + id}, {n: doc.n});
  var tt = couchbase.touch(dst, {id: 'tmp::' + id, expiry_date: new Date(Date.now() + 2000)});
  check('touch', tt, tt.success && tt.meta.expiry_date instanceof Date);
}`, bindings: []binding{{"dst", "dst", "rw"}, {"src", "src", "rw"}}, settings: map[string]any{"worker_count": 1}})
	c.deployNew(fnSpec{name: "counter", code: `function OnUpdate(doc, meta) {
  if (meta.id === 'rec') return;
  var r = couchbase.increment(dst2, {id: 'total'});
  if (!r.success) throw new Error(JSON.stringify(r));
}`, bindings: []binding{{"dst2", "dst2", "rw"}}, settings: map[string]any{"worker_count": 4}})

	const n = 20
	c.BulkDocs("src", docs("doc", 0, n))
	c.BulkDocs("src", []map[string]any{{"_id": "rec", "n": 100}})

	want := map[string]string{
		"count::0": `{"count":10}`, "count::1": `{"count":10}`, "down": fmt.Sprintf(`{"count":%d}`, -n),
		"rec::rec": `{"count":1}`,
	}
	for i := range n {
		want[fmt.Sprintf("ins::doc%05d", i)] = fmt.Sprintf(`{"n":%d,"replaced":true}`, i)
	}
	render := func(ks string) map[string]string {
		out := make(map[string]string)
		for _, r := range c.AllDocs(ks) {
			out[r.ID] = strings.Join(strings.Fields(string(r.Doc)), "")
		}
		return out
	}
	var last map[string]string
	var lastTotal string
	defer func() {
		if t.Failed() {
			t.Logf("dst2 total: %s; counter stats: %v", lastTotal, c.functionStats("counter", false))
			t.Logf("dst: %v", last)
			t.Logf("app log: %s", strings.Join(c.getAppLog("advanced", 4096), "\n"))
		}
	}()
	waitFor(t, 30*time.Second, "the handler's documents, with the touched ones expired", func() bool {
		got := render("dst")
		last = got
		if len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if !sameJSON(got[k], v) {
				return false
			}
		}
		return true
	})
	waitFor(t, 60*time.Second, "the shared counter", func() bool {
		got := render("dst2")["total"]
		if !sameJSON(got, fmt.Sprintf(`{"count":%d}`, n)) {
			lastTotal = got
			return false
		}
		return true
	})
	holdsFor(t, 500*time.Millisecond, "the counter stays exact", func() bool {
		return sameJSON(render("dst2")["total"], fmt.Sprintf(`{"count":%d}`, n))
	})

	c.waitStat("advanced", "execution_stats", "on_update_success", n+2)
	st := c.functionStats("advanced", false)
	for _, k := range []struct {
		group, name string
		want        float64
	}{
		{"failure_stats", "bkt_ops_cas_mismatch_count", n},
		{"failure_stats", "bucket_op_exception_count", 0},
		{"execution_stats", "on_update_failure", 0},
		{"event_processing_stats", "dcp_mutation_suppressed_counter", 0},
	} {
		if got := num(t, st, k.group, k.name); got != k.want {
			t.Errorf("advanced %s.%s = %v, want %v", k.group, k.name, got, k.want)
		}
	}
	t.Logf("counter: %v batches re-run after conflicting commits",
		c.stat("counter", "failure_stats", "checkpoint_failure_count"))
	if got := c.stat("counter", "execution_stats", "on_update_failure"); got != 0 {
		t.Errorf("counter on_update_failure = %v, want 0", got)
	}
}

// sameJSON compares a document as Sync Gateway returns it with the JSON
// the handler wrote, ignoring whitespace, key order, _id and _rev.
func sameJSON(got, want string) bool {
	var x, y map[string]any
	if json.Unmarshal([]byte(got), &x) != nil || json.Unmarshal([]byte(want), &y) != nil {
		return false
	}
	delete(x, "_id")
	delete(x, "_rev")
	return reflect.DeepEqual(x, y)
}
