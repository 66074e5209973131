package qinling

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"eventide/consensus"
)

// defaultEntry is the entry of a package function created without one.
const defaultEntry = "main.main"

// packageID is a package record's id: its function and md5, so versions
// with the same code share one package record.
func packageID(functionID, md5sum string) string { return functionID + "/" + md5sum }

// function returns a function the caller sees.
func (s *Service) function(c Caller, id string) (Function, uint64, error) {
	f, ver, err := getRec[Function](s, tableFunctions, id, "function")
	if err != nil {
		return Function{}, 0, err
	}
	if !visible(c, f.ProjectID) {
		return Function{}, 0, notFound("function", id)
	}
	return f, ver, nil
}

// guard re-writes a record unchanged at its version: the batch it is in
// then fails if another writer changed or deleted the record meanwhile
// (a runtime deleted while a function is created on it, ...).
func guard(table, id string, ver uint64, v any) consensus.RecordChange {
	return putChange(table, id, ver, v)
}

// checkPackage verifies a package: size (413), md5 when given (400) and
// that it is a zip (400). It returns the md5 (hex).
func (s *Service) checkPackage(pkg []byte, md5sum string) (string, error) {
	if len(pkg) == 0 {
		return "", badRequest("a package function needs its package (the zip)")
	}
	if int64(len(pkg)) > s.cfg.MaxPackageBytes {
		return "", errorf(http.StatusRequestEntityTooLarge, "package of %d bytes exceeds the limit of %d bytes", len(pkg), s.cfg.MaxPackageBytes)
	}
	sum := md5.Sum(pkg)
	got := hex.EncodeToString(sum[:])
	if md5sum != "" && !strings.EqualFold(md5sum, got) {
		return "", badRequest("package md5 mismatch: md5sum says %s, the package's is %s", md5sum, got)
	}
	if _, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg))); err != nil {
		return "", badRequest("package is not a zip archive: %v", err)
	}
	return got, nil
}

// checkLimits validates timeout, memory_size and cpu.
func (s *Service) checkLimits(timeout int, memory, cpu int64) error {
	switch {
	case timeout <= 0 || timeout > s.cfg.MaxTimeout:
		return badRequest("timeout must be 1 to %d seconds, not %d", s.cfg.MaxTimeout, timeout)
	case memory <= 0:
		return badRequest("memory_size must be positive, not %d", memory)
	case cpu <= 0:
		return badRequest("cpu must be positive, not %d", cpu)
	}
	return nil
}

// CreateFunction creates a function: 400 for bad fields, an md5 mismatch,
// swift code or an image function without a container engine; 413 for a
// package over Config.MaxPackageBytes.
func (s *Service) CreateFunction(ctx context.Context, c Caller, spec FunctionSpec) (Function, error) {
	if err := checkCaller(c); err != nil {
		return Function{}, err
	}
	if err := checkField("name", spec.Name, false); err != nil {
		return Function{}, err
	}
	if err := checkField("description", spec.Description, false); err != nil {
		return Function{}, err
	}
	if err := checkField("entry", spec.Entry, false); err != nil {
		return Function{}, err
	}
	f := Function{
		ID:          uuid.NewString(),
		Name:        spec.Name,
		Description: NullString(spec.Description),
		Timeout:     spec.Timeout,
		MemorySize:  spec.MemorySize,
		CPU:         spec.CPU,
		ProjectID:   c.ProjectID,
		CreatedAt:   Time{s.now()},
	}
	if f.Timeout == 0 {
		f.Timeout = s.cfg.DefaultTimeout
	}
	if f.MemorySize == 0 {
		f.MemorySize = s.cfg.DefaultMemory
	}
	if f.CPU == 0 {
		f.CPU = s.cfg.DefaultCPU
	}
	if err := s.checkLimits(f.Timeout, f.MemorySize, f.CPU); err != nil {
		return Function{}, err
	}
	var changes []consensus.RecordChange
	switch spec.Code.Source {
	case SourcePackage:
		if spec.RuntimeID == "" {
			return Function{}, badRequest("runtime_id is required for a package function")
		}
		rt, ver, err := s.runtime(c, spec.RuntimeID)
		if err != nil {
			return Function{}, badRequest("runtime %s not found", spec.RuntimeID)
		}
		if _, err := s.engineFor(rt.Image); err != nil {
			return Function{}, err
		}
		sum, err := s.checkPackage(spec.Package, spec.Code.MD5Sum)
		if err != nil {
			return Function{}, err
		}
		f.RuntimeID = NullString(rt.ID)
		// Qinling records main.main when no entry is given (the openstack
		// client sends none unless --entry is named); the engines default
		// to the same, so the record says what runs.
		f.Entry = NullString(cmp.Or(spec.Entry, defaultEntry))
		f.Code = FunctionCode{Source: SourcePackage, MD5Sum: sum}
		changes = append(changes,
			guard(tableRuntimes, rt.ID, ver, rt),
			consensus.RecordChange{Table: tablePackages, ID: packageID(f.ID, sum), Body: spec.Package})
	case SourceImage:
		if s.cfg.Containers == nil {
			return Function{}, badRequest("image functions need a container engine: this node was started without --docker-host")
		}
		if err := checkField("code image", spec.Code.Image, true); err != nil {
			return Function{}, err
		}
		if len(spec.Package) > 0 {
			return Function{}, badRequest("an image function takes no package")
		}
		f.Code = FunctionCode{Source: SourceImage, Image: spec.Code.Image}
	case SourceSwift:
		return Function{}, badRequest("swift code is not supported: there is no object store; upload the package instead")
	case "":
		return Function{}, badRequest(`code is required, e.g. {"source": "package"}`)
	default:
		return Function{}, badRequest("invalid code source %q: use package or image", spec.Code.Source)
	}
	changes = append(changes, putChange(tableFunctions, f.ID, 0, f))
	if _, err := s.write(ctx, changes...); err != nil {
		return Function{}, err
	}
	return f, nil
}

// withCounts sets Count of fs from the executions of their latest code.
func (s *Service) withCounts(fs []Function) {
	s.executionCounts(func(count func(countKey) int) {
		for i := range fs {
			fs[i].Count = count(countKey{fs[i].ID, 0})
		}
	})
}

// ListFunctions lists functions.
func (s *Service) ListFunctions(ctx context.Context, c Caller, opts ListOptions) ([]Function, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	var out []Function
	for _, f := range listRecs[Function](s, tableFunctions, "") {
		if inList(c, opts, f.ProjectID) {
			out = append(out, f)
		}
	}
	s.withCounts(out)
	sortByCreated(out, func(f Function) (Time, string) { return f.CreatedAt, f.ID })
	return out, nil
}

// GetFunction returns one function.
func (s *Service) GetFunction(ctx context.Context, c Caller, id string) (Function, error) {
	if err := checkCaller(c); err != nil {
		return Function{}, err
	}
	f, _, err := s.function(c, id)
	if err != nil {
		return Function{}, err
	}
	fs := []Function{f}
	s.withCounts(fs)
	return fs[0], nil
}

// FunctionPackage returns the zip of a function's latest code
// (?download=true); 400 for an image function.
func (s *Service) FunctionPackage(ctx context.Context, c Caller, id string) ([]byte, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	f, _, err := s.function(c, id)
	if err != nil {
		return nil, err
	}
	return s.packageOf(f.ID, f.Code)
}

func (s *Service) packageOf(functionID string, code FunctionCode) ([]byte, error) {
	if code.Source != SourcePackage {
		return nil, badRequest("function %s has no package: its code is an image", functionID)
	}
	r, err := s.rec.Record(tablePackages, packageID(functionID, code.MD5Sum))
	if err != nil {
		return nil, notFound("package of function", functionID)
	}
	return r.Body, nil
}

// UpdateFunction changes a function (see FunctionUpdate).
func (s *Service) UpdateFunction(ctx context.Context, c Caller, id string, u FunctionUpdate) (Function, error) {
	if err := checkCaller(c); err != nil {
		return Function{}, err
	}
	f, ver, err := s.function(c, id)
	if err != nil {
		return Function{}, err
	}
	var changes []consensus.RecordChange
	if u.Name != nil {
		if err := checkField("name", *u.Name, false); err != nil {
			return Function{}, err
		}
		f.Name = *u.Name
	}
	if u.Description != nil {
		if err := checkField("description", *u.Description, false); err != nil {
			return Function{}, err
		}
		f.Description = NullString(*u.Description)
	}
	if u.Entry != nil {
		if err := checkField("entry", *u.Entry, false); err != nil {
			return Function{}, err
		}
		if f.Code.Source == SourceImage {
			return Function{}, badRequest("an image function has no entry")
		}
		f.Entry = NullString(*u.Entry)
	}
	if u.Timeout != nil {
		f.Timeout = *u.Timeout
	}
	if u.MemorySize != nil {
		f.MemorySize = *u.MemorySize
	}
	if u.CPU != nil {
		f.CPU = *u.CPU
	}
	if err := s.checkLimits(f.Timeout, f.MemorySize, f.CPU); err != nil {
		return Function{}, err
	}
	if u.RuntimeID != nil && *u.RuntimeID != string(f.RuntimeID) {
		if f.Code.Source == SourceImage {
			return Function{}, badRequest("an image function has no runtime")
		}
		rt, rver, err := s.runtime(c, *u.RuntimeID)
		if err != nil {
			return Function{}, badRequest("runtime %s not found", *u.RuntimeID)
		}
		if _, err := s.engineFor(rt.Image); err != nil {
			return Function{}, err
		}
		f.RuntimeID = NullString(rt.ID)
		changes = append(changes, guard(tableRuntimes, rt.ID, rver, rt))
	}
	if u.Code != nil && u.Code.Source != "" && u.Code.Source != f.Code.Source {
		return Function{}, badRequest("the function code type can not be changed")
	}
	if u.Package != nil || u.Code != nil && u.Code.Image != "" {
		if f.Code.Source != SourcePackage {
			return Function{}, badRequest("the code of an image function can not be updated")
		}
		md5sum := ""
		if u.Code != nil {
			md5sum = u.Code.MD5Sum
		}
		sum, err := s.checkPackage(u.Package, md5sum)
		if err != nil {
			return Function{}, err
		}
		if sum != f.Code.MD5Sum {
			// Packages are shared by the code's versions: put the new one
			// unless a version keeps it already, drop the old one unless
			// a version keeps it. The function's conditional write below
			// serialises this with version creation and deletion, which
			// write the function too.
			if !s.packageExists(f.ID, sum) {
				changes = append(changes, consensus.RecordChange{Table: tablePackages, ID: packageID(f.ID, sum), Body: u.Package})
			}
			if !s.versionUses(f.ID, f.Code.MD5Sum) {
				changes = append(changes, deleteChange(tablePackages, packageID(f.ID, f.Code.MD5Sum), 0))
			}
			f.Code.MD5Sum = sum
		}
	}
	f.UpdatedAt = Time{s.now()}
	changes = append(changes, putChange(tableFunctions, id, ver, f))
	if _, err := s.write(ctx, changes...); err != nil {
		return Function{}, err
	}
	fs := []Function{f}
	s.withCounts(fs)
	return fs[0], nil
}

func (s *Service) packageExists(functionID, sum string) bool {
	_, err := s.rec.Record(tablePackages, packageID(functionID, sum))
	return err == nil
}

// versionUses reports whether a version of the function keeps the
// package of md5 sum.
func (s *Service) versionUses(functionID, sum string) bool {
	for _, v := range listRecs[versionRec](s, tableVersions, functionID+"/") {
		if v.MD5Sum == sum {
			return true
		}
	}
	return false
}

// DeleteFunction deletes a function with its versions and packages;
// refused (403, as Qinling) while aliases, webhooks or unfinished jobs
// point at it.
func (s *Service) DeleteFunction(ctx context.Context, c Caller, id string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	f, ver, err := s.function(c, id)
	if err != nil {
		return err
	}
	if c.ProjectID != f.ProjectID && !c.Admin {
		return errorf(http.StatusForbidden, "function can only be deleted by its owner")
	}
	for _, a := range listRecs[Alias](s, tableAliases, "") {
		if a.FunctionID == id {
			return errorf(http.StatusForbidden, "function %s is still associated with alias %s", id, a.Name)
		}
	}
	for _, w := range listRecs[Webhook](s, tableWebhooks, "") {
		if w.FunctionID == id {
			return errorf(http.StatusForbidden, "function %s is still associated with webhook %s", id, w.ID)
		}
	}
	if j, ok := s.activeJobUsing(id, -1, "", ""); ok {
		return errJobsUsing("function "+id, j)
	}
	changes := []consensus.RecordChange{deleteChange(tableFunctions, id, ver)}
	for _, r := range s.rec.RecordsWithPrefix(tableVersions, id+"/") {
		changes = append(changes, deleteChange(tableVersions, r.ID, r.Version))
	}
	for _, r := range s.rec.RecordsWithPrefix(tablePackages, id+"/") {
		changes = append(changes, deleteChange(tablePackages, r.ID, r.Version))
	}
	if _, err := s.write(ctx, changes...); err != nil {
		return err
	}
	s.detachLocal(f)
	return nil
}

// engineOf returns the engine that runs f's code on this node.
func (s *Service) engineOf(f Function) (Engine, error) {
	if f.Code.Source == SourceImage {
		if s.cfg.Containers == nil {
			return nil, errorf(http.StatusConflict, "this node has no container engine for image function %s", f.ID)
		}
		return s.cfg.Containers, nil
	}
	rt, _, err := getRec[Runtime](s, tableRuntimes, string(f.RuntimeID), "runtime")
	if err != nil {
		return nil, errorf(http.StatusConflict, "runtime %s of function %s is gone", f.RuntimeID, f.ID)
	}
	e := s.cfg.Engines(rt.Image)
	if e == nil {
		return nil, errorf(http.StatusConflict, "runtime %s is not available: no engine on this node runs image %s", rt.ID, rt.Image)
	}
	return e, nil
}

// detachLocal drops f's warm workers on this node (engines keep them per
// function, all versions together).
func (s *Service) detachLocal(f Function) {
	if e, err := s.engineOf(f); err == nil {
		e.Detach(f.ID)
	}
	s.mu.Lock()
	delete(s.scale, f.ID)
	s.mu.Unlock()
}

// ScaleUpFunction adds count (at least 1) warm workers to the function's
// latest code on this node's engine.
func (s *Service) ScaleUpFunction(ctx context.Context, c Caller, id string, count int) error {
	return s.scaleBy(c, id, count)
}

// ScaleDownFunction removes count (at least 1) warm workers.
func (s *Service) ScaleDownFunction(ctx context.Context, c Caller, id string, count int) error {
	return s.scaleBy(c, id, -count)
}

func (s *Service) scaleBy(c Caller, id string, delta int) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	if delta == 0 {
		return badRequest("count must be at least 1")
	}
	if delta < -1<<20 || delta > 1<<20 {
		return badRequest("count %d is out of range", delta)
	}
	f, _, err := s.function(c, id)
	if err != nil {
		return err
	}
	e, err := s.engineOf(f)
	if err != nil {
		return err
	}
	// The engine gets the latest code, so it can make warm workers before
	// that code first runs.
	code, err := s.codeFor(f, 0)
	if err != nil {
		return err
	}
	s.mu.Lock()
	n := max(0, s.scale[f.ID]+delta)
	s.scale[f.ID] = n
	s.mu.Unlock()
	e.Scale(code, n)
	return nil
}

// FunctionWorkers lists the warm workers of version (0: the latest code)
// of the function across the cluster: each node keeps its own warm
// workers and scale, so this node's are joined by those of every other
// live node that answers in time (Config.Fleet). Each worker is named
// "<node id>/<worker>", sorted by node, then name.
func (s *Service) FunctionWorkers(ctx context.Context, c Caller, id string, version int) ([]Worker, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, badRequest("function_version must be at least 0, not %d", version)
	}
	f, _, err := s.function(c, id)
	if err != nil {
		return nil, err
	}
	if version > 0 {
		if _, _, err := s.version(f, version); err != nil {
			return nil, err
		}
	}
	byNode := map[string][]string{}
	if s.cfg.Fleet != nil {
		maps.Copy(byNode, s.cfg.Fleet.Workers(ctx, f.ID, version))
	}
	// This node's own list needs no round trip, and is there even when
	// the fan-out could not reach it.
	byNode[s.cfg.NodeID] = s.localWorkers(f, version)
	ws := []Worker{}
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		names := slices.Clone(byNode[node])
		slices.Sort(names)
		for _, n := range names {
			ws = append(ws, Worker{FunctionID: f.ID, FunctionVersion: version, WorkerName: node + "/" + n})
		}
	}
	return ws, nil
}

// LocalWorkers names the warm workers this node holds for version (0: the
// latest code) of the function, sorted; none for a function it does not
// know or has no engine for. It checks no caller: it answers the other
// nodes' FunctionWorkers, which checked theirs.
func (s *Service) LocalWorkers(functionID string, version int) []string {
	f, _, err := getRec[Function](s, tableFunctions, functionID, "function")
	if err != nil {
		return nil
	}
	return s.localWorkers(f, version)
}

func (s *Service) localWorkers(f Function, version int) []string {
	e, err := s.engineOf(f)
	if err != nil {
		return nil
	}
	return e.Workers(f.ID, version)
}

// DetachFunction drops the function's warm workers on this node.
func (s *Service) DetachFunction(ctx context.Context, c Caller, id string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	f, _, err := s.function(c, id)
	if err != nil {
		return err
	}
	s.detachLocal(f)
	return nil
}
