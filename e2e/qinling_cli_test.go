//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// osc runs the real openstack client (python3-openstackclient with
// python3-qinlingclient) against one node's port 7070, authenticating
// with the four flags the issue names and nothing else.
type osc struct {
	auth []string
	env  []string
	dir  string
}

func newOSC(t *testing.T, qinlingURL, password string) *osc {
	t.Helper()
	home := t.TempDir()
	// Nothing of the caller's OS_* variables or clouds.yaml may help.
	return &osc{
		auth: []string{"--os-auth-url", qinlingURL + "/v3", "--os-username", "Administrator",
			"--os-password", password, "--os-project-name", "admin"},
		env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8", "PYTHONWARNINGS=ignore"},
		dir: home,
	}
}

// run runs one command; it returns stdout, stderr and the exit error.
func (o *osc) run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", append(slices.Clone(o.auth), args...)...)
	cmd.Env, cmd.Dir = o.env, o.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// ok runs a command that must exit 0 and returns its stdout.
func (o *osc) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := o.run(t, args...)
	if err != nil {
		t.Fatalf("openstack %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// json runs a command with -f json that must exit 0, decoding its output.
func (o *osc) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := o.ok(t, append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("openstack %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// obj is json for a command that shows one resource.
func (o *osc) obj(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var m map[string]any
	o.json(t, &m, args...)
	return m
}

// fails runs a command that must exit non-zero; it returns stdout and
// stderr together.
func (o *osc) fails(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := o.run(t, args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("openstack %s: want a non-zero exit, got %v\nstdout: %s", strings.Join(args, " "), err, out)
	}
	return out + errOut
}

// output reads an execution's result, the JSON string
// {"duration": ..., "output": ...}, and returns output.
func output(t *testing.T, ex map[string]any) any {
	t.Helper()
	s, ok := ex["result"].(string)
	if !ok {
		t.Fatalf("execution %v: result is not a JSON string", ex)
	}
	var r struct {
		Duration *float64 `json:"duration"`
		Output   any      `json:"output"`
	}
	if err := json.Unmarshal([]byte(s), &r); err != nil || r.Duration == nil {
		t.Fatalf("execution %v: result %q is not {duration, output}", ex, s)
	}
	return r.Output
}

func wantField(t *testing.T, what string, m map[string]any, key string, want any) {
	t.Helper()
	if m[key] != want {
		t.Errorf("%s: %s = %#v, want %#v (%v)", what, key, m[key], want, m)
	}
}

// ids returns the "Id" column of a list's JSON output.
func ids(list []map[string]any) []string {
	var out []string
	for _, m := range list {
		if id, ok := m["Id"].(string); ok {
			out = append(out, id)
		}
	}
	return out
}

// writeFiles writes files into a fresh directory of t and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// zipDir zips a directory's files into dir.zip beside it; it returns the
// zip's path and md5.
func zipDir(t *testing.T, dir string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := dir + ".zip"
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(buf.Bytes())
	return path, hex.EncodeToString(sum[:])
}

// waitExecution polls `function execution show` until the execution has
// left "running".
func (o *osc) waitExecution(t *testing.T, id string) map[string]any {
	t.Helper()
	var ex map[string]any
	waitFor(t, 20*time.Second, "execution "+id+" to finish", func() bool {
		ex = o.obj(t, "function", "execution", "show", id)
		return ex["status"] != "running"
	})
	return ex
}

// TestQinling_OpenstackClient drives every verb of the real openstack
// client's runtime, function, execution, version, alias and webhook
// commands against an eventide process, with password auth: exit codes,
// -f json output, packages the client uploads (Node.js and Python
// packages of several modules, and single files the client zips itself),
// results, logs and statuses, and cron jobs that fire. Each
// command is a python3 process of about a second, so the flows run side
// by side.
func TestQinling_OpenstackClient(t *testing.T) {
	if _, err := exec.LookPath("openstack"); err != nil {
		t.Fatalf("the openstack client is not installed (.ci/run installs python3-openstackclient and python3-qinlingclient): %v", err)
	}
	p := startProc(t)
	qinlingURL := p.url(4)
	o := newOSC(t, qinlingURL, "password")

	jsRT := o.obj(t, "runtime", "create", "openstackqinling/nodejs-runtime", "--name", "node-rt", "--description", "Node.js in goja")
	pyRT := o.obj(t, "runtime", "create", "openstackqinling/python3-runtime", "--name", "py-rt")
	for _, rt := range []map[string]any{jsRT, pyRT} {
		wantField(t, "runtime", rt, "status", "available")
		wantField(t, "runtime", rt, "is_public", true)
	}
	jsRTID, pyRTID := jsRT["id"].(string), pyRT["id"].(string)
	var rts []map[string]any
	o.json(t, &rts, "runtime", "list")
	if got := ids(rts); !slices.Contains(got, jsRTID) || !slices.Contains(got, pyRTID) {
		t.Fatalf("runtime list %v lacks %s and %s", got, jsRTID, pyRTID)
	}

	t.Run("flows", func(t *testing.T) {
		t.Run("runtimes and auth", func(t *testing.T) {
			t.Parallel()
			shown := o.obj(t, "runtime", "show", jsRTID)
			wantField(t, "runtime show", shown, "name", "node-rt")
			wantField(t, "runtime show", shown, "image", "openstackqinling/nodejs-runtime")
			wantField(t, "runtime show", shown, "description", "Node.js in goja")
			pool := o.obj(t, "runtime", "pool", "show", pyRTID)
			wantField(t, "runtime pool", pool, "name", pyRTID)
			if c, _ := pool["capacity"].(map[string]any); c == nil || c["total"].(float64) < 1 {
				t.Errorf("runtime pool show %v: no capacity", pool)
			}
			out := newOSC(t, qinlingURL, "not-the-password").fails(t, "runtime", "list", "-f", "json")
			if !strings.Contains(out, "401") {
				t.Errorf("wrong password: %q does not say 401", out)
			}
		})
		t.Run("nodejs functions", func(t *testing.T) {
			t.Parallel()
			nodeJSFunctions(t, o, jsRTID)
		})
		t.Run("nodejs versions and aliases", func(t *testing.T) {
			t.Parallel()
			nodeJSVersions(t, o, jsRTID)
		})
		t.Run("python executions and webhooks", func(t *testing.T) {
			t.Parallel()
			pythonFlow(t, o, pyRTID)
		})
		t.Run("jobs", func(t *testing.T) {
			t.Parallel()
			jobsFlow(t, o, jsRTID)
		})
	})

	// The flows deleted their functions: the runtimes can go.
	o.ok(t, "runtime", "delete", jsRTID, pyRTID)
	if out := o.fails(t, "runtime", "show", jsRTID); !strings.Contains(out, "404") {
		t.Errorf("deleted runtime: %q", out)
	}
}

// nodeJSFunctions: a package of two CommonJS modules; function show,
// update (fields, then code the client zips), download, executions and
// their log, scale up/down with the worker list, detach, scale up of code
// not run yet, delete.
func nodeJSFunctions(t *testing.T, o *osc, runtimeID string) {
	dir := writeFiles(t, map[string]string{
		"index.js": "const util = require('./util');\n" +
			"exports.handler = function (context, input) {\n" +
			"  console.log('greeting ' + (input && input.name));\n" +
			"  return util.greet(input && input.name);\n};\n",
		"util.js": "exports.greet = (n) => 'Hello, ' + (n || 'world');\n",
	})
	pkg, sum := zipDir(t, dir)
	fn := o.obj(t, "function", "create", "--runtime", runtimeID, "--name", "hello-js", "--entry", "index.handler", "--package", pkg)
	id, _ := fn["id"].(string)
	wantField(t, "function create", fn, "runtime_id", runtimeID)
	wantField(t, "function create", fn, "entry", "index.handler")
	if code, _ := fn["code"].(map[string]any); code["source"] != "package" || code["md5sum"] != sum {
		t.Errorf("function create: code %v, want package with md5sum %s", fn["code"], sum)
	}
	// The client finds functions by name.
	wantField(t, "function show", o.obj(t, "function", "show", "hello-js"), "id", id)
	up := o.obj(t, "function", "update", id, "--description", "greets", "--timeout", "7")
	wantField(t, "function update", up, "description", "greets")
	wantField(t, "function update", up, "timeout", float64(7))

	ex := o.obj(t, "function", "execution", "create", "--function", "hello-js", "--input", `{"name": "eventide"}`)
	wantField(t, "execution", ex, "status", "success")
	wantField(t, "execution", ex, "sync", true)
	if out := output(t, ex); out != "Hello, eventide" {
		t.Errorf("execution output %#v", out)
	}
	exID, _ := ex["id"].(string)
	if log := o.ok(t, "function", "execution", "log", "show", exID); !strings.Contains(log, "greeting eventide") {
		t.Errorf("execution log %q lacks the console.log line", log)
	}

	// Warm workers of the code that ran: scale up takes them from the
	// runtime's pool (another flow's function may hold some too).
	o.ok(t, "function", "scaleup", id, "--count", "2")
	c, _ := o.obj(t, "runtime", "pool", "show", runtimeID)["capacity"].(map[string]any)
	if total, avail := c["total"].(float64), c["available"].(float64); avail > total-2 {
		t.Errorf("after scaleup --count 2: capacity %v of %v available", avail, total)
	}
	wantWorkers := func(what string, n int) {
		t.Helper()
		var ws []map[string]any
		o.json(t, &ws, "function", "worker", "list", id)
		if len(ws) != n {
			t.Fatalf("function worker list %s: %v, want %d workers", what, ws, n)
		}
		for _, w := range ws {
			// Workers are listed cluster-wide, named <node>/<worker>.
			name, _ := w["Worker_name"].(string)
			node, worker, _ := strings.Cut(name, "/")
			if w["Function_id"] != id || node == "" || !strings.HasPrefix(worker, "jsworker-") {
				t.Errorf("function worker list %s: %v, want function %s and a node's jsworker name", what, w, id)
			}
		}
	}
	wantWorkers("after scaleup --count 2", 2)
	o.ok(t, "function", "scaledown", id)
	wantWorkers("after scaledown", 1)
	o.ok(t, "function", "detach", id)
	wantWorkers("after detach", 0)

	// New code: the client zips index.js alone.
	newIndex := filepath.Join(t.TempDir(), "index.js")
	if err := os.WriteFile(newIndex, []byte("exports.handler = () => 'v2 says hi';\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	up = o.obj(t, "function", "update", id, "--file", newIndex)
	if code, _ := up["code"].(map[string]any); code["md5sum"] == sum || code["md5sum"] == nil {
		t.Errorf("function update --file: code %v, want a new md5sum", up["code"])
	}
	// Scaling code that has not run yet warms it now.
	o.ok(t, "function", "scaleup", id)
	wantWorkers("after scaleup of code not run yet", 1)
	if ex := o.obj(t, "function", "execution", "create", "--function", id); output(t, ex) != "v2 says hi" {
		t.Errorf("execution of new code: %v", ex)
	}
	wantWorkers("after running the new code on its warm worker", 1)

	zipPath := filepath.Join(t.TempDir(), "download.zip")
	o.ok(t, "function", "download", id, "-o", zipPath)
	if got := zipFiles(t, zipPath); len(got) != 1 || !strings.Contains(got["index.js"], "v2 says hi") {
		t.Errorf("downloaded package holds %v, want the client's zip of index.js", got)
	}

	o.ok(t, "function", "execution", "delete", "--execution", exID)
	o.ok(t, "function", "delete", id)
	if out := o.fails(t, "function", "show", id); !strings.Contains(out, "404") {
		t.Errorf("deleted function: %q", out)
	}
}

// nodeJSVersions: a function from a file the client zips; versions,
// executions of a version and through an alias, aliases moved and
// deleted.
func nodeJSVersions(t *testing.T, o *osc, runtimeID string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "greet.js")
	write := func(body string) {
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("exports.main = () => 'first';\n")
	fn := o.obj(t, "function", "create", "--runtime", runtimeID, "--name", "versioned-js", "--entry", "greet.main", "--file", file)
	id, _ := fn["id"].(string)
	v1 := o.obj(t, "function", "version", "create", "versioned-js", "--description", "first")
	wantField(t, "version create", v1, "version_number", float64(1))
	wantField(t, "version create", v1, "function_id", id)
	write("exports.main = () => 'second';\n")
	o.ok(t, "function", "update", id, "--file", file)
	wantField(t, "version create", o.obj(t, "function", "version", "create", id), "version_number", float64(2))
	var versions []map[string]any
	o.json(t, &versions, "function", "version", "list", id)
	if len(versions) != 2 {
		t.Errorf("version list: %v", versions)
	}
	wantField(t, "version show", o.obj(t, "function", "version", "show", id, "1"), "description", "first")
	old := o.obj(t, "function", "execution", "create", "--function", id, "--function-version", "1")
	wantField(t, "execution of version 1", old, "function_version", float64(1))
	if out := output(t, old); out != "first" {
		t.Errorf("version 1 output %#v", out)
	}

	a := o.obj(t, "function", "alias", "create", "live", "--function", "versioned-js", "--function-version", "1", "--description", "stable")
	wantField(t, "alias create", a, "function_id", id)
	wantField(t, "alias create", a, "function_version", float64(1))
	var aliases []map[string]any
	o.json(t, &aliases, "function", "alias", "list")
	if len(aliases) != 1 || aliases[0]["Name"] != "live" {
		t.Errorf("alias list: %v", aliases)
	}
	wantField(t, "alias show", o.obj(t, "function", "alias", "show", "live"), "description", "stable")
	a = o.obj(t, "function", "alias", "update", "live", "--function-version", "2")
	wantField(t, "alias update", a, "function_version", float64(2))
	wantField(t, "alias update", a, "description", "stable")
	byAlias := o.obj(t, "function", "execution", "create", "--function-alias", "live")
	wantField(t, "execution by alias", byAlias, "function_alias", "live")
	if out := output(t, byAlias); out != "second" {
		t.Errorf("execution by alias: output %#v", out)
	}

	o.ok(t, "function", "version", "detach", id, "2")
	o.ok(t, "function", "alias", "delete", "live")
	o.ok(t, "function", "version", "delete", id, "2")
	o.ok(t, "function", "delete", id)
}

// pythonFlow: a package of two modules and a file the client zips itself;
// sync, async and failing executions, logs, list filters; webhooks.
func pythonFlow(t *testing.T, o *osc, runtimeID string) {
	pkgDir := writeFiles(t, map[string]string{
		"main.py":   "import helper\n\ndef main(**kwargs):\n    return helper.greet()\n",
		"helper.py": "def greet():\n    return 'Hi from helper'\n",
	})
	pkg, _ := zipDir(t, pkgDir)
	multi := o.obj(t, "function", "create", "--runtime", runtimeID, "--name", "py-pkg", "--package", pkg)
	wantField(t, "function create", multi, "entry", "main.main")
	multiID, _ := multi["id"].(string)
	if out := output(t, o.obj(t, "function", "execution", "create", "--function", multiID)); out != "Hi from helper" {
		t.Errorf("multi-module python package: output %#v", out)
	}

	file := filepath.Join(writeFiles(t, map[string]string{
		"hello.py": "def main(name='world', **kwargs):\n" +
			"    print('hello from python')\n" +
			"    if name == 'boom':\n" +
			"        raise ValueError('boom requested')\n" +
			"    return 'Hi, ' + name\n",
	}), "hello.py")
	fn := o.obj(t, "function", "create", "--runtime", runtimeID, "--name", "hello-py", "--entry", "hello.main", "--file", file)
	id, _ := fn["id"].(string)
	var fns []map[string]any
	o.json(t, &fns, "function", "list")
	if got := ids(fns); !slices.Contains(got, id) || !slices.Contains(got, multiID) {
		t.Errorf("function list %v lacks %s and %s", got, id, multiID)
	}

	ex := o.obj(t, "function", "execution", "create", "--function", "hello-py", "--input", `{"name": "eventide"}`)
	wantField(t, "execution", ex, "status", "success")
	if out := output(t, ex); out != "Hi, eventide" {
		t.Errorf("execution output %#v", out)
	}
	exID, _ := ex["id"].(string)
	log := o.ok(t, "function", "execution", "log", "show", exID)
	for _, want := range []string{"Start execution: " + exID, "hello from python", "Finished execution: " + exID} {
		if !strings.Contains(log, want) {
			t.Errorf("execution log %q lacks %q", log, want)
		}
	}

	async := o.obj(t, "function", "execution", "create", "--function", id, "--async", "--input", `{"name": "later"}`)
	wantField(t, "async execution", async, "sync", false)
	if s := async["status"]; s != "running" && s != "success" {
		t.Errorf("async execution status %v", s)
	}
	asyncID, _ := async["id"].(string)
	done := o.waitExecution(t, asyncID)
	wantField(t, "async execution", done, "status", "success")
	if out := output(t, done); out != "Hi, later" {
		t.Errorf("async output %#v", out)
	}

	failed := o.obj(t, "function", "execution", "create", "--function", id, "--input", `{"name": "boom"}`)
	wantField(t, "failing execution", failed, "status", "failed")
	if out, _ := output(t, failed).(string); !strings.Contains(out, "boom requested") {
		t.Errorf("failing execution output %#v", out)
	}
	var exs []map[string]any
	o.json(t, &exs, "function", "execution", "list", "--filter", "function_id="+id)
	if got := ids(exs); len(got) != 3 || !slices.Contains(got, asyncID) {
		t.Errorf("execution list --filter function_id: %v", got)
	}

	// Webhooks, invoked without credentials.
	wh := o.obj(t, "webhook", "create", "--function", "hello-py", "--description", "hook")
	whID, _ := wh["id"].(string)
	url, _ := wh["webhook_url"].(string)
	if !strings.HasSuffix(url, "/v1/webhooks/"+whID+"/invoke") {
		t.Errorf("webhook_url %q", url)
	}
	var whs []map[string]any
	o.json(t, &whs, "webhook", "list")
	if got := ids(whs); !slices.Equal(got, []string{whID}) {
		t.Errorf("webhook list: %v", got)
	}
	wantField(t, "webhook show", o.obj(t, "webhook", "show", whID), "function_id", id)
	wantField(t, "webhook update", o.obj(t, "webhook", "update", whID, "--description", "moved"), "description", "moved")
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"name": "webhook"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var inv struct {
		ExecutionID string `json:"execution_id"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &inv) != nil || inv.ExecutionID == "" {
		t.Fatalf("webhook invoke: %d %s", resp.StatusCode, body)
	}
	hooked := o.waitExecution(t, inv.ExecutionID)
	wantField(t, "webhook execution", hooked, "status", "success")
	if out := output(t, hooked); out != "Hi, webhook" {
		t.Errorf("webhook execution output %#v", out)
	}
	o.ok(t, "webhook", "delete", whID)

	// Deleting by function removes every execution of it.
	o.ok(t, "function", "execution", "delete", "--function", id)
	o.json(t, &exs, "function", "execution", "list", "--filter", "function_id="+id)
	if len(exs) != 0 {
		t.Errorf("executions left after delete --function: %v", ids(exs))
	}
	o.ok(t, "function", "delete", id, multiID)
}

// zipFiles reads a zip file's entries.
func zipFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer zr.Close()
	files := make(map[string]string)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	return files
}

// jobsFlow: job create/list/show/update/delete, and a job that fires
// twice and is done (a robfig descriptor pattern, so the test need not
// wait for a minute boundary).
func jobsFlow(t *testing.T, o *osc, runtimeID string) {
	file := filepath.Join(writeFiles(t, map[string]string{
		"tick.js": "exports.main = (context, input) => 'tick ' + input.n;\n",
	}), "tick.js")
	fn := o.obj(t, "function", "create", "--runtime", runtimeID, "--name", "tick-js", "--entry", "tick.main", "--file", file)
	id, _ := fn["id"].(string)

	// A paused job that is never meant to fire: update and delete.
	idle := o.obj(t, "job", "create", "--function", id, "--name", "idle", "--pattern", "0 3 * * *", "--function-input", `{"n": 0}`)
	idleID, _ := idle["id"].(string)
	wantField(t, "job create", idle, "status", "running")
	wantField(t, "job create", idle, "pattern", "0 3 * * *")
	o.ok(t, "job", "update", idleID, "--status", "paused")
	wantField(t, "job show", o.obj(t, "job", "show", idleID), "status", "paused")
	o.ok(t, "job", "update", idleID, "--pattern", "0 4 * * *", "--status", "running")
	shown := o.obj(t, "job", "show", idleID)
	wantField(t, "job show", shown, "pattern", "0 4 * * *")
	wantField(t, "job show", shown, "status", "running")
	if out := o.fails(t, "job", "create", "--function", id, "--count", "2", "--first-execution-time", "2000-01-01 00:00:00"); !strings.Contains(out, "400") {
		t.Errorf("a job in the past with a count: %q", out)
	}

	fire := o.obj(t, "job", "create", "--function", id, "--name", "twice", "--pattern", "@every 2s", "--count", "2", "--function-input", `{"n": 7}`)
	fireID, _ := fire["id"].(string)
	var jobs []map[string]any
	o.json(t, &jobs, "job", "list")
	if got := ids(jobs); !slices.Contains(got, idleID) || !slices.Contains(got, fireID) {
		t.Fatalf("job list %v lacks %s and %s", got, idleID, fireID)
	}
	waitFor(t, 30*time.Second, "job "+fireID+" to be done", func() bool {
		return o.obj(t, "job", "show", fireID)["status"] == "done"
	})
	var exs []map[string]any
	o.json(t, &exs, "function", "execution", "list", "--filter", "function_id="+id)
	fired := 0
	for _, exID := range ids(exs) {
		ex := o.waitExecution(t, exID)
		if ex["description"] != "Created by Job "+fireID {
			continue
		}
		fired++
		if out := output(t, ex); out != "tick 7" {
			t.Errorf("job execution output %#v", out)
		}
	}
	if fired != 2 {
		t.Errorf("the job with count 2 fired %d times", fired)
	}
	o.ok(t, "job", "delete", idleID, fireID)
	if out := o.fails(t, "job", "show", idleID); !strings.Contains(out, "404") {
		t.Errorf("deleted job: %q", out)
	}
	o.ok(t, "function", "delete", id)
}
