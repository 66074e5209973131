package restclient

import (
	"bytes"
	"maps"
	"mime/multipart"
	"slices"
)

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
