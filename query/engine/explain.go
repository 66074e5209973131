package engine

import (
	"encoding/json"

	"github.com/google/uuid"

	"eventide/docstore"
	"eventide/query/ast"
	"eventide/query/value"
)

// explainAccess describes one access path as Couchbase's plan operators.
func explainAccess(ks docstore.Keyspace, acc *access) map[string]any {
	base := map[string]any{"namespace": "default", "keyspace": ks.Collection, "bucket": ks.Bucket, "scope": ks.Scope}
	if ks.Scope == docstore.DefaultScope && ks.Collection == docstore.DefaultCollection {
		base = map[string]any{"namespace": "default", "keyspace": ks.Bucket}
	}
	op := map[string]any{}
	for k, v := range base {
		op[k] = v
	}
	switch {
	case acc.useKeys:
		op["#operator"] = "KeyScan"
		op["keys"] = acc.keysText
		if acc.keysText == "" {
			op["keys"] = acc.keys
		}
	case acc.primary && len(acc.spans) == 1 && acc.spans[0].Low == nil:
		op["#operator"] = "PrimaryScan3"
		op["index"] = acc.index
		op["using"] = "gsi"
	default:
		op["#operator"] = "IndexScan3"
		op["index"] = acc.index
		op["using"] = "gsi"
		spans := make([]map[string]any, 0, len(acc.spans))
		for _, s := range acc.spans {
			r := map[string]any{"inclusion": inclusion(s)}
			if s.Low != nil {
				r["low"] = keyText(s.Low)
			}
			if s.High != nil {
				r["high"] = keyText(s.High)
			}
			if acc.primary {
				r["low"], r["high"] = string(s.Low), string(s.High)
			}
			spans = append(spans, map[string]any{"range": []any{r}})
		}
		op["spans"] = spans
	}
	return op
}

func inclusion(s docstore.ScanRange) int {
	n := 0
	if s.LowInclusive {
		n |= 1
	}
	if s.HighInclusive {
		n |= 2
	}
	return n
}

// keyText shows an encoded span bound as the values it starts with.
func keyText(b []byte) string {
	var out []byte
	for len(b) > 0 {
		v, rest, err := value.DecodeKeyPrefix(b)
		if err != nil {
			break
		}
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = v.AppendJSON(out)
		b = rest
	}
	return string(out)
}

// explainPlan plans stmt without running it and returns the plan.
func (x *exec) explainPlan(stmt ast.Statement) (value.Value, error) {
	x.explaining = true
	defer func() { x.explaining = false }()
	var err error
	switch s := stmt.(type) {
	case *ast.Select:
		err = x.query(s, nil, func(value.Value) (bool, error) { return true, nil })
	case *ast.Update:
		err = x.runUpdate(s)
	case *ast.Delete:
		err = x.runDelete(s)
	}
	if err != nil {
		return value.MissingValue, err
	}
	children := []any{}
	for _, a := range x.explained {
		children = append(children, a)
		children = append(children, map[string]any{"#operator": "Fetch", "keyspace": a["keyspace"], "namespace": "default"})
	}
	switch stmt.(type) {
	case *ast.Select:
		children = append(children,
			map[string]any{"#operator": "Filter"},
			map[string]any{"#operator": "InitialProject"},
			map[string]any{"#operator": "FinalProject"})
	case *ast.Insert:
		children = append(children, map[string]any{"#operator": "SendInsert"})
	case *ast.Update:
		children = append(children, map[string]any{"#operator": "SendUpdate"})
	case *ast.Delete:
		children = append(children, map[string]any{"#operator": "SendDelete"})
	case *ast.Merge:
		children = append(children, map[string]any{"#operator": "Merge"})
	case *ast.CreateIndex:
		children = append(children, map[string]any{"#operator": "CreateIndex"})
	}
	plan := map[string]any{"#operator": "Sequence", "~children": children}
	b, _ := json.Marshal(plan)
	return value.FromJSON(b)
}

func (x *exec) runExplain(s *ast.Explain) error {
	plan, err := x.explainPlan(s.Stmt)
	if err != nil {
		return err
	}
	x.res.Signature = value.NewString("json")
	out := value.NewOrderedObject([]value.Pair{
		{Name: "plan", Value: plan},
		{Name: "text", Value: value.NewString(s.Stmt.String())},
	})
	return x.emitValue(out)
}

func (x *exec) runPrepare(s *ast.Prepare, text string) error {
	name := s.Name
	if name == "" {
		name = uuid.NewString()
	}
	if p, ok := x.e.lookupPrepared(name); ok && !s.Force && p.stmt.String() != s.Stmt.String() {
		return newErr(4067, "Unable to add name: duplicate name: %s", name)
	}
	plan, err := x.explainPlan(s.Stmt)
	if err != nil {
		return err
	}
	x.e.storePrepared(&preparedStmt{name: name, text: text, stmt: s.Stmt, qc: x.req.QueryContext})
	x.res.Signature = value.NewString("json")
	sig := value.MissingValue
	if sel, ok := s.Stmt.(*ast.Select); ok {
		sig = signature(sel)
	}
	out := value.NewOrderedObject([]value.Pair{
		{Name: "name", Value: value.NewString(name)},
		{Name: "namespace", Value: value.NewString("default")},
		{Name: "operator", Value: plan},
		{Name: "queryContext", Value: value.NewString(x.req.QueryContext)},
		{Name: "signature", Value: sig},
		{Name: "text", Value: value.NewString(text)},
	})
	return x.emitValue(out)
}

func (x *exec) runExecute(s *ast.Execute) error {
	p, ok := x.e.lookupPrepared(s.Name)
	if !ok {
		return newErr(CodeNoSuchPrepared, "No such prepared statement: %s", s.Name)
	}
	if s.Using != nil {
		v, err := x.eval(s.Using, &row{})
		if err != nil {
			return err
		}
		if es, ok := v.Elems(); ok {
			x.positional = es
		} else if v.Kind() == value.Object {
			x.named = map[string]value.Value{}
			for _, pr := range v.SortedPairs() {
				x.named[trimDollar(pr.Name)] = pr.Value
			}
		}
	}
	if p.qc != "" {
		x.qcBucket, x.qcScope = parseQueryContext(p.qc)
	}
	return x.run(p.stmt, p.text)
}

func trimDollar(s string) string {
	if len(s) > 0 && s[0] == '$' {
		return s[1:]
	}
	return s
}
