package funcs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"eventide/query/value"
)

// Errors returned by Call.
var (
	// ErrArity is wrapped when a call has too few or too many arguments.
	ErrArity = errors.New("funcs: wrong number of arguments")
	// ErrPattern is wrapped when a REGEXP_* pattern does not compile.
	ErrPattern = errors.New("invalid regular expression")
)

// Context is what a function may need from the statement running it.
// One Context serves one statement; it is not safe for concurrent use by
// several goroutines when RANDOM() without a seed is called (give each
// worker its own, with the same Now).
type Context struct {
	// Now is the statement's instant: NOW_* return it for the whole statement.
	Now time.Time
	// Location is the default time zone of date functions; nil means UTC.
	Location *time.Location
	// Rand is the source of RANDOM() and UUID; nil means a shared source.
	Rand *rand.Rand
}

// NewContext returns a Context for a statement starting at now, in UTC.
func NewContext(now time.Time) *Context {
	return &Context{Now: now, Location: time.UTC}
}

func (c *Context) loc() *time.Location {
	if c == nil || c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c *Context) now() time.Time {
	if c == nil || c.Now.IsZero() {
		return time.Now()
	}
	return c.Now
}

func (c *Context) float() float64 {
	if c != nil && c.Rand != nil {
		return c.Rand.Float64()
	}
	return rand.Float64()
}

// Func is one built-in function.
type Func struct {
	// Name is the canonical lower-case name (aliases resolve to it).
	Name string
	// MinArgs and MaxArgs bound the argument count; MaxArgs -1 is variadic.
	MinArgs, MaxArgs int
	// Volatile functions may give different results for the same arguments
	// within one statement (CLOCK_*, RANDOM() without seed, UUID): a planner
	// must not fold them into constants.
	Volatile bool
	impl     func(ctx *Context, args []value.Value) (value.Value, error)
}

// CheckArity reports whether n arguments suit f, with an error naming f.
func (f *Func) CheckArity(n int) error {
	if n < f.MinArgs || (f.MaxArgs >= 0 && n > f.MaxArgs) {
		switch {
		case f.MaxArgs < 0:
			return fmt.Errorf("%w: %s() takes at least %d, got %d", ErrArity, strings.ToUpper(f.Name), f.MinArgs, n)
		case f.MinArgs == f.MaxArgs:
			return fmt.Errorf("%w: %s() takes %d, got %d", ErrArity, strings.ToUpper(f.Name), f.MinArgs, n)
		default:
			return fmt.Errorf("%w: %s() takes %d to %d, got %d", ErrArity, strings.ToUpper(f.Name), f.MinArgs, f.MaxArgs, n)
		}
	}
	return nil
}

// Call runs f on evaluated arguments. Only a wrong argument count and a
// REGEXP_* pattern that does not compile are errors; other bad values
// give NULL or MISSING as in Couchbase.
func (f *Func) Call(ctx *Context, args []value.Value) (value.Value, error) {
	if err := f.CheckArity(len(args)); err != nil {
		return value.MissingValue, err
	}
	return f.impl(ctx, args)
}

var registry = map[string]*Func{}

// register adds a function under its name and aliases; called from init.
func register(name string, min, max int, impl func(*Context, []value.Value) (value.Value, error), aliases ...string) *Func {
	f := &Func{Name: name, MinArgs: min, MaxArgs: max, impl: impl}
	for _, n := range append([]string{name}, aliases...) {
		if _, dup := registry[n]; dup {
			panic("funcs: duplicate function " + n)
		}
		registry[n] = f
	}
	return f
}

// Lookup finds a function by name or alias, case-insensitively.
func Lookup(name string) (*Func, bool) {
	f, ok := registry[strings.ToLower(name)]
	return f, ok
}

// Names lists every name and alias, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// pure adapts a function that needs no context and cannot fail.
func pure(fn func(args []value.Value) value.Value) func(*Context, []value.Value) (value.Value, error) {
	return func(_ *Context, args []value.Value) (value.Value, error) { return fn(args), nil }
}

// unknown applies the general rule to args: MISSING if any is MISSING,
// else NULL if any is NULL. ok is false when the result is decided.
func unknown(args []value.Value) (value.Value, bool) {
	null := false
	for _, a := range args {
		switch a.Kind() {
		case value.Missing:
			return value.MissingValue, false
		case value.Null:
			null = true
		}
	}
	if null {
		return value.NullValue, false
	}
	return value.Value{}, true
}

// typed checks the general rule and that every argument has its kind
// (kinds shorter than args repeat the last kind).
func typed(args []value.Value, kinds ...value.Kind) (value.Value, bool) {
	if r, ok := unknown(args); !ok {
		return r, false
	}
	for i, a := range args {
		k := kinds[len(kinds)-1]
		if i < len(kinds) {
			k = kinds[i]
		}
		if a.Kind() != k {
			return value.NullValue, false
		}
	}
	return value.Value{}, true
}

// intArg returns an integral number argument.
func intArg(v value.Value) (int, bool) {
	i, ok := v.Int()
	if !ok || i > 1<<31 || i < -(1<<31) {
		return 0, false
	}
	return int(i), true
}

func str(v value.Value) string { s, _ := v.Str(); return s }

func num(v value.Value) float64 { f, _ := v.Float(); return f }

func elems(v value.Value) []value.Value { e, _ := v.Elems(); return e }
