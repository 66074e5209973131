package node_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"eventide/clustersec"
	"eventide/consensus"
	"eventide/docstore"
	"eventide/membership"
	"eventide/node"
	"eventide/node/nodetest"
	"eventide/proto/nodepb"
)

// The attacks of issue 8 against a running node: a process without the
// cluster secret tries the node-to-node ports. Every attacker is built the
// way a real one would be, and each attack is also made once with the
// cluster's credentials to show it is the credentials that stop it.

// otherSecret is an attacker's secret: a real cluster CA, just not this
// cluster's.
const otherSecret = "not the cluster's secret, but long"

// identity issues a TLS identity from secret, failing the test on error.
func identity(t *testing.T, secret string) *clustersec.Identity {
	t.Helper()
	k, err := clustersec.Derive([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	id, err := k.Issue("attacker")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// attackerTLS are the client TLS configs of a process without the
// cluster secret. They skip verifying the server: an attacker does not
// care whom it talks to, only whether the node lets it in.
func attackerTLS(t *testing.T) map[string]*tls.Config {
	t.Helper()
	other := identity(t, otherSecret).ClientTLS()
	other.InsecureSkipVerify = true
	return map[string]*tls.Config{
		"no TLS":                           nil,
		"TLS without a client certificate": {InsecureSkipVerify: true, MinVersion: tls.VersionTLS12},
		"certificate of another secret":    other,
	}
}

// createBucketEntry returns a Raft log entry that creates bucket, framed
// by a real eventide follower exactly as it would forward it, from a
// two-store cluster of the attacker's own.
func createBucketEntry(t *testing.T, bucket string) []byte {
	t.Helper()
	open := func(id string, bootstrap bool, fwd consensus.Forwarder) *consensus.Store {
		cfg := consensus.DefaultConfig()
		cfg.NodeID, cfg.DataDir, cfg.BindAddr, cfg.Bootstrap = id, t.TempDir(), "127.0.0.1:0", bootstrap
		cfg.NumVBuckets, cfg.Forwarder = 64, fwd
		s, err := consensus.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	leader := open("a1", true, nil)
	nodetest.WaitFor(t, 10*time.Second, "the attacker's store to lead", leader.IsLeader)
	rec := &recordingForwarder{leader: leader}
	follower := open("a2", false, rec)
	if err := leader.AddVoter(ctxT(t, 10*time.Second), "a2", follower.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := follower.CreateBucket(ctxT(t, 10*time.Second), docstore.BucketSpec{Name: bucket, UUID: "0123456789abcdef", Type: "membase"}); err != nil {
		t.Fatalf("frame a create-bucket entry: %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.entry == nil {
		t.Fatal("the follower forwarded no entry")
	}
	return rec.entry
}

// recordingForwarder hands a follower's entries to leader directly and
// keeps the last one.
type recordingForwarder struct {
	leader *consensus.Store
	mu     sync.Mutex
	entry  []byte
}

func (r *recordingForwarder) Forward(ctx context.Context, _, _ string, entry []byte) error {
	r.mu.Lock()
	r.entry = append([]byte(nil), entry...)
	r.mu.Unlock()
	return r.leader.ApplyEntry(ctx, entry)
}

// grpcNode dials addr's Node service with creds.
func grpcNode(t *testing.T, addr string, creds credentials.TransportCredentials) nodepb.NodeClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return nodepb.NewNodeClient(cc)
}

// noAnswer fails the test unless err is the failure of a call that never
// reached the service: the transport refused (Unavailable) or the caller
// gave up waiting for a connection (DeadlineExceeded).
func noAnswer(t *testing.T, what string, err error) {
	t.Helper()
	if c := status.Code(err); c != codes.Unavailable && c != codes.DeadlineExceeded {
		t.Errorf("%s answered: %v (code %v), want no answer", what, err, c)
	}
}

func TestSecurity_GRPCNeedsClusterCertificate(t *testing.T) {
	c := nodetest.NewCluster(t, 1, nodetest.Options{})
	n := c.Nodes[0]
	addr := n.Addr(node.APIGRPC)
	const bucket = "stolen"
	entry := createBucketEntry(t, bucket)

	for name, cfg := range attackerTLS(t) {
		t.Run(name, func(t *testing.T) {
			creds := insecure.NewCredentials()
			if cfg != nil {
				creds = credentials.NewTLS(cfg)
			}
			nc := grpcNode(t, addr, creds)
			_, err := nc.Forward(ctxT(t, 3*time.Second), &nodepb.ForwardRequest{Entry: entry})
			noAnswer(t, "Forward", err)
			_, err = nc.FunctionStats(ctxT(t, 3*time.Second), &nodepb.FunctionStatsRequest{Function: "b/_default/fn"})
			noAnswer(t, "FunctionStats", err)
			_, err = nc.AppLog(ctxT(t, 3*time.Second), &nodepb.AppLogRequest{Function: "b/_default/fn", Size: 1024})
			noAnswer(t, "AppLog", err)
			_, err = nc.ResetStats(ctxT(t, 3*time.Second), &nodepb.ResetStatsRequest{Function: "b/_default/fn"})
			noAnswer(t, "ResetStats", err)
			if cfg != nil {
				// The refusal is the handshake's, before any gRPC byte.
				if err := tlsHandshake(addr, cfg); err == nil {
					t.Error("the gRPC port completed a TLS handshake with the attacker")
				}
			}
		})
	}
	if _, err := n.Store().Docs().Bucket(bucket); err == nil {
		t.Fatalf("bucket %q exists: an attacker's Forward was applied", bucket)
	}

	// The same entry and calls with the cluster's credentials are answered:
	// nothing but the credentials stopped the attacker.
	nc := grpcNode(t, addr, credentials.NewTLS(identity(t, c.Secret).ClientTLS()))
	if _, err := nc.FunctionStats(ctxT(t, 10*time.Second), &nodepb.FunctionStatsRequest{Function: "b/_default/fn"}); err != nil {
		t.Fatalf("FunctionStats with the cluster's certificate: %v", err)
	}
	if _, err := nc.Forward(ctxT(t, 10*time.Second), &nodepb.ForwardRequest{Entry: entry}); err != nil {
		t.Fatalf("Forward with the cluster's certificate: %v", err)
	}
	if _, err := n.Store().Docs().Bucket(bucket); err != nil {
		t.Fatalf("the entry forwarded with the cluster's certificate did not create %q: %v", bucket, err)
	}
}

// tlsHandshake makes a TLS connection to addr and completes the handshake
// as both sides see it: a TLS 1.3 client finishes before the server has
// checked its certificate, so it also waits for the server's first word
// (the server's refusal, or its HTTP/2 settings).
func tlsHandshake(addr string, cfg *tls.Config) error {
	d := &tls.Dialer{Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	// An HTTP/2 client preface makes a gRPC server that let us in answer.
	if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	return err
}

// raftClient is a raft transport of the attacker's, dialing with tlsCfg
// (nil: plain TCP).
func raftClient(t *testing.T, tlsCfg *tls.Config) *raft.NetworkTransport {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  &attackerStream{Listener: l, tls: tlsCfg},
		MaxPool: 1,
		Timeout: 5 * time.Second,
		Logger:  hclog.NewNullLogger(),
	})
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

type attackerStream struct {
	net.Listener
	tls *tls.Config
}

func (s *attackerStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if s.tls == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), s.tls)
}

// raftTerm asks the node's Raft for its term with a stale, harmless
// AppendEntries, using the cluster's certificate.
func raftTerm(t *testing.T, tr *raft.NetworkTransport, id, addr string) uint64 {
	t.Helper()
	var resp raft.AppendEntriesResponse
	req := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax}}
	if err := tr.AppendEntries(raft.ServerID(id), raft.ServerAddress(addr), req, &resp); err != nil {
		t.Fatalf("AppendEntries with the cluster's certificate: %v", err)
	}
	return resp.Term
}

func TestSecurity_RaftNeedsClusterCertificate(t *testing.T) {
	c := nodetest.NewCluster(t, 1, nodetest.Options{})
	n := c.Nodes[0]
	id, addr := n.ID(), n.Store().Addr()
	member := raftClient(t, identity(t, c.Secret).ClientTLS())
	term := raftTerm(t, member, id, addr)
	entry := createBucketEntry(t, "stolen")

	for name, cfg := range attackerTLS(t) {
		t.Run(name, func(t *testing.T) {
			// A leader's term far above the node's, carrying a bucket: had it
			// landed, the node would step down and take the entry.
			req := &raft.AppendEntriesRequest{
				RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("attacker"), Addr: []byte("127.0.0.1:1")},
				Term:      term + 1000,
				Entries:   []*raft.Log{{Index: 1 << 30, Term: term + 1000, Type: raft.LogCommand, Data: entry}},
			}
			var resp raft.AppendEntriesResponse
			if err := raftClient(t, cfg).AppendEntries(raft.ServerID(id), raft.ServerAddress(addr), req, &resp); err == nil {
				t.Fatalf("the attacker's AppendEntries was answered: %+v", resp)
			}
			var vote raft.RequestVoteResponse
			vreq := &raft.RequestVoteRequest{RPCHeader: req.RPCHeader, Term: term + 1000, LastLogIndex: 1 << 30, LastLogTerm: term + 1000}
			if err := raftClient(t, cfg).RequestVote(raft.ServerID(id), raft.ServerAddress(addr), vreq, &vote); err == nil {
				t.Fatalf("the attacker's RequestVote was answered: %+v", vote)
			}
			if cfg != nil {
				if err := tlsHandshake(addr, cfg); err == nil {
					t.Error("the Raft port completed a TLS handshake with the attacker")
				}
			}
		})
	}
	if got := raftTerm(t, member, id, addr); got != term {
		t.Fatalf("the node's term went %d → %d: an attacker's RPC reached Raft", term, got)
	}
	if _, err := n.Store().Docs().Bucket("stolen"); err == nil {
		t.Fatal("an attacker's Raft entry was applied")
	}
}

func TestSecurity_JoinNeedsClusterSecret(t *testing.T) {
	c := nodetest.NewCluster(t, 1, nodetest.Options{})
	n1 := c.Nodes[0]

	outsider := c.Joiner("x1", otherSecret)
	// The outsider's join cannot succeed, however long it tries: its
	// gossip is encrypted with a key the cluster does not have, and the
	// cluster's with one it does not have. Give it a few join attempts.
	if err := outsider.TryStart(ctxT(t, 5*time.Second)); !errors.Is(err, membership.ErrJoin) {
		t.Fatalf("a node with another secret started: %v, want a failed join", err)
	}
	if slices.Contains(memberIDs(t, n1), "x1") {
		t.Fatal("the cluster lists the node with another secret as a member")
	}
	if _, ok := raftServers(t, n1)["x1"]; ok {
		t.Fatal("the node with another secret is in the Raft configuration")
	}

	// A node with the cluster's secret joins, as a member and a voter.
	n2 := c.Joiner("n2", "")
	n2.Start()
	nodetest.WaitFor(t, 30*time.Second, "n2 to be a member and a voter", func() bool {
		return slices.Contains(memberIDs(t, n1), "n2") && raftServers(t, n1)["n2"] == consensus.SuffrageVoter
	})
	if _, ok := raftServers(t, n1)["x1"]; ok || slices.Contains(memberIDs(t, n1), "x1") {
		t.Fatal("the node with another secret appeared in the cluster")
	}
}

// memberIDs returns the node ids of n's cluster members, from its
// cluster manager REST API (/pools/default) as a user sees them.
func memberIDs(t *testing.T, n *nodetest.Node) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.URL(node.APIMgmt)+"/pools/default", nil)
	req.SetBasicAuth(n.Cfg.Username, n.Cfg.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Nodes []struct {
			OTPNode string `json:"otpNode"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode /pools/default: %v", err)
	}
	var ids []string
	for _, nd := range body.Nodes {
		id, _, _ := strings.Cut(nd.OTPNode, "@") // id@host
		ids = append(ids, id)
	}
	return ids
}

// raftServers returns the suffrage of each server in n's Raft
// configuration, by id.
func raftServers(t *testing.T, n *nodetest.Node) map[string]string {
	t.Helper()
	servers, err := n.Store().Servers()
	if err != nil {
		t.Fatal(err)
	}
	ids := make(map[string]string)
	for _, s := range servers {
		ids[s.ID] = s.Suffrage
	}
	return ids
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
