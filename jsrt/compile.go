package jsrt

import (
	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// parserOptions apply to every parse: user code must never make the parser
// read files through a sourceMappingURL comment.
var parserOptions = []parser.Option{parser.WithDisableSourceMaps}

// Parse parses src as a JavaScript program named name (the file name
// stack traces show). Errors are goja's parser.ErrorList.
func Parse(name, src string) (*ast.Program, error) {
	return parser.ParseFile(nil, name, src, 0, parserOptions...)
}

// CompileAST compiles a parsed program once; the result is immutable and
// shared by every Runtime that runs it (RunProgram). Compiler errors are
// goja's (*goja.CompilerSyntaxError, *goja.CompilerReferenceError); a panic
// inside the compiler becomes an *InternalCompileError.
func CompileAST(prg *ast.Program, strict bool) (p *goja.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &InternalCompileError{Value: r}
		}
	}()
	return goja.CompileAST(prg, strict)
}
