package qinlingapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"eventide/node/rest/restauth"
	"eventide/qinling"
)

// The node answers the part of Keystone's v3 identity API that a password
// login needs (keystoneauth1's generic password plugin, which the
// openstack client uses): GET /v3 for version discovery and POST
// /v3/auth/tokens. Users are the cluster's credentials, all in the one
// domain "Default"; projects exist by name (ProjectID derives their ids).

// Identity names used in tokens and catalogs.
const (
	defaultDomainID   = "default"
	defaultDomainName = "Default"
	regionName        = "RegionOne"
	adminRole         = "admin"
	// identityVersion is the Keystone v3 minor version the node claims.
	// It is what Keystone of the Qinling era (Train/Ussuri) answered.
	identityVersion = "v3.14"
	// identityUpdated is the release date of that version.
	identityUpdated = "2020-04-07T00:00:00Z"
	// keystoneTime is the timestamp layout of Keystone's token bodies.
	keystoneTime = "2006-01-02T15:04:05.000000Z"
)

// handleIdentityVersion answers GET /v3 (and GET /v3/), the version
// document keystoneauth's discovery reads.
func (s *Server) handleIdentityVersion(w http.ResponseWriter, r *http.Request) {
	base := requestBaseURL(r)
	writeJSON(w, s.log, http.StatusOK, map[string]any{
		"version": map[string]any{
			"id":      identityVersion,
			"status":  "stable",
			"updated": identityUpdated,
			"links":   []map[string]string{{"rel": "self", "href": base + "/v3/"}},
			"media-types": []map[string]string{{
				"base": "application/json",
				"type": "application/vnd.openstack.identity-v3+json",
			}},
		},
	})
}

// authRequest is the body of POST /v3/auth/tokens, as far as the password
// and token methods and project scope need it.
type authRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *struct {
					ID       string     `json:"id"`
					Name     string     `json:"name"`
					Password string     `json:"password"`
					Domain   *domainRef `json:"domain"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		// Scope is an object, or the string "unscoped".
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type domainRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type projectScope struct {
	Project *struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		Domain *domainRef `json:"domain"`
	} `json:"project"`
	Domain *domainRef      `json:"domain"`
	System json.RawMessage `json:"system"`
	Trust  json.RawMessage `json:"OS-TRUST:trust"`
}

// isDefaultDomain reports whether d names the one domain (or names none).
func isDefaultDomain(d *domainRef) bool {
	if d == nil {
		return true
	}
	if d.ID != "" && d.ID != defaultDomainID {
		return false
	}
	return d.Name == "" || strings.EqualFold(d.Name, defaultDomainName)
}

// handleIssueToken answers POST /v3/auth/tokens: 201 with the token in
// X-Subject-Token and Keystone's token body.
func (s *Server) handleIssueToken(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Auth == nil || req.Auth.Identity == nil {
		s.writeError(w, r, badRequest("Expecting to find auth.identity in the request body"))
		return
	}
	ident := req.Auth.Identity
	var (
		user  string
		admin bool
		prior *claims // the token re-scoped by the token method
	)
	switch {
	case contains(ident.Methods, "password"):
		p := ident.Password
		if p == nil || p.User == nil {
			s.writeError(w, r, badRequest("Expecting to find auth.identity.password.user in the request body"))
			return
		}
		if p.User.Name == "" {
			// Ids are derived from names one way: a user id cannot be
			// looked up, so only names log in.
			s.writeError(w, r, unauthorized("The request you have made requires authentication: log in with a user name"))
			return
		}
		if !isDefaultDomain(p.User.Domain) {
			s.writeError(w, r, unauthorized("The request you have made requires authentication: users live in the domain \"Default\""))
			return
		}
		id, err := s.cfg.Credentials.Authenticate(p.User.Name, p.User.Password)
		if err != nil {
			s.writeError(w, r, unauthorized("The request you have made requires authentication."))
			return
		}
		user, admin = id.User, s.cfg.IsAdmin(id)
	case contains(ident.Methods, "token"):
		if ident.Token == nil || ident.Token.ID == "" {
			s.writeError(w, r, badRequest("Expecting to find auth.identity.token.id in the request body"))
			return
		}
		c, err := s.tokens.verify(ident.Token.ID, s.now())
		if err != nil {
			s.writeError(w, r, unauthorized("The request you have made requires authentication: the token is invalid or expired"))
			return
		}
		user, admin, prior = c.User, c.Admin, &c
	default:
		s.writeError(w, r, unauthorized("The request you have made requires authentication: only the password and token methods are supported"))
		return
	}

	projectID, projectName, err := s.scope(req.Auth.Scope, prior, s.homeProject(user, admin))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !admin && projectID != ProjectID(user) {
		s.writeError(w, r, unauthorized(fmt.Sprintf("User %s has no access to project %s: a user other than the administrator works in the project named like it", user, projectName)))
		return
	}
	now := s.now().UTC()
	c := claims{
		User: user, ProjectID: projectID, ProjectName: projectName, Admin: admin,
		IssuedAt: now.UnixMicro(), ExpiresAt: now.Add(s.cfg.TokenTTL).UnixMicro(),
	}
	if prior != nil && prior.ExpiresAt < c.ExpiresAt {
		// A re-scoped token lives no longer than the one it came from, as
		// in Keystone.
		c.ExpiresAt = prior.ExpiresAt
	}
	tok, err := s.tokens.issue(&c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("X-Subject-Token", tok)
	methods := []string{"password"}
	if prior != nil {
		methods = []string{"token"}
	}
	writeJSON(w, s.log, http.StatusCreated, s.tokenBody(r, c, methods, !r.URL.Query().Has("nocatalog")))
}

// homeProject is the project of a user's requests that name none: the
// default project for the administrator, the user's own for others.
func (s *Server) homeProject(user string, admin bool) string {
	if admin {
		return s.cfg.DefaultProject
	}
	return user
}

// scope resolves the requested scope to a project id and name. A request
// without scope (or "unscoped") gets the token's project when re-scoping,
// else the home project: an unscoped Keystone token would be of no use to
// Qinling.
func (s *Server) scope(raw json.RawMessage, prior *claims, home string) (id, name string, err error) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" || trimmed == `"unscoped"` {
		if prior != nil {
			return prior.ProjectID, prior.ProjectName, nil
		}
		return ProjectID(home), home, nil
	}
	var sc projectScope
	if err := json.Unmarshal(raw, &sc); err != nil {
		return "", "", badRequest("Invalid scope: expecting {\"project\": {\"name\": ..., \"domain\": {\"name\": \"Default\"}}} or {\"project\": {\"id\": ...}}")
	}
	switch {
	case sc.Project != nil:
	case sc.Domain != nil || len(sc.System) > 0 || len(sc.Trust) > 0:
		return "", "", unauthorized("The request you have made requires authentication: only project scope is supported")
	default:
		return "", "", badRequest("Invalid scope: expecting a project")
	}
	p := sc.Project
	switch {
	case p.Name != "":
		if !isDefaultDomain(p.Domain) {
			return "", "", unauthorized("The request you have made requires authentication: projects live in the domain \"Default\"")
		}
		if p.ID != "" && p.ID != ProjectID(p.Name) {
			return "", "", unauthorized("The request you have made requires authentication: the project id does not match its name")
		}
		return ProjectID(p.Name), p.Name, nil
	case isProjectID(p.ID):
		// The name cannot be derived from an id; the id stands for it.
		if prior != nil && prior.ProjectID == p.ID {
			return p.ID, prior.ProjectName, nil
		}
		return p.ID, p.ID, nil
	}
	return "", "", badRequest("Invalid scope: the project needs a name, or an id of 32 hexadecimal digits")
}

// isProjectID reports whether id has the shape ProjectID gives.
func isProjectID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// handleValidateToken answers GET /v3/auth/tokens: the X-Subject-Token's
// body if both it and the caller's X-Auth-Token are valid.
func (s *Server) handleValidateToken(w http.ResponseWriter, r *http.Request) {
	if _, err := s.tokens.verify(r.Header.Get("X-Auth-Token"), s.now()); err != nil {
		s.writeError(w, r, unauthorized("The request you have made requires authentication."))
		return
	}
	subject := r.Header.Get("X-Subject-Token")
	c, err := s.tokens.verify(subject, s.now())
	if err != nil {
		s.writeError(w, r, notFound("Could not find token: "+abbreviate(subject, 16)))
		return
	}
	w.Header().Set("X-Subject-Token", subject)
	writeJSON(w, s.log, http.StatusOK, s.tokenBody(r, c, []string{"password"}, !r.URL.Query().Has("nocatalog")))
}

// tokenBody renders Keystone's {"token": {...}} for c.
func (s *Server) tokenBody(r *http.Request, c claims, methods []string, withCatalog bool) map[string]any {
	domain := map[string]string{"id": defaultDomainID, "name": defaultDomainName}
	roles := []map[string]string{}
	if c.Admin {
		roles = append(roles, map[string]string{"id": userID("role\x00" + adminRole), "name": adminRole})
	}
	// Every user may use Qinling in the project it named.
	roles = append(roles, map[string]string{"id": userID("role\x00member"), "name": "member"})
	tok := map[string]any{
		"methods":    methods,
		"audit_ids":  []string{c.AuditID},
		"expires_at": c.expires().Format(keystoneTime),
		"issued_at":  c.issued().Format(keystoneTime),
		"user": map[string]any{
			"id": userID(c.User), "name": c.User, "domain": domain, "password_expires_at": nil,
		},
		"project": map[string]any{
			"id": c.ProjectID, "name": c.ProjectName, "domain": domain,
		},
		"is_domain": false,
		"roles":     roles,
	}
	if withCatalog {
		tok["catalog"] = s.catalog(r)
	}
	return map[string]any{"token": tok}
}

// catalog lists the function-engine service at the node's Qinling URL and
// the identity service that answered, each with public, internal and
// admin endpoints.
func (s *Server) catalog(r *http.Request) []map[string]any {
	base := s.publicURL(r)
	entry := func(typ, name, url string) map[string]any {
		var eps []map[string]any
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]any{
				"id":        userID("endpoint\x00" + typ + "\x00" + iface + "\x00" + url),
				"interface": iface, "region": regionName, "region_id": regionName, "url": url,
			})
		}
		return map[string]any{"id": userID("service\x00" + typ), "type": typ, "name": name, "endpoints": eps}
	}
	return []map[string]any{
		entry("function-engine", "qinling", base),
		entry("identity", "keystone", base+"/v3"),
	}
}

// publicURL is the node's Qinling base URL: the configured one, or the
// one the request was sent to.
func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return requestBaseURL(r)
}

// requestBaseURL is scheme://host of the request as the client sent it.
func requestBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// authenticate says who r is: a valid X-Auth-Token, else HTTP basic auth
// with the cluster's credentials (in the user's home project). A request
// that carries a token is judged by its token alone.
func (s *Server) authenticate(r *http.Request) (qinling.Caller, error) {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		c, err := s.tokens.verify(tok, s.now())
		if err != nil {
			if errors.Is(err, errTokenExpired) {
				return qinling.Caller{}, unauthorized("The request you have made requires authentication: the token has expired")
			}
			return qinling.Caller{}, unauthorized("The request you have made requires authentication: the token is invalid")
		}
		return qinling.Caller{ProjectID: c.ProjectID, Admin: c.Admin}, nil
	}
	id, err := restauth.Authenticate(r, s.cfg.Credentials)
	if err != nil {
		return qinling.Caller{}, unauthorized("The request you have made requires authentication.")
	}
	admin := s.cfg.IsAdmin(id)
	return qinling.Caller{ProjectID: ProjectID(s.homeProject(id.User, admin)), Admin: admin}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func abbreviate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// now is the server's clock (tests move it).
func (s *Server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}
