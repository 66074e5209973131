package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// OnDeploy reasons (§2.1): the action.reason the handler's OnDeploy sees.
const (
	// DeployReasonDeploy: the function is being deployed.
	DeployReasonDeploy = "Deploy"
	// DeployReasonResume: the function is being resumed after a pause.
	DeployReasonResume = "Resume"
)

// OnDeploy calls the handler's OnDeploy({reason, delay}) once, before any
// event is processed, with its bucket and timer operations going to st.
// reason is DeployReasonDeploy or DeployReasonResume; delay is the time
// since the function was paused (0 on deploy), passed in milliseconds. The
// call is bounded by the on_deploy_timeout setting instead of the execution
// timeout. A program without OnDeploy makes it a no-op returning nil.
//
// A throw or timeout returns an *InvocationError with Entry "OnDeploy",
// written to the application log with the news that the function will be
// undeployed (the caller undeploys it); an interruption by ctx returns an
// *InvocationError that is neither counted nor logged. Bad arguments give
// ErrInvalidEvent; a closed or broken worker ErrWorkerClosed or
// ErrWorkerBroken.
func (w *Worker) OnDeploy(ctx context.Context, reason string, delay time.Duration, st Store) error {
	switch {
	case reason != DeployReasonDeploy && reason != DeployReasonResume:
		return fmt.Errorf("%w: OnDeploy reason must be %q or %q, got %q",
			ErrInvalidEvent, DeployReasonDeploy, DeployReasonResume, reason)
	case delay < 0:
		return fmt.Errorf("%w: OnDeploy delay must not be negative, got %s", ErrInvalidEvent, delay)
	}
	if err := w.ready(ctx, entryOnDeploy, "", st); err != nil || !w.p.hasOnDeploy {
		return err
	}
	// The runtime's timeout bounds the invocation and describeFailure
	// names it; OnDeploy has its own.
	execTimeout := w.rt.Timeout()
	w.rt.SetTimeout(w.onDeployTimeout)
	err := w.run(ctx, entryOnDeploy, "", st, func() error {
		_, err := w.tm.deploy(goja.Undefined(), w.vm.ToValue(reason), w.vm.ToValue(delay.Milliseconds()))
		return err
	})
	w.rt.SetTimeout(execTimeout)
	var ie *InvocationError
	if err == nil || !errors.As(err, &ie) {
		return err // success, or the worker broke
	}
	switch {
	case errors.Is(ie.Err, ErrTimeout):
		ie.Message = "on_deploy_timeout of " + w.onDeployTimeout.String() + " exceeded"
		w.stats.inc(statTimeout)
	case errors.Is(ie.Err, ErrMemoryBudget):
		w.stats.inc(statMemoryBudget)
		defer w.rebuildRuntime()
	case errors.Is(ie.Err, ErrException):
	default: // interrupted by the caller's context: not the handler's fault
		return err
	}
	w.insightRecordFailure(ie)
	detail := strings.TrimPrefix(ie.Error(), "handler: "+entryOnDeploy+": ")
	w.writeAppLog("ERROR", "OnDeploy failed, the function will be undeployed: "+detail)
	w.logger.Warn("OnDeploy failed, the function will be undeployed", "line", ie.Line, "column", ie.Column,
		"message", ie.Message, "error", ie.Err)
	return err
}
