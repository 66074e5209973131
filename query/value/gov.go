package value

import (
	"encoding/json"
	"fmt"
	"math"
)

// FromGo converts a Go value: nil, bool, the integer and float types,
// string, []byte (binary), json.Number, json.RawMessage, Value, []any,
// []Value, map[string]any, map[string]Value. Other types give ErrUnsupported.
func FromGo(x any) (Value, error) {
	switch t := x.(type) {
	case nil:
		return NullValue, nil
	case Value:
		return t, nil
	case bool:
		return NewBool(t), nil
	case int:
		return NewInt(int64(t)), nil
	case int8:
		return NewInt(int64(t)), nil
	case int16:
		return NewInt(int64(t)), nil
	case int32:
		return NewInt(int64(t)), nil
	case int64:
		return NewInt(t), nil
	case uint:
		return fromUint(uint64(t)), nil
	case uint8:
		return NewInt(int64(t)), nil
	case uint16:
		return NewInt(int64(t)), nil
	case uint32:
		return NewInt(int64(t)), nil
	case uint64:
		return fromUint(t), nil
	case float32:
		return NewFloat(float64(t)), nil
	case float64:
		return NewFloat(t), nil
	case string:
		return NewString(t), nil
	case []byte:
		return NewBinary(t), nil
	case json.Number:
		return FromJSON([]byte(t))
	case json.RawMessage:
		return FromJSON(t)
	case []Value:
		return NewArray(append([]Value(nil), t...)), nil
	case []any:
		out := make([]Value, len(t))
		for i, e := range t {
			v, err := FromGo(e)
			if err != nil {
				return MissingValue, err
			}
			out[i] = v
		}
		return NewArray(out), nil
	case []string:
		out := make([]Value, len(t))
		for i, e := range t {
			out[i] = NewString(e)
		}
		return NewArray(out), nil
	case map[string]any:
		pairs := make([]Pair, 0, len(t))
		for k, e := range t {
			v, err := FromGo(e)
			if err != nil {
				return MissingValue, err
			}
			pairs = append(pairs, Pair{k, v})
		}
		return NewObject(pairs), nil
	case map[string]Value:
		return NewObjectMap(t), nil
	}
	return MissingValue, fmt.Errorf("%w: %T", ErrUnsupported, x)
}

func fromUint(u uint64) Value {
	if u > math.MaxInt64 {
		return NewFloat(float64(u))
	}
	return NewInt(int64(u))
}

// ToGo converts v to plain Go values as encoding/json would decode its
// JSON, except that integers are int64: nil for NULL and MISSING, bool,
// int64, float64, string, []byte, []any, map[string]any.
func (v Value) ToGo() any {
	switch v.kind {
	case Boolean:
		return v.n == 1
	case Number:
		if v.sub == numInt {
			return int64(v.n)
		}
		return math.Float64frombits(v.n)
	case String:
		return v.text()
	case Binary:
		return []byte(v.text())
	case Array:
		out := make([]any, len(v.elems()))
		for i, e := range v.elems() {
			out[i] = e.ToGo()
		}
		return out
	case Object:
		out := make(map[string]any, len(v.object().pairs))
		for _, p := range v.object().pairs {
			out[p.Name] = p.Value.ToGo()
		}
		return out
	}
	return nil
}
