package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	msgNoInvocation = "SQL++ (N1QL) can only be used while handling an event"
)

// openQuery is a statement the handler issued and has not closed.
type openQuery struct {
	rows   Rows
	cancel context.CancelFunc
	done   bool
	// peeked is the first row, read when the statement was issued, until
	// the handler reads it; peekOK is false when there was none.
	peeked   json.RawMessage
	peekOK   bool
	peekUsed bool
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
		if len(call.Arguments) < 1 {
			w.throwN1QL("Need at least the query")
		}
		return w.n1qlCall(call.Argument(0), call.Argument(1), call.Argument(2))
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
		oq := w.n1qlIssue(stmt, params, options)
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
func (w *Worker) n1qlCall(stmtV, paramsV, optsV goja.Value) goja.Value {
	return w.newQueryIterable(w.n1qlIssue(stmtV, paramsV, optsV))
}

// n1qlIssue checks a statement's arguments (with Couchbase's messages),
// starts it and reads its first row, so that a failing statement throws
// where it is issued.
func (w *Worker) n1qlIssue(stmtV, paramsV, optsV goja.Value) *openQuery {
	stmt, ok := stmtV.Export().(string)
	if !ok {
		w.throwN1QL("Expecting a string for the first parameter")
	}
	q := Query{Statement: stmt, Consistency: ConsistencyNone, Function: w.name, Origin: w.fiid,
		SourceKeyspace: w.inv.keyspace, Store: w.inv.store}
	// The function's settings are the defaults of every statement.
	if c := w.p.settings.N1QLConsistency; c != "" {
		q.Consistency = c
	}
	q.Prepared = w.p.settings.N1QLPrepareAll
	w.n1qlParams(paramsV, &q)
	w.n1qlOptions(optsV, &q)
	switch {
	case w.q.querier == nil:
		w.throwN1QL(msgNoQuerier)
	case w.inv.store == nil:
		w.throwN1QL(msgNoInvocation)
	case w.openQueries() >= w.q.capacity:
		w.throwN1QL(msgPoolCapacity)
	}
	parent := w.rt.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithDeadline(parent, w.rt.Deadline())
	rows, err := w.q.querier.Query(ctx, q)
	if err == nil && rows == nil {
		err = errors.New("the query service returned no result")
	}
	if err != nil {
		cancel()
		w.throwQueryError(err)
	}
	oq := &openQuery{rows: rows, cancel: cancel}
	w.q.open = append(w.q.open, oq)
	row, more, err := rows.Next()
	if err != nil {
		_ = w.closeQuery(oq)
		w.throwQueryError(err)
	}
	oq.peeked, oq.peekOK = row, more
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
func (w *Worker) n1qlParams(v goja.Value, q *Query) {
	if v == nil || goja.IsUndefined(v) {
		return
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		w.throwN1QL("Expecting an object or an array for the second parameter")
	}
	if obj.ClassName() == "Array" {
		// Grown as read, not sized from length: a sparse array's length
		// says nothing about what it holds (its holes are refused).
		n := obj.Get("length").ToInteger()
		q.Positional = []json.RawMessage{}
		for i := int64(0); i < n; i++ {
			p := obj.Get(strconv.FormatInt(i, 10))
			if bad := invalidParamType(p); bad != "" {
				w.throwN1QL(fmt.Sprintf("Invalid data type at index %d for positional parameters: %s", i, bad))
			}
			q.Positional = append(q.Positional, json.RawMessage(w.rt.JSONText(p)))
		}
		return
	}
	keys := obj.Keys()
	q.Named = make(map[string]json.RawMessage, len(keys))
	for _, k := range keys {
		p := obj.Get(k)
		if bad := invalidParamType(p); bad != "" {
			w.throwN1QL("Invalid data type for named parameters: " + bad)
		}
		q.Named[strings.TrimPrefix(k, "$")] = json.RawMessage(w.rt.JSONText(p))
	}
}

// invalidParamType says why a value cannot be a parameter (it has no JSON
// form), "" if it can.
func invalidParamType(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return `"undefined" is not a valid type`
	case isSymbol(v):
		return `"symbol" is not a valid type`
	}
	if _, fn := goja.AssertFunction(v); fn {
		return `"function" is not a valid type`
	}
	return ""
}

func isSymbol(v goja.Value) bool {
	_, ok := v.(*goja.Symbol)
	return ok
}

// n1qlOptions reads {consistency, isPrepared, clientContextId}.
func (w *Worker) n1qlOptions(v goja.Value, q *Query) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		w.throwN1QL("Expecting an object for the third parameter")
	}
	if c := obj.Get("consistency"); c != nil && !goja.IsUndefined(c) {
		s, ok := c.Export().(string)
		switch {
		case !ok:
			w.throwN1QL("Expecting a string for consistency")
		case s != ConsistencyNone && s != ConsistencyRequest:
			w.throwN1QL("consistency must be one of 'none', 'request'")
		}
		q.Consistency = s
	}
	if p := obj.Get("isPrepared"); p != nil && !goja.IsUndefined(p) {
		b, ok := p.Export().(bool)
		if !ok {
			w.throwN1QL("Expecting a boolean for isPrepared property")
		}
		q.Prepared = b
	}
	if id := obj.Get("clientContextId"); id != nil && !goja.IsUndefined(id) {
		if bad := invalidParamType(id); bad != "" {
			w.throwN1QL("Invalid data type for clientContextId: " + bad)
		}
		if s, ok := id.Export().(string); ok {
			q.ClientContextID = s
		} else {
			q.ClientContextID = w.rt.JSONText(id)
		}
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
	var (
		row json.RawMessage
		ok  bool
		err error
	)
	if !oq.peekUsed {
		oq.peekUsed = true
		row, ok = oq.peeked, oq.peekOK
		oq.peeked = nil
	} else {
		row, ok, err = oq.rows.Next()
	}
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

// throwQueryError throws a query failure as an N1QLError whose message
// reads like Couchbase's: "Query error : " and the errors of the response
// as JSON for a *QueryError, "SDK error : " and the cause otherwise (the
// statement was interrupted).
func (w *Worker) throwQueryError(err error) {
	var qe *QueryError
	if !errors.As(err, &qe) {
		w.throwN1QL("SDK error : " + strings.TrimPrefix(err.Error(), "handler: "))
	}
	body, _ := json.Marshal(struct {
		Errors []queryErrorEntry `json:"errors"`
		Status string            `json:"status"`
	}{[]queryErrorEntry{{qe.Code, qe.Msg}}, "fatal"})
	w.throwN1QL("Query error : " + string(body))
}

// queryErrorEntry is one error of a query response.
type queryErrorEntry struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}
