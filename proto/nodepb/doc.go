// Package nodepb is the node-to-node gRPC API (node.proto) and its
// generated Go code, committed; `make proto` regenerates it.
package nodepb
