package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"eventide/node"
	"eventide/node/nodetest"
)

// copierCode is the README's handler: it copies each source document into
// dst, counting how often it handled the document, and removes the copy
// when the source document is deleted.
const copierCode = `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  dst[meta.id] = {doc: doc, handled: prev ? prev.handled + 1 : 1};
  log("copied", meta.id);
}
function OnDelete(meta, options) {
  delete dst[meta.id];
}`

func copierDefinition() map[string]any {
	return map[string]any{
		"appname": "copier",
		"appcode": copierCode,
		"depcfg": map[string]any{
			"source_bucket": "src", "source_scope": "_default", "source_collection": "_default",
			"metadata_bucket": "meta", "metadata_scope": "_default", "metadata_collection": "_default",
			"buckets": []map[string]any{{
				"alias": "dst", "bucket_name": "dst", "scope_name": "_default",
				"collection_name": "_default", "access": "rw",
			}},
		},
		"settings": map[string]any{"dcp_stream_boundary": "everything", "worker_count": 2},
	}
}

// walkthrough is the README's walk-through; restart restarts the node.
func walkthrough(t *testing.T, c *client, restart func()) {
	for _, b := range []string{"src", "dst", "meta"} {
		c.CreateBucket(b)
	}
	c.CreateFunction("copier", copierDefinition())
	c.Lifecycle("copier", "deploy")
	c.WaitStatus("copier", "deployed")

	revs := c.BulkDocs("src", docs("doc", 0, 2000))
	if len(revs) != 2000 {
		t.Fatalf("bulk load wrote %d docs, want 2000", len(revs))
	}
	waitCount(t, c, "dst", 2000)

	var deletes []map[string]any
	for i := 0; i < 100; i++ {
		id := fmt.Sprintf("doc%05d", i)
		deletes = append(deletes, map[string]any{"_id": id, "_rev": revs[id], "_deleted": true})
	}
	c.BulkDocs("src", deletes)
	waitCount(t, c, "dst", 1900)

	c.Lifecycle("copier", "pause")
	c.WaitStatus("copier", "paused")
	c.BulkDocs("src", docs("paused", 0, 300))
	holdsFor(t, time.Second, "dst unchanged while paused", func() bool { return len(c.AllDocs("dst")) == 1900 })

	c.Lifecycle("copier", "resume")
	c.WaitStatus("copier", "deployed")
	waitCount(t, c, "dst", 2200)

	restart()
	c.WaitStatus("copier", "deployed")
	c.BulkDocs("src", docs("after", 0, 200))
	waitCount(t, c, "dst", 2400)

	// Every source document was handled exactly once.
	src := c.AllDocs("src")
	dst := c.AllDocs("dst")
	if len(src) != 2400 || len(dst) != 2400 {
		t.Fatalf("src has %d docs, dst %d; want 2400 each", len(src), len(dst))
	}
	for _, r := range dst {
		var d struct {
			Handled int `json:"handled"`
		}
		if err := json.Unmarshal(r.Doc, &d); err != nil {
			t.Fatalf("dst doc %s: %v", r.ID, err)
		}
		if d.Handled != 1 {
			t.Fatalf("dst doc %s handled %d times, want exactly once", r.ID, d.Handled)
		}
	}
	// The application log has the handler's lines.
	code, logText := c.Do(http.MethodGet, c.Eventing+"/getAppLog?appName=copier&size=4096", "", nil)
	if code != http.StatusOK || len(logText) == 0 {
		t.Fatalf("getAppLog: status %d, body %q", code, logText)
	}
}

func waitCount(t *testing.T, c *client, ks string, want int) {
	t.Helper()
	var got int
	waitFor(t, 60*time.Second, fmt.Sprintf("%s to hold %d docs", ks, want), func() bool {
		got = len(c.AllDocs(ks))
		return got == want
	})
}

func TestWalkthrough_InProcess(t *testing.T) {
	n := nodetest.NewNode(t, nodetest.Options{})
	c := newClient(t, n.URL(node.APIMgmt), n.URL(node.APIEventing), n.URL(node.APISyncGateway))
	walkthrough(t, c, n.Restart)
}
