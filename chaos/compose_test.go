//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eventide/internal/restclient"
)

// project is the compose project name; `make cluster` uses the same one, so
// a chaos run replaces a cluster that `make cluster` started.
const project = "eventide"

// image is the image the compose file runs; `make chaos` builds it.
const image = "eventide:dev"

// services are the compose services, one per node, in node-id order.
var services = []string{"n1", "n2", "n3"}

// stack is one compose cluster under test.
type stack struct {
	t       *testing.T
	compose []string // compose command with the project and file flags
	network string   // the docker network the nodes share
	nodes   []*member
	// onFault, when set, is told before a fault is injected into a node
	// (down) and after the node is restored.
	onFault func(m *member, down bool)
}

// member is one node's container.
type member struct {
	service   string // compose service, also the node id
	container string // container id
	ip        string // address on the compose network
	api       *restclient.Client
}

func (m *member) String() string { return m.service }

// composeCommand returns the compose command: $COMPOSE, else `docker
// compose` when the plugin is installed, else `docker-compose`.
func composeCommand() ([]string, error) {
	if c := strings.Fields(os.Getenv("COMPOSE")); len(c) > 0 {
		return c, nil
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, errors.New("neither `docker compose` nor `docker-compose` is installed")
}

// repoRoot is the directory of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// run runs a command and returns its trimmed standard output; the error
// carries standard error.
func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// newStack starts a fresh compose cluster (the previous one of the project,
// volumes included, is removed first), waits until it is healthy and
// removes it when the test ends, saving the nodes' logs if the test failed.
func newStack(t *testing.T) *stack {
	t.Helper()
	compose, err := composeCommand()
	if err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(t.Context(), "docker", "image", "inspect", image); err != nil {
		t.Fatalf("image %s is missing: run `make chaos` (it builds the image): %v", image, err)
	}
	s := &stack{t: t, compose: append(compose, "-p", project, "-f", filepath.Join(root, "docker-compose.yml"))}
	s.down()
	t.Cleanup(func() {
		if t.Failed() {
			s.saveLogs()
		}
		s.down()
	})
	began := time.Now()
	s.composeRun("up", "-d")
	for _, svc := range services {
		id := s.composeRun("ps", "-q", svc)
		if id == "" {
			t.Fatalf("compose service %s has no container", svc)
		}
		// One network: its name and this container's address on it.
		out := s.docker("inspect", "-f", `{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}}{{"\n"}}{{end}}`, id)
		f := strings.Fields(out)
		if len(f) != 2 {
			t.Fatalf("container %s: want one network, got %q", svc, out)
		}
		s.network = f[0]
		s.nodes = append(s.nodes, &member{service: svc, container: id, ip: f[1], api: newAPI(f[1])})
	}
	s.waitHealthy(2*time.Minute, false)
	t.Logf("cluster up in %v: %s", time.Since(began).Round(time.Millisecond), s.describe())
	return s
}

// describe lists the nodes and their addresses.
func (s *stack) describe() string {
	var parts []string
	for _, m := range s.nodes {
		parts = append(parts, m.service+"="+m.ip)
	}
	return strings.Join(parts, " ")
}

// composeRun runs a compose subcommand and fails the test on error.
func (s *stack) composeRun(args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := run(ctx, s.compose[0], append(s.compose[1:], args...)...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// docker runs a docker subcommand and fails the test on error.
func (s *stack) docker(args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := run(ctx, "docker", args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// down removes the project's containers, network and volumes.
func (s *stack) down() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := run(ctx, s.compose[0], append(s.compose[1:], "down", "-v", "--remove-orphans", "-t", "5")...); err != nil {
		s.t.Errorf("remove the cluster: %v", err)
	}
}

// saveLogs writes every node's full log to a directory that outlives the
// test and prints the tail of each.
func (s *stack) saveLogs() {
	dir, err := os.MkdirTemp("", "eventide-chaos-"+strings.ReplaceAll(s.t.Name(), "/", "_")+"-")
	if err != nil {
		s.t.Logf("save logs: %v", err)
		return
	}
	for _, m := range s.nodes {
		cmd := exec.Command("docker", "logs", "-t", m.container)
		out, err := cmd.CombinedOutput()
		if err != nil {
			s.t.Logf("docker logs %s: %v", m, err)
		}
		path := filepath.Join(dir, m.service+".log")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			s.t.Logf("save logs: %v", err)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		s.t.Logf("last lines of %s (full log: %s):\n%s", m, path, strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// The faults. Each returns once docker has done it.

// fault tells onFault that m goes down.
func (s *stack) fault(m *member) {
	if s.onFault != nil {
		s.onFault(m, true)
	}
}

// restored tells onFault that m is back.
func (s *stack) restored(m *member) {
	if s.onFault != nil {
		s.onFault(m, false)
	}
}

// kill sends SIGKILL: the node crashes, with no graceful leave.
func (s *stack) kill(m *member) {
	s.fault(m)
	s.docker("kill", m.container)
}

// start starts a stopped or killed container again, on its volume and address.
func (s *stack) start(m *member) {
	s.docker("start", m.container)
	s.restored(m)
}

// stop sends SIGTERM (the node leaves gracefully) and waits for the exit.
func (s *stack) stop(m *member) {
	s.fault(m)
	s.docker("stop", "-t", "30", m.container)
}

// disconnect takes the node off the network: every packet to or from it
// is lost, the node keeps running.
func (s *stack) disconnect(m *member) {
	s.fault(m)
	s.docker("network", "disconnect", s.network, m.container)
}

// connect puts the node back on the network at its address.
func (s *stack) connect(m *member) {
	s.docker("network", "connect", "--ip", m.ip, s.network, m.container)
	s.restored(m)
}

// pause freezes every process of the node; its sockets stay open.
func (s *stack) pause(m *member) {
	s.fault(m)
	s.docker("pause", m.container)
}

// unpause thaws a paused node.
func (s *stack) unpause(m *member) {
	s.docker("unpause", m.container)
	s.restored(m)
}
