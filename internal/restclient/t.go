package restclient

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// T is a Client for code on a test's goroutine: its calls take no context
// and fail the test on any error. The Client's own methods stay reachable
// as c.Client.Method, for calls that must not fail the test.
type T struct {
	*Client
	// TB is the test the calls fail.
	TB testing.TB
}

// NewT returns a T of the node whose APIs are at these base URLs, as the
// administrator, failing tb.
func NewT(tb testing.TB, mgmt, eventing, syncgw string) *T {
	return &T{Client: New(mgmt, eventing, syncgw), TB: tb}
}

// For returns a T of the same Client that fails tb instead (a subtest's).
func (c *T) For(tb testing.TB) *T { return &T{Client: c.Client, TB: tb} }

// ctx is the calls' context: not tb's, which ends before the cleanups
// that may still use the client.
func (c *T) ctx() context.Context { return context.Background() }

// Do sends a request and returns the status and body.
func (c *T) Do(method, u, contentType string, body []byte) (int, []byte) {
	c.TB.Helper()
	code, b, err := c.Client.Do(c.ctx(), method, u, contentType, body)
	if err != nil {
		c.TB.Fatal(err)
	}
	return code, b
}

// Must sends a request and fails the test unless the status is want.
func (c *T) Must(want int, method, u, contentType string, body []byte) []byte {
	c.TB.Helper()
	code, b := c.Do(method, u, contentType, body)
	if code != want {
		c.TB.Fatalf("%s %s: status %d, want %d: %s", method, u, code, want, b)
	}
	return b
}

// GetJSON GETs u, requires 200 and decodes the body into v, a non-nil
// pointer that is zeroed first.
func (c *T) GetJSON(u string, v any) {
	c.TB.Helper()
	if err := c.Client.GetJSON(c.ctx(), u, v); err != nil {
		c.TB.Fatal(err)
	}
}

// CreateBucket creates a couchbase bucket.
func (c *T) CreateBucket(name string) {
	c.TB.Helper()
	if err := c.Client.CreateBucket(c.ctx(), name); err != nil {
		c.TB.Fatal(err)
	}
}

// CreateFunction creates or replaces a function from its definition.
func (c *T) CreateFunction(name string, def any) {
	c.TB.Helper()
	if err := c.Client.CreateFunction(c.ctx(), name, def); err != nil {
		c.TB.Fatal(err)
	}
}

// Lifecycle asks for deploy, undeploy, pause or resume of a function.
func (c *T) Lifecycle(name, op string) {
	c.TB.Helper()
	if err := c.Client.Lifecycle(c.ctx(), name, op); err != nil {
		c.TB.Fatal(err)
	}
}

// Status returns a function's status.
func (c *T) Status(name string) FunctionStatus {
	c.TB.Helper()
	st, err := c.Client.Status(c.ctx(), name)
	if err != nil {
		c.TB.Fatal(err)
	}
	return st
}

// CompositeStatus returns a function's composite status: undeployed,
// deploying, deployed, undeploying, pausing or paused.
func (c *T) CompositeStatus(name string) string {
	c.TB.Helper()
	return c.Status(name).App.CompositeStatus
}

// WaitStatus waits up to 30s for a function's composite status to be want.
func (c *T) WaitStatus(name, want string) {
	c.TB.Helper()
	var got string
	WaitFor(c.TB, 30*time.Second, fmt.Sprintf("%s to be %s", name, want), func() error {
		if got = c.CompositeStatus(name); got != want {
			return fmt.Errorf("it is %s", got)
		}
		return nil
	})
}

// BulkDocs posts docs to keyspace ks and returns id → rev; any document's
// failure fails the test.
func (c *T) BulkDocs(ks string, docs []map[string]any) map[string]string {
	c.TB.Helper()
	res, err := c.Client.BulkDocs(c.ctx(), ks, docs)
	if err != nil {
		c.TB.Fatal(err)
	}
	revs := make(map[string]string, len(res))
	for _, r := range res {
		if r.Error != "" {
			c.TB.Fatalf("_bulk_docs: doc %s: %s: %s", r.ID, r.Error, r.Reason)
		}
		revs[r.ID] = r.Rev
	}
	return revs
}

// PostBulkDocs posts a ready _bulk_docs body to keyspace ks and requires
// 201.
func (c *T) PostBulkDocs(ks string, body []byte) {
	c.TB.Helper()
	if _, err := c.Client.PostBulkDocs(c.ctx(), ks, body); err != nil {
		c.TB.Fatal(err)
	}
}

// AllDocs returns every live document of keyspace ks, with its body.
func (c *T) AllDocs(ks string) []Row {
	c.TB.Helper()
	rows, err := c.Client.AllDocs(c.ctx(), ks, true)
	if err != nil {
		c.TB.Fatal(err)
	}
	return rows
}

// Pool returns the cluster as this node sees it.
func (c *T) Pool() Pool {
	c.TB.Helper()
	p, err := c.Client.Pool(c.ctx())
	if err != nil {
		c.TB.Fatal(err)
	}
	return p
}

// WaitFor polls cond every 50ms until it returns nil, failing tb with
// cond's last error after timeout. It returns how long it waited.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() error) time.Duration {
	tb.Helper()
	began := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(began)
		}
		if time.Since(began) > timeout {
			tb.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitFailedOver waits until the node at lostHost (its IP) has actually
// been failed over: the vbucket map of bucket, read through each client of
// among (the survivors), gives every vbucket to a node and none to
// lostHost. It fails tb after timeout, saying which vbucket is not yet
// moved, and returns how long it waited.
func WaitFailedOver(tb testing.TB, timeout time.Duration, bucket, lostHost string, among ...*Client) time.Duration {
	tb.Helper()
	if len(among) == 0 {
		tb.Fatal("WaitFailedOver: no surviving node to ask")
	}
	return WaitFor(tb, timeout, lostHost+" to be failed over", func() error {
		for _, c := range among {
			if err := c.FailedOver(context.Background(), bucket, lostHost); err != nil {
				return err
			}
		}
		return nil
	})
}
