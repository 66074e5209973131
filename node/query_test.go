package node_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/node"
	"eventide/node/nodetest"
)

// TestNode_QueryLibrariesReplicated shows the query port wired on every
// node: a library written through a follower (its write forwarded to the
// leader) is listed at once by the leader, in both API forms, and a
// scoped library written through the leader is read through the
// follower; a request without credentials gets Couchbase's 401.
func TestNode_QueryLibrariesReplicated(t *testing.T) {
	c := nodetest.NewCluster(t, 2, nodetest.Options{})
	leader := c.Leader()
	follower := c.Followers()[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := restclient.New(leader.URL(node.APIMgmt), "", "")

	call := func(n *nodetest.Node, want int, method, path, body string) []byte {
		t.Helper()
		b, err := cl.Call(ctx, want, method, n.URL(node.APIQuery)+path, "application/json", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	call(follower, http.StatusOK, http.MethodPost, "/evaluator/v1/libraries/math", "function add(a, b) { return a + b; }")
	var texts []struct{ Name, Bucket, Scope, Code string }
	if err := json.Unmarshal(call(leader, http.StatusOK, http.MethodGet, "/evaluator/v1/libraries", ""), &texts); err != nil {
		t.Fatal(err)
	}
	if len(texts) != 1 || texts[0].Name != "math" || texts[0].Code != "function add(a, b) { return a + b; }" {
		t.Fatalf("libraries on the leader: %+v", texts)
	}
	var libs []struct {
		Name      string
		Functions []struct{ Name, ID string }
	}
	if err := json.Unmarshal(call(leader, http.StatusOK, http.MethodGet, "/functions/v1/libraries", ""), &libs); err != nil {
		t.Fatal(err)
	}
	if len(libs) != 1 || len(libs[0].Functions) != 1 || libs[0].Functions[0].Name != "add" {
		t.Fatalf("function objects on the leader: %+v", libs)
	}

	if err := cl.CreateBucket(ctx, "travel"); err != nil {
		t.Fatal(err)
	}
	call(leader, http.StatusOK, http.MethodPost, "/functions/v1/libraries/science/functions/f2c?bucket=travel&scope=_default",
		`{"name":"f2c","code":"function f2c(f) { return (5/9)*(f-32); }"}`)
	var got map[string]string
	if err := json.Unmarshal(call(follower, http.StatusOK, http.MethodGet, "/evaluator/v1/libraries/science?bucket=travel&scope=_default", ""), &got); err != nil {
		t.Fatal(err)
	}
	if got["science"] != "function f2c(f) { return (5/9)*(f-32); }" {
		t.Fatalf("scoped library on the follower: %v", got)
	}
	call(follower, http.StatusNotFound, http.MethodPost, "/evaluator/v1/libraries/x?bucket=travel&scope=nowhere", "function f() {}")

	resp, err := http.Get(follower.URL(node.APIQuery) + "/evaluator/v1/libraries")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d, want 401", resp.StatusCode)
	}
}

// TestNode_AdvertisesQueryService shows every node's query port in the
// cluster map as "n1ql", where SDKs look for the query service, and the
// port answering the SDKs' /admin/ping.
func TestNode_AdvertisesQueryService(t *testing.T) {
	c := nodetest.NewCluster(t, 2, nodetest.Options{})
	leader := c.Leader()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := restclient.New(leader.URL(node.APIMgmt), "", "")
	want := map[int]bool{}
	for _, n := range []*nodetest.Node{leader, c.Followers()[0]} {
		want[portOfURL(t, n.URL(node.APIQuery))] = true
		b, err := cl.Call(ctx, http.StatusOK, http.MethodGet, n.URL(node.APIQuery)+"/admin/ping", "", nil)
		if err != nil || string(b) != `{"status":"OK"}` {
			t.Fatalf("ping: %s, %v", b, err)
		}
	}
	nodetest.WaitFor(t, 30*time.Second, "both nodes in nodeServices with n1ql", func() bool {
		var ns struct {
			NodesExt []struct {
				Services map[string]int `json:"services"`
			} `json:"nodesExt"`
		}
		if err := cl.GetJSON(ctx, leader.URL(node.APIMgmt)+"/pools/default/nodeServices", &ns); err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, n := range ns.NodesExt {
			if want[n.Services["n1ql"]] {
				seen++
			}
		}
		return seen == 2
	})
	var pool struct {
		Nodes []struct{ Services []string } `json:"nodes"`
	}
	if err := cl.GetJSON(ctx, leader.URL(node.APIMgmt)+"/pools/default", &pool); err != nil {
		t.Fatal(err)
	}
	if len(pool.Nodes) == 0 || !slices.Contains(pool.Nodes[0].Services, "n1ql") {
		t.Fatalf("/pools/default nodes: %+v", pool.Nodes)
	}
}

func portOfURL(t *testing.T, u string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}
