package value_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/quick"

	"eventide/query/value"
)

func mustJSON(t *testing.T, s string) value.Value {
	t.Helper()
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		t.Fatalf("FromJSON(%s): %v", s, err)
	}
	return v
}

func TestFromJSON_RoundTripSortsNames(t *testing.T) {
	cases := []struct{ in, out string }{
		{`{"b":1,"a":[true,false,null],"c":{"z":"x","y":1.5}}`, `{"a":[true,false,null],"b":1,"c":{"y":1.5,"z":"x"}}`},
		{` [ 1 , -2 , 3e2 , 0.5 ] `, `[1,-2,300,0.5]`},
		{`"a\"b\\c\n\u00e9\ud83d\ude00<>&"`, `"a\"b\\c\né😀<>&"`},
		{`9223372036854775807`, `9223372036854775807`},
		{`-9223372036854775808`, `-9223372036854775808`},
		{`9223372036854775808`, `9223372036854776000`},
		{`{"a":1,"a":2}`, `{"a":2}`},
		{`{}`, `{}`},
		{`[]`, `[]`},
		{`1e400`, `"+Infinity"`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			v := mustJSON(t, c.in)
			if got := v.String(); got != c.out {
				t.Fatalf("got %s, want %s", got, c.out)
			}
		})
	}
}

func TestFromJSON_IntegersStayExact(t *testing.T) {
	v := mustJSON(t, `{"big":9007199254740993,"f":1.0}`)
	i, ok := v.Field("big").Int()
	if !ok || i != 9007199254740993 || !v.Field("big").IsInt() {
		t.Fatalf("big = %d %v", i, ok)
	}
	if v.Field("f").IsInt() {
		t.Fatal("1.0 should be a float")
	}
	if value.Collate(v.Field("f"), value.NewInt(1)) != 0 {
		t.Fatal("1.0 and 1 should collate equal")
	}
}

func TestFromJSON_RejectsBadInput(t *testing.T) {
	for _, in := range []string{``, `{`, `[1,]`, `{"a"}`, `01`, `1.`, `-`, `tru`, `"abc`, `"\x"`, `[1] 2`, "\"a\x01\"", `{"a":1,}`, `nul`} {
		t.Run(in, func(t *testing.T) {
			if _, err := value.FromJSON([]byte(in)); !errors.Is(err, value.ErrSyntax) {
				t.Fatalf("err = %v, want ErrSyntax", err)
			}
		})
	}
	deep := strings.Repeat("[", value.MaxDepth+5) + strings.Repeat("]", value.MaxDepth+5)
	if _, err := value.FromJSON([]byte(deep)); !errors.Is(err, value.ErrTooDeep) {
		t.Fatalf("deep: %v", err)
	}
}

func TestFromJSON_AgreesWithEncodingJSON(t *testing.T) {
	f := func(x map[string][]float64, s string, b bool) bool {
		doc := map[string]any{"m": x, "s": s, "b": b}
		raw, _ := json.Marshal(doc)
		v, err := value.FromJSON(raw)
		if err != nil {
			return false
		}
		var back any
		if err := json.Unmarshal(v.AppendJSON(nil), &back); err != nil {
			return false
		}
		var want any
		_ = json.Unmarshal(raw, &want)
		return reflect.DeepEqual(back, want)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func TestField_MissingSemantics(t *testing.T) {
	doc := mustJSON(t, `{"a":{"b":[10,20,30]},"n":null}`)
	cases := []struct {
		name string
		got  value.Value
		want string // "" for MISSING
	}{
		{"nested", doc.Field("a").Field("b").Index(1), "20"},
		{"negative index", doc.Field("a").Field("b").Index(-1), "30"},
		{"out of range", doc.Field("a").Field("b").Index(3), ""},
		{"too negative", doc.Field("a").Field("b").Index(-4), ""},
		{"field of array", doc.Field("a").Field("b").Field("x"), ""},
		{"index of object", doc.Field("a").Index(0), ""},
		{"absent", doc.Field("zz"), ""},
		{"null field", doc.Field("n"), "null"},
		{"field of null", doc.Field("n").Field("x"), ""},
		{"slice", doc.Field("a").Field("b").Slice(1, 0, false), "[20,30]"},
		{"slice negative", doc.Field("a").Field("b").Slice(-2, -1, true), "[20]"},
		{"slice out of range", doc.Field("a").Field("b").Slice(1, 9, true), ""},
		{"tail slice at end", doc.Field("a").Field("b").Slice(3, 0, false), ""},
		{"slice of object", doc.Slice(0, 1, true), "null"},
		{"slice of missing", doc.Field("zz").Slice(0, 1, true), ""},
		{"fold", doc.FieldFold("A").Field("b").Index(0), "10"},
		{"with index", doc.Field("a").Field("b").WithIndex(-1, value.NewString("x")), `[10,20,"x"]`},
		{"with index out of range", doc.Field("a").Field("b").WithIndex(3, value.NullValue), `[10,20,30]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.want == "" {
				if !c.got.IsMissing() {
					t.Fatalf("got %s, want MISSING", c.got)
				}
				return
			}
			if c.got.IsMissing() || c.got.String() != c.want {
				t.Fatalf("got %s (missing=%v), want %s", c.got, c.got.IsMissing(), c.want)
			}
		})
	}
}

func TestObject_MissingFieldsDropAndOrderedKeepsOrder(t *testing.T) {
	o := value.NewObject([]value.Pair{{"b", value.NewInt(1)}, {"a", value.MissingValue}, {"c", value.NullValue}})
	if got := o.String(); got != `{"b":1,"c":null}` {
		t.Fatal(got)
	}
	if got := value.NewObject([]value.Pair{{"a", value.NewInt(1)}, {"b", value.NewInt(2)}, {"a", value.NewInt(3)}}).String(); got != `{"a":3,"b":2}` {
		t.Fatal(got)
	}
	p := value.NewOrderedObject([]value.Pair{{"z", value.NewInt(1)}, {"a", value.NewInt(2)}, {"z", value.NewInt(3)}})
	if got := p.String(); got != `{"z":3,"a":2}` {
		t.Fatal(got)
	}
	q := value.NewObject([]value.Pair{{"a", value.NewInt(2)}, {"z", value.NewInt(3)}})
	if value.Collate(p, q) != 0 || !value.Truth(value.Equal(p, q)) {
		t.Fatal("ordered and sorted objects with the same pairs should be equal")
	}
	if got := q.WithField("m", value.TrueValue).WithField("a", value.MissingValue).String(); got != `{"m":true,"z":3}` {
		t.Fatal(got)
	}
}

// collationLadder is in Couchbase's collation order, strictly increasing.
var collationLadder = []string{
	"MISSING", `null`, `false`, `true`,
	`"NaN"`, `-1e300`, `-9223372036854775808`, `-1`, `-0.5`, `0`, `0.5`, `1`, `9007199254740992`, `9007199254740993`, `9223372036854775807`, `1e19`,
	`""`, `"A"`, `"a"`, `"a\u0000"`, `"ab"`, `"b"`,
	`[]`, `[null]`, `[1]`, `[1,2]`, `[2]`, `["a"]`, `[[]]`,
	`{}`, `{"a":null}`, `{"a":1}`, `{"a":2}`, `{"b":0}`, `{"a":1,"b":1}`,
}

func ladderValue(t *testing.T, s string) value.Value {
	switch s {
	case "MISSING":
		return value.MissingValue
	case `"NaN"`:
		return value.NewFloat(math.NaN())
	}
	return mustJSON(t, s)
}

func TestCollate_CouchbaseOrder(t *testing.T) {
	vals := make([]value.Value, 0, len(collationLadder)+1)
	for _, s := range collationLadder {
		vals = append(vals, ladderValue(t, s))
	}
	vals = append(vals, value.NewBinary([]byte{0}))
	for i := range vals {
		for j := range vals {
			got := value.Collate(vals[i], vals[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if sgn(got) != want {
				t.Errorf("Collate(%s, %s) = %d, want %d", vals[i], vals[j], got, want)
			}
			enc := bytes.Compare(value.EncodeKey(vals[i]), value.EncodeKey(vals[j]))
			if enc != want {
				t.Errorf("EncodeKey order of (%s, %s) = %d, want %d", vals[i], vals[j], enc, want)
			}
		}
	}
}

func sgn(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}

func TestCompare_ThreeValued(t *testing.T) {
	m, n := value.MissingValue, value.NullValue
	one, two, s := value.NewInt(1), value.NewFloat(2), value.NewString("a")
	cases := []struct {
		name string
		got  value.Value
		want value.Value
	}{
		{"1<2", value.Less(one, two), value.TrueValue},
		{"2<=1", value.LessEqual(two, one), value.FalseValue},
		{"1<missing", value.Less(one, m), m},
		{"null<missing", value.Less(n, m), m},
		{"null<1", value.Less(n, one), n},
		{"1<'a' by kind", value.Less(one, s), value.TrueValue},
		{"'a'>1", value.Greater(s, one), value.TrueValue},
		{"1=1.0", value.Equal(one, value.NewFloat(1)), value.TrueValue},
		{"1='1'", value.Equal(one, value.NewString("1")), value.FalseValue},
		{"null=null", value.Equal(n, n), n},
		{"missing=null", value.Equal(m, n), m},
		{"[1,null]=[1,null]", value.Equal(mustJSON(t, `[1,null]`), mustJSON(t, `[1,null]`)), n},
		{"[2,null]=[1,null]", value.Equal(mustJSON(t, `[2,null]`), mustJSON(t, `[1,null]`)), value.FalseValue},
		{"[1,null]<[2]", value.Less(mustJSON(t, `[1,null]`), mustJSON(t, `[2]`)), value.TrueValue},
		{"[null]<[2]", value.Less(mustJSON(t, `[null]`), mustJSON(t, `[2]`)), n},
		{"1!=2", value.NotEqual(one, two), value.TrueValue},
		{"1!=null", value.NotEqual(one, n), n},
		{"'b'>='a'", value.GreaterEqual(value.NewString("b"), s), value.TrueValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got.Kind() != c.want.Kind() || value.Collate(c.got, c.want) != 0 {
				t.Fatalf("got %s (%s), want %s (%s)", c.got, c.got.Kind(), c.want, c.want.Kind())
			}
		})
	}
}

func TestLogic_TruthTables(t *testing.T) {
	T, F, N, M := value.TrueValue, value.FalseValue, value.NullValue, value.MissingValue
	type row struct{ a, b, and, or value.Value }
	rows := []row{
		{T, T, T, T}, {T, F, F, T}, {T, N, N, T}, {T, M, M, T},
		{F, F, F, F}, {F, N, F, N}, {F, M, F, M},
		{N, N, N, N}, {N, M, M, N}, {M, M, M, M},
	}
	for _, r := range rows {
		for _, ab := range [][2]value.Value{{r.a, r.b}, {r.b, r.a}} {
			if got := value.And(ab[0], ab[1]); got.Kind() != r.and.Kind() || value.Collate(got, r.and) != 0 {
				t.Errorf("%s AND %s = %s (%s), want %s", ab[0].Kind(), ab[1].Kind(), got, got.Kind(), r.and)
			}
			if got := value.Or(ab[0], ab[1]); got.Kind() != r.or.Kind() || value.Collate(got, r.or) != 0 {
				t.Errorf("%s OR %s = %s (%s), want %s", ab[0].Kind(), ab[1].Kind(), got, got.Kind(), r.or)
			}
		}
	}
	if !value.Not(M).IsMissing() || !value.Not(N).IsNull() || value.Truth(value.Not(T)) || !value.Truth(value.Not(F)) {
		t.Fatal("NOT table")
	}
	for _, s := range []string{`0`, `""`, `[]`, `{}`, `false`, `null`} {
		if value.Truth(mustJSON(t, s)) {
			t.Errorf("Truth(%s) should be false", s)
		}
	}
	for _, s := range []string{`1`, `-0.5`, `"a"`, `[0]`, `{"a":0}`, `true`} {
		if !value.Truth(mustJSON(t, s)) {
			t.Errorf("Truth(%s) should be true", s)
		}
	}
	if value.Truth(value.MissingValue) {
		t.Error("Truth(MISSING)")
	}
}

func TestArithmetic(t *testing.T) {
	i := value.NewInt
	cases := []struct {
		name  string
		got   value.Value
		want  string
		isInt bool
	}{
		{"add", value.Add(i(2), i(3)), "5", true},
		{"add overflow", value.Add(i(math.MaxInt64), i(1)), "9223372036854776000", false},
		{"sub overflow", value.Sub(i(math.MinInt64), i(1)), "-9223372036854776000", false},
		{"mul", value.Mul(i(-4), i(5)), "-20", true},
		{"mul overflow", value.Mul(i(1<<62), i(4)), "18446744073709552000", false},
		{"div exact", value.Div(i(6), i(3)), "2", true},
		{"div fraction", value.Div(i(7), i(2)), "3.5", false},
		{"div zero", value.Div(i(7), i(0)), "null", false},
		{"mod", value.Mod(i(-7), i(3)), "-1", true},
		{"mod zero", value.Mod(i(7), i(0)), "null", false},
		{"float", value.Add(value.NewFloat(0.5), i(1)), "1.5", false},
		{"string", value.Add(value.NewString("1"), i(1)), "null", false},
		{"neg", value.Neg(i(3)), "-3", true},
		{"neg minint", value.Neg(i(math.MinInt64)), "9223372036854776000", false},
		{"concat", value.Concat(value.NewString("a"), value.NewString("b")), `"ab"`, false},
		{"concat number", value.Concat(value.NewString("a"), i(1)), "null", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got.String() != c.want || c.got.IsInt() != c.isInt {
				t.Fatalf("got %s int=%v, want %s int=%v", c.got, c.got.IsInt(), c.want, c.isInt)
			}
		})
	}
	if !value.Add(value.MissingValue, value.NullValue).IsMissing() || !value.Mul(value.NullValue, i(1)).IsNull() {
		t.Fatal("MISSING/NULL operands")
	}
}

func TestClone_Independent(t *testing.T) {
	raw := []byte(`{"a":["x",{"b":"y"}],"c":"z"}`)
	v := mustJSON(t, string(raw))
	c := v.Clone()
	if value.Collate(v, c) != 0 || c.String() != v.String() {
		t.Fatalf("clone %s of %s", c, v)
	}
	for i := range raw {
		raw[i] = ' ' // the parsed value never aliased the input bytes
	}
	if v.String() != `{"a":["x",{"b":"y"}],"c":"z"}` {
		t.Fatal(v)
	}
}

func TestFromGo(t *testing.T) {
	v, err := value.FromGo(map[string]any{"a": []any{1, "x", nil, true, 2.5, uint64(math.MaxUint64)}, "b": json.Number("12")})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != `{"a":[1,"x",null,true,2.5,18446744073709552000],"b":12}` {
		t.Fatal(got)
	}
	if _, err := value.FromGo(struct{}{}); !errors.Is(err, value.ErrUnsupported) {
		t.Fatal(err)
	}
	back := v.ToGo().(map[string]any)
	if back["b"] != int64(12) {
		t.Fatalf("%#v", back)
	}
}

// randValue builds a random value with many edge cases: close numbers of
// both representations, strings with zero bytes, nested arrays and objects.
func randValue(r *rand.Rand, depth int) value.Value {
	k := r.Intn(12)
	if depth > 2 && k >= 9 {
		k = r.Intn(9)
	}
	switch k {
	case 0:
		return value.MissingValue
	case 1:
		return value.NullValue
	case 2:
		return value.NewBool(r.Intn(2) == 0)
	case 3:
		ints := []int64{0, 1, -1, 2, 1 << 53, 1<<53 + 1, -(1 << 53) - 1, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1}
		if r.Intn(2) == 0 {
			return value.NewInt(ints[r.Intn(len(ints))])
		}
		return value.NewInt(r.Int63n(200) - 100)
	case 4:
		fs := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1, 9007199254740992, 9.223372036854775807e18, -9.223372036854775808e18, math.Inf(1), math.Inf(-1), math.NaN(), 1e-300}
		if r.Intn(2) == 0 {
			return value.NewFloat(fs[r.Intn(len(fs))])
		}
		return value.NewFloat(float64(r.Intn(200)-100) / 4)
	case 5, 6:
		alphabet := "ab\x00\xff"
		b := make([]byte, r.Intn(4))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		return value.NewString(string(b))
	case 7:
		return value.NewBinary([]byte{byte(r.Intn(3))})
	case 8:
		return value.NewString(string(rune('a' + r.Intn(3))))
	case 9, 10:
		n := r.Intn(4)
		elems := make([]value.Value, n)
		for i := range elems {
			elems[i] = randValue(r, depth+1)
			if elems[i].IsMissing() {
				elems[i] = value.NullValue
			}
		}
		return value.NewArray(elems)
	default:
		n := r.Intn(3)
		pairs := make([]value.Pair, 0, n)
		for i := 0; i < n; i++ {
			pairs = append(pairs, value.Pair{Name: string(rune('a' + r.Intn(3))), Value: randValue(r, depth+1)})
		}
		if r.Intn(2) == 0 {
			// Insertion order must not change how an object collates.
			return value.NewOrderedObject(pairs)
		}
		return value.NewObject(pairs)
	}
}

type randKey []value.Value

func (randKey) Generate(r *rand.Rand, _ int) reflect.Value {
	n := 1 + r.Intn(3)
	k := make(randKey, n)
	for i := range k {
		k[i] = randValue(r, 0)
	}
	return reflect.ValueOf(k)
}

func collateKeys(a, b []value.Value) int {
	for i := range a {
		if c := value.Collate(a[i], b[i]); c != 0 {
			return sgn(c)
		}
	}
	return 0
}

func TestEncodeKey_AgreesWithCollate(t *testing.T) {
	f := func(a, b randKey) bool {
		n := min(len(a), len(b))
		a, b = a[:n], b[:n]
		want := collateKeys(a, b)
		ea, eb := value.EncodeKey(a...), value.EncodeKey(b...)
		if bytes.Compare(ea, eb) != want {
			t.Logf("a=%v b=%v collate=%d", a, b, want)
			return false
		}
		// With a document id appended, keys still sort by their values first.
		if want != 0 && bytes.Compare(append(ea, "zz"...), append(eb, "a"...)) != want {
			return false
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 20000}); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeKey_CollateIsAntisymmetricAndTransitive(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for range 20000 {
		a, b, c := randValue(r, 0), randValue(r, 0), randValue(r, 0)
		if sgn(value.Collate(a, b)) != -sgn(value.Collate(b, a)) {
			t.Fatalf("antisymmetry: %s %s", a, b)
		}
		if value.Collate(a, b) <= 0 && value.Collate(b, c) <= 0 && value.Collate(a, c) > 0 {
			t.Fatalf("transitivity: %s %s %s", a, b, c)
		}
	}
}

func TestDecodeKey_RoundTrip(t *testing.T) {
	f := func(a randKey) bool {
		enc := value.EncodeKey(a...)
		got, err := value.DecodeKey(enc)
		if err != nil || len(got) != len(a) {
			return false
		}
		for i := range a {
			if value.Collate(got[i], a[i]) != 0 {
				t.Logf("%s decoded as %s", a[i], got[i])
				return false
			}
		}
		return bytes.Equal(value.EncodeKey(got...), enc)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
	v, rest, err := value.DecodeKeyPrefix(append(value.EncodeKey(value.NewString("k")), "doc1"...))
	if err != nil || string(rest) != "doc1" || v.String() != `"k"` {
		t.Fatalf("%s %q %v", v, rest, err)
	}
	for _, bad := range [][]byte{{0x05, 1}, {0x06, 'a'}, {0x07}, {0x08, 0, 0, 0, 9}, {0xEE}} {
		if _, err := value.DecodeKey(bad); !errors.Is(err, value.ErrBadKey) {
			t.Errorf("DecodeKey(%x) = %v", bad, err)
		}
	}
}

func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `"\ud800"`, `-0`, `[[[]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := value.FromJSON(data)
		if err != nil {
			return
		}
		again, err := value.FromJSON(v.AppendJSON(nil))
		if err != nil {
			t.Fatalf("output of %q does not parse: %v", data, err)
		}
		// Written JSON is stable: invalid UTF-8 and out-of-range numbers are
		// normalised on the first write only.
		if again.String() != v.String() {
			t.Fatalf("round trip changed %s to %s", v, again)
		}
	})
}

var benchDoc = []byte(`{"type":"airline","id":10226,"name":"Atifly","iata":null,"icao":"AFY","callsign":"ATIFLY","country":"United States","geo":{"lat":37.6189,"lon":-122.375,"alt":13},"tags":["a","b","c"],"reviews":[{"author":"Ms. Jane Doe","ratings":{"Overall":4,"Service":5},"content":"Some long content with \"quotes\" and more text to scan through"}],"active":true,"price":1234.56}`)

func BenchmarkFromJSON(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := value.FromJSON(benchDoc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodingJSONMap(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(benchDoc, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	v, _ := value.FromJSON(benchDoc)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = v.AppendJSON(buf[:0])
	}
}

func BenchmarkEncodeKey(b *testing.B) {
	k := []value.Value{value.NewString("United States"), value.NewInt(10226)}
	b.ReportAllocs()
	for b.Loop() {
		_ = value.EncodeKey(k...)
	}
}
