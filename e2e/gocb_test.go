package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/couchbase/gocb/v2"

	"eventide/node"
	"eventide/node/nodetest"
)

// TestGocb_EventingFunctionManager drives the Couchbase Go SDK's eventing
// function manager, unchanged, against a node: the SDK bootstraps over HTTP
// from the cluster manager API on port 8091 and finds the eventing service
// from the cluster map.
func TestGocb_EventingFunctionManager(t *testing.T) {
	n := nodetest.NewNode(t, nodetest.Options{Mgmt8091: true})
	c := newClient(t, n.URL(node.APIMgmt), n.URL(node.APIEventing), n.URL(node.APISyncGateway))
	for _, b := range []string{"src", "dst", "meta"} {
		c.CreateBucket(b)
	}

	cluster, err := gocb.Connect("couchbase://"+n.Cfg.BindAddr+"?bootstrap_on=http", gocb.ClusterOptions{
		Authenticator: gocb.PasswordAuthenticator{Username: "Administrator", Password: "password"},
	})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Close(nil) })
	cluster.Bucket("src") // gocb learns the cluster map from a bucket's config
	if err := cluster.WaitUntilReady(30*time.Second, &gocb.WaitUntilReadyOptions{
		ServiceTypes: []gocb.ServiceType{gocb.ServiceTypeManagement},
	}); err != nil {
		t.Fatalf("wait until ready: %v", err)
	}
	mgr := cluster.EventingFunctions()

	ks := func(b string) gocb.EventingFunctionKeyspace {
		return gocb.EventingFunctionKeyspace{Bucket: b, Scope: "_default", Collection: "_default"}
	}
	fn := gocb.EventingFunction{
		Name:             "sdkfn",
		Code:             "function OnUpdate(doc, meta) { dst[meta.id] = doc; }",
		SourceKeyspace:   ks("src"),
		MetadataKeyspace: ks("meta"),
		BucketBindings: []gocb.EventingFunctionBucketBinding{{
			Alias: "dst", Name: ks("dst"), Access: gocb.EventingFunctionBucketAccessReadWrite,
		}},
		Settings: gocb.EventingFunctionSettings{
			DCPStreamBoundary:     gocb.EventingFunctionDCPBoundaryEverything,
			LanguageCompatibility: gocb.EventingFunctionLanguageCompatibilityVersion662,
		},
	}
	if err := mgr.UpsertFunction(fn, nil); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	got, err := mgr.GetFunction("sdkfn", nil)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Code != fn.Code || got.SourceKeyspace != fn.SourceKeyspace || got.MetadataKeyspace != fn.MetadataKeyspace ||
		len(got.BucketBindings) != 1 || got.BucketBindings[0].Alias != "dst" {
		t.Fatalf("get returned %+v", got)
	}
	all, err := mgr.GetAllFunctions(nil)
	if err != nil || len(all) != 1 {
		t.Fatalf("get all: %d functions, err %v", len(all), err)
	}
	if _, err := mgr.GetFunction("missing", nil); !errors.Is(err, gocb.ErrEventingFunctionNotFound) {
		t.Fatalf("get missing: err %v, want ErrEventingFunctionNotFound", err)
	}

	status := func() gocb.EventingFunctionStatus {
		st, err := mgr.FunctionsStatus(nil)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		for _, f := range st.Functions {
			if f.Name == "sdkfn" {
				return f.Status
			}
		}
		t.Fatalf("status lists no sdkfn: %+v", st)
		return ""
	}
	waitStatus := func(want gocb.EventingFunctionStatus) {
		t.Helper()
		waitFor(t, 30*time.Second, "sdkfn "+string(want), func() bool { return status() == want })
	}
	if s := status(); s != gocb.EventingFunctionStateUndeployed {
		t.Fatalf("new function is %s, want undeployed", s)
	}

	if err := mgr.DeployFunction("sdkfn", nil); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	waitStatus(gocb.EventingFunctionStateDeployed)
	c.BulkDocs("src", docs("sdk", 0, 10))
	waitCount(t, c, "dst", 10)
	if err := mgr.DropFunction("sdkfn", nil); !errors.Is(err, gocb.ErrEventingFunctionDeployed) {
		t.Fatalf("drop while deployed: err %v, want ErrEventingFunctionDeployed", err)
	}

	if err := mgr.PauseFunction("sdkfn", nil); err != nil {
		t.Fatalf("pause: %v", err)
	}
	waitStatus(gocb.EventingFunctionStatePaused)
	if err := mgr.ResumeFunction("sdkfn", nil); err != nil {
		t.Fatalf("resume: %v", err)
	}
	waitStatus(gocb.EventingFunctionStateDeployed)
	if err := mgr.UndeployFunction("sdkfn", nil); err != nil {
		t.Fatalf("undeploy: %v", err)
	}
	waitStatus(gocb.EventingFunctionStateUndeployed)
	if err := mgr.DropFunction("sdkfn", nil); err != nil {
		t.Fatalf("drop: %v", err)
	}
	if _, err := mgr.GetFunction("sdkfn", nil); !errors.Is(err, gocb.ErrEventingFunctionNotFound) {
		t.Fatalf("get after drop: err %v, want ErrEventingFunctionNotFound", err)
	}
}
