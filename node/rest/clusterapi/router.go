package clusterapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"eventide/node/rest/restauth"
)

// params holds the values of a route's {name} segments, unescaped.
type params map[string]string

type handlerFunc func(w http.ResponseWriter, r *http.Request, p params)

// route is one path pattern and its handlers by method.
type route struct {
	segments []string // literal, or "{name}" for a parameter
	methods  map[string]handlerFunc
}

func (h *Server) buildRoutes() []route {
	r := func(pattern string, methods map[string]handlerFunc) route {
		return route{segments: strings.Split(strings.Trim(pattern, "/"), "/"), methods: methods}
	}
	return []route{
		r("/pools", map[string]handlerFunc{"GET": h.getPools}),
		r("/pools/default", map[string]handlerFunc{"GET": h.getPoolDefault}),
		r("/poolsStreaming/default", map[string]handlerFunc{"GET": h.streamPoolDefault}),
		r("/pools/default/nodeServices", map[string]handlerFunc{"GET": h.getNodeServices}),
		r("/pools/default/nodeServicesStreaming", map[string]handlerFunc{"GET": h.streamNodeServices}),
		r("/whoami", map[string]handlerFunc{"GET": h.getWhoami}),
		r("/pools/default/buckets", map[string]handlerFunc{"GET": h.listBuckets, "POST": h.createBucket}),
		r("/pools/default/buckets/{bucket}", map[string]handlerFunc{"GET": h.getBucket, "DELETE": h.deleteBucket}),
		r("/pools/default/b/{bucket}", map[string]handlerFunc{"GET": h.getTerseBucket}),
		r("/pools/default/bs/{bucket}", map[string]handlerFunc{"GET": h.streamTerseBucket}),
		r("/pools/default/bucketsStreaming/{bucket}", map[string]handlerFunc{"GET": h.streamBucket}),
		r("/pools/default/buckets/{bucket}/scopes", map[string]handlerFunc{"GET": h.getManifest, "POST": h.createScope}),
		r("/pools/default/buckets/{bucket}/scopes/{scope}", map[string]handlerFunc{"DELETE": h.deleteScope}),
		r("/pools/default/buckets/{bucket}/scopes/{scope}/collections", map[string]handlerFunc{"POST": h.createCollection}),
		r("/pools/default/buckets/{bucket}/scopes/{scope}/collections/{collection}", map[string]handlerFunc{"DELETE": h.deleteCollection}),
		r("/pools/default/buckets/{bucket}/docs", map[string]handlerFunc{"GET": h.listDocs}),
		r("/pools/default/buckets/{bucket}/docs/{docid}", map[string]handlerFunc{"GET": h.getDoc, "POST": h.setDoc, "DELETE": h.deleteDoc}),
		r("/pools/default/buckets/{bucket}/scopes/{scope}/collections/{collection}/docs", map[string]handlerFunc{"GET": h.listDocs}),
		r("/pools/default/buckets/{bucket}/scopes/{scope}/collections/{collection}/docs/{docid}", map[string]handlerFunc{"GET": h.getDoc, "POST": h.setDoc, "DELETE": h.deleteDoc}),
	}
}

// ServeHTTP authenticates the request, routes it, and turns a panic into a
// 500 so that no handler bug reaches the client as a dropped connection.
func (h *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
			h.writeError(w, r, &apiError{status: http.StatusInternalServerError, json: []string{unexpectedMessage}})
		}
	}()
	id, err := restauth.Authenticate(r, h.cfg.Credentials)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="Couchbase Server Admin / REST"`)
		h.writeError(w, r, &apiError{status: http.StatusUnauthorized, kind: bodyNone})
		return
	}
	r = r.WithContext(restauth.NewContext(r.Context(), id))
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok {
		h.writeError(w, r, notFound())
		return
	}
	for _, rt := range h.routes {
		p, ok := rt.match(segs)
		if !ok {
			continue
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		fn := rt.methods[method]
		if fn == nil {
			allowed := make([]string, 0, len(rt.methods))
			for m := range rt.methods {
				allowed = append(allowed, m)
			}
			slices.Sort(allowed)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			h.writeError(w, r, textError(http.StatusMethodNotAllowed, "Method Not Allowed"))
			return
		}
		fn(w, r, p)
		return
	}
	h.writeError(w, r, notFound())
}

// splitPath splits an escaped path into unescaped segments, dropping empty
// ones as ns_server does ("/pools/default/" is "/pools/default").
func splitPath(escaped string) ([]string, bool) {
	var segs []string
	for _, s := range strings.Split(escaped, "/") {
		if s == "" {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs = append(segs, u)
	}
	return segs, true
}

func (rt route) match(segs []string) (params, bool) {
	if len(segs) != len(rt.segments) {
		return nil, false
	}
	var p params
	for i, s := range rt.segments {
		if strings.HasPrefix(s, "{") {
			if p == nil {
				p = params{}
			}
			p[strings.Trim(s, "{}")] = segs[i]
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	return p, true
}
