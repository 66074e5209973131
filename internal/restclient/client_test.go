package restclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"eventide/internal/restclient"
)

// fakeMgmt answers /pools/default/buckets/src with a vbucket map of four
// vbuckets over two servers.
func fakeMgmt(t *testing.T, vbmap string) *restclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != restclient.AdminUser || p != restclient.AdminPassword {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/pools/default/buckets/src" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"vBucketServerMap":{"serverList":["10.0.0.1:11210","10.0.0.2:11210"],"vBucketMap":` + vbmap + `}}`))
	}))
	t.Cleanup(srv.Close)
	return restclient.New(srv.URL, srv.URL, srv.URL)
}

func TestClient_FailedOver(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, vbmap, lost string
		want              string // "" for failed over, else part of the error
	}{
		{"moved", "[[0],[0],[0],[0]]", "10.0.0.2", ""},
		{"still owns one", "[[0],[1],[0],[0]]", "10.0.0.2", `vbucket 1 owned by "10.0.0.2"`},
		{"unowned", "[[0],[-1],[0],[0]]", "10.0.0.2", `vbucket 1 owned by ""`},
		{"no map", "[]", "10.0.0.2", "no vbucket map"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fakeMgmt(t, tc.vbmap).FailedOver(ctx, "src", tc.lost)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("FailedOver = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("FailedOver = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestClient_StatusError(t *testing.T) {
	c := fakeMgmt(t, "[]")
	_, err := c.Call(context.Background(), http.StatusOK, http.MethodGet, c.Mgmt+"/nothing", "", nil)
	var se *restclient.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusNotFound || se.Want != http.StatusOK {
		t.Fatalf("Call = %v, want a StatusError 404 (want 200)", err)
	}
}
