package funcs

import (
	"math"
	"strings"
	"time"

	"eventide/query/value"
)

// DefaultFormat is Couchbase's default date format (RFC 3339 with milliseconds).
const DefaultFormat = "2006-01-02T15:04:05.999Z07:00"

// dateFormats are tried in order to parse a date string with no format,
// and to recognise an example format such as "1111-11-11".
var dateFormats = []string{
	"2006-01-02T15:04:05.999Z07:00",
	"2006-01-02 15:04:05.999Z07:00",
	"2006-01-02T15:04:05.999Z0700",
	"2006-01-02 15:04:05.999Z0700",
	"2006-01-02T15:04:05.999Z07",
	"2006-01-02 15:04:05.999Z07",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02 15:04:05Z07",
	"2006-01-02T15:04:05.999",
	"2006-01-02 15:04:05.999",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
	"15:04:05.999Z07:00",
	"15:04:05Z07:00",
	"15:04:05.999",
	"15:04:05",
}

// Millis bounds: Couchbase refuses dates outside years 0 to 9999.
var (
	minMillis = float64(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	maxMillis = float64(time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli())
)

// layoutOf turns a SQL++ format argument into a Go layout: a strftime-like
// format with %, a Go layout, or an example date ("1111-11-11") whose shape
// names one of the known formats.
func layoutOf(format string) string {
	if strings.Contains(format, "%") {
		return percentLayout(format)
	}
	for _, tok := range []string{"2006", "15:04", "01-02", "01/02", "Jan", "Z07", "Mon"} {
		if strings.Contains(format, tok) {
			return format
		}
	}
	for _, l := range dateFormats {
		if _, err := time.Parse(l, format); err == nil {
			return l
		}
	}
	return DefaultFormat
}

// percentCodes maps Couchbase's %-format codes to Go layout elements.
var percentCodes = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04",
	'S': "05", 'p': "PM", 'P': "pm", 'b': "Jan", 'B': "January", 'a': "Mon",
	'A': "Monday", 'Z': "MST", 'z': "-0700", 'j': "002", 'N': "000000000", 'n': "000",
	'F': DefaultFormat, 'D': "2006-01-02", 'x': "2006-01-02", 'T': "15:04:05",
	'X': "15:04:05", 'R': "15:04", 'r': "03:04:05 PM", '%': "%",
}

// unpadded holds the codes the '-' (no padding) and '_' (space padding)
// modifiers change.
var (
	unpadded    = map[byte]string{'d': "2", 'm': "1", 'I': "3"}
	spacePadded = map[byte]string{'d': "_2", 'j': "__2"}
)

func percentLayout(format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		mod := byte(0)
		if (format[i] == '-' || format[i] == '_' || format[i] == '0') && i+1 < len(format) {
			mod = format[i]
			i++
		}
		code := format[i]
		if l, ok := unpadded[code]; ok && mod == '-' {
			b.WriteString(l)
		} else if l, ok := spacePadded[code]; ok && mod == '_' {
			b.WriteString(l)
		} else if l, ok := percentCodes[code]; ok {
			b.WriteString(l)
		} else {
			b.WriteString(format[i-1 : i+1])
		}
	}
	return b.String()
}

// parseDate parses s with the given layout, or with every known format
// when layout is empty; a date without zone is in loc. It returns the
// layout that matched, so results keep the input's format.
func parseDate(s, layout string, loc *time.Location) (time.Time, string, bool) {
	s = strings.TrimSpace(s)
	if layout != "" {
		t, err := time.ParseInLocation(layout, s, loc)
		return t, layout, err == nil
	}
	for _, l := range dateFormats {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, l, true
		}
	}
	return time.Time{}, "", false
}

// millisArg reads epoch milliseconds within years 0 to 9999.
func millisArg(v value.Value, loc *time.Location) (time.Time, bool) {
	f, ok := v.Float()
	if !ok || !(f >= minMillis && f <= maxMillis) {
		return time.Time{}, false
	}
	return millisToTime(f, loc), true
}

func millisToTime(ms float64, loc *time.Location) time.Time {
	sec := math.Floor(ms / 1000)
	ns := (ms - sec*1000) * 1e6
	return time.Unix(int64(sec), int64(math.Round(ns))).In(loc)
}

func timeToMillis(t time.Time) value.Value {
	ms := float64(t.UnixNano()) / 1e6
	if t.Nanosecond()%1e6 == 0 {
		return value.NewInt(t.UnixMilli())
	}
	return value.NewFloat(ms)
}

func formatTime(t time.Time, layout string) value.Value {
	return value.NewString(t.Format(layout))
}

// fmtArg returns the layout of optional format argument i (default when absent).
func fmtArg(a []value.Value, i int) string {
	if len(a) > i {
		return layoutOf(str(a[i]))
	}
	return DefaultFormat
}

func init() {
	register("now_millis", 0, 0, func(ctx *Context, _ []value.Value) (value.Value, error) {
		return value.NewFloat(float64(ctx.now().UnixNano()) / 1e6), nil
	})
	clockMillis := register("clock_millis", 0, 0, func(_ *Context, _ []value.Value) (value.Value, error) {
		return value.NewFloat(float64(time.Now().UnixNano()) / 1e6), nil
	})
	clockMillis.Volatile = true

	// nowIn builds NOW_STR/NOW_UTC style functions: at the statement's
	// instant (or the wall clock for CLOCK_*), in a zone, with an optional format.
	nowIn := func(clock bool, utc bool) func(*Context, []value.Value) (value.Value, error) {
		return func(ctx *Context, a []value.Value) (value.Value, error) {
			if r, ok := typed(a, value.String); !ok && len(a) > 0 {
				return r, nil
			}
			t := ctx.now()
			if clock {
				t = time.Now()
			}
			loc := ctx.loc()
			if utc {
				loc = time.UTC
			}
			return formatTime(t.In(loc), fmtArg(a, 0)), nil
		}
	}
	register("now_str", 0, 1, nowIn(false, false), "now_local")
	register("now_utc", 0, 1, nowIn(false, true))
	register("clock_str", 0, 1, nowIn(true, false), "clock_local").Volatile = true
	register("clock_utc", 0, 1, nowIn(true, true)).Volatile = true
	tzNow := func(clock bool) func(*Context, []value.Value) (value.Value, error) {
		return func(ctx *Context, a []value.Value) (value.Value, error) {
			if r, ok := typed(a, value.String); !ok {
				return r, nil
			}
			loc, err := time.LoadLocation(str(a[0]))
			if err != nil {
				return value.NullValue, nil
			}
			t := ctx.now()
			if clock {
				t = time.Now()
			}
			return formatTime(t.In(loc), fmtArg(a, 1)), nil
		}
	}
	register("now_tz", 1, 2, tzNow(false))
	register("clock_tz", 1, 2, tzNow(true)).Volatile = true

	register("millis_to_str", 1, 2, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.Number, value.String); !ok {
			return r, nil
		}
		t, ok := millisArg(a[0], ctx.loc())
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(t, fmtArg(a, 1)), nil
	}, "millis_to_local")
	register("millis_to_utc", 1, 2, func(_ *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.Number, value.String); !ok {
			return r, nil
		}
		t, ok := millisArg(a[0], time.UTC)
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(t, fmtArg(a, 1)), nil
	})
	register("millis_to_tz", 2, 3, func(_ *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.Number, value.String); !ok {
			return r, nil
		}
		loc, err := time.LoadLocation(str(a[1]))
		if err != nil {
			return value.NullValue, nil
		}
		t, ok := millisArg(a[0], loc)
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(t, fmtArg(a, 2)), nil
	}, "millis_to_zone_name")
	register("str_to_millis", 1, 2, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.String); !ok {
			return r, nil
		}
		t, ok := strArg(ctx, a, 1)
		if !ok {
			return value.NullValue, nil
		}
		return timeToMillis(t), nil
	}, "millis")
	register("str_to_utc", 1, 2, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.String); !ok {
			return r, nil
		}
		t, layout, ok := parseStr(ctx, a, 1)
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(t.UTC(), layout), nil
	})
	register("str_to_tz", 2, 3, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.String); !ok {
			return r, nil
		}
		loc, err := time.LoadLocation(str(a[1]))
		if err != nil {
			return value.NullValue, nil
		}
		t, layout, ok := parseStr(ctx, a, 2)
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(t.In(loc), layout), nil
	}, "str_to_zone_name")
	register("date_format_str", 2, 3, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.String); !ok {
			return r, nil
		}
		var in string
		if len(a) == 3 {
			in = layoutOf(str(a[2]))
		}
		t, _, ok := parseDate(str(a[0]), in, ctx.loc())
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(t, layoutOf(str(a[1]))), nil
	})

	register("date_add_str", 3, 3, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.String, value.Number, value.String); !ok {
			return r, nil
		}
		t, layout, ok := parseDate(str(a[0]), "", ctx.loc())
		n, okN := intArg(a[1])
		if !ok || !okN {
			return value.NullValue, nil
		}
		res, ok := dateAdd(t, n, str(a[2]))
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(res, layout), nil
	})
	register("date_add_millis", 3, 3, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.Number, value.Number, value.String); !ok {
			return r, nil
		}
		n, okN := intArg(a[1])
		if !okN {
			return value.NullValue, nil
		}
		t, okT := millisArg(a[0], ctx.loc())
		if !okT {
			return value.NullValue, nil
		}
		res, ok := dateAdd(t, n, str(a[2]))
		if !ok {
			return value.NullValue, nil
		}
		return timeToMillis(res), nil
	})
	diff := func(millis, abs bool) func(*Context, []value.Value) (value.Value, error) {
		kind := value.String
		if millis {
			kind = value.Number
		}
		return func(ctx *Context, a []value.Value) (value.Value, error) {
			if r, ok := typed(a, kind, kind, value.String); !ok {
				return r, nil
			}
			t1, ok1 := timeArg(ctx, a[0])
			t2, ok2 := timeArg(ctx, a[1])
			if !ok1 || !ok2 {
				return value.NullValue, nil
			}
			d, ok := dateDiff(t1, t2, str(a[2]))
			if !ok {
				return value.NullValue, nil
			}
			if abs && d < 0 {
				d = -d
			}
			return value.NewInt(d), nil
		}
	}
	register("date_diff_str", 3, 3, diff(false, false))
	register("date_diff_millis", 3, 3, diff(true, false))
	register("date_diff_abs_str", 3, 3, diff(false, true))
	register("date_diff_abs_millis", 3, 3, diff(true, true))
	register("date_part_str", 2, 2, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.String); !ok {
			return r, nil
		}
		t, ok := timeArg(ctx, a[0])
		if !ok {
			return value.NullValue, nil
		}
		return datePartValue(t, str(a[1])), nil
	})
	register("date_part_millis", 2, 3, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.Number, value.String); !ok {
			return r, nil
		}
		loc := ctx.loc()
		if len(a) == 3 {
			l, err := time.LoadLocation(str(a[2]))
			if err != nil {
				return value.NullValue, nil
			}
			loc = l
		}
		t, ok := millisArg(a[0], loc)
		if !ok {
			return value.NullValue, nil
		}
		return datePartValue(t, str(a[1])), nil
	})
	register("date_trunc_str", 2, 2, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.String); !ok {
			return r, nil
		}
		t, layout, ok := parseDate(str(a[0]), "", ctx.loc())
		if !ok {
			return value.NullValue, nil
		}
		res, ok := dateTrunc(t, str(a[1]))
		if !ok {
			return value.NullValue, nil
		}
		return formatTime(res, layout), nil
	})
	register("date_trunc_millis", 2, 2, func(ctx *Context, a []value.Value) (value.Value, error) {
		if r, ok := typed(a, value.Number, value.String); !ok {
			return r, nil
		}
		t, okT := millisArg(a[0], ctx.loc())
		if !okT {
			return value.NullValue, nil
		}
		res, ok := dateTrunc(t, str(a[1]))
		if !ok {
			return value.NullValue, nil
		}
		return timeToMillis(res), nil
	})
	weekday := func(millis bool) func(*Context, []value.Value) (value.Value, error) {
		kind := value.String
		if millis {
			kind = value.Number
		}
		return func(ctx *Context, a []value.Value) (value.Value, error) {
			if r, ok := typed(a, kind, value.String); !ok {
				return r, nil
			}
			t, ok := timeArg(ctx, a[0])
			if !ok {
				return value.NullValue, nil
			}
			if len(a) == 2 {
				loc, err := time.LoadLocation(str(a[1]))
				if err != nil {
					return value.NullValue, nil
				}
				t = t.In(loc)
			}
			return value.NewString(t.Weekday().String()), nil
		}
	}
	register("weekday_str", 1, 1, weekday(false))
	register("weekday_millis", 1, 2, weekday(true))
	register("duration_to_str", 1, 1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.Number); !ok {
			return r
		}
		return value.NewString(time.Duration(num(a[0])).String())
	}))
	register("str_to_duration", 1, 1, pure(func(a []value.Value) value.Value {
		if r, ok := typed(a, value.String); !ok {
			return r
		}
		d, err := time.ParseDuration(str(a[0]))
		if err != nil {
			return value.NullValue
		}
		return value.NewInt(int64(d))
	}))
}

// strArg parses a date string argument with the optional format at index i.
func strArg(ctx *Context, a []value.Value, i int) (time.Time, bool) {
	t, _, ok := parseStr(ctx, a, i)
	return t, ok
}

func parseStr(ctx *Context, a []value.Value, i int) (time.Time, string, bool) {
	layout := ""
	if len(a) > i {
		if a[i].Kind() != value.String {
			return time.Time{}, "", false
		}
		layout = layoutOf(str(a[i]))
	}
	return parseDate(str(a[0]), layout, ctx.loc())
}

// timeArg reads a date given as a string or as epoch milliseconds.
func timeArg(ctx *Context, v value.Value) (time.Time, bool) {
	if s, ok := v.Str(); ok {
		t, _, ok := parseDate(s, "", ctx.loc())
		return t, ok
	}
	return millisArg(v, ctx.loc())
}

func datePartValue(t time.Time, part string) value.Value {
	var n int
	switch strings.ToLower(part) {
	case "millennium":
		n = t.Year()/1000 + 1
	case "century":
		n = t.Year()/100 + 1
	case "decade":
		n = t.Year() / 10
	case "year":
		n = t.Year()
	case "quarter":
		n = (int(t.Month()) + 2) / 3
	case "month", "calendar_month":
		n = int(t.Month())
	case "day":
		n = t.Day()
	case "hour":
		n = t.Hour()
	case "minute":
		n = t.Minute()
	case "second":
		n = t.Second()
	case "millisecond":
		n = t.Nanosecond() / 1e6
	case "week":
		n = int(math.Ceil(float64(t.YearDay()) / 7))
	case "day_of_year", "doy":
		n = t.YearDay()
	case "day_of_week", "dow":
		n = int(t.Weekday())
	case "iso_week":
		_, n = t.ISOWeek()
	case "iso_year":
		n, _ = t.ISOWeek()
	case "iso_dow":
		if n = int(t.Weekday()); n == 0 {
			n = 7
		}
	case "timezone":
		_, n = t.Zone()
	case "timezone_hour":
		_, z := t.Zone()
		n = z / 3600
	case "timezone_minute":
		_, z := t.Zone()
		n = (z % 3600) / 60
	default:
		return value.NullValue
	}
	return value.NewInt(int64(n))
}

// dateAdd adds n parts; calendar_month keeps month ends at month ends.
func dateAdd(t time.Time, n int, part string) (time.Time, bool) {
	var res time.Time
	switch strings.ToLower(part) {
	case "millennium":
		res = t.AddDate(n*1000, 0, 0)
	case "century":
		res = t.AddDate(n*100, 0, 0)
	case "decade":
		res = t.AddDate(n*10, 0, 0)
	case "year":
		res = t.AddDate(n, 0, 0)
	case "quarter":
		res = t.AddDate(0, n*3, 0)
	case "month":
		res = t.AddDate(0, n, 0)
	case "calendar_month":
		y, m, d := t.Date()
		last := d == daysIn(y, m)
		first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
		ny, nm, _ := first.Date()
		nd := min(d, daysIn(ny, nm))
		if last {
			nd = daysIn(ny, nm)
		}
		res = time.Date(ny, nm, nd, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	case "week":
		res = t.AddDate(0, 0, n*7)
	case "day":
		res = t.AddDate(0, 0, n)
	case "hour", "minute", "second", "millisecond":
		units := map[string]time.Duration{"hour": time.Hour, "minute": time.Minute, "second": time.Second, "millisecond": time.Millisecond}
		u := units[strings.ToLower(part)]
		// Beyond about 10,000 years the Duration would overflow.
		if math.Abs(float64(n)*float64(u)) > 3.2e17 {
			return t, false
		}
		res = t.Add(time.Duration(n) * u)
	default:
		return t, false
	}
	ms := float64(res.UnixMilli())
	return res, ms >= minMillis && ms <= maxMillis
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dateTrunc truncates to the start of the part, in t's zone.
func dateTrunc(t time.Time, part string) (time.Time, bool) {
	y, m, d := t.Date()
	loc := t.Location()
	switch strings.ToLower(part) {
	case "millennium":
		return time.Date(y-y%1000, 1, 1, 0, 0, 0, 0, loc), true
	case "century":
		return time.Date(y-y%100, 1, 1, 0, 0, 0, 0, loc), true
	case "decade":
		return time.Date(y-y%10, 1, 1, 0, 0, 0, 0, loc), true
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), true
	case "quarter":
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc), true
	case "month", "calendar_month":
		return time.Date(y, m, 1, 0, 0, 0, 0, loc), true
	case "week":
		return time.Date(y, m, d-int(t.Weekday()), 0, 0, 0, 0, loc), true
	case "iso_week":
		wd := (int(t.Weekday()) + 6) % 7
		return time.Date(y, m, d-wd, 0, 0, 0, 0, loc), true
	case "day":
		return time.Date(y, m, d, 0, 0, 0, 0, loc), true
	case "hour":
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc), true
	case "minute":
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, loc), true
	case "second":
		return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc), true
	case "millisecond":
		return t.Truncate(time.Millisecond), true
	}
	return t, false
}

// dateDiff is t1 - t2 in whole parts, counted as Couchbase does: from the
// difference of calendar fields (years, day of year, clock), not of elapsed
// 24-hour days.
func dateDiff(t1, t2 time.Time, part string) (int64, bool) {
	sign := int64(1)
	if t1.Before(t2) {
		t1, t2 = t2, t1
		sign = -1
	}
	years := int64(t1.Year() - t2.Year())
	days := years*365 + int64(t1.YearDay()-t2.YearDay())
	if years != 0 {
		days += int64(leapYearsBefore(t1.Year()) - leapYearsBefore(t2.Year()))
	}
	h1, m1, s1 := t1.Clock()
	h2, m2, s2 := t2.Clock()
	hours := days*24 + int64(h1-h2)
	minutes := hours*60 + int64(m1-m2)
	seconds := minutes*60 + int64(s1-s2)
	millis := seconds*1000 + int64(t1.Nanosecond()/1e6-t2.Nanosecond()/1e6)
	quarter := func(t time.Time) int64 { return int64(t.Year())*4 + int64((int(t.Month())+2)/3) }
	var d int64
	switch strings.ToLower(part) {
	case "millisecond":
		d = millis
	case "second":
		d = seconds
	case "minute":
		d = minutes
	case "hour":
		d = hours
	case "day":
		d = days
	case "week":
		d = days / 7
	case "month", "calendar_month":
		d = (int64(t1.Year())*12 + int64(t1.Month())) - (int64(t2.Year())*12 + int64(t2.Month()))
	case "quarter":
		d = quarter(t1) - quarter(t2)
	case "year":
		d = years
	case "decade":
		d = years / 10
	case "century":
		d = years / 100
	case "millennium":
		d = years / 1000
	default:
		return 0, false
	}
	return d * sign, true
}

func leapYearsBefore(y int) int {
	if y > 0 {
		y--
	} else {
		y++
	}
	return y/4 - y/100 + y/400
}

// maxDateRange bounds DATE_RANGE_* results.
const maxDateRange = 100000

// dateRange lists dates from start (inclusive) towards end (exclusive) in
// steps of n parts. A default step counts down when start is after end; a
// step pointing away from end gives an empty list; step 0 gives [start].
func dateRange(t1, t2 time.Time, part string, n int, defaultStep bool) ([]time.Time, bool) {
	if n == 0 {
		return []time.Time{t1}, true
	}
	if t1.Equal(t2) {
		return nil, true
	}
	if t1.After(t2) && defaultStep {
		n = -n
	}
	if (n > 0) != t1.Before(t2) {
		return nil, true
	}
	// Couchbase adds each step to the previous date (2020-01-31 + 1 month
	// is 2020-03-02, then 2020-04-02); only calendar_month counts from
	// the start, to keep the day of month.
	fromStart := strings.EqualFold(part, "calendar_month")
	var out []time.Time
	t := t1
	for i := 0; ; i++ {
		var ok bool
		switch {
		case i == 0:
			t, ok = dateAdd(t1, 0, part)
		case fromStart:
			t, ok = dateAdd(t1, i*n, part)
		default:
			t, ok = dateAdd(t, n, part)
		}
		if !ok && i > 0 {
			// a valid end date lies before a step out of range
			return out, true
		}
		if !ok || i > maxDateRange {
			return nil, false
		}
		if (n > 0 && !t.Before(t2)) || (n < 0 && !t.After(t2)) {
			return out, true
		}
		out = append(out, t)
	}
}

func init() {
	rangeFn := func(millis bool) func(*Context, []value.Value) (value.Value, error) {
		kind := value.String
		if millis {
			kind = value.Number
		}
		return func(ctx *Context, a []value.Value) (value.Value, error) {
			if r, ok := typed(a, kind, kind, value.String, value.Number); !ok {
				return r, nil
			}
			var t1, t2 time.Time
			var layout string
			var ok1, ok2 bool
			if millis {
				t1, ok1 = millisArg(a[0], ctx.loc())
				t2, ok2 = millisArg(a[1], ctx.loc())
			} else {
				t1, layout, ok1 = parseDate(str(a[0]), "", ctx.loc())
				t2, _, ok2 = parseDate(str(a[1]), "", ctx.loc())
			}
			n, okN := 1, true
			if len(a) == 4 {
				n, okN = intArg(a[3])
			}
			if !ok1 || !ok2 || !okN {
				return value.NullValue, nil
			}
			ts, ok := dateRange(t1, t2, str(a[2]), n, len(a) < 4)
			if !ok {
				return value.NullValue, nil
			}
			out := make([]value.Value, len(ts))
			for i, t := range ts {
				if millis {
					out[i] = timeToMillis(t)
				} else {
					out[i] = formatTime(t, layout)
				}
			}
			return value.NewArray(out), nil
		}
	}
	register("date_range_str", 3, 4, rangeFn(false))
	register("date_range_millis", 3, 4, rangeFn(true))
}
