package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"eventide/docstore"
	"eventide/node/nodetest"
)

// BenchmarkTimerLateness: 10,000 timers created by a handler, due evenly
// over 10 s; each callback records how late it ran (its start minus its
// due time). Reports p50 and p99 lateness (target p99 ≤ 1 s; Couchbase
// fires on 7-second slots).
func BenchmarkTimerLateness(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, n)
	for _, bk := range []string{"src", "dst", "meta"} {
		a.CreateBucket(bk)
	}
	def := map[string]any{
		"appname": "timers",
		"appcode": `function OnUpdate(doc, meta) { createTimer(Fire, new Date(doc.due), meta.id, {id: meta.id, due: doc.due}); }
function Fire(ctx) { dst[ctx.id] = {late: Date.now() - ctx.due}; }`,
		"depcfg": map[string]any{
			"source_bucket": "src", "source_scope": "_default", "source_collection": "_default",
			"metadata_bucket": "meta", "metadata_scope": "_default", "metadata_collection": "_default",
			"buckets": []map[string]any{{"alias": "dst", "bucket_name": "dst", "scope_name": "_default", "collection_name": "_default", "access": "rw"}},
		},
		"settings": map[string]any{"dcp_stream_boundary": "everything", "worker_count": 2},
	}
	a.CreateFunction("timers", def)
	a.Lifecycle("timers", "deploy")
	a.WaitStatus("timers", "deployed")

	const total, spread = 10_000, 10 * time.Second
	b.ResetTimer()
	start := time.Now().Add(2 * time.Second) // the first due time, after the writes
	for from := 0; from < total; from += 1000 {
		var buf bytes.Buffer
		buf.WriteString(`{"docs":[`)
		for i := from; i < from+1000; i++ {
			if i > from {
				buf.WriteByte(',')
			}
			due := start.Add(spread * time.Duration(i) / total).UnixMilli()
			fmt.Fprintf(&buf, `{"_id":"t-%06d","due":%d}`, i, due)
		}
		buf.WriteString(`]}`)
		a.PostBulkDocs("src", buf.Bytes())
	}
	docs := n.Store().Docs()
	deadline := time.Now().Add(2 * time.Minute)
	for count(docs, "dst") < total {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d timers fired", count(docs, "dst"), total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.StopTimer()
	dst, _ := docstore.ParseKeyspace("dst")
	late := make([]float64, 0, total)
	for i := range total {
		d, err := docs.Get(dst, fmt.Sprintf("t-%06d", i))
		if err != nil {
			b.Fatal(err)
		}
		var v struct {
			Late float64 `json:"late"`
		}
		if err := json.Unmarshal(d.Body, &v); err != nil {
			b.Fatal(err)
		}
		late = append(late, v.Late)
	}
	slices.Sort(late)
	b.ReportMetric(late[len(late)/2], "p50-ms")
	b.ReportMetric(late[len(late)*99/100], "p99-ms")
	b.ReportMetric(late[len(late)-1], "max-ms")
}
