package eventing

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"eventide/consensus"
	"eventide/docstore"
)

// The composite lifecycle states of a function (composite_status), as the
// replicated record defines them. The Service moves a record into the
// transitional ones; the data plane's supervisor reports its workers, from
// which the record completes them.
const (
	StatusUndeployed  = consensus.StatusUndeployed
	StatusDeploying   = consensus.StatusDeploying
	StatusDeployed    = consensus.StatusDeployed
	StatusPausing     = consensus.StatusPausing
	StatusPaused      = consensus.StatusPaused
	StatusUndeploying = consensus.StatusUndeploying
)

// lifecycleOp is a requested lifecycle operation.
type lifecycleOp uint8

const (
	opNone lifecycleOp = iota
	opDeploy
	opResume
	opPause
	opUndeploy
)

// String names the operation.
func (op lifecycleOp) String() string {
	switch op {
	case opDeploy:
		return "deploy"
	case opResume:
		return "resume"
	case opPause:
		return "pause"
	case opUndeploy:
		return "undeploy"
	}
	return "none"
}

// targetOf returns the (deployment_status, processing_status) a status is
// heading to: deploying/deployed → true/true, pausing/paused → true/false,
// undeploying/undeployed → false/false.
func targetOf(status string) lifecycleTarget {
	switch status {
	case StatusDeploying, StatusDeployed:
		return lifecycleTarget{deploy: true, process: true}
	case StatusPausing, StatusPaused:
		return lifecycleTarget{deploy: true}
	}
	return lifecycleTarget{}
}

// opFor maps a requested target state to an operation given the current
// status: none when the function is already heading there.
func opFor(status string, t lifecycleTarget) (lifecycleOp, *Error) {
	if t.process && !t.deploy {
		return opNone, newError(CodeInvalidRequest, "Invalid deployment and processing status: processing_status true needs deployment_status true")
	}
	if t == targetOf(status) {
		return opNone, nil
	}
	switch {
	case t.deploy && t.process:
		return opDeploy, nil
	case t.deploy:
		return opPause, nil
	}
	return opUndeploy, nil
}

// transition is the outcome of applying an operation to a status.
type transition struct {
	next        string
	newInstance bool
	drop        bool
}

// alreadyIn is Couchbase's "Invalid operation ... already in <state> state".
func alreadyIn(code *Code, loc Location, state string) *Error {
	return newError(code, "Invalid operation. Function: %s already in %s state.", loc, state)
}

// busy is the error for an operation on a function in a transitional state.
func busy(loc Location, status string, op lifecycleOp) *Error {
	return newError(CodeAppNotBootstrapped, "Function: %s is %s; %s is possible once that completes", loc, status, op)
}

// planTransition applies op to status (reference §1.3, DESIGN.md "Lifecycle").
func planTransition(loc Location, status string, op lifecycleOp) (transition, *Error) {
	switch op {
	case opDeploy:
		switch status {
		case StatusUndeployed:
			return transition{next: StatusDeploying, newInstance: true}, nil
		case StatusPaused:
			return transition{next: StatusDeploying}, nil
		case StatusDeployed, StatusDeploying:
			return transition{}, alreadyIn(CodeAppAlreadyDeployed, loc, StatusDeployed)
		}
		return transition{}, busy(loc, status, op)
	case opResume:
		switch status {
		case StatusPaused:
			return transition{next: StatusDeploying}, nil
		case StatusUndeployed, StatusUndeploying:
			return transition{}, newError(CodeAppNotDeployed, "Function: %s is not deployed; only a paused function can be resumed", loc)
		case StatusDeployed, StatusDeploying:
			return transition{}, alreadyIn(CodeAppAlreadyDeployed, loc, StatusDeployed)
		}
		return transition{}, busy(loc, status, op)
	case opPause:
		switch status {
		case StatusDeployed:
			return transition{next: StatusPausing}, nil
		case StatusPaused, StatusPausing:
			return transition{}, alreadyIn(CodeAppPaused, loc, StatusPaused)
		case StatusUndeployed, StatusUndeploying:
			return transition{}, newError(CodeAppNotBootstrapped, "Function: %s is not deployed; only a deployed function can be paused", loc)
		}
		return transition{}, busy(loc, status, op)
	case opUndeploy:
		switch status {
		case StatusDeployed, StatusDeploying, StatusPaused, StatusPausing:
			// The FSM drops the instance and its checkpoints once every
			// node has reported its workers stopped.
			return transition{next: StatusUndeploying}, nil
		}
		return transition{}, alreadyIn(CodeAppNotDeployed, loc, StatusUndeployed)
	}
	return transition{}, nil
}

// changeScope says which parts of a definition may change.
type changeScope uint8

const (
	changeAll      changeScope = iota
	changePaused               // all but keyspaces and a few init-time settings
	changeDeployed             // only description, log_level, timer_context_size
)

// pausedFrozen are the settings that cannot change while paused.
var pausedFrozen = []string{"num_timer_partitions", "app_log_dir", "dcp_stream_boundary"}

// deployedMutable are the settings a deployed function may change.
var deployedMutable = []string{"description", "log_level", "timer_context_size"}

// scopeFor returns which changes are allowed for a function in status that
// undergoes op (reference §1.7, Couchbase's stateTransition table).
func scopeFor(status string, op lifecycleOp) changeScope {
	if op == opUndeploy {
		return changeAll
	}
	switch status {
	case StatusDeployed, StatusDeploying:
		if op == opPause {
			return changePaused
		}
		return changeDeployed
	case StatusPaused, StatusPausing:
		return changePaused
	}
	return changeAll
}

// notAllowed is the error for a forbidden change.
func notAllowed(field string) *Error {
	return newError(CodeInvalidRequest, "not allowed to change the setting: %s", field)
}

// checkChanges verifies that going from old to next is allowed in scope.
func checkChanges(scope changeScope, old, next *Definition) *Error {
	if scope == changeAll {
		return nil
	}
	if old.DepCfg.Source() != next.DepCfg.Source() {
		return notAllowed("depcfg.source_keyspace")
	}
	if old.DepCfg.Metadata() != next.DepCfg.Metadata() {
		return notAllowed("depcfg.meta_keyspace")
	}
	diff := diffSettings(old.Settings, next.Settings)
	if scope == changePaused {
		for _, k := range diff {
			if slices.Contains(pausedFrozen, k) {
				return notAllowed(k)
			}
		}
		return nil
	}
	for _, k := range diff {
		if !slices.Contains(deployedMutable, k) {
			return notAllowed(k)
		}
	}
	if old.AppCode != next.AppCode {
		return notAllowed("appcode")
	}
	if !reflect.DeepEqual(normalBindings(old.DepCfg), normalBindings(next.DepCfg)) {
		return notAllowed("depcfg.bindings")
	}
	return nil
}

// normalBindings returns the bindings with nil and empty slices unified.
func normalBindings(d DepCfg) [3]any {
	b := []BucketBinding{}
	c := []CurlBinding{}
	k := []ConstantBinding{}
	b = append(b, d.Buckets...)
	c = append(c, d.Curl...)
	k = append(k, d.Constants...)
	return [3]any{b, c, k}
}

// lifecycle runs one of the dedicated lifecycle endpoints.
func (s *Service) lifecycle(ctx context.Context, loc Location, op lifecycleOp) error {
	_, err := s.update(ctx, loc, false, func(cur *current) (*change, error) {
		tr, e := planTransition(loc, cur.status(), op)
		if e != nil {
			return nil, e
		}
		if tr.next == StatusDeploying {
			if e := s.checkDeployable(loc, cur.def); e != nil {
				return nil, e
			}
		}
		return &change{status: tr.next, newInstance: tr.newInstance, drop: tr.drop}, nil
	})
	return err
}

// Deploy starts an undeployed function (fresh instance, checkpoints per its
// dcp_stream_boundary) or resumes a paused one.
func (s *Service) Deploy(ctx context.Context, loc Location) error {
	return s.lifecycle(ctx, loc, opDeploy)
}

// Undeploy stops a function and drops its checkpoints.
func (s *Service) Undeploy(ctx context.Context, loc Location) error {
	return s.lifecycle(ctx, loc, opUndeploy)
}

// Pause stops a deployed function at a checkpoint.
func (s *Service) Pause(ctx context.Context, loc Location) error {
	return s.lifecycle(ctx, loc, opPause)
}

// Resume continues a paused function from its checkpoints.
func (s *Service) Resume(ctx context.Context, loc Location) error {
	return s.lifecycle(ctx, loc, opResume)
}

// checkKeyspace maps a missing keyspace to Couchbase's errors. A wildcard
// keyspace needs its bucket (and its scope, when named) to exist.
func (s *Service) checkKeyspace(loc Location, what string, ks docstore.Keyspace) *Error {
	probe, wild := ks, ks.Scope == Wildcard || ks.Collection == Wildcard
	if wild {
		if probe.Scope == Wildcard {
			probe.Scope = docstore.DefaultScope
		}
		probe.Collection = docstore.DefaultCollection
	}
	err := s.keyspaces.CheckKeyspace(probe)
	if wild && (errors.Is(err, docstore.ErrCollectionNotFound) || (ks.Scope == Wildcard && errors.Is(err, docstore.ErrScopeNotFound))) {
		err = nil // the probe's default names need not exist
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, docstore.ErrBucketNotFound):
		return &Error{Code: CodeBucketMissing, Description: fmt.Sprintf("Function: %s %s bucket %s does not exist", loc, what, ks.Bucket), Err: err}
	case errors.Is(err, docstore.ErrScopeNotFound):
		return &Error{Code: CodeCollectionMissing, Description: fmt.Sprintf("Function: %s %s scope %s.%s does not exist", loc, what, ks.Bucket, ks.Scope), Err: err}
	case errors.Is(err, docstore.ErrCollectionNotFound), errors.Is(err, docstore.ErrNotFound):
		return &Error{Code: CodeCollectionMissing, Description: fmt.Sprintf("Function: %s %s collection %s does not exist", loc, what, ksString(ks)), Err: err}
	}
	return internalError(err, "Function: %s: cannot check %s keyspace %s", loc, what, ksString(ks))
}

// checkKeyspaces verifies that the function scope and every keyspace the
// definition names exist.
func (s *Service) checkKeyspaces(loc Location, d *Definition) *Error {
	if !loc.IsGlobal() {
		// A non-default scope has no _default collection, so "collection
		// missing" proves the scope exists.
		err := s.keyspaces.CheckKeyspace(docstore.Keyspace{Bucket: loc.Bucket, Scope: loc.Scope, Collection: docstore.DefaultCollection})
		if err != nil && !errors.Is(err, docstore.ErrCollectionNotFound) {
			if errors.Is(err, docstore.ErrBucketNotFound) {
				return &Error{Code: CodeBucketMissing, Description: fmt.Sprintf("Function: %s function scope bucket %s does not exist", loc, loc.Bucket), Err: err}
			}
			if errors.Is(err, docstore.ErrScopeNotFound) {
				return &Error{Code: CodeCollectionMissing, Description: fmt.Sprintf("Function: %s function scope %s/%s does not exist", loc, loc.Bucket, loc.Scope), Err: err}
			}
			return internalError(err, "Function: %s: cannot check its function scope", loc)
		}
	}
	if e := s.checkKeyspace(loc, "source", d.DepCfg.Source()); e != nil {
		return e
	}
	if e := s.checkKeyspace(loc, "metadata", d.DepCfg.Metadata()); e != nil {
		return e
	}
	for _, b := range d.DepCfg.Buckets {
		if e := s.checkKeyspace(loc, fmt.Sprintf("binding %q", b.Alias), b.Keyspace()); e != nil {
			return e
		}
	}
	return nil
}

// checkCode verifies the code size limit and compiles the handler.
func (s *Service) checkCode(loc Location, d *Definition) *Error {
	cfg := s.globalConfig()
	if !cfg.ForceCompress && len(d.AppCode) > cfg.FunctionSize {
		return newError(CodeAppCodeSize, "Function: %s handler code size is more than %d. Code Size: %d", loc, cfg.FunctionSize, len(d.AppCode))
	}
	err := s.compile(d)
	if err == nil {
		return nil
	}
	var ee *Error
	if errors.As(err, &ee) {
		return ee
	}
	var ce *CompileError
	if errors.As(err, &ce) {
		return &Error{
			Code:        CodeHandlerCompilation,
			Description: fmt.Sprintf("Function: %s compilation failed at line %d column %d: %s", loc, ce.Line, ce.Column, ce.Message),
			Info: compileStatus{
				Area:        "handler",
				Column:      ce.Column,
				Description: ce.Message,
				Language:    "JavaScript",
				Level:       "error",
				Line:        ce.Line,
				UsingTimer:  "false",
				Version:     d.Version,
			},
			Err: err,
		}
	}
	return internalError(err, "Function: %s: internal error while compiling handler", loc)
}

// compileStatus is Couchbase's CompileStatus, carried in runtime_info.info
// of ERR_HANDLER_COMPILATION.
type compileStatus struct {
	Area           string `json:"area"`
	Column         int    `json:"column_number"`
	CompileSuccess bool   `json:"compile_success"`
	Description    string `json:"description"`
	Index          int    `json:"index"`
	Language       string `json:"language"`
	Level          string `json:"level"`
	Line           int    `json:"line_number"`
	UsingTimer     string `json:"using_timer"`
	Version        string `json:"version"`
}

// checkDeployable runs the deploy-time checks: every keyspace still exists
// and deploying would not create a write cycle (reference §1.10).
func (s *Service) checkDeployable(loc Location, d *Definition) *Error {
	if e := s.checkKeyspaces(loc, d); e != nil {
		return e
	}
	if s.globalConfig().AllowInterbucketRecursion {
		return nil
	}
	return s.checkRecursion(loc, d)
}
