//go:build chaos

package chaos

import (
	"fmt"
	"net/http"
	"time"

	"eventide/internal/restclient"
)

// Ports of every node (docker-compose.yml keeps the defaults).
const (
	mgmtPort     = 8091
	eventingPort = 8096
	syncGWPort   = 4984
)

// requestTimeout bounds one REST call made without a deadline of its own:
// a paused or cut-off node never answers, and the caller moves on.
const requestTimeout = 5 * time.Second

// listTimeout bounds one _all_docs call, which lists every document.
const listTimeout = time.Minute

// newAPI returns a client of the node at ip, on the default ports. Its
// methods return errors rather than failing the test: they are called
// while nodes are down.
func newAPI(ip string) *restclient.Client {
	base := func(port int) string { return fmt.Sprintf("http://%s:%d", ip, port) }
	c := restclient.New(base(mgmtPort), base(eventingPort), base(syncGWPort))
	// No keep-alive: a connection to a node that was killed or cut off
	// must not be reused after it is back. Deadlines come from the calls'
	// contexts, or requestTimeout and listTimeout.
	c.HTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	c.RequestTimeout = requestTimeout
	c.ListTimeout = listTimeout
	return c
}
