package clusterapi

import (
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"time"

	"eventide/node/rest/restauth"
)

// clusterCompatibility is ns_server's encoding of the 7.6 compat version
// (major << 16 | minor).
const clusterCompatibility = 7<<16 | 6

// defaultKVPort is advertised when a node reports no KV port; see Ports.KV.
const defaultKVPort = 11210

// nodeView is one member with its advertised address resolved.
type nodeView struct {
	NodeInfo
	host string // host only; IPv6 unbracketed
	mgmt int
	kv   int
}

// hostPort renders host:port, bracketing IPv6 hosts.
func (n nodeView) hostPort(port int) string { return net.JoinHostPort(n.host, strconv.Itoa(port)) }

// nodeViews reads the members once for a response.
func (h *Server) nodeViews(r *http.Request) []nodeView {
	infos := h.cluster.Nodes()
	out := make([]nodeView, 0, len(infos))
	for _, ni := range infos {
		v := nodeView{NodeInfo: ni, mgmt: ni.Ports.Mgmt, kv: ni.Ports.KV}
		host, port, err := net.SplitHostPort(ni.Hostname)
		if err != nil {
			host = ni.Hostname // no port given
		} else if v.mgmt == 0 {
			v.mgmt, _ = strconv.Atoi(port)
		}
		if v.mgmt == 0 {
			v.mgmt = 8091
		}
		if v.kv == 0 {
			v.kv = defaultKVPort
		}
		if ip := net.ParseIP(host); ni.ThisNode && (host == "" || ip != nil && ip.IsUnspecified()) {
			// Advertise the address the client used to reach us.
			if rh, _, err := net.SplitHostPort(r.Host); err == nil {
				host = rh
			} else if r.Host != "" {
				host = r.Host
			}
		}
		v.host = host
		out = append(out, v)
	}
	return out
}

func hasService(ni NodeInfo, svc string) bool { return slices.Contains(ni.Services, svc) }

// nodeJSON is a node in /pools/default and in full bucket info.
type nodeJSON struct {
	ClusterMembership    string             `json:"clusterMembership"`
	RecoveryType         string             `json:"recoveryType"`
	Status               string             `json:"status"`
	OTPNode              string             `json:"otpNode"`
	ThisNode             bool               `json:"thisNode,omitempty"`
	Hostname             string             `json:"hostname"`
	ConfiguredHostname   string             `json:"configuredHostname"`
	NodeUUID             string             `json:"nodeUUID"`
	NodeID               string             `json:"nodeId"` // eventide: the Raft server ID
	ClusterCompatibility int                `json:"clusterCompatibility"`
	Version              string             `json:"version"`
	OS                   string             `json:"os"`
	CPUCount             int                `json:"cpuCount"`
	Ports                map[string]int     `json:"ports"`
	Services             []string           `json:"services"`
	NodeEncryption       bool               `json:"nodeEncryption"`
	AddressFamily        string             `json:"addressFamily"`
	Uptime               string             `json:"uptime"`
	MemoryTotal          int64              `json:"memoryTotal"`
	MemoryFree           int64              `json:"memoryFree"`
	MCDMemoryReserved    int64              `json:"mcdMemoryReserved"`
	MCDMemoryAllocated   int64              `json:"mcdMemoryAllocated"`
	InterestingStats     map[string]float64 `json:"interestingStats"`
}

func (h *Server) nodeJSON(n nodeView) nodeJSON {
	status := "healthy"
	if !n.Healthy {
		status = "unhealthy"
	}
	family := "inet"
	if ip := net.ParseIP(n.host); ip != nil && ip.To4() == nil {
		family = "inet6"
	}
	services := slices.Clone(n.Services)
	if services == nil {
		services = []string{}
	}
	slices.Sort(services)
	uptime := "0"
	cpus := 0
	if n.ThisNode {
		uptime = strconv.FormatInt(int64(time.Since(h.started)/time.Second), 10)
		cpus = runtime.NumCPU()
	}
	ports := map[string]int{"direct": n.kv}
	for name, p := range map[string]int{
		"eventingAdminPort": n.Ports.Eventing,
		"n1ql":              n.Ports.Query,
		"syncGateway":       n.Ports.SyncGateway,
		"raft":              n.Ports.Raft,
		"grpc":              n.Ports.GRPC,
	} {
		if p > 0 {
			ports[name] = p
		}
	}
	hp := n.hostPort(n.mgmt)
	return nodeJSON{
		ClusterMembership:    "active",
		RecoveryType:         "none",
		Status:               status,
		OTPNode:              n.ID + "@" + n.host,
		ThisNode:             n.ThisNode,
		Hostname:             hp,
		ConfiguredHostname:   hp,
		NodeUUID:             n.UUID,
		NodeID:               n.ID,
		ClusterCompatibility: clusterCompatibility,
		Version:              h.cfg.Version,
		OS:                   runtime.GOOS + "/" + runtime.GOARCH,
		CPUCount:             cpus,
		Ports:                ports,
		Services:             services,
		AddressFamily:        family,
		Uptime:               uptime,
		InterestingStats:     map[string]float64{},
	}
}

// nodeExtJSON is a node in nodesExt (nodeServices and terse bucket
// configs): what SDKs build their endpoint lists from.
type nodeExtJSON struct {
	Services map[string]int `json:"services"`
	ThisNode bool           `json:"thisNode,omitempty"`
	Hostname string         `json:"hostname"`
	NodeUUID string         `json:"nodeUUID"`
	NodeID   string         `json:"nodeId"` // eventide: the Raft server ID
}

func nodeExt(n nodeView) nodeExtJSON {
	svc := map[string]int{"mgmt": n.mgmt, "kv": n.kv}
	if hasService(n.NodeInfo, "eventing") && n.Ports.Eventing > 0 {
		svc["eventingAdminPort"] = n.Ports.Eventing
	}
	if hasService(n.NodeInfo, "n1ql") && n.Ports.Query > 0 {
		svc["n1ql"] = n.Ports.Query
	}
	// eventide's own listeners; Couchbase SDKs ignore unknown services.
	for name, p := range map[string]int{"syncGateway": n.Ports.SyncGateway, "raft": n.Ports.Raft, "grpc": n.Ports.GRPC} {
		if p > 0 {
			svc[name] = p
		}
	}
	return nodeExtJSON{Services: svc, ThisNode: n.ThisNode, Hostname: n.host, NodeUUID: n.UUID, NodeID: n.ID}
}

func nodesExt(nodes []nodeView) []nodeExtJSON {
	out := make([]nodeExtJSON, len(nodes))
	for i, n := range nodes {
		out[i] = nodeExt(n)
	}
	return out
}

// clusterCapabilities are the cluster-wide features SDKs look for in a
// cluster map. n1ql's "enhancedPreparedStatements" makes gocb prepare a
// statement and run it in one request (auto_execute), reading the plan's
// name from the answer's "prepared" field (DESIGN.md, finding 13).
func clusterCapabilities() map[string][]string {
	return map[string][]string{"n1ql": {"enhancedPreparedStatements"}}
}

var clusterCapabilitiesVer = []int{1, 0}

func (h *Server) getPools(w http.ResponseWriter, r *http.Request, _ params) {
	uuid := h.cluster.ClusterUUID()
	writeJSON(w, http.StatusOK, map[string]any{
		"isAdminCreds":       true,
		"isROAdminCreds":     false,
		"isEnterprise":       true,
		"isIPv6":             false,
		"isDeveloperPreview": false,
		"packageVariant":     "",
		"allowedServices":    []string{"eventing", "kv", "n1ql"},
		"pools": []map[string]string{{
			"name":         "default",
			"uri":          "/pools/default?uuid=" + uuid,
			"streamingUri": "/poolsStreaming/default?uuid=" + uuid,
		}},
		"settings": map[string]string{
			"maxParallelIndexers": "/settings/maxParallelIndexers?uuid=" + uuid,
			"viewUpdateDaemon":    "/settings/viewUpdateDaemon?uuid=" + uuid,
		},
		"uuid":                  uuid,
		"implementationVersion": h.cfg.Version,
		"componentsVersion":     map[string]string{"ns_server": h.cfg.Version},
	})
}

func (h *Server) poolDefault(r *http.Request) map[string]any {
	uuid := h.cluster.ClusterUUID()
	views := h.nodeViews(r)
	nodes := make([]nodeJSON, len(views))
	for i, n := range views {
		nodes[i] = h.nodeJSON(n)
	}
	buckets := h.cat.Buckets()
	var usedMB int64
	for _, b := range buckets {
		usedMB += int64(b.RAMQuotaMB)
	}
	quota := int64(h.cfg.MemoryQuotaMB)
	return map[string]any{
		"name":  "default",
		"nodes": nodes,
		"buckets": map[string]string{
			"uri":                       "/pools/default/buckets?uuid=" + uuid,
			"terseBucketsBase":          "/pools/default/b/",
			"terseStreamingBucketsBase": "/pools/default/bs/",
		},
		"raftLeader":           h.cluster.RaftLeader(),
		"nodeServicesUri":      "/pools/default/nodeServices?uuid=" + uuid,
		"nodeStatusesUri":      "/nodeStatuses",
		"rebalanceStatus":      "none",
		"rebalanceProgressUri": "/pools/default/rebalanceProgress",
		"stopRebalanceUri":     "/controller/stopRebalance?uuid=" + uuid,
		"balanced":             true,
		"clusterName":          "",
		"alerts":               []string{},
		"maxBucketCount":       30,
		"memoryQuota":          quota,
		"storageTotals": map[string]any{
			"ram": map[string]int64{
				"quotaTotal":        quota * mib * int64(len(views)),
				"quotaUsed":         usedMB * mib * int64(len(views)),
				"quotaTotalPerNode": quota * mib,
				"quotaUsedPerNode":  usedMB * mib,
			},
		},
		"clusterCapabilitiesVer": clusterCapabilitiesVer,
		"clusterCapabilities":    clusterCapabilities(),
	}
}

func (h *Server) getPoolDefault(w http.ResponseWriter, r *http.Request, _ params) {
	writeJSON(w, http.StatusOK, h.poolDefault(r))
}

func (h *Server) streamPoolDefault(w http.ResponseWriter, r *http.Request, _ params) {
	h.stream(w, r, func() ([]byte, bool, error) {
		b, err := json.Marshal(h.poolDefault(r))
		return b, true, err
	})
}

// nodeServicesJSON is ns_server's /pools/default/nodeServices, the
// bucket-less cluster map.
type nodeServicesJSON struct {
	Rev                    int64               `json:"rev"`
	RevEpoch               int64               `json:"revEpoch"`
	NodesExt               []nodeExtJSON       `json:"nodesExt"`
	ClusterCapabilitiesVer []int               `json:"clusterCapabilitiesVer"`
	ClusterCapabilities    map[string][]string `json:"clusterCapabilities"`
}

const nodeServicesRevKey = "nodeServices"

func (h *Server) renderNodeServices(r *http.Request) ([]byte, error) {
	v := nodeServicesJSON{
		RevEpoch:               1,
		NodesExt:               nodesExt(h.nodeViews(r)),
		ClusterCapabilitiesVer: clusterCapabilitiesVer,
		ClusterCapabilities:    clusterCapabilities(),
	}
	return h.withRev(nodeServicesRevKey, &v.Rev, &v)
}

// withRev renders v with *rev set to the revision of its content.
func (h *Server) withRev(key string, rev *int64, v any) ([]byte, error) {
	*rev = 0
	content, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	*rev = h.revs.rev(key, content, h.now())
	return json.Marshal(v)
}

func (h *Server) getNodeServices(w http.ResponseWriter, r *http.Request, _ params) {
	b, err := h.renderNodeServices(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeRawJSON(w, b)
}

func (h *Server) streamNodeServices(w http.ResponseWriter, r *http.Request, _ params) {
	h.stream(w, r, func() ([]byte, bool, error) {
		b, err := h.renderNodeServices(r)
		return b, true, err
	})
}

// getWhoami is ns_server's /whoami. gocb's WaitUntilReady pings it on every
// management endpoint and requires a 200.
func (h *Server) getWhoami(w http.ResponseWriter, r *http.Request, _ params) {
	id, _ := restauth.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"id":     id.User,
		"domain": "admin",
		"roles":  []map[string]string{{"role": "admin"}},
	})
}

func writeRawJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
