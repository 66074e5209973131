package qinling

import (
	"context"
	"strings"

	"github.com/google/uuid"
)

// maxField bounds names, descriptions and images.
const maxField = 255

// engineFor returns the engine of a runtime image, or a 400 when none.
func (s *Service) engineFor(image string) (Engine, error) {
	if e := s.cfg.Engines(image); e != nil {
		return e, nil
	}
	return nil, badRequest("no engine on this node runs runtime image %q", image)
}

// runtimeView adds this node's status to a stored runtime.
func (s *Service) runtimeView(r Runtime) Runtime {
	r.Status, r.StatusReason = RuntimeAvailable, ""
	e := s.cfg.Engines(r.Image)
	switch {
	case e == nil:
		r.Status, r.StatusReason = RuntimeError, "no engine on this node runs image "+r.Image
	default:
		if err := e.Available(); err != nil {
			r.Status, r.StatusReason = RuntimeError, err.Error()
		}
	}
	return r
}

// runtime returns a runtime the caller sees (public, its project's, or
// any for the administrator).
func (s *Service) runtime(c Caller, id string) (Runtime, uint64, error) {
	r, ver, err := getRec[Runtime](s, tableRuntimes, id, "runtime")
	if err != nil {
		return Runtime{}, 0, err
	}
	if !r.IsPublic && !visible(c, r.ProjectID) {
		return Runtime{}, 0, notFound("runtime", id)
	}
	return r, ver, nil
}

func checkField(name, v string, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return badRequest("%s is required", name)
	case len(v) > maxField:
		return badRequest("%s is longer than %d bytes", name, maxField)
	}
	return nil
}

// CreateRuntime creates a runtime (administrator only: 403 otherwise).
// The image must select an engine of this node (400 otherwise).
func (s *Service) CreateRuntime(ctx context.Context, c Caller, spec RuntimeSpec) (Runtime, error) {
	if err := checkCaller(c); err != nil {
		return Runtime{}, err
	}
	if err := adminOnly(c, "create runtimes"); err != nil {
		return Runtime{}, err
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"name", spec.Name, true}, {"image", spec.Image, true}, {"description", spec.Description, false}} {
		if err := checkField(f.name, f.v, f.required); err != nil {
			return Runtime{}, err
		}
	}
	if _, err := s.engineFor(spec.Image); err != nil {
		return Runtime{}, err
	}
	r := Runtime{
		ID:          uuid.NewString(),
		Name:        spec.Name,
		Description: NullString(spec.Description),
		Image:       spec.Image,
		IsPublic:    spec.IsPublic == nil || *spec.IsPublic,
		Trusted:     spec.Trusted == nil || *spec.Trusted,
		ProjectID:   c.ProjectID,
		CreatedAt:   Time{s.now()},
	}
	if _, err := s.write(ctx, putChange(tableRuntimes, r.ID, 0, r)); err != nil {
		return Runtime{}, err
	}
	return s.runtimeView(r), nil
}

// ListRuntimes lists the runtimes the caller sees: public ones and its
// project's (the administrator's all_projects: every one).
func (s *Service) ListRuntimes(ctx context.Context, c Caller, opts ListOptions) ([]Runtime, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	var out []Runtime
	for _, r := range listRecs[Runtime](s, tableRuntimes, "") {
		if r.IsPublic && !(c.Admin && opts.AllProjects && opts.ProjectID != "") || inList(c, opts, r.ProjectID) {
			out = append(out, s.runtimeView(r))
		}
	}
	sortByCreated(out, func(r Runtime) (Time, string) { return r.CreatedAt, r.ID })
	return out, nil
}

// GetRuntime returns one runtime.
func (s *Service) GetRuntime(ctx context.Context, c Caller, id string) (Runtime, error) {
	if err := checkCaller(c); err != nil {
		return Runtime{}, err
	}
	r, _, err := s.runtime(c, id)
	if err != nil {
		return Runtime{}, err
	}
	return s.runtimeView(r), nil
}

// RuntimePool reports the warm-worker capacity of the runtime's engine on
// this node.
func (s *Service) RuntimePool(ctx context.Context, c Caller, id string) (RuntimePool, error) {
	if err := checkCaller(c); err != nil {
		return RuntimePool{}, err
	}
	r, _, err := s.runtime(c, id)
	if err != nil {
		return RuntimePool{}, err
	}
	p := RuntimePool{Name: r.ID}
	if e := s.cfg.Engines(r.Image); e != nil {
		info := e.Pool()
		p.Capacity = PoolCapacity{Total: info.Total, Available: info.Available}
	}
	return p, nil
}

// UpdateRuntime changes a runtime (administrator only); its image may
// change only to one an engine of this node runs, and not while functions
// use the runtime (their warm code would run on the wrong engine).
func (s *Service) UpdateRuntime(ctx context.Context, c Caller, id string, u RuntimeUpdate) (Runtime, error) {
	if err := checkCaller(c); err != nil {
		return Runtime{}, err
	}
	if err := adminOnly(c, "update runtimes"); err != nil {
		return Runtime{}, err
	}
	r, ver, err := s.runtime(c, id)
	if err != nil {
		return Runtime{}, err
	}
	if u.Name != nil {
		if err := checkField("name", *u.Name, true); err != nil {
			return Runtime{}, err
		}
		r.Name = *u.Name
	}
	if u.Description != nil {
		if err := checkField("description", *u.Description, false); err != nil {
			return Runtime{}, err
		}
		r.Description = NullString(*u.Description)
	}
	if u.Image != nil && *u.Image != r.Image {
		if err := checkField("image", *u.Image, true); err != nil {
			return Runtime{}, err
		}
		if _, err := s.engineFor(*u.Image); err != nil {
			return Runtime{}, err
		}
		if n := s.functionsUsing(id); n > 0 {
			return Runtime{}, errorf(403, "runtime %s is still in use by %d function(s)", id, n)
		}
		r.Image = *u.Image
	}
	r.UpdatedAt = Time{s.now()}
	if _, err := s.write(ctx, putChange(tableRuntimes, id, ver, r)); err != nil {
		return Runtime{}, err
	}
	return s.runtimeView(r), nil
}

// functionsUsing counts the functions of any project on runtime id.
func (s *Service) functionsUsing(id string) int {
	n := 0
	for _, f := range listRecs[Function](s, tableFunctions, "") {
		if string(f.RuntimeID) == id {
			n++
		}
	}
	return n
}

// DeleteRuntime deletes a runtime (administrator only); refused (403, as
// Qinling) while functions use it.
func (s *Service) DeleteRuntime(ctx context.Context, c Caller, id string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	if err := adminOnly(c, "delete runtimes"); err != nil {
		return err
	}
	_, ver, err := s.runtime(c, id)
	if err != nil {
		return err
	}
	if n := s.functionsUsing(id); n > 0 {
		return errorf(403, "runtime %s is still in use by %d function(s)", id, n)
	}
	_, err = s.write(ctx, deleteChange(tableRuntimes, id, ver))
	return err
}
