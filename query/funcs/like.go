package funcs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"eventide/query/value"
)

// ErrLikePattern is wrapped for a LIKE pattern that ends in its escape character.
var ErrLikePattern = errors.New("funcs: invalid LIKE pattern")

// Like is a compiled LIKE pattern: % matches any run of characters, _ any
// one character, and the escape character (backslash by default) makes the
// next character literal.
type Like struct {
	re *regexp.Regexp
}

// CompileLike compiles a LIKE pattern with the given escape character.
func CompileLike(pattern string, escape rune) (*Like, error) {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	lit := strings.Builder{}
	flush := func() {
		b.WriteString(regexp.QuoteMeta(lit.String()))
		lit.Reset()
	}
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		switch {
		case r == escape:
			if i >= len(pattern) {
				return nil, fmt.Errorf("%w: %q ends with the escape character", ErrLikePattern, pattern)
			}
			r2, size2 := utf8.DecodeRuneInString(pattern[i:])
			i += size2
			lit.WriteRune(r2)
		case r == '%':
			flush()
			b.WriteString(`.*`)
		case r == '_':
			flush()
			b.WriteString(`.`)
		default:
			lit.WriteRune(r)
		}
	}
	flush()
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLikePattern, err)
	}
	return &Like{re: re}, nil
}

// Match reports whether s matches the whole pattern.
func (l *Like) Match(s string) bool { return l.re.MatchString(s) }

// EvalLike is the LIKE operator: MISSING if either side is MISSING, NULL if
// either is not a string (or the pattern is invalid), else the match.
func EvalLike(s, pattern value.Value, escape rune) value.Value {
	if r, ok := typed([]value.Value{s, pattern}, value.String); !ok {
		return r
	}
	l, err := cachedLike(str(pattern), escape)
	if err != nil {
		return value.NullValue
	}
	return value.NewBool(l.Match(str(s)))
}

type likeKey struct {
	pattern string
	escape  rune
}

// Compiled patterns are cached, bounded so that distinct patterns from
// documents cannot grow memory without end.
const maxCached = 512

var (
	cacheMu   sync.Mutex
	likeCache = map[likeKey]*Like{}
	reCache   = map[string]*regexp.Regexp{}
)

func cachedLike(pattern string, escape rune) (*Like, error) {
	k := likeKey{pattern, escape}
	cacheMu.Lock()
	l, ok := likeCache[k]
	cacheMu.Unlock()
	if ok {
		return l, nil
	}
	l, err := CompileLike(pattern, escape)
	if err != nil {
		return nil, err
	}
	cacheMu.Lock()
	if len(likeCache) >= maxCached {
		clear(likeCache)
	}
	likeCache[k] = l
	cacheMu.Unlock()
	return l, nil
}

func cachedRegexp(pattern string) (*regexp.Regexp, error) {
	cacheMu.Lock()
	re, ok := reCache[pattern]
	cacheMu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	cacheMu.Lock()
	if len(reCache) >= maxCached {
		clear(reCache)
	}
	reCache[pattern] = re
	cacheMu.Unlock()
	return re, nil
}

func init() {
	// regexp2 applies the general rule, then compiles the pattern; a bad
	// pattern is an error, as in Couchbase (the statement fails).
	regexp2 := func(fn func(s string, re *regexp.Regexp, rest []value.Value) value.Value, kinds ...value.Kind) func(*Context, []value.Value) (value.Value, error) {
		return func(_ *Context, a []value.Value) (value.Value, error) {
			if r, ok := typed(a, kinds...); !ok {
				return r, nil
			}
			re, err := cachedRegexp(str(a[1]))
			if err != nil {
				return value.MissingValue, fmt.Errorf("%w: %v", ErrPattern, err)
			}
			return fn(str(a[0]), re, a[2:]), nil
		}
	}
	register("regexp_contains", 2, 2, regexp2(func(s string, re *regexp.Regexp, _ []value.Value) value.Value {
		return value.NewBool(re.MatchString(s))
	}, value.String), "regex_contains", "contains_regex", "contains_regexp")
	register("regexp_like", 2, 2, regexp2(func(s string, re *regexp.Regexp, _ []value.Value) value.Value {
		loc := re.FindStringIndex(s)
		if loc != nil && loc[0] == 0 && loc[1] == len(s) {
			return value.TrueValue
		}
		// The leftmost match may be shorter than the whole string; anchor.
		full, err := cachedRegexp(`\A(?:` + re.String() + `)\z`)
		return value.NewBool(err == nil && full.MatchString(s))
	}, value.String), "regex_like")
	regexpPos := func(start int) func(string, *regexp.Regexp, []value.Value) value.Value {
		return func(s string, re *regexp.Regexp, _ []value.Value) value.Value {
			loc := re.FindStringIndex(s)
			if loc == nil {
				return value.NewInt(int64(start - 1))
			}
			return value.NewInt(int64(loc[0] + start))
		}
	}
	register("regexp_position", 2, 2, regexp2(regexpPos(0), value.String), "regexp_pos", "regexp_position0", "regexp_pos0", "regex_position", "regex_pos", "regex_position0", "regex_pos0")
	register("regexp_position1", 2, 2, regexp2(regexpPos(1), value.String), "regexp_pos1", "regex_position1", "regex_pos1")
	register("regexp_replace", 3, 4, regexp2(func(s string, re *regexp.Regexp, rest []value.Value) value.Value {
		n := -1
		if len(rest) == 2 {
			var ok bool
			if n, ok = intArg(rest[1]); !ok {
				return value.NullValue
			}
			if n == 0 {
				return value.NewString(s)
			}
		}
		var out []byte
		last := 0
		for _, m := range re.FindAllStringSubmatchIndex(s, n) {
			out = append(out, s[last:m[0]]...)
			out = re.ExpandString(out, str(rest[0]), s, m)
			last = m[1]
		}
		return value.NewString(string(append(out, s[last:]...)))
	}, value.String, value.String, value.String, value.Number), "regex_replace")
	register("regexp_matches", 2, 2, regexp2(func(s string, re *regexp.Regexp, _ []value.Value) value.Value {
		ms := re.FindAllString(s, -1)
		out := make([]value.Value, len(ms))
		for i, m := range ms {
			out[i] = value.NewString(m)
		}
		return value.NewArray(out)
	}, value.String))
	register("regexp_split", 2, 2, regexp2(func(s string, re *regexp.Regexp, _ []value.Value) value.Value {
		ps := re.Split(s, -1)
		out := make([]value.Value, len(ps))
		for i, p := range ps {
			out[i] = value.NewString(p)
		}
		return value.NewArray(out)
	}, value.String))
	register("like", 2, 3, pure(func(a []value.Value) value.Value {
		esc := '\\'
		if len(a) == 3 {
			if r, ok := typed(a[2:], value.String); !ok {
				return r
			}
			e := str(a[2])
			if utf8.RuneCountInString(e) != 1 {
				return value.NullValue
			}
			esc, _ = utf8.DecodeRuneInString(e)
		}
		return EvalLike(a[0], a[1], esc)
	}))
}
