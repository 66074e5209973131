package eventingapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"eventide/eventing"
)

// badRequest builds an ERR_INVALID_REQUEST.
func badRequest(format string, args ...any) *eventing.Error {
	return &eventing.Error{Code: eventing.CodeInvalidRequest, Description: fmt.Sprintf(format, args...)}
}

// location reads a function location from a path name and the optional
// bucket/scope query parameters.
func location(name string, q url.Values) (eventing.Location, error) {
	return eventing.NewLocation(name, q.Get("bucket"), q.Get("scope"))
}

// queryLocation reads the function named by the name or appName query
// parameter (getAppLog, getExecutionStats, resetStatsCounters ...).
func queryLocation(q url.Values) (eventing.Location, error) {
	name := q.Get("name")
	if name == "" {
		name = q.Get("appName")
	}
	if name == "" {
		return eventing.Location{}, badRequest("the function name is required: pass name=<function> (or appName=<function>)")
	}
	return location(name, q)
}

// boolParam reads an optional boolean query parameter.
func boolParam(q url.Values, key string, def bool) (bool, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("query parameter %s must be true or false, got %q", key, v)
	}
	return b, nil
}

// withLocation resolves the location and runs h, rendering errors.
func (a *Server) withLocation(w http.ResponseWriter, r *http.Request, name string, h func(eventing.Location) error) {
	loc, err := location(name, r.URL.Query())
	if err == nil {
		err = h(loc)
	}
	if err != nil {
		writeError(w, a.log, err)
	}
}

// --- /api/v1/functions ---------------------------------------------------

func (a *Server) listFunctions(w http.ResponseWriter, r *http.Request) {
	writeValue(w, a.log, a.svc.Functions())
}

func (a *Server) createFunctions(w http.ResponseWriter, r *http.Request) {
	a.storeMany(w, r, false)
}

func (a *Server) importFunctions(w http.ResponseWriter, r *http.Request) {
	a.storeMany(w, r, true)
}

// storeMany serves POST /api/v1/functions and /api/v1/import.
func (a *Server) storeMany(w http.ResponseWriter, r *http.Request, importing bool) {
	body, err := a.readBody(w, r)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	results, err := a.svc.CreateFunctions(r.Context(), body, importing)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeValue(w, a.log, storeResults(results))
}

func (a *Server) deleteAll(w http.ResponseWriter, r *http.Request) {
	writeOK(w, a.log, deleteResults(a.svc.DeleteAll(r.Context())))
}

func (a *Server) getFunction(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		d, err := a.svc.Function(loc)
		if err != nil {
			return err
		}
		writeValue(w, a.log, d)
		return nil
	})
}

func (a *Server) createFunction(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		body, err := a.readBody(w, r)
		if err != nil {
			return err
		}
		if err := a.svc.CreateFunction(r.Context(), loc, body); err != nil {
			return err
		}
		writeOK(w, a.log, "Successfully stored")
		return nil
	})
}

func (a *Server) deleteFunction(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		var uuid *uint32
		if v := r.URL.Query().Get("handleruuid"); v != "" {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return badRequest("query parameter handleruuid must be an unsigned 32-bit integer, got %q", v)
			}
			u := uint32(n)
			uuid = &u
		}
		if err := a.svc.DeleteFunction(r.Context(), loc, uuid); err != nil {
			return err
		}
		writeOK(w, a.log, "Successfully deleted")
		return nil
	})
}

// --- settings and lifecycle -----------------------------------------------

func (a *Server) getSettings(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		s, err := a.svc.Settings(loc)
		if err != nil {
			return err
		}
		writeValue(w, a.log, s)
		return nil
	})
}

func (a *Server) setSettings(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		body, err := a.readBody(w, r)
		if err != nil {
			return err
		}
		if err := a.svc.UpdateSettings(r.Context(), loc, body); err != nil {
			return err
		}
		writeOK(w, a.log, fmt.Sprintf("Function: %s stored settings", loc))
		return nil
	})
}

// lifecycleHandler serves one of the lifecycle endpoints.
func (a *Server) lifecycleHandler(w http.ResponseWriter, r *http.Request, name string,
	op func(*eventing.Service, *http.Request, eventing.Location) error, done string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		if err := op(a.svc, r, loc); err != nil {
			return err
		}
		writeOK(w, a.log, fmt.Sprintf("Function: %s %s", loc, done))
		return nil
	})
}

func (a *Server) deploy(w http.ResponseWriter, r *http.Request, name string) {
	a.lifecycleHandler(w, r, name, func(s *eventing.Service, r *http.Request, l eventing.Location) error {
		return s.Deploy(r.Context(), l)
	}, "is deploying")
}

func (a *Server) undeploy(w http.ResponseWriter, r *http.Request, name string) {
	a.lifecycleHandler(w, r, name, func(s *eventing.Service, r *http.Request, l eventing.Location) error {
		return s.Undeploy(r.Context(), l)
	}, "is undeploying")
}

func (a *Server) pause(w http.ResponseWriter, r *http.Request, name string) {
	a.lifecycleHandler(w, r, name, func(s *eventing.Service, r *http.Request, l eventing.Location) error {
		return s.Pause(r.Context(), l)
	}, "is Pausing")
}

func (a *Server) resume(w http.ResponseWriter, r *http.Request, name string) {
	a.lifecycleHandler(w, r, name, func(s *eventing.Service, r *http.Request, l eventing.Location) error {
		return s.Resume(r.Context(), l)
	}, "is Resuming")
}

// --- appcode and config ----------------------------------------------------

func (a *Server) getAppCode(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		code, err := a.svc.AppCode(loc)
		if err != nil {
			return err
		}
		writeText(w, code)
		return nil
	})
}

func (a *Server) getChecksum(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		sum, err := a.svc.AppCodeChecksum(loc)
		if err != nil {
			return err
		}
		writeText(w, sum)
		return nil
	})
}

func (a *Server) setAppCode(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		body, err := a.readBody(w, r)
		if err != nil {
			return err
		}
		warnings, err := a.svc.SetAppCode(r.Context(), loc, string(body))
		if err != nil {
			return err
		}
		res := okBody{Info: fmt.Sprintf("Function: %s appcode stored in the metakv", loc)}
		if len(warnings) > 0 {
			res.WarningInfo = warnings
		}
		writeValue(w, a.log, res)
		return nil
	})
}

func (a *Server) getDepCfg(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		cfg, err := a.svc.DeploymentConfig(loc)
		if err != nil {
			return err
		}
		writeValue(w, a.log, cfg)
		return nil
	})
}

func (a *Server) setDepCfg(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		body, err := a.readBody(w, r)
		if err != nil {
			return err
		}
		if err := a.svc.SetDeploymentConfig(r.Context(), loc, body); err != nil {
			return err
		}
		writeOK(w, a.log, fmt.Sprintf("Function: %s stored deployment config", loc))
		return nil
	})
}

// --- status, list, export -------------------------------------------------

func (a *Server) status(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var locs []eventing.Location
	for _, n := range q["appNames"] {
		locs = append(locs, eventing.ParseLocation(n))
	}
	if _, ok := q["appNames"]; ok && len(locs) == 0 {
		writeValue(w, a.log, eventing.StatusReport{Apps: []eventing.AppStatus{}, NumEventingNodes: a.svc.Status(nil).NumEventingNodes})
		return
	}
	writeValue(w, a.log, a.svc.Status(locs))
}

func (a *Server) functionStatus(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		rep, err := a.svc.FunctionStatus(loc)
		if err != nil {
			return err
		}
		writeValue(w, a.log, rep)
		return nil
	})
}

func (a *Server) listNames(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := eventing.ListFilter{
		SourceBucket:     q.Get("source_bucket"),
		SourceScope:      q.Get("source_scope"),
		SourceCollection: q.Get("source_collection"),
		FunctionType:     q.Get("function_type"),
	}
	for _, key := range []string{"source_bucket", "source_scope", "source_collection", "function_type", "deployed", "curl_binding"} {
		if len(q[key]) > 1 {
			writeError(w, a.log, badRequest("more than one %s present in function list query", key))
			return
		}
	}
	if (f.SourceScope != "" || f.SourceCollection != "") && f.SourceBucket == "" {
		writeError(w, a.log, badRequest("source_scope and source_collection need source_bucket"))
		return
	}
	switch f.FunctionType {
	case "", "sbm", "notsbm":
	default:
		writeError(w, a.log, badRequest("function_type must be sbm or notsbm, got %q", f.FunctionType))
		return
	}
	for _, p := range []struct {
		key string
		dst **bool
	}{{"deployed", &f.Deployed}, {"curl_binding", &f.CurlBinding}} {
		if q.Get(p.key) == "" {
			continue
		}
		b, err := boolParam(q, p.key, false)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		*p.dst = &b
	}
	writeValue(w, a.log, struct {
		Functions []string `json:"functions"`
	}{a.svc.FunctionNames(f)})
}

func (a *Server) export(w http.ResponseWriter, r *http.Request) {
	writeValue(w, a.log, a.svc.Export())
}

func (a *Server) exportFunction(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		d, err := a.svc.ExportFunction(loc)
		if err != nil {
			return err
		}
		writeValue(w, a.log, d)
		return nil
	})
}

// --- global config ---------------------------------------------------------

// globalScopeOnly refuses function-scope config requests.
func globalScopeOnly(q url.Values) error {
	b, s := q.Get("bucket"), q.Get("scope")
	if (b != "" && b != eventing.Wildcard) || (s != "" && s != eventing.Wildcard) {
		return badRequest("only the global config (no bucket/scope) is supported, got bucket %q scope %q", b, s)
	}
	return nil
}

func (a *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	if err := globalScopeOnly(r.URL.Query()); err != nil {
		writeError(w, a.log, err)
		return
	}
	writeValue(w, a.log, a.svc.GlobalConfig())
}

func (a *Server) setConfig(w http.ResponseWriter, r *http.Request) {
	if err := globalScopeOnly(r.URL.Query()); err != nil {
		writeError(w, a.log, err)
		return
	}
	body, err := a.readBody(w, r)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	if _, err := a.svc.SetGlobalConfig(r.Context(), body); err != nil {
		writeError(w, a.log, err)
		return
	}
	// 8.x answers {"code":0,"info":"Config saved for *"}; 7.x answered
	// {"restart":false}. Both readers find their key.
	writeValue(w, a.log, struct {
		Code    int    `json:"code"`
		Info    string `json:"info"`
		Restart bool   `json:"restart"`
	}{Info: "Config saved for *"})
}

func (a *Server) deleteConfig(w http.ResponseWriter, r *http.Request) {
	if err := globalScopeOnly(r.URL.Query()); err != nil {
		writeError(w, a.log, err)
		return
	}
	writeError(w, a.log, badRequest("Deleting of global config not allowed"))
}

// --- stats and logs ----------------------------------------------------------

func (a *Server) stats(w http.ResponseWriter, r *http.Request) {
	writeValue(w, a.log, a.svc.Stats(r.Context(), fullStats(r.URL.Query())))
}

// fullStats reports whether type=full (or type=debug) was asked for.
func fullStats(q url.Values) bool {
	t := q.Get("type")
	return t == "full" || t == "debug"
}

func (a *Server) functionStats(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		st, err := a.svc.FunctionStats(r.Context(), loc, fullStats(r.URL.Query()))
		if err != nil {
			return err
		}
		writeValue(w, a.log, st)
		return nil
	})
}

// byQueryName runs h for the function named in the query.
func (a *Server) byQueryName(w http.ResponseWriter, r *http.Request, h func(eventing.Location) (any, error)) {
	loc, err := queryLocation(r.URL.Query())
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	v, err := h(loc)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeValue(w, a.log, v)
}

func (a *Server) getExecutionStats(w http.ResponseWriter, r *http.Request) {
	a.byQueryName(w, r, func(l eventing.Location) (any, error) { return a.svc.ExecutionStats(r.Context(), l) })
}

func (a *Server) getLatencyStats(w http.ResponseWriter, r *http.Request) {
	a.byQueryName(w, r, func(l eventing.Location) (any, error) { return a.svc.LatencyStats(r.Context(), l) })
}

func (a *Server) getFailureStats(w http.ResponseWriter, r *http.Request) {
	a.byQueryName(w, r, func(l eventing.Location) (any, error) { return a.svc.FailureStats(r.Context(), l) })
}

func (a *Server) resetStatsCounters(w http.ResponseWriter, r *http.Request) {
	loc, err := queryLocation(r.URL.Query())
	if err == nil {
		err = a.svc.ResetStats(r.Context(), loc)
	}
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeOK(w, a.log, "Done resetting counters")
}

// appLog reads the log lines for a getAppLog-style request.
func (a *Server) appLog(r *http.Request, loc eventing.Location, aggregateDefault bool) ([]string, error) {
	q := r.URL.Query()
	size := 0
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, badRequest("query parameter size must be a positive number of bytes, got %q", v)
		}
		size = n
	}
	aggregate, err := boolParam(q, "aggregate", aggregateDefault)
	if err != nil {
		return nil, err
	}
	return a.svc.AppLog(r.Context(), loc, size, aggregate)
}

// getAppLog serves /getAppLog: text/plain, newest line first.
func (a *Server) getAppLog(w http.ResponseWriter, r *http.Request) {
	loc, err := queryLocation(r.URL.Query())
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	lines, err := a.appLog(r, loc, false)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeText(w, strings.Join(lines, "\n"))
}

// functionAppLog serves /api/v1/functions/{name}/applog: a JSON array of
// lines, newest first, aggregated over all nodes unless aggregate=false.
func (a *Server) functionAppLog(w http.ResponseWriter, r *http.Request, name string) {
	a.withLocation(w, r, name, func(loc eventing.Location) error {
		lines, err := a.appLog(r, loc, true)
		if err != nil {
			return err
		}
		writeValue(w, a.log, lines)
		return nil
	})
}

// --- error codes -------------------------------------------------------------

func (a *Server) getErrorCodes(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		Name        string   `json:"name"`
		Code        int      `json:"code"`
		Description string   `json:"description"`
		Attributes  []string `json:"attributes,omitempty"`
	}
	var list []entry
	for _, c := range eventing.Codes() {
		list = append(list, entry{Name: c.Name, Code: c.Number, Description: c.Name, Attributes: c.Attributes})
	}
	writeValue(w, a.log, struct {
		HeaderKey string  `json:"header_key"`
		Version   int     `json:"version"`
		Revision  int     `json:"revision"`
		Errors    []entry `json:"errors"`
	}{statusHeader, 1, 1, list})
}
