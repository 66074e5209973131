package library

import (
	"errors"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"

	"eventide/jsrt"
)

// parse parses code, turning parser errors into a *CompileError.
func parse(lib, fn, code string) (*ast.Program, error) {
	name := lib
	if fn != "" {
		name += "/" + fn
	}
	prg, err := jsrt.Parse(name, code)
	if err == nil {
		return prg, nil
	}
	ce := &CompileError{Library: lib, Function: fn, Message: "SyntaxError: " + err.Error()}
	var list parser.ErrorList
	var one *parser.Error
	switch {
	case errors.As(err, &list) && len(list) > 0:
		ce.Line, ce.Column, ce.Message = list[0].Position.Line, list[0].Position.Column, "SyntaxError: "+list[0].Message
	case errors.As(err, &one):
		ce.Line, ce.Column, ce.Message = one.Position.Line, one.Position.Column, "SyntaxError: "+one.Message
	}
	return nil, ce
}

// exports are the names of a program's top-level function declarations:
// what a library offers SQL++.
func exports(prg *ast.Program) []string {
	var names []string
	for _, st := range prg.Body {
		if fd, ok := st.(*ast.FunctionDeclaration); ok && fd.Function != nil && fd.Function.Name != nil {
			names = append(names, fd.Function.Name.Name.String())
		}
	}
	return names
}

// topLevelFunctions parses code and returns its exports.
func topLevelFunctions(lib, code string) ([]string, error) {
	prg, err := parse(lib, "", code)
	if err != nil {
		return nil, err
	}
	return exports(prg), nil
}

// compile parses and compiles code once (the program is shared by every
// runtime that runs it) and returns it with its exports.
func compile(lib, fn, code string) (*goja.Program, []string, error) {
	prg, err := parse(lib, fn, code)
	if err != nil {
		return nil, nil, err
	}
	p, err := jsrt.CompileAST(prg, false)
	if err != nil {
		ce := &CompileError{Library: lib, Function: fn, Message: err.Error()}
		var syn *goja.CompilerSyntaxError
		var ref *goja.CompilerReferenceError
		var base *goja.CompilerError
		switch {
		case errors.As(err, &syn):
			base, ce.Message = &syn.CompilerError, "SyntaxError: "+syn.Message
		case errors.As(err, &ref):
			base, ce.Message = &ref.CompilerError, "ReferenceError: "+ref.Message
		}
		if base != nil && base.File != nil {
			pos := base.File.Position(base.Offset)
			ce.Line, ce.Column = pos.Line, pos.Column
		}
		return nil, nil, ce
	}
	return p, exports(prg), nil
}
