package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// The sub-document engine behind couchbase.mutateIn and lookupIn: a JSON
// tree that keeps object key order and number text, Couchbase sub-document
// paths (a.b[2].c, `quoted.name`, [-1] for the last element), and the
// operations of the KV sub-document API with their failure kinds.

// sdErr is a sub-document failure, named as libcouchbase names it.
type sdErr int

const (
	sdOK sdErr = iota
	sdPathNotFound
	sdPathExists
	sdPathMismatch
	sdPathInvalid
	sdValueCantInsert
	sdDocNotJSON
	sdDocTooDeep
	sdValueTooDeep
)

// subdocFailures are the KV failures of sdErr (libcouchbase 2 names and
// error-type flags, like the other KV failures the handler API reports).
var subdocFailures = map[sdErr]kvFailure{
	sdPathNotFound:    {784, "LCB_SUBDOC_PATH_ENOENT", "Sub-document path does not exist"},
	sdPathExists:      {784, "LCB_SUBDOC_PATH_EEXISTS", "The given path already exists in the document"},
	sdPathMismatch:    {784, "LCB_SUBDOC_PATH_MISMATCH", "Type of element in sub-document path conflicts with type in document"},
	sdPathInvalid:     {769, "LCB_SUBDOC_PATH_EINVAL", "Malformed sub-document path"},
	sdValueCantInsert: {769, "LCB_SUBDOC_VALUE_CANTINSERT", "Subdocument operation would invalidate the JSON"},
	sdDocNotJSON:      {784, "LCB_SUBDOC_DOC_NOTJSON", "Existing document is not valid JSON"},
	sdDocTooDeep:      {784, "LCB_SUBDOC_DOC_E2DEEP", "Existing document contains too many levels of nesting"},
	sdValueTooDeep:    {769, "LCB_SUBDOC_VALUE_E2DEEP", "Value is too deep to insert"},
}

// Limits of the KV sub-document API.
const (
	// maxSubdocDepth bounds the nesting of documents, values and paths
	// (the KV limit). It also bounds the recursion of the tree code.
	maxSubdocDepth = 32
	// maxSubdocPathLen bounds a path, in bytes.
	maxSubdocPathLen = 1024
	// maxSubdocSpecs bounds the specs of one mutateIn or lookupIn.
	maxSubdocSpecs = 16
	// maxXattrKeyLen bounds an extended attribute's name, in bytes.
	maxXattrKeyLen = 15
)

// jsonObject is a JSON object that keeps its keys' order.
type jsonObject struct {
	keys []string
	vals map[string]any
}

// jsonArray is a JSON array, a pointer so that it can grow in place.
type jsonArray struct{ elems []any }

// rawJSON is a stored xattr value the tree does not parse (too deep, or not
// JSON at all): written back byte for byte, opaque to paths.
type rawJSON []byte

// Tree values: nil, bool, json.Number, string, *jsonObject, *jsonArray,
// rawJSON.

func newJSONObject() *jsonObject { return &jsonObject{vals: map[string]any{}} }

func (o *jsonObject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

func (o *jsonObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *jsonObject) remove(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

var errTooDeep = errors.New("json too deep")

// parseJSONTree parses one JSON value, at most maxSubdocDepth levels deep.
func parseJSONTree(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeTree(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: data after the value")
	}
	return v, nil
}

func decodeTree(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth >= maxSubdocDepth {
		return nil, errTooDeep
	}
	switch d {
	case '{':
		obj := newJSONObject()
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := decodeTree(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj.set(k, v)
		}
		_, err = dec.Token() // '}'
		return obj, err
	case '[':
		arr := &jsonArray{}
		for dec.More() {
			v, err := decodeTree(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr.elems = append(arr.elems, v)
		}
		_, err = dec.Token() // ']'
		return arr, err
	}
	return nil, errors.New("json: unexpected delimiter")
}

// encodeJSONTree renders a tree as JSON.
func encodeJSONTree(v any) []byte {
	var b bytes.Buffer
	writeJSONTree(&b, v)
	return b.Bytes()
}

func writeJSONTree(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(string(v))
	case string:
		writeJSONString(b, v)
	case *jsonObject:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSONTree(b, v.vals[k])
		}
		b.WriteByte('}')
	case rawJSON:
		b.Write(v)
	case *jsonArray:
		b.WriteByte('[')
		for i, e := range v.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONTree(b, e)
		}
		b.WriteByte(']')
	}
}

// pathElem is one component of a sub-document path: an object key or an
// array index (-1: the last element).
type pathElem struct {
	key     string
	index   int
	isIndex bool
}

// parseSubdocPath parses a path such as a.b[2].c, `a.b`.c or [0] (""
// is the whole document). A backtick-quoted key may contain '.', '[' and
// doubled backticks.
func parseSubdocPath(p string) ([]pathElem, bool) {
	if len(p) > maxSubdocPathLen {
		return nil, false
	}
	var out []pathElem
	i := 0
	expectKey := p != "" && p[0] != '['
	for i < len(p) {
		if expectKey {
			var key strings.Builder
			if p[i] == '`' {
				i++
				closed := false
				for i < len(p) {
					if p[i] == '`' {
						if i+1 < len(p) && p[i+1] == '`' {
							key.WriteByte('`')
							i += 2
							continue
						}
						i++
						closed = true
						break
					}
					key.WriteByte(p[i])
					i++
				}
				if !closed {
					return nil, false
				}
			} else {
				start := i
				for i < len(p) && p[i] != '.' && p[i] != '[' && p[i] != ']' && p[i] != '`' {
					i++
				}
				key.WriteString(p[start:i])
			}
			if key.Len() == 0 {
				return nil, false
			}
			out = append(out, pathElem{key: key.String()})
			expectKey = false
			continue
		}
		switch p[i] {
		case '.':
			i++
			if i == len(p) {
				return nil, false
			}
			expectKey = true
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(p[i+1 : i+j])
			if err != nil || n < -1 || strings.HasPrefix(p[i+1:i+j], "+") {
				return nil, false
			}
			out = append(out, pathElem{index: n, isIndex: true})
			i += j + 1
		default:
			return nil, false
		}
	}
	if len(out) > maxSubdocDepth {
		return nil, false
	}
	return out, true
}

// lookupPath returns the value at path under root.
func lookupPath(root any, path []pathElem) (any, sdErr) {
	cur := root
	for _, e := range path {
		next, err := child(cur, e)
		if err != sdOK {
			return nil, err
		}
		cur = next
	}
	return cur, sdOK
}

// child returns the element e of container v.
func child(v any, e pathElem) (any, sdErr) {
	if e.isIndex {
		arr, ok := v.(*jsonArray)
		if !ok {
			return nil, sdPathMismatch
		}
		i := e.index
		if i == -1 {
			i = len(arr.elems) - 1
		}
		if i < 0 || i >= len(arr.elems) {
			return nil, sdPathNotFound
		}
		return arr.elems[i], sdOK
	}
	obj, ok := v.(*jsonObject)
	if !ok {
		return nil, sdPathMismatch
	}
	c, ok := obj.get(e.key)
	if !ok {
		return nil, sdPathNotFound
	}
	return c, sdOK
}

// parentOf walks to the container of the path's last element. With
// createPath, missing object keys on the way are created as empty objects
// (a missing array element cannot be).
func parentOf(root any, path []pathElem, createPath bool) (any, sdErr) {
	cur := root
	for _, e := range path[:len(path)-1] {
		next, err := child(cur, e)
		if err == sdPathNotFound && createPath && !e.isIndex {
			obj := newJSONObject()
			cur.(*jsonObject).set(e.key, obj)
			next, err = obj, sdOK
		}
		if err != sdOK {
			return nil, err
		}
		cur = next
	}
	return cur, sdOK
}

// Mutation kinds, numbered as couchbase.MutateInSpec's spec_type.
const (
	sdInsert = iota + 1
	sdUpsert
	sdReplace
	sdRemove
	sdArrayAppend
	sdArrayPrepend
	sdArrayInsert
	sdArrayAddUnique
)

// mutatePath applies one mutation to the tree held by *root (which it may
// replace, for operations on the whole document).
func mutatePath(root *any, kind int, path []pathElem, value any, createPath bool) sdErr {
	switch kind {
	case sdInsert, sdUpsert:
		if len(path) == 0 || path[len(path)-1].isIndex {
			return sdPathInvalid
		}
		parent, err := parentOf(*root, path, createPath)
		if err != sdOK {
			return err
		}
		obj, ok := parent.(*jsonObject)
		if !ok {
			return sdPathMismatch
		}
		key := path[len(path)-1].key
		if _, exists := obj.get(key); exists && kind == sdInsert {
			return sdPathExists
		}
		obj.set(key, value)
		return sdOK
	case sdReplace, sdRemove:
		if len(path) == 0 {
			return sdPathInvalid
		}
		parent, err := parentOf(*root, path, false)
		if err != sdOK {
			return err
		}
		last := path[len(path)-1]
		if _, err := child(parent, last); err != sdOK {
			return err
		}
		if !last.isIndex {
			obj := parent.(*jsonObject)
			if kind == sdReplace {
				obj.set(last.key, value)
			} else {
				obj.remove(last.key)
			}
			return sdOK
		}
		arr := parent.(*jsonArray)
		i := last.index
		if i == -1 {
			i = len(arr.elems) - 1
		}
		if kind == sdReplace {
			arr.elems[i] = value
		} else {
			arr.elems = append(arr.elems[:i], arr.elems[i+1:]...)
		}
		return sdOK
	case sdArrayAppend, sdArrayPrepend, sdArrayAddUnique:
		arr, err := arrayAt(root, path, createPath)
		if err != sdOK {
			return err
		}
		switch kind {
		case sdArrayAppend:
			arr.elems = append(arr.elems, value)
		case sdArrayPrepend:
			arr.elems = append([]any{value}, arr.elems...)
		default:
			if !isJSONPrimitive(value) {
				return sdValueCantInsert
			}
			for _, e := range arr.elems {
				if !isJSONPrimitive(e) {
					return sdPathMismatch
				}
				if jsonPrimitiveEqual(e, value) {
					return sdPathExists
				}
			}
			arr.elems = append(arr.elems, value)
		}
		return sdOK
	case sdArrayInsert:
		if len(path) == 0 || !path[len(path)-1].isIndex || path[len(path)-1].index < 0 {
			return sdPathInvalid
		}
		parent, err := parentOf(*root, path, createPath)
		if err != sdOK {
			return err
		}
		arr, ok := parent.(*jsonArray)
		if !ok {
			return sdPathMismatch
		}
		i := path[len(path)-1].index
		if i > len(arr.elems) {
			return sdPathNotFound
		}
		arr.elems = append(arr.elems, nil)
		copy(arr.elems[i+1:], arr.elems[i:])
		arr.elems[i] = value
		return sdOK
	}
	return sdPathInvalid
}

// arrayAt returns the array at path, creating an empty one (and the objects
// on the way) with createPath when the last element is a missing key.
func arrayAt(root *any, path []pathElem, createPath bool) (*jsonArray, sdErr) {
	if len(path) == 0 {
		arr, ok := (*root).(*jsonArray)
		if !ok {
			return nil, sdPathMismatch
		}
		return arr, sdOK
	}
	parent, err := parentOf(*root, path, createPath)
	if err != sdOK {
		return nil, err
	}
	last := path[len(path)-1]
	v, err := child(parent, last)
	if err == sdPathNotFound && createPath && !last.isIndex {
		arr := &jsonArray{}
		parent.(*jsonObject).set(last.key, arr)
		return arr, sdOK
	}
	if err != sdOK {
		return nil, err
	}
	arr, ok := v.(*jsonArray)
	if !ok {
		return nil, sdPathMismatch
	}
	return arr, sdOK
}

func isJSONPrimitive(v any) bool {
	switch v.(type) {
	case nil, bool, json.Number, string:
		return true
	}
	return false
}

// jsonPrimitiveEqual compares primitives; numbers by value (1 equals 1.0).
func jsonPrimitiveEqual(a, b any) bool {
	an, aNum := a.(json.Number)
	bn, bNum := b.(json.Number)
	if aNum && bNum {
		if an == bn {
			return true
		}
		af, aerr := an.Float64()
		bf, berr := bn.Float64()
		return aerr == nil && berr == nil && af == bf
	}
	return a == b
}
