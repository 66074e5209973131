package syncgwapi

import "bytes"

// Duplicate keys. JSON leaves an object with a repeated key undefined;
// Sync Gateway stores such a body as sent, so two readers may see two
// different documents. eventide resolves it one way for every document
// written through this API, the way JavaScript's JSON.parse (and so every
// Eventing handler and Couchbase Lite) reads it: the last value wins, at
// the position where the key first appeared, at any depth. The stored
// body is the normalized one. Keys are compared decoded ("a" and "\u0061"
// are the same key); the first spelling is kept.

// smallObjectKeys is how many keys an object's duplicate check compares
// pairwise before it switches to a set.
const smallObjectKeys = 16

// dedupeKeys returns b with duplicate object keys resolved. b must be
// compact valid JSON (splitDoc's output). When no object repeats a key,
// the common case, it returns b itself.
func dedupeKeys(b []byte) []byte {
	if !hasDuplicateKeys(b) {
		return b
	}
	out, _ := appendDeduped(make([]byte, 0, len(b)), b, 0)
	return out
}

// keyFrame is an open container of hasDuplicateKeys: its keys are
// keys[first:] (nested objects' keys are dropped when they close).
type keyFrame struct {
	obj   bool
	first int
	set   map[string]struct{} // once the object has more than smallObjectKeys keys
}

// hasDuplicateKeys reports whether any object in the compact JSON b
// repeats a key. It allocates nothing for shallow documents whose objects
// have up to smallObjectKeys keys.
func hasDuplicateKeys(b []byte) bool {
	var framesBuf [32]keyFrame
	var keysBuf [64][2]int // raw key token ranges
	frames, keys := framesBuf[:0], keysBuf[:0]
	expectKey := false
	for i := 0; i < len(b); {
		switch b[i] {
		case '{', '[':
			frames = append(frames, keyFrame{obj: b[i] == '{', first: len(keys)})
			expectKey = b[i] == '{'
			i++
		case '}', ']':
			keys = keys[:frames[len(frames)-1].first]
			frames = frames[:len(frames)-1]
			expectKey = false
			i++
		case ',':
			expectKey = len(frames) > 0 && frames[len(frames)-1].obj
			i++
		case '"':
			e := stringEnd(b, i)
			if expectKey {
				f := &frames[len(frames)-1]
				if f.set == nil && len(keys)-f.first < smallObjectKeys {
					for _, k := range keys[f.first:] {
						if sameKey(b[k[0]:k[1]], b[i:e]) {
							return true
						}
					}
				} else {
					if f.set == nil {
						f.set = make(map[string]struct{}, 2*smallObjectKeys)
						for _, k := range keys[f.first:] {
							f.set[keyName(b[k[0]:k[1]])] = struct{}{}
						}
					}
					name := keyName(b[i:e])
					if _, dup := f.set[name]; dup {
						return true
					}
					f.set[name] = struct{}{}
				}
				keys = append(keys, [2]int{i, e})
				expectKey = false
			}
			i = e
		default: // ':', numbers, literals
			i++
		}
	}
	return false
}

// keyName decodes a raw key token (quotes included).
func keyName(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	s, _ := jsonString(string(raw))
	return s
}

// sameKey reports whether two raw key tokens name the same key.
func sameKey(a, b []byte) bool {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.Equal(a, b)
	}
	return keyName(a) == keyName(b)
}

// appendDeduped appends the compact JSON value at b[i] with duplicate keys
// resolved and returns the index after it. Only documents that have a
// duplicate come here, so it favours simplicity over allocations.
func appendDeduped(dst, b []byte, i int) ([]byte, int) {
	switch b[i] {
	case '{':
		type member struct{ key, val []byte }
		var members []member
		index := map[string]int{}
		i++
		for b[i] != '}' {
			ke := stringEnd(b, i)
			key := b[i:ke]
			val, next := appendDeduped(nil, b, ke+1) // ke is the ':'
			if at, ok := index[keyName(key)]; ok {
				members[at].val = val
			} else {
				index[keyName(key)] = len(members)
				members = append(members, member{key, val})
			}
			i = next
			if b[i] == ',' {
				i++
			}
		}
		dst = append(dst, '{')
		for n, m := range members {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, m.key...), ':'), m.val...)
		}
		return append(dst, '}'), i + 1
	case '[':
		dst = append(dst, '[')
		i++
		for b[i] != ']' {
			if b[i] == ',' {
				dst = append(dst, ',')
				i++
			}
			dst, i = appendDeduped(dst, b, i)
		}
		return append(dst, ']'), i + 1
	case '"':
		e := stringEnd(b, i)
		return append(dst, b[i:e]...), e
	}
	e := i
	for e < len(b) && b[e] != ',' && b[e] != '}' && b[e] != ']' {
		e++
	}
	return append(dst, b[i:e]...), e
}
