package eventing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"eventide/docstore"
	"eventide/handler"
)

// DefaultVersion is the "version" written into definitions that carry none.
const DefaultVersion = "evt-7.6.0-0000-ee"

// secretMask replaces curl passwords and bearer keys in every definition
// the Service hands out; posting it back keeps the stored secret.
const secretMask = "*****"

// Curl binding authentication types.
const (
	AuthNone   = "no-auth"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthDigest = "digest"
)

// Bucket binding access levels.
const (
	AccessRead      = "r"
	AccessReadWrite = "rw"
)

// FunctionScope is the bucket/scope a function belongs to; "*"/"*" is the
// global scope.
type FunctionScope struct {
	Bucket string `json:"bucket"`
	Scope  string `json:"scope"`
}

// BucketBinding exposes a keyspace to handler code under an alias.
type BucketBinding struct {
	Alias          string `json:"alias"`
	BucketName     string `json:"bucket_name"`
	ScopeName      string `json:"scope_name"`
	CollectionName string `json:"collection_name"`
	// Access is "r" or "rw".
	Access string `json:"access"`
}

// Keyspace returns the bound collection.
func (b BucketBinding) Keyspace() docstore.Keyspace {
	return docstore.Keyspace{Bucket: b.BucketName, Scope: b.ScopeName, Collection: b.CollectionName}
}

// CurlBinding exposes an HTTP endpoint to curl() under an alias (Value).
type CurlBinding struct {
	Hostname               string `json:"hostname"`
	Value                  string `json:"value"`
	AuthType               string `json:"auth_type"`
	AllowCookies           bool   `json:"allow_cookies"`
	ValidateSSLCertificate bool   `json:"validate_ssl_certificate"`
	Username               string `json:"username"`
	Password               string `json:"password"`
	BearerKey              string `json:"bearer_key"`
}

// ConstantBinding injects `const <Value> = <Literal>;` before the handler.
type ConstantBinding struct {
	Value   string `json:"value"`
	Literal string `json:"literal"`
}

// DepCfg is the deployment config in Couchbase's old format: source and
// metadata keyspaces and the bindings.
type DepCfg struct {
	Buckets            []BucketBinding   `json:"buckets,omitempty"`
	Curl               []CurlBinding     `json:"curl,omitempty"`
	Constants          []ConstantBinding `json:"constants,omitempty"`
	SourceBucket       string            `json:"source_bucket"`
	SourceScope        string            `json:"source_scope"`
	SourceCollection   string            `json:"source_collection"`
	MetadataBucket     string            `json:"metadata_bucket"`
	MetadataScope      string            `json:"metadata_scope"`
	MetadataCollection string            `json:"metadata_collection"`
}

// Source returns the source keyspace.
func (d DepCfg) Source() docstore.Keyspace {
	return docstore.Keyspace{Bucket: d.SourceBucket, Scope: d.SourceScope, Collection: d.SourceCollection}
}

// Metadata returns the metadata keyspace.
func (d DepCfg) Metadata() docstore.Keyspace {
	return docstore.Keyspace{Bucket: d.MetadataBucket, Scope: d.MetadataScope, Collection: d.MetadataCollection}
}

// Definition is a function in Couchbase's "old format" (reference §1.9). It
// is what the Service stores as consensus.Function.Definition and what the
// data plane reads back with ParseStoredDefinition.
type Definition struct {
	AppName            string        `json:"appname"`
	AppCode            string        `json:"appcode"`
	DepCfg             DepCfg        `json:"depcfg"`
	Version            string        `json:"version"`
	EnforceSchema      bool          `json:"enforce_schema"`
	HandlerUUID        uint32        `json:"handleruuid"`
	FunctionInstanceID string        `json:"function_instance_id"`
	FunctionScope      FunctionScope `json:"function_scope"`
	Settings           Settings      `json:"settings"`
}

// Location returns the function's location.
func (d *Definition) Location() Location {
	return Location{Bucket: d.FunctionScope.Bucket, Scope: d.FunctionScope.Scope, Name: d.AppName}
}

// ReadWriteSource reports whether a read-write bucket binding targets the
// function's own source keyspace (Couchbase's "sbm" functions).
func (d *Definition) ReadWriteSource() bool {
	src := d.DepCfg.Source()
	for _, b := range d.DepCfg.Buckets {
		if b.Access == AccessReadWrite && b.Keyspace() == src {
			return true
		}
	}
	return false
}

// clone returns a deep copy.
func (d *Definition) clone() *Definition {
	c := *d
	c.DepCfg.Buckets = slices.Clone(d.DepCfg.Buckets)
	c.DepCfg.Curl = slices.Clone(d.DepCfg.Curl)
	c.DepCfg.Constants = slices.Clone(d.DepCfg.Constants)
	c.Settings = d.Settings.clone()
	return &c
}

// masked returns a copy with curl secrets replaced by "*****".
func (d *Definition) masked() *Definition {
	c := d.clone()
	for i := range c.DepCfg.Curl {
		if c.DepCfg.Curl[i].Password != "" {
			c.DepCfg.Curl[i].Password = secretMask
		}
		if c.DepCfg.Curl[i].BearerKey != "" {
			c.DepCfg.Curl[i].BearerKey = secretMask
		}
	}
	return c
}

// restoreSecrets replaces masked curl secrets in d by the ones stored in old
// for the binding with the same alias.
func (d *Definition) restoreSecrets(old *Definition) {
	if old == nil {
		return
	}
	for i := range d.DepCfg.Curl {
		cb := &d.DepCfg.Curl[i]
		for _, ob := range old.DepCfg.Curl {
			if ob.Value != cb.Value {
				continue
			}
			if cb.Password == secretMask {
				cb.Password = ob.Password
			}
			if cb.BearerKey == secretMask {
				cb.BearerKey = ob.BearerKey
			}
		}
	}
}

// Marshal encodes the definition for storage.
func (d *Definition) Marshal() (json.RawMessage, error) {
	return json.Marshal(d)
}

// ParseStoredDefinition decodes a definition the Service stored (the
// consensus record's Definition), filling defaults for anything missing.
func ParseStoredDefinition(raw json.RawMessage) (*Definition, error) {
	d := &Definition{Settings: DefaultSettings()}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, fmt.Errorf("eventing: decode stored definition: %w", err)
	}
	d.Settings = d.Settings.clone()
	if d.FunctionScope.Bucket == "" {
		d.FunctionScope = FunctionScope{Bucket: Wildcard, Scope: Wildcard}
	}
	return d, nil
}

// parseMode says which endpoint a definition arrived through; it decides
// the language_compatibility default.
type parseMode uint8

const (
	// modeCreate: /api/v1/functions[/{name}]; missing compat → newest.
	modeCreate parseMode = iota
	// modeImport: /api/v1/import; missing compat → 6.0.0, always undeployed.
	modeImport
)

// wireDefinition is the request shape, with presence kept where it matters.
type wireDefinition struct {
	AppName       *string         `json:"appname"`
	AppCode       *string         `json:"appcode"`
	DepCfg        *wireDepCfg     `json:"depcfg"`
	Version       json.RawMessage `json:"version"`
	EnforceSchema *bool           `json:"enforce_schema"`
	FunctionScope *FunctionScope  `json:"function_scope"`
	Settings      json.RawMessage `json:"settings"`
}

type wireDepCfg struct {
	Buckets            []BucketBinding   `json:"buckets"`
	Curl               []CurlBinding     `json:"curl"`
	Constants          []ConstantBinding `json:"constants"`
	SourceBucket       string            `json:"source_bucket"`
	SourceScope        string            `json:"source_scope"`
	SourceCollection   string            `json:"source_collection"`
	MetadataBucket     string            `json:"metadata_bucket"`
	MetadataScope      string            `json:"metadata_scope"`
	MetadataCollection string            `json:"metadata_collection"`
}

// parsed is a definition decoded from a request plus the lifecycle state
// its settings ask for.
type parsed struct {
	def *Definition
	// target is the requested (deployment_status, processing_status).
	target lifecycleTarget
}

// lifecycleTarget is a requested (deployment_status, processing_status).
type lifecycleTarget struct{ deploy, process bool }

// parseDefinition decodes and structurally validates one definition
// (everything that needs neither the keyspaces, the compiler nor the
// stored record).
func parseDefinition(raw json.RawMessage, mode parseMode) (*parsed, *Error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, newError(CodeUnmarshalPld, "a function definition must be a JSON object, got %s", abbreviate(raw))
	}
	var w wireDefinition
	if err := json.Unmarshal(t, &w); err != nil {
		return nil, &Error{Code: CodeUnmarshalPld, Description: "failed to unmarshal function definition: " + jsonErrorText(err), Err: err}
	}
	if w.AppName == nil {
		return nil, newError(CodeInvalidRequest, "function definition has no appname")
	}
	d := &Definition{AppName: *w.AppName, Version: DefaultVersion}
	if w.AppCode != nil {
		d.AppCode = *w.AppCode
	}
	if w.EnforceSchema != nil {
		d.EnforceSchema = *w.EnforceSchema
	}
	if v := bytes.TrimSpace(w.Version); len(v) > 0 && !bytes.Equal(v, []byte("null")) {
		if v[0] != '"' {
			return nil, newError(CodeInvalidRequest,
				"function %q: a numeric \"version\" selects the native 8.x definition format, which eventide does not accept; send the old format with a string version", d.AppName)
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, &Error{Code: CodeUnmarshalPld, Description: "version: " + jsonErrorText(err), Err: err}
		}
		if s != "" {
			d.Version = s
		}
	}
	if err := ValidateName(d.AppName); err != nil {
		return nil, AsError(err)
	}
	scope := FunctionScope{Bucket: Wildcard, Scope: Wildcard}
	if w.FunctionScope != nil && (w.FunctionScope.Bucket != "" || w.FunctionScope.Scope != "") {
		scope = *w.FunctionScope
	}
	loc, err := NewLocation(d.AppName, scope.Bucket, scope.Scope)
	if err != nil {
		return nil, AsError(err)
	}
	d.FunctionScope = loc.FunctionScope()

	if w.DepCfg == nil {
		return nil, newError(CodeInvalidRequest, "function %q has no depcfg", d.AppName)
	}
	d.DepCfg = depCfgFromWire(w.DepCfg)
	if e := validateDepCfg(d.AppName, &d.DepCfg); e != nil {
		return nil, e
	}

	patch, e := parseSettingsPatch(w.Settings)
	if e != nil {
		return nil, e
	}
	d.Settings = DefaultSettings()
	if mode == modeImport {
		d.Settings.LanguageCompatibility = LanguageCompatImport
	}
	patch.apply(&d.Settings)
	p := &parsed{def: d}
	if patch.deployment != nil {
		p.target.deploy = *patch.deployment
	}
	if patch.processing != nil {
		p.target.process = *patch.processing
	}
	if mode == modeImport {
		p.target = lifecycleTarget{}
	}
	if p.target.process && !p.target.deploy {
		return nil, newError(CodeInvalidRequest, "Function: %s has an invalid deployment and processing status: processing_status true needs deployment_status true", loc)
	}
	return p, nil
}

// depCfgFromWire copies a decoded depcfg, filling scope/collection defaults
// and normalising binding access.
func depCfgFromWire(w *wireDepCfg) DepCfg {
	d := DepCfg{
		Buckets:            slices.Clone(w.Buckets),
		Curl:               slices.Clone(w.Curl),
		Constants:          slices.Clone(w.Constants),
		SourceBucket:       w.SourceBucket,
		SourceScope:        orDefault(w.SourceScope),
		SourceCollection:   orDefault(w.SourceCollection),
		MetadataBucket:     w.MetadataBucket,
		MetadataScope:      orDefault(w.MetadataScope),
		MetadataCollection: orDefault(w.MetadataCollection),
	}
	for i := range d.Buckets {
		b := &d.Buckets[i]
		b.ScopeName = orDefault(b.ScopeName)
		b.CollectionName = orDefault(b.CollectionName)
		// Couchbase 8.x treats anything but "r"/"rw" as "rw".
		if b.Access != AccessRead && b.Access != AccessReadWrite {
			b.Access = AccessReadWrite
		}
	}
	for i := range d.Curl {
		if d.Curl[i].AuthType == "" {
			d.Curl[i].AuthType = AuthNone
		}
	}
	return d
}

// parseDepCfg decodes a depcfg object (POST .../config).
func parseDepCfg(name string, raw json.RawMessage) (DepCfg, *Error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return DepCfg{}, newError(CodeUnmarshalPld, "deployment config must be a JSON object, got %s", abbreviate(raw))
	}
	var w wireDepCfg
	if err := json.Unmarshal(t, &w); err != nil {
		return DepCfg{}, &Error{Code: CodeUnmarshalPld, Description: "failed to unmarshal deployment config: " + jsonErrorText(err), Err: err}
	}
	d := depCfgFromWire(&w)
	if e := validateDepCfg(name, &d); e != nil {
		return DepCfg{}, e
	}
	return d, nil
}

// orDefault maps "" to "_default".
func orDefault(s string) string {
	if s == "" {
		return docstore.DefaultScope
	}
	return s
}

// validateDepCfg checks keyspace names, the source/metadata distinction
// and every binding, without looking the keyspaces up.
func validateDepCfg(name string, d *DepCfg) *Error {
	if d.SourceBucket == "" {
		return newError(CodeInvalidRequest, "Function: %s depcfg has no source_bucket", name)
	}
	if d.MetadataBucket == "" {
		return newError(CodeInvalidRequest, "Function: %s depcfg has no metadata_bucket", name)
	}
	if e := checkKeyspaceNames("source", d.Source(), true); e != nil {
		return e
	}
	if e := checkKeyspaceNames("metadata", d.Metadata(), false); e != nil {
		return e
	}
	if KeyspacesOverlap(d.Source(), d.Metadata()) {
		return newError(CodeSrcMbSame, "Function: %s source keyspace same as metadata keyspace. source : %s metadata : %s",
			name, ksString(d.Source()), ksString(d.Metadata()))
	}
	aliases := map[string]string{}
	addAlias := func(kind, alias string) *Error {
		if err := ValidateAlias(alias); err != nil {
			return newError(CodeInvalidRequest, "Function: %s %s binding: %v", name, kind, err)
		}
		if prev, ok := aliases[alias]; ok {
			return newError(CodeInvalidRequest, "Function: %s alias %q is used by more than one binding (%s and %s)", name, alias, prev, kind)
		}
		aliases[alias] = kind
		return nil
	}
	for _, b := range d.Buckets {
		if e := addAlias("bucket", b.Alias); e != nil {
			return e
		}
		if b.BucketName == "" {
			return newError(CodeInvalidRequest, "Function: %s bucket binding %q has no bucket_name", name, b.Alias)
		}
		if e := checkKeyspaceNames(fmt.Sprintf("bucket binding %q", b.Alias), b.Keyspace(), true); e != nil {
			return e
		}
	}
	for _, c := range d.Curl {
		if e := addAlias("curl", c.Value); e != nil {
			return e
		}
		if e := validateCurlBinding(name, c); e != nil {
			return e
		}
	}
	for _, c := range d.Constants {
		if e := addAlias("constant", c.Value); e != nil {
			return e
		}
		if strings.TrimSpace(c.Literal) == "" {
			return newError(CodeInvalidRequest, "Function: %s constant binding %q has an empty literal", name, c.Value)
		}
	}
	return nil
}

// checkKeyspaceNames rejects malformed names in a keyspace. With
// wildcards allowed (sources and bucket bindings, as in Couchbase) the
// scope, or the collection, may be "*" for all of them, but the bucket may
// not, and a wildcard scope needs a wildcard collection.
func checkKeyspaceNames(what string, ks docstore.Keyspace, wildcards bool) *Error {
	if ks.Bucket == Wildcard || (!wildcards && (ks.Scope == Wildcard || ks.Collection == Wildcard)) {
		return newError(CodeInvalidRequest, "%s keyspace %s: a wildcard is not allowed here", what, ksString(ks))
	}
	if ks.Scope == Wildcard && ks.Collection != Wildcard {
		return newError(CodeInvalidRequest, "%s keyspace %s: a wildcard scope needs a wildcard collection", what, ksString(ks))
	}
	for _, part := range []string{ks.Bucket, ks.Scope, ks.Collection} {
		if part == "" || (part != Wildcard && strings.ContainsAny(part, "/.`*")) {
			return newError(CodeInvalidRequest, "%s keyspace %s has an invalid name", what, ksString(ks))
		}
	}
	return nil
}

// KeyspacesOverlap reports whether two keyspaces, either possibly with
// wildcards, share a collection.
func KeyspacesOverlap(a, b docstore.Keyspace) bool {
	match := func(x, y string) bool { return x == y || x == Wildcard || y == Wildcard }
	return a.Bucket == b.Bucket && match(a.Scope, b.Scope) && match(a.Collection, b.Collection)
}

// validateCurlBinding checks a curl binding's URL and auth type.
func validateCurlBinding(name string, c CurlBinding) *Error {
	if c.Hostname == "" {
		return newError(CodeInvalidRequest, "Function: %s URL alias %s hostname is empty", name, c.Value)
	}
	if !strings.HasPrefix(c.Hostname, "http://") && !strings.HasPrefix(c.Hostname, "https://") {
		return newError(CodeInvalidRequest, "Function: %s URL alias %s starts with invalid scheme type. Please ensure URL starts with http:// or https://", name, c.Value)
	}
	if u, err := url.ParseRequestURI(c.Hostname); err != nil || u.Host == "" {
		return newError(CodeInvalidRequest, "Function: %s URL alias %s has an invalid URL %q", name, c.Value, c.Hostname)
	}
	switch c.AuthType {
	case AuthNone, AuthBasic, AuthBearer, AuthDigest:
	default:
		return newError(CodeInvalidRequest, "Function: %s URL alias %s has an invalid auth type %q: must be one of %s",
			name, c.Value, c.AuthType, quoteList([]string{AuthNone, AuthBasic, AuthBearer, AuthDigest}))
	}
	return nil
}

// n1qlReservedWords cannot be binding aliases.
var n1qlReservedWords = []string{
	"alter", "build", "create", "delete", "drop", "execute", "explain", "from", "grant", "infer",
	"insert", "merge", "prepare", "rename", "select", "revoke", "update", "upsert",
}

// jsReservedWords cannot be binding aliases.
var jsReservedWords = []string{
	"abstract", "await", "boolean", "break", "byte", "case", "catch", "char", "class", "const",
	"continue", "debugger", "default", "delete", "do", "double", "enum", "else", "export", "extends",
	"false", "final", "finally", "float", "for", "function", "goto", "if", "implements", "import",
	"interface", "in", "instanceof", "int", "let", "long", "native", "new", "null", "package",
	"private", "protected", "public", "return", "short", "static", "super", "switch", "synchronized",
	"this", "throw", "throws", "transient", "true", "try", "typeof", "var", "void", "volatile",
	"while", "with", "yield",
}

// ValidateAlias checks a binding alias: Couchbase's alias regex, not a
// JavaScript or N1QL reserved word, and a JavaScript identifier
// (handler.ValidateAlias).
func ValidateAlias(alias string) error {
	if !nameRegex.MatchString(alias) {
		return fmt.Errorf("alias %q is invalid: alias name can only start with characters in range A-Z, a-z, 0-9 and can only contain characters in range A-Z, a-z, 0-9, underscore and hyphen", alias)
	}
	if slices.Contains(jsReservedWords, alias) {
		return fmt.Errorf("alias %q must not be a JavaScript reserved word", alias)
	}
	if slices.Contains(n1qlReservedWords, strings.ToLower(alias)) {
		return fmt.Errorf("alias %q must not be a N1QL reserved word", alias)
	}
	// The runtime declares the alias as a JavaScript global, so it must
	// also be a JavaScript identifier (no hyphen, no leading digit).
	if err := handler.ValidateAlias(alias); err != nil {
		return fmt.Errorf("alias %q is invalid: %s", alias, strings.TrimPrefix(err.Error(), handler.ErrInvalidBinding.Error()+": "))
	}
	return nil
}

// ksString renders a keyspace as bucket/scope/collection.
func ksString(ks docstore.Keyspace) string {
	return ks.Bucket + "/" + ks.Scope + "/" + ks.Collection
}

// jsonErrorText describes a JSON decoding error for a client.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// syn's own text is Go's ("invalid character ..."): the offset is
		// what a client can act on.
		return fmt.Sprintf("invalid JSON at offset %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "value"
		}
		return fmt.Sprintf("field %s must be of type %s, got JSON %s", field, goTypeToJSON(typ.Type.String()), typ.Value)
	}
	return "invalid JSON"
}

// goTypeToJSON names a Go type in JSON terms.
func goTypeToJSON(t string) string {
	switch {
	case t == "string":
		return "string"
	case t == "bool":
		return "boolean"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint") || strings.HasPrefix(t, "float"):
		return "number"
	case strings.HasPrefix(t, "[]"):
		return "array"
	}
	return "object"
}
