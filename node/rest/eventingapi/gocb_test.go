package eventingapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/couchbase/gocb/v2"
)

// gocbClient replays what gocb v2.11.1's eventingManagementProviderCore
// does: the same paths, methods and bodies (gocb's own MarshalJSON), the
// same response decoding (gocb's own UnmarshalJSON), and its error mapping
// (tryParseErrorMessage: any non-200 status, then substring matches on the
// body in this order).
type gocbClient struct {
	e     *env
	scope *[2]string // bucket, scope for the scoped manager
}

var errGocbOther = errors.New("gocb: unmapped error")

// gocbError mirrors tryParseErrorMessage.
func gocbError(body string) error {
	switch {
	case strings.Contains(body, "ERR_APP_NOT_FOUND_TS"):
		return gocb.ErrEventingFunctionNotFound
	case strings.Contains(body, "ERR_APP_NOT_DEPLOYED"):
		return gocb.ErrEventingFunctionNotDeployed
	case strings.Contains(body, "ERR_HANDLER_COMPILATION"):
		return gocb.ErrEventingFunctionCompilationFailure
	case strings.Contains(body, "ERR_SRC_MB_SAME"):
		return gocb.ErrEventingFunctionIdenticalKeyspace
	case strings.Contains(body, "ERR_APP_NOT_BOOTSTRAPPED"):
		return gocb.ErrEventingFunctionNotBootstrapped
	case strings.Contains(body, "ERR_APP_NOT_UNDEPLOYED"):
		return gocb.ErrEventingFunctionDeployed
	case strings.Contains(body, "ERR_COLLECTION_MISSING"):
		return gocb.ErrCollectionNotFound
	case strings.Contains(body, "ERR_BUCKET_MISSING"):
		return gocb.ErrBucketNotFound
	}
	return fmt.Errorf("%w: %s", errGocbOther, body)
}

// request mirrors doRequest: scoped paths get ?bucket=&scope= except for
// get_all_functions and functions_status.
func (c *gocbClient) request(method, path string, scoped bool, fn *gocb.EventingFunction) (string, error) {
	if scoped && c.scope != nil {
		path += fmt.Sprintf("?bucket=%s&scope=%s", url.PathEscape(c.scope[0]), url.PathEscape(c.scope[1]))
	}
	var body string
	if fn != nil {
		raw, err := json.Marshal(fn)
		if err != nil {
			return "", err
		}
		if c.scope != nil {
			// doRequest injects function_scope for the scoped manager.
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			m["function_scope"] = map[string]any{"bucket": c.scope[0], "scope": c.scope[1]}
			raw, _ = json.Marshal(m)
		}
		body = string(raw)
	}
	r := c.e.do(method, path, body)
	if r.code != http.StatusOK {
		return r.body, gocbError(r.body)
	}
	return r.body, nil
}

func (c *gocbClient) upsert(fn gocb.EventingFunction) error {
	_, err := c.request("POST", "/api/v1/functions/"+url.PathEscape(fn.Name), true, &fn)
	return err
}

func (c *gocbClient) op(method, name, suffix string) error {
	_, err := c.request(method, "/api/v1/functions/"+url.PathEscape(name)+suffix, true, nil)
	return err
}

func (c *gocbClient) get(name string) (*gocb.EventingFunction, error) {
	body, err := c.request("GET", "/api/v1/functions/"+url.PathEscape(name), true, nil)
	if err != nil {
		return nil, err
	}
	var f gocb.EventingFunction
	if err := json.NewDecoder(strings.NewReader(body)).Decode(&f); err != nil {
		return nil, err
	}
	return &f, nil
}

func (c *gocbClient) getAll() ([]gocb.EventingFunction, error) {
	body, err := c.request("GET", "/api/v1/functions", false, nil)
	if err != nil {
		return nil, err
	}
	var all []gocb.EventingFunction
	if err := json.Unmarshal([]byte(body), &all); err != nil {
		return nil, err
	}
	return all, nil
}

func (c *gocbClient) status() (*gocb.EventingStatus, error) {
	body, err := c.request("GET", "/api/v1/status", false, nil)
	if err != nil {
		return nil, err
	}
	var st gocb.EventingStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func stateOf(t *testing.T, c *gocbClient, name string) gocb.EventingFunctionState {
	t.Helper()
	st, err := c.status()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range st.Functions {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("function %s not in status", name)
	return gocb.EventingFunctionState{}
}

// TestGocbEventingFunctionManager replays gocb's integration tests
// (cluster_eventingmgr_test.go) against the REST handler.
func TestGocbEventingFunctionManager(t *testing.T) {
	for _, scoped := range []bool{false, true} {
		t.Run(fmt.Sprintf("scoped=%v", scoped), func(t *testing.T) {
			e := newEnv(t)
			c := &gocbClient{e: e}
			ks := func(coll string) gocb.EventingFunctionKeyspace {
				return gocb.EventingFunctionKeyspace{Bucket: "travel", Scope: "inventory", Collection: coll}
			}
			if scoped {
				c.scope = &[2]string{"travel", "inventory"}
			}
			name := "5f0c3a2e-7d4b-4c1e-9a8f-0123456789ab" // uuid.New().String()
			code := "function OnUpdate(doc, meta) {\n}"

			// UpsertGetDrop with every binding kind.
			fn := gocb.EventingFunction{
				Name: name, Code: code,
				BucketBindings: []gocb.EventingFunctionBucketBinding{{
					Name:   gocb.EventingFunctionKeyspace{Bucket: "dst", Scope: "_default", Collection: "_default"},
					Alias:  "bucketbinding1",
					Access: gocb.EventingFunctionBucketAccessReadWrite,
				}},
				UrlBindings: []gocb.EventingFunctionUrlBinding{{
					Hostname: "http://127.0.0.1", Alias: "urlbinding1",
					Auth: gocb.EventingFunctionUrlAuthBasic{User: "dave", Pass: "password"},
				}},
				MetadataKeyspace: ks("meta"),
				SourceKeyspace:   ks("hotels"),
			}
			if err := c.upsert(fn); err != nil {
				t.Fatalf("UpsertFunction: %v", err)
			}
			all, err := c.getAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 || all[0].Name != name || all[0].Code != code {
				t.Errorf("GetAllFunctions %+v", all)
			}
			got, err := c.get(name)
			if err != nil {
				t.Fatalf("GetFunction: %v", err)
			}
			if got.Code != code || got.Settings.DeploymentStatus != gocb.EventingFunctionDeploymentStatusUndeployed ||
				got.Settings.LanguageCompatibility != gocb.EventingFunctionLanguageCompatibilityVersion720 ||
				got.SourceKeyspace != ks("hotels") || len(got.BucketBindings) != 1 || got.BucketBindings[0].Access != gocb.EventingFunctionBucketAccessReadWrite ||
				len(got.UrlBindings) != 1 || got.UrlBindings[0].Auth.Method() != "basic" || got.HandlerUUID == 0 {
				t.Errorf("GetFunction %+v", got)
			}
			if st := stateOf(t, c, name); st.Status != gocb.EventingFunctionStateUndeployed {
				t.Errorf("status %v", st.Status)
			}

			// DeploysAndUndeploys.
			if err := c.op("POST", name, "/undeploy"); !errors.Is(err, gocb.ErrEventingFunctionNotDeployed) {
				t.Errorf("UndeployFunction of undeployed: %v", err)
			}
			if err := c.op("POST", name, "/pause"); !errors.Is(err, gocb.ErrEventingFunctionNotBootstrapped) {
				t.Errorf("PauseFunction of undeployed: %v", err)
			}
			if err := c.op("POST", name, "/resume"); !errors.Is(err, gocb.ErrEventingFunctionNotDeployed) {
				t.Errorf("ResumeFunction of undeployed: %v", err)
			}
			if err := c.op("POST", name, "/deploy"); err != nil {
				t.Fatalf("DeployFunction: %v", err)
			}
			got, _ = c.get(name)
			if got.Settings.DeploymentStatus != gocb.EventingFunctionDeploymentStatusDeployed ||
				got.Settings.ProcessingStatus != gocb.EventingFunctionProcessingStatusRunning {
				t.Errorf("after deploy: %+v", got.Settings)
			}
			key := name
			if scoped {
				key = "travel/inventory/" + name
			}
			e.be.Settle(t, key)
			if st := stateOf(t, c, name); st.Status != gocb.EventingFunctionStateDeployed || st.ProcessingStatus != gocb.EventingFunctionProcessingStatusRunning {
				t.Errorf("status %+v", st)
			}
			if err := c.op("DELETE", name, ""); !errors.Is(err, gocb.ErrEventingFunctionDeployed) {
				t.Errorf("DropFunction of deployed: %v", err)
			}

			// PausesAndResumes.
			if err := c.op("POST", name, "/pause"); err != nil {
				t.Fatalf("PauseFunction: %v", err)
			}
			got, _ = c.get(name)
			if got.Settings.ProcessingStatus != gocb.EventingFunctionProcessingStatusPaused {
				t.Errorf("after pause %+v", got.Settings)
			}
			e.be.Settle(t, key)
			if st := stateOf(t, c, name); st.Status != gocb.EventingFunctionStatePaused {
				t.Errorf("status %v", st.Status)
			}
			if err := c.op("POST", name, "/resume"); err != nil {
				t.Fatalf("ResumeFunction: %v", err)
			}
			e.be.Settle(t, key)
			if err := c.op("POST", name, "/undeploy"); err != nil {
				t.Fatalf("UndeployFunction: %v", err)
			}
			if st := stateOf(t, c, name); st.Status != gocb.EventingFunctionStateUndeploying {
				t.Errorf("status %v", st.Status)
			}
			e.be.Settle(t, key)
			if err := c.op("DELETE", name, ""); err != nil {
				t.Fatalf("DropFunction: %v", err)
			}

			// UnknownFunction.
			if _, err := c.get(name); !errors.Is(err, gocb.ErrEventingFunctionNotFound) {
				t.Errorf("GetFunction of unknown: %v", err)
			}
			for _, op := range []string{"/deploy", "/pause", "/undeploy", "/resume", ""} {
				method := "POST"
				if op == "" {
					method = "DELETE"
				}
				if err := c.op(method, name, op); !errors.Is(err, gocb.ErrEventingFunctionNotFound) {
					t.Errorf("%s %s of unknown: %v", method, op, err)
				}
			}

			// InvalidCode, UnknownBucket, CollectionNotFound, SameSourceAndMeta.
			bad := gocb.EventingFunction{Name: name, Code: "feefifofum", MetadataKeyspace: ks("meta"), SourceKeyspace: ks("hotels")}
			if err := c.upsert(bad); !errors.Is(err, gocb.ErrEventingFunctionCompilationFailure) {
				t.Errorf("invalid code: %v", err)
			}
			bad = gocb.EventingFunction{Name: name, Code: code,
				MetadataKeyspace: gocb.EventingFunctionKeyspace{Bucket: "immadeup", Scope: "idontexist", Collection: "meeither"},
				SourceKeyspace:   gocb.EventingFunctionKeyspace{Bucket: "immadeup", Scope: "idontexist2", Collection: "meeither2"}}
			if err := c.upsert(bad); !errors.Is(err, gocb.ErrBucketNotFound) {
				t.Errorf("unknown bucket: %v", err)
			}
			bad = gocb.EventingFunction{Name: name, Code: code, MetadataKeyspace: ks("idefinitelydontexist"), SourceKeyspace: ks("hotels")}
			if err := c.upsert(bad); !errors.Is(err, gocb.ErrCollectionNotFound) {
				t.Errorf("unknown collection: %v", err)
			}
			bad = gocb.EventingFunction{Name: name, Code: code, MetadataKeyspace: ks("hotels"), SourceKeyspace: ks("hotels")}
			if err := c.upsert(bad); !errors.Is(err, gocb.ErrEventingFunctionIdenticalKeyspace) {
				t.Errorf("same source and meta: %v", err)
			}
			if n := len(e.be.Snapshot().Functions); n != 0 {
				t.Errorf("%d functions left after the failing upserts", n)
			}
		})
	}
}
