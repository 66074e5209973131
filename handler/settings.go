package handler

import (
	"fmt"
	"time"
)

// Language compatibility levels (settings.language_compatibility).
const (
	// Lang600: missing keys make basic bucket GET/DELETE throw; binary
	// documents are not delivered.
	Lang600 = "6.0.0"
	// Lang650: missing GET gives undefined, missing DELETE is a no-op;
	// binary documents are still not delivered.
	Lang650 = "6.5.0"
	// Lang662: binary documents reach OnUpdate as ArrayBuffer.
	Lang662 = "6.6.2"
	// Lang720: the default for new functions.
	Lang720 = "7.2.0"
)

// DefaultExecutionTimeout is execution_timeout's default.
const DefaultExecutionTimeout = 60 * time.Second

// langVersion orders the language compatibility levels.
type langVersion int

const (
	lang600 langVersion = iota
	lang650
	lang662
	lang720
)

func parseLang(s string) (langVersion, bool) {
	switch s {
	case Lang600:
		return lang600, true
	case Lang650:
		return lang650, true
	case Lang662:
		return lang662, true
	case Lang720, "":
		return lang720, true
	}
	return 0, false
}

// Settings are the handler settings the runtime needs. Zero values mean the
// Couchbase defaults (see DefaultSettings).
type Settings struct {
	// ExecutionTimeout bounds one handler invocation (and the program's
	// first run); the invocation is terminated when it is exceeded.
	// 0 means DefaultExecutionTimeout (60 s); negative is invalid.
	ExecutionTimeout time.Duration
	// LanguageCompatibility is one of "6.0.0", "6.5.0", "6.6.2", "7.2.0";
	// "" means "7.2.0".
	LanguageCompatibility string
	// HandlerHeaders are code lines placed before the handler. nil means
	// ["'use strict';"]; an empty non-nil slice means no headers (sloppy
	// mode). A "'use strict';" header puts the whole program in strict mode.
	HandlerHeaders []string
	// HandlerFooters are code lines placed after the handler; nil or empty
	// means none.
	HandlerFooters []string
	// BucketCacheAge is how long an entry of the worker's bucket cache
	// (couchbase.get with {cache: true}) stays fresh; 0 means
	// DefaultBucketCacheAge (1 s); negative is invalid.
	BucketCacheAge time.Duration
	// BucketCacheSize bounds the bytes the bucket cache holds; 0 means
	// DefaultBucketCacheSize (64 MiB); negative is invalid.
	BucketCacheSize int64
	// CurlMaxAllowedRespSize bounds a curl() response body, in MB (after
	// gzip/deflate decoding). 0 means DefaultCurlMaxAllowedRespSize (100);
	// CurlRespSizeUnlimited (-1) means no limit (Couchbase's 0); other
	// negative values are invalid.
	CurlMaxAllowedRespSize int
	// OnDeployTimeout bounds the OnDeploy invocation (on_deploy_timeout);
	// 0 means DefaultOnDeployTimeout (60 s); negative is invalid.
	OnDeployTimeout time.Duration
	// TimerContextSize bounds the JSON of a createTimer context, in bytes
	// (timer_context_size); 0 means DefaultTimerContextSize (1024); valid
	// values are MinTimerContextSize..MaxTimerContextSize.
	TimerContextSize int
	// MemoryBudget is the heap in bytes an invocation may add before it is
	// stopped (with a MemoryGuard); 0 means DefaultMemoryBudget; negative
	// is invalid.
	MemoryBudget int64
	// N1QLConsistency is the scan consistency of inline SQL++ statements
	// (n1ql_consistency): "" (the default, not_bounded), ConsistencyNone or
	// ConsistencyRequest (request_plus). Fixed at Compile.
	N1QLConsistency string
	// N1QLPrepareAll prepares every inline statement (n1ql_prepare_all).
	// Fixed at Compile.
	N1QLPrepareAll bool
	// LCBInstCapacity bounds the SQL++ queries a worker has open at once
	// (lcb_inst_capacity); 0 means DefaultLCBInstCapacity (10); negative is
	// invalid.
	LCBInstCapacity int
}

// DefaultLCBInstCapacity is lcb_inst_capacity's default.
const DefaultLCBInstCapacity = 10

// DefaultOnDeployTimeout is on_deploy_timeout's default.
const DefaultOnDeployTimeout = 60 * time.Second

// timer_context_size: default and valid range, in bytes.
const (
	DefaultTimerContextSize = 1024
	MinTimerContextSize     = 20
	MaxTimerContextSize     = 20 << 20
)

// DefaultCurlMaxAllowedRespSize is curl_max_allowed_resp_size's default, in MB.
const DefaultCurlMaxAllowedRespSize = 100

// CurlRespSizeUnlimited as Settings.CurlMaxAllowedRespSize lifts the limit
// (curl_max_allowed_resp_size 0 in Couchbase).
const CurlRespSizeUnlimited = -1

// Bucket cache defaults (settings bucket_cache_age and bucket_cache_size).
const (
	DefaultBucketCacheAge  = time.Second
	DefaultBucketCacheSize = 64 << 20
)

// DefaultSettings returns the Couchbase defaults: 60 s timeout, language
// compatibility 7.2.0, strict mode header, no footers, 100 MB curl responses,
// 60 s OnDeploy timeout, 1024-byte timer contexts.
func DefaultSettings() Settings {
	return Settings{
		ExecutionTimeout:       DefaultExecutionTimeout,
		LanguageCompatibility:  Lang720,
		HandlerHeaders:         []string{"'use strict';"},
		HandlerFooters:         []string{},
		BucketCacheAge:         DefaultBucketCacheAge,
		BucketCacheSize:        DefaultBucketCacheSize,
		CurlMaxAllowedRespSize: DefaultCurlMaxAllowedRespSize,
		OnDeployTimeout:        DefaultOnDeployTimeout,
		TimerContextSize:       DefaultTimerContextSize,
		MemoryBudget:           DefaultMemoryBudget,
		LCBInstCapacity:        DefaultLCBInstCapacity,
	}
}

// withDefaults fills zero fields with their defaults.
func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.ExecutionTimeout == 0 {
		s.ExecutionTimeout = d.ExecutionTimeout
	}
	if s.LanguageCompatibility == "" {
		s.LanguageCompatibility = d.LanguageCompatibility
	}
	if s.HandlerHeaders == nil {
		s.HandlerHeaders = d.HandlerHeaders
	}
	if s.HandlerFooters == nil {
		s.HandlerFooters = d.HandlerFooters
	}
	if s.BucketCacheAge == 0 {
		s.BucketCacheAge = d.BucketCacheAge
	}
	if s.BucketCacheSize == 0 {
		s.BucketCacheSize = d.BucketCacheSize
	}
	if s.CurlMaxAllowedRespSize == 0 {
		s.CurlMaxAllowedRespSize = d.CurlMaxAllowedRespSize
	}
	if s.OnDeployTimeout == 0 {
		s.OnDeployTimeout = d.OnDeployTimeout
	}
	if s.TimerContextSize == 0 {
		s.TimerContextSize = d.TimerContextSize
	}
	if s.MemoryBudget == 0 {
		s.MemoryBudget = d.MemoryBudget
	}
	if s.LCBInstCapacity == 0 {
		s.LCBInstCapacity = d.LCBInstCapacity
	}
	return s
}

// Validate reports the first invalid field, wrapped in ErrInvalidSettings.
// Zero values are valid (they mean the defaults).
func (s Settings) Validate() error {
	if s.ExecutionTimeout < 0 {
		return fmt.Errorf("%w: execution_timeout must be positive, got %s", ErrInvalidSettings, s.ExecutionTimeout)
	}
	if s.MemoryBudget < 0 {
		return fmt.Errorf("%w: memory budget must be positive, got %d", ErrInvalidSettings, s.MemoryBudget)
	}
	if s.BucketCacheAge < 0 {
		return fmt.Errorf("%w: bucket_cache_age must be positive, got %s", ErrInvalidSettings, s.BucketCacheAge)
	}
	if s.BucketCacheSize < 0 {
		return fmt.Errorf("%w: bucket_cache_size must be positive, got %d", ErrInvalidSettings, s.BucketCacheSize)
	}
	if s.CurlMaxAllowedRespSize < CurlRespSizeUnlimited {
		return fmt.Errorf("%w: curl_max_allowed_resp_size must be at least 0 MB, got %d",
			ErrInvalidSettings, s.CurlMaxAllowedRespSize)
	}
	if s.OnDeployTimeout < 0 {
		return fmt.Errorf("%w: on_deploy_timeout must be positive, got %s", ErrInvalidSettings, s.OnDeployTimeout)
	}
	if s.TimerContextSize != 0 && (s.TimerContextSize < MinTimerContextSize || s.TimerContextSize > MaxTimerContextSize) {
		return fmt.Errorf("%w: timer_context_size must be between %d and %d bytes, got %d",
			ErrInvalidSettings, MinTimerContextSize, MaxTimerContextSize, s.TimerContextSize)
	}
	if s.LCBInstCapacity < 0 {
		return fmt.Errorf("%w: lcb_inst_capacity must be at least 1, got %d", ErrInvalidSettings, s.LCBInstCapacity)
	}
	switch s.N1QLConsistency {
	case "", ConsistencyNone, ConsistencyRequest:
	default:
		return fmt.Errorf("%w: n1ql_consistency must be %q or %q, got %q",
			ErrInvalidSettings, ConsistencyNone, ConsistencyRequest, s.N1QLConsistency)
	}
	if _, ok := parseLang(s.LanguageCompatibility); !ok {
		return fmt.Errorf("%w: language_compatibility must be one of %s, %s, %s, %s, got %q",
			ErrInvalidSettings, Lang600, Lang650, Lang662, Lang720, s.LanguageCompatibility)
	}
	return nil
}
