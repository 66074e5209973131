package handler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"

	"eventide/jsrt"
)

// handlerFileName names the compiled handler in stack traces.
const handlerFileName = "handler.js"

// Entry points a handler may declare.
const (
	entryOnUpdate = "OnUpdate"
	entryOnDelete = "OnDelete"
	entryOnDeploy = "OnDeploy"
)

// Program is a compiled handler: the goja program plus what workers need to
// run it. It is immutable and safe to share between workers.
type Program struct {
	prog     *goja.Program
	settings Settings // with defaults
	lang     langVersion
	bindings []Binding     // normalized
	curl     []CurlBinding // normalized

	// lineOffset is the number of generated lines before the user's first
	// line; userLines the number of lines of user code.
	lineOffset, userLines int

	hasOnUpdate, hasOnDelete, hasOnDeploy bool
	// strict: the handler runs in strict mode (the default header).
	strict bool
}

// HasOnUpdate reports whether the handler declares OnUpdate.
func (p *Program) HasOnUpdate() bool { return p.hasOnUpdate }

// HasOnDelete reports whether the handler declares OnDelete.
func (p *Program) HasOnDelete() bool { return p.hasOnDelete }

// HasOnDeploy reports whether the handler declares OnDeploy.
func (p *Program) HasOnDeploy() bool { return p.hasOnDeploy }

// Settings returns the settings the program was compiled with, defaults
// filled in.
func (p *Program) Settings() Settings { return p.settings }

// Bindings returns the program's bucket bindings, defaults filled in.
func (p *Program) Bindings() []Binding { return append([]Binding(nil), p.bindings...) }

// CurlBindings returns the program's curl bindings, defaults filled in.
func (p *Program) CurlBindings() []CurlBinding { return append([]CurlBinding(nil), p.curl...) }

// userPos maps a position in the generated source to the user's code.
func (p *Program) userPos(line, col int) (int, int, bool) {
	if line > p.lineOffset && line <= p.lineOffset+p.userLines {
		return line - p.lineOffset, col, true
	}
	return 0, 0, false
}

// isStrictHeader reports whether a header line is the 'use strict' directive.
func isStrictHeader(h string) bool {
	h = strings.TrimSuffix(strings.TrimSpace(h), ";")
	return h == `'use strict'` || h == `"use strict"`
}

// sourceLayout remembers where the parts of the generated source are.
type sourceLayout struct {
	src                string
	strict             bool
	userStart, userEnd int // byte offsets of the user's code
	lineOffset         int
	userLines          int
	// constLine[i] is the generated line where constant i starts;
	// footerLine the line where the footers start.
	constLine  []int
	footerLine int
}

// buildSource wraps code in headers, injected constants and footers. The
// strict-mode header becomes a compiler flag rather than text, so by default
// the user's line 1 is generated line 1 and positions (even in JavaScript
// stack traces) need no mapping. Constants go after the code: the code may
// only declare functions, which run after the whole program has run, so the
// constants are initialised before anything can read them, and a constant may
// even call a handler function.
func buildSource(code string, s Settings, constants []Constant) sourceLayout {
	var b strings.Builder
	var l sourceLayout
	for _, h := range s.HandlerHeaders {
		if isStrictHeader(h) {
			l.strict = true
			continue
		}
		b.WriteString(h)
		b.WriteByte('\n')
	}
	l.lineOffset = strings.Count(b.String(), "\n")
	l.userStart = b.Len()
	b.WriteString(code)
	l.userEnd = b.Len()
	l.userLines = strings.Count(code, "\n") + 1
	b.WriteByte('\n')
	line := l.lineOffset + l.userLines + 1
	for _, c := range constants {
		l.constLine = append(l.constLine, line)
		// The newline before ';' ends a trailing line comment in the literal.
		lit := "const " + c.Alias + " = " + c.Literal + "\n;\n"
		b.WriteString(lit)
		line += strings.Count(lit, "\n")
	}
	l.footerLine = line
	for _, f := range s.HandlerFooters {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	l.src = b.String()
	return l
}

// locate turns a generated position into a CompileError position, or into a
// message prefix naming the injected part the position falls in.
func (l *sourceLayout) locate(line, col int, constants []Constant) (uLine, uCol int, where string) {
	switch {
	case line <= l.lineOffset:
		return 0, 0, "handler headers: "
	case line <= l.lineOffset+l.userLines:
		return line - l.lineOffset, col, ""
	case line < l.footerLine:
		for i := len(l.constLine) - 1; i >= 0; i-- {
			if line >= l.constLine[i] {
				return 0, 0, fmt.Sprintf("constant binding %s: ", constants[i].Alias)
			}
		}
	}
	return 0, 0, "handler footers: "
}

// checkConstant validates a constant binding: a valid alias and a literal
// that is exactly one expression.
func checkConstant(c Constant) error {
	if err := ValidateAlias(c.Alias); err != nil {
		return err
	}
	if strings.TrimSpace(c.Literal) == "" {
		return fmt.Errorf("%w: constant binding %s: literal should not be empty", ErrInvalidBinding, c.Alias)
	}
	src := "const " + c.Alias + " = " + c.Literal + "\n;"
	prg, err := jsrt.Parse("constant", src)
	if err != nil {
		return fmt.Errorf("%w: constant binding %s: literal is not a valid expression: %s",
			ErrInvalidBinding, c.Alias, firstParseMessage(err))
	}
	// One declaration of one name, then at most empty statements (the ';').
	single := len(prg.Body) > 0
	if single {
		d, ok := prg.Body[0].(*ast.LexicalDeclaration)
		single = ok && len(d.List) == 1
	}
	for _, st := range prg.Body[min(1, len(prg.Body)):] {
		if _, ok := st.(*ast.EmptyStatement); !ok {
			single = false
		}
	}
	if !single {
		return fmt.Errorf("%w: constant binding %s: literal must be a single expression", ErrInvalidBinding, c.Alias)
	}
	return nil
}

func firstParseMessage(err error) string {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return list[0].Message
	}
	return err.Error()
}

// Compile checks and compiles handler code. Bad bindings or constants give an
// error wrapping ErrInvalidBinding, bad settings ErrInvalidSettings; code that
// does not parse or compile, or breaks the structure rules (only function
// declarations at global scope, at least one of OnUpdate/OnDelete, at most one
// of each entry point, no function named like a binding) gives a
// *CompileError positioned in the user's code. So does a handler using
// couchbase.analyticsQuery or searchQuery, with Err set to
// ErrQueryNotAvailable. Inline SQL++ statements are transpiled into calls
// of couchbase.n1qlQuery with the user's line numbers kept (transpile.go).
// The curl bindings (depcfg.curl)
// become globals holding the binding objects curl() takes; their aliases
// share one namespace with the bucket and constant bindings.
func Compile(code string, s Settings, constants []Constant, bindings []Binding, curl ...CurlBinding) (*Program, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	lang, _ := parseLang(s.LanguageCompatibility)
	nb, err := normalizeBindings(bindings)
	if err != nil {
		return nil, err
	}
	nc, err := normalizeCurlBindings(curl)
	if err != nil {
		return nil, err
	}
	aliases := make(map[string]string, len(nb)+len(nc)+len(constants))
	for _, b := range nb {
		aliases[b.Alias] = "bucket binding"
	}
	for _, c := range nc {
		if _, dup := aliases[c.Alias]; dup {
			return nil, fmt.Errorf("%w: alias %s is not unique", ErrInvalidBinding, c.Alias)
		}
		aliases[c.Alias] = "curl binding"
	}
	for _, c := range constants {
		if err := checkConstant(c); err != nil {
			return nil, err
		}
		if _, dup := aliases[c.Alias]; dup {
			return nil, fmt.Errorf("%w: alias %s is not unique", ErrInvalidBinding, c.Alias)
		}
		aliases[c.Alias] = "constant binding"
	}

	// Inline SQL++ becomes calls of couchbase.n1qlQuery, line for line.
	code = transpile(code)
	layout := buildSource(code, s, constants)
	prg, perr := jsrt.Parse(handlerFileName, layout.src)
	if perr != nil {
		var list parser.ErrorList
		if errors.As(perr, &list) && len(list) > 0 {
			line, col, where := layout.locate(list[0].Position.Line, list[0].Position.Column, constants)
			if where != "" {
				// An error past the user's code is usually the user's
				// (an unclosed brace or comment runs into what follows):
				// report the code's own error if it has one.
				if _, uerr := jsrt.Parse(handlerFileName, code); uerr != nil {
					var ulist parser.ErrorList
					if errors.As(uerr, &ulist) && len(ulist) > 0 {
						return nil, &CompileError{Line: ulist[0].Position.Line, Column: ulist[0].Position.Column,
							Message: "SyntaxError: " + ulist[0].Message}
					}
				}
			}
			return nil, &CompileError{Line: line, Column: col, Message: where + "SyntaxError: " + list[0].Message}
		}
		return nil, &CompileError{Message: "SyntaxError: " + perr.Error()}
	}

	p := &Program{
		settings:   s,
		lang:       lang,
		bindings:   nb,
		curl:       nc,
		lineOffset: layout.lineOffset,
		userLines:  layout.userLines,
		strict:     layout.strict,
	}
	if qe := layout.queryCallError(prg, constants); qe != nil {
		return nil, qe
	}
	if err := p.checkStructure(prg, &layout, aliases, constants); err != nil {
		return nil, err
	}

	// Compiled once; every worker runs the same *goja.Program.
	gp, cerr := jsrt.CompileAST(prg, layout.strict)
	if cerr != nil {
		// goja reports compiler errors as values; anything else escaping it
		// is an internal error, which must not take the node down.
		var ice *jsrt.InternalCompileError
		if errors.As(cerr, &ice) {
			return nil, &CompileError{Message: ice.Error()}
		}
		var ce *goja.CompilerSyntaxError
		var re *goja.CompilerReferenceError
		var base *goja.CompilerError
		kind := "SyntaxError: "
		switch {
		case errors.As(cerr, &ce):
			base = &ce.CompilerError
		case errors.As(cerr, &re):
			base, kind = &re.CompilerError, "ReferenceError: "
		}
		if base == nil || base.File == nil {
			return nil, &CompileError{Message: cerr.Error()}
		}
		pos := base.File.Position(base.Offset)
		line, col, where := layout.locate(pos.Line, pos.Column, constants)
		return nil, &CompileError{Line: line, Column: col, Message: where + kind + base.Message}
	}
	p.prog = gp
	return p, nil
}

// checkStructure enforces Couchbase's code structure rules on the user's
// top-level statements.
func (p *Program) checkStructure(prg *ast.Program, l *sourceLayout, aliases map[string]string, constants []Constant) error {
	counts := map[string]int{}
	prevEnd := 0
	for _, st := range prg.Body {
		// goja does not record the start of every statement kind (an if
		// statement's Idx0 is 0, a parenthesized expression starts after
		// its '('), so statements are located by scanning from the end of
		// the previous one.
		from := prevEnd
		if from < l.userStart && int(st.Idx1())-1 > l.userStart {
			from = l.userStart
		}
		off := stmtStart(l.src, from)
		if idx := int(st.Idx0()) - 1; idx >= from && idx < off {
			off = idx
		}
		prevEnd = max(prevEnd, int(st.Idx1())-1)
		if off < l.userStart || off >= l.userEnd {
			continue // injected by us
		}
		pos := prg.File.Position(off)
		line, col, _ := l.locate(pos.Line, pos.Column, constants)
		switch st := st.(type) {
		case *ast.EmptyStatement:
			continue
		case *ast.FunctionDeclaration:
			if !st.Function.Async {
				name := st.Function.Name.Name.String()
				counts[name]++
				if kind, clash := aliases[name]; clash {
					return &CompileError{Line: line, Column: col,
						Message: fmt.Sprintf("function %s has the same name as a %s", name, kind)}
				}
				switch {
				case name == entryOnUpdate && counts[name] > 1:
					return &CompileError{Line: line, Column: col, Message: "handler cannot have multiple OnUpdate() functions"}
				case name == entryOnDelete && counts[name] > 1:
					return &CompileError{Line: line, Column: col, Message: "handler code cannot have multiple OnDelete() functions"}
				case name == entryOnDeploy && counts[name] > 1:
					return &CompileError{Line: line, Column: col, Message: "handler code cannot have multiple OnDeploy() functions"}
				}
				continue
			}
		}
		return &CompileError{Line: line, Column: col,
			Message: "Only functions allowed in global space, but found: " + statementHead(l.src, off, int(st.Idx1())-1)}
	}
	p.hasOnUpdate = counts[entryOnUpdate] > 0
	p.hasOnDelete = counts[entryOnDelete] > 0
	p.hasOnDeploy = counts[entryOnDeploy] > 0
	if !p.hasOnUpdate && !p.hasOnDelete {
		return &CompileError{Message: "Handler code is missing OnUpdate() and OnDelete() functions. At least one of them is needed to deploy the handler"}
	}
	return nil
}

// stmtStart skips whitespace, comments and semicolons from offset i and
// returns the offset of the next token.
func stmtStart(src string, i int) int {
	for i < len(src) {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == ';':
			i++
		case strings.HasPrefix(src[i:], "//"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				return len(src)
			}
			i += j + 1
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return len(src)
			}
			i += j + 4
		default:
			return i
		}
	}
	return i
}

// statementHead renders the start of a statement the way Couchbase does: up
// to the first '{', '}' or ';', line breaks and tabs as spaces, trimmed (and
// here bounded).
func statementHead(src string, start, end int) string {
	if end > len(src) || end < start {
		end = len(src)
	}
	s := src[start:end]
	if i := strings.IndexAny(s, "{};"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' {
			return ' '
		}
		return r
	}, s))
	const maxLen = 80
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return s
}
