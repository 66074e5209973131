package eventingapi

import (
	"net/http"

	"eventide/eventing"
)

// getInsight serves /getInsight: code insight by function,
// {"<function>": {"script": ..., "lines": {"<line>": {...}}}}, for every
// function or the one named by name (appName; bucket and scope for scoped
// functions). This node's insight, or every node's merged with
// aggregate=true.
func (a *Server) getInsight(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	aggregate, err := boolParam(q, "aggregate", false)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	var out map[string]eventing.FunctionInsight
	if q.Get("name") == "" && q.Get("appName") == "" {
		out, err = a.svc.Insight(r.Context(), aggregate)
	} else {
		var loc eventing.Location
		if loc, err = queryLocation(q); err == nil {
			out, err = a.svc.FunctionInsight(r.Context(), loc, aggregate)
		}
	}
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeValue(w, a.log, out)
}
