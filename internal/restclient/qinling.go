package restclient

import (
	"archive/zip"
	"bytes"
	"maps"
	"mime/multipart"
	"slices"
)

// Zip returns a zip archive of files (name → content), in name order, as
// a Qinling function package.
func Zip(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write([]byte(files[name]))
		}
		if err != nil {
			panic(err) // writing to memory fails only on a bad name
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// FunctionForm returns the multipart body of POST /v1/functions for a
// package function, and its content type. fields are further form fields
// (timeout, memory_size, ...).
func FunctionForm(name, runtimeID, entry string, pkg []byte, fields map[string]string) (contentType string, body *bytes.Buffer) {
	body = &bytes.Buffer{}
	mw := multipart.NewWriter(body)
	_ = mw.WriteField("name", name)
	_ = mw.WriteField("runtime_id", runtimeID)
	_ = mw.WriteField("entry", entry)
	_ = mw.WriteField("code", `{"source": "package"}`)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		_ = mw.WriteField(k, fields[k])
	}
	pw, _ := mw.CreateFormFile("package", name+".zip")
	_, _ = pw.Write(pkg)
	_ = mw.Close()
	return mw.FormDataContentType(), body
}
