package qinlingapi

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestKeystone_VersionDocument: GET /v3 answers the single-version
// document keystoneauth's discovery reads (version.id, status, a self
// link), without credentials.
func TestKeystone_VersionDocument(t *testing.T) {
	h := newHarness(t, nil)
	for _, path := range []string{"/v3", "/v3/"} {
		var doc struct {
			Version struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Links  []struct{ Rel, Href string }
			} `json:"version"`
		}
		h.do("GET", path, nil, noAuth).expect(t, http.StatusOK).decode(t, &doc)
		if !strings.HasPrefix(doc.Version.ID, "v3.") || doc.Version.Status != "stable" ||
			len(doc.Version.Links) != 1 || doc.Version.Links[0].Rel != "self" || doc.Version.Links[0].Href != h.ts.URL+"/v3/" {
			t.Errorf("GET %s = %+v, want v3.x stable with a self link to %s/v3/", path, doc, h.ts.URL)
		}
	}
}

// tokenBody is the part of Keystone's token body the tests read.
type tokenBody struct {
	Token struct {
		Methods   []string `json:"methods"`
		ExpiresAt string   `json:"expires_at"`
		IssuedAt  string   `json:"issued_at"`
		User      struct {
			ID, Name string
			Domain   struct{ ID, Name string }
		} `json:"user"`
		Project struct {
			ID, Name string
			Domain   struct{ ID, Name string }
		} `json:"project"`
		Roles   []struct{ ID, Name string } `json:"roles"`
		Catalog []struct {
			Type, Name string
			Endpoints  []struct {
				Interface, URL, Region string
			} `json:"endpoints"`
		} `json:"catalog"`
	} `json:"token"`
}

// TestKeystone_TokenRoundTrip: a password login on one server gives a
// token (X-Subject-Token, Keystone's body with the function-engine
// catalog) that another server with the same secret, and no state shared
// with the first, accepts.
func TestKeystone_TokenRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do("POST", "/v3/auth/tokens", passwordAuth("Administrator", "password", "demo"), noAuth).expect(t, http.StatusCreated)
	tok := r.header.Get("X-Subject-Token")
	var body tokenBody
	r.decode(t, &body)
	tb := body.Token
	if tok == "" {
		t.Fatal("no X-Subject-Token")
	}
	expires, err1 := time.Parse(time.RFC3339Nano, tb.ExpiresAt)
	issued, err2 := time.Parse(time.RFC3339Nano, tb.IssuedAt)
	if err1 != nil || err2 != nil || !strings.HasSuffix(tb.ExpiresAt, "Z") || expires.Sub(issued) != time.Hour {
		t.Errorf("issued_at %q, expires_at %q: want ISO 8601 UTC an hour apart", tb.IssuedAt, tb.ExpiresAt)
	}
	if len(tb.Methods) != 1 || tb.Methods[0] != "password" {
		t.Errorf("methods %v, want [password]", tb.Methods)
	}
	if tb.User.Name != "Administrator" || tb.User.Domain.Name != "Default" || len(tb.User.ID) != 32 {
		t.Errorf("user %+v", tb.User)
	}
	if tb.Project.Name != "demo" || tb.Project.ID != ProjectID("demo") || tb.Project.Domain.ID != "default" {
		t.Errorf("project %+v, want demo with id %s", tb.Project, ProjectID("demo"))
	}
	if ProjectID("demo") == ProjectID("demo2") || len(ProjectID("demo")) != 32 {
		t.Errorf("project ids are not distinct 32-hex ids: %s %s", ProjectID("demo"), ProjectID("demo2"))
	}
	admin := false
	for _, role := range tb.Roles {
		admin = admin || role.Name == "admin"
	}
	if !admin {
		t.Errorf("roles %v, want admin for the administrator", tb.Roles)
	}
	ifaces := map[string]string{}
	for _, svc := range tb.Catalog {
		if svc.Type == "function-engine" {
			for _, ep := range svc.Endpoints {
				ifaces[ep.Interface] = ep.URL
			}
		}
	}
	for _, iface := range []string{"public", "internal", "admin"} {
		if ifaces[iface] != h.cfg.PublicURL {
			t.Errorf("function-engine %s endpoint %q, want %q", iface, ifaces[iface], h.cfg.PublicURL)
		}
	}

	// Another server, same secret: it knows nothing of the first.
	other, err := New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(other)
	defer ts.Close()
	req, _ := http.NewRequest("GET", ts.URL+"/v1/runtimes", nil)
	req.Header.Set("X-Auth-Token", tok)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token issued by one server: GET /v1/runtimes on another = %d, want 200", resp.StatusCode)
	}
	// The second server validates it too (GET /v3/auth/tokens).
	req, _ = http.NewRequest("GET", ts.URL+"/v3/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("X-Subject-Token", tok)
	resp, err = ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Subject-Token") != tok {
		t.Fatalf("GET /v3/auth/tokens on another server = %d, want 200 with the token", resp.StatusCode)
	}
}

// TestKeystone_ScopeByProjectID: a project named by id gets the same id;
// nocatalog leaves the catalog out.
func TestKeystone_ScopeByProjectID(t *testing.T) {
	h := newHarness(t, nil)
	body := passwordAuth("Administrator", "password", "")
	body["auth"].(map[string]any)["scope"] = map[string]any{"project": map[string]any{"id": ProjectID("demo")}}
	var tb tokenBody
	r := h.do("POST", "/v3/auth/tokens?nocatalog", body, noAuth).expect(t, http.StatusCreated)
	r.decode(t, &tb)
	if tb.Token.Project.ID != ProjectID("demo") || tb.Token.Catalog != nil {
		t.Fatalf("project %+v catalog %v, want id %s and no catalog", tb.Token.Project, tb.Token.Catalog, ProjectID("demo"))
	}
	if !strings.Contains(string(r.body), `"project"`) || strings.Contains(string(r.body), `"catalog"`) {
		t.Fatalf("nocatalog body: %s", r.body)
	}
}

// TestKeystone_BadLogins: every failed login is a 401 (400 for a body
// that is not a login) in Keystone's error shape, and issues no token.
func TestKeystone_BadLogins(t *testing.T) {
	h := newHarness(t, nil)
	otherDomain := passwordAuth("Administrator", "password", "demo")
	otherDomain["auth"].(map[string]any)["identity"].(map[string]any)["password"].(map[string]any)["user"].(map[string]any)["domain"] = map[string]any{"name": "Other"}
	cases := []struct {
		name   string
		body   any
		status int
	}{
		{"wrong password", passwordAuth("Administrator", "nope", "demo"), http.StatusUnauthorized},
		{"unknown user", passwordAuth("mallory", "password", "demo"), http.StatusUnauthorized},
		{"other domain", otherDomain, http.StatusUnauthorized},
		{"non-admin in another's project", passwordAuth("alice", "alicepw", "bob"), http.StatusUnauthorized},
		{"no identity", `{"auth":{}}`, http.StatusBadRequest},
		{"malformed JSON", `{"auth":`, http.StatusBadRequest},
		{"not an object", `[1]`, http.StatusBadRequest},
		{"unsupported method", `{"auth":{"identity":{"methods":["totp"]}}}`, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", "/v3/auth/tokens", c.body, noAuth).expect(t, c.status)
			var e struct {
				Error struct {
					Code    int
					Title   string
					Message string
				} `json:"error"`
			}
			r.decode(t, &e)
			if e.Error.Code != c.status || e.Error.Message == "" || e.Error.Title == "" {
				t.Errorf("body %s, want Keystone's {\"error\": {code, title, message}}", r.body)
			}
			if r.header.Get("X-Subject-Token") != "" {
				t.Error("a failed login issued a token")
			}
		})
	}
	// A non-admin user logs in to its own project.
	h.login("alice", "alice")
}

// TestKeystone_TokenMethodRescopes: the token method re-scopes a token,
// never past the original's expiry.
func TestKeystone_TokenMethodRescopes(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.login("Administrator", "demo")
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": tok}},
		"scope":    map[string]any{"project": map[string]any{"name": "other", "domain": map[string]any{"id": "default"}}},
	}}
	var tb tokenBody
	h.do("POST", "/v3/auth/tokens", body, noAuth).expect(t, http.StatusCreated).decode(t, &tb)
	if tb.Token.Project.Name != "other" || tb.Token.Methods[0] != "token" {
		t.Fatalf("re-scoped token %+v", tb.Token)
	}
}

// TestAuth_RejectsBadTokens: no credentials, expired, forged, foreign,
// truncated tokens and wrong basic auth get 401 in Qinling's shape with
// the challenges; the failed token is never taken for basic auth.
func TestAuth_RejectsBadTokens(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.login("Administrator", "demo")

	// Forged: the claims of another project under the original signature.
	payload, sig, _ := strings.Cut(strings.TrimPrefix(tok, tokenPrefix), ".")
	claimsJSON, _ := base64.RawURLEncoding.DecodeString(payload)
	forgedClaims := strings.Replace(string(claimsJSON), ProjectID("demo"), ProjectID("victim"), 1)
	forged := tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(forgedClaims)) + "." + sig

	// Foreign: signed under another secret.
	otherCfg := h.cfg
	otherCfg.TokenSecret = []byte("a different secret of 32 bytes!!")
	other, err := New(otherCfg)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.tokens.issue(&claims{User: "Administrator", ProjectID: ProjectID("demo"), ProjectName: "demo", Admin: true,
		IssuedAt: time.Now().UnixMicro(), ExpiresAt: time.Now().Add(time.Hour).UnixMicro()})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		opts []reqOpt
	}{
		{"no credentials", []reqOpt{noAuth}},
		{"wrong password", []reqOpt{func(r *http.Request) { r.SetBasicAuth("Administrator", "nope") }}},
		{"forged", []reqOpt{withToken(forged)}},
		{"foreign secret", []reqOpt{withToken(foreign)}},
		{"truncated", []reqOpt{withToken(tok[:len(tok)-3])}},
		{"garbage", []reqOpt{withToken("gAAAAABnot-a-token")}},
		// A bad token is not rescued by good basic auth.
		{"bad token with basic auth", []reqOpt{func(r *http.Request) { r.Header.Set("X-Auth-Token", forged) }}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("GET", "/v1/functions", nil, c.opts...)
			r.fault(t, http.StatusUnauthorized)
			if ch := strings.Join(r.header.Values("WWW-Authenticate"), "|"); !strings.Contains(ch, "Keystone uri=") || !strings.Contains(ch, "Basic") {
				t.Errorf("WWW-Authenticate %q, want Keystone and Basic challenges", ch)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		h.srv.clock = func() time.Time { return time.Now().Add(time.Hour + time.Second) }
		defer func() { h.srv.clock = nil }()
		msg := h.do("GET", "/v1/functions", nil, withToken(tok)).fault(t, http.StatusUnauthorized)
		if !strings.Contains(msg, "expired") {
			t.Errorf("faultstring %q, want it to say the token expired", msg)
		}
	})
	// The genuine token still works; so does basic auth.
	h.do("GET", "/v1/functions", nil, withToken(tok)).expect(t, http.StatusOK)
	h.do("GET", "/v1/functions", nil).expect(t, http.StatusOK)
}
