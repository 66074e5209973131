package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/internal/testzip"
	"eventide/node"
	"eventide/node/nodetest"
)

// BenchmarkCronLateness: 200 one-shot Qinling jobs on a 3-node cluster,
// due over 20 s, through a follower; the leader is killed 8 s in. Each
// firing runs a JavaScript function that returns Date.now(); its lateness
// is that minus the job's due second. Every job must fire exactly once
// (no firing lost or doubled across the kill). Reports p50, p99 and max
// lateness of all firings, and p99 of those due before the kill (target
// p99 ≤ 1 s; the firings due while the cluster elects a leader come late
// by the election).
func BenchmarkCronLateness(b *testing.B) {
	cl := nodetest.NewCluster(b, 3, nodetest.Options{QinlingJobMinLead: time.Second, FailoverTimeout: 2 * time.Second})
	leader := cl.Leader()
	var via *nodetest.Node
	for _, n := range cl.Nodes {
		if n != leader {
			via = n
			break
		}
	}
	q := &qinlingClient{b: b, base: via.URL(node.APIQinling)}
	rt := q.call("POST", "/v1/runtimes", "application/json", strings.NewReader(`{"name":"nodejs","image":"openstackqinling/nodejs-runtime"}`), http.StatusCreated)
	ctype, form := restclient.FunctionForm("now", rt["id"].(string), "now.main",
		testzip.Of(map[string]string{"now.js": `exports.main = () => Date.now()`}), nil)
	fn := q.call("POST", "/v1/functions", ctype, form, http.StatusCreated)["id"].(string)

	const total, spread = 200, 20 * time.Second
	b.ResetTimer()
	start := time.Now().UTC().Truncate(time.Second).Add(5 * time.Second)
	due := make(map[string]time.Time, total)
	for i := range total {
		t := start.Add(spread * time.Duration(i) / total).Truncate(time.Second)
		j := q.call("POST", "/v1/jobs", "application/json", strings.NewReader(
			fmt.Sprintf(`{"function_id":%q,"first_execution_time":%q}`, fn, t.Format("2006-01-02 15:04:05"))), http.StatusCreated)
		due[j["id"].(string)] = t
	}
	kill := start.Add(8 * time.Second)
	time.Sleep(time.Until(kill))
	leader.Kill()

	type firing struct {
		late time.Duration
		due  time.Time
	}
	var fired []firing
	deadline := time.Now().Add(2 * time.Minute)
	for {
		fired = fired[:0]
		counts := map[string]int{}
		pending := 0
		for _, e := range q.call("GET", "/v1/executions", "", nil, http.StatusOK)["executions"].([]any) {
			ex := e.(map[string]any)
			id := strings.TrimPrefix(fmt.Sprint(ex["description"]), "Created by Job ")
			d, ok := due[id]
			if !ok {
				continue
			}
			counts[id]++
			if ex["status"] == "running" {
				pending++
				continue
			}
			var res struct {
				Output float64 `json:"output"`
			}
			if ex["status"] != "success" || json.Unmarshal([]byte(fmt.Sprint(ex["result"])), &res) != nil {
				b.Fatalf("firing of job %s: %v", id, ex)
			}
			fired = append(fired, firing{time.UnixMilli(int64(res.Output)).Sub(d), d})
		}
		for id, n := range counts {
			if n > 1 {
				b.Fatalf("job %s fired %d times", id, n)
			}
		}
		if len(counts) == total && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d jobs fired (%d running)", len(counts), total, pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var all, before []float64
	for _, f := range fired {
		all = append(all, ms(f.late))
		if f.due.Before(kill) {
			before = append(before, ms(f.late))
		}
	}
	slices.Sort(all)
	slices.Sort(before)
	b.ReportMetric(all[len(all)/2], "p50-ms")
	b.ReportMetric(all[len(all)*99/100], "p99-ms")
	b.ReportMetric(all[len(all)-1], "max-ms")
	b.ReportMetric(before[len(before)*99/100], "p99-before-kill-ms")
}

// qinlingClient calls a node's Qinling API as the administrator.
type qinlingClient struct {
	b    *testing.B
	base string
}

func (q *qinlingClient) call(method, path, ctype string, body io.Reader, status int) map[string]any {
	q.b.Helper()
	req, err := http.NewRequest(method, q.base+path, body)
	if err != nil {
		q.b.Fatal(err)
	}
	req.SetBasicAuth("Administrator", "password")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		q.b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		q.b.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		q.b.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return m
}

// callErr is call for other goroutines than the benchmark's: it returns
// what went wrong instead of failing.
func (q *qinlingClient) callErr(method, path, ctype string, body io.Reader) error {
	req, err := http.NewRequest(method, q.base+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth("Administrator", "password")
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(raw, []byte(`"success"`)) {
		return fmt.Errorf("%s %s: %d: %s", method, path, resp.StatusCode, raw)
	}
	return nil
}
