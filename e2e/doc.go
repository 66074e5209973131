// Package e2e holds black-box tests that start eventide processes (one node,
// and three on 127.0.0.2-4) and drive them only through their public APIs
// and real clients (the Couchbase Go SDK, and the openstack command of
// python3-openstackclient with python3-qinlingclient, which the Qinling
// test requires in PATH). They need the binary: run them with `make e2e`,
// which builds it and sets EVENTIDE_BIN.
package e2e
