package queryapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"eventide/query/library"
)

// Bodies of the functions form.

// libraryBody is a library of the functions form.
type libraryBody struct {
	Name      string         `json:"name"`
	Bucket    string         `json:"bucket,omitempty"`
	Scope     string         `json:"scope,omitempty"`
	Functions []functionBody `json:"functions"`
}

// functionBody is a function object; id is optional on input.
type functionBody struct {
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
	Code string `json:"code"`
}

// textBody is a library as /evaluator/v1/libraries lists it.
type textBody struct {
	Name   string `json:"name"`
	Bucket string `json:"bucket"`
	Scope  string `json:"scope"`
	Code   string `json:"code"`
}

func renderLibrary(l library.Library) libraryBody {
	fns := l.FunctionObjects()
	out := libraryBody{Name: l.Name, Bucket: l.Scope.Bucket, Scope: l.Scope.Scope, Functions: make([]functionBody, len(fns))}
	for i, f := range fns {
		out.Functions[i] = functionBody(f)
	}
	return out
}

func badRequest(msg string) error {
	return &library.Error{Kind: library.ErrInvalid, Message: msg}
}

// readBody reads the whole body within MaxBodyBytes; it must be UTF-8.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &library.Error{Kind: library.ErrTooLarge, Message: "The request body is larger than the limit of " + itoa(s.cfg.MaxBodyBytes) + " bytes"}
	case err != nil:
		return nil, badRequest("The request body could not be read")
	case !utf8.Valid(b):
		return nil, badRequest("The request body is not valid UTF-8")
	}
	return b, nil
}

// decode reads a JSON body into v; what names the expected value in the
// error ("a library object").
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any, what string) error {
	b, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return badRequest("The request body is not " + what + " in JSON")
	}
	if dec.More() {
		return badRequest("The request body holds more than " + what)
	}
	return nil
}

// spec turns a library body into the service's spec; the name defaults to
// path's and must equal it when both are given.
func spec(b libraryBody, path string) (library.LibrarySpec, error) {
	if b.Functions == nil {
		return library.LibrarySpec{}, badRequest("The library object has no functions array")
	}
	if path != "" {
		if b.Name == "" {
			b.Name = path
		}
		if b.Name != path {
			return library.LibrarySpec{}, &library.Error{Kind: library.ErrNameMismatch,
				Message: "Library name in the body [" + b.Name + "] does not match the library name in the path [" + path + "]"}
		}
	}
	out := library.LibrarySpec{Name: b.Name, Functions: make([]library.Function, len(b.Functions))}
	for i, f := range b.Functions {
		out.Functions[i] = library.Function(f)
	}
	return out, nil
}

// /functions/v1/libraries

func (s *Server) getLibraries(w http.ResponseWriter, r *http.Request, p params) {
	libs, err := s.libs.LibrariesIn(p.scope)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]libraryBody, len(libs))
	for i, l := range libs {
		out[i] = renderLibrary(l)
	}
	s.writeJSON(w, out)
}

func (s *Server) postLibraries(w http.ResponseWriter, r *http.Request, p params) {
	s.writeLibraries(w, r, p, false)
}

func (s *Server) putLibraries(w http.ResponseWriter, r *http.Request, p params) {
	s.writeLibraries(w, r, p, true)
}

func (s *Server) writeLibraries(w http.ResponseWriter, r *http.Request, p params, replace bool) {
	if !p.scope.IsGlobal() {
		s.writeError(w, r, badRequest("The collection of libraries is global: bucket and scope are not accepted here"))
		return
	}
	var bodies []libraryBody
	if err := s.decode(w, r, &bodies, "an array of library objects"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if bodies == nil {
		s.writeError(w, r, badRequest("The request body is not an array of library objects in JSON"))
		return
	}
	specs := make([]library.LibrarySpec, len(bodies))
	for i, b := range bodies {
		sp, err := spec(b, "")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		specs[i] = sp
	}
	var err error
	if replace {
		err = s.libs.ReplaceAllLibraries(r.Context(), specs)
	} else {
		err = s.libs.AppendLibraries(r.Context(), specs)
	}
	s.writeResult(w, r, err)
}

func (s *Server) deleteLibraries(w http.ResponseWriter, r *http.Request, p params) {
	if !p.scope.IsGlobal() {
		s.writeError(w, r, badRequest("The collection of libraries is global: bucket and scope are not accepted here"))
		return
	}
	s.writeResult(w, r, s.libs.DeleteAllLibraries(r.Context()))
}

// /functions/v1/libraries/{library}

func (s *Server) getLibrary(w http.ResponseWriter, r *http.Request, p params) {
	l, err := s.libs.Lookup(p.scope, p.library)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, renderLibrary(l))
}

func (s *Server) postLibrary(w http.ResponseWriter, r *http.Request, p params) {
	s.writeLibrary(w, r, p, false)
}

func (s *Server) putLibrary(w http.ResponseWriter, r *http.Request, p params) {
	s.writeLibrary(w, r, p, true)
}

func (s *Server) writeLibrary(w http.ResponseWriter, r *http.Request, p params, replace bool) {
	var b libraryBody
	if err := s.decode(w, r, &b, "a library object"); err != nil {
		s.writeError(w, r, err)
		return
	}
	sp, err := spec(b, p.library)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if replace {
		err = s.libs.ReplaceLibrary(r.Context(), p.scope, sp)
	} else {
		err = s.libs.AppendLibrary(r.Context(), p.scope, sp)
	}
	s.writeResult(w, r, err)
}

func (s *Server) deleteLibrary(w http.ResponseWriter, r *http.Request, p params) {
	s.writeResult(w, r, s.libs.DeleteLibrary(r.Context(), p.scope, p.library))
}

// .../libraries/{library}/functions/{function}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request, p params) {
	f, err := s.libs.Function(p.scope, p.library, p.function)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, functionBody(f))
}

// putFunction serves POST and PUT alike, as Couchbase documents.
func (s *Server) putFunction(w http.ResponseWriter, r *http.Request, p params) {
	var b functionBody
	if err := s.decode(w, r, &b, "a function object"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if b.Name == "" {
		b.Name = p.function
	}
	if b.Name != p.function {
		s.writeError(w, r, &library.Error{Kind: library.ErrNameMismatch,
			Message: "Function name in the body [" + b.Name + "] does not match the function name in the path [" + p.function + "]"})
		return
	}
	s.writeResult(w, r, s.libs.PutFunction(r.Context(), p.scope, p.library, library.Function(b)))
}

func (s *Server) deleteFunction(w http.ResponseWriter, r *http.Request, p params) {
	s.writeResult(w, r, s.libs.DeleteFunction(r.Context(), p.scope, p.library, p.function))
}

// /evaluator/v1/libraries

// getTexts lists every library (global and scoped), or one scope's.
func (s *Server) getTexts(w http.ResponseWriter, r *http.Request, p params) {
	libs := s.libs.Libraries()
	if !p.scope.IsGlobal() {
		var err error
		if libs, err = s.libs.LibrariesIn(p.scope); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out := make([]textBody, len(libs))
	for i, l := range libs {
		out[i] = textBody{Name: l.Name, Bucket: l.Scope.Bucket, Scope: l.Scope.Scope, Code: l.Code()}
	}
	s.writeJSON(w, out)
}

// getText answers {"<library>": "<code>"}.
func (s *Server) getText(w http.ResponseWriter, r *http.Request, p params) {
	l, err := s.libs.Lookup(p.scope, p.library)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, map[string]string{l.Name: l.Code()})
}

// putText takes the library's JavaScript as the body. A body that is one
// JSON string (the form the API's schema shows) is taken as that string:
// a library made of one string literal would define nothing.
func (s *Server) putText(w http.ResponseWriter, r *http.Request, p params) {
	b, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	text := string(b)
	if t := strings.TrimSpace(text); strings.HasPrefix(t, `"`) {
		var str string
		if json.Unmarshal([]byte(t), &str) == nil {
			text = str
		}
	}
	s.writeResult(w, r, s.libs.PutText(r.Context(), p.scope, p.library, text))
}
