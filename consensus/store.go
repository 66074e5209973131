package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"eventide/docstore"
)

const (
	// snapshotsRetained is how many snapshots the file store keeps.
	snapshotsRetained = 2
	// logCacheEntries is how many recent log entries stay in memory for
	// replication; entries are batches of up to MaxBatchBytes.
	logCacheEntries = 32
	// maxCommandBytes is the floor of the largest single command accepted.
	maxCommandBytes = 64 << 20
	// tcpMaxPool and tcpTimeout configure the Raft TCP transport.
	tcpMaxPool = 3
	tcpTimeout = 10 * time.Second
)

// Store is one node's replica: Raft plus the FSM.
type Store struct {
	cfg     Config
	log     *slog.Logger
	fsm     *fsm
	raft    *raft.Raft
	trans   raft.Transport
	bolt    *raftboltdb.BoltStore
	snaps   raft.SnapshotStore
	batcher *batcher
	prop    *entryProposer
	peers   peerWatch

	// session and seq make this process's entry tokens (see dedup.go).
	session uint64
	seq     atomic.Uint64

	// lifetime ends at the start of Close; forwards in flight use it.
	lifetime    context.Context
	endLifetime context.CancelFunc

	closeOnce sync.Once
	closeErr  error
	closing   chan struct{} // closed at the start of Close

	// mu guards closed; waiters counts goroutines awaiting membership
	// futures (Add only under mu with closed false).
	mu      sync.Mutex
	closed  bool
	waiters sync.WaitGroup
}

// Open starts Raft with the FSM; bootstraps if configured and no state exists.
func Open(cfg Config) (*Store, error) { return open(cfg, nil) }

// open is Open with an optional transport (tests use raft's in-memory one).
func open(cfg Config, trans raft.Transport) (_ *Store, err error) {
	cfg = cfg.withDefaults()
	if trans != nil && cfg.BindAddr == "" {
		cfg.BindAddr = string(trans.LocalAddr())
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "consensus"),
		closing: make(chan struct{}),
		session: rand.Uint64(),
	}
	s.lifetime, s.endLifetime = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			s.endLifetime()
		}
	}()
	var closers []io.Closer
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				_ = closers[i].Close()
			}
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("consensus: create data dir: %w", err)
	}
	hlog := newHCLogger(cfg.Logger.With("component", "raft"), "raft")

	dbPath := filepath.Join(cfg.DataDir, "raft.db")
	s.bolt, err = raftboltdb.New(raftboltdb.Options{
		Path: dbPath,
		// As Consul does: the freelist is rebuilt at open instead of being
		// written on every commit, which keeps commits small once log
		// compaction has freed many pages. The timeout makes a second
		// process on the same data dir fail instead of hanging on the lock.
		BoltOptions: &bbolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType},
	})
	if err != nil {
		return nil, fmt.Errorf("consensus: open raft log %s: %w", dbPath, err)
	}
	closers = append(closers, s.bolt)
	logs, err := raft.NewLogCache(logCacheEntries, s.bolt)
	if err != nil {
		return nil, fmt.Errorf("consensus: log cache: %w", err)
	}
	s.snaps, err = raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotsRetained, hlog.Named("snapshot"))
	if err != nil {
		return nil, fmt.Errorf("consensus: open snapshot store in %s: %w", cfg.DataDir, err)
	}
	if trans == nil {
		var adv net.Addr
		if cfg.AdvertiseAddr != "" {
			if adv, err = net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr); err != nil {
				return nil, fmt.Errorf("consensus: advertise address %q: %w", cfg.AdvertiseAddr, err)
			}
		}
		if cfg.Network != nil || cfg.ServerTLS != nil {
			trans, err = newNetworkTransport(cfg, adv, hlog.Named("net"))
		} else {
			trans, err = raft.NewTCPTransportWithLogger(cfg.BindAddr, adv, tcpMaxPool, tcpTimeout, hlog.Named("net"))
		}
		if err != nil {
			return nil, fmt.Errorf("consensus: raft transport on %s: %w", cfg.BindAddr, err)
		}
	}
	s.trans = trans
	if c, ok := trans.(io.Closer); ok {
		closers = append(closers, c)
	}

	s.fsm = newFSM(cfg.NumVBuckets, s.log)
	s.fsm.docs.SetIndexCompiler(cfg.IndexCompiler) // before raft restores or replays anything
	s.fsm.setSelf(cfg.NodeID, s.session)
	rc := s.raftConfig(hlog)
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(logs, s.bolt, s.snaps)
		if err != nil {
			return nil, fmt.Errorf("consensus: read raft state: %w", err)
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{
				Suffrage: raft.Voter,
				ID:       raft.ServerID(cfg.NodeID),
				Address:  trans.LocalAddr(),
			}}}
			if err := raft.BootstrapCluster(rc, logs, s.bolt, s.snaps, trans, conf); err != nil {
				return nil, fmt.Errorf("consensus: bootstrap: %w", err)
			}
			s.log.Info("bootstrapped a one-node cluster", "node", cfg.NodeID, "addr", trans.LocalAddr())
		}
	}
	s.raft, err = raft.NewRaft(rc, s.fsm, logs, s.bolt, s.snaps, trans)
	if err != nil {
		return nil, fmt.Errorf("consensus: start raft: %w", err)
	}
	s.prop = newEntryProposer(s)
	s.batcher = newBatcher(s.prop, cfg.MaxBatch, cfg.MaxBatchBytes)
	s.watchPeers()
	return s, nil
}

// raftConfig tunes raft for one fast node and small LAN clusters: short
// timeouts (fast elections on loopback), applies batched into few disk
// writes, and few entries per AppendEntries since one entry may be a
// multi-megabyte batch.
func (s *Store) raftConfig(hlog hclog.Logger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(s.cfg.NodeID)
	rc.Logger = hlog
	rc.HeartbeatTimeout = s.cfg.HeartbeatTimeout
	rc.ElectionTimeout = s.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = s.cfg.LeaderLeaseTimeout
	rc.CommitTimeout = 10 * time.Millisecond // followers learn commits quickly
	rc.MaxAppendEntries = 16
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = s.cfg.SnapshotThreshold
	rc.SnapshotInterval = s.cfg.SnapshotInterval
	rc.TrailingLogs = s.cfg.TrailingLogs
	return rc
}

// Close shuts Raft down and closes the stores. Writes in flight on the
// leader finish first; forwarded ones in flight are abandoned (their
// callers get ErrLeadershipLost: the outcome is unknown); queued and later
// writes return ErrClosed. Reads keep working on the last applied state.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.endLifetime()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.batcher.close()
		s.prop.close()
		var errs []error
		if err := s.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("raft shutdown: %w", err))
		}
		// A raft future still queued when raft shut down may never resolve
		// (raft drops its apply queue); its waiter touches no store, so
		// waiting for it is bounded rather than forever.
		waited := make(chan struct{})
		go func() { s.waiters.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
		if c, ok := s.trans.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close transport: %w", err))
			}
		}
		if err := s.bolt.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close raft log: %w", err))
		}
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("consensus: close: %w", errors.Join(errs...))
		}
	})
	return s.closeErr
}

// Docs is the replica's document state, for reads.
func (s *Store) Docs() *docstore.Store { return s.fsm.docs }

// Addr is the Raft transport's address (useful with BindAddr port 0).
func (s *Store) Addr() string { return string(s.trans.LocalAddr()) }

// IsLeader reports whether this node is the Raft leader.
func (s *Store) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader returns the leader's server id and address ("" if unknown).
func (s *Store) Leader() (id, addr string) {
	a, i := s.raft.LeaderWithID()
	return string(i), string(a)
}

// WaitLeader blocks until some node is leader or ctx ends.
func (s *Store) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if id, _ := s.Leader(); id != "" {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return ErrClosed
		}
	}
}

// CatchUp blocks until this replica's FSM has applied every entry that was
// committed when it was called. A node calls it before acting on
// replicated state at start-up, so that it never acts on a state the log
// has already moved past. With a Forwarder it proposes an empty entry
// through the write path and waits until this FSM applied it, which is
// exact on any node and survives leader changes. Without one, the leader
// uses a raft barrier and a follower its commit index, which may lag the
// leader's by what is still being replicated to it.
func (s *Store) CatchUp(ctx context.Context) error {
	if s.cfg.Forwarder != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := s.prop.propose(callers{ctx}, nil).wait()
		if errors.Is(err, errCallersGone) {
			err = ctx.Err()
		}
		return err
	}
	if s.IsLeader() {
		timeout := time.Minute
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		if err := s.raft.Barrier(timeout).Error(); err != nil {
			return fmt.Errorf("consensus: barrier: %w", raftError(err))
		}
		return nil
	}
	target := s.raft.CommitIndex()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for s.fsm.appliedIndex.Load() < target {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return ErrClosed
		}
	}
	return nil
}

// Changed returns a channel closed at the next change of function records
// (reports included), config or the vbucket map (edge-triggered wake-up
// for the supervisor). Checkpoint progress from CommitBatch does not count
// as a change.
func (s *Store) Changed() <-chan struct{} { return s.fsm.changedCh() }

// Stats returns this replica's counters.
func (s *Store) Stats() Stats {
	return Stats{
		AppliedIndex: s.fsm.appliedIndex.Load(),
		Entries:      s.fsm.entries.Load(),
		Commands:     s.fsm.commands.Load(),
	}
}

// submit proposes one command and waits until this node applied it.
func (s *Store) submit(ctx context.Context, cmd []byte) cmdResult {
	if len(cmd) > max(maxCommandBytes, s.cfg.MaxBatchBytes) {
		return cmdResult{err: fmt.Errorf("%w: %d bytes", ErrTooLarge, len(cmd))}
	}
	return s.batcher.submit(ctx, cmd)
}

// casBase is the proposer's CAS base for a command: dcp gives each
// mutation a CAS at least this (and above the previous one).
func casBase() uint64 { return uint64(time.Now().UnixNano()) }

// CreateBucket, DeleteBucket, CreateScope, DeleteScope, CreateCollection and
// DeleteCollection replicate keyspace changes; errors are dcp's sentinels.
func (s *Store) CreateBucket(ctx context.Context, spec docstore.BucketSpec) error {
	return s.submit(ctx, encodeCreateBucket(spec)).err
}

// DeleteBucket replicates the removal of a bucket and everything in it.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	return s.submit(ctx, encodeDeleteBucket(name)).err
}

// CreateScope replicates the creation of an empty scope.
func (s *Store) CreateScope(ctx context.Context, bucket, scope string) error {
	return s.submit(ctx, encodeCreateScope(bucket, scope)).err
}

// DeleteScope replicates the removal of a scope and its collections.
func (s *Store) DeleteScope(ctx context.Context, bucket, scope string) error {
	return s.submit(ctx, encodeDeleteScope(bucket, scope)).err
}

// CreateCollection replicates the creation of an empty collection.
func (s *Store) CreateCollection(ctx context.Context, ks docstore.Keyspace) error {
	return s.submit(ctx, encodeCreateCollection(ks)).err
}

// DeleteCollection replicates the removal of a collection and its documents.
func (s *Store) DeleteCollection(ctx context.Context, ks docstore.Keyspace) error {
	return s.submit(ctx, encodeDeleteCollection(ks)).err
}

// WriteDocs applies each mutation independently (one may fail, the others
// still apply), group-committed with other callers' writes. Mutations of
// more than MaxBatchBytes are split over several commands. The error is
// non-nil when some mutations were not applied for a reason other than
// their own (not leader, closed, ctx); the results then tell, per
// mutation, which were applied (Doc set) and which were not (Err set).
func (s *Store) WriteDocs(ctx context.Context, ms []docstore.Mutation) ([]DocResult, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	// Split into commands of at most MaxBatchBytes (estimated) each.
	type chunk struct {
		lo, hi int
		req    *request
		res    cmdResult
	}
	var chunks []chunk
	lo, size := 0, 0
	for i := range ms {
		n := mutationSize(&ms[i])
		if i > lo && size+n > s.cfg.MaxBatchBytes {
			chunks = append(chunks, chunk{lo: lo, hi: i})
			lo, size = i, 0
		}
		size += n
	}
	chunks = append(chunks, chunk{lo: lo, hi: len(ms)})
	if len(chunks) == 1 {
		res := s.submit(ctx, encodeWriteDocs(casBase(), ms, size))
		if res.err != nil {
			return nil, res.err
		}
		return docResults(res, len(ms)), nil
	}
	// Enqueue every chunk before waiting, so they can share entries.
	for i := range chunks {
		c := &chunks[i]
		cmd := encodeWriteDocs(casBase(), ms[c.lo:c.hi], 0)
		if len(cmd) > max(maxCommandBytes, s.cfg.MaxBatchBytes) {
			c.res.err = fmt.Errorf("%w: %d bytes", ErrTooLarge, len(cmd))
			continue
		}
		c.req, c.res.err = s.batcher.enqueue(ctx, cmd)
	}
	out := make([]DocResult, len(ms))
	var firstErr error
	for i := range chunks {
		c := &chunks[i]
		if c.req != nil {
			c.res = s.batcher.await(ctx, c.req)
		}
		if c.res.err != nil {
			if firstErr == nil {
				firstErr = c.res.err
			}
			for j := c.lo; j < c.hi; j++ {
				out[j].Err = c.res.err
			}
			continue
		}
		copy(out[c.lo:c.hi], docResults(c.res, c.hi-c.lo))
	}
	return out, firstErr
}

func docResults(res cmdResult, n int) []DocResult {
	out := make([]DocResult, n)
	if len(res.docs) != n || len(res.docErrs) != n {
		err := fmt.Errorf("consensus: write of %d documents returned %d results", n, len(res.docs))
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	for i := range out {
		out[i] = DocResult{Doc: res.docs[i], Err: res.docErrs[i]}
	}
	return out
}

// Functions lists function records sorted by name.
func (s *Store) Functions() []Function { return s.fsm.listFunctions() }

// Function returns one record or ErrFunctionNotFound.
func (s *Store) Function(name string) (Function, error) { return s.fsm.function(name) }

// ChangeFunction applies a conditional change and returns the new record.
// Errors: ErrFunctionExists, ErrFunctionNotFound, ErrVersionMismatch,
// ErrInvalid, and dcp's not-found errors for a from_now boundary on a
// missing bucket.
func (s *Store) ChangeFunction(ctx context.Context, c FunctionChange) (Function, error) {
	if err := validateChange(&c); err != nil {
		return Function{}, err
	}
	res := s.submit(ctx, encodeChangeFunction(&c))
	if res.err != nil {
		return Function{}, res.err
	}
	if res.fn == nil {
		return Function{}, errors.New("consensus: change of function returned no record")
	}
	return copyFunction(res.fn), nil
}

// DeleteFunction removes a record if its Version equals expectVersion.
func (s *Store) DeleteFunction(ctx context.Context, name string, expectVersion uint64) error {
	return s.submit(ctx, encodeDeleteFunction(name, expectVersion)).err
}

// CommitBatch applies a batch all-or-nothing: ErrStaleInstance if the
// function's instance differs or is not in deploying/deployed/pausing;
// ErrStaleOwner if a vbucket map is set and b.Node does not own one of the
// batch's vbuckets as of b.Epoch; a *docstore.BatchError if a mutation's
// precondition fails. It returns after
// this node's FSM applied it. Checkpoints only move forward: one at or
// below the stored value is ignored.
func (s *Store) CommitBatch(ctx context.Context, b Batch) ([]*docstore.Document, error) {
	res := s.submit(ctx, encodeCommitBatch(casBase(), &b))
	return res.docs, res.err
}

// Config returns a replicated config value (nil if unset).
func (s *Store) Config(key string) json.RawMessage { return s.fsm.configValue(key) }

// SetConfig replicates a config value; a nil value removes the key. The
// value must be valid JSON.
func (s *Store) SetConfig(ctx context.Context, key string, value json.RawMessage) error {
	if err := validateConfig(key, value); err != nil {
		return err
	}
	return s.submit(ctx, encodeSetConfig(key, value)).err
}

// Expire replicates the expiry of every document due at now (the leader's
// expiry pager calls it) and returns how many expired.
func (s *Store) Expire(ctx context.Context, now time.Time) (int, error) {
	sec := now.Unix()
	switch {
	case sec < 0:
		sec = 0
	case sec > math.MaxUint32:
		sec = math.MaxUint32
	}
	res := s.submit(ctx, encodeExpire(uint32(sec), casBase()))
	return res.n, res.err
}

// CreateIndex replicates the creation of an index, which every node
// builds from the collection's live documents and keeps in step with
// them. The definition is compiled here first, so a bad one fails
// (docstore.ErrInvalid wrapping the compiler's error) without a log
// entry. Errors decided by the FSM: docstore.ErrExists for a name already
// used on the collection (unless IfNotExists), and the keyspace's
// not-found errors. It returns once this node's FSM built the index.
func (s *Store) CreateIndex(ctx context.Context, spec IndexSpec) error {
	if err := s.fsm.docs.CompileIndex(spec.Keyspace, spec.Name, spec.Definition, spec.Primary); err != nil {
		return err
	}
	return s.submit(ctx, encodeCreateIndex(&spec)).err
}

// DropIndex replicates the removal of an index: docstore.ErrIndexNotFound
// when there is none (nil with ifExists), or the keyspace's not-found
// errors.
func (s *Store) DropIndex(ctx context.Context, ks docstore.Keyspace, name string, ifExists bool) error {
	return s.submit(ctx, encodeDropIndex(ks, name, ifExists)).err
}

// raftError maps raft's errors to this package's sentinels.
func raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: %v", ErrLeadershipLost, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	default:
		return fmt.Errorf("consensus: raft: %w", err)
	}
}
