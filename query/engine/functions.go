package engine

import (
	"errors"
	"strings"

	"eventide/query/ast"
	"eventide/query/parser"
	"eventide/query/value"
)

// maxUDFDepth bounds UDF recursion.
const maxUDFDepth = 64

// funcName resolves a function name against query_context: unqualified
// names are scoped functions of the query_context's scope when it has
// one, else global.
func (x *exec) funcName(f ast.FuncName) FunctionName {
	n := FunctionName{Namespace: "default", Name: f.Name}
	switch len(f.Path) {
	case 0:
		if f.Namespace == "" && x.qcBucket != "" && x.qcScope != "" {
			n.Bucket, n.Scope = x.qcBucket, x.qcScope
		}
	case 1:
		n.Bucket, n.Scope = x.qcBucket, f.Path[0]
	default:
		n.Bucket, n.Scope = f.Path[len(f.Path)-2], f.Path[len(f.Path)-1]
	}
	return n
}

func (n FunctionName) String() string {
	ns := n.Namespace
	if ns == "" {
		ns = "default"
	}
	if n.Bucket == "" {
		return ns + ":" + n.Name
	}
	return ns + ":" + n.Bucket + "." + n.Scope + "." + n.Name
}

func (x *exec) functions() (Functions, error) {
	if x.e.cfg.Functions == nil {
		return nil, newErr(CodeNoFunctions, "User-defined functions are not supported on this engine")
	}
	return x.e.cfg.Functions, nil
}

func (x *exec) callUDF(n *ast.Call, r *row) (value.Value, error) {
	fs, err := x.functions()
	if err != nil {
		if len(n.Func.Path) == 0 {
			return value.MissingValue, newErr(CodeSyntax, "Invalid function %s", n.Func.Name)
		}
		return value.MissingValue, err
	}
	name := x.funcName(n.Func)
	def, ok := fs.Get(name)
	if !ok {
		return value.MissingValue, newErr(CodeFunctionMissing, "Function '%s' not found", name)
	}
	args := make([]value.Value, len(n.Args))
	for i, a := range n.Args {
		v, err := x.eval(a, r)
		if err != nil {
			return v, err
		}
		args[i] = v
	}
	return x.invoke(def, args)
}

func (x *exec) invoke(def FunctionDef, args []value.Value) (value.Value, error) {
	if !def.Variadic && len(args) != len(def.Params) {
		return value.MissingValue, newErr(CodeArgumentsMismatch, "Incorrect number of arguments supplied to function '%s'", def.Name)
	}
	if x.udfDepth >= maxUDFDepth {
		return value.MissingValue, newErr(CodeFunctionError, "Error executing function '%s' (too many nested calls)", def.Name)
	}
	x.udfDepth++
	defer func() { x.udfDepth-- }()
	switch def.Language {
	case LanguageInline:
		body, err := x.e.inlineBody(def.Expression)
		if err != nil {
			return value.MissingValue, newErr(CodeFunctionError, "Error executing function '%s' (%v)", def.Name, err)
		}
		env := &row{}
		if def.Variadic {
			env = env.with("args", value.NewArray(args), nil)
		} else {
			for i, p := range def.Params {
				env = env.with(p, args[i], nil)
			}
		}
		return x.eval(body, env)
	case LanguageJavaScript:
		v, err := x.e.cfg.Functions.CallJavaScript(x.ctx, def, args)
		if err != nil {
			if x.ctx.Err() != nil {
				return value.MissingValue, x.checkCtx()
			}
			// Functions reports Couchbase's error (an *Error, or one that
			// unwraps to it); anything else is an execution error.
			var ee *Error
			if errors.As(err, &ee) {
				return value.MissingValue, ee
			}
			return value.MissingValue, newErr(CodeFunctionError, "Error executing function '%s' (%v)", def.Name, err)
		}
		return v, nil
	}
	return value.MissingValue, newErr(CodeFunctionError, "Function %s has unknown language %q", def.Name, def.Language)
}

// inlineBody parses an inline function's expression once.
func (e *Engine) inlineBody(text string) (ast.Expr, error) {
	e.udfMu.Lock()
	defer e.udfMu.Unlock()
	if b, ok := e.udfExprs[text]; ok {
		return b, nil
	}
	b, err := parser.ParseExpression(text)
	if err != nil {
		return nil, err
	}
	if len(e.udfExprs) > 4096 {
		clear(e.udfExprs)
	}
	e.udfExprs[text] = b
	return b, nil
}

func (x *exec) runCreateFunction(s *ast.CreateFunction) error {
	fs, err := x.functions()
	if err != nil {
		return err
	}
	def := FunctionDef{Name: x.funcName(s.Name), Params: s.Params, Variadic: s.Variadic}
	if s.Language == ast.LangJavaScript {
		def.Language, def.Library, def.Object, def.Code = LanguageJavaScript, s.Library, s.Object, s.Code
	} else {
		def.Language, def.Expression = LanguageInline, s.Body.String()
	}
	if err := fs.Create(x.ctx, def, s.Replace, s.IfNotExists); err != nil {
		return x.functionErr(err, def.Name)
	}
	return nil
}

func (x *exec) runDropFunction(s *ast.DropFunction) error {
	fs, err := x.functions()
	if err != nil {
		return err
	}
	name := x.funcName(s.Name)
	if err := fs.Drop(x.ctx, name, s.IfExists); err != nil {
		return x.functionErr(err, name)
	}
	return nil
}

func (x *exec) functionErr(err error, name FunctionName) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if x.ctx.Err() != nil {
		return x.checkCtx()
	}
	msg := err.Error()
	if strings.Contains(strings.ToLower(msg), "not found") {
		return newErr(CodeFunctionMissing, "Function '%s' not found", name)
	}
	return newErr(CodeFunctionError, "%s", msg)
}

func (x *exec) runExecuteFunction(s *ast.ExecuteFunction) error {
	fs, err := x.functions()
	if err != nil {
		return err
	}
	name := x.funcName(s.Name)
	def, ok := fs.Get(name)
	if !ok {
		return newErr(CodeFunctionMissing, "Function '%s' not found", name)
	}
	args := make([]value.Value, len(s.Args))
	for i, a := range s.Args {
		v, err := x.eval(a, &row{})
		if err != nil {
			return err
		}
		args[i] = v
	}
	v, err := x.invoke(def, args)
	if err != nil {
		return err
	}
	x.res.Signature = value.NewString("json")
	return x.emitValue(v)
}
