package handler

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"

	"eventide/jsrt"
)

// SQL++ in handlers (§2.8). Inline statements (SELECT ... ;, DELETE FROM
// ... ;, UPSERT ... ;) are not JavaScript: Compile finds them the way
// Couchbase's transpiler does and rewrites each into a call of
// couchbase.n1qlQuery (js_n1ql.go) on the statement's first line, followed
// by the statement's line breaks, so every later line keeps its number.
// Analytics and Search are not available: couchbase.analyticsQuery and
// couchbase.searchQuery are refused at Compile with a *CompileError wrapping
// ErrQueryNotAvailable.

// inlineQueryKeywords start an inline statement (case-insensitive): the
// words Couchbase's transpiler looks for, plus ADVISE and WITH (a common
// table expression before a SELECT).
var inlineQueryKeywords = map[string]bool{
	"advise": true, "alter": true, "build": true, "create": true, "delete": true, "drop": true,
	"execute": true, "explain": true, "from": true, "grant": true, "infer": true, "insert": true,
	"merge": true, "prepare": true, "rename": true, "revoke": true, "select": true, "update": true,
	"upsert": true, "with": true,
}

// Keywords that are also JavaScript need more context to start a statement:
// Couchbase itself looks for "delete from <keyspace>", and WITH must name a
// common table expression.
var (
	deleteFromRE = regexp.MustCompile(`(?is)^delete(\s|/\*.*?\*/)+from(\s|/\*.*?\*/)+[\w$` + "`" + `]`)
	withAsRE     = regexp.MustCompile(`(?i)^with\s+(` + "`[^`]*`" + `|[A-Za-z_$][\w$]*)\s+as\b`)
)

// declarationWords introduce a name, so a keyword after them is a JavaScript
// identifier being declared, not a statement.
var declarationWords = map[string]bool{"var": true, "let": true, "const": true, "function": true, "class": true}

// regexAfterWords are the words after which '/' starts a regular expression.
var regexAfterWords = map[string]bool{
	"return": true, "typeof": true, "instanceof": true, "in": true, "of": true, "new": true,
	"delete": true, "void": true, "throw": true, "case": true, "do": true, "else": true,
	"yield": true, "await": true,
}

// inlineQuery is an inline statement found in the code.
type inlineQuery struct {
	offset int    // byte offset of the first keyword
	text   string // the statement up to and including its ';'
}

// findInlineQueries scans JavaScript source for inline statements: a query
// keyword at the start of an expression (not a property name, not a name
// being declared, not inside a string, template, comment or regular
// expression), followed by white space and running to a ';'. A candidate
// that parses as JavaScript on its own (delete obj[k];, update (x);) is
// JavaScript, not a query.
func findInlineQueries(src string) []inlineQuery {
	const (
		tokNone = iota
		tokWord
		tokPunct
		tokValue // literal, template, regular expression
	)
	var out []inlineQuery
	prev, prevWord, prevPunct := tokNone, "", byte(0)
	braces := 0
	var templates []int // brace depth at each open template substitution
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case isJSSpace(c):
			i++
		case strings.HasPrefix(src[i:], "//"):
			i = skipLine(src, i)
		case strings.HasPrefix(src[i:], "/*"):
			i = skipBlockComment(src, i)
		case c == '\'' || c == '"':
			i = skipQuoted(src, i)
			prev = tokValue
		case c == '`':
			var subst bool
			i, subst = skipTemplateChunk(src, i+1)
			if subst {
				templates = append(templates, braces)
			}
			prev = tokValue
		case c == '}' && len(templates) > 0 && templates[len(templates)-1] == braces:
			templates = templates[:len(templates)-1]
			var subst bool
			i, subst = skipTemplateChunk(src, i+1)
			if subst {
				templates = append(templates, braces)
			}
			prev = tokValue
		case c == '/' && (prev == tokNone ||
			prev == tokPunct && !strings.ContainsRune(")]}", rune(prevPunct)) ||
			prev == tokWord && regexAfterWords[prevWord]):
			i = skipRegex(src, i)
			prev = tokValue
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdentByte(src[i]) || src[i] == '.') {
				i++
			}
			prev = tokValue
		case isIdentStart(c):
			start := i
			for i < len(src) && isIdentByte(src[i]) {
				i++
			}
			word := src[start:i]
			kw := strings.ToLower(word)
			if inlineQueryKeywords[kw] && i < len(src) && isJSSpace(src[i]) &&
				!(prev == tokPunct && prevPunct == '.') && !(prev == tokWord && declarationWords[prevWord]) {
				if q, ok := matchInlineQuery(src, start, kw); ok {
					out = append(out, q)
					i = start + len(q.text)
					prev, prevPunct = tokPunct, ';'
					continue
				}
			}
			prev, prevWord = tokWord, word
		default:
			switch c {
			case '{':
				braces++
			case '}':
				braces--
			}
			prev, prevPunct = tokPunct, c
			i++
		}
	}
	return out
}

// matchInlineQuery checks a candidate statement starting with keyword kw at
// start.
func matchInlineQuery(src string, start int, kw string) (inlineQuery, bool) {
	rest := src[start:]
	switch kw {
	case "delete":
		if !deleteFromRE.MatchString(rest) {
			return inlineQuery{}, false
		}
	case "with":
		if !withAsRE.MatchString(rest) {
			return inlineQuery{}, false
		}
	}
	end := queryEnd(rest)
	if end < 0 {
		return inlineQuery{}, false
	}
	text := rest[:end+1]
	if _, err := jsrt.Parse("", text); err == nil {
		return inlineQuery{}, false
	}
	return inlineQuery{offset: start, text: text}, true
}

// queryEnd returns the offset of the ';' ending a statement, skipping
// quoted strings and identifiers and block comments, or -1.
func queryEnd(s string) int {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ';':
			return i
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(s, i)
		case strings.HasPrefix(s[i:], "/*"):
			i = skipBlockComment(s, i)
		default:
			i++
		}
	}
	return -1
}

func isJSSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func skipLine(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

func skipBlockComment(s string, i int) int {
	if j := strings.Index(s[i+2:], "*/"); j >= 0 {
		return i + 2 + j + 2
	}
	return len(s)
}

// skipQuoted skips a string quoted by s[i] (backslash escapes).
func skipQuoted(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i + 1
		}
	}
	return len(s)
}

// skipTemplateChunk skips template literal text from i up to its closing
// '`' or the next "${"; subst reports the latter.
func skipTemplateChunk(s string, i int) (next int, subst bool) {
	for ; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == '`':
			return i + 1, false
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			return i + 2, true
		}
	}
	return len(s), false
}

// skipRegex skips a regular expression literal starting at s[i] == '/'. A
// line end before its closing '/' means it was a division after all.
func skipRegex(s string, i int) int {
	inClass := false
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '\n', '\r':
			return i + 1
		case '/':
			if !inClass {
				j++
				for j < len(s) && isIdentByte(s[j]) {
					j++
				}
				return j
			}
		}
	}
	return i + 1
}

// queryCallError finds the first use of a query service eventide does not
// have: couchbase.analyticsQuery and couchbase.searchQuery (called or not).
func (l *sourceLayout) queryCallError(prg *ast.Program, constants []Constant) *CompileError {
	var (
		found file.Idx
		what  string
	)
	walkAST(reflect.ValueOf(prg), func(n ast.Node) bool {
		var w string
		switch n := n.(type) {
		case *ast.DotExpression:
			if isIdent(n.Left, "couchbase") && unavailableQueryMembers[n.Identifier.Name.String()] != "" {
				w = "couchbase." + n.Identifier.Name.String()
			}
		case *ast.BracketExpression:
			if lit, ok := n.Member.(*ast.StringLiteral); ok && isIdent(n.Left, "couchbase") && unavailableQueryMembers[lit.Value.String()] != "" {
				w = "couchbase." + lit.Value.String()
			}
		}
		if w != "" && (found == 0 || n.Idx0() < found) {
			found, what = n.Idx0(), w
		}
		return true
	})
	if found == 0 {
		return nil
	}
	pos := prg.File.Position(int(found) - 1)
	line, col, where := l.locate(pos.Line, pos.Column, constants)
	return &CompileError{Line: line, Column: col, Err: ErrQueryNotAvailable,
		Message: fmt.Sprintf("%s%s is not supported: %s", where, what, unavailableQueryMembers[what[len("couchbase."):]])}
}

// unavailableQueryMembers are the couchbase.* query functions of services
// eventide does not run, with the reason.
var unavailableQueryMembers = map[string]string{
	"analyticsQuery": "eventide has no Analytics service",
	"searchQuery":    "eventide has no Search (FTS) service",
}

func isIdent(e ast.Expression, name string) bool {
	id, ok := e.(*ast.Identifier)
	return ok && id.Name.String() == name
}

// astPkgPath is the package of goja's syntax tree types; walkAST descends
// only into those (not into file.File and the like).
var astPkgPath = reflect.TypeOf(ast.Program{}).PkgPath()

// walkAST calls visit for every node under v, parents first. goja's ast
// package has no walker; the tree is walked through its exported fields.
func walkAST(v reflect.Value, visit func(ast.Node) bool) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			walkAST(v.Elem(), visit)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if n, ok := v.Interface().(ast.Node); ok && !visit(n) {
			return
		}
		walkAST(v.Elem(), visit)
	case reflect.Struct:
		t := v.Type()
		if t.PkgPath() != astPkgPath {
			return
		}
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				walkAST(v.Field(i), visit)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkAST(v.Index(i), visit)
		}
	}
}
