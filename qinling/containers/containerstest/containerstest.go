// Package containerstest builds, for tests, a tiny image function: a
// static Go binary FROM scratch, built with the go and docker CLIs and
// removed when the test ends.
//
// The function prints its arguments as a JSON array on stdout; arguments
// of the form --key=value also act: --sleep=<seconds> sleeps first,
// --stderr=<text> writes text to stderr, --alloc=<MiB> allocates and
// touches that much memory, --raw=<text> prints text instead of the
// array, --exit=<n> exits with status n.
package containerstest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Host is the Docker engine the tests use: $DOCKER_HOST, else the local
// socket.
func Host() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

const mainGo = `package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	args := os.Args[1:]
	if args == nil {
		args = []string{}
	}
	var raw *string
	exit := 0
	for _, a := range args {
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			continue
		}
		switch k {
		case "sleep":
			s, _ := strconv.ParseFloat(v, 64)
			time.Sleep(time.Duration(s * float64(time.Second)))
		case "stderr":
			fmt.Fprintln(os.Stderr, v)
		case "alloc":
			n, _ := strconv.Atoi(v)
			b := make([]byte, n<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			fmt.Fprintln(os.Stderr, "allocated", len(b))
		case "raw":
			raw = &v
		case "exit":
			exit, _ = strconv.Atoi(v)
		}
	}
	if raw != nil {
		fmt.Print(*raw)
	} else {
		out, _ := json.Marshal(args)
		fmt.Println(string(out))
	}
	os.Exit(exit)
}
`

// BuildImage builds the test function's image and returns its tag
// (eventide-test-fn:<random>); the image is removed at the test's end.
// Any failure fails the test: Docker is required, never skipped.
func BuildImage(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module fn\n\ngo 1.21\n")
	write("main.go", mainGo)
	write("Dockerfile", "FROM scratch\nCOPY fn /fn\nENTRYPOINT [\"/fn\"]\n")
	build := exec.Command("go", "build", "-o", "fn", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test function: %v\n%s", err, out)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	tag := "eventide-test-fn:" + hex.EncodeToString(b[:])
	docker := exec.Command("docker", "build", "-q", "-t", tag, ".")
	docker.Dir = dir
	docker.Env = append(os.Environ(), "DOCKER_HOST="+Host())
	if out, err := docker.CombinedOutput(); err != nil {
		t.Fatalf("docker build of the test function (Docker is required): %v\n%s", err, out)
	}
	t.Cleanup(func() {
		rm := exec.Command("docker", "rmi", "-f", tag)
		rm.Env = docker.Env
		if out, err := rm.CombinedOutput(); err != nil {
			t.Logf("docker rmi %s: %v\n%s", tag, err, out)
		}
	})
	return tag
}
