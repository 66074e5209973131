package value

import (
	"encoding/binary"
	"errors"
	"math"
)

// ErrBadKey is returned by DecodeKey for bytes EncodeKey did not produce.
var ErrBadKey = errors.New("value: malformed encoded key")

// Key type tags, in collation order; 0x00 ends an array.
const (
	tagEnd     = 0x00
	tagMissing = 0x01
	tagNull    = 0x02
	tagFalse   = 0x03
	tagTrue    = 0x04
	tagNumber  = 0x05
	tagString  = 0x06
	tagArray   = 0x07
	tagObject  = 0x08
	tagBinary  = 0x09
)

// EncodeKey encodes values so that bytes.Compare of two encodings of the
// same number of values agrees with Collate applied element by element.
// The encoding is prefix-free: a composite key may be followed by more
// bytes (such as a document id) and still sort by its values first.
//
// Layout: a tag per value. Numbers are the order-preserving bits of the
// nearest float64 followed by a 2-byte exact correction for int64s that
// float64 cannot hold; strings and binaries escape 0x00 as 00 FF and end
// with 00 01; arrays end with 00; objects hold their pair count (4 bytes)
// and then name and value for each name in sorted order.
func EncodeKey(vs ...Value) []byte {
	var dst []byte
	for _, v := range vs {
		dst = AppendKey(dst, v)
	}
	return dst
}

// AppendKey appends the key encoding of v to dst.
func AppendKey(dst []byte, v Value) []byte {
	switch v.kind {
	case Missing:
		return append(dst, tagMissing)
	case Null:
		return append(dst, tagNull)
	case Boolean:
		if v.n == 1 {
			return append(dst, tagTrue)
		}
		return append(dst, tagFalse)
	case Number:
		return appendKeyNumber(append(dst, tagNumber), v)
	case String:
		return appendKeyString(append(dst, tagString), v.text())
	case Binary:
		return appendKeyString(append(dst, tagBinary), v.text())
	case Array:
		dst = append(dst, tagArray)
		for _, e := range v.elems() {
			dst = AppendKey(dst, e)
		}
		return append(dst, tagEnd)
	case Object:
		pairs := v.SortedPairs()
		dst = append(dst, tagObject)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(pairs)))
		for _, p := range pairs {
			dst = appendKeyString(dst, p.Name)
			dst = AppendKey(dst, p.Value)
		}
		return dst
	}
	return dst
}

func appendKeyString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0, 1)
}

// appendKeyNumber writes the float64 nearest to the number in
// order-preserving form, then how far an int64 lies from it (zero for
// floats), so that equal numbers encode equally whichever way they are held.
func appendKeyNumber(dst []byte, v Value) []byte {
	var f float64
	var delta int64
	if v.sub == numInt {
		i := int64(v.n)
		f = float64(i)
		if f >= 9.223372036854775808e18 { // rounded up to 2^63
			delta = (i - math.MaxInt64) - 1
		} else {
			delta = i - int64(f)
		}
	} else {
		f = math.Float64frombits(v.n)
	}
	var bits uint64
	switch {
	case math.IsNaN(f):
		bits = 0 // below -Inf, as NaN collates first
	case f == 0:
		bits = 1 << 63 // -0 and +0 alike
	default:
		bits = math.Float64bits(f)
		if bits>>63 == 1 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
	}
	dst = binary.BigEndian.AppendUint64(dst, bits)
	return binary.BigEndian.AppendUint16(dst, uint16(delta)^0x8000)
}

// DecodeKey decodes all the values of an encoding made by EncodeKey.
// Numbers come back as integers when integral and in int64 range, since
// the encoding does not keep whether 3 was 3.0.
func DecodeKey(b []byte) ([]Value, error) {
	var out []Value
	for len(b) > 0 {
		v, rest, err := decodeKey(b, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		b = rest
	}
	return out, nil
}

// DecodeKeyPrefix decodes the first value of b and returns the rest of b
// (such as a document id appended after the key).
func DecodeKeyPrefix(b []byte) (Value, []byte, error) { return decodeKey(b, 0) }

func decodeKey(b []byte, depth int) (Value, []byte, error) {
	if len(b) == 0 || depth > MaxDepth {
		return MissingValue, nil, ErrBadKey
	}
	tag, b := b[0], b[1:]
	switch tag {
	case tagMissing:
		return MissingValue, b, nil
	case tagNull:
		return NullValue, b, nil
	case tagFalse:
		return FalseValue, b, nil
	case tagTrue:
		return TrueValue, b, nil
	case tagNumber:
		if len(b) < 10 {
			return MissingValue, nil, ErrBadKey
		}
		bits := binary.BigEndian.Uint64(b)
		delta := int64(int16(binary.BigEndian.Uint16(b[8:]) ^ 0x8000))
		b = b[10:]
		var f float64
		switch {
		case bits == 0:
			f = math.NaN()
		case bits>>63 == 1:
			f = math.Float64frombits(bits &^ (1 << 63))
		default:
			f = math.Float64frombits(^bits)
		}
		if delta != 0 || (f == math.Trunc(f) && f >= -9.223372036854775808e18 && f < 9.223372036854775808e18) {
			if f >= 9.223372036854775808e18 {
				return NewInt(math.MaxInt64 + (delta + 1)), b, nil
			}
			return NewInt(int64(f) + delta), b, nil
		}
		return NewFloat(f), b, nil
	case tagString, tagBinary:
		s, rest, err := decodeKeyString(b)
		if err != nil {
			return MissingValue, nil, err
		}
		if tag == tagBinary {
			return NewBinary([]byte(s)), rest, nil
		}
		return NewString(s), rest, nil
	case tagArray:
		var elems []Value
		for {
			if len(b) == 0 {
				return MissingValue, nil, ErrBadKey
			}
			if b[0] == tagEnd {
				return NewArray(elems), b[1:], nil
			}
			e, rest, err := decodeKey(b, depth+1)
			if err != nil {
				return MissingValue, nil, err
			}
			elems = append(elems, e)
			b = rest
		}
	case tagObject:
		if len(b) < 4 {
			return MissingValue, nil, ErrBadKey
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return MissingValue, nil, ErrBadKey
		}
		pairs := make([]Pair, 0, n)
		for i := uint32(0); i < n; i++ {
			name, rest, err := decodeKeyString(b)
			if err != nil {
				return MissingValue, nil, err
			}
			v, rest, err := decodeKey(rest, depth+1)
			if err != nil {
				return MissingValue, nil, err
			}
			pairs = append(pairs, Pair{name, v})
			b = rest
		}
		return NewObject(pairs), b, nil
	}
	return MissingValue, nil, ErrBadKey
}

func decodeKeyString(b []byte) (string, []byte, error) {
	var buf []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			buf = append(buf, b[i])
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case 1:
			return string(buf), b[i+2:], nil
		case 0xFF:
			buf = append(buf, 0)
			i++
		default:
			return "", nil, ErrBadKey
		}
	}
	return "", nil, ErrBadKey
}
