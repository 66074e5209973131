package qinling

import (
	"context"
	"net/http"

	"eventide/consensus"
)

// aliasID is an alias record's id: names are unique per project.
func aliasID(projectID, name string) string { return projectID + "/" + name }

// alias returns the caller's project's alias name.
func (s *Service) alias(c Caller, name string) (Alias, uint64, error) {
	return getRec[Alias](s, tableAliases, aliasID(c.ProjectID, name), "alias")
}

// target checks that the caller sees function id and its version n (0:
// the latest code) and returns guards of both records, so the batch that
// points at them fails if they are deleted meanwhile.
func (s *Service) target(c Caller, id string, n int) (Function, []consensus.RecordChange, error) {
	if id == "" {
		return Function{}, nil, badRequest("function_id is required")
	}
	if n < 0 {
		return Function{}, nil, badRequest("function_version must not be negative")
	}
	f, fver, err := s.function(c, id)
	if err != nil {
		return Function{}, nil, badRequest("function %s not found", id)
	}
	guards := []consensus.RecordChange{guard(tableFunctions, f.ID, fver, f)}
	if n > 0 {
		v, vver, err := s.version(f, n)
		if err != nil {
			return Function{}, nil, badRequest("version %d of function %s not found", n, id)
		}
		guards = append(guards, guard(tableVersions, versionID(f.ID, n), vver, v))
	}
	return f, guards, nil
}

// CreateAlias creates an alias; 409 when the name is taken in the project.
func (s *Service) CreateAlias(ctx context.Context, c Caller, spec AliasSpec) (Alias, error) {
	if err := checkCaller(c); err != nil {
		return Alias{}, err
	}
	if err := checkField("name", spec.Name, true); err != nil {
		return Alias{}, err
	}
	if err := checkField("description", spec.Description, false); err != nil {
		return Alias{}, err
	}
	if _, _, err := s.alias(c, spec.Name); err == nil {
		return Alias{}, conflict("alias %s already exists", spec.Name)
	}
	_, guards, err := s.target(c, spec.FunctionID, spec.FunctionVersion)
	if err != nil {
		return Alias{}, err
	}
	a := Alias{
		Name:            spec.Name,
		FunctionID:      spec.FunctionID,
		FunctionVersion: spec.FunctionVersion,
		Description:     NullString(spec.Description),
		ProjectID:       c.ProjectID,
		CreatedAt:       Time{s.now()},
	}
	if _, err := s.write(ctx, append(guards, putChange(tableAliases, aliasID(c.ProjectID, a.Name), 0, a))...); err != nil {
		return Alias{}, err
	}
	return a, nil
}

// ListAliases lists aliases.
func (s *Service) ListAliases(ctx context.Context, c Caller, opts ListOptions) ([]Alias, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	var out []Alias
	for _, a := range listRecs[Alias](s, tableAliases, "") {
		if inList(c, opts, a.ProjectID) {
			out = append(out, a)
		}
	}
	sortByCreated(out, func(a Alias) (Time, string) { return a.CreatedAt, a.ProjectID + "/" + a.Name })
	return out, nil
}

// GetAlias returns one alias of the caller's project by name.
func (s *Service) GetAlias(ctx context.Context, c Caller, name string) (Alias, error) {
	if err := checkCaller(c); err != nil {
		return Alias{}, err
	}
	a, _, err := s.alias(c, name)
	return a, err
}

// UpdateAlias moves or describes an alias.
func (s *Service) UpdateAlias(ctx context.Context, c Caller, name string, u AliasUpdate) (Alias, error) {
	if err := checkCaller(c); err != nil {
		return Alias{}, err
	}
	a, ver, err := s.alias(c, name)
	if err != nil {
		return Alias{}, err
	}
	if u.Description != nil {
		if err := checkField("description", *u.Description, false); err != nil {
			return Alias{}, err
		}
		a.Description = NullString(*u.Description)
	}
	var guards []consensus.RecordChange
	if u.FunctionID != nil || u.FunctionVersion != nil {
		if u.FunctionID != nil {
			a.FunctionID = *u.FunctionID
		}
		if u.FunctionVersion != nil {
			a.FunctionVersion = *u.FunctionVersion
		}
		if _, guards, err = s.target(c, a.FunctionID, a.FunctionVersion); err != nil {
			return Alias{}, err
		}
	}
	a.UpdatedAt = Time{s.now()}
	if _, err := s.write(ctx, append(guards, putChange(tableAliases, aliasID(c.ProjectID, name), ver, a))...); err != nil {
		return Alias{}, err
	}
	return a, nil
}

// DeleteAlias deletes an alias (403 while a webhook or an unfinished job
// uses it).
func (s *Service) DeleteAlias(ctx context.Context, c Caller, name string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	_, ver, err := s.alias(c, name)
	if err != nil {
		return err
	}
	for _, w := range listRecs[Webhook](s, tableWebhooks, "") {
		if w.ProjectID == c.ProjectID && string(w.FunctionAlias) == name {
			return errorf(http.StatusForbidden, "alias %s is still associated with webhook %s", name, w.ID)
		}
	}
	if j, ok := s.activeJobUsing("", 0, c.ProjectID, name); ok {
		return errJobsUsing("alias "+name, j)
	}
	_, err = s.write(ctx, deleteChange(tableAliases, aliasID(c.ProjectID, name), ver))
	return err
}
