package engine

import (
	"eventide/docstore"
	"eventide/query/value"
)

// row is the environment an expression is evaluated in: the keyspace
// aliases and variables bound so far, the outer query's row for
// correlated subqueries, and after grouping the group's aggregates.
type row struct {
	outer *row
	names []string
	vals  []value.Value
	docs  []*docMeta
	// dflt is the alias that bare identifiers are fields of (a FROM with
	// a single keyspace term, as Couchbase qualifies them); "" when none.
	dflt string
	// group is set on rows that stand for a group after GROUP BY.
	group *groupRow
}

// letPending marks a LET name bound ahead of its value (while the FROM
// clause is planned and read): a variable, neither a document field nor a
// constant.
var letPending = &docMeta{}

// docMeta is what META() of a keyspace alias reports.
type docMeta struct {
	key      string
	cas      uint64
	expiry   uint32
	flags    uint32
	binary   bool
	keyspace docstore.Keyspace
}

func metaOf(ks docstore.Keyspace, d *docstore.Document) *docMeta {
	return &docMeta{key: d.Key, cas: d.CAS, expiry: d.Expiry, flags: d.Flags, binary: d.Datatype != docstore.DatatypeJSON, keyspace: ks}
}

func (m *docMeta) value() value.Value {
	typ := "json"
	if m.binary {
		typ = "base64"
	}
	return value.NewObject([]value.Pair{
		{Name: "cas", Value: value.NewInt(int64(m.cas))},
		{Name: "expiration", Value: value.NewInt(int64(m.expiry))},
		{Name: "flags", Value: value.NewInt(int64(m.flags))},
		{Name: "id", Value: value.NewString(m.key)},
		{Name: "keyspace", Value: value.NewString("default:" + keyspacePath(m.keyspace))},
		{Name: "type", Value: value.NewString(typ)},
	})
}

// groupRow carries a group's key values and aggregate results, keyed by
// the canonical text of the expression.
type groupRow struct {
	keys map[string]value.Value
	aggs map[string]value.Value
}

// with returns a copy of r with name bound to v (doc is its META, nil
// for a plain variable).
func (r *row) with(name string, v value.Value, doc *docMeta) *row {
	if r == nil {
		r = &row{}
	}
	n := &row{outer: r.outer, dflt: r.dflt, group: r.group}
	n.names = append(make([]string, 0, len(r.names)+1), r.names...)
	n.vals = append(make([]value.Value, 0, len(r.vals)+1), r.vals...)
	n.docs = append(make([]*docMeta, 0, len(r.docs)+1), r.docs...)
	n.names = append(n.names, name)
	n.vals = append(n.vals, v)
	n.docs = append(n.docs, doc)
	return n
}

// lookup finds a bound name here or in the outer rows.
func (r *row) lookup(name string) (value.Value, *docMeta, bool) {
	for x := r; x != nil; x = x.outer {
		for i := len(x.names) - 1; i >= 0; i-- {
			if x.names[i] == name {
				return x.vals[i], x.docs[i], true
			}
		}
	}
	return value.MissingValue, nil, false
}

// bound reports whether name is bound in r itself (not the outer rows).
func (r *row) boundHere(name string) bool {
	for i := range r.names {
		if r.names[i] == name {
			return true
		}
	}
	return false
}
