// Package testlog owns the one writer that routes a test's logs to t.Log.
//
// Background goroutines (memberlist's, gRPC's, a node's workers) can log
// after their test has ended, and t.Log panics once a test has completed.
// A Writer stops forwarding when its test's cleanups run and silently
// drops anything written later.
//
// It is a leaf (it imports only the standard library), so the tests of
// every package can use it without an import cycle. Only test code imports
// it.
package testlog
