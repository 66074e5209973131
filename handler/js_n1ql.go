package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
)

// SQL++ from handlers (§2.8): N1QL(statement, params, options), its alias
// couchbase.n1qlQuery (what inline statements are transpiled to), and the
// deprecated new N1qlQuery(statement, {namedParams, consistency}).execQuery().
// A statement starts when it is issued; its rows come through an iterable
// with close(). A worker has at most lcb_inst_capacity statements open;
// those the handler leaves open are closed when the invocation ends.

// Messages of the N1QLErrors the worker raises itself.
const (
	msgPoolCapacity = "Connection pool maximum capacity reached"
	msgNoQuerier    = "SQL++ (N1QL) is not available: no query service is configured for this function"
)

// openQuery is a statement the handler issued and has not closed.
type openQuery struct {
	rows   Rows
	cancel context.CancelFunc
	done   bool
}

// queryState is the worker's SQL++ state.
type queryState struct {
	querier  Querier
	capacity int          // lcb_inst_capacity
	open     []*openQuery // in issue order; owned by the worker's goroutine
	errClass *goja.Object // N1QLError
}

// installN1QL defines N1QL, N1qlQuery and couchbase.n1qlQuery.
func (w *Worker) installN1QL() error {
	w.q.open = nil
	w.q.errClass = w.rt.ErrorClass("N1QLError")
	n1ql := w.vm.ToValue(func(call goja.FunctionCall) goja.Value {
		return w.n1qlCall("N1QL", call.Argument(0), call.Argument(1), call.Argument(2))
	})
	if err := w.vm.Set("N1QL", n1ql); err != nil {
		return err
	}
	cb, ok := w.vm.Get("couchbase").(*goja.Object)
	if !ok {
		return errors.New("handler: global couchbase missing")
	}
	if err := cb.Set("n1qlQuery", n1ql); err != nil {
		return err
	}
	return w.vm.Set("N1qlQuery", w.vm.ToValue(w.newN1qlQuery))
}

// newN1qlQuery is the deprecated constructor N1qlQuery(statement,
// {namedParams, consistency}); execQuery() runs the statement and returns
// all its rows as an array.
func (w *Worker) newN1qlQuery(call goja.ConstructorCall) *goja.Object {
	stmt, opts := call.Argument(0), call.Argument(1)
	var params, options goja.Value = goja.Undefined(), goja.Undefined()
	if o, ok := opts.(*goja.Object); ok {
		params = o.Get("namedParams")
		if c := o.Get("consistency"); c != nil && !goja.IsUndefined(c) {
			oo := w.vm.NewObject()
			_ = oo.Set("consistency", c)
			options = oo
		}
	}
	this := call.This
	_ = this.Set("statement", stmt)
	_ = this.Set("options", opts)
	_ = this.Set("execQuery", func(goja.FunctionCall) goja.Value {
		oq := w.n1qlIssue("N1qlQuery", stmt, params, options)
		var rows []any
		for {
			v, ok := w.nextRow(oq)
			if !ok {
				break
			}
			rows = append(rows, v)
		}
		return w.vm.NewArray(rows...)
	})
	return nil
}

// n1qlCall issues a statement and returns its iterable.
func (w *Worker) n1qlCall(api string, stmtV, paramsV, optsV goja.Value) goja.Value {
	return w.newQueryIterable(w.n1qlIssue(api, stmtV, paramsV, optsV))
}

// n1qlIssue checks a statement's arguments and starts it.
func (w *Worker) n1qlIssue(api string, stmtV, paramsV, optsV goja.Value) *openQuery {
	stmt, ok := stmtV.Export().(string)
	if !ok || strings.TrimSpace(stmt) == "" {
		w.throwN1QL(api + ": the statement must be a non-empty string")
	}
	q := Query{Statement: stmt, Consistency: ConsistencyNone, Function: w.name, Origin: w.fiid,
		SourceKeyspace: w.inv.keyspace, Store: w.inv.store}
	w.n1qlParams(api, paramsV, &q)
	w.n1qlOptions(api, optsV, &q)
	if w.q.querier == nil {
		w.throwN1QL(msgNoQuerier)
	}
	if w.openQueries() >= w.q.capacity {
		w.throwN1QL(msgPoolCapacity)
	}
	parent := w.rt.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithDeadline(parent, w.rt.Deadline())
	rows, err := w.q.querier.Query(ctx, q)
	if err != nil {
		cancel()
		w.throwQueryError(err)
	}
	oq := &openQuery{rows: rows, cancel: cancel}
	w.q.open = append(w.q.open, oq)
	return oq
}

// openQueries counts the statements still open.
func (w *Worker) openQueries() int {
	n := 0
	for _, q := range w.q.open {
		if !q.done {
			n++
		}
	}
	return n
}

// n1qlParams reads named ({'$x': v}) or positional ([v1, v2]) parameters.
func (w *Worker) n1qlParams(api string, v goja.Value, q *Query) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		w.throwN1QL(fmt.Sprintf("%s: parameters must be an object of named parameters or an array of positional ones", api))
	}
	if obj.ClassName() == "Array" {
		n := int(obj.Get("length").ToInteger())
		q.Positional = make([]json.RawMessage, n)
		for i := range n {
			q.Positional[i] = w.n1qlValue(fmt.Sprintf("%s: positional parameter %d", api, i+1), obj.Get(fmt.Sprint(i)))
		}
		return
	}
	keys := obj.Keys()
	q.Named = make(map[string]json.RawMessage, len(keys))
	for _, k := range keys {
		name := strings.TrimPrefix(k, "$")
		if name == "" {
			w.throwN1QL(fmt.Sprintf("%s: parameter name %q is empty", api, k))
		}
		q.Named[name] = w.n1qlValue(fmt.Sprintf("%s: parameter %s", api, k), obj.Get(k))
	}
}

// n1qlValue converts a parameter to JSON; undefined, functions and Symbols
// have no JSON form and are refused.
func (w *Worker) n1qlValue(what string, v goja.Value) json.RawMessage {
	switch {
	case v == nil || goja.IsUndefined(v):
		w.throwN1QL(what + " is undefined")
	case jsIsSymbol(v):
		w.throwN1QL(what + " is a Symbol, which has no SQL++ value")
	}
	if obj, ok := v.(*goja.Object); ok {
		if _, fn := goja.AssertFunction(obj); fn {
			w.throwN1QL(what + " is a function, which has no SQL++ value")
		}
	}
	return json.RawMessage(w.rt.JSONText(v))
}

func jsIsSymbol(v goja.Value) bool {
	_, ok := v.(*goja.Symbol)
	return ok
}

// n1qlOptions reads {consistency, isPrepared, clientContextId}.
func (w *Worker) n1qlOptions(api string, v goja.Value, q *Query) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		w.throwN1QL(api + ": options must be an object")
	}
	if c := obj.Get("consistency"); c != nil && !goja.IsUndefined(c) {
		switch s := c.String(); s {
		case ConsistencyNone, ConsistencyRequest:
			q.Consistency = s
		default:
			w.throwN1QL(fmt.Sprintf("%s: consistency must be 'none' or 'request', got %q", api, s))
		}
	}
	if p := obj.Get("isPrepared"); p != nil && !goja.IsUndefined(p) {
		b, ok := p.Export().(bool)
		if !ok {
			w.throwN1QL(api + ": isPrepared must be a boolean")
		}
		q.Prepared = b
	}
	if id := obj.Get("clientContextId"); id != nil && !goja.IsUndefined(id) {
		s, ok := id.Export().(string)
		if !ok {
			w.throwN1QL(api + ": clientContextId must be a string")
		}
		q.ClientContextID = s
	}
}

// newQueryIterable is what N1QL returns: iterable once with for...of, and
// close().
func (w *Worker) newQueryIterable(oq *openQuery) *goja.Object {
	it := w.vm.NewObject()
	iter := w.vm.NewObject()
	_ = iter.Set("next", func(goja.FunctionCall) goja.Value {
		res := w.vm.NewObject()
		v, ok := w.nextRow(oq)
		_ = res.Set("done", !ok)
		if ok {
			_ = res.Set("value", v)
		}
		return res
	})
	_ = it.SetSymbol(goja.SymIterator, func(goja.FunctionCall) goja.Value { return iter })
	_ = it.Set("close", func(goja.FunctionCall) goja.Value {
		if err := w.closeQuery(oq); err != nil {
			w.throwQueryError(err)
		}
		return goja.Undefined()
	})
	return it
}

// nextRow reads the next row of a statement; at the end the statement is
// closed, freeing its place in the pool.
func (w *Worker) nextRow(oq *openQuery) (goja.Value, bool) {
	if oq.done {
		return nil, false
	}
	row, ok, err := oq.rows.Next()
	if err != nil {
		_ = w.closeQuery(oq)
		w.throwQueryError(err)
	}
	if !ok {
		if err := w.closeQuery(oq); err != nil {
			w.throwQueryError(err)
		}
		return nil, false
	}
	v, err := w.rt.DecodeJSON(row)
	if err != nil {
		_ = w.closeQuery(oq)
		w.throwN1QL("query row is not JSON: " + err.Error())
	}
	return v, true
}

// closeQuery closes a statement once.
func (w *Worker) closeQuery(oq *openQuery) error {
	if oq.done {
		return nil
	}
	oq.done = true
	err := oq.rows.Close()
	oq.cancel()
	return err
}

// closeQueries closes what the invocation left open (Couchbase's
// ClearQueries when a handler returns).
func (w *Worker) closeQueries() {
	for _, oq := range w.q.open {
		_ = w.closeQuery(oq)
	}
	w.q.open = w.q.open[:0]
}

// throwN1QL counts an N1QL exception and throws an N1QLError with msg.
func (w *Worker) throwN1QL(msg string) {
	w.stats.inc(statN1QLOpException)
	w.rt.Throw(w.q.errClass, w.vm.ToValue(msg))
}

// throwQueryError throws a query failure: a *QueryError as an N1QLError
// whose message is {code, msg}, anything else (an interrupted query) with
// its text.
func (w *Worker) throwQueryError(err error) {
	var qe *QueryError
	if !errors.As(err, &qe) {
		w.throwN1QL(strings.TrimPrefix(err.Error(), "handler: "))
	}
	w.stats.inc(statN1QLOpException)
	info := w.vm.NewObject()
	_ = info.Set("code", qe.Code)
	_ = info.Set("msg", qe.Msg)
	w.rt.Throw(w.q.errClass, info)
}
