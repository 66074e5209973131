package subdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Status is the outcome of a sub-document operation: OK or a failure,
// named as libcouchbase names them (LCB_SUBDOC_PATH_ENOENT is PathNotFound).
type Status int

// Outcomes of the sub-document operations.
const (
	OK Status = iota
	// PathNotFound: a path element is not there.
	PathNotFound
	// PathExists: an insert found the path, or arrayAddUnique the value.
	PathExists
	// PathMismatch: a path element goes through a value of the wrong type.
	PathMismatch
	// PathInvalid: the path is malformed, or wrong for the operation.
	PathInvalid
	// ValueCantInsert: the value would make the document invalid.
	ValueCantInsert
	// DocNotJSON: the document is not JSON.
	DocNotJSON
	// DocTooDeep: the document is nested deeper than MaxDepth.
	DocTooDeep
	// ValueTooDeep: the value is nested deeper than MaxDepth.
	ValueTooDeep
)

// Limits of the KV sub-document API.
const (
	// MaxDepth bounds the nesting of documents, values and paths
	// (the KV limit). It also bounds the recursion of the tree code.
	MaxDepth = 32
	// MaxPathLen bounds a path, in bytes.
	MaxPathLen = 1024
	// MaxSpecs bounds the specs of one mutateIn or lookupIn.
	MaxSpecs = 16
	// MaxXattrKeyLen bounds an extended attribute's name, in bytes.
	MaxXattrKeyLen = 15
)

// Object is a JSON object that keeps its keys' order.
type Object struct {
	keys []string
	vals map[string]any
}

// Array is a JSON array, a pointer so that it can grow in place.
type Array struct{ elems []any }

// Raw is a stored xattr value the tree does not parse (too deep, or not
// JSON at all): written back byte for byte, opaque to paths.
type Raw []byte

// Tree values: nil, bool, json.Number, string, *Object, *Array,
// Raw.

// NewObject returns an empty object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Keys returns the object's keys in order; the caller must not change them.
func (o *Object) Keys() []string { return o.keys }

// Get returns the value of key k.
func (o *Object) Get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// Set sets key k, appending it if it is new.
func (o *Object) Set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Remove deletes key k.
func (o *Object) Remove(k string) {
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

var ErrTooDeep = errors.New("json too deep")

// Parse parses one JSON value, at most MaxDepth levels deep.
func Parse(data []byte) (any, error) {
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
	if depth >= MaxDepth {
		return nil, ErrTooDeep
	}
	switch d {
	case '{':
		obj := NewObject()
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
			obj.Set(k, v)
		}
		_, err = dec.Token() // '}'
		return obj, err
	case '[':
		arr := &Array{}
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

// Encode renders a tree as JSON.
func Encode(v any) []byte {
	var b bytes.Buffer
	writeTree(&b, v)
	return b.Bytes()
}

func writeTree(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(string(v))
	case string:
		writeString(b, v)
	case *Object:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeTree(b, v.vals[k])
		}
		b.WriteByte('}')
	case Raw:
		b.Write(v)
	case *Array:
		b.WriteByte('[')
		for i, e := range v.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTree(b, e)
		}
		b.WriteByte(']')
	}
}

// PathElem is one component of a sub-document path: an object key or an
// array index (-1: the last element).
type PathElem struct {
	Key     string
	Index   int
	IsIndex bool
}

// ParsePath parses a path such as a.b[2].c, `a.b`.c or [0] (""
// is the whole document). A backtick-quoted key may contain '.', '[' and
// doubled backticks.
func ParsePath(p string) ([]PathElem, bool) {
	if len(p) > MaxPathLen {
		return nil, false
	}
	var out []PathElem
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
			out = append(out, PathElem{Key: key.String()})
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
			out = append(out, PathElem{Index: n, IsIndex: true})
			i += j + 1
		default:
			return nil, false
		}
	}
	if len(out) > MaxDepth {
		return nil, false
	}
	return out, true
}

// Lookup returns the value at path under root.
func Lookup(root any, path []PathElem) (any, Status) {
	cur := root
	for _, e := range path {
		next, err := child(cur, e)
		if err != OK {
			return nil, err
		}
		cur = next
	}
	return cur, OK
}

// child returns the element e of container v.
func child(v any, e PathElem) (any, Status) {
	if e.IsIndex {
		arr, ok := v.(*Array)
		if !ok {
			return nil, PathMismatch
		}
		i := e.Index
		if i == -1 {
			i = len(arr.elems) - 1
		}
		if i < 0 || i >= len(arr.elems) {
			return nil, PathNotFound
		}
		return arr.elems[i], OK
	}
	obj, ok := v.(*Object)
	if !ok {
		return nil, PathMismatch
	}
	c, ok := obj.Get(e.Key)
	if !ok {
		return nil, PathNotFound
	}
	return c, OK
}

// parentOf walks to the container of the path's last element. With
// createPath, missing object keys on the way are created as empty objects
// (a missing array element cannot be).
func parentOf(root any, path []PathElem, createPath bool) (any, Status) {
	cur := root
	for _, e := range path[:len(path)-1] {
		next, err := child(cur, e)
		if err == PathNotFound && createPath && !e.IsIndex {
			obj := NewObject()
			cur.(*Object).Set(e.Key, obj)
			next, err = obj, OK
		}
		if err != OK {
			return nil, err
		}
		cur = next
	}
	return cur, OK
}

// Op is a mutation kind.
type Op int

// Mutation kinds, numbered as couchbase.MutateInSpec's spec_type.
const (
	Insert Op = iota + 1
	Upsert
	Replace
	Remove
	ArrayAppend
	ArrayPrepend
	ArrayInsert
	ArrayAddUnique
)

// Mutate applies one mutation to the tree held by *root (which it may
// replace, for operations on the whole document).
func Mutate(root *any, kind Op, path []PathElem, value any, createPath bool) Status {
	switch kind {
	case Insert, Upsert:
		if len(path) == 0 || path[len(path)-1].IsIndex {
			return PathInvalid
		}
		parent, err := parentOf(*root, path, createPath)
		if err != OK {
			return err
		}
		obj, ok := parent.(*Object)
		if !ok {
			return PathMismatch
		}
		key := path[len(path)-1].Key
		if _, exists := obj.Get(key); exists && kind == Insert {
			return PathExists
		}
		obj.Set(key, value)
		return OK
	case Replace, Remove:
		if len(path) == 0 {
			return PathInvalid
		}
		parent, err := parentOf(*root, path, false)
		if err != OK {
			return err
		}
		last := path[len(path)-1]
		if _, err := child(parent, last); err != OK {
			return err
		}
		if !last.IsIndex {
			obj := parent.(*Object)
			if kind == Replace {
				obj.Set(last.Key, value)
			} else {
				obj.Remove(last.Key)
			}
			return OK
		}
		arr := parent.(*Array)
		i := last.Index
		if i == -1 {
			i = len(arr.elems) - 1
		}
		if kind == Replace {
			arr.elems[i] = value
		} else {
			arr.elems = append(arr.elems[:i], arr.elems[i+1:]...)
		}
		return OK
	case ArrayAppend, ArrayPrepend, ArrayAddUnique:
		arr, err := arrayAt(root, path, createPath)
		if err != OK {
			return err
		}
		switch kind {
		case ArrayAppend:
			arr.elems = append(arr.elems, value)
		case ArrayPrepend:
			arr.elems = append([]any{value}, arr.elems...)
		default:
			if !isJSONPrimitive(value) {
				return ValueCantInsert
			}
			for _, e := range arr.elems {
				if !isJSONPrimitive(e) {
					return PathMismatch
				}
				if jsonPrimitiveEqual(e, value) {
					return PathExists
				}
			}
			arr.elems = append(arr.elems, value)
		}
		return OK
	case ArrayInsert:
		if len(path) == 0 || !path[len(path)-1].IsIndex || path[len(path)-1].Index < 0 {
			return PathInvalid
		}
		parent, err := parentOf(*root, path, createPath)
		if err != OK {
			return err
		}
		arr, ok := parent.(*Array)
		if !ok {
			return PathMismatch
		}
		i := path[len(path)-1].Index
		if i > len(arr.elems) {
			return PathNotFound
		}
		arr.elems = append(arr.elems, nil)
		copy(arr.elems[i+1:], arr.elems[i:])
		arr.elems[i] = value
		return OK
	}
	return PathInvalid
}

// arrayAt returns the array at path, creating an empty one (and the objects
// on the way) with createPath when the last element is a missing key.
func arrayAt(root *any, path []PathElem, createPath bool) (*Array, Status) {
	if len(path) == 0 {
		arr, ok := (*root).(*Array)
		if !ok {
			return nil, PathMismatch
		}
		return arr, OK
	}
	parent, err := parentOf(*root, path, createPath)
	if err != OK {
		return nil, err
	}
	last := path[len(path)-1]
	v, err := child(parent, last)
	if err == PathNotFound && createPath && !last.IsIndex {
		arr := &Array{}
		parent.(*Object).Set(last.Key, arr)
		return arr, OK
	}
	if err != OK {
		return nil, err
	}
	arr, ok := v.(*Array)
	if !ok {
		return nil, PathMismatch
	}
	return arr, OK
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
