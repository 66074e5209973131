package handler

import (
	"bytes"
	"encoding/json"
	"strings"

	"eventide/docstore"
)

// n1qlCallee is what an inline statement becomes a call of. Couchbase's
// transpiler calls couchbase.n1qlQuery too: unlike N1QL, a handler cannot
// redeclare it.
const n1qlCallee = "couchbase.n1qlQuery"

// transpile rewrites the inline SQL++ statements of code into calls of
// couchbase.n1qlQuery(statement, {'$v': v, ...}). Each call
// stands on its statement's first line and is followed by as many line
// breaks as the statement held, so every line after it keeps its number
// (and the lines around a statement keep their columns). /* */ comments
// inside a statement are dropped; $name binds the JavaScript variable name
// in scope (simple identifiers only: $meta.id passes meta and reads its id
// field in SQL++). The function's n1ql_consistency and n1ql_prepare_all
// apply when the call runs, as to every statement.
func transpile(code string) string {
	qs := findInlineQueries(code)
	if len(qs) == 0 {
		return code
	}
	var b strings.Builder
	b.Grow(len(code) + 64*len(qs))
	last := 0
	for _, q := range qs {
		b.WriteString(code[last:q.offset])
		last = q.offset + len(q.text)
		// In for (x of SELECT ...;) the ';' ends the statement, not a
		// JavaScript one.
		inParens := strings.HasPrefix(code[stmtStart(code, last):], ")")
		b.WriteString(transpileStatement(q.text, inParens))
	}
	b.WriteString(code[last:])
	return b.String()
}

// transpileStatement renders one statement (with its ';') as a call.
func transpileStatement(text string, inParens bool) string {
	stmt := strings.TrimSpace(stripQueryComments(strings.TrimSuffix(text, ";")))
	var b strings.Builder
	b.WriteString(n1qlCallee)
	b.WriteByte('(')
	b.WriteString(jsString(stmt))
	b.WriteString(", {")
	for i, name := range queryVariables(stmt) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(jsString("$" + name))
		b.WriteString(": ")
		b.WriteString(name)
	}
	b.WriteString("})")
	if !inParens {
		b.WriteByte(';')
	}
	b.WriteString(strings.Repeat("\n", lineBreaks(text)))
	return b.String()
}

// lineBreaks counts JavaScript line terminators: \r\n counts once, and a
// lone \r, U+2028 and U+2029 end a line too.
func lineBreaks(s string) int {
	n := strings.Count(s, "\n") + strings.Count(s, "\r") - strings.Count(s, "\r\n")
	return n + strings.Count(s, "\u2028") + strings.Count(s, "\u2029")
}

// jsString quotes s as a JavaScript string literal (JSON's quoting, without
// HTML escapes).
func jsString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// stripQueryComments replaces the /* */ comments of a statement (outside
// its strings and quoted identifiers) with a space.
func stripQueryComments(s string) string {
	if !strings.Contains(s, "/*") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\'' || c == '"' || c == '`':
			j := skipQueryQuoted(s, i)
			b.WriteString(s[i:j])
			i = j
		case strings.HasPrefix(s[i:], "/*"):
			i = skipBlockComment(s, i)
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// skipQueryQuoted skips a SQL++ string or quoted identifier starting at
// s[i]: a backslash escapes, and a doubled quote stands for itself.
func skipQueryQuoted(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(s)
}

// queryVariables lists the distinct $name parameters of a statement in
// order of first use: names starting with a letter or '_' outside strings
// and quoted identifiers ($1 is positional).
func queryVariables(stmt string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(stmt); {
		switch c := stmt[i]; {
		case c == '\'' || c == '"' || c == '`':
			i = skipQueryQuoted(stmt, i)
		case c == '$' && i+1 < len(stmt) && isQueryNameStart(stmt[i+1]):
			j := i + 1
			for j < len(stmt) && (isQueryNameStart(stmt[j]) || stmt[j] >= '0' && stmt[j] <= '9') {
				j++
			}
			if name := stmt[i+1 : j]; !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
			i = j
		default:
			i++
		}
	}
	return out
}

func isQueryNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// DMLTargets returns the keyspaces the inline SQL++ statements of a
// handler's code write: the targets of INSERT INTO, UPSERT INTO, UPDATE,
// DELETE FROM and MERGE INTO (deploy-time recursion checks, §1.10). A
// bucket alone means its default collection; a two-part path (relative to
// a query context) and system keyspaces are not resolvable here and are
// left out. The full grammar is the query engine's; this is a keyword scan
// of the statement's head.
func DMLTargets(code string) []docstore.Keyspace {
	var out []docstore.Keyspace
	for _, q := range findInlineQueries(code) {
		if ks, ok := dmlTarget(stripQueryComments(q.text)); ok {
			out = append(out, ks)
		}
	}
	return out
}

// dmlTarget finds the target keyspace of a DML statement.
func dmlTarget(stmt string) (docstore.Keyspace, bool) {
	toks := queryTokens(stmt, 8)
	if len(toks) < 2 {
		return docstore.Keyspace{}, false
	}
	var path []string
	switch strings.ToLower(toks[0]) {
	case "insert", "upsert", "merge":
		if !strings.EqualFold(toks[1], "into") {
			return docstore.Keyspace{}, false
		}
		path = toks[2:]
	case "delete":
		if !strings.EqualFold(toks[1], "from") {
			return docstore.Keyspace{}, false
		}
		path = toks[2:]
	case "update":
		path = toks[1:]
	default:
		return docstore.Keyspace{}, false
	}
	// path: [namespace ':'] name ['.' name '.' name]
	if len(path) >= 2 && path[1] == ":" {
		if !strings.EqualFold(path[0], "default") {
			return docstore.Keyspace{}, false // system:... and other namespaces
		}
		path = path[2:]
	}
	var parts []string
	for i, t := range path {
		if i%2 == 1 {
			if t != "." {
				break
			}
			continue
		}
		if t == "." || t == ":" || t == "" {
			return docstore.Keyspace{}, false
		}
		parts = append(parts, strings.Trim(t, "`"))
	}
	switch len(parts) {
	case 1:
		return docstore.Keyspace{Bucket: parts[0], Scope: "_default", Collection: "_default"}, true
	case 3:
		return docstore.Keyspace{Bucket: parts[0], Scope: parts[1], Collection: parts[2]}, true
	}
	return docstore.Keyspace{}, false
}

// queryTokens splits the head of a statement into at most n tokens: words,
// `quoted identifiers` (with their backquotes), and single punctuation.
func queryTokens(s string, n int) []string {
	var out []string
	for i := 0; i < len(s) && len(out) < n; {
		switch c := s[i]; {
		case isJSSpace(c):
			i++
		case c == '`':
			j := skipQueryQuoted(s, i)
			out = append(out, s[i:j])
			i = j
		case isQueryNameStart(c) || c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isQueryNameStart(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, s[i:j])
			i = j
		default:
			out = append(out, s[i:i+1])
			i++
		}
	}
	return out
}
