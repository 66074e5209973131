package queryapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"eventide/query/engine"
	"eventide/query/value"
)

// Couchbase's query service error codes for bad requests (its errors
// package, "service" range).
const (
	codeReadonly             = 1000
	codeHTTPMethod           = 1010
	codeNotImplemented       = 1020
	codeUnrecognizedValue    = 1030
	codeBadValue             = 1040
	codeMissingValue         = 1050
	codeMultipleValues       = 1060
	codeUnrecognizedParam    = 1065
	codeTypeMismatch         = 1070
	codeTimeout              = 1080
	codeInvalidValue         = 1090
	codeClientID             = 1110
	codeShuttingDown         = 1180
	codeServiceUnavailable   = 1182
	codeRequestSizeExceeded  = 1193 // and 1194, results
	codeAdminAuth            = 2120
	codeParseSyntax          = 3000
	codePlan                 = 4000
	codeNoSuchPrepared       = 4040
	codeIndexExists          = 4300
	codeInternal             = 5000
	codeSubqueryBuild        = 5370
	codeDatastoreAuthz       = 10000
	codeNamespaceNotFound    = 12002
	codeKeyspaceNotFound     = 12003
	codeBucketNotFound       = 12020
	codeInsufficientCreds    = 13014
	maxClientContextIDLength = 64
)

func qerr(code int, format string, a ...any) *engine.Error {
	return &engine.Error{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// badValue is Couchbase's 1040, "Error processing <feature> - cause: ...".
func badValue(feature, cause string) *engine.Error {
	return qerr(codeBadValue, "Error processing %s - cause: %s", feature, cause)
}

func typeMismatch(feature, expected string) *engine.Error {
	return qerr(codeTypeMismatch, "%s has to be of type %s", feature, expected)
}

// arg is one request parameter's value: a form value (URL query or
// url-encoded body) or a JSON body member.
type arg struct {
	name string
	form []string
	raw  json.RawMessage // nil for a form value
}

func (a arg) isJSON() bool { return a.raw != nil }

// str reads a string parameter: a form value trimmed, a JSON string.
func (a arg) str() (string, *engine.Error) {
	if !a.isJSON() {
		switch len(a.form) {
		case 0:
			return "", nil
		case 1:
			return strings.TrimSpace(a.form[0]), nil
		default:
			return "", qerr(codeMultipleValues, "Multiple values for %s.", a.name)
		}
	}
	var s string
	if err := json.Unmarshal(a.raw, &s); err != nil {
		return "", typeMismatch(a.name, "string")
	}
	return s, nil
}

// tristate reads a boolean parameter; set is false for an empty form
// value (which Couchbase treats as not given).
func (a arg) tristate() (v, set bool, e *engine.Error) {
	if a.isJSON() {
		if err := json.Unmarshal(a.raw, &v); err != nil {
			return false, false, typeMismatch(a.name, "boolean")
		}
		return v, true, nil
	}
	s, e := a.str()
	if e != nil || s == "" {
		return false, false, e
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, false, badValue(a.name, "unable to parse tristate as a boolean")
	}
	return v, true, nil
}

// integer reads an integer parameter: a number, or a string of digits.
func (a arg) integer() (int64, *engine.Error) {
	s := ""
	if a.isJSON() {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(a.raw))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err == nil {
			switch t := x.(type) {
			case json.Number:
				n = t
			case string:
				n = json.Number(t)
			}
		}
		if f, err := n.Float64(); err == nil && n != "" {
			if i, err := n.Int64(); err == nil {
				return i, nil
			}
			return int64(f), nil
		}
		return 0, badValue(a.name, a.name+" is invalid")
	}
	s, e := a.str()
	if e != nil {
		return 0, e
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, badValue(a.name, a.name+" is invalid")
	}
	return i, nil
}

// jsonText returns the parameter as JSON text: the member itself, or a
// form value holding JSON.
func (a arg) jsonText() ([]byte, *engine.Error) {
	if a.isJSON() {
		return a.raw, nil
	}
	s, e := a.str()
	return []byte(s), e
}

// parseDuration reads a duration as Couchbase's default style does: a bare
// number is seconds, "h:m:s" an interval, anything else a Go duration
// ("10s", "1m30s", "250ms").
func parseDuration(s string) (time.Duration, *engine.Error) {
	if s == "" {
		return 0, nil
	}
	bad := badValue("duration", "Unable to parse duration: "+s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, bad
		}
		var d time.Duration
		for i, p := range parts {
			unit := []time.Duration{time.Hour, time.Minute, time.Second}[3-len(parts)+i]
			if i == len(parts)-1 {
				f, err := strconv.ParseFloat(p, 64)
				if err != nil {
					return 0, bad
				}
				d += time.Duration(f * float64(unit))
				continue
			}
			n, err := strconv.Atoi(p)
			if err != nil {
				return 0, bad
			}
			d += time.Duration(n) * unit
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	return d, nil
}

// queryRequest is a parsed /query/service request.
type queryRequest struct {
	req     engine.Request
	pretty  bool // default false, as Couchbase's node setting
	metrics bool // default true
	// signature: default true.
	signature bool
	// creds are the users of the "creds" parameter.
	creds []credential

	statements int // statement and prepared parameters seen
	// consistency is the raw scan_consistency; vectors says whether a
	// scan_vector(s) came with it (at_plus needs one).
	consistency string
	vectors     bool
	// autoExecute runs a PREPARE statement's plan at once, answering
	// its name in "prepared" (SDKs' enhanced prepared statements).
	autoExecute bool
}

type credential struct{ user, pass string }

// handlers are the request parameters Couchbase accepts, by lower-case
// name. Those eventide has no use for are checked and ignored, as
// Couchbase ignores settings that do not apply.
var handlers map[string]func(q *queryRequest, a arg, method string) *engine.Error

func init() {
	ignoreString := func(q *queryRequest, a arg, _ string) *engine.Error { _, e := a.str(); return e }
	ignoreBool := func(q *queryRequest, a arg, _ string) *engine.Error { _, _, e := a.tristate(); return e }
	ignoreInt := func(q *queryRequest, a arg, _ string) *engine.Error { _, e := a.integer(); return e }
	ignoreDuration := func(q *queryRequest, a arg, _ string) *engine.Error {
		s, e := a.str()
		if e != nil {
			return e
		}
		_, e = parseDuration(s)
		return e
	}
	ignoreAny := func(*queryRequest, arg, string) *engine.Error { return nil }
	// notImplemented answers Couchbase's 1020 for features eventide does
	// not have (transactions, natural language), rather than silently
	// running a statement outside the transaction it names.
	notImplemented := func(q *queryRequest, a arg, _ string) *engine.Error {
		s, _ := a.jsonText()
		return qerr(codeNotImplemented, "%s %s not yet implemented", strings.TrimSpace(string(s)), a.name)
	}
	handlers = map[string]func(q *queryRequest, a arg, method string) *engine.Error{
		"statement": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			q.req.Statement = s
			q.statements++
			return e
		},
		"prepared": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			if e != nil {
				return e
			}
			if s == "" {
				return nil
			}
			q.req.Prepared = s
			q.statements++
			return nil
		},
		// encoded_plan is the plan of a prepared statement older SDKs send
		// along; plans are the engine's own, so only the name counts.
		"encoded_plan": ignoreString,
		"args": func(q *queryRequest, a arg, _ string) *engine.Error {
			text, e := a.jsonText()
			if e != nil || len(text) == 0 {
				return e
			}
			v, err := value.FromJSON(text)
			elems, ok := v.Elems()
			if err != nil || !ok {
				if a.isJSON() {
					return typeMismatch("args", "array")
				}
				return badValue("args", "unable to parse args parameter as array")
			}
			q.req.Positional = elems
			return nil
		},
		"timeout": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			if e != nil {
				return e
			}
			q.req.Timeout, e = parseDuration(s)
			return e
		},
		"scan_consistency": func(q *queryRequest, a arg, _ string) *engine.Error {
			if a.isJSON() && string(a.raw) == "null" {
				return badValue(a.name, "value is not specified")
			}
			s, e := a.str()
			q.consistency = s
			return e
		},
		"scan_wait": ignoreDuration,
		"scan_vector": func(q *queryRequest, a arg, _ string) *engine.Error {
			q.vectors = true
			return nil
		},
		"scan_vectors": func(q *queryRequest, a arg, _ string) *engine.Error {
			q.vectors = true
			return nil
		},
		"readonly": func(q *queryRequest, a arg, method string) *engine.Error {
			v, set, e := a.tristate()
			if e != nil || !set {
				return e
			}
			if method == http.MethodGet && !v {
				return qerr(codeInvalidValue, "readonly = false is invalid. This cannot be used with HTTP GET method.")
			}
			q.req.Readonly = v
			return nil
		},
		"metrics": func(q *queryRequest, a arg, _ string) *engine.Error {
			v, set, e := a.tristate()
			if set {
				q.metrics = v
			}
			return e
		},
		"signature": func(q *queryRequest, a arg, _ string) *engine.Error {
			v, set, e := a.tristate()
			if set {
				q.signature = v
			}
			return e
		},
		"pretty": func(q *queryRequest, a arg, _ string) *engine.Error {
			v, set, e := a.tristate()
			if set {
				q.pretty = v
			}
			return e
		},
		"format": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			if e != nil || s == "" {
				return e
			}
			switch strings.ToUpper(s) {
			case "JSON":
				return nil
			case "XML", "CSV", "TSV":
				return qerr(codeNotImplemented, "%s format not yet implemented", s)
			}
			return qerr(codeUnrecognizedValue, "Unknown format value: %s", s)
		},
		"encoding": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			if e != nil || s == "" || strings.EqualFold(s, "UTF-8") {
				return e
			}
			return qerr(codeUnrecognizedValue, "Unknown encoding value: %s", s)
		},
		"compression": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			if e != nil || s == "" {
				return e
			}
			switch strings.ToUpper(s) {
			case "NONE":
				return nil
			case "ZIP", "RLE", "LZMA", "LZO":
				return qerr(codeNotImplemented, "%s compression not yet implemented", s)
			}
			return qerr(codeUnrecognizedValue, "Unknown compression value: %s", s)
		},
		"client_context_id": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			if e != nil {
				return e
			}
			if len(s) > maxClientContextIDLength {
				s = s[:maxClientContextIDLength]
			}
			if strings.ContainsAny(s, `"\`) {
				return qerr(codeClientID, `forbidden character (\ or ") in client_context_id`)
			}
			q.req.ClientContextID = s
			return nil
		},
		"query_context": func(q *queryRequest, a arg, _ string) *engine.Error {
			s, e := a.str()
			q.req.QueryContext = s
			return e
		},
		"namespace": ignoreString,
		"creds": func(q *queryRequest, a arg, _ string) *engine.Error {
			text, e := a.jsonText()
			if e != nil || len(text) == 0 {
				return e
			}
			var items []map[string]any
			if err := json.Unmarshal(text, &items); err != nil {
				if a.isJSON() {
					return typeMismatch("creds", "array of { user, pass }")
				}
				return badValue("creds", "unable to parse creds")
			}
			for _, it := range items {
				u, uok := it["user"].(string)
				p, pok := it["pass"].(string)
				if !uok || !pok {
					return typeMismatch("creds", "array of { user, pass }")
				}
				q.creds = append(q.creds, credential{user: u, pass: p})
			}
			return nil
		},
		"max_parallelism": ignoreInt, "scan_cap": ignoreInt, "pipeline_cap": ignoreInt,
		"pipeline_batch": ignoreInt, "max_index_api": ignoreInt, "n1ql_feat_ctrl": ignoreInt,
		"memory_quota": ignoreInt, "error_limit": ignoreInt,
		"auto_execute": func(q *queryRequest, a arg, _ string) *engine.Error {
			v, set, e := a.tristate()
			if set {
				q.autoExecute = v
			}
			return e
		},
		"auto_prepare": ignoreBool, "use_fts": ignoreBool,
		"use_cbo": ignoreBool, "preserve_expiry": ignoreBool, "sort_projection": ignoreBool,
		"profile": ignoreString, "controls": ignoreBool, "use_replica": ignoreString,
		"duration_style": ignoreString, "loglevel": ignoreString, "kvtimeout": ignoreDuration,
		"scanreport_wait": ignoreDuration, "durability_level": ignoreString,
		"atrcollection": ignoreString, "numatrs": ignoreInt,
		"txid": notImplemented, "tximplicit": notImplemented, "txdata": notImplemented,
		"txstmtnum": ignoreAny, "txtimeout": ignoreAny,
		"natural": notImplemented, "natural_cred": ignoreAny, "natural_orgid": ignoreAny,
		"natural_context": ignoreAny, "natural_hint": ignoreAny, "natural_output": ignoreAny,
		"natural_execute": ignoreAny, "natural_chatid": ignoreAny, "natural_vendor": ignoreAny,
		"natural_model": ignoreAny, "natural_config": ignoreAny,
	}
}

// parseQueryRequest reads a request's parameters as Couchbase does: a JSON
// body (Content-Type application/json), or form values from the URL and a
// url-encoded body; any other POST body is the statement itself.
// Parameters named $name or @name are named arguments.
func parseQueryRequest(r *http.Request, maxBody int64) (*queryRequest, *engine.Error) {
	q := &queryRequest{metrics: true, signature: true}
	args, named, e := readArgs(r, maxBody)
	if e != nil {
		return q, e
	}
	if r.Method == http.MethodGet {
		q.req.Readonly = true
	}
	for _, a := range args {
		h, ok := handlers[a.name]
		if !ok {
			return q, qerr(codeUnrecognizedParam, "Unrecognized parameter in request: %s", a.name)
		}
		if e := h(q, a, r.Method); e != nil {
			return q, e
		}
	}
	q.req.Named = named
	switch q.statements {
	case 0:
		return q, qerr(codeMissingValue, "No statement or prepared value")
	case 1:
	default:
		return q, qerr(codeMultipleValues, "Multiple values for statement and prepared.")
	}
	switch strings.ToUpper(q.consistency) {
	case "", "NOT_SET", "NOT_BOUNDED":
		q.req.Consistency = engine.NotBounded
	case "REQUEST_PLUS", "STATEMENT_PLUS":
		q.req.Consistency = engine.RequestPlus
	case "AT_PLUS":
		// at_plus waits for the mutations its scan vector names: waiting
		// for every acknowledged write is a superset of that.
		if !q.vectors {
			return q, qerr(codeMissingValue, "No scan_vector value")
		}
		q.req.Consistency = engine.RequestPlus
	default:
		return q, qerr(codeUnrecognizedValue, "Unknown scan_consistency value: %s", q.consistency)
	}
	return q, nil
}

// readArgs collects the parameters in the order given and the named
// arguments; names are lower-cased, and empty ones ignored.
func readArgs(r *http.Request, maxBody int64) ([]arg, map[string]value.Value, *engine.Error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var body []byte
	if r.Method == http.MethodPost {
		// A body past the limit is unreadable, as behind Couchbase's
		// http.MaxBytesReader: the same errors as a failed read.
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || int64(len(b)) > maxBody {
			switch ct {
			case "application/json":
				return nil, nil, badValue("JSON request body", "unable to read body of request")
			case "", "application/x-www-form-urlencoded":
				return nil, nil, badValue("request form", "unable to parse form")
			}
			return nil, nil, badValue("statement", "unable to read body of request")
		}
		body = b
	}
	var args []arg
	named := map[string]value.Value{}
	addNamed := func(name string, v value.Value) *engine.Error {
		if _, dup := named[name[1:]]; dup {
			return qerr(codeMultipleValues, "Multiple values for %s.", name)
		}
		named[strings.TrimSpace(name[1:])] = v
		return nil
	}
	if ct == "application/json" {
		members, err := jsonMembers(body)
		if err != nil {
			return nil, nil, badValue("getting key", jsonProblem(err))
		}
		for _, m := range members {
			name := strings.TrimSpace(m.name)
			switch {
			case name == "":
			case name[0] == '$' || name[0] == '@':
				v, err := value.FromJSON(m.raw)
				if err != nil {
					return nil, nil, badValue("getting value", "invalid JSON value of "+name)
				}
				if e := addNamed(name, v); e != nil {
					return nil, nil, e
				}
			default:
				args = append(args, arg{name: strings.ToLower(name), raw: m.raw})
			}
		}
		return args, named, nil
	}
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, badValue("request form", "unable to parse form")
	}
	if r.Method == http.MethodPost {
		if ct == "" || ct == "application/x-www-form-urlencoded" {
			bf, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, nil, badValue("request form", "unable to parse form")
			}
			for k, vs := range bf {
				form[k] = append(form[k], vs...)
			}
		} else if _, ok := form["statement"]; !ok && len(body) > 0 {
			// curl --data-binary with another content type: the body is
			// the statement.
			form["statement"] = []string{string(body)}
		}
	}
	for k, vs := range form {
		name := strings.TrimSpace(k)
		switch {
		case name == "":
		case name[0] == '$' || name[0] == '@':
			if len(vs) != 1 {
				return nil, nil, qerr(codeMultipleValues, "Multiple values for '%s'.", name[1:])
			}
			// A value that is not JSON is kept as binary, as Couchbase does.
			if e := addNamed(name, value.ParseDocument([]byte(strings.TrimSpace(vs[0])))); e != nil {
				return nil, nil, e
			}
		default:
			args = append(args, arg{name: strings.ToLower(name), form: vs})
		}
	}
	return args, named, nil
}

// jsonProblem describes a body that is not a JSON object, in words of
// its own rather than the decoder's.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at offset %d", syn.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON request body ends early"
	case errors.Is(err, errNotObject):
		return err.Error()
	}
	return "the request body is not a valid JSON object"
}

var errNotObject = errors.New("the request body is not a JSON object")

type member struct {
	name string
	raw  json.RawMessage
}

// jsonMembers returns a JSON object's members in order, duplicates kept.
func jsonMembers(body []byte) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, errNotObject
	}
	var out []member
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, member{name: name, raw: raw})
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errNotObject
	}
	return out, nil
}
