package clusterapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"eventide/docstore"
)

const mib = 1 << 20

// Couchbase's bucket limits.
const (
	maxBucketNameLen    = 100
	minRAMQuotaMB       = 100 // couchbase and ephemeral buckets
	minMemcachedQuotaMB = 64
)

// bucketCapabilities are advertised per bucket type. eventide serves no
// memcached protocol, so no KV feature (cccp, durableWrite, ...) is claimed.
var (
	couchbaseCapabilities = []string{"collections", "dcp", "nodesExt", "xattr"}
	memcachedCapabilities = []string{"nodesExt"}
)

func nodeLocator(b docstore.BucketInfo) string {
	if b.Type == docstore.BucketTypeMemcached {
		return "ketama"
	}
	return "vbucket"
}

func capabilities(b docstore.BucketInfo) []string {
	if b.Type == docstore.BucketTypeMemcached {
		return memcachedCapabilities
	}
	return couchbaseCapabilities
}

// vbMapJSON is a bucket's vBucketServerMap. serverList has one entry per
// node, in Nodes() order, so vBucketMap entries are node indexes. eventide
// keeps no replicas (every node holds every document), so each entry is
// [owner], the node whose eventing workers process that vbucket.
type vbMapJSON struct {
	HashAlgorithm string   `json:"hashAlgorithm"`
	NumReplicas   int      `json:"numReplicas"`
	ServerList    []string `json:"serverList"`
	VBucketMap    [][]int  `json:"vBucketMap"`
}

func (h *Server) vbMap(b docstore.BucketInfo, nodes []nodeView) *vbMapJSON {
	if b.Type == docstore.BucketTypeMemcached {
		return nil
	}
	servers := make([]string, len(nodes))
	for i, n := range nodes {
		servers[i] = n.hostPort(n.kv)
	}
	num := h.cat.NumVBuckets()
	owners := h.cluster.VBucketOwners(num)
	m := make([][]int, num)
	for vb := range m {
		o := -1
		if vb < len(owners) && owners[vb] >= 0 && owners[vb] < len(nodes) {
			o = owners[vb]
		}
		m[vb] = []int{o}
	}
	return &vbMapJSON{HashAlgorithm: "CRC", NumReplicas: 0, ServerList: servers, VBucketMap: m}
}

// terseNodeJSON is a node in a terse bucket config's legacy "nodes" list.
// gocbcore ignores a KV node of nodesExt that has no entry at the same
// index here, so both lists hold every node in the same order.
type terseNodeJSON struct {
	Hostname string         `json:"hostname"`
	Ports    map[string]int `json:"ports"`
}

// terseBucketJSON is ns_server's terse bucket config (/pools/default/b/,
// /pools/default/bs/): the cluster map SDKs bootstrap from.
type terseBucketJSON struct {
	Rev                    int64               `json:"rev"`
	RevEpoch               int64               `json:"revEpoch"`
	Name                   string              `json:"name"`
	NodeLocator            string              `json:"nodeLocator"`
	UUID                   string              `json:"uuid"`
	URI                    string              `json:"uri"`
	StreamingURI           string              `json:"streamingUri"`
	CollectionsManifestUID string              `json:"collectionsManifestUid,omitempty"`
	BucketCapabilitiesVer  string              `json:"bucketCapabilitiesVer"`
	BucketCapabilities     []string            `json:"bucketCapabilities"`
	VBucketServerMap       *vbMapJSON          `json:"vBucketServerMap,omitempty"`
	Nodes                  []terseNodeJSON     `json:"nodes"`
	NodesExt               []nodeExtJSON       `json:"nodesExt"`
	ClusterCapabilitiesVer []int               `json:"clusterCapabilitiesVer"`
	ClusterCapabilities    map[string][]string `json:"clusterCapabilities"`
}

func bucketURI(b docstore.BucketInfo) string {
	return "/pools/default/buckets/" + url.PathEscape(b.Name) + "?bucket_uuid=" + b.UUID
}

func bucketStreamingURI(b docstore.BucketInfo) string {
	return "/pools/default/bucketsStreaming/" + url.PathEscape(b.Name) + "?bucket_uuid=" + b.UUID
}

func manifestUID(b docstore.BucketInfo) string {
	if b.Type == docstore.BucketTypeMemcached {
		return ""
	}
	return strconv.FormatUint(b.ManifestUID, 16)
}

func bucketRevKey(b docstore.BucketInfo) string { return "bucket|" + b.Name + "|" + b.UUID }

func (h *Server) renderTerseBucket(r *http.Request, b docstore.BucketInfo) ([]byte, error) {
	nodes := h.nodeViews(r)
	tn := make([]terseNodeJSON, len(nodes))
	for i, n := range nodes {
		tn[i] = terseNodeJSON{Hostname: n.hostPort(n.mgmt), Ports: map[string]int{"direct": n.kv}}
	}
	v := terseBucketJSON{
		RevEpoch:               1,
		Name:                   b.Name,
		NodeLocator:            nodeLocator(b),
		UUID:                   b.UUID,
		URI:                    bucketURI(b),
		StreamingURI:           bucketStreamingURI(b),
		CollectionsManifestUID: manifestUID(b),
		BucketCapabilitiesVer:  "",
		BucketCapabilities:     capabilities(b),
		VBucketServerMap:       h.vbMap(b, nodes),
		Nodes:                  tn,
		NodesExt:               nodesExt(nodes),
		ClusterCapabilitiesVer: clusterCapabilitiesVer,
		ClusterCapabilities:    clusterCapabilities(),
	}
	if h.revs.size() > revPruneThreshold {
		h.pruneRevs()
	}
	return h.withRev(bucketRevKey(b), &v.Rev, &v)
}

// revPruneThreshold is the tracker size above which revisions of deleted
// buckets are dropped.
const revPruneThreshold = 64

// pruneRevs forgets the revisions of buckets that no longer exist.
func (h *Server) pruneRevs() {
	keep := map[string]bool{}
	for _, b := range h.cat.Buckets() {
		keep[bucketRevKey(b)] = true
	}
	h.revs.retain(func(k string) bool { return !strings.HasPrefix(k, "bucket|") || keep[k] })
}

// lookupBucket finds the bucket of a request, applying ns_server's
// optional ?bucket_uuid= check. It writes the 404 itself.
func (h *Server) lookupBucket(w http.ResponseWriter, r *http.Request, name string) (docstore.BucketInfo, bool) {
	b, err := h.cat.Bucket(name)
	if err != nil {
		if errors.Is(err, docstore.ErrBucketNotFound) || errors.Is(err, docstore.ErrNotFound) {
			h.writeError(w, r, notFound())
		} else {
			h.writeError(w, r, err)
		}
		return b, false
	}
	if want := r.URL.Query().Get("bucket_uuid"); want != "" && want != b.UUID {
		h.writeError(w, r, textError(http.StatusNotFound, "Bucket uuid does not match the requested.\r\n"))
		return b, false
	}
	return b, true
}

func (h *Server) getTerseBucket(w http.ResponseWriter, r *http.Request, p params) {
	b, ok := h.lookupBucket(w, r, p["bucket"])
	if !ok {
		return
	}
	body, err := h.renderTerseBucket(r, b)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeRawJSON(w, body)
}

func (h *Server) streamTerseBucket(w http.ResponseWriter, r *http.Request, p params) {
	h.streamBucketWith(w, r, p["bucket"], func(b docstore.BucketInfo) ([]byte, error) { return h.renderTerseBucket(r, b) })
}

// streamBucket serves ns_server's /pools/default/bucketsStreaming/{bucket}
// (the full bucket info; gocbcore falls back to it when bs/ is missing).
func (h *Server) streamBucket(w http.ResponseWriter, r *http.Request, p params) {
	h.streamBucketWith(w, r, p["bucket"], func(b docstore.BucketInfo) ([]byte, error) {
		return json.Marshal(h.bucketJSON(b, h.nodeViews(r), false))
	})
}

// streamBucketWith streams render(bucket) while the bucket exists with the
// UUID it had when the stream started.
func (h *Server) streamBucketWith(w http.ResponseWriter, r *http.Request, name string, render func(docstore.BucketInfo) ([]byte, error)) {
	wantUUID := r.URL.Query().Get("bucket_uuid")
	first := true
	h.stream(w, r, func() ([]byte, bool, error) {
		b, err := h.cat.Bucket(name)
		if err != nil {
			if errors.Is(err, docstore.ErrBucketNotFound) || errors.Is(err, docstore.ErrNotFound) {
				return nil, false, nil
			}
			return nil, false, err
		}
		if first && wantUUID == "" {
			wantUUID = b.UUID // a recreated bucket of the same name ends the stream
		}
		first = false
		if b.UUID != wantUUID {
			return nil, false, nil
		}
		body, err := render(b)
		return body, true, err
	})
}

// bucketJSON is ns_server's full bucket info (GET /pools/default/buckets).
type bucketJSON struct {
	Name                   string            `json:"name"`
	NodeLocator            string            `json:"nodeLocator"`
	BucketType             string            `json:"bucketType"`
	StorageBackend         string            `json:"storageBackend,omitempty"`
	UUID                   string            `json:"uuid"`
	URI                    string            `json:"uri"`
	StreamingURI           string            `json:"streamingUri"`
	NumVBuckets            int               `json:"numVBuckets,omitempty"`
	BucketCapabilitiesVer  string            `json:"bucketCapabilitiesVer"`
	BucketCapabilities     []string          `json:"bucketCapabilities"`
	CollectionsManifestUID string            `json:"collectionsManifestUid,omitempty"`
	VBucketServerMap       *vbMapJSON        `json:"vBucketServerMap,omitempty"`
	LocalRandomKeyURI      string            `json:"localRandomKeyUri"`
	Controllers            map[string]string `json:"controllers"`
	Nodes                  []nodeJSON        `json:"nodes"`
	Stats                  map[string]string `json:"stats"`
	AuthType               string            `json:"authType"`
	AutoCompactionSettings any               `json:"autoCompactionSettings,omitempty"`
	ReplicaIndex           *bool             `json:"replicaIndex,omitempty"`
	ReplicaNumber          int               `json:"replicaNumber"`
	ThreadsNumber          int               `json:"threadsNumber"`
	Quota                  quotaJSON         `json:"quota"`
	BasicStats             basicStatsJSON    `json:"basicStats"`
	EvictionPolicy         string            `json:"evictionPolicy,omitempty"`
	DurabilityMinLevel     string            `json:"durabilityMinLevel"`
	ConflictResolutionType string            `json:"conflictResolutionType"`
	MaxTTL                 int               `json:"maxTTL"`
	CompressionMode        string            `json:"compressionMode"`
}

type quotaJSON struct {
	RAM    int64 `json:"ram"`    // bytes, all nodes
	RawRAM int64 `json:"rawRAM"` // bytes, per node
}

type basicStatsJSON struct {
	QuotaPercentUsed       float64 `json:"quotaPercentUsed"`
	OpsPerSec              float64 `json:"opsPerSec"`
	DiskFetches            float64 `json:"diskFetches"`
	ItemCount              int     `json:"itemCount"`
	DiskUsed               int64   `json:"diskUsed"`
	DataUsed               int64   `json:"dataUsed"`
	MemUsed                int64   `json:"memUsed"`
	VBActiveNumNonResident int64   `json:"vbActiveNumNonResident"`
}

func (h *Server) bucketJSON(b docstore.BucketInfo, nodes []nodeView, skipMap bool) bucketJSON {
	base := "/pools/default/buckets/" + url.PathEscape(b.Name)
	nj := make([]nodeJSON, len(nodes))
	for i, n := range nodes {
		nj[i] = h.nodeJSON(n)
	}
	v := bucketJSON{
		Name:                   b.Name,
		NodeLocator:            nodeLocator(b),
		BucketType:             b.Type,
		UUID:                   b.UUID,
		URI:                    bucketURI(b),
		StreamingURI:           bucketStreamingURI(b),
		BucketCapabilitiesVer:  "",
		BucketCapabilities:     capabilities(b),
		CollectionsManifestUID: manifestUID(b),
		LocalRandomKeyURI:      base + "/localRandomKey",
		Controllers: map[string]string{
			"compactAll":    base + "/controller/compactBucket",
			"compactDB":     base + "/controller/compactDatabases",
			"purgeDeletes":  base + "/controller/unsafePurgeBucket",
			"startRecovery": base + "/controller/startRecovery",
		},
		Nodes: nj,
		Stats: map[string]string{
			"uri":              base + "/stats",
			"directoryURI":     base + "/stats/Directory",
			"nodeStatsListURI": base + "/nodes",
		},
		AuthType:      "sasl",
		ThreadsNumber: 3,
		Quota: quotaJSON{
			RAM:    int64(b.RAMQuotaMB) * mib * int64(len(nodes)),
			RawRAM: int64(b.RAMQuotaMB) * mib,
		},
		BasicStats:             basicStatsJSON{ItemCount: b.ItemCount},
		DurabilityMinLevel:     "none",
		ConflictResolutionType: "seqno",
		CompressionMode:        "passive",
	}
	switch b.Type {
	case docstore.BucketTypeMemcached:
		v.AutoCompactionSettings = false
	case docstore.BucketTypeEphemeral:
		v.NumVBuckets = h.cat.NumVBuckets()
		v.EvictionPolicy = "noEviction"
	default:
		v.NumVBuckets = h.cat.NumVBuckets()
		v.StorageBackend = "couchstore"
		v.AutoCompactionSettings = false
		v.ReplicaIndex = new(bool)
		v.EvictionPolicy = "valueOnly"
	}
	if !skipMap {
		v.VBucketServerMap = h.vbMap(b, nodes)
	}
	return v
}

func (h *Server) listBuckets(w http.ResponseWriter, r *http.Request, _ params) {
	buckets := h.cat.Buckets()
	nodes := h.nodeViews(r)
	skipMap := r.URL.Query().Get("skipMap") == "true"
	out := make([]bucketJSON, len(buckets))
	for i, b := range buckets {
		out[i] = h.bucketJSON(b, nodes, skipMap)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Server) getBucket(w http.ResponseWriter, r *http.Request, p params) {
	b, ok := h.lookupBucket(w, r, p["bucket"])
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, h.bucketJSON(b, h.nodeViews(r), r.URL.Query().Get("skipMap") == "true"))
}

// bucketForm is a validated bucket create request.
type bucketForm struct {
	name    string
	quotaMB int
	typ     string // docstore.BucketType*
}

// validateBucketForm applies ns_server's checks (menelaus_web_buckets) in
// its order, with its messages, collecting every field's first error.
func (h *Server) validateBucketForm(form url.Values, existing []docstore.BucketInfo, nodes int) (bucketForm, fieldErrors, any) {
	fe := fieldErrors{}
	var bf bucketForm

	names, present := form["name"]
	switch {
	case !present:
		fe.add("name", "Bucket name needs to be specified")
	case names[0] == "":
		fe.add("name", "Bucket name cannot be empty")
	case len(names[0]) > maxBucketNameLen:
		fe.add("name", fmt.Sprintf("Bucket name cannot exceed %d characters", maxBucketNameLen))
	default:
		bf.name = names[0]
		if msg := bucketNameError(bf.name); msg != "" {
			fe.add("name", msg)
		}
		for _, b := range existing {
			if strings.EqualFold(b.Name, bf.name) {
				fe.add("name", "Bucket with given name already exists")
			}
		}
	}

	validType := true
	switch form.Get("bucketType") {
	case "", "couchbase", "membase":
		bf.typ = docstore.BucketTypeMembase
	case "ephemeral":
		bf.typ = docstore.BucketTypeEphemeral
	case "memcached":
		bf.typ = docstore.BucketTypeMemcached
	default:
		validType = false
		fe.add("bucketType", "invalid bucket type")
	}

	raw, ok := form["ramQuota"]
	if !ok {
		raw, ok = form["ramQuotaMB"]
	}
	quotaOK := false
	if q, err := strconv.ParseInt(strings.TrimSpace(first(raw)), 10, 64); !ok || err != nil {
		fe.add("ramQuota", "The RAM Quota must be specified and must be a positive integer.")
	} else if q < 0 {
		fe.add("ramQuota", "The RAM Quota cannot be negative.")
	} else {
		// Capped so that the byte arithmetic below cannot overflow; any
		// quota this large is reported as too large anyway.
		bf.quotaMB = int(min(q, 1<<30))
		quotaOK = true
	}
	if quotaOK && validType {
		least := minRAMQuotaMB
		if bf.typ == docstore.BucketTypeMemcached {
			least = minMemcachedQuotaMB
		}
		if bf.quotaMB < least {
			fe.add("ramQuota", fmt.Sprintf("RAM quota cannot be less than %d MiB", least))
		}
	}

	// RAM summary, per ns_server's #ram_summary, in bytes over all nodes.
	var otherMB int64
	for _, b := range existing {
		otherMB += int64(b.RAMQuotaMB)
	}
	n := int64(max(nodes, 1))
	total := int64(h.cfg.MemoryQuotaMB) * mib * n
	thisAlloc := int64(bf.quotaMB) * mib * n
	free := total - otherMB*mib*n - thisAlloc
	if quotaOK && free < 0 {
		fe.add("ramQuota", "RAM quota specified is too large to be provisioned into this cluster.")
	}
	summaries := map[string]any{
		"ramSummary": map[string]int64{
			"total":        total,
			"otherBuckets": otherMB * mib * n,
			"nodesCount":   n,
			"perNodeMegs":  int64(bf.quotaMB),
			"thisAlloc":    thisAlloc,
			"thisUsed":     0,
			"free":         free,
		},
		"hddSummary": map[string]int64{"total": 0, "otherData": 0, "otherBuckets": 0, "thisUsed": 0, "free": 0},
	}
	return bf, fe, summaries
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// bucketNameError checks characters and reserved names (ns_bucket's
// is_valid_bucket_name) and returns ns_server's message, or "".
func bucketNameError(name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == '-' || c == '%'
		if !ok {
			return "Bucket name can only contain characters in range A-Z, a-z, 0-9 as well as underscore, period, dash & percent. Consult the documentation."
		}
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "_users.couch.") || strings.HasPrefix(lower, "_replicator.couch.") {
		return "This name is reserved for the internal use."
	}
	if name[0] == '.' {
		return "Bucket name cannot start with dot."
	}
	if strings.Contains(name, ".") {
		return bucketNamePeriod
	}
	return ""
}

// bucketNamePeriod refuses a rule Couchbase does not have: eventide serves
// the Sync Gateway API over every bucket, and its keyspace path segment
// ("db", "db.collection", "db.scope.collection") splits on periods, so a
// bucket named with one could not be addressed there. Refusing it at
// creation keeps every bucket reachable through every API.
const bucketNamePeriod = "Bucket name cannot contain a period (.): eventide serves the Sync Gateway API over every bucket, and its keyspace paths (db.scope.collection) use periods as separators."

// parseForm reads an x-www-form-urlencoded body (not the query string, as
// ns_server's parse_post), bounded by MaxBodyBytes.
func (h *Server) parseForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.writeError(w, r, globalError(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body exceeds %d bytes", tooBig.Limit)))
		} else {
			h.writeError(w, r, globalError(http.StatusBadRequest, "Invalid form body: it is not valid application/x-www-form-urlencoded"))
		}
		return nil, false
	}
	return r.PostForm, true
}

func (h *Server) createBucket(w http.ResponseWriter, r *http.Request, _ params) {
	form, ok := h.parseForm(w, r)
	if !ok {
		return
	}
	nodes := h.cluster.Nodes()
	bf, fe, summaries := h.validateBucketForm(form, h.cat.Buckets(), len(nodes))
	if len(fe) > 0 {
		h.writeError(w, r, validationError(fe, summaries))
		return
	}
	if form.Get("just_validate") == "1" || r.URL.Query().Get("just_validate") == "1" {
		writeJSON(w, http.StatusOK, map[string]any{"errors": map[string]string{}, "summaries": summaries})
		return
	}
	uuid, err := newUUID()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	spec := docstore.BucketSpec{Name: bf.name, UUID: uuid, RAMQuotaMB: bf.quotaMB, Type: bf.typ}
	if err := h.ks.CreateBucket(r.Context(), spec); err != nil {
		h.writeError(w, r, h.bucketError(err, summaries))
		return
	}
	writeEmpty(w, http.StatusAccepted)
}

func (h *Server) deleteBucket(w http.ResponseWriter, r *http.Request, p params) {
	name := p["bucket"]
	if _, ok := h.lookupBucket(w, r, name); !ok {
		return
	}
	if err := h.ks.DeleteBucket(r.Context(), name); err != nil {
		h.writeError(w, r, h.bucketError(err, nil))
		return
	}
	writeEmpty(w, http.StatusOK)
}

// newUUID returns 16 random bytes in hex, the form of ns_server's bucket
// UUIDs. The proposer decides it so that the FSM stays deterministic.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate bucket uuid: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
