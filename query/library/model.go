package library

import (
	"crypto/sha256"
	"slices"
	"strings"
)

// Scope is where a library lives: the zero Scope is the global namespace,
// otherwise a bucket's scope (both set).
type Scope struct {
	Bucket string
	Scope  string
}

// IsGlobal reports whether s is the global namespace.
func (s Scope) IsGlobal() bool { return s.Bucket == "" && s.Scope == "" }

// String renders "bucket.scope", or "" for the global namespace.
func (s Scope) String() string {
	if s.IsGlobal() {
		return ""
	}
	return s.Bucket + "." + s.Scope
}

// Function is one function object of the functions form.
type Function struct {
	// Name is the object's name, and the name of the JavaScript function
	// in Code that SQL++ calls.
	Name string `json:"name"`
	// ID is "xx:xx:xx:xx:xx:xx:xx:xx"; generated when not given.
	ID string `json:"id"`
	// Code is the object's JavaScript: the function and its helpers.
	Code string `json:"code"`
}

// Library is one library as stored. Exactly one of Functions (the
// functions form) and Text (the text form) is in use; a functions library
// may have no functions.
type Library struct {
	Scope Scope
	Name  string
	// Functions are the function objects of the functions form, in the
	// order they were first added.
	Functions []Function
	// Text is the library's JavaScript in the text form.
	Text string
	// Version is the version of the library's record: it changes with
	// every write of the library, and never repeats.
	Version uint64
}

// IsText reports whether the library is in the text form.
func (l Library) IsText() bool { return l.Text != "" }

// Code returns the library as one JavaScript text: the text form's own,
// or the function objects' codes joined by newlines.
func (l Library) Code() string {
	if l.IsText() {
		return l.Text
	}
	codes := make([]string, len(l.Functions))
	for i, f := range l.Functions {
		codes[i] = f.Code
	}
	return strings.Join(codes, "\n")
}

// FunctionObjects returns the library as the functions form shows it: its
// own objects, or, for the text form, one object per top-level function
// declaration, each with the whole text as its code and an id derived
// from the name and the text (stable while the text is).
func (l Library) FunctionObjects() []Function {
	if !l.IsText() {
		return slices.Clone(l.Functions)
	}
	names, err := topLevelFunctions(l.Name, l.Text)
	if err != nil {
		return nil // stored text always parses; see write paths
	}
	out := make([]Function, len(names))
	for i, n := range names {
		out[i] = Function{Name: n, ID: derivedID(n, l.Text), Code: l.Text}
	}
	return out
}

// Function returns the function object named name (FunctionObjects'
// view).
func (l Library) Function(name string) (Function, bool) {
	for _, f := range l.FunctionObjects() {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

func derivedID(name, text string) string {
	h := sha256.Sum256([]byte(name + "\x00" + text))
	return formatID(h[:8])
}

// record is a library's replicated body.
type record struct {
	Bucket    string     `json:"bucket,omitempty"`
	Scope     string     `json:"scope,omitempty"`
	Name      string     `json:"name"`
	Text      string     `json:"text,omitempty"`
	Functions []Function `json:"functions,omitempty"`
}

func (r *record) library(version uint64) Library {
	return Library{Scope: Scope{r.Bucket, r.Scope}, Name: r.Name, Functions: r.Functions, Text: r.Text, Version: version}
}

func newRecord(sc Scope, name string) *record {
	return &record{Bucket: sc.Bucket, Scope: sc.Scope, Name: name}
}

// size is what counts against MaxLibraryBytes.
func (r *record) size() int {
	n := len(r.Text)
	for _, f := range r.Functions {
		n += len(f.Code)
	}
	return n
}

// recordID is the library's path, as Couchbase names it: "name" for a
// global library, "bucket/scope/name" for a scoped one. No name may hold
// a '/', so paths never collide.
func recordID(sc Scope, name string) string {
	if sc.IsGlobal() {
		return name
	}
	return sc.Bucket + "/" + sc.Scope + "/" + name
}
