package engine

import (
	"strings"

	"eventide/query/ast"
)

// cbText prints an expression as Couchbase shows index keys and
// conditions in system:indexes: identifiers always back-quoted, function
// names lower case, every operator parenthesised. Kinds it does not know
// fall back to the canonical text.
func cbText(e ast.Expr) string {
	switch n := e.(type) {
	case *ast.Identifier:
		return "`" + strings.ReplaceAll(n.Name, "`", "``") + "`"
	case *ast.Field:
		return cbText(n.Target) + ".`" + strings.ReplaceAll(n.Name, "`", "``") + "`"
	case *ast.Element:
		return cbText(n.Target) + "[" + cbText(n.Index) + "]"
	case *ast.Meta:
		if n.Keyspace == nil {
			return "meta()"
		}
		return "meta(" + cbText(n.Keyspace) + ")"
	case *ast.Call:
		args := make([]string, len(n.Args))
		for i, a := range n.Args {
			args[i] = cbText(a)
		}
		name := n.Func.String()
		if len(n.Func.Path) == 0 && n.Func.Namespace == "" {
			name = strings.ToLower(name)
		}
		if n.Star {
			args = []string{"*"}
		}
		return name + "(" + strings.Join(args, ", ") + ")"
	case *ast.Binary:
		return "(" + cbText(n.Left) + " " + strings.ToLower(string(n.Op)) + " " + cbText(n.Right) + ")"
	case *ast.Unary:
		if n.Op == ast.OpNeg {
			return "(-" + cbText(n.Operand) + ")"
		}
		return "(" + strings.ToLower(string(n.Op)) + " " + cbText(n.Operand) + ")"
	case *ast.Is:
		not := ""
		if n.Not {
			not = "not "
		}
		return "(" + cbText(n.Target) + " is " + not + strings.ToLower(string(n.Kind)) + ")"
	case *ast.ArrayFor:
		if len(n.Bindings) == 1 && n.When == nil {
			b := n.Bindings[0]
			in := " in "
			if b.Within {
				in = " within "
			}
			return "array " + cbText(n.Mapping) + " for " + b.Var + in + cbText(b.Expr) + " end"
		}
	}
	return e.String()
}
