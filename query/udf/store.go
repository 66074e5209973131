package udf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"eventide/consensus"
	"eventide/query/engine"
	"eventide/query/library"
)

// Service keeps the user-defined functions and runs the JavaScript ones;
// it implements engine.Functions. Safe for concurrent use.
type Service struct {
	cfg  Config
	rec  Records
	libs Libraries
	log  *slog.Logger

	// defsMu guards defs: decoded definitions by record ID, valid while
	// the record's version is the one they were decoded from.
	defsMu sync.RWMutex
	defs   map[string]decoded

	js *runner
}

var _ engine.Functions = (*Service)(nil)

type decoded struct {
	version uint64
	def     engine.FunctionDef
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Service{cfg: cfg, rec: cfg.Records, libs: cfg.Libraries, log: cfg.Logger.With("component", "query-functions"), defs: make(map[string]decoded)}
	s.js = newRunner(cfg)
	return s, nil
}

// Close closes the warm runtimes; calls after Close still work, on
// runtimes made for them.
func (s *Service) Close() { s.js.closeAll() }

// record is a function's replicated body.
type record struct {
	Namespace  string   `json:"namespace"`
	Bucket     string   `json:"bucket,omitempty"`
	Scope      string   `json:"scope,omitempty"`
	Name       string   `json:"name"`
	Params     []string `json:"params"`
	Variadic   bool     `json:"variadic,omitempty"`
	Language   string   `json:"language"`
	Expression string   `json:"expression,omitempty"`
	Library    string   `json:"library,omitempty"`
	Object     string   `json:"object,omitempty"`
	Code       string   `json:"code,omitempty"`
}

func toRecord(d engine.FunctionDef) *record {
	return &record{Namespace: d.Name.Namespace, Bucket: d.Name.Bucket, Scope: d.Name.Scope, Name: d.Name.Name,
		Params: d.Params, Variadic: d.Variadic, Language: d.Language, Expression: d.Expression,
		Library: d.Library, Object: d.Object, Code: d.Code}
}

func (r *record) def() engine.FunctionDef {
	return engine.FunctionDef{
		Name:   engine.FunctionName{Namespace: r.Namespace, Bucket: r.Bucket, Scope: r.Scope, Name: r.Name},
		Params: r.Params, Variadic: r.Variadic, Language: r.Language, Expression: r.Expression,
		Library: r.Library, Object: r.Object, Code: r.Code,
	}
}

// check validates a definition as CREATE FUNCTION gives it and returns it
// normalized (default namespace); an inline JavaScript function's code is
// compiled, so that code that cannot load is refused now, as Couchbase
// does, while a library function's library need not exist yet: its
// absence is an error of the call.
func (s *Service) check(def engine.FunctionDef) (engine.FunctionDef, error) {
	name, err := normalize(def.Name)
	if err != nil {
		return def, err
	}
	def.Name = name
	full := displayName(name)
	invalid := func(why string) error {
		return newError(ErrInvalidDefinition, codeEncoding, nil, "Could not encode function definition for '%s' because %s", full, why)
	}
	seen := make(map[string]bool, len(def.Params))
	for _, p := range def.Params {
		if !validName(p) {
			return def, invalid(fmt.Sprintf("parameter %q is not a valid name", p))
		}
		if seen[p] {
			return def, invalid(fmt.Sprintf("parameter %q is given twice", p))
		}
		seen[p] = true
	}
	if def.Variadic && len(def.Params) > 0 {
		return def, invalid("a variadic function has no named parameters")
	}
	switch def.Language {
	case engine.LanguageInline:
		if strings.TrimSpace(def.Expression) == "" {
			return def, invalid("an inline function needs an expression")
		}
		if def.Library != "" || def.Object != "" || def.Code != "" {
			return def, invalid("an inline function has no JavaScript")
		}
	case engine.LanguageJavaScript:
		if def.Expression != "" {
			return def, invalid("a JavaScript function has no SQL++ expression")
		}
		switch {
		case def.Code != "" && def.Library == "" && def.Object == "":
			if _, err := s.js.inlineProgram(def); err != nil {
				return def, err
			}
		case def.Code == "" && def.Library != "" && def.Object != "":
			if _, _, err := library.ResolvePath(scopeOf(name), def.Library); err != nil {
				return def, newError(ErrLibraryPath, codeLibraryPath, nil, "%s", err.Error())
			}
		default:
			return def, invalid("a JavaScript function needs either its code, or a library and an object")
		}
	default:
		return def, invalid(fmt.Sprintf("language %q is not supported", def.Language))
	}
	def.Params = slices.Clone(def.Params)
	return def, nil
}

// maxAttempts bounds how often a write rebuilds after losing a condition
// to a concurrent writer; each attempt reads a replica that has applied
// the write it lost to, so attempts make progress.
const maxAttempts = 10

// Create stores def (CREATE [OR REPLACE] FUNCTION ... [IF NOT EXISTS]):
// an existing function of the same name is an error (10102) unless
// orReplace (it is replaced) or ifNotExists (nothing changes; it wins
// over orReplace).
func (s *Service) Create(ctx context.Context, def engine.FunctionDef, orReplace, ifNotExists bool) error {
	def, err := s.check(def)
	if err != nil {
		return err
	}
	if !isGlobal(def.Name) && !s.cfg.ScopeExists(def.Name.Bucket, def.Name.Scope) {
		sc := def.Name.Namespace + ":" + def.Name.Bucket + "." + def.Name.Scope
		return newError(ErrScopeNotFound, codeScopeNotFound, map[string]any{"scope": sc}, "Scope not found in CB datastore %s", sc)
	}
	body, err := json.Marshal(toRecord(def))
	if err != nil {
		return newError(ErrInvalidDefinition, codeEncoding, nil, "Could not encode function definition for '%s' because %v", displayName(def.Name), err)
	}
	id := recordID(def.Name)
	return s.commit(ctx, def.Name, func() (*consensus.RecordChange, error) {
		cur, err := s.rec.Record(table, id)
		switch {
		case errors.Is(err, consensus.ErrRecordNotFound):
			return &consensus.RecordChange{Table: table, ID: id, Body: body}, nil
		case err != nil:
			return nil, err
		case ifNotExists:
			return nil, nil
		case !orReplace:
			return nil, newError(ErrExists, codeDuplicate, nil, "Function '%s' already exists", def.Name.Name)
		}
		return &consensus.RecordChange{Table: table, ID: id, ExpectVersion: cur.Version, Body: body}, nil
	})
}

// Drop deletes a function (DROP FUNCTION ... [IF EXISTS]): a missing one
// is an error (10101) unless ifExists.
func (s *Service) Drop(ctx context.Context, name engine.FunctionName, ifExists bool) error {
	name, err := normalize(name)
	if err != nil {
		return err
	}
	id := recordID(name)
	return s.commit(ctx, name, func() (*consensus.RecordChange, error) {
		cur, err := s.rec.Record(table, id)
		switch {
		case errors.Is(err, consensus.ErrRecordNotFound) && ifExists:
			return nil, nil
		case errors.Is(err, consensus.ErrRecordNotFound):
			return nil, newError(ErrNotFound, codeMissing, nil, "Function '%s' not found", name.Name)
		case err != nil:
			return nil, err
		}
		return &consensus.RecordChange{Table: table, ID: id, ExpectVersion: cur.Version, Delete: true}, nil
	})
}

// commit applies the change build makes from this node's replica (none:
// nothing to do), rebuilding when a concurrent writer got there first.
func (s *Service) commit(ctx context.Context, name engine.FunctionName, build func() (*consensus.RecordChange, error)) error {
	storage := func(err error) error {
		e := newError(ErrStorage, codeStorage, nil, "Could not access function definition for %s because %v", displayName(name), err)
		e.Cause = err
		return e
	}
	for range maxAttempts {
		ch, err := build()
		var ue *Error
		switch {
		case errors.As(err, &ue):
			return err
		case err != nil:
			return storage(err)
		case ch == nil:
			return nil
		}
		_, err = s.rec.PutRecords(ctx, *ch)
		switch {
		case err == nil:
			s.log.Debug("function written", "function", displayName(name), "delete", ch.Delete)
			return nil
		case errors.Is(err, consensus.ErrRecordVersion), errors.Is(err, consensus.ErrRecordExists), errors.Is(err, consensus.ErrRecordNotFound):
			continue
		default:
			return storage(err)
		}
	}
	return storage(errors.New("the function kept changing concurrently; try again"))
}

// Get returns a function's definition from this node's replica.
func (s *Service) Get(name engine.FunctionName) (engine.FunctionDef, bool) {
	name, err := normalize(name)
	if err != nil {
		return engine.FunctionDef{}, false
	}
	id := recordID(name)
	r, err := s.rec.Record(table, id)
	if err != nil {
		s.defsMu.RLock()
		_, cached := s.defs[id]
		s.defsMu.RUnlock()
		if cached { // dropped: forget its decoded definition
			s.defsMu.Lock()
			delete(s.defs, id)
			s.defsMu.Unlock()
		}
		return engine.FunctionDef{}, false
	}
	def, ok := s.decode(r)
	return def, ok
}

// decode returns a record's definition, decoding it once per version.
func (s *Service) decode(r consensus.Record) (engine.FunctionDef, bool) {
	s.defsMu.RLock()
	d, ok := s.defs[r.ID]
	s.defsMu.RUnlock()
	if ok && d.version == r.Version {
		return cloneDef(d.def), true
	}
	var body record
	if err := json.Unmarshal(r.Body, &body); err != nil {
		s.log.Warn("undecodable function record skipped", "id", r.ID, "err", err)
		return engine.FunctionDef{}, false
	}
	def := body.def()
	s.defsMu.Lock()
	if cur, ok := s.defs[r.ID]; !ok || cur.version < r.Version {
		s.defs[r.ID] = decoded{r.Version, def}
	}
	s.defsMu.Unlock()
	return cloneDef(def), true
}

// cloneDef copies the one mutable part of a definition, so callers cannot
// change the cached one.
func cloneDef(d engine.FunctionDef) engine.FunctionDef {
	d.Params = slices.Clone(d.Params)
	return d
}

// List returns every function: the global ones, then the scoped ones,
// ordered by bucket, scope and name.
func (s *Service) List() []engine.FunctionDef {
	rs := s.rec.Records(table)
	out := make([]engine.FunctionDef, 0, len(rs))
	live := make(map[string]bool, len(rs))
	for _, r := range rs {
		live[r.ID] = true
		if d, ok := s.decode(r); ok {
			out = append(out, d)
		}
	}
	// Forget the decoded definitions of dropped functions.
	s.defsMu.Lock()
	for id := range s.defs {
		if !live[id] {
			delete(s.defs, id)
		}
	}
	s.defsMu.Unlock()
	slices.SortFunc(out, func(a, b engine.FunctionDef) int { return compareNames(a.Name, b.Name) })
	return out
}
