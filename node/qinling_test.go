package node_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/internal/testzip"
	"eventide/node"
	"eventide/node/nodetest"
	"eventide/qinling/containers/containerstest"
)

// TestNode_QinlingPort shows the Qinling listener wired: the version
// document without credentials, a Keystone token from the node whose
// catalog names the node's own Qinling URL, and that token accepted by
// the API while a request without credentials is refused.
func TestNode_QinlingPort(t *testing.T) {
	n := nodetest.NewNode(t, nodetest.Options{})
	base := n.URL(node.APIQinling)

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	var versions struct {
		Versions []struct {
			ID, Status string
		} `json:"versions"`
	}
	decode(t, resp, http.StatusOK, &versions)
	if len(versions.Versions) != 1 || versions.Versions[0].ID != "v1.0" || versions.Versions[0].Status != "CURRENT" {
		t.Fatalf("GET / = %+v, want v1.0 CURRENT", versions)
	}

	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"Administrator","password":"password","domain":{"name":"Default"}}}},
		"scope":{"project":{"name":"demo","domain":{"name":"Default"}}}}}`
	resp, err = http.Post(base+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tok := resp.Header.Get("X-Subject-Token")
	var issued struct {
		Token struct {
			Project struct{ Name string } `json:"project"`
			Catalog []struct {
				Type      string `json:"type"`
				Endpoints []struct {
					Interface, URL string
				} `json:"endpoints"`
			} `json:"catalog"`
		} `json:"token"`
	}
	decode(t, resp, http.StatusCreated, &issued)
	if tok == "" || issued.Token.Project.Name != "demo" {
		t.Fatalf("token %q for project %q, want a token for demo", tok, issued.Token.Project.Name)
	}
	found := false
	for _, svc := range issued.Token.Catalog {
		if svc.Type != "function-engine" {
			continue
		}
		for _, ep := range svc.Endpoints {
			found = true
			if ep.URL != base {
				t.Errorf("function-engine %s endpoint %s, want %s", ep.Interface, ep.URL, base)
			}
		}
	}
	if !found {
		t.Fatalf("catalog has no function-engine endpoint: %+v", issued.Token.Catalog)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/v1/runtimes", nil)
	req.Header.Set("X-Auth-Token", tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var runtimes map[string]json.RawMessage
	decode(t, resp, http.StatusOK, &runtimes)
	if _, ok := runtimes["runtimes"]; !ok {
		t.Fatalf("GET /v1/runtimes = %v, want a runtimes list", runtimes)
	}

	// The JavaScript engine is wired: a Node.js function runs.
	rt := do(t, http.MethodPost, base+"/v1/runtimes", tok, "application/json",
		strings.NewReader(`{"name":"nodejs","image":"openstackqinling/nodejs-runtime"}`), http.StatusCreated)
	ctype, form := restclient.FunctionForm("hello", rt["id"].(string), "hello.main",
		testzip.Of(map[string]string{"hello.js": `exports.main = (context, input) => "hello " + input.name`}), nil)
	fn := do(t, http.MethodPost, base+"/v1/functions", tok, ctype, form, http.StatusCreated)
	ex := do(t, http.MethodPost, base+"/v1/executions", tok, "application/json",
		strings.NewReader(`{"function_id":"`+fn["id"].(string)+`","input":"{\"name\": \"node\"}","sync":true}`), http.StatusCreated)
	if ex["status"] != "success" || !strings.Contains(ex["result"].(string), `"output": "hello node"`) && !strings.Contains(ex["result"].(string), `"output":"hello node"`) {
		t.Fatalf("execution of a Node.js function: %v", ex)
	}

	resp, err = http.Get(base + "/v1/runtimes")
	if err != nil {
		t.Fatal(err)
	}
	var fault struct {
		FaultCode string `json:"faultcode"`
	}
	decode(t, resp, http.StatusUnauthorized, &fault)
	if fault.FaultCode != "Client" {
		t.Fatalf("401 body faultcode %q, want Client", fault.FaultCode)
	}
}

// do sends a request with the token and decodes the JSON object answered
// with status.
func do(t *testing.T, method, url, tok, ctype string, body io.Reader, status int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	decode(t, resp, status, &m)
	return m
}

// decode checks resp's status and decodes its JSON body into v.
func decode(t *testing.T, resp *http.Response, status int, v any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s %s: %v: %s", resp.Request.Method, resp.Request.URL, err, b)
	}
}

// TestNode_QinlingRunLostInCrash shows an execution at most once across a
// crash: an asynchronous run still going when its node is killed ends
// "failed" with the reason once the node is back, and is not run again.
// The node is a follower whose restart is quicker than the failover
// timeout, so the leader still counts it as live: the node itself must
// fail its lost runs.
func TestNode_QinlingRunLostInCrash(t *testing.T) {
	c := nodetest.NewCluster(t, 3, nodetest.Options{FailoverTimeout: time.Minute})
	c.Leader()
	f := c.Followers()[0]
	base := f.URL(node.APIQinling)
	tok := token(t, base)
	rt := do(t, http.MethodPost, base+"/v1/runtimes", tok, "application/json",
		strings.NewReader(`{"name":"nodejs","image":"openstackqinling/nodejs-runtime"}`), http.StatusCreated)
	ctype, form := restclient.FunctionForm("spin", rt["id"].(string), "spin.main",
		testzip.Of(map[string]string{"spin.js": `exports.main = () => { for (;;) {} }`}), map[string]string{"timeout": "300"})
	fn := do(t, http.MethodPost, base+"/v1/functions", tok, ctype, form, http.StatusCreated)
	ex := do(t, http.MethodPost, base+"/v1/executions", tok, "application/json",
		strings.NewReader(`{"function_id":"`+fn["id"].(string)+`","sync":false}`), http.StatusCreated)
	if ex["status"] != "running" {
		t.Fatalf("async execution: %v", ex)
	}
	f.Kill()
	f.Start()
	var got map[string]any
	nodetest.WaitFor(t, 30*time.Second, "the lost execution failed", func() bool {
		got = do(t, http.MethodGet, base+"/v1/executions/"+ex["id"].(string), tok, "", nil, http.StatusOK)
		return got["status"] != "running"
	})
	if got["status"] != "failed" || !strings.Contains(got["result"].(string), "restarted") {
		t.Fatalf("execution after the crash: %v", got)
	}
}

// token issues a Keystone token for the administrator in project demo.
func token(t *testing.T, base string) string {
	t.Helper()
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"Administrator","password":"password","domain":{"name":"Default"}}}},
		"scope":{"project":{"name":"demo","domain":{"name":"Default"}}}}}`
	resp, err := http.Post(base+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("token: status %d", resp.StatusCode)
	}
	return resp.Header.Get("X-Subject-Token")
}

// TestNode_QinlingJobAcrossLeaderKill: a one-shot job due while the
// cluster has no leader (its leader was killed a second before) fires
// exactly once, on the new leader, and its execution succeeds.
func TestNode_QinlingJobAcrossLeaderKill(t *testing.T) {
	c := nodetest.NewCluster(t, 3, nodetest.Options{QinlingJobMinLead: time.Second, FailoverTimeout: 2 * time.Second})
	leader := c.Leader()
	var via *nodetest.Node
	for _, n := range c.Nodes {
		if n != leader {
			via = n
			break
		}
	}
	base := via.URL(node.APIQinling)
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"Administrator","password":"password","domain":{"name":"Default"}}}},
		"scope":{"project":{"name":"demo","domain":{"name":"Default"}}}}}`
	resp, err := http.Post(base+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tok := resp.Header.Get("X-Subject-Token")
	var issued map[string]any
	decode(t, resp, http.StatusCreated, &issued)

	rt := do(t, http.MethodPost, base+"/v1/runtimes", tok, "application/json",
		strings.NewReader(`{"name":"nodejs","image":"openstackqinling/nodejs-runtime"}`), http.StatusCreated)
	ctype, form := restclient.FunctionForm("hello", rt["id"].(string), "hello.main",
		testzip.Of(map[string]string{"hello.js": `exports.main = (context, input) => "hello " + input.name`}), nil)
	fn := do(t, http.MethodPost, base+"/v1/functions", tok, ctype, form, http.StatusCreated)

	due := time.Now().UTC().Truncate(time.Second).Add(4 * time.Second)
	job := do(t, http.MethodPost, base+"/v1/jobs", tok, "application/json", strings.NewReader(
		`{"function_id":"`+fn["id"].(string)+`","first_execution_time":"`+due.Format("2006-01-02 15:04:05")+`","function_input":"{\"name\": \"cron\"}"}`),
		http.StatusCreated)
	id := job["id"].(string)
	time.Sleep(time.Until(due.Add(-time.Second)))
	leader.Kill()

	runs := func() []any {
		l := do(t, http.MethodGet, base+"/v1/executions", tok, "", nil, http.StatusOK)
		var mine []any
		for _, e := range l["executions"].([]any) {
			if e.(map[string]any)["description"] == "Created by Job "+id {
				mine = append(mine, e)
			}
		}
		return mine
	}
	nodetest.WaitFor(t, 30*time.Second, "the job's execution to succeed", func() bool {
		es := runs()
		return len(es) == 1 && es[0].(map[string]any)["status"] == "success"
	})
	got := do(t, http.MethodGet, base+"/v1/jobs/"+id, tok, "", nil, http.StatusOK)
	if got["status"] != "done" || got["count"] != 0.0 {
		t.Fatalf("job after its firing: %v", got)
	}
	// No second firing arrives later (a leader that lost the race, or a
	// replayed one).
	time.Sleep(3 * time.Second)
	es := runs()
	if len(es) != 1 {
		t.Fatalf("%d executions of a one-shot job, want 1: %v", len(es), es)
	}
	e := es[0].(map[string]any)
	if !strings.Contains(e["result"].(string), "hello cron") {
		t.Fatalf("execution %v", e)
	}
	created, err := time.Parse("2006-01-02 15:04:05", e["created_at"].(string))
	if err != nil || created.Before(due) {
		t.Fatalf("fired at %v (%v), due %s: never early", e["created_at"], err, due)
	}
	// The execution's record names the node that ran it: not the dead one.
	rec, err := via.Store().Record("qinling.executions", e["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var ran struct {
		NodeID string `json:"node_id"`
	}
	if err := json.Unmarshal(rec.Body, &ran); err != nil || ran.NodeID == "" || ran.NodeID == leader.Cfg.NodeID {
		t.Fatalf("ran on %q (%v); the killed leader was %s", ran.NodeID, err, leader.Cfg.NodeID)
	}
	t.Logf("due %s, fired %s by %s, the new leader after %s was killed", due.Format(time.TimeOnly), created.Format(time.TimeOnly), ran.NodeID, leader.Cfg.NodeID)
}

// TestNode_QinlingImageFunction shows the container engine wired: on a
// node started with a Docker host an image function is created and its
// execution runs the image with the input as arguments, its stdout the
// output; a node without one refuses image functions with a 400.
func TestNode_QinlingImageFunction(t *testing.T) {
	image := containerstest.BuildImage(t)
	imageForm := func() (string, *bytes.Buffer) {
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		_ = mw.WriteField("name", "img")
		_ = mw.WriteField("code", `{"source": "image", "image": "`+image+`"}`)
		_ = mw.WriteField("timeout", "20")
		_ = mw.Close()
		return mw.FormDataContentType(), &form
	}

	n := nodetest.NewNode(t, nodetest.Options{DockerHost: containerstest.Host()})
	base := n.URL(node.APIQinling)
	tok := token(t, base)
	ctype, form := imageForm()
	fn := do(t, http.MethodPost, base+"/v1/functions", tok, ctype, form, http.StatusCreated)
	ex := do(t, http.MethodPost, base+"/v1/executions", tok, "application/json",
		strings.NewReader(`{"function_id":"`+fn["id"].(string)+`","input":"{\"who\": \"docker\"}","sync":true}`), http.StatusCreated)
	if ex["status"] != "success" || !strings.Contains(strings.ReplaceAll(ex["result"].(string), " ", ""), `"output":["--who=docker"]`) {
		t.Fatalf("execution of an image function: %v", ex)
	}

	plain := nodetest.NewNode(t, nodetest.Options{})
	pbase := plain.URL(node.APIQinling)
	ctype, form = imageForm()
	refused := do(t, http.MethodPost, pbase+"/v1/functions", token(t, pbase), ctype, form, http.StatusBadRequest)
	if msg, _ := refused["faultstring"].(string); !strings.Contains(msg, "--docker-host") {
		t.Fatalf("image function on a node without Docker: %v", refused)
	}
}

// TestNode_QinlingWorkersAcrossNodes: a function warmed on two nodes (one
// execution through each) lists both nodes' warm workers through a third,
// each named by its node; a node cut off from the others is left out of
// the list, which still answers.
func TestNode_QinlingWorkersAcrossNodes(t *testing.T) {
	c := nodetest.NewCluster(t, 3, nodetest.Options{})
	c.Leader()
	n1, n2, n3 := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	base := n3.URL(node.APIQinling)
	tok := token(t, base)
	rt := do(t, http.MethodPost, base+"/v1/runtimes", tok, "application/json",
		strings.NewReader(`{"name":"nodejs","image":"openstackqinling/nodejs-runtime"}`), http.StatusCreated)
	ctype, form := restclient.FunctionForm("hello", rt["id"].(string), "hello.main",
		testzip.Of(map[string]string{"hello.js": `exports.main = () => "warm"`}), nil)
	id := do(t, http.MethodPost, base+"/v1/functions", tok, ctype, form, http.StatusCreated)["id"].(string)

	for _, n := range []*nodetest.Node{n1, n2} {
		nb := n.URL(node.APIQinling)
		// The function reaches the node's replica first.
		nodetest.WaitFor(t, 10*time.Second, "the function on "+n.Cfg.NodeID, func() bool {
			req, _ := http.NewRequest(http.MethodGet, nb+"/v1/functions/"+id, nil)
			req.Header.Set("X-Auth-Token", tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		ex := do(t, http.MethodPost, nb+"/v1/executions", tok, "application/json",
			strings.NewReader(`{"function_id":"`+id+`","sync":true}`), http.StatusCreated)
		if ex["status"] != "success" {
			t.Fatalf("execution through %s: %v", n.Cfg.NodeID, ex)
		}
	}

	// workers lists through n3, by node.
	workers := func() map[string][]string {
		t.Helper()
		l := do(t, http.MethodGet, base+"/v1/functions/"+id+"/workers", tok, "", nil, http.StatusOK)
		byNode := map[string][]string{}
		for _, w := range l["workers"].([]any) {
			w := w.(map[string]any)
			if w["function_id"] != id || w["function_version"] != 0.0 {
				t.Fatalf("worker %v", w)
			}
			node, name, ok := strings.Cut(w["worker_name"].(string), "/")
			if !ok || name == "" {
				t.Fatalf("worker name %q does not say its node", w["worker_name"])
			}
			byNode[node] = append(byNode[node], name)
		}
		return byNode
	}
	got := workers()
	if len(got["n1"]) == 0 || len(got["n2"]) == 0 || len(got["n3"]) != 0 || len(got) != 2 {
		t.Fatalf("workers by node %v, want n1's and n2's only", got)
	}

	// Cut n2 off: n3 still answers, without it.
	c.Partition([]int{0, 2}, []int{1})
	got = workers()
	if len(got["n1"]) == 0 || len(got["n2"]) != 0 {
		t.Fatalf("workers with n2 cut off: %v, want n1's only", got)
	}
}
