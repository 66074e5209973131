package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"eventide/clustersec"
)

// secretFile is where a node that started a cluster keeps the secret it
// generated, in its data dir.
const secretFile = "cluster-secret"

// ErrNoClusterSecret: the node would join a cluster but was given no
// cluster secret and has none stored in its data dir.
var ErrNoClusterSecret = errors.New("node: no cluster secret")

// clusterSecret returns the secret this node runs with: cfg.ClusterSecret
// if given, else the one stored in the data dir. A node that knows no
// cluster (no Join, no saved peers) and has neither generates one and
// stores it, so that a one-node start needs no setup and keeps its secret
// across restarts. A node that would join others without one fails: a
// fresh secret would only lock it out.
func clusterSecret(cfg Config, log *slog.Logger) ([]byte, error) {
	path := filepath.Join(cfg.DataDir, secretFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("node: read cluster secret: %w", err)
	}
	stored := strings.TrimSpace(string(b))
	switch {
	case cfg.ClusterSecret != "":
		if stored != "" && stored != cfg.ClusterSecret {
			log.Warn("the given cluster secret differs from the one stored in the data dir; using the given one", "file", path)
		}
		return []byte(cfg.ClusterSecret), nil
	case stored != "":
		log.Info("using the cluster secret stored in the data dir", "file", path)
		return []byte(stored), nil
	case len(cfg.Join) > 0 || len(loadPeers(cfg.DataDir)) > 0:
		return nil, fmt.Errorf("%w: a node joining a cluster needs the cluster's secret "+
			"(a node that started a cluster without one keeps the secret it generated in <data-dir>/%s)", ErrNoClusterSecret, secretFile)
	}
	s, err := clustersec.GenerateSecret()
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	// O_EXCL: never overwrite a secret another process has just written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("node: store cluster secret: %w", err)
	}
	_, err = f.WriteString(s + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("node: store cluster secret: %w", err)
	}
	log.Info("generated a new cluster secret; nodes that join this cluster need it", "file", path)
	return []byte(s), nil
}
