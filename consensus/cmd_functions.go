package consensus

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Function record commands: conditional changes and deletions of eventing
// functions' records, and nodes' reports on their workers. The lifecycle
// completion they trigger is in vbmap.go; workers' commits are in
// cmd_batches.go.

// Function lifecycle states (Function.Status).
const (
	StatusUndeployed  = "undeployed"
	StatusDeploying   = "deploying"
	StatusDeployed    = "deployed"
	StatusPausing     = "pausing"
	StatusPaused      = "paused"
	StatusUndeploying = "undeploying"
)

// DCP stream boundaries (FunctionChange.Boundary).
const (
	// BoundaryEverything starts a new instance at seqno 0 of every vbucket.
	BoundaryEverything = "everything"
	// BoundaryFromNow starts a new instance at the source bucket's high
	// seqnos current when the change is applied.
	BoundaryFromNow = "from_now"
)

// OnDeploy reasons (FunctionChange.OnDeploy, Function.OnDeploy).
const (
	OnDeployDeploy = "Deploy"
	OnDeployResume = "Resume"
)

func validStatus(s string) bool {
	switch s {
	case StatusUndeployed, StatusDeploying, StatusDeployed, StatusPausing, StatusPaused, StatusUndeploying:
		return true
	}
	return false
}

// processing reports whether a function in status s may commit batches.
func processing(s string) bool {
	return s == StatusDeploying || s == StatusDeployed || s == StatusPausing
}

// Function change flag bits.
const (
	chgHasDefinition = 1 << 0
	chgDropCheckpts  = 1 << 1
	chgHasOnDeploy   = 1 << 2
)

// changeFunction applies a FunctionChange. Fields: flags:uvarint
// name:string expectVersion:uvarint [definition:bytes source:keyspace]
// status:string newInstanceID:string boundary:string [onDeploy:string];
// flags say which bracketed parts are present, and carry DropCheckpoints.
type changeFunction struct{ FunctionChange }

func encodeChangeFunction(c *FunctionChange) []byte {
	e := newCommand(kindChangeFunction, len(c.Name)+len(c.Definition)+len(c.NewInstanceID)+64)
	(&changeFunction{*c}).encode(e)
	return e.b
}

func (c *changeFunction) encode(e *encoder) {
	var flags uint64
	if c.Definition != nil {
		flags |= chgHasDefinition
	}
	if c.DropCheckpoints {
		flags |= chgDropCheckpts
	}
	if c.OnDeploy != "" {
		flags |= chgHasOnDeploy
	}
	e.uvarint(flags)
	e.string(c.Name)
	e.uvarint(c.ExpectVersion)
	if c.Definition != nil {
		e.bytes(c.Definition)
		e.keyspace(c.Source)
	}
	e.string(c.Status)
	e.string(c.NewInstanceID)
	e.string(c.Boundary)
	if c.OnDeploy != "" {
		e.string(c.OnDeploy)
	}
}

func (c *changeFunction) decode(d *decoder) {
	flags := d.uvarint()
	c.Name = d.string()
	c.ExpectVersion = d.uvarint()
	if flags&chgHasDefinition != 0 {
		c.Definition = d.bytes()
		c.Source = d.keyspace()
	}
	c.Status = d.string()
	c.NewInstanceID = d.string()
	c.Boundary = d.string()
	c.DropCheckpoints = flags&chgDropCheckpts != 0
	if flags&chgHasOnDeploy != 0 {
		c.OnDeploy = d.string()
	}
}

// validateChange checks what can be checked without the state; the
// proposer runs it to fail fast, the FSM runs it because it decides.
func validateChange(c *FunctionChange) error {
	switch {
	case c.Name == "" || len(c.Name) > maxNameLen:
		return fmt.Errorf("%w: function name must have 1 to %d bytes", ErrInvalid, maxNameLen)
	case c.Definition != nil && !json.Valid(c.Definition):
		return fmt.Errorf("%w: definition of function %q is not valid JSON", ErrInvalid, c.Name)
	case c.Status != "" && !validStatus(c.Status):
		return fmt.Errorf("%w: unknown function status %q", ErrInvalid, c.Status)
	case c.NewInstanceID != "" && c.DropCheckpoints:
		return fmt.Errorf("%w: a change cannot both start a new instance and drop checkpoints", ErrInvalid)
	case c.NewInstanceID != "" && c.Boundary != BoundaryEverything && c.Boundary != BoundaryFromNow:
		return fmt.Errorf("%w: dcp stream boundary %q is neither %q nor %q", ErrInvalid, c.Boundary, BoundaryEverything, BoundaryFromNow)
	case c.OnDeploy != "" && c.OnDeploy != OnDeployDeploy && c.OnDeploy != OnDeployResume:
		return fmt.Errorf("%w: OnDeploy reason %q is neither %q nor %q", ErrInvalid, c.OnDeploy, OnDeployDeploy, OnDeployResume)
	}
	return nil
}

func (c *changeFunction) apply(f *fsm, index uint64) (cmdResult, bool) {
	if err := validateChange(&c.FunctionChange); err != nil {
		return cmdResult{err: err}, false
	}
	f.mu.RLock()
	cur := f.functions[c.Name]
	f.mu.RUnlock()
	switch {
	case c.ExpectVersion == 0 && cur != nil:
		return cmdResult{err: fmt.Errorf("%w: %q", ErrFunctionExists, c.Name)}, false
	case c.ExpectVersion != 0 && cur == nil:
		return cmdResult{err: fmt.Errorf("%w: %q", ErrFunctionNotFound, c.Name)}, false
	case c.ExpectVersion != 0 && cur.Version != c.ExpectVersion:
		return cmdResult{err: fmt.Errorf("%w: function %q is at version %d, not %d", ErrVersionMismatch, c.Name, cur.Version, c.ExpectVersion)}, false
	}
	var next Function
	if cur != nil {
		next = *cur
	} else {
		next = Function{Name: c.Name, Status: StatusUndeployed}
	}
	if c.Definition != nil {
		next.Definition = c.Definition
		next.Source = c.Source
	}
	if c.Status != "" {
		next.Status = c.Status
	}
	if c.DropCheckpoints {
		next.InstanceID = ""
		next.Checkpoints = nil
		next.Running = nil
	}
	if c.DropCheckpoints || c.NewInstanceID != "" {
		next.OnDeploy, next.OnDeployDelay = "", 0
	}
	if c.NewInstanceID != "" {
		cps := make([]uint64, f.numVB)
		if c.Boundary == BoundaryFromNow {
			hs, err := f.docs.HighSeqnos(next.Source.Bucket)
			if err != nil {
				return cmdResult{err: fmt.Errorf("function %q: from_now boundary: %w", c.Name, err)}, false
			}
			copy(cps, hs)
		}
		next.InstanceID = c.NewInstanceID
		next.Checkpoints = cps
		next.Running = nil
	}
	if c.OnDeploy != "" {
		next.OnDeploy, next.OnDeployDelay = c.OnDeploy, 0
		if c.OnDeploy == OnDeployResume && next.PausedAt > 0 && f.applyTime > next.PausedAt {
			next.OnDeployDelay = f.applyTime - next.PausedAt
		}
	}
	f.completeTransition(&next)
	next.Version = index
	rec := &next
	f.mu.Lock()
	f.functions[c.Name] = rec
	f.mu.Unlock()
	return cmdResult{fn: rec}, true
}

// deleteFunction removes a function's record at the version expected.
// Fields: name:string expectVersion:uvarint
type deleteFunction struct {
	name   string
	expect uint64
}

func encodeDeleteFunction(name string, expectVersion uint64) []byte {
	e := newCommand(kindDeleteFunction, len(name)+10)
	(&deleteFunction{name, expectVersion}).encode(e)
	return e.b
}

func (c *deleteFunction) encode(e *encoder) {
	e.string(c.name)
	e.uvarint(c.expect)
}

func (c *deleteFunction) decode(d *decoder) {
	c.name = d.string()
	c.expect = d.uvarint()
}

func (c *deleteFunction) apply(f *fsm, _ uint64) (cmdResult, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.functions[c.name]
	if cur == nil {
		return cmdResult{err: fmt.Errorf("%w: %q", ErrFunctionNotFound, c.name)}, false
	}
	if cur.Version != c.expect {
		return cmdResult{err: fmt.Errorf("%w: function %q is at version %d, not %d", ErrVersionMismatch, c.name, cur.Version, c.expect)}, false
	}
	delete(f.functions, c.name)
	return cmdResult{}, true
}

// reportFunction records a FunctionReport.
// Fields: name:string instanceID:string node:string running:bool
type reportFunction struct{ FunctionReport }

func encodeReportFunction(r *FunctionReport) []byte {
	e := newCommand(kindReportFunction, len(r.Name)+len(r.InstanceID)+len(r.Node)+8)
	(&reportFunction{*r}).encode(e)
	return e.b
}

func (r *reportFunction) encode(e *encoder) {
	e.string(r.Name)
	e.string(r.InstanceID)
	e.string(r.Node)
	e.bool(r.Running)
}

func (r *reportFunction) decode(d *decoder) {
	r.FunctionReport = FunctionReport{Name: d.string(), InstanceID: d.string(), Node: d.string(), Running: d.bool()}
}

func validateReport(r *FunctionReport) error {
	switch {
	case r.Name == "" || len(r.Name) > maxNameLen:
		return fmt.Errorf("%w: function name must have 1 to %d bytes", ErrInvalid, maxNameLen)
	case r.InstanceID == "" || len(r.InstanceID) > maxNameLen:
		return fmt.Errorf("%w: function report needs an instance id of 1 to %d bytes", ErrInvalid, maxNameLen)
	case r.Node == "" || len(r.Node) > maxNameLen:
		return fmt.Errorf("%w: function report needs a node id of 1 to %d bytes", ErrInvalid, maxNameLen)
	}
	return nil
}

func (r *reportFunction) apply(f *fsm, index uint64) (cmdResult, bool) {
	if err := validateReport(&r.FunctionReport); err != nil {
		return cmdResult{err: err}, false
	}
	cur := f.functions[r.Name]
	if cur == nil {
		return cmdResult{err: fmt.Errorf("%w: %q", ErrFunctionNotFound, r.Name)}, false
	}
	if cur.InstanceID == "" || cur.InstanceID != r.InstanceID {
		return cmdResult{err: fmt.Errorf("%w: function %q instance %q (current %q)", ErrStaleInstance, r.Name, r.InstanceID, cur.InstanceID)}, false
	}
	i, in := slices.BinarySearch(cur.Running, r.Node)
	var running []string
	switch {
	case r.Running && !in:
		running = slices.Insert(slices.Clone(cur.Running), i, r.Node)
	case !r.Running && in:
		running = slices.Delete(slices.Clone(cur.Running), i, i+1)
		if len(running) == 0 {
			running = nil
		}
	default:
		return cmdResult{fn: cur}, false
	}
	next := *cur
	next.Running = running
	if f.completeTransition(&next) {
		next.Version = index
	}
	f.mu.Lock()
	f.functions[r.Name] = &next
	f.mu.Unlock()
	return cmdResult{fn: &next}, true
}
