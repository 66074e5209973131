package node

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"eventide/clustersec"
)

func secretConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Ports = Ports{} // free ports, should New get as far as binding
	return cfg
}

var discard = slog.New(slog.DiscardHandler)

func TestClusterSecret_FirstNodeGeneratesAndKeepsIt(t *testing.T) {
	cfg := secretConfig(t)
	s1, err := clusterSecret(cfg, discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(s1) < clustersec.MinSecretBytes {
		t.Fatalf("generated secret is %d bytes", len(s1))
	}
	path := filepath.Join(cfg.DataDir, secretFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != string(s1) {
		t.Fatal("the stored secret is not the one in use")
	}
	s2, err := clusterSecret(cfg, discard)
	if err != nil {
		t.Fatal(err)
	}
	if string(s2) != string(s1) {
		t.Fatal("a restart generated a new secret instead of reusing the stored one")
	}
}

func TestClusterSecret_GivenWins(t *testing.T) {
	cfg := secretConfig(t)
	cfg.ClusterSecret = "a secret given at start"
	cfg.Join = []string{"127.0.0.1:7946"}
	s, err := clusterSecret(cfg, discard)
	if err != nil || string(s) != cfg.ClusterSecret {
		t.Fatalf("clusterSecret = %q, %v", s, err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, secretFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a given secret was written to the data dir (stat: %v)", err)
	}
}

func TestClusterSecret_JoinerWithoutSecretFails(t *testing.T) {
	t.Run("join flag", func(t *testing.T) {
		cfg := secretConfig(t)
		cfg.Join = []string{"127.0.0.1:7946"}
		if _, err := clusterSecret(cfg, discard); !errors.Is(err, ErrNoClusterSecret) {
			t.Fatalf("clusterSecret = %v, want ErrNoClusterSecret", err)
		}
	})
	t.Run("saved peers", func(t *testing.T) {
		// A node restarted without --join rejoins its saved peers; a fresh
		// secret would lock it out of its own cluster.
		cfg := secretConfig(t)
		if err := os.WriteFile(filepath.Join(cfg.DataDir, peersFile), []byte(`["127.0.0.1:7946"]`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := clusterSecret(cfg, discard); !errors.Is(err, ErrNoClusterSecret) {
			t.Fatalf("clusterSecret = %v, want ErrNoClusterSecret", err)
		}
	})
	t.Run("stored secret", func(t *testing.T) {
		cfg := secretConfig(t)
		cfg.Join = []string{"127.0.0.1:7946"}
		if err := os.WriteFile(filepath.Join(cfg.DataDir, secretFile), []byte("a secret kept in the data dir\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := clusterSecret(cfg, discard)
		if err != nil || string(s) != "a secret kept in the data dir" {
			t.Fatalf("clusterSecret = %q, %v", s, err)
		}
	})
}

func TestNew_RefusesWeakSecret(t *testing.T) {
	cfg := secretConfig(t)
	cfg.ClusterSecret = "too short"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "cluster secret") {
		t.Fatalf("New with a 9-byte secret = %v, want a cluster secret error", err)
	}
	cfg = secretConfig(t)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, secretFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); !errors.Is(err, clustersec.ErrWeakSecret) {
		t.Fatalf("New with a weak stored secret = %v, want ErrWeakSecret", err)
	}
}
