package eventing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"eventide/consensus"
	"eventide/handler"
)

// Language compatibility levels a handler can select.
const (
	LanguageCompat600 = "6.0.0"
	LanguageCompat650 = "6.5.0"
	LanguageCompat662 = "6.6.2"
	LanguageCompat720 = "7.2.0"
	// LanguageCompatLatest is what functions created through
	// /api/v1/functions get when they do not say.
	LanguageCompatLatest = LanguageCompat720
	// LanguageCompatImport is what /api/v1/import fills in when missing.
	LanguageCompatImport = LanguageCompat600
)

// Stream boundaries (dcp_stream_boundary), as the replicated record
// defines them.
const (
	BoundaryEverything = consensus.BoundaryEverything
	BoundaryFromNow    = consensus.BoundaryFromNow
)

// Settings are a function's handler settings (reference §3) plus the two
// lifecycle flags. Durations are in the unit Couchbase uses for each key
// (seconds for timeouts, milliseconds for tick/cache/flush intervals).
type Settings struct {
	// DeploymentStatus and ProcessingStatus are the requested lifecycle
	// state: false/false undeployed, true/true deployed, true/false paused.
	// On output they are derived from the function's composite status.
	DeploymentStatus bool `json:"deployment_status"`
	ProcessingStatus bool `json:"processing_status"`

	WorkerCount               int      `json:"worker_count"`
	CPPWorkerThreadCount      int      `json:"cpp_worker_thread_count"`
	ExecutionTimeout          int      `json:"execution_timeout"`
	OnDeployTimeout           int      `json:"on_deploy_timeout"`
	CursorCheckpointTimeout   int      `json:"cursor_checkpoint_timeout"`
	TimerContextSize          int      `json:"timer_context_size"`
	NumTimerPartitions        int      `json:"num_timer_partitions"`
	DCPStreamBoundary         string   `json:"dcp_stream_boundary"`
	CheckpointInterval        int      `json:"checkpoint_interval"`
	LCBInstCapacity           int      `json:"lcb_inst_capacity"`
	LCBRetryCount             int      `json:"lcb_retry_count"`
	LCBTimeout                int      `json:"lcb_timeout"`
	N1QLConsistency           string   `json:"n1ql_consistency"`
	N1QLPrepareAll            bool     `json:"n1ql_prepare_all"`
	LanguageCompatibility     string   `json:"language_compatibility"`
	LogLevel                  string   `json:"log_level"`
	TickDuration              int      `json:"tick_duration"`
	AppLogDir                 string   `json:"app_log_dir"`
	EnableAppLogRotation      bool     `json:"enable_applog_rotation"`
	AppLogMaxSize             int      `json:"app_log_max_size"`
	AppLogMaxFiles            int      `json:"app_log_max_files"`
	BucketCacheSize           int      `json:"bucket_cache_size"`
	BucketCacheAge            int      `json:"bucket_cache_age"`
	CurlMaxAllowedRespSize    int      `json:"curl_max_allowed_resp_size"`
	HandlerHeaders            []string `json:"handler_headers"`
	HandlerFooters            []string `json:"handler_footers"`
	AllowTransactionMutations bool     `json:"allow_transaction_mutations"`
	AllowSyncDocuments        bool     `json:"allow_sync_documents"`
	CursorAware               bool     `json:"cursor_aware"`
	HighSeqCheckInterval      int      `json:"high_seq_check_interval"`
	MaxUnackedBytes           int      `json:"max_unacked_bytes"`
	MaxUnackedCount           int      `json:"max_unacked_count"`
	MessageFlushTime          int      `json:"message_flush_time"`
	MaxParallelVB             int      `json:"max_parallel_vb"`
	Description               string   `json:"description"`
	// MemoryBudgetMB is eventide's: the heap in MiB one invocation may add
	// before it is stopped (handler.MemoryGuard).
	MemoryBudgetMB int `json:"memory_budget_mb"`
}

// DefaultSettings returns every setting at its default (reference §3).
func DefaultSettings() Settings {
	return Settings{
		WorkerCount:               1,
		MemoryBudgetMB:            handler.DefaultMemoryBudget >> 20,
		CPPWorkerThreadCount:      2,
		ExecutionTimeout:          60,
		OnDeployTimeout:           60,
		CursorCheckpointTimeout:   60,
		TimerContextSize:          1024,
		NumTimerPartitions:        1024,
		DCPStreamBoundary:         BoundaryEverything,
		CheckpointInterval:        60,
		LCBInstCapacity:           10,
		LCBRetryCount:             0,
		LCBTimeout:                5,
		N1QLConsistency:           "",
		LanguageCompatibility:     LanguageCompatLatest,
		LogLevel:                  "INFO",
		TickDuration:              1000,
		EnableAppLogRotation:      true,
		AppLogMaxSize:             41943040,
		AppLogMaxFiles:            10,
		BucketCacheSize:           67108864,
		BucketCacheAge:            1000,
		CurlMaxAllowedRespSize:    100,
		HandlerHeaders:            []string{"'use strict';"},
		HandlerFooters:            []string{},
		AllowTransactionMutations: false,
		AllowSyncDocuments:        true,
		HighSeqCheckInterval:      15000,
		MaxUnackedBytes:           0,
		MaxUnackedCount:           100000,
		MessageFlushTime:          50,
		MaxParallelVB:             8,
	}
}

// clone returns a deep copy.
func (s Settings) clone() Settings {
	s.HandlerHeaders = slices.Clone(s.HandlerHeaders)
	s.HandlerFooters = slices.Clone(s.HandlerFooters)
	if s.HandlerHeaders == nil {
		s.HandlerHeaders = []string{}
	}
	if s.HandlerFooters == nil {
		s.HandlerFooters = []string{}
	}
	return s
}

type settingKind uint8

const (
	kindInt settingKind = iota
	kindBool
	kindString
	kindEnum
	kindStrings
	kindPartitions // int >= 1, rounded up to a power of two, capped at 1024
)

// settingSpec describes one setting: its JSON key, type, bounds and where it
// lives in Settings.
type settingSpec struct {
	name   string
	kind   settingKind
	min    int64
	max    int64 // 0: unbounded
	values []string
	field  func(*Settings) any // pointer to the field
}

// settingSpecs lists every setting eventide knows, in output order. Keys
// not listed here are ignored on input, as Couchbase 8.x does.
var settingSpecs = []settingSpec{
	{name: "worker_count", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.WorkerCount }},
	{name: "cpp_worker_thread_count", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.CPPWorkerThreadCount }},
	{name: "execution_timeout", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.ExecutionTimeout }},
	{name: "on_deploy_timeout", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.OnDeployTimeout }},
	{name: "cursor_checkpoint_timeout", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.CursorCheckpointTimeout }},
	{name: "timer_context_size", kind: kindInt, min: 20, max: 20971520, field: func(s *Settings) any { return &s.TimerContextSize }},
	{name: "num_timer_partitions", kind: kindPartitions, min: 1, field: func(s *Settings) any { return &s.NumTimerPartitions }},
	{name: "dcp_stream_boundary", kind: kindEnum, values: []string{BoundaryEverything, BoundaryFromNow}, field: func(s *Settings) any { return &s.DCPStreamBoundary }},
	{name: "checkpoint_interval", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.CheckpointInterval }},
	{name: "lcb_inst_capacity", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.LCBInstCapacity }},
	{name: "lcb_retry_count", kind: kindInt, min: 0, field: func(s *Settings) any { return &s.LCBRetryCount }},
	{name: "lcb_timeout", kind: kindInt, min: 5, field: func(s *Settings) any { return &s.LCBTimeout }},
	{name: "n1ql_consistency", kind: kindEnum, values: []string{"", "none", "request"}, field: func(s *Settings) any { return &s.N1QLConsistency }},
	{name: "n1ql_prepare_all", kind: kindBool, field: func(s *Settings) any { return &s.N1QLPrepareAll }},
	{name: "language_compatibility", kind: kindEnum, values: []string{LanguageCompat600, LanguageCompat650, LanguageCompat662, LanguageCompat720}, field: func(s *Settings) any { return &s.LanguageCompatibility }},
	{name: "log_level", kind: kindEnum, values: []string{"INFO", "ERROR", "WARNING", "DEBUG", "TRACE"}, field: func(s *Settings) any { return &s.LogLevel }},
	{name: "tick_duration", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.TickDuration }},
	{name: "app_log_dir", kind: kindString, field: func(s *Settings) any { return &s.AppLogDir }},
	{name: "enable_applog_rotation", kind: kindBool, field: func(s *Settings) any { return &s.EnableAppLogRotation }},
	{name: "app_log_max_size", kind: kindInt, min: 1024, field: func(s *Settings) any { return &s.AppLogMaxSize }},
	{name: "app_log_max_files", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.AppLogMaxFiles }},
	{name: "bucket_cache_size", kind: kindInt, min: 20971520, field: func(s *Settings) any { return &s.BucketCacheSize }},
	{name: "bucket_cache_age", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.BucketCacheAge }},
	{name: "curl_max_allowed_resp_size", kind: kindInt, min: 0, field: func(s *Settings) any { return &s.CurlMaxAllowedRespSize }},
	{name: "handler_headers", kind: kindStrings, field: func(s *Settings) any { return &s.HandlerHeaders }},
	{name: "handler_footers", kind: kindStrings, field: func(s *Settings) any { return &s.HandlerFooters }},
	{name: "allow_transaction_mutations", kind: kindBool, field: func(s *Settings) any { return &s.AllowTransactionMutations }},
	{name: "allow_sync_documents", kind: kindBool, field: func(s *Settings) any { return &s.AllowSyncDocuments }},
	{name: "cursor_aware", kind: kindBool, field: func(s *Settings) any { return &s.CursorAware }},
	{name: "high_seq_check_interval", kind: kindInt, min: 5, field: func(s *Settings) any { return &s.HighSeqCheckInterval }},
	{name: "max_unacked_bytes", kind: kindInt, min: 0, field: func(s *Settings) any { return &s.MaxUnackedBytes }},
	{name: "max_unacked_count", kind: kindInt, min: 100, field: func(s *Settings) any { return &s.MaxUnackedCount }},
	{name: "message_flush_time", kind: kindInt, min: 10, field: func(s *Settings) any { return &s.MessageFlushTime }},
	{name: "max_parallel_vb", kind: kindInt, min: 1, field: func(s *Settings) any { return &s.MaxParallelVB }},
	{name: "description", kind: kindString, field: func(s *Settings) any { return &s.Description }},
	{name: "memory_budget_mb", kind: kindInt, min: 16, max: 65536, field: func(s *Settings) any { return &s.MemoryBudgetMB }},
}

// lifecycleKeys are the two settings that drive the lifecycle.
const (
	keyDeploymentStatus = "deployment_status"
	keyProcessingStatus = "processing_status"
)

// settingsPatch is a parsed, validated partial settings object.
type settingsPatch struct {
	// values maps a known setting key to its validated value (same Go type
	// as the Settings field).
	values map[string]any
	// deployment/processing are set when the keys were present.
	deployment, processing *bool
}

// parseSettingsPatch validates every known key of a settings object. raw
// must be a JSON object; unknown keys are ignored.
func parseSettingsPatch(raw json.RawMessage) (*settingsPatch, *Error) {
	p := &settingsPatch{values: map[string]any{}}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return p, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &Error{Code: CodeUnmarshalPld, Description: "settings must be a JSON object: " + jsonErrorText(err), Err: err}
	}
	for _, key := range []string{keyDeploymentStatus, keyProcessingStatus} {
		v, ok := m[key]
		if !ok {
			continue
		}
		var b bool
		if err := strictBool(v, &b); err != nil {
			return nil, newError(CodeInvalidConfig, "invalid value for setting %s: must be a boolean, got %s", key, abbreviate(v))
		}
		if key == keyDeploymentStatus {
			p.deployment = &b
		} else {
			p.processing = &b
		}
	}
	for _, spec := range settingSpecs {
		v, ok := m[spec.name]
		if !ok {
			continue
		}
		val, err := spec.parse(v)
		if err != nil {
			return nil, err
		}
		p.values[spec.name] = val
	}
	return p, nil
}

// apply writes the patch's values into s and returns the keys whose value
// changed, in spec order.
func (p *settingsPatch) apply(s *Settings) []string {
	var changed []string
	for _, spec := range settingSpecs {
		v, ok := p.values[spec.name]
		if !ok {
			continue
		}
		dst := reflect.ValueOf(spec.field(s)).Elem()
		if !reflect.DeepEqual(dst.Interface(), v) {
			changed = append(changed, spec.name)
		}
		dst.Set(reflect.ValueOf(v))
	}
	return changed
}

// diffSettings lists the setting keys whose values differ between a and b
// (lifecycle flags excluded), in spec order.
func diffSettings(a, b Settings) []string {
	var out []string
	for _, spec := range settingSpecs {
		va := reflect.ValueOf(spec.field(&a)).Elem().Interface()
		vb := reflect.ValueOf(spec.field(&b)).Elem().Interface()
		if !reflect.DeepEqual(va, vb) {
			out = append(out, spec.name)
		}
	}
	return out
}

// parse validates one raw value against the spec and returns it with the
// Go type of the Settings field.
func (spec settingSpec) parse(raw json.RawMessage) (any, *Error) {
	bad := func(want string) *Error {
		return newError(CodeInvalidConfig, "invalid value for setting %s: %s, got %s", spec.name, want, abbreviate(raw))
	}
	switch spec.kind {
	case kindBool:
		var b bool
		if strictBool(raw, &b) != nil {
			return nil, bad("must be a boolean")
		}
		return b, nil
	case kindString, kindEnum:
		var s string
		if strictString(raw, &s) != nil {
			if spec.kind == kindEnum {
				return nil, bad("must be one of " + quoteList(spec.values))
			}
			return nil, bad("must be a string")
		}
		if spec.kind == kindEnum && !slices.Contains(spec.values, s) {
			return nil, bad("must be one of " + quoteList(spec.values))
		}
		return s, nil
	case kindStrings:
		var list []string
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] != '[' || json.Unmarshal(raw, &list) != nil {
			return nil, bad("must be an array of strings")
		}
		if list == nil {
			list = []string{}
		}
		return list, nil
	case kindInt, kindPartitions:
		n, ok := strictInt(raw)
		if !ok {
			return nil, bad(spec.rangeText())
		}
		if n < spec.min || (spec.max > 0 && n > spec.max) {
			return nil, bad(spec.rangeText())
		}
		if spec.kind == kindPartitions {
			n = roundPartitions(n)
		}
		if n > math.MaxInt32 {
			return nil, bad(spec.rangeText())
		}
		return int(n), nil
	}
	return nil, bad("unsupported setting")
}

// rangeText describes an integer setting's valid range.
func (spec settingSpec) rangeText() string {
	if spec.max > 0 {
		return fmt.Sprintf("must be an integer between %d and %d", spec.min, spec.max)
	}
	return fmt.Sprintf("must be an integer >= %d", spec.min)
}

// roundPartitions rounds n up to the next power of two, capped at 1024.
func roundPartitions(n int64) int64 {
	p := int64(1)
	for p < n && p < 1024 {
		p <<= 1
	}
	return p
}

// strictInt reads a JSON number that has an integral value.
func strictInt(raw json.RawMessage) (int64, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || !(t[0] == '-' || (t[0] >= '0' && t[0] <= '9')) {
		return 0, false
	}
	var num json.Number
	if json.Unmarshal(t, &num) != nil {
		return 0, false
	}
	if i, err := num.Int64(); err == nil {
		return i, true
	}
	f, err := num.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// strictBool reads a JSON boolean (not a string "true").
func strictBool(raw json.RawMessage, b *bool) error {
	t := bytes.TrimSpace(raw)
	if !bytes.Equal(t, []byte("true")) && !bytes.Equal(t, []byte("false")) {
		return fmt.Errorf("not a boolean")
	}
	*b = t[0] == 't'
	return nil
}

// strictString reads a JSON string.
func strictString(raw json.RawMessage, s *string) error {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '"' {
		return fmt.Errorf("not a string")
	}
	return json.Unmarshal(t, s)
}

// abbreviate renders a raw JSON value for an error message, shortened.
func abbreviate(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 64 {
		s = s[:61] + "..."
	}
	return s
}

// quoteList renders values as "a", "b" or "c".
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
