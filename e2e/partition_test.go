package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/node"
	"eventide/node/nodetest"
)

// TestPartition_LeaderIsolated cuts the Raft leader off from the two other
// nodes (Raft, gRPC and gossip, both directions) while documents are
// written: the majority elects a new leader and keeps acknowledging
// writes, and a write sent to the isolated old leader is never
// acknowledged unless it really committed. After the heal every
// acknowledged document is handled exactly once, all three nodes agree on
// dst and on the leader, and the isolated node catches up.
func TestPartition_LeaderIsolated(t *testing.T) {
	cl := nodetest.NewCluster(t, 3, nodetest.Options{VBuckets: 16, FailoverTimeout: 2 * time.Second})
	clients := clusterClients(t, cl, "src", "dst", "meta")
	def := copierDefinition()
	def["appname"] = "counter"
	def["appcode"] = countingCode
	clients[0].CreateFunction("counter", def)
	clients[1].Lifecycle("counter", "deploy")
	for _, c := range clients {
		c.WaitStatus("counter", "deployed")
	}
	acked := make(map[string]bool)
	for id := range clients[2].BulkDocs("src", docs("pre", 0, 100)) {
		acked[id] = true
	}
	waitFor(t, 20*time.Second, "the first documents to be handled", func() bool {
		return len(clients[0].AllDocs("dst")) == 100
	})

	old := slices.Index(cl.Nodes, cl.Leader())
	var majority []int
	for i := range cl.Nodes {
		if i != old {
			majority = append(majority, i)
		}
	}
	oldID := cl.Nodes[old].ID()
	t.Logf("isolating the leader %s", oldID)
	cl.Partition([]int{old}, majority)

	// A write to the isolated node, concurrently with the majority's.
	var (
		isoIDs []string
		isoErr error
		isoWG  sync.WaitGroup
	)
	isoDocs := docs("iso", 0, 20)
	isoWG.Add(1)
	go func() {
		defer isoWG.Done()
		iso := syncGWWriter(cl.Nodes[old].URL(node.APISyncGateway), 4*time.Second)
		isoIDs, isoErr = iso.WriteBatch(context.Background(), "src", isoDocs)
	}()

	// The majority elects a new leader and keeps acknowledging writes.
	waitFor(t, 10*time.Second, "a new leader on the majority side", func() bool {
		for _, i := range majority {
			if cl.Nodes[i].Store().IsLeader() {
				return true
			}
		}
		return false
	})
	// Writers on the majority side keep going until the isolated node has
	// been failed over.
	var (
		mu      sync.Mutex
		batches int
		werr    error
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		writers := []*restclient.Client{
			syncGWWriter(cl.Nodes[majority[0]].URL(node.APISyncGateway), 10*time.Second),
			syncGWWriter(cl.Nodes[majority[1]].URL(node.APISyncGateway), 10*time.Second),
		}
		for from := 0; ; from += 25 {
			select {
			case <-stop:
				return
			default:
			}
			target := cl.Nodes[majority[(from/25)%2]]
			ids, err := writers[(from/25)%2].WriteBatch(context.Background(), "src", docs("maj", from, from+25))
			mu.Lock()
			if err != nil {
				werr = fmt.Errorf("write of maj%05d.. to %s on the majority side: %w", from, target.ID(), err)
				mu.Unlock()
				return
			}
			for _, id := range ids {
				acked[id] = true
			}
			batches++
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	// The majority fails the isolated node over: it owns no vbucket.
	waitFailedOver(t, cl, clients, cl.Nodes[old], 15*time.Second)
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	if batches < 3 {
		t.Fatalf("only %d batches written on the majority side during the partition", batches)
	}
	isoWG.Wait()
	t.Logf("write to the isolated node: ids %d, err %v", len(isoIDs), isoErr)
	if isoErr == nil && len(isoIDs) != len(isoDocs) {
		t.Fatalf("write to the isolated node acknowledged %d of %d documents", len(isoIDs), len(isoDocs))
	}
	for _, id := range isoIDs {
		acked[id] = true
	}

	// Acknowledged means committed by a majority: the majority holds it.
	if isoErr == nil {
		if got := countPrefix(clients[majority[0]].AllDocs("src"), "iso"); got != len(isoDocs) {
			t.Fatalf("the isolated node acknowledged %d documents the majority does not hold (it holds %d)", len(isoDocs), got)
		}
	}
	cl.Heal()

	// All three nodes agree on the leader, which is not the isolated one
	// (its log is behind), and hold the same dst.
	waitFor(t, 20*time.Second, "the three nodes to agree on the leader", func() bool {
		var ids []string
		for _, n := range cl.Nodes {
			id, _ := n.Store().Leader()
			ids = append(ids, id)
		}
		return ids[0] != "" && ids[0] == ids[1] && ids[1] == ids[2]
	})
	if id, _ := cl.Nodes[old].Store().Leader(); id == oldID {
		t.Fatalf("the isolated node %s is leader again with a stale log", oldID)
	}
	var src map[string]bool
	waitFor(t, 20*time.Second, "dst to hold every acknowledged document on every node", func() bool {
		src = make(map[string]bool)
		for _, r := range clients[majority[0]].AllDocs("src") {
			src[r.ID] = true
		}
		var first []restclient.Row
		for i, c := range clients {
			rows := c.AllDocs("dst")
			if len(rows) != len(src) {
				return false
			}
			if i == 0 {
				first = rows
			} else if !sameRows(first, rows) {
				return false
			}
		}
		return true
	})
	for id := range acked {
		if !src[id] {
			t.Fatalf("acknowledged document %s is missing from src", id)
		}
	}
	for _, r := range clients[old].AllDocs("dst") {
		var d struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(r.Doc, &d); err != nil || d.N != 1 {
			t.Fatalf("dst %s: handled %d times (%v), want exactly once", r.ID, d.N, err)
		}
		if !src[r.ID] {
			t.Fatalf("dst %s has no source document", r.ID)
		}
	}
	// The isolated node caught up: it holds every source document too.
	if got := len(clients[old].AllDocs("src")); got != len(src) {
		t.Fatalf("the healed node holds %d source documents, the majority %d", got, len(src))
	}
	t.Logf("%d documents acknowledged, %d in src; %d majority batches", len(acked), len(src), batches)

	// Writes through the healed node work again.
	for id := range clients[old].BulkDocs("src", docs("after", 0, 20)) {
		acked[id] = true
	}
	waitFor(t, 20*time.Second, "documents written after the heal to be handled", func() bool {
		return len(clients[majority[1]].AllDocs("dst")) == len(src)+20
	})
}

// sameRows reports whether two _all_docs listings hold the same documents
// with the same bodies.
func sameRows(a, b []restclient.Row) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]string, len(a))
	for _, r := range a {
		m[r.ID] = string(r.Doc)
	}
	for _, r := range b {
		if d, ok := m[r.ID]; !ok || d != string(r.Doc) {
			return false
		}
	}
	return true
}

// countPrefix counts the rows whose id starts with prefix.
func countPrefix(rows []restclient.Row, prefix string) int {
	k := 0
	for _, r := range rows {
		if strings.HasPrefix(r.ID, prefix) {
			k++
		}
	}
	return k
}
