package handler

import (
	"github.com/dop251/goja"
)

// errorClassNames are the exception classes handlers see as globals
// (§2.11), built by jsrt (InstallErrorClasses).
var errorClassNames = []string{"EventingError", "KVError", "N1QLError", "CurlError", "AnalyticsError", "SearchError"}

// KV error codes thrown by the basic accessors, named as libcouchbase does.
type kvFailure struct {
	code int
	name string
	desc string
}

var (
	kvKeyNotFound = kvFailure{272, "LCB_KEY_ENOENT", "The document key does not exist on the server"}
	kvGeneric     = kvFailure{0, "LCB_ERROR", ""}
)

// errorClasses holds a worker's exception constructors.
type errorClasses struct {
	eventing, kv *goja.Object
}

// installErrors defines the error classes as globals.
func (w *Worker) installErrors() error {
	if err := w.rt.InstallErrorClasses(handlerFileName, errorClassNames...); err != nil {
		return err
	}
	w.errs.eventing = w.rt.ErrorClass("EventingError")
	w.errs.kv = w.rt.ErrorClass("KVError")
	return nil
}

// throwEventingError throws an EventingError from native code. It must be
// called only from Go code that JavaScript called (a native function or a
// proxy trap): it panics with the error object, which goja turns into a
// JavaScript exception.
func (w *Worker) throwEventingError(msg string) {
	w.rt.Throw(w.errs.eventing, w.vm.ToValue(msg))
}

// throwKVError throws a KVError whose message is {code, name, desc}, as
// Couchbase throws KV failures.
func (w *Worker) throwKVError(f kvFailure) {
	info := w.vm.NewObject()
	_ = info.Set("code", f.code)
	_ = info.Set("desc", f.desc)
	_ = info.Set("name", f.name)
	w.rt.Throw(w.errs.kv, info)
}

// throwKVErrorMessage throws a KVError with a plain message, as Couchbase
// does for a bad key given to a basic delete.
func (w *Worker) throwKVErrorMessage(msg string) {
	w.rt.Throw(w.errs.kv, w.vm.ToValue(msg))
}
