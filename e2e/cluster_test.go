package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/node"
	"eventide/node/nodetest"
)

// countingCode counts, per source document, how often it was handled.
const countingCode = `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  dst[meta.id] = {n: prev ? prev.n + 1 : 1};
  log("handled", meta.id);
}`

// syncGWWriter returns a client of a node's Sync Gateway API (base URL
// syncgw) whose requests give up after timeout, for writers that do not
// fail the test: a node that is down just does not answer.
func syncGWWriter(syncgw string, timeout time.Duration) *restclient.Client {
	c := restclient.New("", "", syncgw)
	c.HTTP.Timeout = timeout
	return c
}

// TestCluster_ExactlyOnceThroughKills is the cluster's acceptance scenario:
// three nodes, a function created on one and deployed through another runs
// on all three; 12,000 documents are written through every node while a
// follower is killed and restarted and then the leader is killed; every
// document is handled exactly once, and the killed leader rejoins and takes
// vbuckets again.
func TestCluster_ExactlyOnceThroughKills(t *testing.T) {
	cl := nodetest.NewCluster(t, 3, nodetest.Options{VBuckets: 64, FailoverTimeout: 2 * time.Second})
	clients := clusterClients(t, cl, "src", "dst", "meta")
	waitFor(t, 20*time.Second, "every node to list 3 healthy nodes", func() bool {
		for _, c := range clients {
			if c.Pool().Healthy() != 3 {
				return false
			}
		}
		return true
	})

	def := copierDefinition()
	def["appname"] = "counter"
	def["appcode"] = countingCode
	clients[0].CreateFunction("counter", def)
	clients[1].Lifecycle("counter", "deploy")
	clients[2].WaitStatus("counter", "deployed")
	if st := clients[2].Status("counter"); st.App.NumDeployedNodes != 3 || st.NumEventingNodes != 3 {
		t.Fatalf("status: %d deployed nodes of %d eventing nodes, want 3 of 3", st.App.NumDeployedNodes, st.NumEventingNodes)
	}

	// Ports survive restarts, so the writers keep these URLs and simply get
	// connection errors from a node that is down.
	sgURLs := make([]string, 3)
	for i, n := range cl.Nodes {
		sgURLs[i] = n.URL(node.APISyncGateway)
	}
	const total = 12000
	load := startWriteLoad(sgURLs, "c", total, 100)
	written := &load.written

	waitFor(t, 60*time.Second, "3,000 documents written", func() bool { return written.Load() >= 3000 })
	follower := cl.Followers()[0]
	follower.Kill()
	waitFor(t, 60*time.Second, "6,000 documents written", func() bool { return written.Load() >= 6000 })
	follower.Start()
	waitFor(t, 60*time.Second, "8,000 documents written", func() bool { return written.Load() >= 8000 })
	leader := cl.Leader()
	leader.Kill()
	acked := load.wait(t)
	if len(acked) != total {
		t.Fatalf("%d documents acknowledged, want %d", len(acked), total)
	}

	// Every acknowledged document reaches dst, handled exactly once.
	var live *client
	for i, n := range cl.Nodes {
		if n.Running() {
			live = clients[i]
		}
	}
	waitFor(t, 90*time.Second, "dst to hold every document", func() bool {
		return len(live.AllDocs("dst")) == total
	})
	for _, r := range live.AllDocs("dst") {
		var d struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(r.Doc, &d); err != nil || d.N != 1 {
			t.Fatalf("dst %s: handled %d times (%v), want exactly once", r.ID, d.N, err)
		}
		if !acked[r.ID] {
			t.Fatalf("dst %s was never acknowledged as written", r.ID)
		}
	}

	// Cluster-wide stats name the node that cannot answer.
	var stats struct {
		Unreachable []string `json:"unreachable_nodes"`
	}
	if err := json.Unmarshal(live.Must(http.StatusOK, "GET", live.Eventing+"/api/v1/stats/counter", "", nil), &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats.Unreachable) != 1 || stats.Unreachable[0] != leader.Cfg.NodeID {
		t.Fatalf("stats name unreachable nodes %v, want [%s]", stats.Unreachable, leader.Cfg.NodeID)
	}

	// The aggregated application log has the handler's lines.
	code, text := live.Do("GET", live.Eventing+"/getAppLog?appName=counter&aggregate=true&size=8192", "", nil)
	if code != http.StatusOK || !strings.Contains(string(text), `"handled"`) {
		t.Fatalf("aggregated app log: %d %.200q", code, text)
	}

	// The killed leader restarts, rejoins and owns vbuckets again.
	waitFailedOver(t, cl, clients, leader, 30*time.Second)
	leader.Start()
	waitFor(t, 60*time.Second, "the restarted node to own vbuckets", func() bool {
		m := leader.Store().VBMap()
		owned := 0
		for _, o := range m.Owners {
			if o == leader.ID() {
				owned++
			}
		}
		return owned > 0
	})
	clients[0].BulkDocs("src", docs("after", 0, 300))
	waitFor(t, 60*time.Second, "documents written after the rejoin to be handled", func() bool {
		return len(live.AllDocs("dst")) == total+300
	})
}

// writeLoad is a set of writers, one per Sync Gateway URL, posting
// _bulk_docs batches; a batch a node does not answer is retried on the
// next URL.
type writeLoad struct {
	written atomic.Int64
	mu      sync.Mutex
	acked   map[string]bool
	wg      sync.WaitGroup
	errs    chan error
}

// startWriteLoad starts writing total documents named prefix+number in
// batches of batch.
func startWriteLoad(urls []string, prefix string, total, batch int) *writeLoad {
	l := &writeLoad{acked: make(map[string]bool), errs: make(chan error, len(urls))}
	next := make(chan int, total/batch+1)
	for i := 0; i < total; i += batch {
		next <- i
	}
	close(next)
	writers := make([]*restclient.Client, len(urls))
	for i, u := range urls {
		writers[i] = syncGWWriter(u, 30*time.Second)
	}
	for w := range urls {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for from := range next {
				ds := docs(prefix, from, min(from+batch, total))
				for attempt := 0; ; attempt++ {
					ids, err := writers[(w+attempt)%len(urls)].WriteBatch(context.Background(), "src", ds)
					if err == nil {
						l.mu.Lock()
						for _, id := range ids {
							l.acked[id] = true
						}
						l.mu.Unlock()
						l.written.Add(int64(len(ids)))
						break
					}
					if attempt > 300 {
						l.errs <- fmt.Errorf("batch %d never written: %v", from, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	return l
}

// wait waits for the writers and returns the acknowledged ids.
func (l *writeLoad) wait(t *testing.T) map[string]bool {
	t.Helper()
	l.wg.Wait()
	close(l.errs)
	for err := range l.errs {
		t.Fatal(err)
	}
	return l.acked
}
