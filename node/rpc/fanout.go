package rpc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"eventide/handler"
	"eventide/proto/nodepb"
)

// Peer is one node to call.
type Peer struct {
	// ID is the node id.
	ID string
	// Addr is the node's gRPC host:port.
	Addr string
}

// Failure is a peer that did not answer a fan-out, and why.
type Failure struct {
	Peer Peer
	Err  error
}

// Results are the outcome of a fan-out.
type Results[T any] struct {
	// Answers holds each answering peer's result, by peer id.
	Answers map[string]T
	// Failed lists the peers that did not answer (error or timeout),
	// sorted by id.
	Failed []Failure
}

// FailedIDs returns the ids of the peers that did not answer, sorted.
func (r Results[T]) FailedIDs() []string {
	ids := make([]string, len(r.Failed))
	for i, f := range r.Failed {
		ids[i] = f.Peer.ID
	}
	return ids
}

// FanOut calls call on every peer in parallel, each call bounded by
// timeout (and by ctx), and waits for all of them. It never fails as a
// whole: peers that answered are in Answers, the others in Failed. Peers
// are identified by id; a repeated id is called once (the first entry
// wins); a peer with an empty address fails with ErrUnknownPeer.
func FanOut[T any](ctx context.Context, c *Client, peers []Peer, timeout time.Duration,
	call func(ctx context.Context, node nodepb.NodeClient) (T, error)) Results[T] {
	res := Results[T]{Answers: make(map[string]T, len(peers))}
	seen := make(map[string]bool, len(peers))
	var (
		mu sync.Mutex // guards res
		wg sync.WaitGroup
	)
	fail := func(p Peer, err error) {
		mu.Lock()
		res.Failed = append(res.Failed, Failure{Peer: p, Err: err})
		mu.Unlock()
	}
	for _, p := range peers {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		n, err := c.Node(p.Addr)
		if err != nil {
			fail(p, fmt.Errorf("rpc: node %s: %w", p.ID, err))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			v, err := call(cctx, n)
			if err != nil {
				fail(p, fmt.Errorf("rpc: node %s (%s): %w", p.ID, p.Addr, fromStatus(err)))
				return
			}
			mu.Lock()
			res.Answers[p.ID] = v
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortFunc(res.Failed, func(a, b Failure) int { return strings.Compare(a.Peer.ID, b.Peer.ID) })
	return res
}

// AppLogAll fans AppLog out: each answering peer's log tail of fn (at most
// size bytes, whole lines, oldest first).
func (c *Client) AppLogAll(ctx context.Context, peers []Peer, timeout time.Duration, fn string, size int) Results[string] {
	return FanOut(ctx, c, peers, timeout, func(ctx context.Context, n nodepb.NodeClient) (string, error) {
		resp, err := n.AppLog(ctx, &nodepb.AppLogRequest{Function: fn, Size: int64(size)})
		return resp.GetText(), err
	})
}

// FunctionStatsAll fans FunctionStats out: each answering peer's stats JSON
// of fn, nil for a peer that has none.
func (c *Client) FunctionStatsAll(ctx context.Context, peers []Peer, timeout time.Duration, fn string) Results[[]byte] {
	return FanOut(ctx, c, peers, timeout, func(ctx context.Context, n nodepb.NodeClient) ([]byte, error) {
		resp, err := n.FunctionStats(ctx, &nodepb.FunctionStatsRequest{Function: fn})
		if err != nil || !resp.GetFound() {
			return nil, err
		}
		return resp.GetStatsJson(), nil
	})
}

// ResetStatsAll fans ResetStats out.
func (c *Client) ResetStatsAll(ctx context.Context, peers []Peer, timeout time.Duration, fn string) Results[struct{}] {
	return FanOut(ctx, c, peers, timeout, func(ctx context.Context, n nodepb.NodeClient) (struct{}, error) {
		_, err := n.ResetStats(ctx, &nodepb.ResetStatsRequest{Function: fn})
		return struct{}{}, err
	})
}

// InsightAll fans Insight out: for each answering peer, its code insight
// for each of fns (see Client.Insight). Merge the answers with
// handler.MergeInsight.
func (c *Client) InsightAll(ctx context.Context, peers []Peer, timeout time.Duration, fns []string) Results[map[string]map[int]handler.InsightLine] {
	return FanOut(ctx, c, peers, timeout, func(ctx context.Context, n nodepb.NodeClient) (map[string]map[int]handler.InsightLine, error) {
		resp, err := n.Insight(ctx, &nodepb.InsightRequest{Functions: fns})
		if err != nil {
			return nil, err
		}
		return insightAnswer(resp, fns), nil
	})
}

// QinlingWorkersAll fans QinlingWorkers out: each answering peer's warm
// workers of version (0: the latest code) of the Qinling function.
func (c *Client) QinlingWorkersAll(ctx context.Context, peers []Peer, timeout time.Duration, functionID string, version int) Results[[]string] {
	return FanOut(ctx, c, peers, timeout, func(ctx context.Context, n nodepb.NodeClient) ([]string, error) {
		if functionID == "" || version < 0 {
			return nil, fmt.Errorf("%w: workers of function %q version %d", ErrInvalid, functionID, version)
		}
		resp, err := n.QinlingWorkers(ctx, &nodepb.QinlingWorkersRequest{FunctionId: functionID, Version: int64(version)})
		return resp.GetNames(), err
	})
}
