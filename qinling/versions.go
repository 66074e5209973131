package qinling

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"eventide/consensus"
)

// maxVersions is how many versions a function may have, as in Qinling.
const maxVersions = 10

// versionRec is a version's record: the API's view plus the code it
// keeps (the package is shared by md5, see packageID).
type versionRec struct {
	Version
	MD5Sum string `json:"md5sum"`
	Entry  string `json:"entry"`
}

// versionID is a version record's id; numbers are zero-padded so that the
// records of a function sort by number.
func versionID(functionID string, number int) string {
	return fmt.Sprintf("%s/%06d", functionID, number)
}

func itoa(n int) string { return strconv.Itoa(n) }

// version returns version number of function f (which the caller sees).
func (s *Service) version(f Function, number int) (versionRec, uint64, error) {
	v, ver, err := getRec[versionRec](s, tableVersions, versionID(f.ID, number), "version")
	if err != nil {
		return versionRec{}, 0, notFound("version", fmt.Sprintf("%d of function %s", number, f.ID))
	}
	return v, ver, nil
}

// versionView shows vs, with Count from their executions.
func (s *Service) versionView(vs []versionRec) []Version {
	out := make([]Version, len(vs))
	s.executionCounts(func(count func(countKey) int) {
		for i, v := range vs {
			out[i] = v.Version
			out[i].Count = count(countKey{v.FunctionID, v.VersionNumber})
		}
	})
	return out
}

// CreateVersion snapshots the function's latest package and entry as
// version latest_version+1 (403, as Qinling, for an image function, at
// 10 versions, or when the package did not change since the newest
// version).
func (s *Service) CreateVersion(ctx context.Context, c Caller, functionID, description string) (Version, error) {
	if err := checkCaller(c); err != nil {
		return Version{}, err
	}
	if err := checkField("description", description, false); err != nil {
		return Version{}, err
	}
	f, fver, err := s.function(c, functionID)
	if err != nil {
		return Version{}, err
	}
	if f.Code.Source != SourcePackage {
		return Version{}, errorf(http.StatusForbidden, "function versioning is only allowed for package functions")
	}
	vs := listRecs[versionRec](s, tableVersions, f.ID+"/")
	if len(vs) >= maxVersions {
		return Version{}, errorf(http.StatusForbidden, "function %s has %d versions, the most allowed", f.ID, maxVersions)
	}
	if len(vs) > 0 && vs[len(vs)-1].MD5Sum == f.Code.MD5Sum {
		return Version{}, errorf(http.StatusForbidden, "function package not changed since the latest version %d", vs[len(vs)-1].VersionNumber)
	}
	now := s.now()
	v := versionRec{
		Version: Version{
			ID:            uuid.NewString(),
			FunctionID:    f.ID,
			VersionNumber: f.LatestVersion + 1,
			Description:   NullString(description),
			ProjectID:     f.ProjectID,
			CreatedAt:     Time{now},
		},
		MD5Sum: f.Code.MD5Sum,
		Entry:  string(f.Entry),
	}
	f.LatestVersion = v.VersionNumber
	f.UpdatedAt = Time{now}
	if _, err := s.write(ctx,
		putChange(tableFunctions, f.ID, fver, f),
		putChange(tableVersions, versionID(f.ID, v.VersionNumber), 0, v),
	); err != nil {
		return Version{}, err
	}
	return v.Version, nil
}

// ListVersions lists a function's versions by number.
func (s *Service) ListVersions(ctx context.Context, c Caller, functionID string) ([]Version, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	f, _, err := s.function(c, functionID)
	if err != nil {
		return nil, err
	}
	return s.versionView(listRecs[versionRec](s, tableVersions, f.ID+"/")), nil
}

// GetVersion returns one version.
func (s *Service) GetVersion(ctx context.Context, c Caller, functionID string, number int) (Version, error) {
	if err := checkCaller(c); err != nil {
		return Version{}, err
	}
	f, _, err := s.function(c, functionID)
	if err != nil {
		return Version{}, err
	}
	v, _, err := s.version(f, number)
	if err != nil {
		return Version{}, err
	}
	return s.versionView([]versionRec{v})[0], nil
}

// DeleteVersion deletes a version (403, as Qinling, while an alias, a
// webhook or an unfinished job uses it). Its package goes too unless the latest code or
// another version keeps it. Numbers are never reused.
func (s *Service) DeleteVersion(ctx context.Context, c Caller, functionID string, number int) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	f, fver, err := s.function(c, functionID)
	if err != nil {
		return err
	}
	v, ver, err := s.version(f, number)
	if err != nil {
		return err
	}
	for _, a := range listRecs[Alias](s, tableAliases, "") {
		if a.FunctionID == f.ID && a.FunctionVersion == number {
			return errorf(http.StatusForbidden, "version %d of function %s is still associated with alias %s", number, f.ID, a.Name)
		}
	}
	for _, w := range listRecs[Webhook](s, tableWebhooks, "") {
		if w.FunctionID == f.ID && w.FunctionVersion == number && w.FunctionAlias == "" {
			return errorf(http.StatusForbidden, "version %d of function %s is still associated with webhook %s", number, f.ID, w.ID)
		}
	}
	if j, ok := s.activeJobUsing(f.ID, number, "", ""); ok {
		return errJobsUsing(fmt.Sprintf("version %d of function %s", number, f.ID), j)
	}
	// The function's guard serialises this with updates of its code,
	// which decide about the same packages.
	changes := []consensus.RecordChange{
		deleteChange(tableVersions, versionID(f.ID, number), ver),
		guard(tableFunctions, f.ID, fver, f),
	}
	shared := v.MD5Sum == f.Code.MD5Sum
	for _, o := range listRecs[versionRec](s, tableVersions, f.ID+"/") {
		shared = shared || o.VersionNumber != number && o.MD5Sum == v.MD5Sum
	}
	if !shared {
		changes = append(changes, deleteChange(tablePackages, packageID(f.ID, v.MD5Sum), 0))
	}
	_, err = s.write(ctx, changes...)
	return err
}

// DetachVersion drops the function's warm workers on this node (engines
// keep them per function, so the other versions' go too).
func (s *Service) DetachVersion(ctx context.Context, c Caller, functionID string, number int) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	f, _, err := s.function(c, functionID)
	if err != nil {
		return err
	}
	if _, _, err := s.version(f, number); err != nil {
		return err
	}
	s.detachLocal(f)
	return nil
}
