package library

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/dop251/goja"

	"eventide/consensus"
)

// Service is the libraries' model over the replicated records: writes
// validate and compile, then commit conditionally through Records; reads
// come from this node's replica, so any node serves any request.
type Service struct {
	cfg Config
	rec Records
	log *slog.Logger

	// mu guards cache: compiled programs by record ID, valid while the
	// record's version is the one they were compiled from.
	mu    sync.Mutex
	cache map[string]*compiled
}

// compiled is one library version's programs, compiled on first use: by
// function name in the functions form, under "" in the text form.
type compiled struct {
	version uint64
	progs   map[string]program
}

// program is one compiled program and its top-level functions.
type program struct {
	prog    *goja.Program
	exports []string
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Service{cfg: cfg, rec: cfg.Records, log: cfg.Logger.With("component", "query-libraries"), cache: make(map[string]*compiled)}, nil
}

// LibrarySpec is a library of the functions form as a client writes it.
type LibrarySpec struct {
	Name      string
	Functions []Function
}

// Read side.

// Library returns the library name of scope sc, if there is one.
func (s *Service) Library(sc Scope, name string) (Library, bool) {
	if checkScope(sc) != nil || checkLibraryName(name) != nil {
		return Library{}, false
	}
	l, err := s.get(sc, name)
	return l, err == nil
}

// Libraries returns every library: the global ones, then the scoped ones,
// each sorted by bucket, scope and name.
func (s *Service) Libraries() []Library {
	return s.decodeAll(s.rec.Records(table))
}

// LibrariesIn returns the libraries of one scope (the global ones for the
// zero Scope), sorted by name; an error only for a bad scope.
func (s *Service) LibrariesIn(sc Scope) ([]Library, error) {
	if err := checkScope(sc); err != nil {
		return nil, err
	}
	if !sc.IsGlobal() {
		return s.decodeAll(s.rec.RecordsWithPrefix(table, sc.Bucket+"/"+sc.Scope+"/")), nil
	}
	var out []Library
	for _, l := range s.Libraries() {
		if l.Scope.IsGlobal() {
			out = append(out, l)
		}
	}
	return out, nil
}

// Function returns the function object fn of a library, as the functions
// form shows it (ErrNotFound, ErrFunctionNotFound).
func (s *Service) Function(sc Scope, lib, fn string) (Function, error) {
	l, err := s.Lookup(sc, lib)
	if err != nil {
		return Function{}, err
	}
	f, ok := l.Function(fn)
	if !ok {
		return Function{}, functionNotFound(lib, fn)
	}
	return f, nil
}

// Program is a compiled library function, ready for the query engine: run
// Program once in a runtime, then call the global named Function.
type Program struct {
	Scope    Scope
	Library  string
	Function string
	// Program is compiled once and shared; it is immutable.
	Program *goja.Program
	// Version is the version of the library it was compiled from: a
	// caller's cache is stale when Library(...).Version differs.
	Version uint64
}

// Program returns the compiled program that defines function fn of a
// library: the text form's whole text (fn must be one of its top-level
// functions), or the code of the function object fn. ErrNotFound or
// ErrFunctionNotFound when there is none; a *CompileError only for a
// record written before a compiler change, since writes compile.
// Programs are compiled once per library version and cached.
func (s *Service) Program(sc Scope, lib, fn string) (Program, error) {
	id := recordID(sc, lib)
	l, err := s.Lookup(sc, lib)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			s.mu.Lock()
			delete(s.cache, id) // a deleted library's programs go too
			s.mu.Unlock()
		}
		return Program{}, err
	}
	p := Program{Scope: sc, Library: lib, Function: fn, Version: l.Version}
	key := fn
	if l.IsText() {
		key = "" // one program for the whole text
	}
	if prog, exports, ok := s.cached(id, l.Version, key); ok {
		if !slices.Contains(exports, fn) {
			return Program{}, notExported(l, fn)
		}
		p.Program = prog
		return p, nil
	}
	// Compile outside the lock: a large library must not hold up callers
	// of other libraries.
	var prog *goja.Program
	var exports []string
	if l.IsText() {
		prog, exports, err = compile(lib, "", l.Text)
	} else {
		i := slices.IndexFunc(l.Functions, func(f Function) bool { return f.Name == fn })
		if i < 0 {
			return Program{}, functionNotFound(lib, fn)
		}
		prog, exports, err = compile(lib, fn, l.Functions[i].Code)
	}
	if err != nil {
		return Program{}, err
	}
	prog, exports = s.store(id, l.Version, key, prog, exports)
	if !slices.Contains(exports, fn) {
		return Program{}, notExported(l, fn)
	}
	p.Program = prog
	return p, nil
}

// notExported is the error for a program that does not declare fn at
// its top level.
func notExported(l Library, fn string) error {
	if l.IsText() {
		return functionNotFound(l.Name, fn)
	}
	return errorf(ErrFunctionNotFound, "Function [%s] of library [%s] defines no top-level JavaScript function named %s", fn, l.Name, fn)
}

// cached returns the program of key ("" for a text library) compiled from
// version of library id.
func (s *Service) cached(id string, version uint64, key string) (*goja.Program, []string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cache[id]
	if c == nil || c.version != version {
		return nil, nil, false
	}
	e, ok := c.progs[key]
	return e.prog, e.exports, ok
}

// store caches a program compiled from version of library id, dropping
// programs of older versions.
// It returns the program cached for that version: the first one stored
// wins, so callers that compiled the same version at once share one
// program (its warm runtimes are keyed by it).
func (s *Service) store(id string, version uint64, key string, prog *goja.Program, exports []string) (*goja.Program, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cache[id]
	switch {
	case c == nil || c.version < version:
		c = &compiled{version: version, progs: make(map[string]program)}
		s.cache[id] = c
	case c.version > version:
		return prog, exports // a newer version was cached meanwhile
	}
	if have, ok := c.progs[key]; ok {
		return have.prog, have.exports
	}
	c.progs[key] = program{prog, exports}
	return prog, exports
}

// Lookup is Library with the reason when there is none: a bad scope or
// name, or ErrNotFound.
func (s *Service) Lookup(sc Scope, name string) (Library, error) {
	if err := checkScope(sc); err != nil {
		return Library{}, err
	}
	if err := checkLibraryName(name); err != nil {
		return Library{}, err
	}
	return s.get(sc, name)
}

func (s *Service) get(sc Scope, name string) (Library, error) {
	r, err := s.rec.Record(table, recordID(sc, name))
	if errors.Is(err, consensus.ErrRecordNotFound) {
		return Library{}, libraryNotFound(name)
	}
	if err != nil {
		return Library{}, err
	}
	var body record
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return Library{}, fmt.Errorf("library: decode %s: %w", r.ID, err)
	}
	return body.library(r.Version), nil
}

func (s *Service) decodeAll(rs []consensus.Record) []Library {
	out := make([]Library, 0, len(rs))
	for _, r := range rs {
		var body record
		if err := json.Unmarshal(r.Body, &body); err != nil {
			s.log.Warn("undecodable library record skipped", "id", r.ID, "err", err)
			continue
		}
		out = append(out, body.library(r.Version))
	}
	slices.SortFunc(out, func(a, b Library) int {
		return cmp.Or(cmp.Compare(a.Scope.Bucket, b.Scope.Bucket), cmp.Compare(a.Scope.Scope, b.Scope.Scope), strings.Compare(a.Name, b.Name))
	})
	return out
}

func libraryNotFound(name string) error {
	return errorf(ErrNotFound, "Library [%s] not found", name)
}

func functionNotFound(lib, fn string) error {
	return errorf(ErrFunctionNotFound, "Function [%s] not found in library [%s]", fn, lib)
}
