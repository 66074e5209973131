package qinling

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Service.
type Config struct {
	// NodeID is this node's id: executions run here record it, so the
	// leader can fail those whose node died (FailOrphans). Required.
	NodeID string
	// Records is the replicated record store (*consensus.Store). Required.
	Records Records
	// Engines returns the engine that runs code of a runtime image (for
	// example Node.js images → the JavaScript engine, Python images → the
	// Python engine), or nil when no engine serves the image. Required.
	Engines func(image string) Engine
	// Containers runs image functions (code source "image"); nil means the
	// node has no container engine and image functions are refused.
	Containers Engine
	// MaxPackageBytes bounds a function package. Default 50 MiB; it must
	// stay below consensus's largest command (64 MiB).
	MaxPackageBytes int64
	// ExecutionRetention is how long execution records are kept after
	// they were last updated before CollectExecutions deletes them.
	// Default 7 days.
	ExecutionRetention time.Duration
	// WebhookBaseURL is the node's advertised Qinling URL (for example
	// "http://10.0.0.5:7070"); webhook_url is WebhookBaseURL +
	// "/v1/webhooks/{id}/invoke". Required.
	WebhookBaseURL string
	// WebhookRate and WebhookBurst bound each webhook's invocations on
	// this node (token bucket). Default 10/s, burst 20.
	WebhookRate  rate.Limit
	WebhookBurst int
	// DefaultTimeout, DefaultMemory and DefaultCPU are a function's
	// timeout (seconds), memory_size (bytes) and cpu (millicores) when
	// created without them. Defaults 5 s, 32 MiB, 100, as Qinling's.
	DefaultTimeout int
	DefaultMemory  int64
	DefaultCPU     int64
	// MaxTimeout bounds a function's timeout (seconds). Default 300.
	MaxTimeout int
	// JobMinLead is how far ahead of now a job's first_execution_time (and
	// a next_execution_time set by an update) must be. Default 60 s, as
	// Qinling's; tests lower it.
	JobMinLead time.Duration
	// JobLookahead is how long before its due time the leader decides a
	// job's firing and hands it to its executor, which then starts it on
	// its own clock: a firing due while the cluster elects a new leader
	// still starts on time. Default 2 s, more than an election takes.
	JobLookahead time.Duration
	// Fleet reaches the warm workers of the other nodes, for GET
	// /v1/functions/{id}/workers; nil: this node's only.
	Fleet Fleet
	// Executors returns the ids of the live nodes that may run a job's
	// firing; the leader spreads firings over them, itself last (a leader
	// that dies takes no decided firing with it). Nil or empty: this node.
	Executors func() []string
	// Logger is the service's logger. Default: discard.
	Logger *slog.Logger
	// Now is the clock (tests set it). Default time.Now.
	Now func() time.Time
}

// maxRecordPackage is the most a package may be: consensus refuses
// commands over 64 MiB, and a package travels with its record's framing.
const maxRecordPackage = 60 << 20

// DefaultConfig returns the defaults of every optional field.
func DefaultConfig() Config {
	return Config{
		MaxPackageBytes:    50 << 20,
		ExecutionRetention: 7 * 24 * time.Hour,
		WebhookRate:        10,
		WebhookBurst:       20,
		DefaultTimeout:     5,
		DefaultMemory:      32 << 20,
		DefaultCPU:         100,
		MaxTimeout:         300,
		JobMinLead:         time.Minute,
		JobLookahead:       2 * time.Second,
		Now:                time.Now,
	}
}

// withDefaults fills zero optional fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxPackageBytes == 0 {
		c.MaxPackageBytes = d.MaxPackageBytes
	}
	if c.ExecutionRetention == 0 {
		c.ExecutionRetention = d.ExecutionRetention
	}
	if c.WebhookRate == 0 {
		c.WebhookRate = d.WebhookRate
	}
	if c.WebhookBurst == 0 {
		c.WebhookBurst = d.WebhookBurst
	}
	if c.DefaultTimeout == 0 {
		c.DefaultTimeout = d.DefaultTimeout
	}
	if c.DefaultMemory == 0 {
		c.DefaultMemory = d.DefaultMemory
	}
	if c.DefaultCPU == 0 {
		c.DefaultCPU = d.DefaultCPU
	}
	if c.MaxTimeout == 0 {
		c.MaxTimeout = d.MaxTimeout
	}
	if c.JobMinLead == 0 {
		c.JobMinLead = d.JobMinLead
	}
	if c.JobLookahead == 0 {
		c.JobLookahead = d.JobLookahead
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("NodeID is required"))
	}
	if c.Records == nil {
		errs = append(errs, errors.New("Records is required"))
	}
	if c.Engines == nil {
		errs = append(errs, errors.New("Engines is required"))
	}
	if c.WebhookBaseURL == "" {
		errs = append(errs, errors.New("WebhookBaseURL is required"))
	}
	if c.MaxPackageBytes < 0 || c.MaxPackageBytes > maxRecordPackage {
		errs = append(errs, fmt.Errorf("MaxPackageBytes %d is not within 1 to %d", c.MaxPackageBytes, maxRecordPackage))
	}
	if c.ExecutionRetention < 0 {
		errs = append(errs, fmt.Errorf("ExecutionRetention %s is negative", c.ExecutionRetention))
	}
	if c.WebhookRate < 0 || c.WebhookBurst < 0 {
		errs = append(errs, fmt.Errorf("webhook rate %v burst %d must not be negative", c.WebhookRate, c.WebhookBurst))
	}
	if c.DefaultTimeout < 0 || c.MaxTimeout < 0 || c.DefaultTimeout > c.MaxTimeout && c.MaxTimeout > 0 {
		errs = append(errs, fmt.Errorf("DefaultTimeout %d and MaxTimeout %d must be positive, the default within the maximum", c.DefaultTimeout, c.MaxTimeout))
	}
	if c.DefaultMemory < 0 || c.DefaultCPU < 0 {
		errs = append(errs, fmt.Errorf("DefaultMemory %d and DefaultCPU %d must not be negative", c.DefaultMemory, c.DefaultCPU))
	}
	if c.JobMinLead < 0 {
		errs = append(errs, fmt.Errorf("JobMinLead %s is negative", c.JobMinLead))
	}
	if c.JobLookahead < 0 {
		errs = append(errs, fmt.Errorf("JobLookahead %s is negative", c.JobLookahead))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("qinling: config: %w", err)
	}
	return nil
}
