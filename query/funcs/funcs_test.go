package funcs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"eventide/query/funcs"
	"eventide/query/value"
)

// parseArg reads a test literal: MISSING, or JSON.
func parseArg(t *testing.T, s string) value.Value {
	t.Helper()
	if s == "MISSING" {
		return value.MissingValue
	}
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad test literal %q: %v", s, err)
	}
	return v
}

type callCase struct {
	fn   string
	args []string
	want string // JSON, or MISSING
}

func c(fn string, want string, args ...string) callCase { return callCase{fn, args, want} }

func runCases(t *testing.T, ctx *funcs.Context, cases []callCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.fn+"("+strings.Join(tc.args, ",")+")", func(t *testing.T) {
			f, ok := funcs.Lookup(tc.fn)
			if !ok {
				t.Fatalf("no function %s", tc.fn)
			}
			args := make([]value.Value, len(tc.args))
			for i, a := range tc.args {
				args[i] = parseArg(t, a)
			}
			got, err := f.Call(ctx, args)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "MISSING" {
				if !got.IsMissing() {
					t.Fatalf("got %s, want MISSING", got)
				}
				return
			}
			want := parseArg(t, tc.want)
			if got.Kind() != want.Kind() || value.Collate(got, want) != 0 {
				t.Fatalf("got %s (%s), want %s", got, got.Kind(), tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	runCases(t, nil, []callCase{
		c("LOWER", `"n1ql"`, `"N1QL"`),
		c("upper", `"N1QL"`, `"n1ql"`),
		c("lower", `null`, `1`),
		c("lower", `null`, `null`),
		c("lower", "MISSING", "MISSING"),
		c("length", `4`, `"N1QL"`),
		c("length", `2`, `"é"`),
		c("mb_length", `1`, `"é"`),
		c("length", `null`, `[1]`),
		c("concat", `"abcdef"`, `"abc"`, `"def"`),
		c("concat", `null`, `"abc"`, `1`),
		c("concat", "MISSING", `"abc"`, `null`, "MISSING"),
		c("concat2", `"a-b-c"`, `"-"`, `"a"`, `["b","c"]`),
		c("concat2", `null`, `"-"`, `"a"`, `[1]`),
		c("substr", `"QL"`, `"N1QL"`, `2`),
		c("substr", `"1"`, `"N1QL"`, `1`, `1`),
		c("substr", `"QL"`, `"N1QL"`, `-2`),
		c("substr", `null`, `"N1QL"`, `4`),
		c("substr", `null`, `"N1QL"`, `1.5`),
		c("substr1", `"N1"`, `"N1QL"`, `1`, `2`),
		c("trim", `"abc"`, `"  abc  "`),
		c("trim", `"abc"`, `"xxabcxx"`, `"x"`),
		c("ltrim", `"abc  "`, `"  abc  "`),
		c("rtrim", `"..abc"`, `"..abc.."`, `"."`),
		c("contains", `true`, `"N1QL is awesome"`, `"N1QL"`),
		c("contains", `null`, `"N1QL"`, `1`),
		c("position", `2`, `"N1QL"`, `"QL"`),
		c("position", `-1`, `"N1QL"`, `"x"`),
		c("position1", `3`, `"N1QL"`, `"QL"`),
		c("position1", `0`, `"N1QL"`, `"x"`),
		c("replace", `"SQL SQL"`, `"N1QL N1QL"`, `"N1QL"`, `"SQL"`),
		c("replace", `"SQL N1QL"`, `"N1QL N1QL"`, `"N1QL"`, `"SQL"`, `1`),
		c("split", `["N1QL","is","nice"]`, `"N1QL is  nice"`),
		c("split", `["a","b",""]`, `"a,b,"`, `","`),
		c("title", `"N1ql Is Awesome"`, `"n1QL is awesome"`),
		c("initcap", `"Hello-World"`, `"hello-world"`),
		c("reverse", `"ébc"`, `"cbé"`),
		c("repeat", `"abab"`, `"ab"`, `2`),
		c("repeat", `null`, `"ab"`, `-1`),
		c("lpad", `"  abc"`, `"abc"`, `5`),
		c("rpad", `"abcxyx"`, `"abc"`, `6`, `"xy"`),
		c("lpad", `"ab"`, `"abc"`, `2`),
		c("lpad", `null`, `"abc"`, `2`, `""`),
		c("tostring", `"1.5"`, `1.5`),
		c("tostring", `"9007199254740993"`, `9007199254740993`),
		c("tostring", `"true"`, `true`),
		c("tostring", `null`, `[1]`),
		c("tostring", "MISSING", "MISSING"),
		c("regexp_contains", `true`, `"N1QL is nice"`, `"i[st]"`),
		c("regexp_like", `true`, `"N1QL"`, `"N\\d.*"`),
		c("regexp_like", `false`, `"xN1QL"`, `"N\\d.*"`),
		c("regexp_like", `true`, `"ab"`, `"a|ab"`),
		c("regexp_position", `2`, `"N1QL"`, `"Q"`),
		c("regexp_position1", `3`, `"N1QL"`, `"Q"`),
		c("regexp_replace", `"N1SQL"`, `"N1QL"`, `"(Q)"`, `"S$1"`),
		c("regexp_replace", `"x-b-a"`, `"a-b-a"`, `"a"`, `"x"`, `1`),
		c("like", `true`, `"N1QL"`, `"N%"`),
		c("like", `false`, `"N1QL"`, `"N_"`),
		c("like", `true`, `"100%"`, `"100\\%"`),
		c("like", `false`, `"1000"`, `"100\\%"`),
		c("like", `true`, `"a_b"`, `"a!_b"`, `"!"`),
		c("like", `true`, `"a.b\nc"`, `"a.b%"`),
		c("like", `null`, `1`, `"%"`),
		c("like", "MISSING", "MISSING", `null`),
	})
}

func TestNumber(t *testing.T) {
	runCases(t, nil, []callCase{
		c("abs", `5`, `-5`),
		c("abs", `0.5`, `-0.5`),
		c("abs", `null`, `"a"`),
		c("ceil", `4`, `3.2`),
		c("floor", `-4`, `-3.2`),
		c("round", `2`, `2.5`), // half to even, as Couchbase's ROUND
		c("round", `4`, `3.5`),
		c("round", `-3`, `-3.4`),
		c("round", `3.14`, `3.14159`, `2`),
		c("round", `1200`, `1234`, `-2`),
		c("round", `null`, `1`, `1.5`),
		c("round_nearest", `3`, `2.5`),
		c("trunc", `3.14`, `3.14159`, `2`),
		c("trunc", `-3`, `-3.9`),
		c("power", `8`, `2`, `3`),
		c("power", `0.5`, `2`, `-1`),
		c("sqrt", `3`, `9`),
		c("mod", `1`, `10`, `3`),
		c("mod", `null`, `10`, `0`),
		c("sign", `-1`, `-7`),
		c("greatest", `3`, `1`, `null`, `3`, "MISSING", `2`),
		c("greatest", `"a"`, `1`, `"a"`),
		c("greatest", `null`, `null`, "MISSING"),
		c("least", `1`, `1`, `null`, `3`),
		c("pi", `3.141592653589793`),
		c("degrees", `180`, `3.141592653589793`),
		c("ifinf", `null`, `"+Infinity"`, `2`), // a string is not a number
		c("ifnan", `null`, `"x"`, `2`),
		c("ifnanorinf", "MISSING", "MISSING"+"", "MISSING"),
		c("idiv", `3`, `7`, `2`),
	})
	// Infinity values cannot be written as JSON literals; build them.
	posinf, _ := funcs.Lookup("posinf")
	inf, _ := posinf.Call(nil, nil)
	ifinf, _ := funcs.Lookup("ifinf")
	if got, _ := ifinf.Call(nil, []value.Value{inf, value.NewInt(2)}); got.String() != "2" {
		t.Fatalf("IFINF(POSINF(), 2) = %s", got)
	}
	rnd, _ := funcs.Lookup("random")
	a, _ := rnd.Call(nil, []value.Value{value.NewInt(7)})
	b, _ := rnd.Call(nil, []value.Value{value.NewInt(7)})
	if value.Collate(a, b) != 0 {
		t.Fatal("RANDOM(seed) should repeat")
	}
	if !rnd.Volatile {
		t.Fatal("RANDOM should be volatile")
	}
}

func TestArray(t *testing.T) {
	runCases(t, nil, []callCase{
		c("array_append", `[1,2,3,null]`, `[1,2]`, `3`, `null`),
		c("array_append", `null`, `"x"`, `3`),
		c("array_append", "MISSING", `[1]`, "MISSING"),
		c("array_prepend", `[0,1,2]`, `0`, `[1,2]`),
		c("array_concat", `[1,2,3]`, `[1]`, `[2,3]`),
		c("array_concat", `null`, `[1]`, `2`),
		c("array_contains", `true`, `[1,"a",[2]]`, `[2]`),
		c("array_contains", `true`, `[1.0]`, `1`),
		c("array_contains", `false`, `[1]`, `"1"`),
		c("array_contains", `null`, `[1]`, `null`),
		c("array_count", `2`, `[1,null,"a"]`),
		c("array_distinct", `[1,"a",2]`, `[1,"a",1.0,2,"a"]`),
		c("array_flatten", `[1,2,[3]]`, `[1,[2,[3]]]`, `1`),
		c("array_flatten", `[1,2,3]`, `[1,[2,[3]]]`, `-1`),
		c("array_length", `3`, `[1,2,3]`),
		c("array_length", `null`, `{}`),
		c("array_max", `"b"`, `[1,"b",null]`),
		c("array_min", `1`, `[1,"b",null]`),
		c("array_min", `null`, `[]`),
		c("array_position", `1`, `[1,2]`, `2`),
		c("array_position", `-1`, `[1,2]`, `3`),
		c("array_range", `[0,1,2,3]`, `0`, `4`),
		c("array_range", `[0,2]`, `0`, `4`, `2`),
		c("array_range", `[4,3]`, `4`, `2`, `-1`),
		c("array_range", `[]`, `4`, `2`),
		c("array_range", `[]`, `0`, `4`, `0`),
		c("array_position", `null`, `[1,null]`, `null`),
		c("array_range", `[0.5,1.5]`, `0.5`, `2`),
		c("array_remove", `[2,4]`, `[1,2,1,3,4]`, `1`, `3`),
		c("array_repeat", `["a","a"]`, `"a"`, `2`),
		c("array_remove", `null`, `[1]`, `null`),
		c("array_put", `null`, `[1]`, `2`, `null`),
		c("array_replace", `null`, `[1]`, `null`, `2`),
		c("array_reverse", `[3,2,1]`, `[1,2,3]`),
		c("array_sort", `[null,false,1,"a",[],{}]`, `[{},"a",1,[],false,null]`),
		c("array_sum", `6`, `[1,2,3,"x"]`),
		c("array_sum", `0`, `[]`),
		c("array_avg", `2`, `[1,2,3]`),
		c("array_avg", `null`, `["a"]`),
		c("array_ifnull", `2`, `[null,2]`),
		c("array_insert", `[1,"x","y",2]`, `[1,2]`, `1`, `"x"`, `"y"`),
		c("array_insert", `null`, `[1,2]`, `5`, `"x"`),
		c("array_put", `[1,2,3]`, `[1,2]`, `2`, `3`),
		c("array_replace", `[9,2,9]`, `[1,2,1]`, `1`, `9`),
		c("array_replace", `[9,2,1]`, `[1,2,1]`, `1`, `9`, `1`),
		c("array_star", `{"a":[1,3],"b":[2,null]}`, `[{"a":1,"b":2},{"a":3}]`),
		c("array_intersect", `[2]`, `[1,2]`, `[2,3]`),
		c("array_union", `[1,2,3]`, `[1,2]`, `[2,3]`),
		c("array_except", `[1]`, `[1,2]`, `[2,3]`),
		c("array_symdiff", `[1,3]`, `[1,2]`, `[2,3]`),
		c("array_contains_all", `true`, `[1,2,3]`, `[3,1]`),
		c("array_contains_any", `false`, `[1,2,3]`, `[4]`),
		c("array_binary_search", `2`, `[1,"a",[1]]`, `[1]`),
		c("array_binary_search", `-1`, `[1,"a",[1]]`, `2`),
		c("array_swap", `[3,2,1]`, `[1,2,3]`, `0`, `-1`),
		c("array_swap", `null`, `[1,2,3]`, `0`, `3`),
		c("array_move", `[2,3,1]`, `[1,2,3]`, `0`, `2`),
	})
}

func TestObject(t *testing.T) {
	o := `{"b":2,"a":1}`
	runCases(t, nil, []callCase{
		c("object_length", `2`, o),
		c("object_length", `null`, `[1]`),
		c("object_length", "MISSING", "MISSING"),
		c("object_names", `["a","b"]`, o),
		c("object_pairs", `[{"name":"a","val":1},{"name":"b","val":2}]`, o),
		c("object_values", `[1,2]`, o),
		c("object_add", `{"a":1,"b":2,"c":3}`, o, `"c"`, `3`),
		c("object_add", o, o, `"a"`, `9`),
		c("object_add", `null`, o, `1`, `9`),
		c("object_put", `{"a":9,"b":2}`, o, `"a"`, `9`),
		c("object_put", `{"b":2}`, o, `"a"`, "MISSING"),
		c("object_remove", `{"b":2}`, o, `"a"`),
		c("object_concat", `{"a":1,"b":3,"c":4}`, o, `{"b":3,"c":4}`),
		c("object_unwrap", `1`, `{"a":1}`),
		c("object_unwrap", `null`, o),
		c("object_rename", `{"b":2,"z":1}`, o, `"a"`, `"z"`),
		c("object_replace", `{"a":1,"b":0}`, o, `2`, `0`),
	})
}

func TestTypeAndConditional(t *testing.T) {
	runCases(t, nil, []callCase{
		c("is_array", `true`, `[]`),
		c("is_array", `false`, `{}`),
		c("is_array", `null`, `null`),
		c("is_array", "MISSING", "MISSING"),
		c("isnumber", `true`, `1.5`),
		c("is_string", `false`, `1`),
		c("is_atom", `true`, `"a"`),
		c("type", `"missing"`, "MISSING"),
		c("type", `"null"`, `null`),
		c("typename", `"object"`, `{}`),
		c("type", `"number"`, `1`),
		c("to_number", `12`, `"12"`),
		c("to_number", `1.5`, `"1.5"`),
		c("to_number", `1`, `true`),
		c("to_number", `null`, `"abc"`),
		c("to_number", `null`, `[1]`),
		c("to_number", `1234.5`, `"1,234.5"`, `","`),
		c("to_number", `1.5`, `"1,5"`, `""`),
		c("to_boolean", `false`, `0`),
		c("to_boolean", `true`, `"a"`),
		c("to_boolean", `false`, `[]`),
		c("to_array", `[1]`, `1`),
		c("to_array", `[1]`, `[1]`),
		c("to_object", `{}`, `1`),
		c("to_atom", `1`, `[{"a":1}]`),
		c("ifmissing", `null`, "MISSING", `null`, `1`),
		c("ifmissing", `null`, "MISSING", "MISSING"),
		c("ifnull", "MISSING", `null`, "MISSING", `1`),
		c("ifnull", `null`, `null`, `null`),
		c("ifmissingornull", `1`, "MISSING", `null`, `1`),
		c("coalesce", `null`, "MISSING", `null`),
		c("missingif", "MISSING", `1`, `1`),
		c("missingif", `1`, `1`, `2`),
		c("missingif", `null`, `1`, `null`),
		c("nullif", `null`, `1`, `1`),
		c("nullif", `1`, `1`, `2`),
		c("nvl", `2`, `null`, `2`),
		c("nvl2", `"b"`, `1`, `"b"`, `"c"`),
		c("nvl2", `"c"`, "MISSING", `"b"`, `"c"`),
	})
}

func TestMisc(t *testing.T) {
	runCases(t, nil, []callCase{
		c("base64_encode", `"eyJhIjoxfQ=="`, `{"a":1}`),
		c("base64", `"ImFiYyI="`, `"abc"`),
		c("base64_decode", `{"a":1}`, `"eyJhIjoxfQ=="`),
		c("base64_decode", `null`, `"***"`),
		c("encoded_size", `7`, `{"a":1}`),
		c("poly_length", `3`, `"abc"`),
		c("poly_length", `2`, `[1,2]`),
		c("poly_length", `null`, `1`),
		c("decode_json", `{"a":[1,2]}`, `"{\"a\":[1,2]}"`),
		c("decode_json", `null`, `"{"`),
		c("encode_json", `"{\"a\":[1,2]}"`, `{"a":[1,2]}`),
		c("json_encode", `"\"x\""`, `"x"`),
	})
	u, _ := funcs.Lookup("UUID")
	a, _ := u.Call(nil, nil)
	b, _ := u.Call(nil, nil)
	if s, _ := a.Str(); len(s) != 36 || value.Collate(a, b) == 0 {
		t.Fatalf("UUID %s %s", a, b)
	}
}

func TestDate(t *testing.T) {
	now := time.Date(2026, 3, 15, 10, 30, 45, 123e6, time.UTC)
	ctx := funcs.NewContext(now)
	runCases(t, ctx, []callCase{
		c("now_str", `"2026-03-15T10:30:45.123Z"`),
		c("now_utc", `"2026-03-15"`, `"1111-11-11"`),
		c("now_millis", `1773570645123`),
		c("millis_to_str", `"2015-06-11T17:21:23.133Z"`, `1434043283133`),
		c("millis_to_utc", `"2015-06-11"`, `1434043283133`, `"1111-11-11"`),
		c("millis_to_utc", `"2015-06-11 17:21:23"`, `1434043283133`, `"2006-01-02 15:04:05"`),
		c("millis_to_utc", `"2015-06-11"`, `1434043283133`, `"%Y-%m-%d"`),
		c("millis_to_tz", `"2015-06-11T10:21:23.133-07:00"`, `1434043283133`, `"America/Los_Angeles"`),
		c("millis_to_str", `null`, `"x"`),
		c("millis_to_str", "MISSING", "MISSING"),
		c("str_to_millis", `1434043283000`, `"2015-06-11T17:21:23Z"`),
		c("str_to_millis", `1433980800000`, `"2015-06-11"`),
		c("str_to_millis", `1434043283133`, `"2015-06-11T10:21:23.133-07:00"`),
		c("str_to_millis", `null`, `"not a date"`),
		c("str_to_utc", `"2015-06-11T17:21:23.133Z"`, `"2015-06-11T10:21:23.133-07:00"`),
		c("str_to_tz", `"2015-06-11T10:21:23.133-07:00"`, `"2015-06-11T17:21:23.133Z"`, `"America/Los_Angeles"`),
		c("date_add_str", `"2015-07-01T00:00:00Z"`, `"2015-06-01T00:00:00Z"`, `1`, `"month"`),
		c("date_add_str", `"2015-06-04"`, `"2015-06-01"`, `3`, `"day"`),
		c("date_add_str", `"2021-02-28"`, `"2021-01-31"`, `1`, `"calendar_month"`),
		c("date_add_str", `null`, `"2015-06-01"`, `3`, `"fortnight"`),
		c("date_add_millis", `1434046883133`, `1434043283133`, `1`, `"hour"`),
		c("date_diff_str", `-1`, `"2015-06-01"`, `"2015-06-02"`, `"day"`),
		c("date_diff_str", `12`, `"2016-01-01"`, `"2015-01-01"`, `"month"`),
		c("date_diff_str", `366`, `"2017-01-01"`, `"2016-01-01"`, `"day"`),
		c("date_diff_millis", `3600000`, `1434046883133`, `1434043283133`, `"millisecond"`),
		c("date_diff_abs_str", `1`, `"2015-06-01"`, `"2015-06-02"`, `"day"`),
		c("date_part_str", `2015`, `"2015-06-11T17:21:23Z"`, `"year"`),
		c("date_part_str", `2`, `"2015-06-11T17:21:23Z"`, `"quarter"`),
		c("date_part_str", `4`, `"2015-06-11T17:21:23Z"`, `"dow"`),
		c("date_part_str", `-25200`, `"2015-06-11T17:21:23-07:00"`, `"timezone"`),
		c("date_part_str", `null`, `"2015-06-11"`, `"bogus"`),
		c("date_part_millis", `10`, `1434043283133`, `"hour"`, `"America/Los_Angeles"`),
		c("date_part_millis", `133`, `1434043283133`, `"millisecond"`),
		c("date_trunc_str", `"2015-06-01"`, `"2015-06-11"`, `"month"`),
		c("date_trunc_str", `"2015-06-11T17:00:00Z"`, `"2015-06-11T17:21:23Z"`, `"hour"`),
		c("date_trunc_millis", `1433980800000`, `1434043283133`, `"day"`),
		c("date_format_str", `"2015-06-11"`, `"2015-06-11T17:21:23.133Z"`, `"1111-11-11"`),
		c("date_format_str", `"17:21:23"`, `"2015-06-11T17:21:23.133Z"`, `"%H:%M:%S"`),
		c("date_format_str", `"17:21:23,133"`, `"2015-06-11T17:21:23.133Z"`, `"%T,%n"`),
		c("date_format_str", `"2015-06-11"`, `"2015-06-11T17:21:23.133Z"`, `"%D"`),
		c("date_format_str", `"2015-06-11T17:21:23.133Z"`, `"2015-06-11T17:21:23.133Z"`, `"%F"`),
		c("date_format_str", `"6/1/2015 5 PM"`, `"2015-01-06T17:21:23.133Z"`, `"%-d/%-m/%Y %-I %p"`),
		c("weekday_str", `"Thursday"`, `"2015-06-11"`),
		c("date_range_str", `["2015-01-01","2015-02-01","2015-03-01"]`, `"2015-01-01"`, `"2015-04-01"`, `"month"`),
		c("date_range_str", `["2015-04-01","2015-03-01"]`, `"2015-04-01"`, `"2015-02-01"`, `"month"`),
		c("date_range_str", `[]`, `"2015-04-01"`, `"2015-02-01"`, `"month"`, `1`),
		c("date_range_str", `["2015-01-01T00:00:00Z","2015-01-01T12:00:00Z"]`, `"2015-01-01T00:00:00Z"`, `"2015-01-02T00:00:00Z"`, `"hour"`, `12`),
		c("date_range_millis", `[0,86400000]`, `0`, `172800000`, `"day"`),
		c("date_range_str", `null`, `"2015-01-01"`, `"9999-01-01"`, `"millisecond"`),
	})
	// NOW_* give the statement's instant on every call.
	f, _ := funcs.Lookup("now_millis")
	a, _ := f.Call(ctx, nil)
	b, _ := f.Call(ctx, nil)
	if value.Collate(a, b) != 0 || f.Volatile {
		t.Fatal("NOW_MILLIS should be stable within a statement")
	}
	if cm, _ := funcs.Lookup("clock_millis"); !cm.Volatile {
		t.Fatal("CLOCK_MILLIS should be volatile")
	}
	// The default time zone applies to MILLIS_TO_STR and to dates without zone.
	la, _ := time.LoadLocation("America/Los_Angeles")
	runCases(t, &funcs.Context{Now: now, Location: la}, []callCase{
		c("millis_to_str", `"2015-06-11T10:21:23.133-07:00"`, `1434043283133`),
		c("str_to_millis", `1434006000000`, `"2015-06-11"`),
	})
}

func TestLookupAndArity(t *testing.T) {
	f, ok := funcs.Lookup("ArRaY_LeNgTh")
	if !ok || f.Name != "array_length" || f.MinArgs != 1 || f.MaxArgs != 1 {
		t.Fatalf("%+v %v", f, ok)
	}
	if _, err := f.Call(nil, nil); !errors.Is(err, funcs.ErrArity) {
		t.Fatalf("err = %v", err)
	}
	// As Couchbase, a pattern that does not compile fails the call.
	re, _ := funcs.Lookup("regexp_contains")
	if _, err := re.Call(nil, []value.Value{value.NewString("a"), value.NewString("(")}); !errors.Is(err, funcs.ErrPattern) {
		t.Fatalf("bad pattern: err = %v", err)
	}
	concat, _ := funcs.Lookup("concat")
	if concat.MaxArgs != -1 {
		t.Fatal("CONCAT is variadic")
	}
	if _, err := concat.Call(nil, []value.Value{value.NewString("a")}); !errors.Is(err, funcs.ErrArity) {
		t.Fatalf("err = %v", err)
	}
	for _, name := range []string{"count", "sum", "meta", "no_such_fn"} {
		if _, ok := funcs.Lookup(name); ok {
			t.Errorf("%s should not be a scalar function here", name)
		}
	}
	if len(funcs.Names()) < 200 {
		t.Errorf("only %d names", len(funcs.Names()))
	}
}

// TestEveryFunction_MissingAndNull checks Couchbase's rule for every
// function outside the families that inspect MISSING and NULL: a MISSING
// argument gives MISSING, and no argument combination panics.
func TestEveryFunction_MissingAndNull(t *testing.T) {
	exempt := map[string]bool{}
	for _, n := range []string{
		"type", "is_missing", "is_not_missing", "is_valued", "is_not_valued", "ifmissing", "ifnull",
		"ifmissingornull", "nvl", "nvl2", "ifinf", "ifnan", "ifnanorinf", "greatest", "least",
		"encoded_size", "array_repeat", "array_prepend", "decode",
		"is_distinct_from", "isdistinctfrom", "is_not_distinct_from", "isnotdistinctfrom",
		// Couchbase searches an array for a MISSING key as for any other.
		"array_binary_search",
		// Couchbase checks only the object and the name for MISSING here.
		"object_add", "object_put",
	} {
		exempt[n] = true
	}
	ctx := funcs.NewContext(time.Now())
	samples := []value.Value{value.MissingValue, value.NullValue, value.TrueValue, value.NewInt(-3),
		value.NewFloat(2.5), value.NewString("2015-06-11"), value.MustFromJSON(`[1,"a",null]`),
		value.MustFromJSON(`{"a":1}`), value.NewBinary([]byte{1})}
	seen := map[*funcs.Func]bool{}
	for _, name := range funcs.Names() {
		f, _ := funcs.Lookup(name)
		if seen[f] {
			continue
		}
		seen[f] = true
		n := max(f.MinArgs, 1)
		if f.MaxArgs == 0 {
			continue
		}
		for pos := 0; pos < n; pos++ {
			for _, fill := range samples {
				args := make([]value.Value, n)
				for i := range args {
					args[i] = fill
				}
				args[pos] = value.MissingValue
				got, err := f.Call(ctx, args)
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				if !exempt[f.Name] && !got.IsMissing() && !strings.HasSuffix(f.Name, "if") && !strings.HasPrefix(f.Name, "is_") {
					t.Errorf("%s with MISSING at %d (others %s) = %s, want MISSING", f.Name, pos, fill, got)
				}
			}
		}
	}
}

func BenchmarkLikePrefix(b *testing.B) {
	s, p := value.NewString("airline_10226"), value.NewString("airline%")
	for b.Loop() {
		funcs.EvalLike(s, p, '\\')
	}
}

// TestEveryFunction_NoPanic calls every function with every combination of
// sample values up to three arguments: bad input gives a value, never a panic.
func TestEveryFunction_NoPanic(t *testing.T) {
	ctx := funcs.NewContext(time.Now())
	samples := []value.Value{value.MissingValue, value.NullValue, value.TrueValue, value.NewInt(-3),
		value.NewInt(1 << 40), value.NewFloat(2.5), value.NewFloat(1e300), value.NewString(""),
		value.NewString("2015-06-11"), value.NewString("%("), value.MustFromJSON(`[1,"a",[null]]`),
		value.MustFromJSON(`{"a":1}`), value.NewBinary([]byte{1})}
	seen := map[*funcs.Func]bool{}
	calls := 0
	defer func() { t.Logf("%d calls", calls) }()
	for _, name := range funcs.Names() {
		f, _ := funcs.Lookup(name)
		if seen[f] {
			continue
		}
		seen[f] = true
		maxN := f.MaxArgs
		if maxN < 0 || maxN > 3 {
			maxN = 3
		}
		for n := f.MinArgs; n <= maxN; n++ {
			idx := make([]int, n)
			for {
				args := make([]value.Value, n)
				for i, k := range idx {
					args[i] = samples[k]
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("%s%v panicked: %v", f.Name, args, r)
						}
					}()
					calls++
					if _, err := f.Call(ctx, args); err != nil && !errors.Is(err, funcs.ErrPattern) {
						t.Fatalf("%s: %v", f.Name, err)
					}
				}()
				i := 0
				for ; i < n; i++ {
					if idx[i]++; idx[i] < len(samples) {
						break
					}
					idx[i] = 0
				}
				if i == n {
					break
				}
			}
		}
	}
}
