package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"eventide/consensus"
)

// maxAttempts bounds how often a write rebuilds after losing a condition
// to a concurrent writer. Each attempt reads a replica that has applied
// the write it lost to (PutRecords returns after this node applied the
// command, rejected or not), so attempts make progress.
const maxAttempts = 10

// commit builds conditional record changes from this node's replica and
// applies them all or none, rebuilding when another writer got there
// first. No change at all is a success.
func (s *Service) commit(ctx context.Context, build func() ([]consensus.RecordChange, error)) error {
	for range maxAttempts {
		changes, err := build()
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		_, err = s.rec.PutRecords(ctx, changes...)
		switch {
		case err == nil:
			s.log.Debug("libraries written", "changes", len(changes))
			return nil
		case errors.Is(err, consensus.ErrRecordVersion), errors.Is(err, consensus.ErrRecordExists), errors.Is(err, consensus.ErrRecordNotFound):
			continue
		case errors.Is(err, consensus.ErrTooLarge):
			return errorf(ErrTooLarge, "The request is too large to replicate in one write: %v", err)
		default:
			return fmt.Errorf("library: write: %w", err)
		}
	}
	return errorf(ErrConflict, "The libraries kept changing concurrently; try again")
}

// current reads the record of a library: its body and version, or nil
// and 0 when there is none.
func (s *Service) current(id string) (*record, uint64, error) {
	r, err := s.rec.Record(table, id)
	if errors.Is(err, consensus.ErrRecordNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var body record
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return nil, 0, fmt.Errorf("library: decode %s: %w", r.ID, err)
	}
	return &body, r.Version, nil
}

// putChange is the conditional write of body over the record at version
// (0: there must be none).
func putChange(id string, version uint64, body *record) consensus.RecordChange {
	b, err := json.Marshal(body)
	if err != nil {
		// A record of strings always marshals.
		panic(fmt.Sprintf("library: marshal record %s: %v", id, err))
	}
	return consensus.RecordChange{Table: table, ID: id, ExpectVersion: version, Body: b}
}

func deleteChange(id string, version uint64) consensus.RecordChange {
	return consensus.RecordChange{Table: table, ID: id, ExpectVersion: version, Delete: true}
}

// checkWriteScope validates sc and requires its scope to exist.
func (s *Service) checkWriteScope(sc Scope) error {
	if err := checkScope(sc); err != nil {
		return err
	}
	if !sc.IsGlobal() && !s.cfg.ScopeExists(sc.Bucket, sc.Scope) {
		return errorf(ErrScopeNotFound, "Scope [%s] not found", sc)
	}
	return nil
}

// checkFunctions validates function objects as a client gives them and
// compiles each one's code.
func checkFunctions(lib string, fns []Function) error {
	seen := make(map[string]bool, len(fns))
	for _, f := range fns {
		if err := checkFunctionName(f.Name); err != nil {
			return err
		}
		if seen[f.Name] {
			return errorf(ErrInvalid, "Function [%s] is given twice for library [%s]", f.Name, lib)
		}
		seen[f.Name] = true
		if f.ID != "" && !validID(f.ID) {
			return errorf(ErrInvalid, "Function [%s] has id %q; an id has the form xx:xx:xx:xx:xx:xx:xx:xx (hexadecimal)", f.Name, truncate(f.ID))
		}
		if strings.TrimSpace(f.Code) == "" {
			return errorf(ErrInvalid, "Function [%s] of library [%s] has no code", f.Name, lib)
		}
		if _, _, err := compile(lib, f.Name, f.Code); err != nil {
			return err
		}
	}
	return nil
}

// checkSpec validates a functions-form library as a client gives it.
func checkSpec(spec LibrarySpec) error {
	if err := checkLibraryName(spec.Name); err != nil {
		return err
	}
	return checkFunctions(spec.Name, spec.Functions)
}

// merge adds fns to cur (nil: a new library) the functions form's way: an
// object of an existing name is overwritten in place, a new one appended.
// A text library first becomes the objects it shows (FunctionObjects).
// An object given without an id keeps its old one if its code is
// unchanged, else gets a new one.
func merge(cur *record, sc Scope, name string, fns []Function) *record {
	next := newRecord(sc, name)
	if cur != nil {
		next.Functions = cur.library(0).FunctionObjects()
	}
	for _, f := range fns {
		i := slices.IndexFunc(next.Functions, func(o Function) bool { return o.Name == f.Name })
		if f.ID == "" {
			if i >= 0 && next.Functions[i].Code == f.Code {
				f.ID = next.Functions[i].ID
			} else {
				f.ID = newFunctionID()
			}
		}
		if i >= 0 {
			next.Functions[i] = f
		} else {
			next.Functions = append(next.Functions, f)
		}
	}
	return next
}

// checkSize refuses a library over the configured size.
func (s *Service) checkSize(r *record) error {
	if n := r.size(); n > s.cfg.MaxLibraryBytes {
		return errorf(ErrTooLarge, "Library [%s] has %d bytes of code, more than the %d allowed", r.Name, n, s.cfg.MaxLibraryBytes)
	}
	return nil
}

// AppendLibrary creates library spec in scope sc, or adds its functions
// to the existing one, overwriting those of the same name (POST
// /functions/v1/libraries/{library}).
func (s *Service) AppendLibrary(ctx context.Context, sc Scope, spec LibrarySpec) error {
	return s.writeSpecs(ctx, sc, []LibrarySpec{spec}, false, false)
}

// ReplaceLibrary creates library spec in scope sc, or replaces the
// existing one's functions with spec's (PUT
// /functions/v1/libraries/{library}).
func (s *Service) ReplaceLibrary(ctx context.Context, sc Scope, spec LibrarySpec) error {
	return s.writeSpecs(ctx, sc, []LibrarySpec{spec}, true, false)
}

// AppendLibraries is AppendLibrary for several global libraries at once,
// all or none (POST /functions/v1/libraries).
func (s *Service) AppendLibraries(ctx context.Context, specs []LibrarySpec) error {
	return s.writeSpecs(ctx, Scope{}, specs, false, false)
}

// ReplaceAllLibraries makes specs the only global libraries, all or none
// (PUT /functions/v1/libraries). Scoped libraries are untouched: that API
// knows only the global namespace.
func (s *Service) ReplaceAllLibraries(ctx context.Context, specs []LibrarySpec) error {
	return s.writeSpecs(ctx, Scope{}, specs, true, true)
}

// DeleteAllLibraries deletes every global library (DELETE
// /functions/v1/libraries); scoped ones are untouched, as for
// ReplaceAllLibraries.
func (s *Service) DeleteAllLibraries(ctx context.Context) error {
	return s.writeSpecs(ctx, Scope{}, nil, true, true)
}

// writeSpecs validates and compiles specs, then, in one write: merges
// each into its library (or replaces it), and with all, deletes the
// scope's other libraries.
func (s *Service) writeSpecs(ctx context.Context, sc Scope, specs []LibrarySpec, replace, all bool) error {
	if err := s.checkWriteScope(sc); err != nil {
		return err
	}
	names := make(map[string]bool, len(specs))
	for _, spec := range specs {
		if err := checkSpec(spec); err != nil {
			return err
		}
		if names[spec.Name] {
			return errorf(ErrInvalid, "Library [%s] is given twice", spec.Name)
		}
		names[spec.Name] = true
	}
	return s.commit(ctx, func() ([]consensus.RecordChange, error) {
		var changes []consensus.RecordChange
		for _, spec := range specs {
			id := recordID(sc, spec.Name)
			cur, ver, err := s.current(id)
			if err != nil {
				return nil, err
			}
			base := cur
			if replace {
				base = nil
			}
			next := merge(base, sc, spec.Name, spec.Functions)
			if err := s.checkSize(next); err != nil {
				return nil, err
			}
			changes = append(changes, putChange(id, ver, next))
		}
		if all {
			libs, err := s.LibrariesIn(sc)
			if err != nil {
				return nil, err
			}
			for _, l := range libs {
				if !names[l.Name] {
					changes = append(changes, deleteChange(recordID(sc, l.Name), l.Version))
				}
			}
		}
		return changes, nil
	})
}

// PutFunction creates or overwrites function fn of library lib, creating
// the library if needed (POST and PUT
// /functions/v1/libraries/{library}/functions/{function}).
func (s *Service) PutFunction(ctx context.Context, sc Scope, lib string, fn Function) error {
	return s.writeSpecs(ctx, sc, []LibrarySpec{{Name: lib, Functions: []Function{fn}}}, false, false)
}

// DeleteFunction removes function fn from library lib; the library stays,
// even when empty (DELETE
// /functions/v1/libraries/{library}/functions/{function}). A text library
// loses the function's declaration by becoming the objects it shows,
// without the deleted one.
func (s *Service) DeleteFunction(ctx context.Context, sc Scope, lib, fn string) error {
	if err := checkScope(sc); err != nil {
		return err
	}
	if err := checkLibraryName(lib); err != nil {
		return err
	}
	return s.commit(ctx, func() ([]consensus.RecordChange, error) {
		id := recordID(sc, lib)
		cur, ver, err := s.current(id)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, libraryNotFound(lib)
		}
		fns := cur.library(ver).FunctionObjects()
		i := slices.IndexFunc(fns, func(f Function) bool { return f.Name == fn })
		if i < 0 {
			return nil, functionNotFound(lib, fn)
		}
		next := newRecord(sc, lib)
		next.Functions = slices.Delete(fns, i, i+1)
		return []consensus.RecordChange{putChange(id, ver, next)}, nil
	})
}

// DeleteLibrary deletes a library (ErrNotFound when there is none).
func (s *Service) DeleteLibrary(ctx context.Context, sc Scope, name string) error {
	if err := checkScope(sc); err != nil {
		return err
	}
	if err := checkLibraryName(name); err != nil {
		return err
	}
	return s.commit(ctx, func() ([]consensus.RecordChange, error) {
		id := recordID(sc, name)
		cur, ver, err := s.current(id)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, libraryNotFound(name)
		}
		return []consensus.RecordChange{deleteChange(id, ver)}, nil
	})
}

// PutText creates library name of scope sc in the text form, or replaces
// the existing one whole (POST /evaluator/v1/libraries/{library}).
func (s *Service) PutText(ctx context.Context, sc Scope, name, text string) error {
	if err := s.checkWriteScope(sc); err != nil {
		return err
	}
	if err := checkLibraryName(name); err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return errorf(ErrInvalid, "Library [%s] has no code", name)
	}
	next := newRecord(sc, name)
	next.Text = text
	if err := s.checkSize(next); err != nil {
		return err
	}
	if _, _, err := compile(name, "", text); err != nil {
		return err
	}
	return s.commit(ctx, func() ([]consensus.RecordChange, error) {
		id := recordID(sc, name)
		_, ver, err := s.current(id)
		if err != nil {
			return nil, err
		}
		return []consensus.RecordChange{putChange(id, ver, next)}, nil
	})
}
