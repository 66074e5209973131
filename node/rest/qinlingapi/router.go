package qinlingapi

import (
	"net/http"
	"slices"
	"strings"

	"eventide/qinling"
)

// request is one request with its path parameters and, past
// authentication, its caller.
type request struct {
	*http.Request
	params map[string]string
	caller qinling.Caller
}

// param returns the path parameter name.
func (r *request) param(name string) string { return r.params[name] }

type handlerFunc func(w http.ResponseWriter, r *request)

// route is one path pattern: segments, with {name} for a parameter.
type route struct {
	pattern []string
	methods map[string]handlerFunc
	// public routes need no credentials: the version documents, logging
	// in, and webhook invocation (open URLs, as in Qinling).
	public bool
}

// allow lists the route's methods for the Allow header.
func (rt *route) allow() string {
	var ms []string
	for m := range rt.methods {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	return strings.Join(ms, ", ")
}

// routes is the API's table: every path of the function-engine API
// document, the webhook invocation and function workers list Qinling
// adds, and Keystone's login.
func (s *Server) routes() []*route {
	r := func(pattern string, public bool, methods map[string]handlerFunc) *route {
		return &route{pattern: splitPath(pattern), methods: methods, public: public}
	}
	type m = map[string]handlerFunc
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return []*route{
		r("/", true, m{get: s.versions}),
		r("/v3", true, m{get: func(w http.ResponseWriter, r *request) { s.handleIdentityVersion(w, r.Request) }}),
		r("/v3/auth/tokens", true, m{
			post: func(w http.ResponseWriter, r *request) { s.handleIssueToken(w, r.Request) },
			get:  func(w http.ResponseWriter, r *request) { s.handleValidateToken(w, r.Request) },
		}),

		r("/v1/runtimes", false, m{get: s.listRuntimes, post: s.createRuntime}),
		r("/v1/runtimes/{id}", false, m{get: s.getRuntime, put: s.updateRuntime, del: s.deleteRuntime}),
		r("/v1/runtimes/{id}/pool", false, m{get: s.runtimePool}),

		r("/v1/functions", false, m{get: s.listFunctions, post: s.createFunction}),
		r("/v1/functions/{id}", false, m{get: s.getFunction, put: s.updateFunction, del: s.deleteFunction}),
		r("/v1/functions/{id}/detach", false, m{post: s.detachFunction}),
		r("/v1/functions/{id}/scale_up", false, m{post: s.scaleUp}),
		r("/v1/functions/{id}/scale_down", false, m{post: s.scaleDown}),
		r("/v1/functions/{id}/workers", false, m{get: s.functionWorkers}),
		r("/v1/functions/{id}/versions", false, m{get: s.listVersions, post: s.createVersion}),
		r("/v1/functions/{id}/versions/{version}", false, m{get: s.getVersion, del: s.deleteVersion}),
		r("/v1/functions/{id}/versions/{version}/detach", false, m{post: s.detachVersion}),

		r("/v1/executions", false, m{get: s.listExecutions, post: s.createExecution}),
		r("/v1/executions/{id}", false, m{get: s.getExecution, del: s.deleteExecution}),
		r("/v1/executions/{id}/log", false, m{get: s.executionLog}),

		r("/v1/aliases", false, m{get: s.listAliases, post: s.createAlias}),
		r("/v1/aliases/{name}", false, m{get: s.getAlias, put: s.updateAlias, del: s.deleteAlias}),

		r("/v1/webhooks", false, m{get: s.listWebhooks, post: s.createWebhook}),
		r("/v1/webhooks/{id}", false, m{get: s.getWebhook, put: s.updateWebhook, del: s.deleteWebhook}),
		r("/v1/webhooks/{id}/invoke", true, m{post: s.invokeWebhook}),

		r("/v1/jobs", false, m{get: s.listJobs, post: s.createJob}),
		r("/v1/jobs/{id}", false, m{get: s.getJob, put: s.updateJob, del: s.deleteJob}),
	}
}

// splitPath splits a path into its segments, ignoring a trailing slash.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the route of path and its parameters.
func (s *Server) match(path string) (*route, map[string]string) {
	seg := splitPath(path)
	for _, rt := range s.table {
		if len(rt.pattern) != len(seg) {
			continue
		}
		var params map[string]string
		ok := true
		for i, p := range rt.pattern {
			if strings.HasPrefix(p, "{") {
				if seg[i] == "" {
					ok = false
					break
				}
				if params == nil {
					params = make(map[string]string, 2)
				}
				params[strings.Trim(p, "{}")] = seg[i]
				continue
			}
			if p != seg[i] {
				ok = false
				break
			}
		}
		if ok {
			return rt, params
		}
	}
	return nil, nil
}
