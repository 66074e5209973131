// Package restclient is the one client of eventide's public REST APIs (the
// cluster manager, eventing and Sync Gateway ports) that the black-box
// suites share: e2e, chaos and bench. It speaks the APIs as a user with
// curl would, so it knows nothing of eventide's Go packages.
//
// Client returns errors and takes a context, for callers that must keep
// going while nodes are down (chaos, writers off the test goroutine). T
// wraps a Client for code on a test's goroutine: the same calls without a
// context, failing the test on any error.
//
// It is test support: only _test.go files and test helpers import it
// (TestNoProductionImports checks that).
package restclient
