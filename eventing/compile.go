package eventing

import (
	"errors"
	"strings"
	"time"

	"eventide/handler"
)

// HandlerSettings converts the definition's settings to the runtime's.
func (d *Definition) HandlerSettings() handler.Settings {
	return handler.Settings{
		ExecutionTimeout:       time.Duration(d.Settings.ExecutionTimeout) * time.Second,
		LanguageCompatibility:  d.Settings.LanguageCompatibility,
		HandlerHeaders:         append([]string{}, d.Settings.HandlerHeaders...),
		HandlerFooters:         append([]string{}, d.Settings.HandlerFooters...),
		BucketCacheAge:         time.Duration(d.Settings.BucketCacheAge) * time.Millisecond,
		BucketCacheSize:        int64(d.Settings.BucketCacheSize),
		CurlMaxAllowedRespSize: curlRespSize(d.Settings.CurlMaxAllowedRespSize),
		TimerContextSize:       d.Settings.TimerContextSize,
		OnDeployTimeout:        time.Duration(d.Settings.OnDeployTimeout) * time.Second,
		MemoryBudget:           int64(d.Settings.MemoryBudgetMB) << 20,
		N1QLConsistency:        d.Settings.N1QLConsistency,
		N1QLPrepareAll:         d.Settings.N1QLPrepareAll,
		LCBInstCapacity:        d.Settings.LCBInstCapacity,
	}
}

// curlRespSize maps Couchbase's curl_max_allowed_resp_size (MB, 0 =
// unlimited) to the runtime's (0 = default, negative = unlimited).
func curlRespSize(mb int) int {
	if mb == 0 {
		return handler.CurlRespSizeUnlimited
	}
	return mb
}

// HandlerCurlBindings converts the curl bindings to the runtime's.
func (d *Definition) HandlerCurlBindings() []handler.CurlBinding {
	out := make([]handler.CurlBinding, 0, len(d.DepCfg.Curl))
	for _, c := range d.DepCfg.Curl {
		out = append(out, handler.CurlBinding{
			Alias: c.Value, Hostname: c.Hostname, AuthType: c.AuthType,
			Username: c.Username, Password: c.Password, BearerKey: c.BearerKey,
			AllowCookies: c.AllowCookies, ValidateSSLCertificate: c.ValidateSSLCertificate,
		})
	}
	return out
}

// HandlerBindings converts the bucket bindings to the runtime's.
func (d *Definition) HandlerBindings() []handler.Binding {
	out := make([]handler.Binding, 0, len(d.DepCfg.Buckets))
	for _, b := range d.DepCfg.Buckets {
		out = append(out, handler.Binding{Alias: b.Alias, Keyspace: b.Keyspace(), Access: b.Access})
	}
	return out
}

// HandlerConstants converts the constant bindings to the runtime's.
func (d *Definition) HandlerConstants() []handler.Constant {
	out := make([]handler.Constant, 0, len(d.DepCfg.Constants))
	for _, c := range d.DepCfg.Constants {
		out = append(out, handler.Constant{Alias: c.Value, Literal: c.Literal})
	}
	return out
}

// HandlerHasOnDeploy reports whether the definition's handler declares
// OnDeploy (false when it does not compile).
func HandlerHasOnDeploy(d *Definition) bool {
	p, err := handler.Compile(d.AppCode, d.HandlerSettings(), d.HandlerConstants(), d.HandlerBindings(), d.HandlerCurlBindings()...)
	return err == nil && p.HasOnDeploy()
}

// HandlerCompiler is the Compiler backed by handler.Compile: it compiles
// the code with the definition's settings, constants and bucket bindings
// and converts the runtime's errors to this package's.
func HandlerCompiler(d *Definition) error {
	_, err := handler.Compile(d.AppCode, d.HandlerSettings(), d.HandlerConstants(), d.HandlerBindings(), d.HandlerCurlBindings()...)
	if err == nil {
		return nil
	}
	var ce *handler.CompileError
	if errors.As(err, &ce) {
		return &CompileError{Line: ce.Line, Column: ce.Column, Message: ce.Message}
	}
	for _, sentinel := range []error{handler.ErrInvalidBinding, handler.ErrInvalidSettings} {
		if errors.Is(err, sentinel) {
			// The client reads the message, not the "handler: ..." prefixes.
			desc := err.Error()
			if i := strings.LastIndex(desc, sentinel.Error()+": "); i >= 0 {
				desc = desc[i+len(sentinel.Error())+2:]
			}
			return &Error{Code: CodeInvalidRequest, Description: desc, Err: err}
		}
	}
	return err
}
