package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/internal/restclient"
)

// TestSourceWrites_DoNotRetrigger: a handler that enriches its own source
// documents through a read-write binding to the source bucket handles each
// document once; its own writes are suppressed and counted in
// dcp_mutation_suppressed_counter, while a user's later write is handled.
func TestSourceWrites_DoNotRetrigger(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "enricher", code: `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  dst[meta.id] = {count: prev ? prev.count + 1 : 1};
  src[meta.id] = Object.assign(doc, {enriched: true});
}`, bindings: []binding{{"dst", "dst", "rw"}, {"src", "src", "rw"}}, settings: map[string]any{"worker_count": 2}})

	ds := docs("doc", 0, 40)
	c.BulkDocs("src", ds)
	want := expectCounts(nil, ds, 1)
	c.waitCounts("dst", want)
	waitFor(t, 30*time.Second, "every source doc enriched", func() bool {
		for _, d := range c.docMap("src") {
			if d["enriched"] != true {
				return false
			}
		}
		return true
	})
	c.waitStat("enricher", "event_processing_stats", "dcp_mutation_suppressed_counter", 40)
	holdsFor(t, time.Second, "the handler's own writes do not retrigger it", func() bool {
		return maps.Equal(c.counts("dst"), want)
	})
	st := c.functionStats("enricher", false)
	for _, k := range [][2]string{
		{"event_processing_stats", "dcp_mutation_sent_to_worker"},
		{"event_processing_stats", "dcp_mutation_suppressed_counter"},
		{"execution_stats", "on_update_success"},
	} {
		if got := num(t, st, k[0], k[1]); got != 40 {
			t.Fatalf("%s.%s = %v, want 40", k[0], k[1], got)
		}
	}
	if got := num(t, st, "execution_stats", "on_update_failure"); got != 0 {
		t.Fatalf("on_update_failure = %v, want 0", got)
	}

	// A user's write to an enriched document is a new event: handled once
	// more, and the handler's write that follows is suppressed again.
	code, cur := c.getDoc("src", "doc00003")
	if code != http.StatusOK {
		t.Fatalf("GET src/doc00003: %d %v", code, cur)
	}
	c.BulkDocs("src", []map[string]any{{"_id": "doc00003", "_rev": cur["_rev"], "n": 3, "kind": "USER"}})
	want["doc00003"] = 2
	c.waitCounts("dst", want)
	c.waitStat("enricher", "event_processing_stats", "dcp_mutation_suppressed_counter", 41)
	_, cur = c.getDoc("src", "doc00003")
	if cur["kind"] != "USER" || cur["enriched"] != true {
		t.Fatalf("src/doc00003 after the user's write: %v", cur)
	}
}

// TestExpiry_RunsOnDeleteWithExpired: a document written through Sync
// Gateway with _exp disappears from GET and _all_docs when due, and the
// function's OnDelete runs for it with options.expired true (false for a
// plain delete).
func TestExpiry_RunsOnDeleteWithExpired(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst", "dpaused")
	code := `function OnUpdate(doc, meta) {
  dst[meta.id] = {seen: true, expiration: meta.expiration};
}
function OnDelete(meta, options) {
  dst[meta.id] = {expired: options.expired};
}`
	c.deployNew(fnSpec{name: "expiry", code: code, bindings: []binding{{"dst", "dst", "rw"}}})
	// A second function is paused before the documents are written: it
	// learns of the expiry when resumed.
	c.deployNew(fnSpec{name: "pausedexp", code: code, bindings: []binding{{"dst", "dpaused", "rw"}}})
	c.Lifecycle("pausedexp", "pause")
	c.WaitStatus("pausedexp", "paused")

	revs := c.BulkDocs("src", []map[string]any{
		{"_id": "short", "v": 1, "_exp": 3},
		{"_id": "plain", "v": 2},
		{"_id": "keep", "v": 3},
	})
	written := time.Now()
	if code, d := c.getDoc("src", "short"); code != http.StatusOK || d["v"] != 1.0 {
		t.Fatalf("GET src/short before its expiry: %d %v", code, d)
	}
	waitFor(t, 30*time.Second, "the function to see the expiring doc", func() bool {
		d := c.docMap("dst")["short"]
		return d != nil && d["seen"] == true
	})
	if exp := c.docMap("dst")["short"]["expiration"].(float64); exp < float64(written.Unix()) || exp > float64(written.Add(10*time.Second).Unix()) {
		t.Fatalf("meta.expiration of short = %v, want about %d", exp, written.Add(3*time.Second).Unix())
	}
	c.Must(http.StatusOK, http.MethodDelete, c.SyncGW+"/src/plain?rev="+revs["plain"], "", nil)

	waitFor(t, 30*time.Second, "src/short to expire", func() bool {
		code, _ := c.getDoc("src", "short")
		return code == http.StatusNotFound
	})
	if time.Since(written) < 2*time.Second {
		t.Fatalf("short expired after %v, before its 3s expiry", time.Since(written))
	}
	if _, ok := c.docMap("src")["short"]; ok {
		t.Fatal("_all_docs still lists the expired document")
	}
	waitFor(t, 30*time.Second, "OnDelete for the expired doc", func() bool {
		d := c.docMap("dst")["short"]
		return d != nil && d["expired"] == true
	})
	dst := c.docMap("dst")
	if d := dst["plain"]; d == nil || d["expired"] != false {
		t.Fatalf("OnDelete for a plain delete recorded %v, want expired false", d)
	}
	if d := dst["keep"]; d == nil || d["seen"] != true {
		t.Fatalf("dst/keep = %v", d)
	}
	src := c.docMap("src")
	if len(src) != 1 || src["keep"] == nil {
		t.Fatalf("src holds %v, want only keep", sortedKeys(src))
	}
	c.waitStat("expiry", "execution_stats", "on_delete_success", 2)
	if got := c.stat("expiry", "event_processing_stats", "dcp_expiry_sent_to_worker"); got != 1 {
		t.Fatalf("dcp_expiry_sent_to_worker = %v, want 1", got)
	}

	if n := len(c.AllDocs("dpaused")); n != 0 {
		t.Fatalf("paused function wrote %d docs", n)
	}
	c.Lifecycle("pausedexp", "resume")
	c.WaitStatus("pausedexp", "deployed")
	waitFor(t, 30*time.Second, "the resumed function's OnDelete for the expired doc", func() bool {
		d := c.docMap("dpaused")
		return d["short"] != nil && d["short"]["expired"] == true && d["plain"] != nil && d["plain"]["expired"] == false &&
			d["keep"] != nil && d["keep"]["seen"] == true
	})
}

// TestManyWorkers_PerKeyOrder: four workers, 3,000 documents written by
// four concurrent clients in 20 _bulk_docs calls, with updates of the same
// keys interleaved (each client's own keys, and hot keys all clients race
// on): every key's final copy equals its final source version, no copy
// ever went backwards, and nothing is lost.
func TestManyWorkers_PerKeyOrder(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "mirror", code: `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  var back = prev ? (prev.back || prev.v > doc.v) : false;
  dst[meta.id] = {client: doc.client, n: doc.n, v: doc.v, back: back};
}`, bindings: []binding{{"dst", "dst", "rw"}}, settings: map[string]any{"worker_count": 4}})

	const (
		clients = 4
		perCall = 150
		calls   = 5 // per client: 4 × 5 = 20 create calls, 3,000 docs
		hotKeys = 40
	)
	// post writes a batch and returns each document's result; it is safe
	// to call from any goroutine (it does not touch t).
	post := func(batch []map[string]any) ([]restclient.DocResult, error) {
		return c.Client.BulkDocs(context.Background(), "src", batch)
	}
	// current reads a hot key's rev and version.
	current := func(id string) (string, int, error) {
		var d struct {
			Rev string `json:"_rev"`
			V   int    `json:"v"`
		}
		if err := c.Client.GetJSON(context.Background(), c.SyncGW+"/src/"+id, &d); err != nil {
			return "", 0, err
		}
		return d.Rev, d.V, nil
	}

	// The hot keys exist before the clients start.
	type known struct {
		rev string
		v   int
	}
	var hot []map[string]any
	for i := range hotKeys {
		hot = append(hot, map[string]any{"_id": fmt.Sprintf("hot-%02d", i), "client": -1, "n": i, "v": 1})
	}
	hotRevs := c.BulkDocs("src", hot)

	// own[id] is the last version of a client's own key; clients own
	// disjoint keys so each key's order is its client's order.
	var mu sync.Mutex
	own := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			revs := map[string]string{}
			version := map[string]int{}
			hotSeen := map[string]known{}
			for id, rev := range hotRevs {
				hotSeen[id] = known{rev, 1}
			}
			write := func(batch []map[string]any) error {
				res, err := post(batch)
				if err != nil {
					return err
				}
				for i, r := range res {
					id := batch[i]["_id"].(string)
					switch {
					case r.Error == "":
						revs[id] = r.Rev
						if h, ok := hotSeen[id]; ok {
							hotSeen[id] = known{r.Rev, h.v + 1}
						}
					case r.Status == http.StatusConflict && strings.HasPrefix(id, "hot-"):
						// Another client won the race: learn its version.
						rev, v, err := current(id)
						if err != nil {
							return err
						}
						hotSeen[id] = known{rev, v}
					default:
						return fmt.Errorf("_bulk_docs: %s: %d %s %s", id, r.Status, r.Error, r.Reason)
					}
				}
				return nil
			}
			var prev []string
			for call := range calls {
				var batch []map[string]any
				var ids []string
				for i := range perCall {
					id := fmt.Sprintf("c%d-%05d", cl, call*perCall+i)
					ids = append(ids, id)
					version[id] = 1
					batch = append(batch, map[string]any{"_id": id, "client": cl, "n": call*perCall + i, "v": 1})
				}
				// The same request updates 20 keys of the previous call.
				for _, id := range prev {
					version[id]++
					batch = append(batch, map[string]any{"_id": id, "_rev": revs[id], "client": cl, "n": nOf(id), "v": version[id]})
				}
				if err := write(batch); err != nil {
					errs <- err
					return
				}
				// Then 10 of them again, and every hot key, racing the
				// other clients.
				batch = batch[:0]
				for _, id := range prev[:min(10, len(prev))] {
					version[id]++
					batch = append(batch, map[string]any{"_id": id, "_rev": revs[id], "client": cl, "n": nOf(id), "v": version[id]})
				}
				for i := range hotKeys {
					id := fmt.Sprintf("hot-%02d", i)
					h := hotSeen[id]
					batch = append(batch, map[string]any{"_id": id, "_rev": h.rev, "client": cl, "n": i, "v": h.v + 1})
				}
				if err := write(batch); err != nil {
					errs <- err
					return
				}
				prev = ids[:20]
			}
			mu.Lock()
			for id, v := range version {
				own[id] = v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(own) != clients*calls*perCall {
		t.Fatalf("wrote %d keys, want %d", len(own), clients*calls*perCall)
	}

	totalDocs := len(own) + hotKeys
	src := c.docMap("src")
	if len(src) != totalDocs {
		t.Fatalf("src holds %d docs, want %d", len(src), totalDocs)
	}
	var dst map[string]map[string]any
	waitFor(t, 60*time.Second, "every dst copy to match its final source version", func() bool {
		dst = c.docMap("dst")
		if len(dst) != totalDocs {
			return false
		}
		for id, s := range src {
			if d := dst[id]; d == nil || d["v"] != s["v"] {
				return false
			}
		}
		return true
	})
	var problems []string
	for id, s := range src {
		d := dst[id]
		if v, ok := own[id]; ok && s["v"] != float64(v) {
			problems = append(problems, fmt.Sprintf("src %s is v%v, want v%d", id, s["v"], v))
		}
		if strings.HasPrefix(id, "hot-") && s["v"].(float64) < 2 {
			problems = append(problems, fmt.Sprintf("hot key %s was never updated", id))
		}
		if d["v"] != s["v"] || d["client"] != s["client"] || d["n"] != s["n"] {
			problems = append(problems, fmt.Sprintf("%s: dst %v, src %v", id, d, s))
		}
		if d["back"] != false {
			problems = append(problems, fmt.Sprintf("%s: the handler saw its versions out of order", id))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("%d problems, e.g. %s", len(problems), strings.Join(problems[:min(5, len(problems))], "; "))
	}
	st := c.functionStats("mirror", false)
	if f := num(t, st, "execution_stats", "on_update_failure"); f != 0 {
		t.Fatalf("on_update_failure = %v", f)
	}
	if ok := num(t, st, "execution_stats", "on_update_success"); ok < float64(totalDocs) {
		t.Fatalf("on_update_success = %v, fewer than the %d documents", ok, totalDocs)
	}
}

// nOf returns the sequence number in a "c<client>-<n>" key.
func nOf(id string) int {
	var cl, n int
	fmt.Sscanf(id, "c%d-%d", &cl, &n)
	return n
}
