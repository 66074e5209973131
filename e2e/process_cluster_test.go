//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// clusterProc is one eventide process of a three-node cluster on its own
// loopback address with the default ports.
type clusterProc struct {
	t               *testing.T
	id, ip, dataDir string
	join            string
	secret          string // the cluster secret, in EVENTIDE_CLUSTER_SECRET
	cmd             *exec.Cmd
	done            chan error
	mgmt, ev, sg    string
}

func newClusterProc(t *testing.T, id, ip, join, secret string) *clusterProc {
	p := &clusterProc{t: t, id: id, ip: ip, join: join, secret: secret, dataDir: t.TempDir(),
		mgmt: "http://" + ip + ":8091", ev: "http://" + ip + ":8096", sg: "http://" + ip + ":4984"}
	t.Cleanup(p.kill)
	return p
}

func (p *clusterProc) start() {
	p.t.Helper()
	args := []string{"serve", "--node-id", p.id, "--data-dir", p.dataDir, "--bind-addr", p.ip,
		"--vbuckets", "64", "--failover-timeout", "3s"}
	if p.join != "" {
		args = append(args, "--join", p.join)
	}
	p.cmd = exec.Command(os.Getenv("EVENTIDE_BIN"), args...)
	p.cmd.Env = append(os.Environ(), "EVENTIDE_CLUSTER_SECRET="+p.secret)
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.id, err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait() }()
}

// kill is kill -9.
func (p *clusterProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// TestCluster_Processes is the cluster walk-through with real processes on
// 127.0.0.2-4: the second and third join the first; kill -9 of a follower
// (restarted in between) and of the leader while 12,000 documents are
// written through all three; every document is handled exactly once.
func TestCluster_Processes(t *testing.T) {
	if os.Getenv("EVENTIDE_BIN") == "" {
		t.Fatal("EVENTIDE_BIN is not set; run `make e2e`")
	}
	const secret = "the e2e cluster's shared secret"
	procs := []*clusterProc{
		newClusterProc(t, "n1", "127.0.0.2", "", secret),
		newClusterProc(t, "n2", "127.0.0.3", "127.0.0.2:7946", secret),
		newClusterProc(t, "n3", "127.0.0.4", "127.0.0.2:7946", secret),
	}
	clients := make([]*client, 3)
	for i, p := range procs {
		p.start()
		clients[i] = newClient(t, p.mgmt, p.ev, p.sg)
		clients[i].HTTP.Timeout = 10 * time.Second
	}
	waitFor(t, 60*time.Second, "three healthy nodes on every node", func() bool {
		for _, c := range clients {
			if n, _ := probeSafe(c); n != 3 {
				return false
			}
		}
		return true
	})
	for _, b := range []string{"src", "dst", "meta"} {
		clients[0].CreateBucket(b)
	}
	def := copierDefinition()
	def["appname"] = "counter"
	def["appcode"] = countingCode
	clients[0].CreateFunction("counter", def)
	clients[1].Lifecycle("counter", "deploy")
	clients[2].WaitStatus("counter", "deployed")
	if st := clients[0].Status("counter"); st.App.NumDeployedNodes != 3 {
		t.Fatalf("num_deployed_nodes %d, want 3", st.App.NumDeployedNodes)
	}

	const total = 12000
	load := startWriteLoad([]string{procs[0].sg, procs[1].sg, procs[2].sg}, "p", total, 100)
	written := &load.written
	leaderIdx := func() int {
		for {
			for i, c := range clients {
				if procs[i].cmd == nil {
					continue
				}
				if _, l := probeSafe(c); l != "" {
					for j, p := range procs {
						if p.id == l {
							return j
						}
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor(t, 60*time.Second, "3,000 documents written", func() bool { return written.Load() >= 3000 })
	f := (leaderIdx() + 1) % 3
	procs[f].kill()
	waitFor(t, 60*time.Second, "6,000 documents written", func() bool { return written.Load() >= 6000 })
	procs[f].start()
	waitFor(t, 60*time.Second, "8,000 documents written", func() bool { return written.Load() >= 8000 })
	l := leaderIdx()
	procs[l].kill()
	acked := load.wait(t)
	live := clients[(l+1)%3]
	waitFor(t, 120*time.Second, "dst to hold every document", func() bool { return len(live.AllDocs("dst")) == total })
	for _, r := range live.AllDocs("dst") {
		var d struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(r.Doc, &d); err != nil || d.N != 1 || !acked[r.ID] {
			t.Fatalf("dst %s: handled %d times (acked %v, %v), want exactly once", r.ID, d.N, acked[r.ID], err)
		}
	}
	code, text := live.Do("GET", live.Eventing+"/getAppLog?appName=counter&aggregate=true&size=8192", "", nil)
	if code != http.StatusOK || !strings.Contains(string(text), `"handled"`) {
		t.Fatalf("aggregated app log: %d %.200q", code, text)
	}

	// The killed leader restarts, rejoins, and takes vbuckets again.
	procs[l].start()
	waitFor(t, 60*time.Second, "three healthy nodes again", func() bool {
		n, _ := probeSafe(live)
		return n == 3
	})
	waitFor(t, 60*time.Second, "the restarted node to own vbuckets", func() bool {
		code, b := live.Do("GET", live.Mgmt+"/pools/default/b/src", "", nil)
		if code != http.StatusOK {
			return false
		}
		var cfg struct {
			VBSM struct {
				ServerList []string `json:"serverList"`
				VBucketMap [][]int  `json:"vBucketMap"`
			} `json:"vBucketServerMap"`
		}
		if json.Unmarshal(b, &cfg) != nil {
			return false
		}
		idx := -1
		for i, s := range cfg.VBSM.ServerList {
			if strings.HasPrefix(s, procs[l].ip+":") {
				idx = i
			}
		}
		for _, owners := range cfg.VBSM.VBucketMap {
			if len(owners) > 0 && owners[0] == idx && idx >= 0 {
				return true
			}
		}
		return false
	})
}

// probeSafe asks a node for its healthy-node count and leader, treating a
// node that does not answer as (0, "").
func probeSafe(c *client) (n int, leader string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := c.Client.Pool(ctx)
	if err != nil {
		return 0, ""
	}
	return p.Healthy(), p.RaftLeader
}
