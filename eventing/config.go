package eventing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// GlobalConfigKey is the consensus config key holding the global eventing
// config (a JSON GlobalConfig).
const GlobalConfigKey = "eventing/config"

// Deployment modes accepted for deployment_mode.
var deploymentModes = []string{"function_group", "isolate_function", "hybrid_mode"}

// GlobalConfig is the cluster-wide eventing configuration served at
// /api/v1/config (reference §1.8).
type GlobalConfig struct {
	EnableCurl         bool `json:"enable_curl"`
	DisableCurlBinding bool `json:"disable_curl_binding"`
	EnableDebugger     bool `json:"enable_debugger"`
	// RAMQuota is in MB.
	RAMQuota int `json:"ram_quota"`
	// FunctionSize bounds the handler code size in bytes when ForceCompress
	// is false.
	FunctionSize     int `json:"function_size"`
	MetakvMaxDocSize int `json:"metakv_max_doc_size"`
	// HTTPRequestTimeout is a duration: nanoseconds on output, seconds on input.
	HTTPRequestTimeout                time.Duration `json:"http_request_timeout"`
	EnableLifecycleOpsDuringRebalance bool          `json:"enable_lifecycle_ops_during_rebalance"`
	ForceCompress                     bool          `json:"force_compress"`
	AllowInterbucketRecursion         bool          `json:"allow_interbucket_recursion"`
	DeploymentMode                    string        `json:"deployment_mode"`
	CursorLimit                       int           `json:"cursor_limit"`
	NumNodesRunning                   int           `json:"num_nodes_running"`
}

// DefaultGlobalConfig returns the defaults. ram_quota follows the seed
// document (256 MB); the rest follow Couchbase 8.x.
func DefaultGlobalConfig() GlobalConfig {
	return GlobalConfig{
		EnableCurl:         true,
		RAMQuota:           256,
		FunctionSize:       131072,
		MetakvMaxDocSize:   131072,
		HTTPRequestTimeout: 10 * time.Second,
		ForceCompress:      true,
		DeploymentMode:     "hybrid_mode",
		CursorLimit:        5,
		NumNodesRunning:    -1,
	}
}

// decodeStoredConfig overlays a stored config on the defaults.
func decodeStoredConfig(raw json.RawMessage) (GlobalConfig, error) {
	cfg := DefaultGlobalConfig()
	if len(bytes.TrimSpace(raw)) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return DefaultGlobalConfig(), fmt.Errorf("eventing: decode stored config: %w", err)
	}
	return cfg, nil
}

// configPatch applies a partial config object to cfg, validating every
// known key; unknown keys are ignored. It returns the changed keys.
func configPatch(cfg *GlobalConfig, raw json.RawMessage) ([]string, *Error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, newError(CodeUnmarshalPld, "config must be a JSON object, got %s", abbreviate(raw))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, &Error{Code: CodeUnmarshalPld, Description: "failed to unmarshal config: " + jsonErrorText(err), Err: err}
	}
	var changed []string
	boolKey := func(key string, dst *bool) *Error {
		v, ok := m[key]
		if !ok {
			return nil
		}
		var b bool
		if strictBool(v, &b) != nil {
			return newError(CodeInvalidConfig, "invalid value for config %s: must be a boolean, got %s", key, abbreviate(v))
		}
		if *dst != b {
			changed = append(changed, key)
		}
		*dst = b
		return nil
	}
	intKey := func(key string, min int64, dst *int) *Error {
		v, ok := m[key]
		if !ok {
			return nil
		}
		n, ok := strictInt(v)
		if !ok || n < min || n > 1<<40 {
			return newError(CodeInvalidConfig, "invalid value for config %s: must be an integer >= %d, got %s", key, min, abbreviate(v))
		}
		if int64(*dst) != n {
			changed = append(changed, key)
		}
		*dst = int(n)
		return nil
	}
	steps := []func() *Error{
		func() *Error { return boolKey("enable_curl", &cfg.EnableCurl) },
		func() *Error { return boolKey("disable_curl_binding", &cfg.DisableCurlBinding) },
		func() *Error { return boolKey("enable_debugger", &cfg.EnableDebugger) },
		func() *Error { return intKey("ram_quota", 0, &cfg.RAMQuota) },
		func() *Error { return intKey("function_size", 0, &cfg.FunctionSize) },
		func() *Error { return intKey("metakv_max_doc_size", 0, &cfg.MetakvMaxDocSize) },
		func() *Error {
			v, ok := m["http_request_timeout"]
			if !ok {
				return nil
			}
			n, ok := strictInt(v)
			if !ok || n < 0 || n > 1<<32 {
				return newError(CodeInvalidConfig, "invalid value for config http_request_timeout: must be an integer number of seconds >= 0, got %s", abbreviate(v))
			}
			d := time.Duration(n) * time.Second
			if cfg.HTTPRequestTimeout != d {
				changed = append(changed, "http_request_timeout")
			}
			cfg.HTTPRequestTimeout = d
			return nil
		},
		func() *Error {
			return boolKey("enable_lifecycle_ops_during_rebalance", &cfg.EnableLifecycleOpsDuringRebalance)
		},
		func() *Error { return boolKey("force_compress", &cfg.ForceCompress) },
		func() *Error { return boolKey("allow_interbucket_recursion", &cfg.AllowInterbucketRecursion) },
		func() *Error {
			v, ok := m["deployment_mode"]
			if !ok {
				return nil
			}
			var s string
			if strictString(v, &s) != nil || !slices.Contains(deploymentModes, s) {
				return newError(CodeInvalidConfig, "invalid value for config deployment_mode: must be one of %s, got %s", quoteList(deploymentModes), abbreviate(v))
			}
			if cfg.DeploymentMode != s {
				changed = append(changed, "deployment_mode")
			}
			cfg.DeploymentMode = s
			return nil
		},
		func() *Error { return intKey("cursor_limit", 1, &cfg.CursorLimit) },
		func() *Error {
			v, ok := m["num_nodes_running"]
			if !ok {
				return nil
			}
			n, ok := strictInt(v)
			if !ok || (n != -1 && n <= 0) || n > 1<<20 {
				return newError(CodeInvalidConfig, "invalid value for config num_nodes_running: must be -1 or an integer > 0, got %s", abbreviate(v))
			}
			if int64(cfg.NumNodesRunning) != n {
				changed = append(changed, "num_nodes_running")
			}
			cfg.NumNodesRunning = int(n)
			return nil
		},
	}
	for _, step := range steps {
		if e := step(); e != nil {
			return nil, e
		}
	}
	return changed, nil
}
