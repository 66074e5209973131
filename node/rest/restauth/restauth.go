// Package restauth authenticates the requests of every REST API of a node
// (and of the node's own wrappers around them): one Credentials store,
// one check of a request's HTTP basic auth against it. Each API answers a
// failed check in its own shape; this package only says who the caller is
// or why not.
package restauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
)

// Sentinel errors.
var (
	// ErrNoCredentials: the request carries no basic-auth credentials, or
	// an empty user name.
	ErrNoCredentials = errors.New("restauth: no credentials")
	// ErrInvalidLogin: the user is unknown or the password is not theirs.
	ErrInvalidLogin = errors.New("restauth: invalid user or password")
)

// Identity is who a request authenticated as. Roles join it when the
// cluster has users of its own.
type Identity struct {
	// User is the authenticated user name.
	User string
}

// Credentials is the store of users a REST API authenticates against.
// Implementations are safe for concurrent use.
type Credentials interface {
	// Authenticate returns the identity of user if password is theirs,
	// else ErrInvalidLogin. It takes the same time whatever the mismatch.
	Authenticate(user, password string) (Identity, error)
}

// Authenticate checks r's HTTP basic auth against creds: ErrNoCredentials
// if r carries none, else what creds.Authenticate says.
func Authenticate(r *http.Request, creds Credentials) (Identity, error) {
	user, password, ok := r.BasicAuth()
	if !ok || user == "" {
		return Identity{}, ErrNoCredentials
	}
	return creds.Authenticate(user, password)
}

// identityKey is the context key of a request's Identity.
type identityKey struct{}

// NewContext returns ctx carrying id, for the handlers behind an API's
// check to read with FromContext.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the Identity NewContext put in ctx, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Admin is a store of one user, the administrator configured at start
// (node.Config's Username and Password).
type Admin struct {
	user, password []byte
}

// NewAdmin returns the store of the one administrator user/password.
func NewAdmin(user, password string) *Admin {
	return &Admin{user: []byte(user), password: []byte(password)}
}

// Authenticate implements Credentials: both comparisons always run, in
// constant time.
func (a *Admin) Authenticate(user, password string) (Identity, error) {
	userOK := subtle.ConstantTimeCompare([]byte(user), a.user)
	passOK := subtle.ConstantTimeCompare([]byte(password), a.password)
	if userOK&passOK != 1 {
		return Identity{}, ErrInvalidLogin
	}
	return Identity{User: user}, nil
}
