package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eventide/node"
	"eventide/node/nodetest"
)

// countingCode counts, per source document, how often it was handled.
const countingCode = `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  dst[meta.id] = {n: prev ? prev.n + 1 : 1};
  log("handled", meta.id);
}`

// postDocs posts one _bulk_docs batch to a node without failing the test:
// it returns the ids acknowledged (created now, or already there from an
// earlier attempt whose answer was lost) and an error if the node did not
// answer.
func postDocs(hc *http.Client, base string, docs []map[string]any) ([]string, error) {
	body, _ := json.Marshal(map[string]any{"docs": docs})
	req, _ := http.NewRequest("POST", base+"/src/_bulk_docs", bytes.NewReader(body))
	req.SetBasicAuth("Administrator", "password")
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, out)
	}
	var res []struct {
		ID     string `json:"id"`
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range res {
		switch {
		case r.Error == "":
			ids = append(ids, r.ID)
		case r.Error == "conflict" && strings.Contains(r.Reason, "exists"):
			ids = append(ids, r.ID) // written by an attempt whose answer was lost
		default:
			return nil, fmt.Errorf("doc %s: %s %s", r.ID, r.Error, r.Reason)
		}
	}
	return ids, nil
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
			var pool struct {
				Nodes []struct {
					Status string `json:"status"`
				} `json:"nodes"`
			}
			if err := json.Unmarshal(c.must(http.StatusOK, "GET", c.mgmt+"/pools/default", "", nil), &pool); err != nil {
				return false
			}
			healthy := 0
			for _, nd := range pool.Nodes {
				if nd.Status == "healthy" {
					healthy++
				}
			}
			if healthy != 3 {
				return false
			}
		}
		return true
	})

	def := copierDefinition()
	def["appname"] = "counter"
	def["appcode"] = countingCode
	clients[0].createFunction("counter", def)
	clients[1].lifecycle("counter", "deploy")
	clients[2].waitStatus("counter", "deployed")
	var st struct {
		App struct {
			NumDeployedNodes int `json:"num_deployed_nodes"`
		} `json:"app"`
		NumEventingNodes int `json:"num_eventing_nodes"`
	}
	if err := json.Unmarshal(clients[2].must(http.StatusOK, "GET", clients[2].eventing+"/api/v1/status/counter", "", nil), &st); err != nil {
		t.Fatal(err)
	}
	if st.App.NumDeployedNodes != 3 || st.NumEventingNodes != 3 {
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
		return len(live.allDocs("dst")) == total
	})
	for _, r := range live.allDocs("dst") {
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
	if err := json.Unmarshal(live.must(http.StatusOK, "GET", live.eventing+"/api/v1/stats/counter", "", nil), &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats.Unreachable) != 1 || stats.Unreachable[0] != leader.Cfg.NodeID {
		t.Fatalf("stats name unreachable nodes %v, want [%s]", stats.Unreachable, leader.Cfg.NodeID)
	}

	// The aggregated application log has the handler's lines.
	code, text := live.do("GET", live.eventing+"/getAppLog?appName=counter&aggregate=true&size=8192", "", nil)
	if code != http.StatusOK || !strings.Contains(string(text), `"handled"`) {
		t.Fatalf("aggregated app log: %d %.200q", code, text)
	}

	// The killed leader restarts, rejoins and owns vbuckets again.
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
	clients[0].bulkDocs("src", docs("after", 0, 300))
	waitFor(t, 60*time.Second, "documents written after the rejoin to be handled", func() bool {
		return len(live.allDocs("dst")) == total+300
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
	hc := &http.Client{Timeout: 30 * time.Second}
	for w := range urls {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for from := range next {
				ds := docs(prefix, from, min(from+batch, total))
				for attempt := 0; ; attempt++ {
					ids, err := postDocs(hc, urls[(w+attempt)%len(urls)], ds)
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
