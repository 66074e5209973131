package handler

import (
	"github.com/dop251/goja"
)

// couchbaseNamespace returns the global couchbase object, creating it if no
// other installer has (several areas add functions to it).
func (w *Worker) couchbaseNamespace() (*goja.Object, error) {
	if obj, ok := w.vm.Get("couchbase").(*goja.Object); ok {
		return obj, nil
	}
	obj := w.vm.NewObject()
	if err := w.vm.Set("couchbase", obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// installBuiltins defines crc64 and the couchbase.* hashing and base64
// helpers (§2.10, jsrt's); bad arguments throw an EventingError.
func (w *Worker) installBuiltins() error {
	cb, err := w.couchbaseNamespace()
	if err != nil {
		return err
	}
	return w.rt.InstallBuiltins(cb, w.throwEventingError)
}
