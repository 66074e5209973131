package jsengine

import (
	"errors"
	"time"

	"github.com/dop251/goja"
)

// maxTimers bounds the timers one invocation may have pending.
const maxTimers = 10000

// errTooManyTimers is thrown by a set* call past maxTimers.
var errTooManyTimers = errors.New("too many pending timers")

// timerQueue holds an invocation's setTimeout, setInterval and
// setImmediate callbacks. They run only while the invocation waits for
// its handler's promise (settle): there is no event loop between
// executions, so whatever is pending when an execution ends is dropped.
type timerQueue struct {
	vm      *goja.Runtime
	pending map[int64]*timer
	nextID  int64
	seq     int64 // orders timers due at the same time by creation
}

type timer struct {
	id       int64
	seq      int64
	due      time.Time
	fn       goja.Callable
	args     []goja.Value
	interval time.Duration // > 0 for setInterval
}

// install defines setTimeout, setInterval, setImmediate and their clear
// functions. Timer ids are numbers (as in browsers; Node's Timeout
// objects have no stable shape handlers rely on).
func (q *timerQueue) install(vm *goja.Runtime) error {
	q.vm = vm
	q.pending = make(map[int64]*timer)
	set := func(repeat, immediate bool) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			fn, ok := goja.AssertFunction(call.Argument(0))
			if !ok {
				panic(vm.NewTypeError("The \"callback\" argument must be of type function"))
			}
			var delay time.Duration
			rest := call.Arguments
			if len(rest) > 0 {
				rest = rest[1:]
			}
			if !immediate {
				if ms := call.Argument(1).ToFloat(); ms > 1 { // Node treats < 1 and NaN as 1 ms
					delay = time.Duration(min(ms, 2147483647) * float64(time.Millisecond))
				} else {
					delay = time.Millisecond
				}
				if len(rest) > 0 {
					rest = rest[1:]
				}
			}
			if len(q.pending) >= maxTimers {
				panic(vm.NewGoError(errTooManyTimers))
			}
			q.nextID++
			q.seq++
			t := &timer{id: q.nextID, seq: q.seq, due: time.Now().Add(delay), fn: fn, args: append([]goja.Value(nil), rest...)}
			if repeat {
				t.interval = delay
			}
			q.pending[t.id] = t
			return vm.ToValue(t.id)
		}
	}
	clearFn := func(call goja.FunctionCall) goja.Value {
		delete(q.pending, call.Argument(0).ToInteger())
		return goja.Undefined()
	}
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"setTimeout":     set(false, false),
		"setInterval":    set(true, false),
		"setImmediate":   set(false, true),
		"clearTimeout":   clearFn,
		"clearInterval":  clearFn,
		"clearImmediate": clearFn,
	} {
		if err := vm.Set(name, fn); err != nil {
			return err
		}
	}
	return nil
}

// next returns the timer due first, nil if none is pending.
func (q *timerQueue) next() *timer {
	var first *timer
	for _, t := range q.pending {
		if first == nil || t.due.Before(first.due) || (t.due.Equal(first.due) && t.seq < first.seq) {
			first = t
		}
	}
	return first
}

// fire runs t (rescheduling an interval first, so that the callback may
// clear it). An exception is the callback's: uncaught, it fails the
// execution as it would have crashed Node's process.
func (q *timerQueue) fire(t *timer) error {
	if t.interval > 0 {
		q.seq++
		t.seq = q.seq
		t.due = time.Now().Add(t.interval)
	} else {
		delete(q.pending, t.id)
	}
	_, err := t.fn(goja.Undefined(), t.args...)
	return err
}

// reset drops every pending timer.
func (q *timerQueue) reset() { clear(q.pending) }
