package udf

import (
	"testing"

	"eventide/query/library"
	"eventide/query/value"
)

// BenchmarkCallJavaScript calls a small library function, as SELECT
// f(a, b) FROM ... does once per row; calls/s is per core.
func BenchmarkCallJavaScript(b *testing.B) {
	for _, form := range []string{"library", "inline"} {
		b.Run(form, func(b *testing.B) {
			svc, libs := newTestService(b)
			ctx := ctxT(b)
			def := jsDef(global("add"), "lib", "add", "a", "b")
			if form == "library" {
				must(b, libs.PutText(ctx, library.Scope{}, "lib", "function add(a, b) { return a + b; }"))
			} else {
				def.Library, def.Object, def.Code = "", "", "function add(a, b) { return a + b; }"
			}
			args := []value.Value{value.NewInt(1), value.NewInt(2)}
			if _, err := svc.CallJavaScript(ctx, def, args); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.CallJavaScript(ctx, def, args); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkCallJavaScriptParallel is the same from concurrent requests.
func BenchmarkCallJavaScriptParallel(b *testing.B) {
	svc, libs := newTestService(b)
	ctx := ctxT(b)
	must(b, libs.PutText(ctx, library.Scope{}, "lib", "function add(a, b) { return a + b; }"))
	def := jsDef(global("add"), "lib", "add", "a", "b")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		args := []value.Value{value.NewInt(1), value.NewInt(2)}
		for pb.Next() {
			if _, err := svc.CallJavaScript(ctx, def, args); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkCallJavaScriptObject passes and returns a small object.
func BenchmarkCallJavaScriptObject(b *testing.B) {
	svc, libs := newTestService(b)
	ctx := ctxT(b)
	must(b, libs.PutText(ctx, library.Scope{}, "lib", "function tag(d) { d.seen = true; return d; }"))
	def := jsDef(global("tag"), "lib", "tag", "d")
	args := []value.Value{value.MustFromJSON(`{"name": "x", "age": 3, "tags": ["a", "b"]}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.CallJavaScript(ctx, def, args); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
