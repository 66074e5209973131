//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/node/nodetest"
)

// proc is an eventide process started from the built binary (EVENTIDE_BIN).
type proc struct {
	t       *testing.T
	bin     string
	dataDir string
	ip      string
	ports   []int
	cmd     *exec.Cmd
	done    chan error
}

func startProc(t *testing.T) *proc {
	t.Helper()
	bin := os.Getenv("EVENTIDE_BIN")
	if bin == "" {
		t.Fatal("EVENTIDE_BIN is not set; run `make e2e`")
	}
	// A loopback address of its own: the ports stay free between stop and
	// start, which outgoing connections (from 127.0.0.1) cannot take.
	ip := nodetest.FreshLoopback(t, 0)
	p := &proc{t: t, bin: bin, dataDir: t.TempDir(), ip: ip, ports: freePorts(t, ip, 8)}
	p.start()
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *proc) start() {
	p.t.Helper()
	args := []string{"serve", "--node-id", "n1", "--data-dir", p.dataDir, "--bind-addr", p.ip, "--vbuckets", "64"}
	for i, f := range []string{"mgmt", "query", "eventing", "sync-gateway", "qinling", "grpc", "raft", "gossip"} {
		args = append(args, "--"+f+"-port", strconv.Itoa(p.ports[i]))
	}
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start eventide: %v", err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait() }()
	mgmt := restclient.New(p.url(0), "", "")
	waitFor(p.t, 30*time.Second, "eventide to answer", func() bool {
		_, err := mgmt.Pool(context.Background())
		return err == nil
	})
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("eventide exited uncleanly after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Errorf("eventide did not stop within 30s of SIGTERM")
	}
	p.cmd = nil
}

func (p *proc) url(i int) string { return fmt.Sprintf("http://%s:%d", p.ip, p.ports[i]) }

func freePorts(t *testing.T, ip string, k int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range k {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestWalkthrough_Process runs the README walk-through against an eventide
// process, restarting it with SIGTERM.
func TestWalkthrough_Process(t *testing.T) {
	p := startProc(t)
	c := newClient(t, p.url(0), p.url(2), p.url(3))
	walkthrough(t, c, func() {
		p.stop()
		p.start()
	})
}
