package e2e

import (
	"testing"
	"time"
)

// Binary documents reach a function only as its language_compatibility
// allows (§2.12): a handler stores ArrayBuffers; a 6.6.2 function whose
// source they are gets each as an ArrayBuffer with meta.datatype
// "binary", and a 6.5.0 function filters them out (counting them).
func TestBinaryDocumentsByLanguageCompatibility(t *testing.T) {
	_, c := newNode(t, "src", "bin", "out", "meta")
	c.deployNew(fnSpec{name: "writer", code: `function OnUpdate(doc, meta) {
  var buf = new ArrayBuffer(doc.size);
  var view = new Uint8Array(buf);
  for (var i = 0; i < view.length; i++) view[i] = i % 251;
  bin[meta.id] = buf;
}`, bindings: []binding{{"bin", "bin", "rw"}}})
	c.deployNew(fnSpec{name: "new", source: "bin", code: `function OnUpdate(doc, meta) {
  var view = new Uint8Array(doc);
  var sum = 0;
  for (var i = 0; i < view.length; i++) sum += view[i];
  out['new::' + meta.id] = {binary: doc instanceof ArrayBuffer, datatype: meta.datatype, size: doc.byteLength, sum: sum};
}`, bindings: []binding{{"out", "out", "rw"}}, settings: map[string]any{"language_compatibility": "6.6.2"}})
	c.deployNew(fnSpec{name: "old", source: "bin", code: `function OnUpdate(doc, meta) {
  out['old::' + meta.id] = {seen: true};
}`, bindings: []binding{{"out", "out", "rw"}}, settings: map[string]any{"language_compatibility": "6.5.0"}})

	c.BulkDocs("src", []map[string]any{{"_id": "a", "size": 10}, {"_id": "b", "size": 300}})
	waitFor(t, 20*time.Second, "both binary documents at the 6.6.2 function", func() bool {
		m := c.docMap("out")
		return m["new::a"] != nil && m["new::b"] != nil
	})
	c.waitStat("old", "execution_stats", "filtered_dcp_mutation_counter", 2)
	m := c.docMap("out")
	wantSum := func(n int) float64 {
		s := 0
		for i := range n {
			s += i % 251
		}
		return float64(s)
	}
	for id, size := range map[string]int{"a": 10, "b": 300} {
		got := m["new::"+id]
		if got["binary"] != true || got["datatype"] != "binary" || got["size"] != float64(size) || got["sum"] != wantSum(size) {
			t.Errorf("6.6.2 function got %s as %v, want an ArrayBuffer of %d bytes (sum %v)", id, got, size, wantSum(size))
		}
	}
	holdsFor(t, 300*time.Millisecond, "the 6.5.0 function never sees a binary document", func() bool {
		m := c.docMap("out")
		return m["old::a"] == nil && m["old::b"] == nil
	})
	if got := c.stat("old", "execution_stats", "on_update_success"); got != 0 {
		t.Errorf("6.5.0 function on_update_success = %v, want 0", got)
	}
}
