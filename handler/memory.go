package handler

import (
	"time"

	"eventide/jsrt"
)

// The memory budget is jsrt's (a MemoryGuard stops the invocations that
// grow the heap past their function's budget); these names keep
// Eventing's callers on the handler API.

// DefaultMemoryBudget is the heap an invocation may add before it is
// stopped, when its function sets no memory_budget_mb.
const DefaultMemoryBudget = jsrt.DefaultMemoryBudget

// MemoryGuard stops invocations over their function's memory budget; one
// serves every worker of a node (Config.Memory).
type MemoryGuard = jsrt.MemoryGuard

// NewMemoryGuard returns a guard that samples the heap every interval (0
// means 20 ms) once Run is called.
func NewMemoryGuard(interval time.Duration) *MemoryGuard { return jsrt.NewMemoryGuard(interval) }
