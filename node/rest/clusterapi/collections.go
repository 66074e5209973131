package clusterapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"eventide/docstore"
)

// Scope and collection names, as ns_server's menelaus_web_collections
// validates them.
const (
	maxScopeNameLen = 251
	minMaxTTL       = -1 // 7.6: -1 means documents never expire
	maxMaxTTL       = 1<<31 - 1
)

// manifestJSON is a bucket's collections manifest; uids are hex strings.
type manifestJSON struct {
	UID    string              `json:"uid"`
	Scopes []manifestScopeJSON `json:"scopes"`
}

type manifestScopeJSON struct {
	Name        string                   `json:"name"`
	UID         string                   `json:"uid"`
	Collections []manifestCollectionJSON `json:"collections"`
}

type manifestCollectionJSON struct {
	Name    string `json:"name"`
	UID     string `json:"uid"`
	MaxTTL  int    `json:"maxTTL"`
	History bool   `json:"history"`
}

func hex32(v uint32) string { return strconv.FormatUint(uint64(v), 16) }

func manifest(b docstore.BucketInfo) manifestJSON {
	m := manifestJSON{UID: strconv.FormatUint(b.ManifestUID, 16), Scopes: make([]manifestScopeJSON, 0, len(b.Scopes))}
	for _, s := range b.Scopes {
		ms := manifestScopeJSON{Name: s.Name, UID: hex32(s.UID), Collections: make([]manifestCollectionJSON, 0, len(s.Collections))}
		for _, c := range s.Collections {
			ms.Collections = append(ms.Collections, manifestCollectionJSON{Name: c.Name, UID: hex32(c.UID)})
		}
		m.Scopes = append(m.Scopes, ms)
	}
	return m
}

func (h *Server) getManifest(w http.ResponseWriter, r *http.Request, p params) {
	b, ok := h.lookupBucket(w, r, p["bucket"])
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, manifest(b))
}

// collectionsBucket finds the bucket of a scope or collection change and
// checks that its type has collections (ns_server's assert_api_available).
func (h *Server) collectionsBucket(w http.ResponseWriter, r *http.Request, name string) bool {
	b, ok := h.lookupBucket(w, r, name)
	if !ok {
		return false
	}
	if b.Type == docstore.BucketTypeMemcached {
		h.writeError(w, r, textError(http.StatusBadRequest, "Not allowed on this type of bucket"))
		return false
	}
	return true
}

// validateScopeName applies ns_server's scope_validators to the form's
// name: required, 1-251 characters, [0-9A-Za-z_%-], not starting with _ or %.
func validateScopeName(form url.Values, fe fieldErrors) string {
	vs, ok := form["name"]
	if !ok {
		fe.add("name", "The value must be supplied")
		return ""
	}
	name := vs[0]
	if n := utf8.RuneCountInString(name); n < 1 || n > maxScopeNameLen {
		fe.add("name", fmt.Sprintf("Name length (%d) must be in the range from 1 to %d, inclusive", n, maxScopeNameLen))
		return ""
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '%') {
			fe.add("name", "Invalid value "+erlQuote(name)+" : Can only contain characters A-Z, a-z, 0-9 and the following symbols _ - %")
			return ""
		}
	}
	if name[0] == '_' || name[0] == '%' {
		fe.add("name", "First character must not be _ or %")
		return ""
	}
	return name
}

// rejectUnsupported reports every form key not in allowed (ns_server's
// validator:unsupported).
func rejectUnsupported(form url.Values, fe fieldErrors, allowed ...string) {
	for k := range form {
		if !slices.Contains(allowed, k) {
			fe.add(k, "Unsupported key")
		}
	}
}

// respondManifestUID replies {"uid": "<hex>"} with the bucket's manifest
// uid after a change (a later uid if other changes followed; it still
// includes this one).
func (h *Server) respondManifestUID(w http.ResponseWriter, r *http.Request, bucket string) {
	b, err := h.cat.Bucket(bucket)
	if err != nil {
		if msg := missingKeyspaceMessage(err, bucket, "", ""); msg != "" {
			h.writeError(w, r, globalError(http.StatusNotFound, msg))
			return
		}
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"uid": strconv.FormatUint(b.ManifestUID, 16)})
}

func (h *Server) createScope(w http.ResponseWriter, r *http.Request, p params) {
	bucket := p["bucket"]
	if !h.collectionsBucket(w, r, bucket) {
		return
	}
	form, ok := h.parseForm(w, r)
	if !ok {
		return
	}
	fe := fieldErrors{}
	name := validateScopeName(form, fe)
	rejectUnsupported(form, fe, "name")
	if len(fe) > 0 {
		h.writeError(w, r, validationError(fe, nil))
		return
	}
	if err := h.ks.CreateScope(r.Context(), bucket, name); err != nil {
		h.writeError(w, r, h.collectionsError(err, bucket, name, ""))
		return
	}
	h.respondManifestUID(w, r, bucket)
}

func (h *Server) deleteScope(w http.ResponseWriter, r *http.Request, p params) {
	bucket, scope := p["bucket"], p["scope"]
	if !h.collectionsBucket(w, r, bucket) {
		return
	}
	if scope == docstore.DefaultScope {
		h.writeError(w, r, globalError(http.StatusBadRequest, "Deleting _default scope is not allowed"))
		return
	}
	if err := h.ks.DeleteScope(r.Context(), bucket, scope); err != nil {
		h.writeError(w, r, h.collectionsError(err, bucket, scope, ""))
		return
	}
	h.respondManifestUID(w, r, bucket)
}

func (h *Server) createCollection(w http.ResponseWriter, r *http.Request, p params) {
	bucket, scope := p["bucket"], p["scope"]
	if !h.collectionsBucket(w, r, bucket) {
		return
	}
	form, ok := h.parseForm(w, r)
	if !ok {
		return
	}
	fe := fieldErrors{}
	if vs, ok := form["history"]; ok {
		switch vs[0] {
		case "true":
			// History retention needs the Magma storage engine.
			h.writeError(w, r, textError(http.StatusBadRequest, "Not allowed on this type of bucket"))
			return
		case "false":
		default:
			fe.add("history", "The value must be one of the following: [true,false]")
		}
	}
	if vs, ok := form["maxTTL"]; ok {
		// Accepted for compatibility; eventide does not apply a
		// collection's maxTTL to documents.
		if ttl, err := strconv.ParseInt(vs[0], 10, 64); err != nil {
			fe.add("maxTTL", "The value must be an integer")
		} else if ttl < minMaxTTL || ttl > maxMaxTTL {
			fe.add("maxTTL", fmt.Sprintf("The value must be in range from %d to %d", minMaxTTL, maxMaxTTL))
		}
	}
	for k, vs := range form {
		if len(vs) > 1 {
			fe.add(k, "Key specified more than once")
		}
	}
	name := validateScopeName(form, fe)
	rejectUnsupported(form, fe, "name", "maxTTL", "history")
	if len(fe) > 0 {
		h.writeError(w, r, validationError(fe, nil))
		return
	}
	ks := docstore.Keyspace{Bucket: bucket, Scope: scope, Collection: name}
	if err := h.ks.CreateCollection(r.Context(), ks); err != nil {
		h.writeError(w, r, h.collectionsError(err, bucket, scope, name))
		return
	}
	h.respondManifestUID(w, r, bucket)
}

func (h *Server) deleteCollection(w http.ResponseWriter, r *http.Request, p params) {
	bucket, scope, coll := p["bucket"], p["scope"], p["collection"]
	if !h.collectionsBucket(w, r, bucket) {
		return
	}
	ks := docstore.Keyspace{Bucket: bucket, Scope: scope, Collection: coll}
	if err := h.ks.DeleteCollection(r.Context(), ks); err != nil {
		h.writeError(w, r, h.collectionsError(err, bucket, scope, coll))
		return
	}
	h.respondManifestUID(w, r, bucket)
}
