// Package testzip builds zip archives in memory for tests and benchmarks:
// Qinling function packages, mostly.
package testzip

import (
	"archive/zip"
	"bytes"
	"maps"
	"slices"
)

// Of returns a zip archive of files (name → content), in name order so
// that the same files give the same bytes (and md5).
func Of(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write([]byte(files[name]))
		}
		if err != nil {
			panic("testzip: " + err.Error()) // only a bad name fails in memory
		}
	}
	if err := zw.Close(); err != nil {
		panic("testzip: " + err.Error())
	}
	return buf.Bytes()
}
