package handler

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// timerCode is a handler whose OnUpdate creates the timer doc describes:
// {cb, at (ms since the epoch), ref, ctx, noCtx}. The callbacks record what
// they received in dst.
const timerCode = `function OnUpdate(doc, meta) {
  var ref = doc.ref;
  var cb = doc.cb === 'Other' ? Other : Cb;
  var r = doc.noCtx ? createTimer(cb, new Date(doc.at), ref) : createTimer(cb, new Date(doc.at), ref, doc.ctx);
  dst['ref-' + meta.id] = {ref: r};
}
function Cb(context) {
  dst['fired'] = {ctx: context, type: typeof context, isArray: Array.isArray(context)};
}
function Other(context) {}`

func (h *harness) fire(t Timer) error {
	h.t.Helper()
	return h.w.FireTimer(context.Background(), t, h.store)
}

func (h *harness) mustFire(t Timer) {
	h.t.Helper()
	if err := h.fire(t); err != nil {
		h.t.Fatalf("FireTimer(%s, %s): %v", t.Callback, t.Reference, err)
	}
}

func (h *harness) wantStats(want map[string]uint64) {
	h.t.Helper()
	for k, v := range want {
		if got := h.stats.Get(k); got != v {
			h.t.Errorf("%s = %d, want %d", k, got, v)
		}
	}
}

func TestCreateTimer_References(t *testing.T) {
	h := newHarness(t, timerCode, harnessOpts{})
	at := time.Date(2031, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
	ms := at.UnixMilli()
	h.mustHandle(mutation("explicit", `{"ref": "my-ref", "at": `+jsonNum(ms)+`, "ctx": {"a": 1}}`))
	h.mustHandle(mutation("null", `{"ref": null, "at": `+jsonNum(ms)+`, "ctx": "s"}`))
	h.mustHandle(mutation("undef", `{"at": `+jsonNum(ms)+`, "noCtx": true}`))

	if got := h.result("ref-explicit")["ref"]; got != "my-ref" {
		t.Errorf("explicit reference returned %v", got)
	}
	tm, ok := h.store.timer("Cb", "my-ref")
	if !ok || !tm.Due.Equal(at) || string(tm.Context) != `{"a":1}` {
		t.Errorf("timer = %+v (found %v), want due %v, context {\"a\":1}", tm, ok, at)
	}
	hexRef := regexp.MustCompile(`^[0-9a-f]{32}$`)
	var generated []string
	for _, key := range []string{"ref-null", "ref-undef"} {
		ref, _ := h.result(key)["ref"].(string)
		if !hexRef.MatchString(ref) {
			t.Fatalf("%s: generated reference %q, want 32 hex digits", key, ref)
		}
		generated = append(generated, ref)
	}
	if generated[0] == generated[1] {
		t.Errorf("generated references repeat: %q", generated[0])
	}
	if tm, ok := h.store.timer("Cb", generated[0]); !ok || string(tm.Context) != `"s"` {
		t.Errorf("timer with generated reference = %+v (found %v)", tm, ok)
	}
	if tm, ok := h.store.timer("Cb", generated[1]); !ok || string(tm.Context) != `null` {
		t.Errorf("timer without context = %+v (found %v), want context null", tm, ok)
	}
	h.wantStats(map[string]uint64{"timer_create_counter": 3, "timer_create_failure": 0})
}

func jsonNum(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestCreateTimer_DuePrecisionAndPastDates(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  createTimer(Cb, new Date(doc.at), meta.id);
}
function Cb() {}`, harnessOpts{})
	for key, ms := range map[string]int64{"past": 1000, "epoch-ms": 1700000000123, "pre-1970": -5000} {
		h.mustHandle(mutation(key, `{"at": `+jsonNum(ms)+`}`))
		tm, ok := h.store.timer("Cb", key)
		if !ok || tm.Due.UnixMilli() != ms || tm.Due.Location() != time.UTC {
			t.Errorf("%s: timer = %+v (found %v), want due %d ms UTC", key, tm, ok, ms)
		}
	}
}

func TestCreateTimer_Overwrite(t *testing.T) {
	h := newHarness(t, timerCode, harnessOpts{})
	h.mustHandle(mutation("a", `{"ref": "r", "at": 1000, "ctx": 1}`))
	h.mustHandle(mutation("b", `{"ref": "r", "at": 2000, "ctx": 2}`))
	h.mustHandle(mutation("c", `{"ref": "r", "at": 3000, "ctx": 3, "cb": "Other"}`))
	if n := h.store.pendingTimers(); n != 2 {
		t.Errorf("pending timers = %d, want 2 (same callback and reference overwrite)", n)
	}
	if tm, _ := h.store.timer("Cb", "r"); tm.Due.UnixMilli() != 2000 || string(tm.Context) != "2" {
		t.Errorf("overwritten timer = %+v, want the second one", tm)
	}
	if tm, ok := h.store.timer("Other", "r"); !ok || string(tm.Context) != "3" {
		t.Errorf("timer of another callback with the same reference = %+v (found %v)", tm, ok)
	}
}

func TestCancelTimer(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  if (doc.create) createTimer(Cb, new Date(), 'r1', null);
  var r = {first: cancelTimer(Cb, 'r1'), second: cancelTimer(Cb, 'r1'), never: cancelTimer(Cb, 'nope')};
  if (doc.createAndCancel) {
    createTimer(Cb, new Date(), 'r2', null);
    r.sameInvocation = cancelTimer(Cb, 'r2');
  }
  dst[meta.id] = r;
}
function Cb() {}`, harnessOpts{})
	h.mustHandle(mutation("pre", `{}`))
	h.store.CreateTimer(Timer{Callback: "Cb", Reference: "r1", Context: []byte("null")})
	h.mustHandle(mutation("k", `{"createAndCancel": true}`))
	wantFields(t, h.result("pre"), map[string]any{"first": false, "second": false, "never": false})
	wantFields(t, h.result("k"), map[string]any{"first": true, "second": false, "never": false, "sameInvocation": true})
	if n := h.store.pendingTimers(); n != 0 {
		t.Errorf("pending timers = %d, want 0", n)
	}
	h.wantStats(map[string]uint64{"timer_cancel_counter": 2, "timer_create_counter": 1})
}

func TestTimers_ArgumentErrors(t *testing.T) {
	const (
		cbGlobal = "First argument to createTimer must be a valid global function"
		notDate  = "Second argument to createTimer must be a Date object instance"
		badRef   = "Third argument to createTimer must be a string (or null to generate an ID)"
	)
	cases := []struct {
		name, stmt string
		want       string // the message, or a prefix ending in "*"
		typeError  bool   // a TypeError rather than an EventingError
	}{
		{"too few arguments", `createTimer(Cb, new Date())`, "createTimer needs atleast 3 arguments - callback function, time, reference", false},
		{"no arguments", `createTimer()`, "createTimer needs atleast 3 arguments - callback function, time, reference", false},
		{"callback name as string", `createTimer('Cb', new Date(), 'r')`, cbGlobal, false},
		{"callback null", `createTimer(null, new Date(), 'r')`, cbGlobal, false},
		{"anonymous function", `createTimer(function () {}, new Date(), 'r')`, cbGlobal, false},
		{"arrow function", `createTimer(() => 1, new Date(), 'r')`, cbGlobal, false},
		{"inner function", `function inner() {} createTimer(inner, new Date(), 'r')`, cbGlobal, false},
		{"inner function shadowing a global", `function Cb() {} createTimer(Cb, new Date(), 'r')`, cbGlobal, false},
		{"bound function", `createTimer(Cb.bind(null), new Date(), 'r')`, cbGlobal, false},
		{"date as number", `createTimer(Cb, Date.now(), 'r')`, notDate, false},
		{"date as string", `createTimer(Cb, new Date().toISOString(), 'r')`, notDate, false},
		{"date-like object", `createTimer(Cb, Object.create(Date.prototype), 'r')`, notDate, false},
		{"invalid date", `createTimer(Cb, new Date('not a date'), 'r')`, "Second argument to createTimer must be a valid Date, got an Invalid Date", false},
		{"reference number", `createTimer(Cb, new Date(), 42)`, badRef, false},
		{"reference object", `createTimer(Cb, new Date(), {})`, badRef, false},
		{"reference String object", `createTimer(Cb, new Date(), new String('r'))`, badRef, false},
		{"reference symbol", `createTimer(Cb, new Date(), Symbol('r'))`, badRef, false},
		{"context too big", `createTimer(Cb, new Date(), 'r', 'x'.repeat(1023))`, "The context payload size is more than the configured size:1024 bytes", false},
		{"context function", `createTimer(Cb, new Date(), 'r', function () {})`, "Fourth argument to createTimer (context) must be JSON serializable, got a function", false},
		{"context symbol", `createTimer(Cb, new Date(), 'r', Symbol('s'))`, "Fourth argument to createTimer (context) must be JSON serializable, got a symbol", false},
		{"context cycle", `var o = {}; o.self = o; createTimer(Cb, new Date(), 'r', o)`, "*", true},
		{"context BigInt", `createTimer(Cb, new Date(), 'r', {n: 1n})`, "Do not know how to serialize a BigInt", true},
		{"context throwing toJSON", `createTimer(Cb, new Date(), 'r', {toJSON() { throw new EventingError('mine'); }})`, "mine", false},
		{"cancel too few arguments", `cancelTimer(Cb)`, "cancelTimer needs 2 arguments - callback function, reference", false},
		{"cancel anonymous", `cancelTimer(function () {}, 'r')`, "First argument to cancelTimer must be a valid global function", false},
		{"cancel inner", `function inner() {} cancelTimer(inner, 'r')`, "First argument to cancelTimer must be a valid global function", false},
		{"cancel null reference", `cancelTimer(Cb, null)`, "Second argument to cancelTimer must be a string", false},
		{"cancel number reference", `cancelTimer(Cb, 7)`, "Second argument to cancelTimer must be a string", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, `function OnUpdate(doc, meta) {
  try {
    `+c.stmt+`;
    dst['r'] = {threw: false};
  } catch (e) {
    dst['r'] = {threw: true, eventing: e instanceof EventingError, type: e instanceof TypeError, msg: e.message};
  }
}
function Cb(context) {}`, harnessOpts{})
			h.store.CreateTimer(Timer{Callback: "Cb", Reference: "r", Context: []byte(`"keep"`)})
			h.mustHandle(mutation("k", `{}`))
			r := h.result("r")
			if r["threw"] != true {
				t.Fatalf("%s did not throw", c.stmt)
			}
			msg, _ := r["msg"].(string)
			if prefix, ok := strings.CutSuffix(c.want, "*"); ok && !strings.HasPrefix(msg, prefix) || !ok && msg != c.want {
				t.Errorf("message = %q, want %q", msg, c.want)
			}
			if c.typeError && r["type"] != true || !c.typeError && r["eventing"] != true {
				t.Errorf("exception = %v, want TypeError %v", r, c.typeError)
			}
			// Nothing changed: the existing timer is still there as it was.
			if tm, ok := h.store.timer("Cb", "r"); !ok || string(tm.Context) != `"keep"` || h.store.pendingTimers() != 1 {
				t.Errorf("timers changed: %+v (found %v, %d pending)", tm, ok, h.store.pendingTimers())
			}
			wantSizeExc := uint64(0)
			if c.name == "context too big" {
				wantSizeExc = 1
			}
			h.wantStats(map[string]uint64{"timer_create_counter": 0, "timer_cancel_counter": 0,
				"timer_context_size_exception_counter": wantSizeExc, "timer_create_failure": 0})
		})
	}
}

func TestCreateTimer_ContextSizeSetting(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  try { createTimer(Cb, new Date(), meta.id, 'x'.repeat(doc.n)); } catch (e) { dst[meta.id] = e.message; }
}
function Cb() {}`
	// The limit applies to the JSON: a string of n characters takes n+2.
	h := newHarness(t, code, harnessOpts{settings: Settings{TimerContextSize: 30}})
	h.mustHandle(mutation("fits", `{"n": 28}`))
	h.mustHandle(mutation("over", `{"n": 29}`))
	if _, ok := h.store.timer("Cb", "fits"); !ok {
		t.Error("a context of exactly timer_context_size bytes was refused")
	}
	if d, ok := h.store.doc(dstKS, "over"); !ok || string(d.Body) != `"The context payload size is more than the configured size:30 bytes"` {
		t.Errorf("oversized context: %v", d)
	}
	h.wantStats(map[string]uint64{"timer_context_size_exception_counter": 1, "timer_create_counter": 1})

	// The worker's Config overrides the program's setting; bytes are
	// counted in UTF-8.
	p := mustCompile(t, code, harnessOpts{bindings: defaultBindings()})
	w, err := NewWorker(p, Config{Settings: Settings{TimerContextSize: 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st := newFakeStore()
	if err := w.Handle(context.Background(), mutation("utf8", `{"n": 0}`), st); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.timer("Cb", "utf8"); !ok {
		t.Error("small context refused")
	}
	if err := w.Handle(context.Background(), mutation("big", `{"n": 19}`), st); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.timer("Cb", "big"); ok {
		t.Error("context over the worker's timer_context_size was accepted")
	}
}

func TestCreateTimer_StoreFailure(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  try { createTimer(Cb, new Date(), 'r', null); } catch (e) { log('create', e instanceof EventingError, e.message); }
  try { cancelTimer(Cb, 'r'); } catch (e) { log('cancel', e instanceof EventingError, e.message); }
}
function Cb() {}`, harnessOpts{})
	h.store.failWith = errors.New("disk on fire")
	h.mustHandle(mutation("k", `{}`))
	lines := h.logMessages()
	if len(lines) != 2 || !strings.Contains(lines[0], `"create" true "createTimer: unable to create the timer: disk on fire"`) ||
		!strings.Contains(lines[1], `"cancel" true "cancelTimer: unable to cancel the timer: disk on fire"`) {
		t.Errorf("app log = %q", lines)
	}
	h.wantStats(map[string]uint64{"timer_create_failure": 1, "timer_create_counter": 0, "timer_cancel_counter": 0})
}

func TestCreateTimer_OutsideInvocation(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) { dst['c'] = c; }
function Cb() {}`, harnessOpts{constants: []Constant{{"c",
		`(function () { try { createTimer(Cb, new Date(), 'r', null); return 'created'; } catch (e) { return e.message; } })()`}}})
	h.mustHandle(mutation("k", `{}`))
	if d, _ := h.store.doc(dstKS, "c"); d == nil || string(d.Body) != `"createTimer can only be used while handling an event"` {
		t.Errorf("createTimer at init: %v", d)
	}
}

func TestFireTimer_ContextRoundTrip(t *testing.T) {
	cases := []struct{ name, ctx, want, typ string }{
		{"object", `{"a": 1, "b": [true, null], "c": {"d": "e"}}`, `{"a":1,"b":[true,null],"c":{"d":"e"}}`, "object"},
		{"array", `[1, "two", {"three": 3}]`, `[1,"two",{"three":3}]`, "object"},
		{"string", `"hello ✓"`, `"hello ✓"`, "string"},
		{"integer", `42`, `42`, "number"},
		{"float", `-1.5e3`, `-1500`, "number"},
		{"null", `null`, `null`, "object"},
		{"boolean", `false`, `false`, "boolean"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, timerCode, harnessOpts{})
			h.mustHandle(mutation("k", `{"ref": "r", "at": 0, "ctx": `+c.ctx+`}`))
			tm, ok := h.store.timer("Cb", "r")
			if !ok || string(tm.Context) != c.want {
				t.Fatalf("stored context = %s (found %v), want %s", tm.Context, ok, c.want)
			}
			h.mustFire(tm)
			d, ok := h.store.doc(dstKS, "fired")
			if !ok {
				t.Fatal("callback did not run")
			}
			var got struct {
				Ctx     json.RawMessage `json:"ctx"`
				Type    string          `json:"type"`
				IsArray bool            `json:"isArray"`
			}
			if err := json.Unmarshal(d.Body, &got); err != nil {
				t.Fatal(err)
			}
			if string(got.Ctx) != c.want || got.Type != c.typ || got.IsArray != (c.name == "array") {
				t.Errorf("callback saw %s", d.Body)
			}
		})
	}
	t.Run("missing context", func(t *testing.T) {
		h := newHarness(t, timerCode, harnessOpts{})
		h.mustFire(Timer{Callback: "Cb", Reference: "r"})
		wantFields(t, h.result("fired"), map[string]any{"ctx": nil, "type": "object"})
	})
}

func TestFireTimer_SuccessAndFailure(t *testing.T) {
	h := newHarness(t, "function OnUpdate(doc, meta) {}\nfunction Cb(context) {\n  if (context.fail) {\n    throw new Error('timer boom');\n  }\n  dst[context.key] = 'fired';\n}", harnessOpts{})
	h.mustFire(Timer{Callback: "Cb", Reference: "ok", Context: []byte(`{"key": "k1"}`)})
	if d, ok := h.store.doc(dstKS, "k1"); !ok || string(d.Body) != `"fired"` {
		t.Errorf("callback write = %v", d)
	}
	err := h.fire(Timer{Callback: "Cb", Reference: "bad", Context: []byte(`{"fail": true}`)})
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrException) {
		t.Fatalf("FireTimer = %v, want an exception", err)
	}
	if ie.Entry != "Cb" || ie.Key != "bad" || ie.Line != 4 || ie.Message != "Error: timer boom" {
		t.Errorf("exception = %+v", ie)
	}
	err = h.fire(Timer{Callback: "Cb", Reference: "corrupt", Context: []byte(`{"fail": `)})
	if !errors.As(err, &ie) || !strings.HasPrefix(ie.Message, "timer context is not valid JSON") {
		t.Errorf("corrupt context: %v", err)
	}
	h.wantStats(map[string]uint64{"timer_msg_counter": 3, "timer_callback_success": 1, "timer_callback_failure": 2,
		"timer_callback_missing_counter": 0, "on_update_success": 0, "timeout_count": 0})
	lines := h.logMessages()
	if len(lines) != 2 || !strings.Contains(lines[0], `[ERROR] Cb (key "bad"): uncaught exception at line 4, column 11: Error: timer boom`) {
		t.Errorf("app log = %q", lines)
	}
}

func TestFireTimer_Timeout(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function Spin(context) {
  while (true) {}
}
function Quick(context) { dst['quick'] = 1; }`, harnessOpts{settings: Settings{ExecutionTimeout: 100 * time.Millisecond}})
	err := h.fire(Timer{Callback: "Spin", Reference: "r", Context: []byte("null")})
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrTimeout) || ie.Line < 2 || ie.Line > 3 || ie.Entry != "Spin" {
		t.Fatalf("FireTimer = %+v, want a timeout in Spin", err)
	}
	h.mustFire(Timer{Callback: "Quick", Reference: "r", Context: []byte("null")})
	if _, ok := h.store.doc(dstKS, "quick"); !ok {
		t.Error("worker not reusable after a timer timeout")
	}
	h.wantStats(map[string]uint64{"timer_msg_counter": 2, "timer_callback_failure": 1, "timer_callback_success": 1, "timeout_count": 1})
}

func TestFireTimer_CallbackMissing(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function Cb(context) { dst['called'] = 1; }`, harnessOpts{})
	for _, name := range []string{"Gone", "dst", "", "__proto__"} {
		err := h.fire(Timer{Callback: name, Reference: "r", Context: []byte(`{}`)})
		if !errors.Is(err, ErrCallbackMissing) || !strings.Contains(err.Error(), `"r"`) {
			t.Errorf("FireTimer(%q) = %v, want ErrCallbackMissing", name, err)
		}
	}
	if _, ok := h.store.doc(dstKS, "called"); ok {
		t.Error("a callback ran")
	}
	h.wantStats(map[string]uint64{"timer_msg_counter": 4, "timer_callback_missing_counter": 4,
		"timer_callback_success": 0, "timer_callback_failure": 0})
	if lines := h.logLines(); len(lines) != 0 {
		t.Errorf("app log = %q", lines)
	}
}

func TestFireTimer_CreateTimerFromCallback(t *testing.T) {
	// A recurring timer: the callback re-arms itself with a new due time.
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function Tick(context) {
  var next = new Date(context.at + 60000);
  var ref = createTimer(Tick, next, 'tick', {at: next.getTime(), n: context.n + 1});
  dst['ref'] = ref;
  cancelTimer(Other, 'x');
}
function Other() {}`, harnessOpts{})
	h.mustFire(Timer{Callback: "Tick", Reference: "tick", Context: []byte(`{"at": 1000, "n": 1}`)})
	tm, ok := h.store.timer("Tick", "tick")
	if !ok || tm.Due.UnixMilli() != 61000 || string(tm.Context) != `{"at":61000,"n":2}` {
		t.Errorf("re-armed timer = %+v (found %v)", tm, ok)
	}
	h.wantStats(map[string]uint64{"timer_create_counter": 1, "timer_callback_success": 1})
}

func TestFireTimer_InvalidCalls(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function Cb() { dst['called'] = 1; }`, harnessOpts{})
	tm := Timer{Callback: "Cb", Reference: "r", Context: []byte("null")}
	if err := h.w.FireTimer(context.Background(), tm, nil); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("nil store: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.w.FireTimer(ctx, tm, h.store); !errors.Is(err, context.Canceled) {
		t.Errorf("done context: %v", err)
	}
	if _, ok := h.store.doc(dstKS, "called"); ok {
		t.Error("callback ran")
	}
	h.wantStats(map[string]uint64{"timer_msg_counter": 0, "timer_callback_failure": 0})
	h.w.Close()
	if err := h.fire(tm); !errors.Is(err, ErrWorkerClosed) {
		t.Errorf("closed worker: %v", err)
	}
}

// timerPanicStore panics on CreateTimer, as a buggy Store might.
type timerPanicStore struct{ *fakeStore }

func (timerPanicStore) CreateTimer(Timer) error { panic("timer store bug") }

func TestFireTimer_StorePanicBreaksWorker(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function Cb() { createTimer(Cb, new Date(), 'r', null); }`, harnessOpts{})
	tm := Timer{Callback: "Cb", Reference: "r", Context: []byte("null")}
	err := h.w.FireTimer(context.Background(), tm, timerPanicStore{newFakeStore()})
	if !errors.Is(err, ErrWorkerBroken) {
		t.Fatalf("FireTimer = %v, want ErrWorkerBroken", err)
	}
	if err := h.fire(tm); !errors.Is(err, ErrWorkerBroken) {
		t.Errorf("next FireTimer = %v, want ErrWorkerBroken", err)
	}
}
