package e2e

// The handler corpus: real-world-style Couchbase Eventing handlers, one
// directory each under testdata/corpus/, run against one real in-process
// node through the public REST APIs only. testdata/corpus/README.md
// describes the case format; corpusCase below is its schema.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventide/node"
)

// corpusDir holds the cases that run; testdata/corpus-failing (same
// format) holds cases the product does not pass yet, and is not read unless
// EVENTIDE_CORPUS names it (EVENTIDE_CORPUS=testdata/corpus-failing).
const corpusDir = "testdata/corpus"

// corpusParallel bounds how many cases run at once. Cases mostly wait (for
// workers, expiry, timeouts), so more than the 2 cores; go test's own
// -parallel bound applies on top.
const corpusParallel = 4

// corpusTimeout bounds each wait of a case (a step's await, the final
// expectations).
const corpusTimeout = 30 * time.Second

// corpusCase is case.json.
type corpusCase struct {
	// Description names the rule the case checks and cites the reference
	// section ("§2.4 replace with a stale cas gives error.cas_mismatch").
	Description string `json:"description"`
	// Source and Metadata are keyspaces ("bucket" or
	// "bucket.scope.collection"); defaults "src" and "meta".
	Source   string `json:"source"`
	Metadata string `json:"metadata"`
	// Bindings are bucket bindings (access "r" or "rw").
	Bindings []caseBinding `json:"bindings"`
	// Constants are constant bindings: alias = literal JS text.
	Constants []caseConstant `json:"constants"`
	// Curl are curl bindings; their url may use {{http}} (the corpus's
	// HTTP test server) and {{down}} (an address nothing listens on).
	Curl []caseCurl `json:"curl"`
	// Settings are merged over {"dcp_stream_boundary": "everything"}.
	Settings map[string]any `json:"settings"`
	// NotCreated lists keyspaces the case names but the runner must not
	// create: "bucket" leaves the bucket out, "bucket.scope.collection"
	// creates the bucket but not the scope and collection.
	NotCreated []string `json:"not_created"`
	// Refused, when set, expects the function to be refused at "create"
	// or "deploy"; no steps run then.
	Refused *caseRefusal `json:"refused"`
	// DeployStatus is the composite status to wait for after the deploy
	// call (default "deployed"; e.g. "undeployed" after a failing OnDeploy).
	DeployStatus string `json:"deploy_status"`
	// BeforeDeploy steps run after the function is created, before it is
	// deployed (documents a from_now boundary skips, reference data).
	BeforeDeploy []caseStep `json:"before_deploy"`
	// Steps run in order after the deploy.
	Steps []caseStep `json:"steps"`
	// Expect is the final state, waited for and then checked once more
	// after a short quiet period.
	Expect caseState `json:"expect"`
}

type caseBinding struct {
	Alias    string `json:"alias"`
	Keyspace string `json:"keyspace"`
	Access   string `json:"access"`
}

type caseConstant struct {
	Alias   string `json:"alias"`
	Literal string `json:"literal"`
}

type caseCurl struct {
	Alias        string `json:"alias"`
	URL          string `json:"url"`
	AuthType     string `json:"auth_type"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	BearerKey    string `json:"bearer_key"`
	AllowCookies bool   `json:"allow_cookies"`
}

// caseRefusal is an expected error answer of the eventing API.
type caseRefusal struct {
	At     string `json:"at"` // "create" or "deploy"
	Status int    `json:"status"`
	Name   string `json:"name"`
	// Contains are substrings of the error's description.
	Contains []string `json:"contains"`
}

// caseStep is one action, then an optional wait. Exactly one action (or
// none, for a pure wait).
type caseStep struct {
	Comment string `json:"comment"`
	// Write creates or replaces documents (objects with _id; _exp gives an
	// expiry as in Sync Gateway) in Keyspace; the runner supplies _rev.
	Write []map[string]any `json:"write"`
	// Delete deletes documents by id from Keyspace.
	Delete []string `json:"delete"`
	// Keyspace of Write/Delete; default the source.
	Keyspace string `json:"keyspace"`
	// Lifecycle is "pause", "resume", "undeploy" or "deploy"; the step
	// waits for the resulting composite status.
	Lifecycle string `json:"lifecycle"`
	// Query runs a SQL++ statement ({{bucket:name}} resolved) through the
	// node's query service, request_plus; it must succeed.
	Query string `json:"query"`
	// Await is waited for after the action (timers firing, a stat
	// reaching a value, a document appearing).
	Await *caseState `json:"await"`
}

// lifecycleResult is the composite status a lifecycle step waits for.
var lifecycleResult = map[string]string{"pause": "paused", "resume": "deployed", "undeploy": "undeployed", "deploy": "deployed"}

// caseState is a set of checks on the node's observable state.
type caseState struct {
	// Keyspaces maps a keyspace to its exact live documents by id,
	// compared as JSON ignoring _id and _rev. In expected values an object
	// {"$regex": "..."} matches a string, {"$type": "string"|"number"|
	// "boolean"|"object"|"array"|"null"} any value of that type.
	Keyspaces map[string]map[string]any `json:"keyspaces"`
	// Docs maps a keyspace to some of its documents (others may exist);
	// a null document means absent.
	Docs map[string]map[string]any `json:"docs"`
	// Stats maps "group.name" (or "group.sub.name") of
	// /api/v1/stats/{function} to its exact value.
	Stats map[string]float64 `json:"stats"`
	// AppLog checks the function's application log.
	AppLog *caseAppLog `json:"app_log"`
	// Status is the function's composite status.
	Status string `json:"status"`
	// Settings maps a setting to its value as
	// GET /api/v1/functions/{name}/settings returns it (defaults, rounding).
	Settings map[string]any `json:"settings"`
}

type caseAppLog struct {
	Contains []string `json:"contains"` // substrings of some line
	Matches  []string `json:"matches"`  // regexps matching some line
	Absent   []string `json:"absent"`   // substrings of no line
}

// loadCorpusCase reads and checks one case directory.
func loadCorpusCase(dir string) (corpusCase, string, error) {
	var cc corpusCase
	code, err := os.ReadFile(filepath.Join(dir, "handler.js"))
	if err != nil {
		return cc, "", err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		return cc, "", err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt key must not silently check nothing
	if err := dec.Decode(&cc); err != nil {
		return cc, "", fmt.Errorf("case.json: %w", err)
	}
	if !strings.Contains(cc.Description, "§") {
		return cc, "", fmt.Errorf("case.json: the description must cite a reference section (§...)")
	}
	if cc.Source == "" {
		cc.Source = "src"
	}
	if cc.Metadata == "" {
		cc.Metadata = "meta"
	}
	if cc.DeployStatus == "" {
		cc.DeployStatus = "deployed"
	}
	if r := cc.Refused; r != nil {
		if r.At != "create" && r.At != "deploy" {
			return cc, "", fmt.Errorf("case.json: refused.at must be create or deploy, got %q", r.At)
		}
		if r.Status == 0 || r.Name == "" {
			return cc, "", fmt.Errorf("case.json: refused needs a status and an error name")
		}
		if len(cc.Steps)+len(cc.BeforeDeploy) > 0 || !reflect.ValueOf(cc.Expect).IsZero() {
			return cc, "", fmt.Errorf("case.json: a refused function has no steps or expectations")
		}
	} else if reflect.ValueOf(cc.Expect).IsZero() {
		return cc, "", fmt.Errorf("case.json: no expectations")
	}
	for i, s := range slices.Concat(cc.BeforeDeploy, cc.Steps) {
		actions := 0
		for _, set := range []bool{s.Write != nil, s.Delete != nil, s.Lifecycle != "", s.Query != ""} {
			if set {
				actions++
			}
		}
		if actions > 1 || (actions == 0 && s.Await == nil) {
			return cc, "", fmt.Errorf("case.json: step %d needs one action or an await", i)
		}
		if s.Lifecycle != "" && lifecycleResult[s.Lifecycle] == "" {
			return cc, "", fmt.Errorf("case.json: step %d: unknown lifecycle %q", i, s.Lifecycle)
		}
	}
	return cc, string(code), nil
}

// corpusRun is one case running against the shared node.
type corpusRun struct {
	t      *testing.T
	c      *client
	name   string // function name: the directory name
	prefix string // bucket prefix: "c<number>_"
	query  string // the node's query service URL
	cc     corpusCase
	code   string
	server string // base URL of the HTTP test server
	down   string // base URL nobody listens on

	buckets []string // created, unprefixed
}

// corpusName is a case directory's name: a three-digit number and a name.
var corpusName = regexp.MustCompile(`^(\d{3})-[a-z0-9-]+$`)

// TestCorpus runs every case of testdata/corpus on one node.
func TestCorpus(t *testing.T) {
	dir := corpusDir
	if d := os.Getenv("EVENTIDE_CORPUS"); d != "" {
		dir = d
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, c := newNode(t)
	queryURL := n.URL(node.APIQuery)
	server := newCorpusServer(t)
	down := closedURL(t)
	sem := make(chan struct{}, corpusParallel)
	// A number names a case's buckets, so it is unique across the running
	// and the failing cases (a failing case moves back unchanged).
	owner := map[string]string{}
	if others, err := os.ReadDir("testdata/corpus-failing"); err == nil && dir == corpusDir {
		for _, e := range others {
			if m := corpusName.FindStringSubmatch(e.Name()); e.IsDir() && m != nil {
				owner[m[1]] = "corpus-failing/" + e.Name()
			}
		}
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		m := corpusName.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("corpus directory %q is not named NNN-name", name)
			continue
		}
		if o, dup := owner[m[1]]; dup {
			t.Errorf("corpus directories %s and %s share the number %s", o, name, m[1])
			continue
		}
		owner[m[1]] = name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cc, code, err := loadCorpusCase(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			r := &corpusRun{t: t, c: newClient(t, c.Mgmt, c.Eventing, c.SyncGW), name: name,
				prefix: "c" + m[1] + "_", cc: cc, code: code, server: server, down: down, query: queryURL}
			r.run()
		})
	}
}

// ks maps a case's keyspace to the node's: the bucket gets the case prefix.
func (r *corpusRun) ks(name string) string {
	return r.prefix + name
}

func splitKeyspace(ks string) (bucket, scope, collection string) {
	parts := strings.Split(ks, ".")
	switch len(parts) {
	case 3:
		return parts[0], parts[1], parts[2]
	case 2:
		return parts[0], "_default", parts[1]
	}
	return ks, "_default", "_default"
}

// keyspaces lists every keyspace the case names.
func (r *corpusRun) keyspaces() []string {
	cc := r.cc
	all := []string{cc.Source, cc.Metadata}
	for _, b := range cc.Bindings {
		all = append(all, b.Keyspace)
	}
	states := []*caseState{&cc.Expect}
	for _, s := range slices.Concat(cc.BeforeDeploy, cc.Steps) {
		if s.Keyspace != "" {
			all = append(all, s.Keyspace)
		}
		if s.Await != nil {
			states = append(states, s.Await)
		}
	}
	for _, st := range states {
		all = slices.AppendSeq(all, maps.Keys(st.Keyspaces))
		all = slices.AppendSeq(all, maps.Keys(st.Docs))
	}
	for _, m := range codeBucketRef.FindAllStringSubmatch(r.code, -1) {
		all = append(all, m[1])
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// codeBucketRef is how a handler names a case's bucket in SQL++ text,
// {{bucket:name}}: the runner gives it the case's prefix.
var codeBucketRef = regexp.MustCompile(`\{\{bucket:([A-Za-z0-9_-]+)\}\}`)

// appCode is the handler with its bucket references resolved.
func (r *corpusRun) appCode() string {
	return codeBucketRef.ReplaceAllStringFunc(r.code, func(m string) string {
		return r.ks(codeBucketRef.FindStringSubmatch(m)[1])
	})
}

// createKeyspaces creates the case's buckets, scopes and collections.
func (r *corpusRun) createKeyspaces() {
	r.t.Helper()
	scopes := map[string]bool{}
	for _, ks := range r.keyspaces() {
		b, s, col := splitKeyspace(ks)
		if slices.Contains(r.cc.NotCreated, b) {
			continue
		}
		if !slices.Contains(r.buckets, b) {
			r.c.CreateBucket(r.ks(b))
			r.buckets = append(r.buckets, b)
		}
		if slices.Contains(r.cc.NotCreated, ks) || s == "_default" && col == "_default" {
			continue
		}
		base := r.c.Mgmt + "/pools/default/buckets/" + r.ks(b) + "/scopes"
		if s != "_default" && !scopes[b+"."+s] {
			scopes[b+"."+s] = true
			r.c.Must(http.StatusOK, http.MethodPost, base, "application/x-www-form-urlencoded",
				[]byte(url.Values{"name": {s}}.Encode()))
		}
		if col != "_default" {
			r.c.Must(http.StatusOK, http.MethodPost, base+"/"+s+"/collections", "application/x-www-form-urlencoded",
				[]byte(url.Values{"name": {col}}.Encode()))
		}
	}
}

// definition builds the function definition in Couchbase's old format.
func (r *corpusRun) definition() map[string]any {
	cc := r.cc
	keyspace := func(prefix, ks string) map[string]any {
		b, s, col := splitKeyspace(ks)
		return map[string]any{prefix + "bucket": r.ks(b), prefix + "scope": s, prefix + "collection": col}
	}
	depcfg := map[string]any{}
	maps.Copy(depcfg, keyspace("source_", cc.Source))
	maps.Copy(depcfg, keyspace("metadata_", cc.Metadata))
	buckets := []map[string]any{}
	for _, b := range cc.Bindings {
		bucket, s, col := splitKeyspace(b.Keyspace)
		buckets = append(buckets, map[string]any{"alias": b.Alias, "bucket_name": r.ks(bucket),
			"scope_name": s, "collection_name": col, "access": b.Access})
	}
	depcfg["buckets"] = buckets
	if len(cc.Constants) > 0 {
		var cs []map[string]any
		for _, k := range cc.Constants {
			cs = append(cs, map[string]any{"value": k.Alias, "literal": k.Literal})
		}
		depcfg["constants"] = cs
	}
	if len(cc.Curl) > 0 {
		var cs []map[string]any
		for _, k := range cc.Curl {
			auth := k.AuthType
			if auth == "" {
				auth = "no-auth"
			}
			u := strings.NewReplacer("{{http}}", r.server, "{{down}}", r.down).Replace(k.URL)
			cs = append(cs, map[string]any{"value": k.Alias, "hostname": u, "auth_type": auth,
				"username": k.Username, "password": k.Password, "bearer_key": k.BearerKey,
				"allow_cookies": k.AllowCookies, "validate_ssl_certificate": false})
		}
		depcfg["curl"] = cs
	}
	settings := map[string]any{"dcp_stream_boundary": "everything"}
	maps.Copy(settings, cc.Settings)
	return map[string]any{"appname": r.name, "appcode": r.appCode(), "depcfg": depcfg, "settings": settings}
}

func (r *corpusRun) run() {
	t, c := r.t, r.c
	t.Cleanup(r.teardown)
	r.createKeyspaces()
	def, _ := json.Marshal(r.definition())
	fn := c.Eventing + "/api/v1/functions/" + r.name
	if ref := r.cc.Refused; ref != nil {
		if ref.At == "create" {
			r.expectRefusal(ref, http.MethodPost, fn, def)
			if code, body := c.Do(http.MethodGet, fn, "", nil); code != http.StatusNotFound {
				t.Fatalf("the refused function was stored: GET %s: %d %s", fn, code, body)
			}
			return
		}
		c.Must(http.StatusOK, http.MethodPost, fn, "application/json", def)
		r.expectRefusal(ref, http.MethodPost, fn+"/deploy", nil)
		if st := c.CompositeStatus(r.name); st != "undeployed" {
			t.Fatalf("after the refused deploy the function is %s, want undeployed", st)
		}
		return
	}
	c.Must(http.StatusOK, http.MethodPost, fn, "application/json", def)
	for i, s := range r.cc.BeforeDeploy {
		r.step(fmt.Sprintf("before_deploy[%d]", i), s)
	}
	c.Lifecycle(r.name, "deploy")
	r.waitStatus(r.cc.DeployStatus)
	for i, s := range r.cc.Steps {
		r.step(fmt.Sprintf("steps[%d]", i), s)
	}
	r.await("the expectations", r.cc.Expect)
	// A short quiet period shows that nothing more happens (no re-trigger,
	// no late duplicate), then the same state is checked again.
	time.Sleep(250 * time.Millisecond)
	if diff := r.check(r.cc.Expect); diff != "" {
		t.Fatalf("the expectations held, then stopped holding:\n%s\n%s", diff, r.context())
	}
}

// teardown undeploys and deletes the function and deletes the case's
// buckets, so that a long corpus stays within the node's RAM quota and
// later cases get the CPU.
func (r *corpusRun) teardown() {
	c := r.c
	fn := c.Eventing + "/api/v1/functions/" + r.name
	if code, _ := c.Do(http.MethodGet, fn, "", nil); code == http.StatusOK {
		c.Do(http.MethodPost, fn+"/undeploy", "", nil) // already undeployed is fine
		deadline := time.Now().Add(corpusTimeout)
		for c.CompositeStatus(r.name) != "undeployed" {
			if time.Now().After(deadline) {
				r.t.Errorf("teardown: %s did not undeploy", r.name)
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
		if code, b := c.Do(http.MethodDelete, fn, "", nil); code != http.StatusOK {
			r.t.Errorf("teardown: DELETE %s: %d %s", fn, code, b)
		}
	}
	for _, b := range r.buckets {
		if code, body := c.Do(http.MethodDelete, c.Mgmt+"/pools/default/buckets/"+r.ks(b), "", nil); code != http.StatusOK {
			r.t.Errorf("teardown: delete bucket %s: %d %s", r.ks(b), code, body)
		}
	}
}

func (r *corpusRun) expectRefusal(ref *caseRefusal, method, u string, body []byte) {
	r.t.Helper()
	code, b := r.c.Do(method, u, "application/json", body)
	var e eventingError
	if err := json.Unmarshal(b, &e); err != nil {
		r.t.Fatalf("%s %s: status %d, body %q is not an eventing error: %v", method, u, code, b, err)
	}
	var problems []string
	if code != ref.Status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", code, ref.Status))
	}
	if e.Name != ref.Name {
		problems = append(problems, fmt.Sprintf("name %q, want %q", e.Name, ref.Name))
	}
	for _, s := range ref.Contains {
		if !strings.Contains(e.Description, s) {
			problems = append(problems, fmt.Sprintf("description does not contain %q", s))
		}
	}
	if len(problems) > 0 {
		r.t.Fatalf("%s %s: %s\nbody: %s", method, u, strings.Join(problems, "; "), b)
	}
}

func (r *corpusRun) waitStatus(want string) {
	r.t.Helper()
	r.poll("status "+want, func() string {
		if got := r.c.CompositeStatus(r.name); got != want {
			return fmt.Sprintf("composite_status %q, want %q", got, want)
		}
		return ""
	})
}

func (r *corpusRun) step(label string, s caseStep) {
	r.t.Helper()
	ks := r.cc.Source
	if s.Keyspace != "" {
		ks = s.Keyspace
	}
	switch {
	case s.Write != nil:
		r.write(ks, s.Write)
	case s.Delete != nil:
		var dels []map[string]any
		for _, id := range s.Delete {
			dels = append(dels, map[string]any{"_id": id, "_deleted": true})
		}
		r.write(ks, dels)
	case s.Lifecycle != "":
		r.c.Lifecycle(r.name, s.Lifecycle)
		r.waitStatus(lifecycleResult[s.Lifecycle])
	case s.Query != "":
		stmt := codeBucketRef.ReplaceAllStringFunc(s.Query, func(m string) string {
			return r.ks(codeBucketRef.FindStringSubmatch(m)[1])
		})
		body, _ := json.Marshal(map[string]string{"statement": stmt, "scan_consistency": "request_plus"})
		code, out := r.c.Do(http.MethodPost, r.query+"/query/service", "application/json", body)
		var res struct{ Status string }
		if code != http.StatusOK || json.Unmarshal(out, &res) != nil || res.Status != "success" {
			r.t.Fatalf("%s: query %s: %d %s", label, stmt, code, out)
		}
	}
	if s.Await != nil {
		r.await(strings.TrimSpace(label+" "+s.Comment), *s.Await)
	}
}

// write posts docs to ks through _bulk_docs, with each existing
// document's current revision.
func (r *corpusRun) write(ks string, docs []map[string]any) {
	r.t.Helper()
	b, s, col := splitKeyspace(ks)
	sgks := r.ks(b)
	if s != "_default" || col != "_default" {
		sgks += "." + s + "." + col
	}
	out := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		d = maps.Clone(d)
		id, ok := d["_id"].(string)
		if !ok {
			r.t.Fatalf("document without a string _id: %v", d)
		}
		if code, cur := r.c.getDoc(sgks, id); code == http.StatusOK {
			d["_rev"] = cur["_rev"]
		}
		out = append(out, d)
	}
	r.c.BulkDocs(sgks, out)
}

// await waits until st holds, failing with its differences.
func (r *corpusRun) await(what string, st caseState) {
	r.t.Helper()
	r.poll(what, func() string { return r.check(st) })
}

// poll calls check until it returns "" or corpusTimeout passes.
func (r *corpusRun) poll(what string, check func() string) {
	r.t.Helper()
	deadline := time.Now().Add(corpusTimeout)
	for {
		diff := check()
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out after %v waiting for %s:\n%s\n%s", corpusTimeout, what, diff, r.context())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// context is what a failure shows besides the differences: the function's
// stats and the newest application log lines.
func (r *corpusRun) context() string {
	var b strings.Builder
	fmt.Fprintf(&b, "case: %s\n", r.cc.Description)
	code, st := r.c.Do(http.MethodGet, r.c.Eventing+"/api/v1/stats/"+r.name, "", nil)
	if code == http.StatusOK {
		var m map[string]any
		if json.Unmarshal(st, &m) == nil {
			fmt.Fprintf(&b, "stats (non-zero):\n")
			for _, g := range []string{"execution_stats", "failure_stats", "event_processing_stats"} {
				if grp, ok := m[g].(map[string]any); ok {
					for _, k := range sortedKeys(grp) {
						if f, ok := grp[k].(float64); ok && f != 0 {
							fmt.Fprintf(&b, "  %s.%s = %v\n", g, k, f)
						}
					}
				}
			}
		}
	}
	lines := r.appLog()
	fmt.Fprintf(&b, "app log (%d lines, newest first):\n", len(lines))
	for _, l := range lines[:min(len(lines), 20)] {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

func (r *corpusRun) appLog() []string {
	code, b := r.c.Do(http.MethodGet, fmt.Sprintf("%s/getAppLog?appName=%s&size=%d", r.c.Eventing, r.name, 1<<16), "", nil)
	if code != http.StatusOK || len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\n")
}

// check returns the differences between st and the node's state, "" if
// none.
func (r *corpusRun) check(st caseState) string {
	var diffs []string
	for _, ks := range sortedKeys(st.Keyspaces) {
		diffs = append(diffs, r.diffKeyspace(ks, st.Keyspaces[ks], true)...)
	}
	for _, ks := range sortedKeys(st.Docs) {
		diffs = append(diffs, r.diffKeyspace(ks, st.Docs[ks], false)...)
	}
	if len(st.Stats) > 0 {
		diffs = append(diffs, r.diffStats(st.Stats)...)
	}
	if st.AppLog != nil {
		diffs = append(diffs, r.diffAppLog(*st.AppLog)...)
	}
	if len(st.Settings) > 0 {
		var got map[string]any
		r.c.GetJSON(r.c.Eventing+"/api/v1/functions/"+r.name+"/settings", &got)
		for _, k := range sortedKeys(st.Settings) {
			g, ok := got[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("setting %s missing, want %s", k, compact(st.Settings[k])))
			} else if p := matchJSON(st.Settings[k], g, ""); p != "" {
				diffs = append(diffs, fmt.Sprintf("setting %s = %s, want %s", k, compact(g), compact(st.Settings[k])))
			}
		}
	}
	if st.Status != "" {
		if got := r.c.CompositeStatus(r.name); got != st.Status {
			diffs = append(diffs, fmt.Sprintf("composite_status %q, want %q", got, st.Status))
		}
	}
	return strings.Join(diffs, "\n")
}

// docsOf returns the live documents of a case keyspace, without _id/_rev.
func (r *corpusRun) docsOf(ks string) map[string]any {
	b, s, col := splitKeyspace(ks)
	sgks := r.ks(b)
	if s != "_default" || col != "_default" {
		sgks += "." + s + "." + col
	}
	out := map[string]any{}
	for _, row := range r.c.AllDocs(sgks) {
		var d any
		if err := json.Unmarshal(row.Doc, &d); err != nil {
			r.t.Fatalf("%s doc %s: %v", ks, row.ID, err)
		}
		if m, ok := d.(map[string]any); ok {
			delete(m, "_id")
			delete(m, "_rev")
		}
		out[row.ID] = d
	}
	return out
}

func (r *corpusRun) diffKeyspace(ks string, want map[string]any, exact bool) []string {
	got := r.docsOf(ks)
	var diffs []string
	for _, id := range sortedKeys(want) {
		w := want[id]
		g, ok := got[id]
		switch {
		case w == nil && ok:
			diffs = append(diffs, fmt.Sprintf("%s: %s exists, want absent: %s", ks, id, compact(g)))
		case w == nil:
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: %s missing, want %s", ks, id, compact(w)))
		default:
			if p := matchJSON(w, g, ""); p != "" {
				diffs = append(diffs, fmt.Sprintf("%s: %s differs at %s:\n    want %s\n    got  %s", ks, id, p, compact(w), compact(g)))
			}
		}
	}
	if exact {
		for _, id := range sortedKeys(got) {
			if _, ok := want[id]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: unexpected %s: %s", ks, id, compact(got[id])))
			}
		}
	}
	return diffs
}

func (r *corpusRun) diffStats(want map[string]float64) []string {
	code, b := r.c.Do(http.MethodGet, r.c.Eventing+"/api/v1/stats/"+r.name, "", nil)
	if code != http.StatusOK {
		return []string{fmt.Sprintf("GET stats: %d %s", code, b)}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return []string{fmt.Sprintf("stats body: %v", err)}
	}
	var diffs []string
	for _, k := range sortedKeys(want) {
		var cur any = m
		for _, p := range strings.Split(k, ".") {
			obj, _ := cur.(map[string]any)
			cur = obj[p]
		}
		if g, ok := cur.(float64); !ok || g != want[k] {
			diffs = append(diffs, fmt.Sprintf("stat %s = %v, want %v", k, cur, want[k]))
		}
	}
	return diffs
}

func (r *corpusRun) diffAppLog(want caseAppLog) []string {
	lines := r.appLog()
	some := func(pred func(string) bool) bool { return slices.ContainsFunc(lines, pred) }
	var diffs []string
	for _, s := range want.Contains {
		if !some(func(l string) bool { return strings.Contains(l, s) }) {
			diffs = append(diffs, fmt.Sprintf("app log: no line contains %q", s))
		}
	}
	for _, s := range want.Matches {
		re, err := regexp.Compile(s)
		if err != nil {
			r.t.Fatalf("app_log.matches %q: %v", s, err)
		}
		if !some(re.MatchString) {
			diffs = append(diffs, fmt.Sprintf("app log: no line matches /%s/", s))
		}
	}
	for _, s := range want.Absent {
		if some(func(l string) bool { return strings.Contains(l, s) }) {
			diffs = append(diffs, fmt.Sprintf("app log: a line contains %q, want none", s))
		}
	}
	return diffs
}

// matchJSON compares a decoded expected value with a decoded actual one
// and returns the path of the first difference, "" if they match.
// Expected {"$regex": re} and {"$type": t} objects match by pattern.
func matchJSON(want, got any, path string) string {
	here := path
	if here == "" {
		here = "."
	}
	if w, ok := want.(map[string]any); ok && len(w) == 1 {
		if re, ok := w["$regex"].(string); ok {
			s, isStr := got.(string)
			if !isStr || !regexp.MustCompile(re).MatchString(s) {
				return here
			}
			return ""
		}
		if typ, ok := w["$type"].(string); ok {
			if jsonType(got) != typ {
				return here
			}
			return ""
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return here
		}
		for _, k := range sortedKeys(w) {
			if _, ok := g[k]; !ok {
				return path + "." + k
			}
			if p := matchJSON(w[k], g[k], path+"."+k); p != "" {
				return p
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return path + "." + k
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return here
		}
		for i := range w {
			if p := matchJSON(w[i], g[i], path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return here
	}
	return ""
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// newCorpusServer starts the HTTP service the curl cases call:
//
//	/echo/...        200 JSON {method, path, query, content_type, authorization, body}
//	/text/...        200 text/plain "plain text for <path>"
//	/status/<code>   <code> JSON {"status": <code>}
//	/empty-json      200 application/json with an empty body
//	/bad-json        200 application/json with a malformed body
//	/form            200 application/x-www-form-urlencoded "a=1&b=two+words"
//	/cookie/set      200 text, Set-Cookie: session=abc; /cookie/get echoes the Cookie header
//	/redirect        302 to /echo/redirected
func newCorpusServer(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.EscapedPath(), "query": r.URL.RawQuery,
			"content_type": r.Header.Get("Content-Type"), "authorization": r.Header.Get("Authorization"),
			"x_custom": r.Header.Get("X-Custom"), "body": string(body),
		})
	})
	mux.HandleFunc("/text/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "plain text for %s", r.URL.Path)
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusBadRequest
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"status":%d}`, code)
	})
	mux.HandleFunc("/empty-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
	})
	mux.HandleFunc("/bad-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"unterminated": `)
	})
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		fmt.Fprint(w, "a=1&b=two+words")
	})
	mux.HandleFunc("/cookie/set", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Path: "/"})
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "set")
	})
	mux.HandleFunc("/cookie/get", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, r.Header.Get("Cookie"))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo/redirected", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedURL returns an http URL on loopback that refuses connections.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
