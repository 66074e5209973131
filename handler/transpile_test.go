package handler

import (
	"slices"
	"testing"

	"eventide/docstore"
	"eventide/jsrt"
)

func TestTranspile(t *testing.T) {
	cases := []struct {
		name string
		code string
		want string
	}{
		{"assigned", "var it = SELECT * FROM b WHERE id = $id;",
			`var it = couchbase.n1qlQuery("SELECT * FROM b WHERE id = $id", {"$id": id});`},
		{"standalone, variables once each", "  DELETE FROM b WHERE a = $x AND c = $x OR d = $y1;",
			`  couchbase.n1qlQuery("DELETE FROM b WHERE a = $x AND c = $x OR d = $y1", {"$x": x, "$y1": y1});`},
		{"positional and strings are not variables", "UPDATE b SET s = '$no', `$q` = $1 WHERE t = \"a$b\";",
			"couchbase.n1qlQuery(\"UPDATE b SET s = '$no', `$q` = $1 WHERE t = \\\"a$b\\\"\", {});"},
		{"field of a variable", "SELECT $meta.id;",
			`couchbase.n1qlQuery("SELECT $meta.id", {"$meta": meta});`},
		{"lines kept, comments dropped", "var r = SELECT a, /* one\n two */ b\n  FROM c;\nx();",
			"var r = couchbase.n1qlQuery(\"SELECT a,   b\\n  FROM c\", {});\n\n\nx();"},
		{"nested braces and brackets", "if (a) { for (const r of SELECT {\"k\": [1, {\"z\": 2}]} AS o FROM b;) { f(r); } }",
			`if (a) { for (const r of couchbase.n1qlQuery("SELECT {\"k\": [1, {\"z\": 2}]} AS o FROM b", {})) { f(r); } }`},
		{"strings, templates and comments untouched",
			"log('SELECT 1;'); log(`UPDATE x; ${ `DELETE FROM y;` }`); // SELECT 2;\n/* INSERT INTO z; */",
			"log('SELECT 1;'); log(`UPDATE x; ${ `DELETE FROM y;` }`); // SELECT 2;\n/* INSERT INTO z; */"},
		{"carriage returns", "var r = SELECT a\r\n  FROM b\r  WHERE c;\r\nx();",
			"var r = couchbase.n1qlQuery(\"SELECT a\\r\\n  FROM b\\r  WHERE c\", {});\n\n\r\nx();"},
		{"html characters are not escaped", "SELECT a < b AND c > d & e;",
			`couchbase.n1qlQuery("SELECT a < b AND c > d & e", {});`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := transpile(c.code)
			if got != c.want {
				t.Errorf("transpile =\n%s\nwant\n%s", got, c.want)
			}
			if lineBreaks(got) != lineBreaks(c.code) {
				t.Errorf("line count changed: %d → %d", lineBreaks(c.code), lineBreaks(got))
			}
			if _, err := jsrt.Parse("t.js", got); err != nil {
				t.Errorf("transpiled code does not parse: %v", err)
			}
		})
	}
}

func TestDMLTargets(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  INSERT INTO dst (KEY, VALUE) VALUES ($k, {});
  UPSERT INTO ` + "`my-bucket`.s1.c1" + ` (KEY, VALUE) VALUES ('a', 1);
  update default:b2 SET x = 1;
  DELETE /* all */ FROM /* of */ b3.s.c WHERE true;
  MERGE INTO b4 USING b5 ON KEY b5.k WHEN MATCHED THEN DELETE;
  SELECT * FROM notwritten;
  DELETE FROM scope2.coll WHERE true;
  DELETE FROM system:prepareds;
  log('UPDATE quoted SET x = 1;');
}`
	got := DMLTargets(code)
	want := []docstore.Keyspace{
		{Bucket: "dst", Scope: "_default", Collection: "_default"},
		{Bucket: "my-bucket", Scope: "s1", Collection: "c1"},
		{Bucket: "b2", Scope: "_default", Collection: "_default"},
		{Bucket: "b3", Scope: "s", Collection: "c"},
		{Bucket: "b4", Scope: "_default", Collection: "_default"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("DMLTargets = %v, want %v", got, want)
	}
}
