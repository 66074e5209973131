// Package chaos holds fault-injection tests against a three-node eventide
// cluster running in Docker (the repository's docker-compose.yml). They are
// behind the `chaos` build tag and run with `make chaos`, which builds the
// static binary and the eventide:dev image first.
//
// Each scenario starts a fresh cluster (new containers and volumes), deploys
// a function that counts, per source document, how often it was handled
// and sets a timer (due a second later) that counts how often it fired,
// streams documents in through every node while it injects one kind of
// fault (docker kill, network disconnect, rolling restart, docker pause),
// and ends with the invariant checks:
//
//   - every acknowledged source document is present on every node, and no
//     other source document is;
//   - every acknowledged document's handler effect is present exactly once
//     (its dst document says n = 1), and there is no other dst document;
//   - every acknowledged document's timer fired exactly once (its fired
//     document says n = 1), and no other timer fired;
//   - every node answers the same: the same documents, the same node list,
//     Raft leader and vbucket map;
//   - the cluster is healthy again: three healthy nodes, each owning
//     vbuckets, the function deployed on all three, and documents written
//     through each node after the recovery are handled too;
//   - writes stay available: a node with no fault of its own never goes
//     more than a few seconds (a leader election) without acknowledging a
//     write, whatever happens to the others.
//
// Each scenario logs a summary (documents written, fault and recovery
// times, the longest write gap) and TestMain prints them all in a table.
//
// The tests reach every node at its address on the compose network, which
// the host routes to on Linux. They need the docker CLI with compose
// (`docker compose` or `docker-compose`; COMPOSE overrides the command).
package chaos
