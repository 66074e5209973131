package restclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
)

// The administrator's credentials every test cluster is started with.
const (
	AdminUser     = "Administrator"
	AdminPassword = "password"
)

// Client speaks one node's public REST APIs. Its fields may be set
// before first use and not after.
type Client struct {
	// Mgmt, Eventing and SyncGW are the APIs' base URLs, http://host:port.
	Mgmt, Eventing, SyncGW string
	// User and Password are sent with basic auth on every request.
	User, Password string
	// HTTP sends the requests. New's has a 60s timeout.
	HTTP *http.Client
	// RequestTimeout bounds a call whose context has no deadline; 0: no
	// bound beyond HTTP's own.
	RequestTimeout time.Duration
	// ListTimeout replaces RequestTimeout for AllDocs, which lists every
	// document of a keyspace; 0: RequestTimeout.
	ListTimeout time.Duration
}

// New returns a Client of the node whose APIs are at these base URLs, as
// the administrator.
func New(mgmt, eventing, syncgw string) *Client {
	return &Client{
		Mgmt: mgmt, Eventing: eventing, SyncGW: syncgw,
		User: AdminUser, Password: AdminPassword,
		HTTP: &http.Client{Timeout: 60 * time.Second},
	}
}

// Do sends a request and returns the status and body. Without a deadline
// on ctx the request gets RequestTimeout.
func (c *Client) Do(ctx context.Context, method, u, contentType string, body []byte) (int, []byte, error) {
	return c.do(ctx, c.RequestTimeout, method, u, contentType, body)
}

func (c *Client) do(ctx context.Context, timeout time.Duration, method, u, contentType string, body []byte) (int, []byte, error) {
	if _, ok := ctx.Deadline(); !ok && timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.SetBasicAuth(c.User, c.Password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err // a *url.Error, which names the method and URL
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	return resp.StatusCode, b, nil
}

// Call sends a request and returns the body if the status is want.
func (c *Client) Call(ctx context.Context, want int, method, u, contentType string, body []byte) ([]byte, error) {
	return c.call(ctx, c.RequestTimeout, want, method, u, contentType, body)
}

func (c *Client) call(ctx context.Context, timeout time.Duration, want int, method, u, contentType string, body []byte) ([]byte, error) {
	code, b, err := c.do(ctx, timeout, method, u, contentType, body)
	if err != nil {
		return nil, err
	}
	if code != want {
		return nil, &StatusError{Method: method, URL: u, Code: code, Want: want, Body: b}
	}
	return b, nil
}

// StatusError is an answer with another status than the call wanted.
type StatusError struct {
	Method, URL string
	Code, Want  int
	Body        []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d, want %d: %.300s", e.Method, e.URL, e.Code, e.Want, e.Body)
}

// GetJSON GETs u, requires 200 and decodes the body into v, a non-nil
// pointer. v is zeroed first, so that a reused map holds only the new
// answer's keys.
func (c *Client) GetJSON(ctx context.Context, u string, v any) error {
	return c.getJSON(ctx, c.RequestTimeout, u, v)
}

func (c *Client) getJSON(ctx context.Context, timeout time.Duration, u string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("GetJSON needs a non-nil pointer, got %T", v)
	}
	b, err := c.call(ctx, timeout, http.StatusOK, http.MethodGet, u, "", nil)
	if err != nil {
		return err
	}
	rv.Elem().SetZero()
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: decode %.200s: %w", u, b, err)
	}
	return nil
}

// CreateBucket creates a couchbase bucket of 100 MiB (the quota is only
// accounted: every node holds every document).
func (c *Client) CreateBucket(ctx context.Context, name string) error {
	form := url.Values{"name": {name}, "ramQuota": {"100"}, "bucketType": {"couchbase"}}
	_, err := c.Call(ctx, http.StatusAccepted, http.MethodPost, c.Mgmt+"/pools/default/buckets",
		"application/x-www-form-urlencoded", []byte(form.Encode()))
	return err
}

// CreateFunction creates or replaces a function from its definition (any
// value that marshals to the eventing API's function JSON).
func (c *Client) CreateFunction(ctx context.Context, name string, def any) error {
	b, err := json.Marshal(def)
	if err != nil {
		return fmt.Errorf("function %s: %w", name, err)
	}
	_, err = c.Call(ctx, http.StatusOK, http.MethodPost, c.Eventing+"/api/v1/functions/"+name, "application/json", b)
	return err
}

// Lifecycle asks for a lifecycle operation of a function: deploy,
// undeploy, pause or resume.
func (c *Client) Lifecycle(ctx context.Context, name, op string) error {
	_, err := c.Call(ctx, http.StatusOK, http.MethodPost, c.Eventing+"/api/v1/functions/"+name+"/"+op, "", nil)
	return err
}

// FunctionStatus is the part of /api/v1/status/{name} the tests read.
type FunctionStatus struct {
	App struct {
		CompositeStatus  string `json:"composite_status"`
		NumDeployedNodes int    `json:"num_deployed_nodes"`
	} `json:"app"`
	NumEventingNodes int `json:"num_eventing_nodes"`
}

// Status returns a function's status.
func (c *Client) Status(ctx context.Context, name string) (FunctionStatus, error) {
	var st FunctionStatus
	err := c.GetJSON(ctx, c.Eventing+"/api/v1/status/"+name, &st)
	return st, err
}

// DocResult is one document's answer of _bulk_docs; Error, Reason and
// Status (an HTTP status) are set when the document was not written.
type DocResult struct {
	ID     string `json:"id"`
	Rev    string `json:"rev"`
	Error  string `json:"error"`
	Reason string `json:"reason"`
	Status int    `json:"status"`
}

// BulkDocs posts docs to keyspace ks through _bulk_docs and returns the
// answer for each, in order; a document's own failure is in its result,
// not in the error.
func (c *Client) BulkDocs(ctx context.Context, ks string, docs []map[string]any) ([]DocResult, error) {
	body, err := json.Marshal(map[string]any{"docs": docs})
	if err != nil {
		return nil, fmt.Errorf("_bulk_docs: %w", err)
	}
	out, err := c.PostBulkDocs(ctx, ks, body)
	if err != nil {
		return nil, err
	}
	var res []DocResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("_bulk_docs answer: %w: %.200s", err, out)
	}
	if len(res) != len(docs) {
		return nil, fmt.Errorf("_bulk_docs answered %d results for %d documents", len(res), len(docs))
	}
	return res, nil
}

// WriteBatch posts one _bulk_docs batch of new documents and returns the
// ids acknowledged: created now, or already there from an earlier attempt
// whose answer was lost (a per-document conflict "exists"). Any other
// per-document error fails the whole batch, which the caller may retry.
func (c *Client) WriteBatch(ctx context.Context, ks string, docs []map[string]any) ([]string, error) {
	res, err := c.BulkDocs(ctx, ks, docs)
	if err != nil {
		return nil, err
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

// PostBulkDocs posts a ready _bulk_docs body to keyspace ks, requires 201
// and returns the answer's body.
func (c *Client) PostBulkDocs(ctx context.Context, ks string, body []byte) ([]byte, error) {
	return c.Call(ctx, http.StatusCreated, http.MethodPost, c.SyncGW+"/"+ks+"/_bulk_docs", "application/json", body)
}

// Row is one _all_docs row; Doc is set when bodies were asked for.
type Row struct {
	ID  string          `json:"id"`
	Doc json.RawMessage `json:"doc"`
}

// AllDocs returns every live document of keyspace ks, with bodies if
// include is set. Without a deadline on ctx it gets ListTimeout.
func (c *Client) AllDocs(ctx context.Context, ks string, include bool) ([]Row, error) {
	u := c.SyncGW + "/" + ks + "/_all_docs"
	if include {
		u += "?include_docs=true"
	}
	timeout := c.ListTimeout
	if timeout == 0 {
		timeout = c.RequestTimeout
	}
	var res struct {
		Rows []Row `json:"rows"`
	}
	if err := c.getJSON(ctx, timeout, u, &res); err != nil {
		return nil, err
	}
	return res.Rows, nil
}

// PoolNode is the part of a /pools/default node the tests read.
type PoolNode struct {
	NodeID   string `json:"nodeId"`
	Hostname string `json:"hostname"`
	Status   string `json:"status"`
}

// Pool is the part of /pools/default the tests read.
type Pool struct {
	Nodes      []PoolNode `json:"nodes"`
	RaftLeader string     `json:"raftLeader"`
}

// Key is the pool's node list and leader in a comparable form.
func (p Pool) Key() string {
	var ns []string
	for _, n := range p.Nodes {
		ns = append(ns, n.NodeID+"@"+n.Hostname+":"+n.Status)
	}
	slices.Sort(ns)
	return "leader=" + p.RaftLeader + " nodes=" + strings.Join(ns, ",")
}

// Healthy counts the nodes listed healthy.
func (p Pool) Healthy() int {
	h := 0
	for _, n := range p.Nodes {
		if n.Status == "healthy" {
			h++
		}
	}
	return h
}

// Pool returns the cluster as this node sees it.
func (c *Client) Pool(ctx context.Context) (Pool, error) {
	var p Pool
	err := c.GetJSON(ctx, c.Mgmt+"/pools/default", &p)
	return p, err
}

// VBOwners returns a bucket's vbucket map as vbucket → the owner's host
// (its IP; "" for none).
func (c *Client) VBOwners(ctx context.Context, bucket string) ([]string, error) {
	var b struct {
		Map struct {
			ServerList []string `json:"serverList"`
			VBucketMap [][]int  `json:"vBucketMap"`
		} `json:"vBucketServerMap"`
	}
	if err := c.GetJSON(ctx, c.Mgmt+"/pools/default/buckets/"+bucket, &b); err != nil {
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

// FailedOver returns nil once this node's view of the bucket's vbucket
// map shows lostHost failed over: every vbucket owned, none by lostHost.
// Otherwise it says why not.
func (c *Client) FailedOver(ctx context.Context, bucket, lostHost string) error {
	owners, err := c.VBOwners(ctx, bucket)
	if err != nil {
		return err
	}
	if len(owners) == 0 {
		return fmt.Errorf("%s: bucket %s has no vbucket map", c.Mgmt, bucket)
	}
	for vb, o := range owners {
		if o == "" || o == lostHost {
			return fmt.Errorf("%s: vbucket %d owned by %q", c.Mgmt, vb, o)
		}
	}
	return nil
}
