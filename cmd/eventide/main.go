// Command eventide runs one eventide node.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"eventide/node"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: eventide serve [flags]  (eventide serve -h lists them)")
		os.Exit(2)
	}
	cfg, err := serveConfig(os.Args[2:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "eventide: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		// A graceful stop that has not ended in time ends like a crash,
		// which loses nothing acknowledged (every commit is in the Raft
		// log): SIGTERM always exits within shutdownLimit.
		<-ctx.Done()
		time.Sleep(shutdownLimit)
		cfg.Logger.Error("graceful shutdown took too long; exiting", "limit", shutdownLimit)
		os.Exit(1)
	}()
	if err := node.Run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		if errors.Is(err, node.ErrNoClusterSecret) {
			err = fmt.Errorf("%w; give this node the cluster's secret in EVENTIDE_CLUSTER_SECRET or with --cluster-secret-file", err)
		}
		cfg.Logger.Error("eventide stopped", "err", err)
		os.Exit(1)
	}
}

// serveConfig turns serve's flags and environment into a node.Config.
func serveConfig(args []string) (node.Config, error) {
	cfg := node.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	fs.StringVar(&cfg.NodeID, "node-id", cfg.NodeID, "unique node id")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the Raft log, snapshots and application logs")
	fs.StringVar(&cfg.BindAddr, "bind-addr", cfg.BindAddr, "IP address every listener binds to")
	fs.StringVar(&cfg.AdvertiseAddr, "advertise-addr", cfg.AdvertiseAddr, "IP address peers and clients use (default: bind-addr)")
	fs.IntVar(&cfg.Ports.Mgmt, "mgmt-port", cfg.Ports.Mgmt, "cluster manager REST port")
	fs.IntVar(&cfg.Ports.Query, "query-port", cfg.Ports.Query, "query service port: SQL++ (/query/service) and JavaScript UDF libraries (/functions/v1, /evaluator/v1)")
	fs.IntVar(&cfg.Ports.Eventing, "eventing-port", cfg.Ports.Eventing, "eventing REST port")
	fs.IntVar(&cfg.Ports.SyncGateway, "sync-gateway-port", cfg.Ports.SyncGateway, "Sync Gateway public REST port")
	fs.IntVar(&cfg.Ports.Qinling, "qinling-port", cfg.Ports.Qinling, "Qinling REST port (and the Keystone v3 login its clients use)")
	fs.Int64Var(&cfg.QinlingMaxPackageBytes, "qinling-max-package-bytes", cfg.QinlingMaxPackageBytes, "largest Qinling function package, in bytes (at most 60 MiB)")
	fs.DurationVar(&cfg.QinlingExecutionRetention, "qinling-execution-retention", cfg.QinlingExecutionRetention, "how long finished Qinling executions are kept")
	fs.StringVar(&cfg.DockerHost, "docker-host", cfg.DockerHost, "Docker engine that runs Qinling image functions (unix:///var/run/docker.sock or tcp://host:port; empty: image functions are refused)")
	fs.IntVar(&cfg.Ports.GRPC, "grpc-port", cfg.Ports.GRPC, "node-to-node gRPC port")
	fs.IntVar(&cfg.Ports.Raft, "raft-port", cfg.Ports.Raft, "Raft transport port")
	fs.IntVar(&cfg.Ports.Gossip, "gossip-port", cfg.Ports.Gossip, "memberlist gossip port")
	join := fs.String("join", "", "comma-separated host:port gossip addresses of an existing cluster (empty: bootstrap a new one)")
	fs.IntVar(&cfg.VBuckets, "vbuckets", cfg.VBuckets, "vbuckets per bucket (power of two)")
	fs.StringVar(&cfg.Username, "username", envOr("EVENTIDE_USERNAME", cfg.Username), "administrator user name")
	fs.StringVar(&cfg.Password, "password", envOr("EVENTIDE_PASSWORD", cfg.Password), "administrator password")
	fs.DurationVar(&cfg.FailoverTimeout, "failover-timeout", cfg.FailoverTimeout, "how long a dead node waits before it is failed over")
	secretFile := fs.String("cluster-secret-file", "", "file holding the cluster secret every node shares, at least 16 bytes (default $EVENTIDE_CLUSTER_SECRET, else <data-dir>/cluster-secret, which a first node generates)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	_ = fs.Parse(args)
	if *join != "" {
		cfg.Join = strings.Split(*join, ",")
	}
	cfg.ClusterSecret = strings.TrimSpace(os.Getenv("EVENTIDE_CLUSTER_SECRET"))
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			return cfg, fmt.Errorf("--cluster-secret-file: %w", err)
		}
		cfg.ClusterSecret = strings.TrimSpace(string(b))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("bad --log-level %q", *level)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	return cfg, nil
}

// shutdownLimit bounds a graceful shutdown after SIGTERM or SIGINT.
const shutdownLimit = 9 * time.Second

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
