package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"eventide/docstore"
	"eventide/query/ast"
	"eventide/query/value"
)

const datastoreID = "http://127.0.0.1:8091"

// systemRows produces the rows of system:keyspaces, system:indexes,
// system:functions and system:dual, shaped as Couchbase's.
func (x *exec) systemRows(name, alias string, base *row, fn func(*row) (bool, error)) error {
	var rows []value.Value
	switch name {
	case "dual":
		rows = []value.Value{value.NewObject(nil)}
	case "keyspaces":
		rows = x.keyspaceRows()
	case "indexes":
		rows = x.indexRows()
	case "functions":
		rows = x.functionRows()
	}
	if x.explaining {
		x.explained = append(x.explained, map[string]any{"#operator": "PrimaryScan3", "index": "#primary", "keyspace": name, "namespace": "#system", "using": "system"})
		return nil
	}
	for _, v := range rows {
		if err := x.tick(); err != nil {
			return err
		}
		if more, err := fn(base.with(alias, v, nil)); err != nil || !more {
			return err
		}
	}
	return nil
}

func str(s string) value.Value { return value.NewString(s) }

func (x *exec) keyspaceRows() []value.Value {
	var out []value.Value
	for _, b := range x.store().Buckets() {
		out = append(out, value.NewObject([]value.Pair{
			{Name: "datastore_id", Value: str(datastoreID)},
			{Name: "id", Value: str(b.Name)},
			{Name: "name", Value: str(b.Name)},
			{Name: "namespace", Value: str("default")},
			{Name: "namespace_id", Value: str("default")},
			{Name: "path", Value: str("default:" + b.Name)},
		}))
		for _, s := range b.Scopes {
			for _, c := range s.Collections {
				out = append(out, value.NewObject([]value.Pair{
					{Name: "bucket", Value: str(b.Name)},
					{Name: "datastore_id", Value: str(datastoreID)},
					{Name: "id", Value: str(c.Name)},
					{Name: "name", Value: str(c.Name)},
					{Name: "namespace", Value: str("default")},
					{Name: "namespace_id", Value: str("default")},
					{Name: "path", Value: str("default:" + b.Name + "." + s.Name + "." + c.Name)},
					{Name: "scope", Value: str(s.Name)},
				}))
			}
		}
	}
	return out
}

func indexID(ks docstore.Keyspace, name string) string {
	h := sha256.Sum256([]byte(ks.String() + "\x00" + name))
	return hex.EncodeToString(h[:8])
}

func (x *exec) indexRows() []value.Value {
	infos := x.store().AllIndexes()
	sort.Slice(infos, func(i, j int) bool {
		if a, b := infos[i].Keyspace.String(), infos[j].Keyspace.String(); a != b {
			return a < b
		}
		return infos[i].Name < infos[j].Name
	})
	var out []value.Value
	for _, in := range infos {
		ks := in.Keyspace
		pairs := []value.Pair{
			{Name: "datastore_id", Value: str(datastoreID)},
			{Name: "id", Value: str(indexID(ks, in.Name))},
			{Name: "name", Value: str(in.Name)},
			{Name: "namespace", Value: str("default")},
			{Name: "namespace_id", Value: str("default")},
			{Name: "state", Value: str(in.State)},
			{Name: "using", Value: str("gsi")},
		}
		if ks.Scope == docstore.DefaultScope && ks.Collection == docstore.DefaultCollection {
			pairs = append(pairs, value.Pair{Name: "keyspace_id", Value: str(ks.Bucket)})
		} else {
			pairs = append(pairs,
				value.Pair{Name: "bucket_id", Value: str(ks.Bucket)},
				value.Pair{Name: "scope_id", Value: str(ks.Scope)},
				value.Pair{Name: "keyspace_id", Value: str(ks.Collection)})
		}
		keys := []value.Value{}
		if in.Primary {
			pairs = append(pairs, value.Pair{Name: "is_primary", Value: value.TrueValue})
		} else if m, err := x.e.indexMeta(in.Definition); err == nil {
			for _, k := range m.stmt.Keys {
				keys = append(keys, str(indexKeyText(k)))
			}
			if m.stmt.Where != nil {
				pairs = append(pairs, value.Pair{Name: "condition", Value: str(cbText(m.stmt.Where))})
			}
		}
		pairs = append(pairs, value.Pair{Name: "index_key", Value: value.NewArray(keys)})
		out = append(out, value.NewObject(pairs))
	}
	return out
}

func indexKeyText(k ast.IndexKey) string {
	s := cbText(k.Expr)
	switch {
	case k.Distinct:
		s = "distinct " + s
	case k.All:
		s = "all " + s
	}
	if k.Desc {
		s += " DESC"
	}
	return s
}

func (x *exec) functionRows() []value.Value {
	if x.e.cfg.Functions == nil {
		return nil
	}
	var out []value.Value
	for _, d := range x.e.cfg.Functions.List() {
		out = append(out, functionRow(d))
	}
	return out
}

func functionRow(d FunctionDef) value.Value {
	def := []value.Pair{{Name: "#language", Value: str(d.Language)}}
	if !d.Variadic {
		// Couchbase lists no parameters for a variadic (...) function.
		params := make([]value.Value, 0, len(d.Params))
		for _, p := range d.Params {
			params = append(params, str(p))
		}
		def = append(def, value.Pair{Name: "parameters", Value: value.NewArray(params)})
	}
	switch {
	case d.Language == LanguageInline:
		def = append(def, value.Pair{Name: "expression", Value: str(d.Expression)})
	case d.Code != "":
		def = append(def, value.Pair{Name: "text", Value: str(d.Code)})
	default:
		def = append(def, value.Pair{Name: "library", Value: str(d.Library)}, value.Pair{Name: "object", Value: str(d.Object)})
	}
	ns := d.Name.Namespace
	if ns == "" {
		ns = "default"
	}
	id := []value.Pair{
		{Name: "name", Value: str(d.Name.Name)},
		{Name: "namespace", Value: str(ns)},
		{Name: "type", Value: str("global")},
	}
	if d.Name.Bucket != "" {
		id = append(id, value.Pair{Name: "bucket", Value: str(d.Name.Bucket)}, value.Pair{Name: "scope", Value: str(d.Name.Scope)})
		id[2].Value = str("scope")
	}
	return value.NewObject([]value.Pair{
		{Name: "definition", Value: value.NewObject(def)},
		{Name: "identity", Value: value.NewObject(id)},
	})
}
