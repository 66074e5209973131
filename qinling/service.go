package qinling

import (
	"context"
	"encoding/json"
	"sync"
)

// Service is Qinling's model over the replicated records: every method
// validates, checks the caller's project, reads this node's replica and
// writes through Records; executions run on this node's engines. Any node
// serves any request: the records are the same everywhere.
type Service struct {
	cfg Config
}

// New returns a Service; Close stops its background executions.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg}, nil
}

// Close ends the executions running in the background on this node (they
// are recorded failed) and waits for them.
func (s *Service) Close() error { return nil }

var _ = sync.Mutex{}

// ListOptions selects the projects a list covers: the caller's own, or,
// for the administrator with AllProjects, every project (ProjectID, when
// set, narrows that to one).
type ListOptions struct {
	AllProjects bool
	ProjectID   string
}

// RuntimeSpec creates a runtime. IsPublic and Trusted default to true.
type RuntimeSpec struct {
	Name        string
	Description string
	Image       string
	IsPublic    *bool
	Trusted     *bool
}

// RuntimeUpdate changes the fields that are set.
type RuntimeUpdate struct {
	Name        *string
	Description *string
	Image       *string
}

// FunctionSpec creates a function. For Code.Source "package", Package is
// the zip and Code.MD5Sum, when set, must be its md5 (hex); for "image"
// Code.Image names the container image. Timeout (seconds), MemorySize
// (bytes) and CPU (millicores) of 0 take the configured defaults.
type FunctionSpec struct {
	Name        string
	Description string
	RuntimeID   string
	Entry       string
	Code        FunctionCode
	Package     []byte
	Timeout     int
	MemorySize  int64
	CPU         int64
}

// FunctionUpdate changes the fields that are set. A non-nil Package
// replaces the function's latest code (Code.MD5Sum, when set, must match
// it); existing versions keep theirs. An image function's code cannot be
// updated.
type FunctionUpdate struct {
	Name        *string
	Description *string
	RuntimeID   *string
	Entry       *string
	Timeout     *int
	MemorySize  *int64
	CPU         *int64
	Code        *FunctionCode
	Package     []byte
}

// AliasSpec creates an alias of a function version (0: the latest code).
type AliasSpec struct {
	Name            string
	FunctionID      string
	FunctionVersion int
	Description     string
}

// AliasUpdate changes the fields that are set.
type AliasUpdate struct {
	FunctionID      *string
	FunctionVersion *int
	Description     *string
}

// ExecutionSpec creates an execution of a function version (0: the
// latest code) or of an alias's version. Sync defaults to true. Input is
// the request's input as it came: a JSON object, or a JSON string holding
// JSON or plain text (as the openstack client sends it); nil or null for
// none.
type ExecutionSpec struct {
	FunctionID      string
	FunctionAlias   string
	FunctionVersion int
	Description     string
	Sync            *bool
	Input           json.RawMessage
}

// ExecutionFilter selects executions; empty or nil fields match all.
type ExecutionFilter struct {
	ListOptions
	FunctionID      string
	FunctionAlias   string
	FunctionVersion *int
	Status          string
	Description     string
	Sync            *bool
}

// WebhookSpec creates a webhook on a function version (0: the latest
// code) or on an alias.
type WebhookSpec struct {
	FunctionID      string
	FunctionAlias   string
	FunctionVersion int
	Description     string
}

// WebhookUpdate changes the fields that are set.
type WebhookUpdate struct {
	FunctionID      *string
	FunctionAlias   *string
	FunctionVersion *int
	Description     *string
}

// Runtimes.

// CreateRuntime creates a runtime (administrator only: 403 otherwise).
func (s *Service) CreateRuntime(ctx context.Context, c Caller, spec RuntimeSpec) (Runtime, error) {
	return Runtime{}, ErrNotImplemented
}

// ListRuntimes lists the runtimes the caller sees: public ones and its
// project's (the administrator's all_projects: every one).
func (s *Service) ListRuntimes(ctx context.Context, c Caller, opts ListOptions) ([]Runtime, error) {
	return nil, ErrNotImplemented
}

// GetRuntime returns one runtime.
func (s *Service) GetRuntime(ctx context.Context, c Caller, id string) (Runtime, error) {
	return Runtime{}, ErrNotImplemented
}

// RuntimePool reports the warm-worker capacity of the runtime's engine.
func (s *Service) RuntimePool(ctx context.Context, c Caller, id string) (RuntimePool, error) {
	return RuntimePool{}, ErrNotImplemented
}

// UpdateRuntime changes a runtime (administrator only).
func (s *Service) UpdateRuntime(ctx context.Context, c Caller, id string, u RuntimeUpdate) (Runtime, error) {
	return Runtime{}, ErrNotImplemented
}

// DeleteRuntime deletes a runtime (administrator only); refused (409)
// while functions use it.
func (s *Service) DeleteRuntime(ctx context.Context, c Caller, id string) error {
	return ErrNotImplemented
}

// Functions.

// CreateFunction creates a function: 400 for bad fields, an md5 mismatch,
// swift code or an image function without a container engine; 413 for a
// package over Config.MaxPackageBytes.
func (s *Service) CreateFunction(ctx context.Context, c Caller, spec FunctionSpec) (Function, error) {
	return Function{}, ErrNotImplemented
}

// ListFunctions lists functions.
func (s *Service) ListFunctions(ctx context.Context, c Caller, opts ListOptions) ([]Function, error) {
	return nil, ErrNotImplemented
}

// GetFunction returns one function.
func (s *Service) GetFunction(ctx context.Context, c Caller, id string) (Function, error) {
	return Function{}, ErrNotImplemented
}

// FunctionPackage returns the zip of a function's latest code
// (?download=true); 400 for an image function.
func (s *Service) FunctionPackage(ctx context.Context, c Caller, id string) ([]byte, error) {
	return nil, ErrNotImplemented
}

// UpdateFunction changes a function (see FunctionUpdate).
func (s *Service) UpdateFunction(ctx context.Context, c Caller, id string, u FunctionUpdate) (Function, error) {
	return Function{}, ErrNotImplemented
}

// DeleteFunction deletes a function with its versions and packages;
// refused (409) while aliases or webhooks point at it.
func (s *Service) DeleteFunction(ctx context.Context, c Caller, id string) error {
	return ErrNotImplemented
}

// ScaleUpFunction adds count (at least 1) warm workers to the function's
// latest code on this node's engine.
func (s *Service) ScaleUpFunction(ctx context.Context, c Caller, id string, count int) error {
	return ErrNotImplemented
}

// ScaleDownFunction removes count (at least 1) warm workers.
func (s *Service) ScaleDownFunction(ctx context.Context, c Caller, id string, count int) error {
	return ErrNotImplemented
}

// DetachFunction drops the function's warm workers on this node.
func (s *Service) DetachFunction(ctx context.Context, c Caller, id string) error {
	return ErrNotImplemented
}

// Versions.

// CreateVersion snapshots the function's latest package and entry as
// version latest_version+1; 409 when the latest code is already the
// newest version's.
func (s *Service) CreateVersion(ctx context.Context, c Caller, functionID, description string) (Version, error) {
	return Version{}, ErrNotImplemented
}

// ListVersions lists a function's versions by number.
func (s *Service) ListVersions(ctx context.Context, c Caller, functionID string) ([]Version, error) {
	return nil, ErrNotImplemented
}

// GetVersion returns one version.
func (s *Service) GetVersion(ctx context.Context, c Caller, functionID string, number int) (Version, error) {
	return Version{}, ErrNotImplemented
}

// DeleteVersion deletes a version; refused (409) while an alias or a
// webhook uses it.
func (s *Service) DeleteVersion(ctx context.Context, c Caller, functionID string, number int) error {
	return ErrNotImplemented
}

// DetachVersion drops the version's warm workers on this node.
func (s *Service) DetachVersion(ctx context.Context, c Caller, functionID string, number int) error {
	return ErrNotImplemented
}

// Aliases.

// CreateAlias creates an alias; 409 when the name is taken in the project.
func (s *Service) CreateAlias(ctx context.Context, c Caller, spec AliasSpec) (Alias, error) {
	return Alias{}, ErrNotImplemented
}

// ListAliases lists aliases.
func (s *Service) ListAliases(ctx context.Context, c Caller, opts ListOptions) ([]Alias, error) {
	return nil, ErrNotImplemented
}

// GetAlias returns one alias by name.
func (s *Service) GetAlias(ctx context.Context, c Caller, name string) (Alias, error) {
	return Alias{}, ErrNotImplemented
}

// UpdateAlias moves or describes an alias.
func (s *Service) UpdateAlias(ctx context.Context, c Caller, name string, u AliasUpdate) (Alias, error) {
	return Alias{}, ErrNotImplemented
}

// DeleteAlias deletes an alias.
func (s *Service) DeleteAlias(ctx context.Context, c Caller, name string) error {
	return ErrNotImplemented
}

// Executions.

// CreateExecution runs a function on this node, at most once. Sync: it
// returns when the run ended, with its result. Async: it returns the
// running record at once and the run goes on in the background.
func (s *Service) CreateExecution(ctx context.Context, c Caller, spec ExecutionSpec) (Execution, error) {
	return Execution{}, ErrNotImplemented
}

// ListExecutions lists executions by creation time.
func (s *Service) ListExecutions(ctx context.Context, c Caller, f ExecutionFilter) ([]Execution, error) {
	return nil, ErrNotImplemented
}

// GetExecution returns one execution.
func (s *Service) GetExecution(ctx context.Context, c Caller, id string) (Execution, error) {
	return Execution{}, ErrNotImplemented
}

// ExecutionLog returns an execution's log as plain text ("" while it
// runs).
func (s *Service) ExecutionLog(ctx context.Context, c Caller, id string) (string, error) {
	return "", ErrNotImplemented
}

// DeleteExecution deletes an execution and its log.
func (s *Service) DeleteExecution(ctx context.Context, c Caller, id string) error {
	return ErrNotImplemented
}

// FailOrphans marks failed every running execution whose node is not
// live (its run is lost; it is never run again), and returns how many.
// The leader calls it, with live from membership.
func (s *Service) FailOrphans(ctx context.Context, live func(nodeID string) bool) (int, error) {
	return 0, ErrNotImplemented
}

// CollectExecutions deletes executions, with their logs, that ended more
// than Config.ExecutionRetention ago, and returns how many. The leader
// calls it periodically.
func (s *Service) CollectExecutions(ctx context.Context) (int, error) {
	return 0, ErrNotImplemented
}

// Webhooks.

// CreateWebhook creates a webhook.
func (s *Service) CreateWebhook(ctx context.Context, c Caller, spec WebhookSpec) (Webhook, error) {
	return Webhook{}, ErrNotImplemented
}

// ListWebhooks lists webhooks.
func (s *Service) ListWebhooks(ctx context.Context, c Caller, opts ListOptions) ([]Webhook, error) {
	return nil, ErrNotImplemented
}

// GetWebhook returns one webhook.
func (s *Service) GetWebhook(ctx context.Context, c Caller, id string) (Webhook, error) {
	return Webhook{}, ErrNotImplemented
}

// UpdateWebhook changes a webhook.
func (s *Service) UpdateWebhook(ctx context.Context, c Caller, id string, u WebhookUpdate) (Webhook, error) {
	return Webhook{}, ErrNotImplemented
}

// DeleteWebhook deletes a webhook.
func (s *Service) DeleteWebhook(ctx context.Context, c Caller, id string) error {
	return ErrNotImplemented
}

// InvokeWebhook runs the webhook's function asynchronously in the
// webhook's project with body (JSON, or empty for none) as input and
// returns the execution's id; no credentials are needed. 404 for an
// unknown webhook, 429 beyond the webhook's rate on this node.
func (s *Service) InvokeWebhook(ctx context.Context, id string, body []byte) (string, error) {
	return "", ErrNotImplemented
}
