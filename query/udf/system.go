package udf

import (
	"strings"

	"eventide/query/engine"
	"eventide/query/value"
)

// SystemRow renders a definition as Couchbase's system:functions shows
// it: {"identity": {...}, "definition": {...}}. The identity has the
// namespace, name and type ("global"), plus bucket and scope for a
// scoped function (type "scope"); the definition has "#language",
// "parameters" (absent for a variadic function), and the body: an inline
// function's "expression", an inline JavaScript function's code as
// "text", or a library function's "library" (the AT path as written),
// "object", and "libName" and "prefix" as Couchbase resolves the path.
func SystemRow(def engine.FunctionDef) value.Value {
	n := def.Name
	ns := n.Namespace
	if ns == "" {
		ns = defaultNamespace
	}
	str := value.NewString
	identity := []value.Pair{{Name: "namespace", Value: str(ns)}, {Name: "name", Value: str(n.Name)}}
	if isGlobal(n) {
		identity = append(identity, value.Pair{Name: "type", Value: str("global")})
	} else {
		identity = append(identity,
			value.Pair{Name: "bucket", Value: str(n.Bucket)},
			value.Pair{Name: "scope", Value: str(n.Scope)},
			value.Pair{Name: "type", Value: str("scope")})
	}
	definition := []value.Pair{{Name: "#language", Value: str(def.Language)}}
	if !def.Variadic {
		ps := make([]value.Value, len(def.Params))
		for i, p := range def.Params {
			ps[i] = str(p)
		}
		definition = append(definition, value.Pair{Name: "parameters", Value: value.NewArray(ps)})
	}
	switch {
	case def.Language == engine.LanguageInline:
		definition = append(definition, value.Pair{Name: "expression", Value: str(def.Expression)})
	case def.Code != "":
		definition = append(definition, value.Pair{Name: "text", Value: str(def.Code)})
	default:
		definition = append(definition,
			value.Pair{Name: "library", Value: str(def.Library)},
			value.Pair{Name: "object", Value: str(def.Object)})
		lib, prefix := def.Library, ""
		if rest, ok := strings.CutPrefix(def.Library, "./"); ok {
			lib = rest
			if !isGlobal(n) {
				prefix = n.Bucket + "/" + n.Scope
			}
		}
		definition = append(definition, value.Pair{Name: "libName", Value: str(lib)})
		if prefix != "" {
			definition = append(definition, value.Pair{Name: "prefix", Value: str(prefix)})
		}
	}
	return value.NewObject([]value.Pair{
		{Name: "definition", Value: value.NewObject(definition)},
		{Name: "identity", Value: value.NewObject(identity)},
	})
}
