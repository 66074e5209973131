package clusterapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/node/rest/restauth"
)

// The real types fit the consumer-declared interfaces.
var (
	_ Keyspaces = (*consensus.Store)(nil)
	_ Catalog   = (*docstore.Store)(nil)
)

func TestNew_ValidatesConfigAndDeps(t *testing.T) {
	store := docstore.NewStore(numVB)
	fk := &fakeKeyspaces{store: store}
	creds := restauth.NewAdmin("u", "p")
	valid := func(mod func(*Config)) Config {
		c := Config{Credentials: creds, Keyspaces: fk, Catalog: store, Cluster: &fakeCluster{}, Docs: store, Writer: fk}
		mod(&c)
		return c
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no credentials", valid(func(c *Config) { c.Credentials = nil }), ErrMissingDependency},
		{"negative quota", valid(func(c *Config) { c.MemoryQuotaMB = -1 }), ErrInvalidConfig},
		{"negative poll", valid(func(c *Config) { c.StreamPollInterval = -time.Second }), ErrInvalidConfig},
		{"no keyspaces", valid(func(c *Config) { c.Keyspaces = nil }), ErrMissingDependency},
		{"no catalog", valid(func(c *Config) { c.Catalog = nil }), ErrMissingDependency},
		{"no cluster", valid(func(c *Config) { c.Cluster = nil }), ErrMissingDependency},
		{"no docs", valid(func(c *Config) { c.Docs = nil }), ErrMissingDependency},
		{"no writer", valid(func(c *Config) { c.Writer = nil }), ErrMissingDependency},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); !errors.Is(err, tc.want) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
		})
	}
	h, err := New(valid(func(*Config) {}))
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if h.cfg.MemoryQuotaMB != 16384 || h.cfg.StreamPollInterval != time.Second || h.cfg.Version == "" {
		t.Fatalf("defaults not applied: %+v", h.cfg)
	}
}

func TestAuth_RequiredOnEveryRoute(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "default")
	cases := []struct {
		name, user, pass, method, path string
	}{
		{"no credentials", "", "", "GET", "/pools"},
		{"wrong password", testUser, "nope", "GET", "/pools/default"},
		{"wrong user", "admin", testPass, "GET", "/pools/default/buckets"},
		{"create bucket", "", "", "POST", "/pools/default/buckets"},
		{"delete bucket", testUser, "x", "DELETE", "/pools/default/buckets/default"},
		{"terse config", "", "", "GET", "/pools/default/bs/default"},
		{"unknown path", "", "", "GET", "/no/such/path"},
		// Nothing is routed before authentication.
		{"wrong method", "", "", "PUT", "/pools/default/buckets"},
		{"options", "", "", "OPTIONS", "/pools/default/buckets"},
		{"head", "", "", "HEAD", "/pools"},
		{"options unknown", "", "", "OPTIONS", "/no/such/path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doAuth(t, tc.method, tc.path, nil, tc.user, tc.pass).expect(t, http.StatusUnauthorized)
			if len(r.body) != 0 {
				t.Fatalf("401 body %q, want empty", r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="Couchbase Server Admin / REST"` {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		})
	}
	if _, err := e.store.Bucket("default"); err != nil {
		t.Fatalf("unauthenticated DELETE removed the bucket: %v", err)
	}
}

func TestRouting_NotFoundAndMethods(t *testing.T) {
	e := newTestEnv(t)
	r := e.do(t, "GET", "/no/such/path", nil).expect(t, http.StatusNotFound)
	if string(r.body) != "Requested resource not found.\r\n" {
		t.Fatalf("404 body %q", r.body)
	}
	e.do(t, "GET", "/pools/default/", nil).expect(t, http.StatusOK)

	cases := []struct{ method, path, allow string }{
		{"PUT", "/pools/default/buckets", "GET, POST"},
		{"DELETE", "/pools", "GET"},
		{"POST", "/pools/default/buckets/b/scopes/s", "DELETE"},
		{"GET", "/pools/default/buckets/b/scopes/s/collections", "POST"},
		{"PATCH", "/pools/default/buckets/b", "DELETE, GET"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, nil).expect(t, http.StatusMethodNotAllowed)
			if string(r.body) != "Method Not Allowed" {
				t.Fatalf("405 body %q", r.body)
			}
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
		})
	}

	r = e.do(t, "HEAD", "/pools", nil).expect(t, http.StatusOK)
	if len(r.body) != 0 {
		t.Fatalf("HEAD body %q", r.body)
	}
}

// panicCluster panics in Nodes, standing in for any handler bug.
type panicCluster struct{ fakeCluster }

func (*panicCluster) Nodes() []NodeInfo { panic("boom") }

func TestServeHTTP_RecoversPanics(t *testing.T) {
	store := docstore.NewStore(numVB)
	h, err := New(Config{Credentials: restauth.NewAdmin(testUser, testPass), Logger: testLogger(t),
		Keyspaces: &fakeKeyspaces{store: store}, Catalog: store, Cluster: &panicCluster{}, Docs: store, Writer: &fakeKeyspaces{store: store}})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{h: h, store: store}
	e.srv = newServer(t, h)
	r := e.do(t, "GET", "/pools/default", nil).expect(t, http.StatusInternalServerError)
	var body []string
	r.json(t, &body)
	if !slices.Equal(body, []string{"Unexpected server error, request logged."}) {
		t.Fatalf("500 body %q", r.body)
	}
	e.do(t, "GET", "/pools", nil).expect(t, http.StatusOK)
}

func TestPools(t *testing.T) {
	e := newTestEnv(t)
	var v struct {
		IsAdminCreds          bool   `json:"isAdminCreds"`
		UUID                  string `json:"uuid"`
		ImplementationVersion string `json:"implementationVersion"`
		Pools                 []struct {
			Name, URI, StreamingURI string
		} `json:"pools"`
	}
	e.do(t, "GET", "/pools", nil).expect(t, http.StatusOK).json(t, &v)
	uuid := e.cluster.ClusterUUID()
	if !v.IsAdminCreds || v.UUID != uuid || v.ImplementationVersion != "7.6.0-0000-enterprise" {
		t.Fatalf("/pools = %+v", v)
	}
	if len(v.Pools) != 1 || v.Pools[0].Name != "default" || v.Pools[0].URI != "/pools/default?uuid="+uuid ||
		v.Pools[0].StreamingURI != "/poolsStreaming/default?uuid="+uuid {
		t.Fatalf("pools = %+v", v.Pools)
	}
}

type poolNode struct {
	Hostname          string         `json:"hostname"`
	Status            string         `json:"status"`
	ClusterMembership string         `json:"clusterMembership"`
	Services          []string       `json:"services"`
	NodeUUID          string         `json:"nodeUUID"`
	NodeID            string         `json:"nodeId"`
	OTPNode           string         `json:"otpNode"`
	ThisNode          *bool          `json:"thisNode"`
	Ports             map[string]int `json:"ports"`
	Uptime            string         `json:"uptime"`
	Version           string         `json:"version"`
}

func TestPoolDefault(t *testing.T) {
	e := newTestEnv(t)
	e.cluster.set(func(c *fakeCluster) {
		c.leader = "n2"
		c.nodes = []NodeInfo{
			{ID: "n1", UUID: "u1", Hostname: "127.0.0.2:8091", Healthy: true, Services: []string{"n1ql", "kv", "eventing"},
				Ports: Ports{Eventing: 8096, Query: 8093, SyncGateway: 4984, Raft: 9097, GRPC: 9096}, ThisNode: true},
			{ID: "n2", UUID: "u2", Hostname: "127.0.0.3:8091", Healthy: false, Services: []string{"kv", "eventing"},
				Ports: Ports{Eventing: 8096, KV: 11999}},
		}
	})
	var v struct {
		Name       string            `json:"name"`
		Nodes      []poolNode        `json:"nodes"`
		RaftLeader string            `json:"raftLeader"`
		Buckets    map[string]string `json:"buckets"`
	}
	e.do(t, "GET", "/pools/default", nil).expect(t, http.StatusOK).json(t, &v)
	if v.Name != "default" || v.RaftLeader != "n2" || v.Buckets["terseStreamingBucketsBase"] != "/pools/default/bs/" ||
		!strings.HasPrefix(v.Buckets["uri"], "/pools/default/buckets") {
		t.Fatalf("/pools/default = %+v", v)
	}
	if len(v.Nodes) != 2 {
		t.Fatalf("nodes = %+v", v.Nodes)
	}
	n1, n2 := v.Nodes[0], v.Nodes[1]
	if n1.Hostname != "127.0.0.2:8091" || n1.Status != "healthy" || n1.ClusterMembership != "active" ||
		n1.NodeUUID != "u1" || n1.NodeID != "n1" || n1.OTPNode != "n1@127.0.0.2" || n1.ThisNode == nil || !*n1.ThisNode ||
		!slices.Equal(n1.Services, []string{"eventing", "kv", "n1ql"}) || n1.Version != "7.6.0-0000-enterprise" {
		t.Fatalf("node 1 = %+v", n1)
	}
	wantPorts := map[string]int{"direct": 11210, "eventingAdminPort": 8096, "n1ql": 8093, "syncGateway": 4984, "raft": 9097, "grpc": 9096}
	if !mapsEqual(n1.Ports, wantPorts) {
		t.Fatalf("node 1 ports = %v, want %v", n1.Ports, wantPorts)
	}
	if n2.Status != "unhealthy" || n2.ThisNode != nil || n2.Ports["direct"] != 11999 || n2.Uptime != "0" {
		t.Fatalf("node 2 = %+v", n2)
	}
}

func TestPoolDefault_UnspecifiedHostUsesRequestHost(t *testing.T) {
	e := newTestEnv(t)
	e.cluster.set(func(c *fakeCluster) { c.nodes[0].Hostname = "0.0.0.0:8091" })
	var v struct{ Nodes []poolNode }
	e.do(t, "GET", "/pools/default", nil).expect(t, http.StatusOK).json(t, &v)
	if v.Nodes[0].Hostname != "127.0.0.1:8091" {
		t.Fatalf("hostname %q, want the request's host with the mgmt port", v.Nodes[0].Hostname)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

type nodeExtDoc struct {
	Services map[string]int `json:"services"`
	ThisNode bool           `json:"thisNode"`
	Hostname string         `json:"hostname"`
	NodeUUID string         `json:"nodeUUID"`
}

type nodeServicesDoc struct {
	Rev                    int64        `json:"rev"`
	NodesExt               []nodeExtDoc `json:"nodesExt"`
	ClusterCapabilitiesVer []int        `json:"clusterCapabilitiesVer"`
}

func TestNodeServices(t *testing.T) {
	e := newTestEnv(t)
	var v1, v2, v3 nodeServicesDoc
	e.do(t, "GET", "/pools/default/nodeServices", nil).expect(t, http.StatusOK).json(t, &v1)
	if v1.Rev <= 0 || len(v1.NodesExt) != 1 || !slices.Equal(v1.ClusterCapabilitiesVer, []int{1, 0}) {
		t.Fatalf("nodeServices = %+v", v1)
	}
	ne := v1.NodesExt[0]
	u, _ := url.Parse(e.srv.URL)
	wantSvc := map[string]int{"mgmt": mustPort(t, u.Port()), "kv": 11210, "eventingAdminPort": 8096, "syncGateway": 4984, "raft": 9097, "grpc": 9096}
	if ne.Hostname != "127.0.0.1" || !ne.ThisNode || ne.NodeUUID == "" || !mapsEqual(ne.Services, wantSvc) {
		t.Fatalf("nodesExt[0] = %+v, want services %v", ne, wantSvc)
	}

	e.do(t, "GET", "/pools/default/nodeServices", nil).expect(t, http.StatusOK).json(t, &v2)
	if v2.Rev != v1.Rev {
		t.Fatalf("rev changed without a change: %d then %d", v1.Rev, v2.Rev)
	}
	// n1ql is advertised only for nodes running the query service.
	e.cluster.set(func(c *fakeCluster) {
		c.nodes[0].Services = append(c.nodes[0].Services, "n1ql")
		c.nodes[0].Ports.Query = 8093
	})
	e.do(t, "GET", "/pools/default/nodeServices", nil).expect(t, http.StatusOK).json(t, &v3)
	if v3.Rev <= v2.Rev || v3.NodesExt[0].Services["n1ql"] != 8093 {
		t.Fatalf("after adding n1ql: rev %d (was %d), services %v", v3.Rev, v2.Rev, v3.NodesExt[0].Services)
	}
}

func mustPort(t *testing.T, s string) int {
	t.Helper()
	p, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return p
}

func TestWhoami(t *testing.T) {
	e := newTestEnv(t)
	var v struct {
		ID     string              `json:"id"`
		Domain string              `json:"domain"`
		Roles  []map[string]string `json:"roles"`
	}
	e.do(t, "GET", "/whoami", nil).expect(t, http.StatusOK).json(t, &v)
	if v.ID != testUser || v.Domain != "admin" || len(v.Roles) != 1 || v.Roles[0]["role"] != "admin" {
		t.Fatalf("whoami = %+v", v)
	}
}

func TestCreateBucket_Validation(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "default")
	badChars := "Bucket name can only contain characters in range A-Z, a-z, 0-9 as well as underscore, period, dash & percent. Consult the documentation."
	quotaMsg := "The RAM Quota must be specified and must be a positive integer."
	cases := []struct {
		name string
		form url.Values
		want map[string]string
	}{
		{"missing name", form("ramQuota", "100"), map[string]string{"name": "Bucket name needs to be specified"}},
		{"empty name", form("name", "", "ramQuota", "100"), map[string]string{"name": "Bucket name cannot be empty"}},
		{"long name", form("name", strings.Repeat("a", 101), "ramQuota", "100"), map[string]string{"name": "Bucket name cannot exceed 100 characters"}},
		{"bad characters", form("name", "a b", "ramQuota", "100"), map[string]string{"name": badChars}},
		{"leading dot", form("name", ".dot", "ramQuota", "100"), map[string]string{"name": "Bucket name cannot start with dot."}},
		{"reserved", form("name", "_users.couch.3", "ramQuota", "100"), map[string]string{"name": "This name is reserved for the internal use."}},
		{"duplicate ignoring case", form("name", "DEFAULT", "ramQuota", "100"), map[string]string{"name": "Bucket with given name already exists"}},
		{"missing quota", form("name", "b"), map[string]string{"ramQuota": quotaMsg}},
		{"non-numeric quota", form("name", "b", "ramQuota", "lots"), map[string]string{"ramQuota": quotaMsg}},
		{"negative quota", form("name", "b", "ramQuota", "-5"), map[string]string{"ramQuota": "The RAM Quota cannot be negative."}},
		{"small quota", form("name", "b", "ramQuota", "99"), map[string]string{"ramQuota": "RAM quota cannot be less than 100 MiB"}},
		{"small memcached quota", form("name", "b", "ramQuota", "63", "bucketType", "memcached"), map[string]string{"ramQuota": "RAM quota cannot be less than 64 MiB"}},
		{"quota too large", form("name", "b", "ramQuotaMB", "16300"), map[string]string{"ramQuota": "RAM quota specified is too large to be provisioned into this cluster."}},
		{"absurd quota", form("name", "b", "ramQuota", "9223372036854775807"), map[string]string{"ramQuota": "RAM quota specified is too large to be provisioned into this cluster."}},
		{"unknown type", form("name", "b", "ramQuota", "100", "bucketType", "magma"), map[string]string{"bucketType": "invalid bucket type"}},
		{"several errors", form("name", "a/b", "bucketType", "nope"), map[string]string{"name": badChars, "bucketType": "invalid bucket type", "ramQuota": quotaMsg}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/pools/default/buckets", tc.form).expect(t, http.StatusBadRequest)
			var v struct {
				Errors    map[string]string `json:"errors"`
				Summaries struct {
					RAMSummary map[string]int64 `json:"ramSummary"`
					HDDSummary map[string]int64 `json:"hddSummary"`
				} `json:"summaries"`
			}
			r.json(t, &v)
			if len(v.Errors) != len(tc.want) {
				t.Fatalf("errors %v, want %v", v.Errors, tc.want)
			}
			for k, msg := range tc.want {
				if v.Errors[k] != msg {
					t.Fatalf("errors[%q] = %q, want %q (all: %v)", k, v.Errors[k], msg, v.Errors)
				}
			}
			if v.Summaries.RAMSummary["total"] != 16384<<20 || v.Summaries.HDDSummary == nil {
				t.Fatalf("summaries = %+v", v.Summaries)
			}
		})
	}
	if got := len(e.store.Buckets()); got != 1 {
		t.Fatalf("%d buckets after failed creates, want 1", got)
	}
}

func TestCreateBucket_Success(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct{ name, typ, quotaKey, quota, wantType string }{
		{"plain", "", "ramQuota", "100", docstore.BucketTypeMembase},
		{"couch", "couchbase", "ramQuotaMB", "256", docstore.BucketTypeMembase},
		{"memb", "membase", "ramQuota", "100", docstore.BucketTypeMembase},
		{"eph", "ephemeral", "ramQuota", "100", docstore.BucketTypeEphemeral},
		{"mc", "memcached", "ramQuota", "64", docstore.BucketTypeMemcached},
	}
	uuids := map[string]bool{}
	hexUUID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tc := range cases {
		f := form("name", tc.name, tc.quotaKey, tc.quota, "replicaNumber", "1", "flushEnabled", "0")
		if tc.typ != "" {
			f.Set("bucketType", tc.typ)
		}
		r := e.do(t, "POST", "/pools/default/buckets", f).expect(t, http.StatusAccepted)
		if len(r.body) != 0 {
			t.Fatalf("202 body %q, want empty", r.body)
		}
		b, err := e.store.Bucket(tc.name)
		if err != nil {
			t.Fatalf("bucket %s not created: %v", tc.name, err)
		}
		if b.Type != tc.wantType || strconv.Itoa(b.RAMQuotaMB) != tc.quota || !hexUUID.MatchString(b.UUID) || uuids[b.UUID] {
			t.Fatalf("bucket %s = %+v", tc.name, b.BucketSpec)
		}
		uuids[b.UUID] = true
	}
}

func TestCreateBucket_JustValidate(t *testing.T) {
	e := newTestEnv(t)
	var v struct {
		Errors    map[string]string         `json:"errors"`
		Summaries map[string]map[string]any `json:"summaries"`
	}
	e.do(t, "POST", "/pools/default/buckets?just_validate=1", form("name", "b", "ramQuota", "100")).expect(t, http.StatusOK).json(t, &v)
	if len(v.Errors) != 0 || v.Summaries["ramSummary"]["thisAlloc"] != float64(100<<20) {
		t.Fatalf("just_validate = %+v", v)
	}
	if len(e.store.Buckets()) != 0 {
		t.Fatal("just_validate created the bucket")
	}
}

func TestCreateBucket_BackendErrors(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		name   string
		err    error
		status int
		key    string
		substr string
	}{
		{"not leader", consensus.ErrNotLeader, http.StatusServiceUnavailable, "_", "leader (node n1)"},
		{"closed", consensus.ErrClosed, http.StatusServiceUnavailable, "_", "shutting down"},
		{"timeout", context.DeadlineExceeded, http.StatusServiceUnavailable, "_", "timed out"},
		{"lost race", docstore.ErrExists, http.StatusBadRequest, "name", "Bucket with given name already exists"},
		{"store rejects", fmt.Errorf("%w: bucket name is bad", docstore.ErrInvalid), http.StatusBadRequest, "name", "bucket name is bad"},
		// An unexpected error's text stays in the log: it is Go's, not the API's.
		{"unexpected", errors.New("disk on fire"), http.StatusInternalServerError, "_", "Unexpected server error, request logged."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.ks.setFail(tc.err)
			defer e.ks.setFail(nil)
			errs := e.do(t, "POST", "/pools/default/buckets", form("name", "b", "ramQuota", "100")).expect(t, tc.status).errorsOf(t)
			if !strings.Contains(errs[tc.key], tc.substr) || strings.Contains(errs[tc.key], "dcp:") {
				t.Fatalf("errors %v, want %q containing %q", errs, tc.key, tc.substr)
			}
		})
	}
}

type bucketDoc struct {
	Name                   string   `json:"name"`
	UUID                   string   `json:"uuid"`
	BucketType             string   `json:"bucketType"`
	NodeLocator            string   `json:"nodeLocator"`
	URI                    string   `json:"uri"`
	CollectionsManifestUID string   `json:"collectionsManifestUid"`
	BucketCapabilities     []string `json:"bucketCapabilities"`
	Quota                  struct {
		RAM    int64 `json:"ram"`
		RawRAM int64 `json:"rawRAM"`
	} `json:"quota"`
	BasicStats struct {
		ItemCount int `json:"itemCount"`
	} `json:"basicStats"`
	ReplicaNumber    *int       `json:"replicaNumber"`
	Nodes            []poolNode `json:"nodes"`
	VBucketServerMap *struct {
		HashAlgorithm string   `json:"hashAlgorithm"`
		NumReplicas   int      `json:"numReplicas"`
		ServerList    []string `json:"serverList"`
		VBucketMap    [][]int  `json:"vBucketMap"`
	} `json:"vBucketServerMap"`
}

func TestBuckets_ListGetDelete(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "beta", "ramQuota", "200")
	e.mustCreateBucket(t, "alpha")
	e.mustCreateBucket(t, "mc", "bucketType", "memcached")

	var list []bucketDoc
	e.do(t, "GET", "/pools/default/buckets", nil).expect(t, http.StatusOK).json(t, &list)
	if len(list) != 3 || list[0].Name != "alpha" || list[1].Name != "beta" || list[2].Name != "mc" {
		t.Fatalf("bucket list order: %+v", list)
	}
	beta := list[1]
	if beta.BucketType != "membase" || beta.NodeLocator != "vbucket" || beta.Quota.RawRAM != 200<<20 || beta.Quota.RAM != 200<<20 ||
		beta.ReplicaNumber == nil || *beta.ReplicaNumber != 0 || beta.CollectionsManifestUID != "0" || len(beta.Nodes) != 1 ||
		!slices.Contains(beta.BucketCapabilities, "collections") || beta.URI != "/pools/default/buckets/beta?bucket_uuid="+beta.UUID {
		t.Fatalf("beta = %+v", beta)
	}
	m := beta.VBucketServerMap
	if m == nil || m.HashAlgorithm != "CRC" || m.NumReplicas != 0 || len(m.ServerList) != 1 || m.ServerList[0] != "127.0.0.1:11210" ||
		len(m.VBucketMap) != numVB || !slices.Equal(m.VBucketMap[numVB-1], []int{0}) {
		t.Fatalf("vBucketServerMap = %+v", m)
	}
	mc := list[2]
	if mc.BucketType != "memcached" || mc.NodeLocator != "ketama" || mc.VBucketServerMap != nil || slices.Contains(mc.BucketCapabilities, "collections") {
		t.Fatalf("memcached bucket = %+v", mc)
	}

	var skipped []bucketDoc
	e.do(t, "GET", "/pools/default/buckets?skipMap=true", nil).expect(t, http.StatusOK).json(t, &skipped)
	if skipped[1].VBucketServerMap != nil {
		t.Fatal("skipMap=true still rendered the vbucket map")
	}

	var one bucketDoc
	e.do(t, "GET", "/pools/default/buckets/beta", nil).expect(t, http.StatusOK).json(t, &one)
	if one.UUID != beta.UUID || one.Name != "beta" {
		t.Fatalf("GET beta = %+v", one)
	}
	e.do(t, "GET", "/pools/default/buckets/beta?bucket_uuid="+beta.UUID, nil).expect(t, http.StatusOK)
	r := e.do(t, "GET", "/pools/default/buckets/beta?bucket_uuid=0000", nil).expect(t, http.StatusNotFound)
	if string(r.body) != "Bucket uuid does not match the requested.\r\n" {
		t.Fatalf("uuid mismatch body %q", r.body)
	}
	r = e.do(t, "GET", "/pools/default/buckets/nope", nil).expect(t, http.StatusNotFound)
	if string(r.body) != "Requested resource not found.\r\n" || r.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("missing bucket: %q %q", r.header.Get("Content-Type"), r.body)
	}

	r = e.do(t, "DELETE", "/pools/default/buckets/beta", nil).expect(t, http.StatusOK)
	if len(r.body) != 0 {
		t.Fatalf("DELETE body %q", r.body)
	}
	e.do(t, "GET", "/pools/default/buckets/beta", nil).expect(t, http.StatusNotFound)
	e.do(t, "DELETE", "/pools/default/buckets/beta", nil).expect(t, http.StatusNotFound)

	e.ks.setFail(consensus.ErrNotLeader)
	e.do(t, "DELETE", "/pools/default/buckets/alpha", nil).expect(t, http.StatusServiceUnavailable)
	e.ks.setFail(nil)
	if _, err := e.store.Bucket("alpha"); err != nil {
		t.Fatalf("alpha gone after a failed delete: %v", err)
	}
}

func TestBuckets_EscapedNames(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "50%off")
	var b bucketDoc
	e.do(t, "GET", "/pools/default/buckets/50%25off", nil).expect(t, http.StatusOK).json(t, &b)
	if b.Name != "50%off" || b.URI != "/pools/default/buckets/50%25off?bucket_uuid="+b.UUID {
		t.Fatalf("bucket = %+v", b)
	}
}

type terseDoc struct {
	Rev                    int64    `json:"rev"`
	Name                   string   `json:"name"`
	UUID                   string   `json:"uuid"`
	NodeLocator            string   `json:"nodeLocator"`
	CollectionsManifestUID string   `json:"collectionsManifestUid"`
	BucketCapabilities     []string `json:"bucketCapabilities"`
	VBucketServerMap       *struct {
		HashAlgorithm string   `json:"hashAlgorithm"`
		NumReplicas   int      `json:"numReplicas"`
		ServerList    []string `json:"serverList"`
		VBucketMap    [][]int  `json:"vBucketMap"`
	} `json:"vBucketServerMap"`
	Nodes []struct {
		Hostname string         `json:"hostname"`
		Ports    map[string]int `json:"ports"`
	} `json:"nodes"`
	NodesExt []nodeExtDoc `json:"nodesExt"`
}

func TestTerseBucket(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "default")
	u, _ := url.Parse(e.srv.URL)
	e.cluster.set(func(c *fakeCluster) {
		c.nodes = append(c.nodes, NodeInfo{ID: "n2", UUID: "u2", Hostname: "[::1]:9000", Healthy: true,
			Services: []string{"kv", "eventing"}, Ports: Ports{Eventing: 9096, KV: 12000}})
		owners := make([]int, numVB-2) // short: the last two vbuckets have no owner
		for vb := range owners {
			owners[vb] = vb % 2
		}
		owners[5] = 7 // out of range
		c.owners = owners
	})

	var v terseDoc
	e.do(t, "GET", "/pools/default/b/default", nil).expect(t, http.StatusOK).json(t, &v)
	b, _ := e.store.Bucket("default")
	if v.Rev <= 0 || v.Name != "default" || v.UUID != b.UUID || v.NodeLocator != "vbucket" || v.CollectionsManifestUID != "0" ||
		!slices.Contains(v.BucketCapabilities, "collections") {
		t.Fatalf("terse config = %+v", v)
	}
	if len(v.Nodes) != 2 || len(v.NodesExt) != 2 || v.Nodes[1].Hostname != "[::1]:9000" || v.Nodes[1].Ports["direct"] != 12000 {
		t.Fatalf("nodes = %+v", v.Nodes)
	}
	n1, n2 := v.NodesExt[0], v.NodesExt[1]
	if n1.Services["mgmt"] != mustPort(t, u.Port()) || n1.Services["eventingAdminPort"] != 8096 || n1.Services["kv"] != 11210 || !n1.ThisNode {
		t.Fatalf("nodesExt[0] = %+v", n1)
	}
	if n2.Hostname != "::1" || n2.Services["mgmt"] != 9000 || n2.Services["eventingAdminPort"] != 9096 || n2.Services["kv"] != 12000 || n2.ThisNode {
		t.Fatalf("nodesExt[1] = %+v", n2)
	}
	m := v.VBucketServerMap
	if m == nil || m.HashAlgorithm != "CRC" || m.NumReplicas != 0 || !slices.Equal(m.ServerList, []string{"127.0.0.1:11210", "[::1]:12000"}) || len(m.VBucketMap) != numVB {
		t.Fatalf("vBucketServerMap = %+v", m)
	}
	for vb, entry := range m.VBucketMap {
		want := vb % 2
		if vb == 5 || vb >= numVB-2 {
			want = -1
		}
		if !slices.Equal(entry, []int{want}) {
			t.Fatalf("vBucketMap[%d] = %v, want [%d]", vb, entry, want)
		}
	}

	// The revision is stable until the config changes, then grows.
	var again, after terseDoc
	e.do(t, "GET", "/pools/default/b/default", nil).expect(t, http.StatusOK).json(t, &again)
	if again.Rev != v.Rev {
		t.Fatalf("rev changed without a change: %d then %d", v.Rev, again.Rev)
	}
	e.do(t, "POST", "/pools/default/buckets/default/scopes", form("name", "s1")).expect(t, http.StatusOK)
	e.do(t, "GET", "/pools/default/b/default", nil).expect(t, http.StatusOK).json(t, &after)
	if after.Rev <= v.Rev || after.CollectionsManifestUID != "1" {
		t.Fatalf("after a scope change: rev %d (was %d), manifest %q", after.Rev, v.Rev, after.CollectionsManifestUID)
	}

	e.do(t, "GET", "/pools/default/b/nope", nil).expect(t, http.StatusNotFound)
	e.do(t, "GET", "/pools/default/bs/nope", nil).expect(t, http.StatusNotFound)
}

func TestTerseBucket_Memcached(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "mc", "bucketType", "memcached")
	var v terseDoc
	e.do(t, "GET", "/pools/default/b/mc", nil).expect(t, http.StatusOK).json(t, &v)
	if v.NodeLocator != "ketama" || v.VBucketServerMap != nil || v.CollectionsManifestUID != "" || len(v.NodesExt) != 1 {
		t.Fatalf("memcached terse config = %+v", v)
	}
}

// streamReader decodes the JSON objects of a streaming response.
type streamReader struct {
	resp *http.Response
	dec  *json.Decoder
}

func (e *testEnv) openStream(t *testing.T, path string) *streamReader {
	t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testUser, testPass)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	return &streamReader{resp: resp, dec: json.NewDecoder(resp.Body)}
}

// next decodes the next object, failing after a timeout.
func (s *streamReader) next(t *testing.T, v any) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.dec.Decode(v) }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("no streamed object within 5s")
		return nil
	}
}

func TestTerseBucketStreaming(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "default")
	s := e.openStream(t, "/pools/default/bs/default")
	if ct := s.resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var first, second terseDoc
	if err := s.next(t, &first); err != nil {
		t.Fatalf("first config: %v", err)
	}
	if first.Name != "default" || first.CollectionsManifestUID != "0" {
		t.Fatalf("first config = %+v", first)
	}
	e.do(t, "POST", "/pools/default/buckets/default/scopes", form("name", "s1")).expect(t, http.StatusOK)
	if err := s.next(t, &second); err != nil {
		t.Fatalf("second config: %v", err)
	}
	if second.Rev <= first.Rev || second.CollectionsManifestUID != "1" {
		t.Fatalf("second config rev %d (first %d), manifest %q", second.Rev, first.Rev, second.CollectionsManifestUID)
	}
	// Deleting the bucket ends the stream, as in ns_server.
	e.do(t, "DELETE", "/pools/default/buckets/default", nil).expect(t, http.StatusOK)
	var rest terseDoc
	if err := s.next(t, &rest); err != io.EOF {
		t.Fatalf("after delete: %v (%+v), want EOF", err, rest)
	}
}

func TestStreaming_RawFormatAndClose(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "default")
	s := e.openStream(t, "/pools/default/nodeServicesStreaming")
	buf := make([]byte, 0, 4096)
	waitFor(t, 5*time.Second, "first chunk", func() bool {
		tmp := make([]byte, 4096)
		n, _ := s.resp.Body.Read(tmp)
		buf = append(buf, tmp[:n]...)
		return bytes.HasSuffix(buf, []byte("\n\n\n\n"))
	})
	var v nodeServicesDoc
	if err := json.Unmarshal(bytes.TrimSpace(buf), &v); err != nil || len(v.NodesExt) != 1 {
		t.Fatalf("chunk %q: %v", buf, err)
	}
	// Close ends every open stream.
	bs := e.openStream(t, "/pools/default/bs/default")
	var cfg terseDoc
	if err := bs.next(t, &cfg); err != nil {
		t.Fatal(err)
	}
	e.h.Close()
	if _, err := io.ReadAll(s.resp.Body); err != nil {
		t.Fatalf("nodeServices stream after Close: %v", err)
	}
	if err := bs.next(t, &cfg); err != io.EOF {
		t.Fatalf("bs stream after Close: %v, want EOF", err)
	}
}

func TestNodeServicesStreaming_PushesTopologyChanges(t *testing.T) {
	e := newTestEnv(t)
	s := e.openStream(t, "/pools/default/nodeServicesStreaming")
	var first, second nodeServicesDoc
	if err := s.next(t, &first); err != nil {
		t.Fatal(err)
	}
	e.cluster.set(func(c *fakeCluster) {
		c.nodes = append(c.nodes, NodeInfo{ID: "n2", UUID: "u2", Hostname: "127.0.0.9:8091", Healthy: true})
	})
	if err := s.next(t, &second); err != nil {
		t.Fatal(err)
	}
	if len(second.NodesExt) != 2 || second.Rev <= first.Rev || second.NodesExt[1].Hostname != "127.0.0.9" {
		t.Fatalf("pushed config = %+v (first rev %d)", second, first.Rev)
	}
}

func TestPoolsStreaming(t *testing.T) {
	e := newTestEnv(t)
	s := e.openStream(t, "/poolsStreaming/default")
	var v struct {
		Name  string     `json:"name"`
		Nodes []poolNode `json:"nodes"`
	}
	if err := s.next(t, &v); err != nil || v.Name != "default" || len(v.Nodes) != 1 {
		t.Fatalf("pool stream: %v %+v", err, v)
	}
}

func TestBucketsStreaming_FullInfo(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "default")
	s := e.openStream(t, "/pools/default/bucketsStreaming/default")
	var v bucketDoc
	if err := s.next(t, &v); err != nil || v.Name != "default" || v.VBucketServerMap == nil || v.BucketType != "membase" {
		t.Fatalf("bucketsStreaming: %v %+v", err, v)
	}
}

type manifestDoc struct {
	UID    string `json:"uid"`
	Scopes []struct {
		Name        string `json:"name"`
		UID         string `json:"uid"`
		Collections []struct {
			Name    string `json:"name"`
			UID     string `json:"uid"`
			MaxTTL  *int   `json:"maxTTL"`
			History *bool  `json:"history"`
		} `json:"collections"`
	} `json:"scopes"`
}

func (m manifestDoc) names() []string {
	var out []string
	for _, s := range m.Scopes {
		out = append(out, s.Name+"#"+s.UID)
		for _, c := range s.Collections {
			out = append(out, s.Name+"."+c.Name+"#"+c.UID)
		}
	}
	return out
}

func uidOf(t *testing.T, r response) string {
	t.Helper()
	var v map[string]string
	r.json(t, &v)
	if len(v) != 1 || v["uid"] == "" {
		t.Fatalf("body %q, want {\"uid\":...}", r.body)
	}
	return v["uid"]
}

func TestScopesAndCollections(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "b")
	base := "/pools/default/buckets/b/scopes"

	var m manifestDoc
	e.do(t, "GET", base, nil).expect(t, http.StatusOK).json(t, &m)
	if m.UID != "0" || !slices.Equal(m.names(), []string{"_default#0", "_default._default#0"}) {
		t.Fatalf("initial manifest = %+v", m)
	}
	if c := m.Scopes[0].Collections[0]; c.MaxTTL == nil || *c.MaxTTL != 0 || c.History == nil || *c.History {
		t.Fatalf("collection fields = %+v", c)
	}

	if uid := uidOf(t, e.do(t, "POST", base, form("name", "s1")).expect(t, http.StatusOK)); uid != "1" {
		t.Fatalf("create scope uid %q", uid)
	}
	if uid := uidOf(t, e.do(t, "POST", base+"/s1/collections", form("name", "c1", "maxTTL", "3600", "history", "false")).expect(t, http.StatusOK)); uid != "2" {
		t.Fatalf("create collection uid %q", uid)
	}
	e.do(t, "GET", base, nil).expect(t, http.StatusOK).json(t, &m)
	if m.UID != "2" || !slices.Equal(m.names(), []string{"_default#0", "_default._default#0", "s1#8", "s1.c1#8"}) {
		t.Fatalf("manifest = %+v", m.names())
	}

	globalErrs := []struct {
		name, method, path string
		form               url.Values
		status             int
		msg                string
	}{
		{"duplicate scope", "POST", base, form("name", "s1"), 400, `Scope with name "s1" already exists`},
		{"duplicate collection", "POST", base + "/s1/collections", form("name", "c1"), 400, `Collection with name "c1" in scope "s1" already exists`},
		{"collection in missing scope", "POST", base + "/nope/collections", form("name", "c1"), 404, `Scope with name "nope" is not found`},
		{"drop missing collection", "DELETE", base + "/s1/collections/nope", nil, 404, `Collection with name "nope" in scope "s1" is not found`},
		{"drop collection of missing scope", "DELETE", base + "/nope/collections/c1", nil, 404, `Scope with name "nope" is not found`},
		{"drop missing scope", "DELETE", base + "/nope", nil, 404, `Scope with name "nope" is not found`},
		{"drop default scope", "DELETE", base + "/_default", nil, 400, "Deleting _default scope is not allowed"},
	}
	for _, tc := range globalErrs {
		t.Run(tc.name, func(t *testing.T) {
			errs := e.do(t, tc.method, tc.path, tc.form).expect(t, tc.status).errorsOf(t)
			if len(errs) != 1 || errs["_"] != tc.msg {
				t.Fatalf("errors %v, want {_: %q}", errs, tc.msg)
			}
		})
	}

	if uid := uidOf(t, e.do(t, "DELETE", base+"/s1/collections/c1", nil).expect(t, http.StatusOK)); uid != "3" {
		t.Fatalf("drop collection uid %q", uid)
	}
	if uid := uidOf(t, e.do(t, "DELETE", base+"/s1", nil).expect(t, http.StatusOK)); uid != "4" {
		t.Fatalf("drop scope uid %q", uid)
	}
	// The _default collection may be dropped, as in Couchbase.
	e.do(t, "DELETE", base+"/_default/collections/_default", nil).expect(t, http.StatusOK)
	e.do(t, "GET", base, nil).expect(t, http.StatusOK).json(t, &m)
	if !slices.Equal(m.names(), []string{"_default#0"}) {
		t.Fatalf("final manifest = %v", m.names())
	}

	e.ks.setFail(consensus.ErrNotLeader)
	errs := e.do(t, "POST", base, form("name", "s2")).expect(t, http.StatusServiceUnavailable).errorsOf(t)
	e.ks.setFail(nil)
	if !strings.Contains(errs["_"], "not the cluster leader") {
		t.Fatalf("not-leader errors %v", errs)
	}
}

func TestScopesAndCollections_MissingOrMemcachedBucket(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "mc", "bucketType", "memcached")
	for _, tc := range []struct{ method, path string }{
		{"GET", "/pools/default/buckets/nope/scopes"},
		{"POST", "/pools/default/buckets/nope/scopes"},
		{"DELETE", "/pools/default/buckets/nope/scopes/s"},
		{"POST", "/pools/default/buckets/nope/scopes/s/collections"},
		{"DELETE", "/pools/default/buckets/nope/scopes/s/collections/c"},
	} {
		r := e.do(t, tc.method, tc.path, form("name", "x")).expect(t, http.StatusNotFound)
		if string(r.body) != "Requested resource not found.\r\n" {
			t.Fatalf("%s %s: body %q", tc.method, tc.path, r.body)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"POST", "/pools/default/buckets/mc/scopes"},
		{"DELETE", "/pools/default/buckets/mc/scopes/s"},
		{"POST", "/pools/default/buckets/mc/scopes/_default/collections"},
		{"DELETE", "/pools/default/buckets/mc/scopes/_default/collections/_default"},
	} {
		r := e.do(t, tc.method, tc.path, form("name", "x")).expect(t, http.StatusBadRequest)
		if string(r.body) != "Not allowed on this type of bucket" {
			t.Fatalf("%s %s: body %q", tc.method, tc.path, r.body)
		}
	}
}

func TestScopesAndCollections_Validation(t *testing.T) {
	e := newTestEnv(t)
	e.mustCreateBucket(t, "b")
	scopes := "/pools/default/buckets/b/scopes"
	colls := scopes + "/_default/collections"
	charsMsg := ` : Can only contain characters A-Z, a-z, 0-9 and the following symbols _ - %`
	cases := []struct {
		name string
		path string
		form url.Values
		want map[string]string
	}{
		{"scope without name", scopes, form(), map[string]string{"name": "The value must be supplied"}},
		{"empty scope name", scopes, form("name", ""), map[string]string{"name": "Name length (0) must be in the range from 1 to 251, inclusive"}},
		{"long scope name", scopes, form("name", strings.Repeat("s", 252)), map[string]string{"name": "Name length (252) must be in the range from 1 to 251, inclusive"}},
		{"bad scope name", scopes, form("name", "a b"), map[string]string{"name": `Invalid value "a b"` + charsMsg}},
		{"dotted scope name", scopes, form("name", "a.b"), map[string]string{"name": `Invalid value "a.b"` + charsMsg}},
		{"system scope name", scopes, form("name", "_system"), map[string]string{"name": "First character must not be _ or %"}},
		{"percent scope name", scopes, form("name", "%x"), map[string]string{"name": "First character must not be _ or %"}},
		{"scope unsupported key", scopes, form("name", "s", "maxTTL", "5"), map[string]string{"maxTTL": "Unsupported key"}},
		{"collection without name", colls, form("maxTTL", "5"), map[string]string{"name": "The value must be supplied"}},
		{"default collection", colls, form("name", "_default"), map[string]string{"name": "First character must not be _ or %"}},
		{"maxTTL not integer", colls, form("name", "c", "maxTTL", "soon"), map[string]string{"maxTTL": "The value must be an integer"}},
		{"maxTTL out of range", colls, form("name", "c", "maxTTL", "-2"), map[string]string{"maxTTL": "The value must be in range from -1 to 2147483647"}},
		{"history not boolean", colls, form("name", "c", "history", "maybe"), map[string]string{"history": "The value must be one of the following: [true,false]"}},
		{"collection unsupported key", colls, form("name", "c", "color", "red"), map[string]string{"color": "Unsupported key"}},
		{"duplicate key", colls, url.Values{"name": {"c", "d"}}, map[string]string{"name": "Key specified more than once"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", tc.path, tc.form).expect(t, http.StatusBadRequest)
			var v map[string]json.RawMessage
			r.json(t, &v)
			if _, ok := v["summaries"]; ok || len(v) != 1 {
				t.Fatalf("body %q has keys other than errors", r.body)
			}
			errs := r.errorsOf(t)
			if len(errs) != len(tc.want) {
				t.Fatalf("errors %v, want %v", errs, tc.want)
			}
			for k, msg := range tc.want {
				if errs[k] != msg {
					t.Fatalf("errors[%q] = %q, want %q", k, errs[k], msg)
				}
			}
		})
	}
	r := e.do(t, "POST", colls, form("name", "c", "history", "true")).expect(t, http.StatusBadRequest)
	if string(r.body) != "Not allowed on this type of bucket" {
		t.Fatalf("history=true body %q", r.body)
	}
	e.do(t, "POST", colls, form("name", "c", "maxTTL", "-1")).expect(t, http.StatusOK)
	b, _ := e.store.Bucket("b")
	if b.ManifestUID != 1 {
		t.Fatalf("manifest uid %d after one successful create, want 1", b.ManifestUID)
	}
}

func TestParseForm_BodyTooLarge(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.MaxBodyBytes = 64 })
	errs := e.do(t, "POST", "/pools/default/buckets", form("name", strings.Repeat("x", 100), "ramQuota", "100")).
		expect(t, http.StatusRequestEntityTooLarge).errorsOf(t)
	if !strings.Contains(errs["_"], "exceeds 64 bytes") {
		t.Fatalf("errors %v", errs)
	}
}

func TestRevTracker(t *testing.T) {
	var rt revTracker
	t0 := time.UnixMilli(1_000_000)
	r1 := rt.rev("k", []byte("a"), t0)
	if r1 != 1_000_000 {
		t.Fatalf("first rev %d, want the clock", r1)
	}
	if r := rt.rev("k", []byte("a"), t0.Add(time.Hour)); r != r1 {
		t.Fatalf("same content: rev %d, want %d", r, r1)
	}
	// A clock that went backwards still gives a larger revision.
	if r := rt.rev("k", []byte("b"), t0.Add(-time.Hour)); r != r1+1 {
		t.Fatalf("new content, old clock: rev %d, want %d", r, r1+1)
	}
	if r := rt.rev("k", []byte("c"), t0.Add(time.Second)); r != 1_001_000 {
		t.Fatalf("new content, later clock: rev %d", r)
	}
	rt.rev("other", []byte("x"), t0)
	rt.retain(func(k string) bool { return k == "k" })
	if _, ok := rt.m["other"]; ok || len(rt.m) != 1 {
		t.Fatalf("retain kept %v", rt.m)
	}
}

func TestTerseBucket_ForgetsRevisionsOfDeletedBuckets(t *testing.T) {
	e := newTestEnv(t)
	for i := range revPruneThreshold + 5 {
		name := "b" + strconv.Itoa(i)
		if err := e.store.CreateBucket(docstore.BucketSpec{Name: name, UUID: strconv.Itoa(i), RAMQuotaMB: 100}); err != nil {
			t.Fatal(err)
		}
		e.do(t, "GET", "/pools/default/b/"+name, nil).expect(t, http.StatusOK)
		if i > 0 {
			if err := e.store.DeleteBucket(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.do(t, "GET", "/pools/default/b/b0", nil).expect(t, http.StatusOK)
	if n := e.h.revs.size(); n > revPruneThreshold {
		t.Fatalf("tracker holds %d revisions with one bucket left", n)
	}
	e.do(t, "GET", "/pools/default/nodeServices", nil).expect(t, http.StatusOK)
}
