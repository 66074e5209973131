package funcs

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"

	"eventide/query/value"
)

func init() {
	register("bitand", 2, -1, bitFold(func(x, y uint64) uint64 { return x & y }))
	register("bitor", 2, -1, bitFold(func(x, y uint64) uint64 { return x | y }))
	register("bitxor", 2, -1, bitFold(func(x, y uint64) uint64 { return x ^ y }))
	register("bitnot", 1, 1, pure(func(a []value.Value) value.Value {
		x, r, ok := bitArgs(a)
		if !ok {
			return r
		}
		return value.NewInt(int64(^x[0]))
	}))
	register("bitshift", 2, 3, pure(func(a []value.Value) value.Value {
		if r, ok := unknown(a); !ok {
			return r
		}
		x, r, ok := bitArgs(a[:2])
		if !ok {
			return r
		}
		rotate := false
		if len(a) == 3 {
			b, isBool := a[2].Bool()
			if !isBool {
				return value.NullValue
			}
			rotate = b
		}
		n, shift := x[0], int64(x[1])
		switch {
		case rotate:
			return value.NewInt(int64(bits.RotateLeft64(n, int(shift%64))))
		case shift >= 0:
			return value.NewInt(int64(n << uint64(shift)))
		default:
			// a right shift is logical: the sign bit is not copied
			return value.NewInt(int64(n >> uint64(-shift)))
		}
	}))
	register("bitset", 2, 2, bitPositions(func(n, mask uint64) value.Value { return value.NewInt(int64(n | mask)) }))
	register("bitclear", 2, 2, bitPositions(func(n, mask uint64) value.Value { return value.NewInt(int64(n &^ mask)) }))
	register("bittest", 2, 3, pure(func(a []value.Value) value.Value {
		all := false
		if len(a) == 3 {
			if r, ok := unknown(a[2:]); !ok {
				return r
			}
			b, isBool := a[2].Bool()
			if !isBool {
				return value.NullValue
			}
			all = b
		}
		r, _ := bitPositions(func(n, mask uint64) value.Value {
			if all {
				return value.NewBool(n&mask == mask)
			}
			return value.NewBool(n&mask != 0)
		})(nil, a[:2])
		return r
	}), "isbitset")
	register("len", 1, 1, pure(func(a []value.Value) value.Value {
		v := a[0]
		switch v.Kind() {
		case value.Missing, value.Null:
			return v
		case value.String:
			return value.NewInt(int64(utf8.RuneCountInString(str(v))))
		case value.Array, value.Object:
			return value.NewInt(int64(v.Len()))
		case value.Binary:
			b, _ := v.Bytes()
			return value.NewInt(int64(len(b)))
		}
		return value.NewInt(int64(len(v.String())))
	}))
	register("ds_version", 0, 0, pure(func([]value.Value) value.Value { return value.NewString(DSVersion) }))
	register("hashbytes", 1, 2, pure(hashBytes))
}

// DSVersion is the data-service version DS_VERSION() reports.
const DSVersion = "7.6.0-eventide"

// bitArgs checks the general rule and that every argument is an integral
// number, returning them as 64-bit patterns.
func bitArgs(a []value.Value) ([]uint64, value.Value, bool) {
	if r, ok := typed(a, value.Number); !ok {
		return nil, r, false
	}
	out := make([]uint64, len(a))
	for i, v := range a {
		n, ok := v.Int()
		if !ok {
			f := num(v)
			if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, value.NullValue, false
			}
			n = int64(f)
		}
		out[i] = uint64(n)
	}
	return out, value.Value{}, true
}

func bitFold(op func(x, y uint64) uint64) func(*Context, []value.Value) (value.Value, error) {
	return pure(func(a []value.Value) value.Value {
		x, r, ok := bitArgs(a)
		if !ok {
			return r
		}
		acc := x[0]
		for _, y := range x[1:] {
			acc = op(acc, y)
		}
		return value.NewInt(int64(acc))
	})
}

// bitPositions handles (number, position or array of positions), where
// positions count from 1 at the least significant bit.
func bitPositions(fn func(n, mask uint64) value.Value) func(*Context, []value.Value) (value.Value, error) {
	return pure(func(a []value.Value) value.Value {
		if r, ok := unknown(a); !ok {
			return r
		}
		x, r, ok := bitArgs(a[:1])
		if !ok {
			return r
		}
		ps := []value.Value{a[1]}
		if a[1].Kind() == value.Array {
			ps = elems(a[1])
		}
		var mask uint64
		for _, p := range ps {
			i, ok := p.Int()
			if !ok || i < 1 || i > 64 {
				return value.NullValue
			}
			mask |= 1 << uint(i-1)
		}
		return fn(x[0], mask)
	})
}

// hashBytes is HASHBYTES(input [, algorithm or {"algorithm":...,
// "polynomial":...}]): a hex digest of the input's bytes (a string's
// UTF-8, other values' JSON); sha256 by default.
func hashBytes(a []value.Value) value.Value {
	if r, ok := unknown(a); !ok {
		return r
	}
	var data []byte
	switch a[0].Kind() {
	case value.String:
		data = []byte(str(a[0]))
	case value.Binary:
		data, _ = a[0].Bytes()
	default:
		data = []byte(a[0].String())
	}
	algo, poly := "sha256", value.MissingValue
	if len(a) == 2 {
		switch a[1].Kind() {
		case value.String:
			algo = str(a[1])
		case value.Object:
			if s, ok := a[1].Field("algorithm").Str(); ok {
				algo = s
			}
			poly = a[1].Field("polynomial")
		default:
			return value.NullValue
		}
	}
	var h hash.Hash
	switch strings.ToLower(algo) {
	case "crc32":
		table := crc32.IEEETable
		switch p := poly; p.Kind() {
		case value.Missing:
		case value.String:
			switch s := strings.ToLower(str(p)); s {
			case "ieee":
			case "castagnoli":
				table = crc32.MakeTable(crc32.Castagnoli)
			case "koopman":
				table = crc32.MakeTable(crc32.Koopman)
			default:
				n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
				if err != nil {
					return value.NullValue
				}
				table = crc32.MakeTable(uint32(n))
			}
		case value.Number:
			n, ok := p.Int()
			if !ok || n < 0 || n > math.MaxUint32 {
				return value.NullValue
			}
			table = crc32.MakeTable(uint32(n))
		default:
			return value.NullValue
		}
		h = crc32.New(table)
	case "md5":
		h = md5.New()
	case "sha224":
		h = sha256.New224()
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	case "sha512/224":
		h = sha512.New512_224()
	case "sha512/256":
		h = sha512.New512_256()
	default:
		return value.NullValue
	}
	h.Write(data)
	return value.NewString(hex.EncodeToString(h.Sum(nil)))
}
