package eventing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"

	"eventide/consensus"
	"eventide/docstore"
)

// Result is the outcome of one function of a multi-function request.
type Result struct {
	// Function is the location string.
	Function string
	// Err is nil on success.
	Err *Error
}

// view renders a stored record as clients see it: secrets masked, function
// scope filled and the lifecycle flags derived from the composite status.
func view(cur *current) *Definition {
	d := cur.def.masked()
	t := targetOf(cur.status())
	d.Settings.DeploymentStatus = t.deploy
	d.Settings.ProcessingStatus = t.process
	if cur.rec.InstanceID != "" {
		d.FunctionInstanceID = cur.rec.InstanceID
	}
	return d
}

// Function returns one function's definition.
func (s *Service) Function(loc Location) (*Definition, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return nil, err
	}
	return view(cur), nil
}

// Functions returns every function's definition, sorted by location.
func (s *Service) Functions() []*Definition {
	recs := s.records()
	out := make([]*Definition, 0, len(recs))
	for _, cur := range recs {
		out = append(out, view(cur))
	}
	return out
}

// Export returns every definition as undeployed (lifecycle flags false).
func (s *Service) Export() []*Definition {
	out := s.Functions()
	for _, d := range out {
		d.Settings.DeploymentStatus, d.Settings.ProcessingStatus = false, false
	}
	return out
}

// ExportFunction returns one definition as undeployed.
func (s *Service) ExportFunction(loc Location) (*Definition, error) {
	d, err := s.Function(loc)
	if err != nil {
		return nil, err
	}
	d.Settings.DeploymentStatus, d.Settings.ProcessingStatus = false, false
	return d, nil
}

// splitBody reads a request body that is one JSON object or an array of
// them.
func splitBody(body []byte) ([]json.RawMessage, *Error) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return nil, newError(CodeUnmarshalPld, "request body is empty; expected a function definition")
	}
	switch t[0] {
	case '{':
		if !json.Valid(t) {
			var v any
			err := json.Unmarshal(t, &v)
			return nil, &Error{Code: CodeUnmarshalPld, Description: "failed to unmarshal function definition: " + jsonErrorText(err), Err: err}
		}
		return []json.RawMessage{t}, nil
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, &Error{Code: CodeUnmarshalPld, Description: "failed to unmarshal function list: " + jsonErrorText(err), Err: err}
		}
		return list, nil
	}
	return nil, newError(CodeUnmarshalPld, "request body must be a function definition object or an array of them, got %s", abbreviate(t))
}

// CreateFunction creates or replaces the function at loc from a POST
// /api/v1/functions/{name} body (one object, or an array of exactly one).
// The body's appname must equal loc.Name. Its deployment_status and
// processing_status are applied through the lifecycle rules, as Couchbase
// does.
func (s *Service) CreateFunction(ctx context.Context, loc Location, body []byte) error {
	items, e := splitBody(body)
	if e != nil {
		return e
	}
	if len(items) != 1 {
		return newError(CodeInvalidRequest, "Only one function can be created/updated at a time; the request has %d", len(items))
	}
	p, e := parseDefinition(items[0], modeCreate)
	if e != nil {
		return e
	}
	if p.def.AppName != loc.Name {
		return newError(CodeAppNameMismatch, "Function name in the URL (%s) and in the body (%s) must be the same", loc.Name, p.def.AppName)
	}
	if !loc.IsGlobal() {
		p.def.FunctionScope = loc.FunctionScope()
	}
	return s.store(ctx, p, modeCreate)
}

// CreateFunctions stores several functions (POST /api/v1/functions and
// /api/v1/import). A malformed body, an invalid definition or a repeated
// name fails the whole request and stores nothing; otherwise each function
// is stored independently and its outcome reported. Imported functions are
// always undeployed and default language_compatibility to 6.0.0.
func (s *Service) CreateFunctions(ctx context.Context, body []byte, importing bool) ([]Result, error) {
	items, e := splitBody(body)
	if e != nil {
		return nil, e
	}
	mode := modeCreate
	if importing {
		mode = modeImport
	}
	all := make([]*parsed, 0, len(items))
	seen := map[string]bool{}
	for i, raw := range items {
		p, e := parseDefinition(raw, mode)
		if e != nil {
			e.Description = "function #" + strconv.Itoa(i) + ": " + e.Description
			return nil, e
		}
		key := p.def.Location().String()
		if seen[key] {
			return nil, newError(CodeInvalidRequest, "Function: %s appears more than once in the request; function names must be unique", key)
		}
		seen[key] = true
		all = append(all, p)
	}
	out := make([]Result, 0, len(all))
	for _, p := range all {
		r := Result{Function: p.def.Location().String()}
		if err := s.store(ctx, p, mode); err != nil {
			r.Err = AsError(err)
		}
		out = append(out, r)
	}
	return out, nil
}

// store validates a parsed definition against the keyspaces, the compiler
// and the stored record, then commits it (with any lifecycle change the
// definition asks for) in one conditional write.
func (s *Service) store(ctx context.Context, p *parsed, mode parseMode) error {
	loc := p.def.Location()
	if e := s.checkKeyspaces(loc, p.def); e != nil {
		return e
	}
	if e := s.checkCode(loc, p.def); e != nil {
		return e
	}
	_, err := s.update(ctx, loc, true, func(cur *current) (*change, error) {
		next := p.def.clone()
		status := StatusUndeployed
		if cur.exists {
			status = cur.status()
			next.HandlerUUID = cur.def.HandlerUUID
			next.FunctionInstanceID = cur.def.FunctionInstanceID
			next.restoreSecrets(cur.def)
			if mode == modeImport && status != StatusUndeployed {
				return nil, newError(CodeAppNotUndeployed, "Function: %s is in %s state; undeploy it before importing over it", loc, status)
			}
			if status != StatusUndeployed && status != StatusPaused {
				return nil, newError(CodeInvalidRequest, "Function: %s is in %s state; its definition can only change when undeployed or paused", loc, status)
			}
		} else {
			id, err := s.newHandlerUUID()
			if err != nil {
				return nil, internalError(err, "Function: %s: cannot assign a handler uuid", loc)
			}
			instance, err := s.newInstanceID()
			if err != nil {
				return nil, internalError(err, "Function: %s: cannot create an instance id", loc)
			}
			next.HandlerUUID = id
			next.FunctionInstanceID = instance
		}
		op, e := opFor(status, p.target)
		if e != nil {
			return nil, e
		}
		if cur.exists {
			if e := checkChanges(scopeFor(status, op), cur.def, next); e != nil {
				return nil, e
			}
		}
		ch := &change{def: next}
		if !cur.exists {
			ch.status = StatusUndeployed
		}
		if op != opNone {
			tr, e := planTransition(loc, status, op)
			if e != nil {
				return nil, e
			}
			if tr.next == StatusDeploying && !s.globalConfig().AllowInterbucketRecursion {
				if e := s.checkRecursion(loc, next); e != nil {
					return nil, e
				}
			}
			ch.status, ch.newInstance, ch.drop = tr.next, tr.newInstance, tr.drop
		}
		return ch, nil
	})
	return err
}

// DeleteFunction removes an undeployed function. handlerUUID, when
// non-nil, must match the function's handleruuid.
func (s *Service) DeleteFunction(ctx context.Context, loc Location, handlerUUID *uint32) error {
	var lastErr error
	for attempt := 0; attempt <= s.retries; attempt++ {
		cur, err := s.mustRead(loc)
		if err != nil {
			return err
		}
		if handlerUUID != nil && *handlerUUID != cur.def.HandlerUUID {
			return newError(CodeAppNotFoundTS, "Function: %s with handleruuid %d not found", loc, *handlerUUID)
		}
		if cur.status() != StatusUndeployed {
			return newError(CodeAppNotUndeployed, "Function: %s skipping delete request as it hasn't been undeployed", loc)
		}
		err = s.backend.DeleteFunction(ctx, loc.String(), cur.rec.Version)
		switch {
		case err == nil:
			s.log.Info("function deleted", "function", loc.String())
			// The supervisor forgets a deleted function's counters when it
			// next reconciles; zero them now so that a function created
			// right away under the same name does not inherit them.
			if s.runtime != nil {
				_ = s.runtime.ResetStats(loc.String())
			}
			return nil
		case errors.Is(err, consensus.ErrVersionMismatch):
			lastErr = err
			continue
		case errors.Is(err, consensus.ErrFunctionNotFound):
			return notFound(loc)
		default:
			return backendError(err, "delete function %s", loc)
		}
	}
	return internalError(lastErr, "Function: %s was changed concurrently %d times; retry the request", loc, s.retries+1)
}

// DeleteAll deletes every function; those not undeployed fail individually.
func (s *Service) DeleteAll(ctx context.Context) []Result {
	recs := s.backend.Functions()
	out := make([]Result, 0, len(recs))
	for _, rec := range recs {
		loc := ParseLocation(rec.Name)
		r := Result{Function: rec.Name}
		if err := s.DeleteFunction(ctx, loc, nil); err != nil {
			r.Err = AsError(err)
		}
		out = append(out, r)
	}
	return out
}

// AppCode returns the function's handler code.
func (s *Service) AppCode(loc Location) (string, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return "", err
	}
	return cur.def.AppCode, nil
}

// AppCodeChecksum returns the hex SHA-256 of the handler code.
func (s *Service) AppCodeChecksum(loc Location) (string, error) {
	code, err := s.AppCode(loc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:]), nil
}

// deprecatedAPI and overloadable detect what /appcode warns about.
var (
	deprecatedAPI = regexp.MustCompile(`\bN1qlQuery\b`)
	builtinDecl   = regexp.MustCompile(`\bfunction\s+(log|curl|N1QL|createTimer|cancelTimer|crc64|N1qlQuery)\s*\(`)
)

// codeWarnings lists Couchbase's /appcode warnings for code.
func codeWarnings(code string) []string {
	var out []string
	if deprecatedAPI.MatchString(code) {
		out = append(out, `It uses the following APIs that are Deprecated: ["N1qlQuery"]`)
	}
	var names []string
	for _, m := range builtinDecl.FindAllStringSubmatch(code, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	if len(names) > 0 {
		list, _ := json.Marshal(names)
		out = append(out, "The following built-in APIs are Overloaded: "+string(list))
	}
	return out
}

// SetAppCode replaces the handler code of an undeployed or paused function
// and returns Couchbase's warnings about deprecated or overloaded APIs.
func (s *Service) SetAppCode(ctx context.Context, loc Location, code string) ([]string, error) {
	_, err := s.update(ctx, loc, false, func(cur *current) (*change, error) {
		if st := cur.status(); st != StatusUndeployed && st != StatusPaused {
			if st == StatusDeployed || st == StatusDeploying {
				return nil, newError(CodeInvalidRequest, "Function: %s is already deployed; undeploy or pause it before changing its code", loc)
			}
			return nil, newError(CodeInvalidRequest, "Function: %s is %s; its code can only change when undeployed or paused", loc, st)
		}
		if cur.def.AppCode == code {
			return nil, nil
		}
		next := cur.def.clone()
		next.AppCode = code
		if e := s.checkCode(loc, next); e != nil {
			return nil, e
		}
		return &change{def: next}, nil
	})
	if err != nil {
		return nil, err
	}
	return codeWarnings(code), nil
}

// KeyspaceRef is a keyspace in the 8.x deployment-config format.
type KeyspaceRef struct {
	BucketName     string `json:"bucket_name"`
	ScopeName      string `json:"scope_name"`
	CollectionName string `json:"collection_name"`
}

// DeploymentConfig is GET .../config: the source and metadata keyspaces.
type DeploymentConfig struct {
	SourceKeyspace KeyspaceRef `json:"source_keyspace"`
	MetaKeyspace   KeyspaceRef `json:"meta_keyspace"`
}

func keyspaceRef(ks docstore.Keyspace) KeyspaceRef {
	return KeyspaceRef{BucketName: ks.Bucket, ScopeName: ks.Scope, CollectionName: ks.Collection}
}

// DeploymentConfig returns the function's source and metadata keyspaces.
func (s *Service) DeploymentConfig(loc Location) (DeploymentConfig, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return DeploymentConfig{}, err
	}
	return DeploymentConfig{
		SourceKeyspace: keyspaceRef(cur.def.DepCfg.Source()),
		MetaKeyspace:   keyspaceRef(cur.def.DepCfg.Metadata()),
	}, nil
}

// SetDeploymentConfig replaces the function's depcfg (old format, bindings
// included). Keyspaces may change only while undeployed; bindings also
// while paused.
func (s *Service) SetDeploymentConfig(ctx context.Context, loc Location, body []byte) error {
	depcfg, e := parseDepCfg(loc.String(), body)
	if e != nil {
		return e
	}
	_, err := s.update(ctx, loc, false, func(cur *current) (*change, error) {
		status := cur.status()
		if status != StatusUndeployed && status != StatusPaused {
			return nil, newError(CodeInvalidRequest, "Function: %s is in %s state; its deployment config can only change when undeployed or paused", loc, status)
		}
		next := cur.def.clone()
		next.DepCfg = depcfg
		next.restoreSecrets(cur.def)
		if e := checkChanges(scopeFor(status, opNone), cur.def, next); e != nil {
			return nil, e
		}
		if e := s.checkKeyspaces(loc, next); e != nil {
			return nil, e
		}
		if e := s.checkCode(loc, next); e != nil {
			return nil, e
		}
		return &change{def: next}, nil
	})
	return err
}

// Settings returns the function's settings with the lifecycle flags
// derived from its status.
func (s *Service) Settings(loc Location) (Settings, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return Settings{}, err
	}
	return view(cur).Settings, nil
}

// compileKeys are the settings that change how the handler compiles.
var compileKeys = []string{"handler_headers", "handler_footers", "language_compatibility"}

// UpdateSettings merges a partial settings object into the function's
// settings. deployment_status/processing_status, when they differ from the
// function's state, deploy, pause, resume or undeploy it (the deprecated
// lifecycle API). Which settings may change depends on the state.
func (s *Service) UpdateSettings(ctx context.Context, loc Location, body []byte) error {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return newError(CodeUnmarshalPld, "settings must be a JSON object, got %s", abbreviate(body))
	}
	patch, e := parseSettingsPatch(body)
	if e != nil {
		return e
	}
	_, err := s.update(ctx, loc, false, func(cur *current) (*change, error) {
		status := cur.status()
		target := targetOf(status)
		if patch.deployment != nil {
			target.deploy = *patch.deployment
		}
		if patch.processing != nil {
			target.process = *patch.processing
		}
		op, e := opFor(status, target)
		if e != nil {
			return nil, e
		}
		next := cur.def.clone()
		changed := patch.apply(&next.Settings)
		if e := checkChanges(scopeFor(status, op), cur.def, next); e != nil {
			return nil, e
		}
		if len(changed) == 0 && op == opNone {
			return nil, nil
		}
		for _, k := range changed {
			if slices.Contains(compileKeys, k) {
				if e := s.checkCode(loc, next); e != nil {
					return nil, e
				}
				break
			}
		}
		ch := &change{}
		if len(changed) > 0 {
			ch.def = next
		}
		if op != opNone {
			tr, e := planTransition(loc, status, op)
			if e != nil {
				return nil, e
			}
			if tr.next == StatusDeploying {
				if e := s.checkDeployable(loc, next); e != nil {
					return nil, e
				}
			}
			ch.status, ch.newInstance, ch.drop = tr.next, tr.newInstance, tr.drop
			if ch.newInstance && ch.def == nil {
				ch.def = next
			}
		}
		return ch, nil
	})
	return err
}
