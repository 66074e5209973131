package engine_test

import "testing"

func TestExecute_Expressions(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ name, stmt, want string }{
		{"arith", `SELECT 1+2 AS a, 7/2 AS b, 7%3 AS c, -(2) AS d`, `[{"a":3,"b":3.5,"c":1,"d":-2}]`},
		{"implicit names", `SELECT 1, "x" AS s, 2`, `[{"$1":1,"s":"x","$2":2}]`},
		{"missing dropped", `SELECT MISSING AS m, NULL AS n`, `[{"n":null}]`},
		{"missing null logic", `SELECT NULL AND FALSE AS a, MISSING OR TRUE AS b, NOT NULL AS c, MISSING = 1 AS d, NULL = 1 AS e`, `[{"a":false,"b":true,"c":null,"e":null}]`},
		{"is", `SELECT NULL IS NULL AS a, MISSING IS MISSING AS b, 1 IS VALUED AS c, MISSING IS NULL AS d, NULL IS NOT VALUED AS e`, `[{"a":true,"b":true,"c":true,"e":true}]`},
		{"in between like", `SELECT 2 IN [1,2] AS a, 3 NOT IN [1,2] AS b, 5 BETWEEN 1 AND 5 AS c, "abc" LIKE "a%" AS d, "abc" NOT LIKE "_b" AS f`, `[{"a":true,"b":true,"c":true,"d":true,"f":true}]`},
		{"case", `SELECT CASE WHEN 1 > 2 THEN "a" ELSE "b" END AS s, CASE 3 WHEN 3 THEN "three" END AS t, CASE WHEN FALSE THEN 1 END AS u`, `[{"s":"b","t":"three","u":null}]`},
		{"constructors", `SELECT [1, MISSING, "a"] AS arr, {"a": 1, "b": MISSING} AS obj`, `[{"arr":[1,null,"a"],"obj":{"a":1}}]`},
		{"paths", `SELECT {"a":{"b":[10,20,30]}}.a.b[1] AS x, [1,2,3,4][1:3] AS s, {"a":1}.["a"] AS d, [{"f":1},{"f":2}][*].f AS st`, `[{"x":20,"s":[2,3],"d":1,"st":[1,2]}]`},
		{"any every", `SELECT ANY v IN [1,2,3] SATISFIES v > 2 END AS a, EVERY v IN [1,2,3] SATISFIES v > 0 END AS e, ANY v IN [] SATISFIES v > 0 END AS n, ANY AND EVERY v IN [] SATISFIES TRUE END AS ae`, `[{"a":true,"e":true,"n":false,"ae":false}]`},
		{"comprehensions", `SELECT ARRAY v*2 FOR v IN [1,2,3] WHEN v > 1 END AS a, FIRST v FOR v IN [1,2,3] WHEN v > 1 END AS f, OBJECT k: v FOR k:v IN {"x":1,"y":2} END AS o`, `[{"a":[4,6],"f":2,"o":{"x":1,"y":2}}]`},
		{"functions", `SELECT UPPER("ab") AS u, ARRAY_LENGTH([1,2]) AS l, IFMISSING(MISSING, 3) AS m, LENGTH(MISSING) AS x`, `[{"u":"AB","l":2,"m":3}]`},
		{"concat", `SELECT "a" || "b" AS c, "a" || 1 AS n`, `[{"c":"ab","n":null}]`},
		{"subquery", `SELECT (SELECT RAW v FROM [1,2,3] AS v WHERE v > 1) AS s`, `[{"s":[2,3]}]`},
		{"exists", `SELECT EXISTS (SELECT 1 FROM [1] AS x) AS e, EXISTS [] AS f`, `[{"e":true,"f":false}]`},
		{"raw", `SELECT RAW 1+1`, `[2]`},
		{"let", `SELECT x, y FROM [1,2] AS x LET y = x * 10 WHERE y > 10`, `[{"x":2,"y":20}]`},
		{"dual", `SELECT 1 AS one FROM system:dual`, `[{"one":1}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sameJSON(t, c.stmt, e.with(t).query(c.stmt), c.want)
		})
	}
}

func TestExecute_Parameters(t *testing.T) {
	e := newEnv(t)
	sameJSON(t, "positional", e.query(`SELECT $1 + $2 AS s, ? AS q`, 1, 2), `[{"s":3,"q":1}]`)
	rows, res := e.exec(engineReqNamed(`SELECT $name AS n`, "name", "bob"))
	if len(res.Errors) > 0 || len(rows) != 1 || rows[0] != `{"n":"bob"}` {
		t.Fatalf("named: %v %v", rows, errs(res))
	}
	if err := e.fails(`SELECT $nope`); err.Code != 5010 {
		t.Errorf("missing parameter: %+v", err)
	}
}

func TestExecute_ProjectionOrderKept(t *testing.T) {
	e := newEnv(t)
	got := e.query(`SELECT 1 AS z, 2 AS a, 3 AS m`)
	if got != `[{"z":1,"a":2,"m":3}]` {
		t.Fatalf("got %s", got)
	}
}

func TestExecute_ExpressionsWithoutRow(t *testing.T) {
	e := newEnv(t)
	sameJSON(t, "limit comprehension", e.query(`SELECT RAW x FROM [1,2,3] AS x LIMIT ARRAY_LENGTH(ARRAY v FOR v IN [1,2] END)`), `[1,2]`)
	sameJSON(t, "offset any", e.query(`SELECT RAW x FROM [1,2,3] AS x OFFSET CASE WHEN ANY v IN [1] SATISFIES v = 1 END THEN 2 ELSE 0 END`), `[3]`)
}
