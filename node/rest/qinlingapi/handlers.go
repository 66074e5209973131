package qinlingapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"eventide/qinling"
)

// versions answers GET /: Qinling's API version document, without
// credentials.
func (s *Server) versions(w http.ResponseWriter, r *request) {
	writeJSON(w, s.log, http.StatusOK, map[string]any{
		"versions": []map[string]any{{
			"id":     "v1.0",
			"status": "CURRENT",
			"links":  []map[string]string{{"href": requestBaseURL(r.Request) + "/v1", "target": "v1", "rel": "self"}},
		}},
	})
}

// Rendering helpers.

// writeList writes {key: items}, an empty list rather than null.
func writeList[T any](s *Server, w http.ResponseWriter, key string, items []T, err error, r *request) {
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	if items == nil {
		items = []T{}
	}
	writeJSON(w, s.log, http.StatusOK, map[string][]T{key: items})
}

// writeResult writes v with status, or err.
func writeResult[T any](s *Server, w http.ResponseWriter, status int, v T, err error, r *request) {
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	writeJSON(w, s.log, status, v)
}

// writeEmpty answers status with no body (204 deletes, 202 actions), or err.
func (s *Server) writeEmpty(w http.ResponseWriter, r *request, status int, err error) {
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	w.WriteHeader(status)
}

// listOptions reads all_projects and project_id, as Qinling's lists take
// them: an administrator's project_id implies all_projects; a non-admin's
// is ignored.
func listOptions(r *request) (qinling.ListOptions, error) {
	q := r.URL.Query()
	var opts qinling.ListOptions
	if v := q.Get("all_projects"); v != "" {
		b, ok := parseBool(v)
		if !ok {
			return opts, badRequest(fmt.Sprintf("Invalid input for query parameter all_projects: %q is not a boolean", v))
		}
		opts.AllProjects = b
	}
	if p := q.Get("project_id"); p != "" && r.caller.Admin {
		opts.ProjectID, opts.AllProjects = p, true
	}
	return opts, nil
}

// intParam parses a non-negative integer path parameter.
func intParam(r *request, name string) (int, error) {
	v := r.param(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest(fmt.Sprintf("Invalid %s %q: expecting a non-negative integer", strings.ReplaceAll(name, "_", " "), v))
	}
	return n, nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// Runtimes.

// runtimeBody is a runtime's create or update request.
type runtimeBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Image       *string `json:"image"`
	IsPublic    *bool   `json:"is_public"`
	Trusted     *bool   `json:"trusted"`
}

func (s *Server) createRuntime(w http.ResponseWriter, r *request) {
	var b runtimeBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	rt, err := s.svc.CreateRuntime(r.Context(), r.caller, qinling.RuntimeSpec{
		Name: deref(b.Name), Description: deref(b.Description), Image: deref(b.Image),
		IsPublic: b.IsPublic, Trusted: b.Trusted,
	})
	writeResult(s, w, http.StatusCreated, rt, err, r)
}

func (s *Server) listRuntimes(w http.ResponseWriter, r *request) {
	opts, err := listOptions(r)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	list, err := s.svc.ListRuntimes(r.Context(), r.caller, opts)
	writeList(s, w, "runtimes", list, err, r)
}

func (s *Server) getRuntime(w http.ResponseWriter, r *request) {
	rt, err := s.svc.GetRuntime(r.Context(), r.caller, r.param("id"))
	writeResult(s, w, http.StatusOK, rt, err, r)
}

func (s *Server) runtimePool(w http.ResponseWriter, r *request) {
	p, err := s.svc.RuntimePool(r.Context(), r.caller, r.param("id"))
	writeResult(s, w, http.StatusOK, p, err, r)
}

func (s *Server) updateRuntime(w http.ResponseWriter, r *request) {
	var b runtimeBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	rt, err := s.svc.UpdateRuntime(r.Context(), r.caller, r.param("id"), qinling.RuntimeUpdate{
		Name: b.Name, Description: b.Description, Image: b.Image,
	})
	writeResult(s, w, http.StatusOK, rt, err, r)
}

func (s *Server) deleteRuntime(w http.ResponseWriter, r *request) {
	s.writeEmpty(w, r, http.StatusNoContent, s.svc.DeleteRuntime(r.Context(), r.caller, r.param("id")))
}

// Functions.

func (s *Server) createFunction(w http.ResponseWriter, r *request) {
	f, err := s.parseFunctionForm(w, r.Request)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	if f.code == nil {
		s.writeError(w, r.Request, badRequest(`Required param is missing: code (for example {"source": "package"})`))
		return
	}
	fn, err := s.svc.CreateFunction(r.Context(), r.caller, qinling.FunctionSpec{
		Name: deref(f.name), Description: deref(f.description), RuntimeID: deref(f.runtimeID),
		Entry: deref(f.entry), Code: *f.code, Package: f.pkg,
		Timeout: deref(f.timeout), MemorySize: deref(f.memorySize), CPU: deref(f.cpu),
	})
	writeResult(s, w, http.StatusCreated, fn, err, r)
}

func (s *Server) listFunctions(w http.ResponseWriter, r *request) {
	opts, err := listOptions(r)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	list, err := s.svc.ListFunctions(r.Context(), r.caller, opts)
	writeList(s, w, "functions", list, err, r)
}

// getFunction answers the function, or with ?download=true its package.
func (s *Server) getFunction(w http.ResponseWriter, r *request) {
	id := r.param("id")
	download := false
	if v := r.URL.Query().Get("download"); v != "" {
		b, ok := parseBool(v)
		if !ok {
			s.writeError(w, r.Request, badRequest(fmt.Sprintf("Invalid input for query parameter download: %q is not a boolean", v)))
			return
		}
		download = b
	}
	if !download {
		fn, err := s.svc.GetFunction(r.Context(), r.caller, id)
		writeResult(s, w, http.StatusOK, fn, err, r)
		return
	}
	pkg, err := s.svc.FunctionPackage(r.Context(), r.caller, id)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", id+".zip"))
	w.Header().Set("Content-Length", strconv.Itoa(len(pkg)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pkg)
}

func (s *Server) updateFunction(w http.ResponseWriter, r *request) {
	f, err := s.parseFunctionForm(w, r.Request)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	fn, err := s.svc.UpdateFunction(r.Context(), r.caller, r.param("id"), qinling.FunctionUpdate{
		Name: f.name, Description: f.description, RuntimeID: f.runtimeID, Entry: f.entry,
		Timeout: f.timeout, MemorySize: f.memorySize, CPU: f.cpu, Code: f.code, Package: f.pkg,
	})
	writeResult(s, w, http.StatusOK, fn, err, r)
}

func (s *Server) deleteFunction(w http.ResponseWriter, r *request) {
	s.writeEmpty(w, r, http.StatusNoContent, s.svc.DeleteFunction(r.Context(), r.caller, r.param("id")))
}

func (s *Server) detachFunction(w http.ResponseWriter, r *request) {
	s.writeEmpty(w, r, http.StatusAccepted, s.svc.DetachFunction(r.Context(), r.caller, r.param("id")))
}

// scaleCount reads Qinling's ScaleInfo {"count": n}, n at least 1; the
// client always sends it, 1 stands in when the body is empty.
func (s *Server) scaleCount(w http.ResponseWriter, r *request) (int, error) {
	var b struct {
		Count *int `json:"count"`
	}
	if err := s.decodeOptionalJSON(w, r.Request, &b); err != nil {
		return 0, err
	}
	if b.Count == nil {
		return 1, nil
	}
	if *b.Count < 1 {
		return 0, badRequest(fmt.Sprintf("Invalid input for field count: %d is below the minimum 1", *b.Count))
	}
	return *b.Count, nil
}

func (s *Server) scaleUp(w http.ResponseWriter, r *request) {
	n, err := s.scaleCount(w, r)
	if err == nil {
		err = s.svc.ScaleUpFunction(r.Context(), r.caller, r.param("id"), n)
	}
	s.writeEmpty(w, r, http.StatusAccepted, err)
}

func (s *Server) scaleDown(w http.ResponseWriter, r *request) {
	n, err := s.scaleCount(w, r)
	if err == nil {
		err = s.svc.ScaleDownFunction(r.Context(), r.caller, r.param("id"), n)
	}
	s.writeEmpty(w, r, http.StatusAccepted, err)
}

// functionWorkers lists a function's warm workers on every live node
// (each node keeps its own; see qinling.Service.FunctionWorkers), of its
// latest code or of function_version=N as in Qinling.
func (s *Server) functionWorkers(w http.ResponseWriter, r *request) {
	version := 0
	if v := r.URL.Query().Get("function_version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.writeError(w, r.Request, badRequest(fmt.Sprintf("Invalid input for query parameter function_version: %q is not a non-negative integer", v)))
			return
		}
		version = n
	}
	list, err := s.svc.FunctionWorkers(r.Context(), r.caller, r.param("id"), version)
	writeList(s, w, "workers", list, err, r)
}

// Versions.

func (s *Server) createVersion(w http.ResponseWriter, r *request) {
	var b struct {
		Description *string `json:"description"`
	}
	if err := s.decodeOptionalJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	v, err := s.svc.CreateVersion(r.Context(), r.caller, r.param("id"), deref(b.Description))
	writeResult(s, w, http.StatusCreated, v, err, r)
}

func (s *Server) listVersions(w http.ResponseWriter, r *request) {
	list, err := s.svc.ListVersions(r.Context(), r.caller, r.param("id"))
	writeList(s, w, "function_versions", list, err, r)
}

func (s *Server) getVersion(w http.ResponseWriter, r *request) {
	n, err := intParam(r, "version")
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	v, err := s.svc.GetVersion(r.Context(), r.caller, r.param("id"), n)
	writeResult(s, w, http.StatusOK, v, err, r)
}

func (s *Server) deleteVersion(w http.ResponseWriter, r *request) {
	n, err := intParam(r, "version")
	if err == nil {
		err = s.svc.DeleteVersion(r.Context(), r.caller, r.param("id"), n)
	}
	s.writeEmpty(w, r, http.StatusNoContent, err)
}

func (s *Server) detachVersion(w http.ResponseWriter, r *request) {
	n, err := intParam(r, "version")
	if err == nil {
		err = s.svc.DetachVersion(r.Context(), r.caller, r.param("id"), n)
	}
	s.writeEmpty(w, r, http.StatusAccepted, err)
}

// Executions.

// executionBody is POST /v1/executions' body. Input is kept raw: the
// service takes an object or a JSON string, as the client sends it.
type executionBody struct {
	FunctionID      *string         `json:"function_id"`
	FunctionAlias   *string         `json:"function_alias"`
	FunctionVersion *versionNumber  `json:"function_version"`
	Description     *string         `json:"description"`
	Sync            *bool           `json:"sync"`
	Input           json.RawMessage `json:"input"`
}

func (s *Server) createExecution(w http.ResponseWriter, r *request) {
	var b executionBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	e, err := s.svc.CreateExecution(r.Context(), r.caller, qinling.ExecutionSpec{
		FunctionID: deref(b.FunctionID), FunctionAlias: deref(b.FunctionAlias),
		FunctionVersion: int(deref(b.FunctionVersion)), Description: deref(b.Description),
		Sync: b.Sync, Input: b.Input,
	})
	writeResult(s, w, http.StatusCreated, e, err, r)
}

// filterValue strips Qinling's "eq:" filter prefix; the other filter
// operators (in, gt, ...) are not supported.
func filterValue(key, v string) (string, error) {
	if op, rest, ok := strings.Cut(v, ":"); ok {
		switch op {
		case "eq":
			return rest, nil
		case "in", "nin", "neq", "gt", "gte", "lt", "lte", "has":
			return "", badRequest(fmt.Sprintf("Invalid filter %s=%s: only equality filters are supported", key, v))
		}
	}
	return v, nil
}

func (s *Server) listExecutions(w http.ResponseWriter, r *request) {
	opts, err := listOptions(r)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	f := qinling.ExecutionFilter{ListOptions: opts}
	q := r.URL.Query()
	for _, key := range []string{"function_id", "function_alias", "function_version", "status", "description", "sync"} {
		raw := q.Get(key)
		if raw == "" {
			continue
		}
		v, err := filterValue(key, raw)
		if err != nil {
			s.writeError(w, r.Request, err)
			return
		}
		switch key {
		case "function_id":
			f.FunctionID = v
		case "function_alias":
			f.FunctionAlias = v
		case "status":
			f.Status = v
		case "description":
			f.Description = v
		case "function_version":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				s.writeError(w, r.Request, badRequest(fmt.Sprintf("Invalid filter function_version=%s: expecting a non-negative integer", v)))
				return
			}
			f.FunctionVersion = &n
		case "sync":
			b, ok := parseBool(v)
			if !ok {
				s.writeError(w, r.Request, badRequest(fmt.Sprintf("Invalid filter sync=%s: expecting a boolean", v)))
				return
			}
			f.Sync = &b
		}
	}
	list, err := s.svc.ListExecutions(r.Context(), r.caller, f)
	writeList(s, w, "executions", list, err, r)
}

func (s *Server) getExecution(w http.ResponseWriter, r *request) {
	e, err := s.svc.GetExecution(r.Context(), r.caller, r.param("id"))
	writeResult(s, w, http.StatusOK, e, err, r)
}

// executionLog answers the log as plain text, as Qinling does.
func (s *Server) executionLog(w http.ResponseWriter, r *request) {
	log, err := s.svc.ExecutionLog(r.Context(), r.caller, r.param("id"))
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(log))
}

func (s *Server) deleteExecution(w http.ResponseWriter, r *request) {
	s.writeEmpty(w, r, http.StatusNoContent, s.svc.DeleteExecution(r.Context(), r.caller, r.param("id")))
}

// Aliases.

type aliasBody struct {
	Name            *string        `json:"name"`
	FunctionID      *string        `json:"function_id"`
	FunctionVersion *versionNumber `json:"function_version"`
	Description     *string        `json:"description"`
}

func (s *Server) createAlias(w http.ResponseWriter, r *request) {
	var b aliasBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	a, err := s.svc.CreateAlias(r.Context(), r.caller, qinling.AliasSpec{
		Name: deref(b.Name), FunctionID: deref(b.FunctionID),
		FunctionVersion: int(deref(b.FunctionVersion)), Description: deref(b.Description),
	})
	writeResult(s, w, http.StatusCreated, a, err, r)
}

func (s *Server) listAliases(w http.ResponseWriter, r *request) {
	opts, err := listOptions(r)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	list, err := s.svc.ListAliases(r.Context(), r.caller, opts)
	writeList(s, w, "function_aliases", list, err, r)
}

func (s *Server) getAlias(w http.ResponseWriter, r *request) {
	a, err := s.svc.GetAlias(r.Context(), r.caller, r.param("name"))
	writeResult(s, w, http.StatusOK, a, err, r)
}

// updateAlias answers 202, the API document's status for it.
func (s *Server) updateAlias(w http.ResponseWriter, r *request) {
	var b aliasBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	if b.Name != nil && *b.Name != r.param("name") {
		s.writeError(w, r.Request, badRequest("An alias cannot be renamed: delete it and create another"))
		return
	}
	a, err := s.svc.UpdateAlias(r.Context(), r.caller, r.param("name"), qinling.AliasUpdate{
		FunctionID: b.FunctionID, FunctionVersion: (*int)(b.FunctionVersion), Description: b.Description,
	})
	writeResult(s, w, http.StatusAccepted, a, err, r)
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *request) {
	s.writeEmpty(w, r, http.StatusNoContent, s.svc.DeleteAlias(r.Context(), r.caller, r.param("name")))
}

// Webhooks.

type webhookBody struct {
	FunctionID      *string        `json:"function_id"`
	FunctionAlias   *string        `json:"function_alias"`
	FunctionVersion *versionNumber `json:"function_version"`
	Description     *string        `json:"description"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *request) {
	var b webhookBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	h, err := s.svc.CreateWebhook(r.Context(), r.caller, qinling.WebhookSpec{
		FunctionID: deref(b.FunctionID), FunctionAlias: deref(b.FunctionAlias),
		FunctionVersion: int(deref(b.FunctionVersion)), Description: deref(b.Description),
	})
	writeResult(s, w, http.StatusCreated, h, err, r)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *request) {
	opts, err := listOptions(r)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	list, err := s.svc.ListWebhooks(r.Context(), r.caller, opts)
	writeList(s, w, "webhooks", list, err, r)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *request) {
	h, err := s.svc.GetWebhook(r.Context(), r.caller, r.param("id"))
	writeResult(s, w, http.StatusOK, h, err, r)
}

// updateWebhook answers 202, the API document's status for it.
func (s *Server) updateWebhook(w http.ResponseWriter, r *request) {
	var b webhookBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	h, err := s.svc.UpdateWebhook(r.Context(), r.caller, r.param("id"), qinling.WebhookUpdate{
		FunctionID: b.FunctionID, FunctionAlias: b.FunctionAlias,
		FunctionVersion: (*int)(b.FunctionVersion), Description: b.Description,
	})
	writeResult(s, w, http.StatusAccepted, h, err, r)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *request) {
	s.writeEmpty(w, r, http.StatusNoContent, s.svc.DeleteWebhook(r.Context(), r.caller, r.param("id")))
}

// invokeWebhook runs the webhook's function with the body as input: no
// credentials, 202 {"execution_id": ...}, as Qinling answers.
func (s *Server) invokeWebhook(w http.ResponseWriter, r *request) {
	body, err := readBody(w, r.Request, s.cfg.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	id, err := s.svc.InvokeWebhook(r.Context(), r.param("id"), body)
	writeResult(s, w, http.StatusAccepted, map[string]string{"execution_id": id}, err, r)
}

// Jobs.

// jobBody is a job's create or update request. function_input is kept as
// it came: a JSON string (as the openstack client sends it) or a JSON
// value.
type jobBody struct {
	Name               *string         `json:"name"`
	FunctionID         *string         `json:"function_id"`
	FunctionAlias      *string         `json:"function_alias"`
	FunctionVersion    *int            `json:"function_version"`
	FunctionInput      json.RawMessage `json:"function_input"`
	Pattern            *string         `json:"pattern"`
	Count              *int            `json:"count"`
	FirstExecutionTime *string         `json:"first_execution_time"`
	NextExecutionTime  *string         `json:"next_execution_time"`
	Status             *string         `json:"status"`
}

func (s *Server) createJob(w http.ResponseWriter, r *request) {
	var b jobBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	j, err := s.svc.CreateJob(r.Context(), r.caller, qinling.JobSpec{
		Name: deref(b.Name), FunctionID: deref(b.FunctionID), FunctionAlias: deref(b.FunctionAlias),
		FunctionVersion: deref(b.FunctionVersion), FunctionInput: b.FunctionInput,
		Pattern: deref(b.Pattern), FirstExecutionTime: deref(b.FirstExecutionTime), Count: b.Count,
	})
	writeResult(s, w, http.StatusCreated, j, err, r)
}

func (s *Server) listJobs(w http.ResponseWriter, r *request) {
	opts, err := listOptions(r)
	if err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	list, err := s.svc.ListJobs(r.Context(), r.caller, opts)
	writeList(s, w, "jobs", list, err, r)
}

func (s *Server) getJob(w http.ResponseWriter, r *request) {
	j, err := s.svc.GetJob(r.Context(), r.caller, r.param("id"))
	writeResult(s, w, http.StatusOK, j, err, r)
}

// updateJob answers 202, the API document's status for it. Only name,
// function_input, pattern, next_execution_time and status change; other
// fields are ignored, as Qinling ignores them.
func (s *Server) updateJob(w http.ResponseWriter, r *request) {
	var b jobBody
	if err := s.decodeJSON(w, r.Request, &b); err != nil {
		s.writeError(w, r.Request, err)
		return
	}
	j, err := s.svc.UpdateJob(r.Context(), r.caller, r.param("id"), qinling.JobUpdate{
		Name: b.Name, FunctionInput: b.FunctionInput, Pattern: b.Pattern,
		NextExecutionTime: b.NextExecutionTime, Status: b.Status,
	})
	writeResult(s, w, http.StatusAccepted, j, err, r)
}

func (s *Server) deleteJob(w http.ResponseWriter, r *request) {
	s.writeEmpty(w, r, http.StatusNoContent, s.svc.DeleteJob(r.Context(), r.caller, r.param("id")))
}
