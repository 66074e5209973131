// Package bench measures one eventide node from the outside: bulk writes
// through the Sync Gateway API, end-to-end throughput through a copy
// handler, and the latency from a source write to its handler's
// destination write. `make bench` runs it.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"eventide/docstore"
	"eventide/internal/restclient"
	"eventide/node"
	"eventide/node/nodetest"
)

// api is the shared REST client of one node, with the benchmarks' own
// helpers as methods.
type api struct{ *restclient.T }

func newAPI(b testing.TB, n *nodetest.Node) *api {
	a := &api{restclient.NewT(b, n.URL(node.APIMgmt), n.URL(node.APIEventing), n.URL(node.APISyncGateway))}
	a.HTTP.Timeout = time.Minute
	return a
}

// post sends a _bulk_docs body to src without failing the benchmark, for
// use off the benchmark's goroutine.
func (a *api) post(body []byte) error {
	_, err := a.Client.PostBulkDocs(context.Background(), "src", body)
	return err
}

// deployCopier creates and deploys the copier function, which copies src
// to dst with workers workers, and waits until it is deployed.
func (a *api) deployCopier(workers int) {
	def := map[string]any{
		"appname": "copier",
		"appcode": "function OnUpdate(doc, meta) { dst[meta.id] = doc; }\nfunction OnDelete(meta) { delete dst[meta.id]; }",
		"depcfg": map[string]any{
			"source_bucket": "src", "source_scope": "_default", "source_collection": "_default",
			"metadata_bucket": "meta", "metadata_scope": "_default", "metadata_collection": "_default",
			"buckets": []map[string]any{{"alias": "dst", "bucket_name": "dst", "scope_name": "_default", "collection_name": "_default", "access": "rw"}},
		},
		"settings": map[string]any{"dcp_stream_boundary": "everything", "worker_count": workers},
	}
	a.CreateFunction("copier", def)
	a.Lifecycle("copier", "deploy")
	a.WaitStatus("copier", "deployed")
}

// bulkBody returns a _bulk_docs body of n ~200-byte documents.
func bulkBody(prefix string, from, n int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"docs":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"_id":"%s-%08d","n":%d,"name":"customer %d","city":"Lyon","tags":["a","b","c"],"balance":%d.25,"active":true,"note":"the quick brown fox jumps over the lazy dog"}`,
			prefix, from+i, from+i, from+i, from+i)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// load writes total docs with `clients` concurrent clients in batches of
// batch docs, and returns the elapsed time.
func (a *api) load(prefix string, total, batch, clients int) time.Duration {
	var wg sync.WaitGroup
	next := make(chan int, total/batch+1)
	for i := 0; i < total; i += batch {
		next <- i
	}
	close(next)
	// The writers report errors here: only the benchmark's goroutine may
	// fail it.
	errs := make(chan error, clients)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := range next {
				if err := a.post(bulkBody(prefix, from, min(batch, total-from))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		a.TB.Fatal(err)
	}
	return elapsed
}

func count(d *docstore.Store, ks string) int {
	k, _ := docstore.ParseKeyspace(ks)
	docs, err := d.AllDocs(k, uint32(time.Now().Unix()), docstore.AllDocsOptions{})
	if err != nil {
		return 0
	}
	return len(docs)
}

// BenchmarkBulkDocs: documents/s written through _bulk_docs (target ≥ 20,000).
func BenchmarkBulkDocs(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, n)
	a.CreateBucket("src")
	const total = 200_000
	b.ResetTimer()
	el := a.load("bulk", total, 1000, 4)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "docs/s")
}

// BenchmarkCopyHandler: end-to-end mutations/s from source writes to the
// copy handler's destination writes (target ≥ 10,000).
func BenchmarkCopyHandler(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, n)
	for _, bk := range []string{"src", "dst", "meta"} {
		a.CreateBucket(bk)
	}
	a.deployCopier(2)
	docs := n.Store().Docs()
	const total = 100_000
	b.ResetTimer()
	start := time.Now()
	a.load("e2e", total, 1000, 4)
	for count(docs, "dst") < total {
		time.Sleep(20 * time.Millisecond)
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("only %d of %d documents copied", count(docs, "dst"), total)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "mutations/s")
}

// BenchmarkCopyLatency: the time from a source document's write to its
// copy's write (CAS to CAS), at a steady 5,000 writes/s (half the end-to-end
// target), as p50 and p99 (target p99 ≤ 50 ms).
func BenchmarkCopyLatency(b *testing.B) {
	n := nodetest.NewNode(b, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, n)
	for _, bk := range []string{"src", "dst", "meta"} {
		a.CreateBucket(bk)
	}
	a.deployCopier(2)
	docs := n.Store().Docs()
	const rate, seconds, batch = 5000, 10, 50 // 100 batches/s of 50 docs
	total := rate * seconds
	b.ResetTimer()
	tick := time.NewTicker(time.Second * batch / rate)
	var wg sync.WaitGroup
	errs := make(chan error, total/batch)
	for from := 0; from < total; from += batch {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.post(bulkBody("lat", from, batch)); err != nil {
				errs <- err
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for count(docs, "dst") < total {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d documents copied", count(docs, "dst"), total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	src, _ := docstore.ParseKeyspace("src")
	dst, _ := docstore.ParseKeyspace("dst")
	lat := make([]time.Duration, 0, total)
	for i := 0; i < total; i++ {
		id := fmt.Sprintf("lat-%08d", i)
		s, err1 := docs.Get(src, id)
		d, err2 := docs.Get(dst, id)
		if err1 != nil || err2 != nil {
			b.Fatalf("doc %s: %v %v", id, err1, err2)
		}
		lat = append(lat, time.Duration(int64(d.CAS)-int64(s.CAS)))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
