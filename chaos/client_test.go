//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Credentials and ports of every node (docker-compose.yml keeps the defaults).
const (
	user         = "Administrator"
	password     = "password"
	mgmtPort     = 8091
	eventingPort = 8096
	syncGWPort   = 4984
)

// requestTimeout bounds one REST call made without a deadline of its own:
// a paused or cut-off node never answers, and the caller moves on.
const requestTimeout = 5 * time.Second

// listTimeout bounds one _all_docs call, which lists every document.
const listTimeout = time.Minute

// api speaks one node's public REST APIs. Its methods return errors rather
// than failing the test: they are called while nodes are down.
type api struct {
	mgmt, eventing, syncgw string // base URLs
	http                   *http.Client
}

// newAPI returns a client for the node at ip, on the default ports.
func newAPI(ip string) *api {
	base := func(port int) string { return fmt.Sprintf("http://%s:%d", ip, port) }
	return &api{
		mgmt: base(mgmtPort), eventing: base(eventingPort), syncgw: base(syncGWPort),
		// No keep-alive: a connection to a node that was killed or cut off
		// must not be reused after it is back. Deadlines come from the
		// calls' contexts (do).
		http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// do sends a request and returns the status and body. Without a deadline
// on ctx the request gets requestTimeout.
func (a *api) do(ctx context.Context, method, u, contentType string, body []byte) (int, []byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(user, password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	return resp.StatusCode, b, nil
}

// call sends a request and returns the body if the status is want.
func (a *api) call(ctx context.Context, want int, method, u, contentType string, body []byte) ([]byte, error) {
	code, b, err := a.do(ctx, method, u, contentType, body)
	if err != nil {
		return nil, err
	}
	if code != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %.300s", method, u, code, want, b)
	}
	return b, nil
}

// getJSON decodes a GET answer (status 200) into v.
func (a *api) getJSON(ctx context.Context, u string, v any) error {
	b, err := a.call(ctx, http.StatusOK, "GET", u, "", nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %w: %.200s", u, err, b)
	}
	return nil
}

func (a *api) createBucket(ctx context.Context, name string) error {
	form := url.Values{"name": {name}, "ramQuota": {"100"}, "bucketType": {"couchbase"}}
	_, err := a.call(ctx, http.StatusAccepted, "POST", a.mgmt+"/pools/default/buckets",
		"application/x-www-form-urlencoded", []byte(form.Encode()))
	return err
}

func (a *api) createFunction(ctx context.Context, name string, def any) error {
	b, err := json.Marshal(def)
	if err != nil {
		return err
	}
	_, err = a.call(ctx, http.StatusOK, "POST", a.eventing+"/api/v1/functions/"+name, "application/json", b)
	return err
}

func (a *api) lifecycle(ctx context.Context, name, op string) error {
	_, err := a.call(ctx, http.StatusOK, "POST", a.eventing+"/api/v1/functions/"+name+"/"+op, "", nil)
	return err
}

// functionStatus is the part of /api/v1/status/{name} the tests read.
type functionStatus struct {
	App struct {
		CompositeStatus  string `json:"composite_status"`
		NumDeployedNodes int    `json:"num_deployed_nodes"`
	} `json:"app"`
	NumEventingNodes int `json:"num_eventing_nodes"`
}

func (a *api) status(ctx context.Context, name string) (functionStatus, error) {
	var st functionStatus
	err := a.getJSON(ctx, a.eventing+"/api/v1/status/"+name, &st)
	return st, err
}

// poolNode is the part of a /pools/default node the tests compare.
type poolNode struct {
	NodeID   string `json:"nodeId"`
	Hostname string `json:"hostname"`
	Status   string `json:"status"`
}

// pool is the part of /pools/default the tests read.
type pool struct {
	Nodes      []poolNode `json:"nodes"`
	RaftLeader string     `json:"raftLeader"`
}

// key is the pool's node list and leader in a comparable form.
func (p pool) key() string {
	var ns []string
	for _, n := range p.Nodes {
		ns = append(ns, n.NodeID+"@"+n.Hostname+":"+n.Status)
	}
	slices.Sort(ns)
	return "leader=" + p.RaftLeader + " nodes=" + strings.Join(ns, ",")
}

// healthy counts the nodes listed healthy.
func (p pool) healthy() int {
	h := 0
	for _, n := range p.Nodes {
		if n.Status == "healthy" {
			h++
		}
	}
	return h
}

func (a *api) pool(ctx context.Context) (pool, error) {
	var p pool
	err := a.getJSON(ctx, a.mgmt+"/pools/default", &p)
	return p, err
}

// vbOwners returns the bucket's vbucket map as vbucket → owner host, the
// node's IP ("" for none).
func (a *api) vbOwners(ctx context.Context, bucket string) ([]string, error) {
	var b struct {
		Map struct {
			ServerList []string `json:"serverList"`
			VBucketMap [][]int  `json:"vBucketMap"`
		} `json:"vBucketServerMap"`
	}
	if err := a.getJSON(ctx, a.mgmt+"/pools/default/buckets/"+bucket, &b); err != nil {
		return nil, err
	}
	owners := make([]string, len(b.Map.VBucketMap))
	for vb, chain := range b.Map.VBucketMap {
		if len(chain) > 0 && chain[0] >= 0 && chain[0] < len(b.Map.ServerList) {
			host, _, err := net.SplitHostPort(b.Map.ServerList[chain[0]])
			if err != nil {
				return nil, fmt.Errorf("vbucket map server %q: %w", b.Map.ServerList[chain[0]], err)
			}
			owners[vb] = host
		}
	}
	return owners, nil
}

// row is one _all_docs row.
type row struct {
	ID  string          `json:"id"`
	Doc json.RawMessage `json:"doc"`
}

// allDocs returns every live document of a keyspace, with bodies if
// include is set.
func (a *api) allDocs(ctx context.Context, ks string, include bool) ([]row, error) {
	u := a.syncgw + "/" + ks + "/_all_docs"
	if include {
		u += "?include_docs=true"
	}
	var res struct {
		Rows []row `json:"rows"`
	}
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	if err := a.getJSON(ctx, u, &res); err != nil {
		return nil, err
	}
	return res.Rows, nil
}

// bulkDocs posts one _bulk_docs batch and returns the ids acknowledged:
// created now, or already there from an earlier attempt whose answer was
// lost (a per-document 409 "exists"). Any other per-document error fails
// the whole batch, which the caller retries.
func (a *api) bulkDocs(ctx context.Context, ks string, docs []map[string]any) ([]string, error) {
	body, err := json.Marshal(map[string]any{"docs": docs})
	if err != nil {
		return nil, err
	}
	out, err := a.call(ctx, http.StatusCreated, "POST", a.syncgw+"/"+ks+"/_bulk_docs", "application/json", body)
	if err != nil {
		return nil, err
	}
	var res []struct {
		ID     string `json:"id"`
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("_bulk_docs answer: %w: %.200s", err, out)
	}
	if len(res) != len(docs) {
		return nil, fmt.Errorf("_bulk_docs answered %d results for %d documents", len(res), len(docs))
	}
	ids := make([]string, 0, len(res))
	for _, r := range res {
		switch {
		case r.Error == "":
			ids = append(ids, r.ID)
		case r.Error == "conflict" && strings.Contains(r.Reason, "exists"):
			ids = append(ids, r.ID)
		default:
			return nil, fmt.Errorf("_bulk_docs: doc %s: %s: %s", r.ID, r.Error, r.Reason)
		}
	}
	return ids, nil
}
