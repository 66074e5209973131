// Package restauth checks the administrator's HTTP basic-auth credentials,
// the one check every REST API of a node (and the node's own wrappers
// around them) makes before anything else.
package restauth

import (
	"crypto/subtle"
	"net/http"
)

// Admin reports whether r carries user and password as basic auth. The
// comparison takes the same time whatever the mismatch.
func Admin(r *http.Request, user, password string) bool {
	u, p, ok := r.BasicAuth()
	userOK := subtle.ConstantTimeCompare([]byte(u), []byte(user))
	passOK := subtle.ConstantTimeCompare([]byte(p), []byte(password))
	return ok && userOK&passOK == 1
}
