package bench

import (
	"fmt"
	"testing"
	"time"

	"eventide/docstore"
	"eventide/node/nodetest"
)

// BenchmarkClusterCopyHandler: end-to-end mutations/s through the copy
// handler on a 3-node in-process cluster, writes spread over all nodes
// (target ≥ 5,000 exactly once).
func BenchmarkClusterCopyHandler(b *testing.B) {
	cl := nodetest.NewCluster(b, 3, nodetest.Options{VBuckets: 1024})
	apis := make([]*api, 3)
	for i, n := range cl.Nodes {
		apis[i] = newAPI(b, n)
	}
	for _, bk := range []string{"src", "dst", "meta"} {
		apis[0].CreateBucket(bk)
	}
	apis[1].deployCopier(2)
	docs := cl.Nodes[2].Store().Docs()
	const total, batch = 60_000, 500
	b.ResetTimer()
	start := time.Now()
	next := make(chan int, total/batch)
	for i := 0; i < total; i += batch {
		next <- i
	}
	close(next)
	done := make(chan error, 6)
	for w := range 6 {
		go func() {
			a := apis[w%3]
			for from := range next {
				if err := a.post(bulkBody("cl", from, batch)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 6 {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	for count(docs, "dst") < total {
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("only %d of %d documents copied", count(docs, "dst"), total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/el.Seconds(), "mutations/s")
}

// BenchmarkFailover: the time from kill -9 (an abrupt stop) of a node to
// its vbuckets processing again on the survivors, with the default 5s
// failover timeout (target ≤ 8s).
func BenchmarkFailover(b *testing.B) {
	cl := nodetest.NewCluster(b, 3, nodetest.Options{VBuckets: 1024})
	a := newAPI(b, cl.Nodes[0])
	for _, bk := range []string{"src", "dst", "meta"} {
		a.CreateBucket(bk)
	}
	a.deployCopier(2)
	victim := cl.Followers()[0]
	survivor := cl.Leader()
	sa := newAPI(b, survivor)
	// Keys whose vbuckets the victim owns.
	m := survivor.Store().VBMap()
	var keys []string
	for i := 0; len(keys) < 400; i++ {
		k := fmt.Sprintf("fo-%06d", i)
		if m.Owners[docstore.VBucketOf(k, 1024)] == victim.ID() {
			keys = append(keys, k)
		}
	}
	dst, _ := docstore.ParseKeyspace("dst")
	docs := survivor.Store().Docs()
	b.ResetTimer()
	killed := time.Now()
	victim.Kill()
	// Keep writing the victim's keys, one every 25ms, until one of them is
	// handled on a survivor.
	for i, k := range keys {
		body := fmt.Sprintf(`{"docs":[{"_id":%q,"n":%d}]}`, k, i)
		if err := sa.post([]byte(body)); err != nil {
			b.Fatal(err)
		}
		for _, prev := range keys[:i+1] {
			if d, err := docs.Get(dst, prev); err == nil && d.Live(uint32(time.Now().Unix())) {
				b.StopTimer()
				// The copy's CAS is the time its write was decided.
				b.ReportMetric(time.Duration(int64(d.CAS)-killed.UnixNano()).Seconds(), "failover-s")
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	b.Fatalf("the victim's vbuckets were not processed again within %v", time.Since(killed))
}
