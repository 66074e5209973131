package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/docstore"
)

// newInsightHarness is newHarness with code insight recorded.
func newInsightHarness(t *testing.T, code string, o harnessOpts) (*harness, *Insight) {
	t.Helper()
	o.insight = NewInsight()
	return newHarness(t, code, o), o.insight
}

// wantInsight compares a snapshot with want, ErrorMsg by prefix when it
// ends in "...".
func wantInsight(t *testing.T, got, want map[int]InsightLine) {
	t.Helper()
	ok := len(got) == len(want)
	for n, w := range want {
		g, found := got[n]
		msgOK := g.ErrorMsg == w.ErrorMsg
		if p, cut := strings.CutSuffix(w.ErrorMsg, "..."); cut {
			msgOK = strings.HasPrefix(g.ErrorMsg, p)
		}
		if !found || g.ErrorCount != w.ErrorCount || !msgOK || g.LastLog != w.LastLog {
			ok = false
		}
	}
	if !ok {
		t.Errorf("insight = %+v\nwant      %+v", got, want)
	}
}

func TestInsight_ExceptionLines(t *testing.T) {
	code := "function OnUpdate(doc, meta) {\n  helper(doc);\n}\nfunction helper(doc) {\n  if (doc.fail) {\n    throw new Error('boom ' + doc.fail);\n  }\n}\nfunction OnDelete(meta) {\n  null.x;\n}"
	headers := map[string][]string{
		"default":       nil,
		"extra headers": {"'use strict';", "var headerA = 1;", "var headerB =\n  2;"},
		"sloppy":        {},
	}
	for name, hs := range headers {
		t.Run(name, func(t *testing.T) {
			h, in := newInsightHarness(t, code, harnessOpts{
				settings:  Settings{HandlerHeaders: hs},
				constants: []Constant{{"k", "1"}, {"multi", "{\n a: 1,\n b: 2\n}"}},
			})
			for i := 1; i <= 3; i++ {
				if err := h.handle(mutation(fmt.Sprint("k", i), fmt.Sprintf(`{"fail": %d}`, i))); !errors.Is(err, ErrException) {
					t.Fatalf("Handle = %v, want an exception", err)
				}
			}
			h.mustHandle(mutation("ok", `{}`))
			if err := h.handle(docstore.Event{Kind: docstore.EventDeletion, Keyspace: srcKS, Doc: &docstore.Document{Key: "d"}}); !errors.Is(err, ErrException) {
				t.Fatalf("OnDelete = %v, want an exception", err)
			}
			wantInsight(t, in.Snapshot(), map[int]InsightLine{
				6:  {ErrorCount: 3, ErrorMsg: "Error: boom 3"},
				10: {ErrorCount: 1, ErrorMsg: "TypeError: ..."},
			})
		})
	}
}

func TestInsight_LogLines(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  log('first', meta.id);
  helper(doc);
  [doc.n].forEach(log);
  log({n: doc.n});
}
function helper(doc) {
  log('helper', doc.n);
}`
	h, in := newInsightHarness(t, code, harnessOpts{
		settings:  Settings{HandlerHeaders: []string{"'use strict';", "var headerA = 1;"}},
		constants: []Constant{{"c", "1"}},
	})
	h.mustHandle(mutation("a", `{"n": 1}`))
	h.mustHandle(mutation("b", `{"n": 2}`))
	wantInsight(t, in.Snapshot(), map[int]InsightLine{
		2: {LastLog: `"first" "b" `},
		4: {LastLog: `2 0 [2] `},
		5: {LastLog: `{"n":2} `},
		8: {LastLog: `"helper" 2 `},
	})
	// last_log is the text the application log got.
	lines := h.logMessages()
	if len(lines) != 8 || !strings.HasPrefix(lines[4], `[INFO] "first" "b"`) || !strings.HasPrefix(lines[7], `[INFO] {"n":2}`) {
		t.Errorf("app log = %q", lines)
	}
}

func TestInsight_LogOutsideUserCodeIsNotAttributed(t *testing.T) {
	// A constant's initializer runs at init, in generated code after the
	// user's: its log line has no user line. A log from a handler function
	// it calls does.
	code := "function OnUpdate(doc, meta) {}\nfunction init() {\n  log('from init');\n  return 1;\n}"
	h, in := newInsightHarness(t, code, harnessOpts{
		constants: []Constant{{"direct", "(log('constant'), 2)"}, {"viaFn", "init()"}},
	})
	wantInsight(t, in.Snapshot(), map[int]InsightLine{3: {LastLog: `"from init" `}})
	if lines := h.logMessages(); len(lines) != 2 {
		t.Errorf("app log = %q", lines)
	}
}

func TestInsight_TimersOnDeployAndTimeouts(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  for (let i = 0; ; i++) { doc.n = i; }
}
function Cb(context) {
  log('timer', context.n);
  throw new EventingError('timer ' + context.n);
}
function OnDeploy(action) {
  throw new Error('deploy ' + action.reason);
}`
	h, in := newInsightHarness(t, code, harnessOpts{settings: Settings{ExecutionTimeout: 50 * time.Millisecond}})
	for i := 1; i <= 2; i++ {
		if err := h.fire(Timer{Callback: "Cb", Reference: "r", Context: []byte(fmt.Sprintf(`{"n": %d}`, i))}); !errors.Is(err, ErrException) {
			t.Fatalf("FireTimer = %v, want an exception", err)
		}
	}
	// A failure with no user position is not attributed to a line.
	if err := h.fire(Timer{Callback: "Cb", Reference: "r", Context: []byte(`{`)}); err == nil {
		t.Fatal("FireTimer with a corrupt context succeeded")
	}
	if err := h.onDeploy(DeployReasonResume, 0); !errors.Is(err, ErrException) {
		t.Fatalf("OnDeploy = %v, want an exception", err)
	}
	if err := h.handle(mutation("spin", `{}`)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Handle = %v, want a timeout", err)
	}
	got := in.Snapshot()
	wantInsight(t, got, map[int]InsightLine{
		2: {ErrorCount: 1, ErrorMsg: "execution_timeout of 50ms exceeded"},
		5: {LastLog: `"timer" 2 `},
		6: {ErrorCount: 2, ErrorMsg: "EventingError: timer 2"},
		9: {ErrorCount: 1, ErrorMsg: "Error: deploy Resume"},
	})
	// An interruption by the caller is not the handler's failure.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.w.Handle(ctx, mutation("x", `{}`), h.store); err == nil {
		t.Fatal("Handle with a cancelled context succeeded")
	}
	wantInsight(t, in.Snapshot(), got)
}

func TestInsight_ConcurrentWorkersAndReset(t *testing.T) {
	code := "function OnUpdate(doc, meta) {\n  log(meta.id);\n  if (doc.fail) throw new Error(meta.id);\n}"
	p := mustCompile(t, code, harnessOpts{bindings: defaultBindings()})
	in := NewInsight()
	const workers, events = 4, 200
	var wg sync.WaitGroup
	for i := range workers {
		w, err := NewWorker(p, Config{FunctionName: "fn", Insight: in})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := newFakeStore()
			for j := range events {
				err := w.Handle(context.Background(), mutation(fmt.Sprintf("w%d-%d", i, j), fmt.Sprintf(`{"fail": %t}`, j%2 == 0)), st)
				if (j%2 == 0) != errors.Is(err, ErrException) {
					t.Errorf("event %d: Handle = %v", j, err)
				}
			}
		}()
		// Readers run alongside the writers.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range events / 10 {
				_ = in.Snapshot()
			}
		}()
	}
	wg.Wait()
	got := in.Snapshot()
	if len(got) != 2 || got[3].ErrorCount != workers*events/2 || !strings.HasPrefix(got[3].ErrorMsg, "Error: w") ||
		!strings.HasPrefix(got[2].LastLog, `"w`) || got[2].ErrorCount != 0 {
		t.Errorf("insight = %+v", got)
	}
	// A snapshot is a copy.
	got[3] = InsightLine{}
	if in.Snapshot()[3].ErrorCount != workers*events/2 {
		t.Error("changing a snapshot changed the insight")
	}
	in.Reset()
	if s := in.Snapshot(); len(s) != 0 {
		t.Errorf("after Reset: %+v", s)
	}
	w, err := NewWorker(p, Config{FunctionName: "fn", Insight: in})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Handle(context.Background(), mutation("again", `{"fail": true}`), newFakeStore()); !errors.Is(err, ErrException) {
		t.Fatal(err)
	}
	wantInsight(t, in.Snapshot(), map[int]InsightLine{
		2: {LastLog: `"again" `},
		3: {ErrorCount: 1, ErrorMsg: "Error: again"},
	})
}

func TestInsight_NilIsDisabled(t *testing.T) {
	var in *Insight
	in.recordError(1, "x")
	in.recordLog(1, "x")
	in.Reset()
	if s := in.Snapshot(); s == nil || len(s) != 0 {
		t.Errorf("nil Snapshot = %#v", s)
	}
	// A worker without insight logs and fails as usual.
	h := newHarness(t, "function OnUpdate(doc, meta) {\n  log(1);\n  throw 'x';\n}", harnessOpts{})
	if err := h.handle(mutation("k", `{}`)); !errors.Is(err, ErrException) {
		t.Errorf("Handle = %v", err)
	}
}

func TestMergeInsight(t *testing.T) {
	a := map[int]InsightLine{
		2: {ErrorCount: 3, ErrorMsg: "Error: a", LastLog: "log a"},
		5: {LastLog: "only a"},
	}
	b := map[int]InsightLine{
		2: {ErrorCount: 4, ErrorMsg: "Error: b", LastLog: "log b"},
		7: {ErrorCount: 1, ErrorMsg: "Error: only b"},
		0: {ErrorCount: 9}, // no line: dropped
	}
	c := map[int]InsightLine{5: {ErrorCount: 2, ErrorMsg: "Error: c"}}
	aCopy := maps.Clone(a)
	got := MergeInsight(a, nil, b, c)
	wantInsight(t, got, map[int]InsightLine{
		2: {ErrorCount: 7, ErrorMsg: "Error: a", LastLog: "log a"},
		5: {ErrorCount: 2, ErrorMsg: "Error: c", LastLog: "only a"},
		7: {ErrorCount: 1, ErrorMsg: "Error: only b"},
	})
	if !maps.Equal(a, aCopy) {
		t.Error("MergeInsight changed its argument")
	}
	if m := MergeInsight(); m == nil || len(m) != 0 {
		t.Errorf("MergeInsight() = %#v", m)
	}
}

func TestInsightLine_JSON(t *testing.T) {
	b, err := json.Marshal(map[int]InsightLine{12: {ErrorCount: 2, ErrorMsg: "Error: x", LastLog: `"hi" `}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"12":{"error_count":2,"error_msg":"Error: x","last_log":"\"hi\" "}}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

func TestInsight_MergeIntoMovesAndAdds(t *testing.T) {
	shared, batch := NewInsight(), NewInsight()
	shared.recordError(3, "old")
	shared.recordLog(5, "old log")
	batch.recordError(3, "new")
	batch.recordError(3, "newer")
	batch.recordLog(7, "batch log")
	batch.MergeInto(shared)
	got := shared.Snapshot()
	if got[3].ErrorCount != 3 || got[3].ErrorMsg != "newer" || got[5].LastLog != "old log" || got[7].LastLog != "batch log" {
		t.Fatalf("merged = %+v", got)
	}
	if left := batch.Snapshot(); len(left) != 0 {
		t.Fatalf("batch insight after the merge = %+v, want empty", left)
	}
	batch.MergeInto(shared) // nothing more to add
	if again := shared.Snapshot(); again[3].ErrorCount != 3 {
		t.Fatalf("second merge changed the counts: %+v", again)
	}
}
