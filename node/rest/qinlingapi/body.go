package qinlingapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"eventide/qinling"
)

// readBody reads r's body, at most limit bytes (413 beyond).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, tooLarge(fmt.Sprintf("Request body too large: the limit is %d bytes", limit))
		}
		return nil, badRequest("Cannot read the request body")
	}
	return b, nil
}

// decodeJSON reads r's body as one JSON object into v.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	return unmarshalObject(b, v, false)
}

// decodeOptionalJSON is decodeJSON for bodies that may be empty (v is then
// left as it is).
func (s *Server) decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	return unmarshalObject(b, v, true)
}

// unmarshalObject decodes b, which must hold one JSON object, into v, with
// errors in the API's words rather than encoding/json's.
func unmarshalObject(b []byte, v any, emptyOK bool) error {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		if emptyOK {
			return nil
		}
		return badRequest("The request body is empty: expecting a JSON object")
	}
	if trimmed[0] != '{' {
		return badRequest("Invalid request body: expecting a JSON object")
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError describes a decoding error without Go's type names.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest(fmt.Sprintf("Malformed JSON in the request body near byte %d", syn.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("Invalid request body: expecting a JSON object")
		}
		return badRequest(fmt.Sprintf("Invalid input for field %s: expecting %s", typ.Field, jsonKind(typ.Type)))
	}
	return badRequest("Malformed JSON in the request body")
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}

// functionForm is a function's create or update request, from a multipart
// form (the openstack client's upload), a URL-encoded form, or a JSON
// object. Absent fields are nil.
type functionForm struct {
	name, description, runtimeID, entry *string
	code                                *qinling.FunctionCode
	timeout                             *int
	memorySize, cpu                     *int64
	// pkg is the "package" file part; nil when there is none.
	pkg []byte
}

// parseFunctionForm reads a function request in any of its encodings.
func (s *Server) parseFunctionForm(w http.ResponseWriter, r *http.Request) (functionForm, error) {
	ctype, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return functionForm{}, badRequest("Invalid Content-Type header")
	}
	var fields map[string]string
	var pkg []byte
	switch ctype {
	case "multipart/form-data":
		fields, pkg, err = s.readMultipart(w, r, params["boundary"])
	case "application/x-www-form-urlencoded":
		fields, err = s.readURLEncoded(w, r)
	case "application/json", "":
		fields, err = s.readJSONFields(w, r)
	default:
		err = &apiError{http.StatusUnsupportedMediaType, fmt.Sprintf("Unsupported Content-Type %q: send multipart/form-data, a URL-encoded form or JSON", ctype)}
	}
	if err != nil {
		return functionForm{}, err
	}
	return functionFields(fields, pkg)
}

// functionFields interprets the fields of a function request.
func functionFields(fields map[string]string, pkg []byte) (functionForm, error) {
	f := functionForm{pkg: pkg}
	str := func(key string) *string {
		if v, ok := fields[key]; ok {
			return &v
		}
		return nil
	}
	f.name, f.description, f.runtimeID, f.entry = str("name"), str("description"), str("runtime_id"), str("entry")
	if v, ok := fields["code"]; ok {
		var code qinling.FunctionCode
		if err := unmarshalObject([]byte(v), &code, false); err != nil {
			return functionForm{}, badRequest(`Invalid input for field code: expecting a JSON object such as {"source": "package", "md5sum": "..."}`)
		}
		f.code = &code
	}
	if v, ok := fields["timeout"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return functionForm{}, badRequest("Invalid input for field timeout: expecting an integer")
		}
		f.timeout = &n
	}
	// The API document's curl example sends "memory"; Qinling reads
	// "memory_size". Both are accepted.
	for _, key := range []string{"memory", "memory_size"} {
		if v, ok := fields[key]; ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return functionForm{}, badRequest(fmt.Sprintf("Invalid input for field %s: expecting an integer", key))
			}
			f.memorySize = &n
		}
	}
	if v, ok := fields["cpu"]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return functionForm{}, badRequest("Invalid input for field cpu: expecting an integer")
		}
		f.cpu = &n
	}
	return f, nil
}

// maxFormFields bounds the parts of a form, so that a body of thousands
// of tiny parts is refused early.
const maxFormFields = 64

// readMultipart reads a multipart form: the "package" part up to
// MaxPackageBytes, every other part up to MaxBodyBytes.
func (s *Server) readMultipart(w http.ResponseWriter, r *http.Request, boundary string) (map[string]string, []byte, error) {
	if boundary == "" {
		return nil, nil, badRequest("Invalid multipart body: the Content-Type has no boundary")
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxPackageBytes+s.cfg.MaxBodyBytes)
	mr := multipart.NewReader(body, boundary)
	fields := make(map[string]string)
	var pkg []byte
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, multipartError(err, s.cfg.MaxPackageBytes)
		}
		if n >= maxFormFields {
			return nil, nil, badRequest(fmt.Sprintf("Invalid multipart body: more than %d parts", maxFormFields))
		}
		name := part.FormName()
		limit := s.cfg.MaxBodyBytes
		if name == "package" {
			limit = s.cfg.MaxPackageBytes
		}
		b, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, nil, multipartError(err, s.cfg.MaxPackageBytes)
		}
		if int64(len(b)) > limit {
			if name == "package" {
				return nil, nil, tooLarge(fmt.Sprintf("The package is too large: the limit is %d bytes", limit))
			}
			return nil, nil, tooLarge(fmt.Sprintf("Form field %q is too large: the limit is %d bytes", name, limit))
		}
		switch {
		case name == "package":
			pkg = b
		case name != "":
			fields[name] = string(b)
		}
	}
	return fields, pkg, nil
}

// multipartError maps a multipart reading error.
func multipartError(err error, maxPackage int64) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return tooLarge(fmt.Sprintf("The request body is too large: a package may be at most %d bytes", maxPackage))
	}
	return badRequest("Malformed multipart body")
}

// readURLEncoded reads a URL-encoded form (the client's update without a
// package).
func (s *Server) readURLEncoded(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	b, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, badRequest("Malformed URL-encoded form body")
	}
	fields := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) > 0 {
			fields[k] = v[0]
		}
	}
	return fields, nil
}

// readJSONFields reads a JSON object's members as form fields: strings as
// they are, other values (numbers, the code object) as their JSON text;
// null members are absent.
func (s *Server) readJSONFields(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := s.decodeJSON(w, r, &raw); err != nil {
		return nil, err
	}
	fields := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case string(v) == "null":
		case len(v) > 0 && v[0] == '"':
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return nil, badRequest(fmt.Sprintf("Invalid input for field %s", k))
			}
			fields[k] = str
		default:
			fields[k] = string(v)
		}
	}
	return fields, nil
}

// parseBool reads a boolean the way oslo's bool_from_string does.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

// versionNumber is a function_version that may also arrive as a JSON
// string of digits: the openstack client's "alias update" and "webhook
// update" pass --function-version on unconverted.
type versionNumber int

func (n *versionNumber) UnmarshalJSON(b []byte) error {
	var v int
	if err := json.Unmarshal(b, &v); err == nil {
		*n = versionNumber(v)
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(str)); err == nil {
			*n = versionNumber(v)
			return nil
		}
	}
	// The decoder names the field in a type error (jsonError's message).
	return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeOf(0)}
}
