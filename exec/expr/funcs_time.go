package expr

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone IDs must resolve the same on every host

	"github.com/apache/arrow/go/v17/arrow"
)

// Date and time functions. Java DateTimeFormatter / SimpleDateFormat
// patterns are translated to Go layouts by javaLayout. Supported letters:
//
//	y yy yyyy (year), M MM MMM MMMM (month), d dd (day), D DDD (day of year),
//	H HH (hour 0-23), h hh (hour 1-12), m mm, s ss, S.. (fraction, after a
//	'.' or ','), a (AM/PM), E EEE EEEE (weekday), z (zone abbreviation),
//	Z (+0000), X XX XXX (Z or offset), '...' quoted literals, '' a quote.
//
// Other letters (week-based years, era, zone IDs VV) are rejected with an
// error, which makes the row NULL. Unpadded H formats padded (Go has no
// unpadded 24-hour verb).

var layoutCache sync.Map // java pattern -> layout or error

func javaLayout(p string) (string, error) {
	if v, ok := layoutCache.Load(p); ok {
		if err, isErr := v.(error); isErr {
			return "", err
		}
		return v.(string), nil
	}
	l, err := translateJava(p)
	if err != nil {
		layoutCache.Store(p, err)
		return "", err
	}
	layoutCache.Store(p, l)
	return l, nil
}

func translateJava(p string) (string, error) {
	var b strings.Builder
	rs := []rune(p)
	for i := 0; i < len(rs); {
		c := rs[i]
		if c == '\'' {
			j := i + 1
			if j < len(rs) && rs[j] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			lit := string(rs[i+1 : j])
			if strings.ContainsAny(lit, "0123456789") || containsLayoutWord(lit) {
				return "", fmt.Errorf("unsupported literal %q in date pattern %q", lit, p)
			}
			b.WriteString(lit)
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			if c >= '0' && c <= '9' {
				return "", fmt.Errorf("unsupported digit in date pattern %q", p)
			}
			b.WriteRune(c)
			i++
			continue
		}
		n := 1
		for i+n < len(rs) && rs[i+n] == c {
			n++
		}
		var tok string
		switch c {
		case 'y', 'u':
			if n == 2 {
				tok = "06"
			} else {
				tok = "2006"
			}
		case 'M', 'L':
			tok = map[int]string{1: "1", 2: "01", 3: "Jan"}[min(n, 3)]
			if n >= 4 {
				tok = "January"
			}
		case 'd':
			tok = map[bool]string{true: "2", false: "02"}[n == 1]
		case 'D':
			tok = "002"
		case 'H', 'k':
			tok = "15"
		case 'h', 'K':
			tok = map[bool]string{true: "3", false: "03"}[n == 1]
		case 'm':
			tok = map[bool]string{true: "4", false: "04"}[n == 1]
		case 's':
			tok = map[bool]string{true: "5", false: "05"}[n == 1]
		case 'S':
			s := b.String()
			if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ",") {
				return "", fmt.Errorf("fraction of second must follow '.' or ',' in date pattern %q", p)
			}
			tok = strings.Repeat("0", min(n, 9))
		case 'a':
			tok = "PM"
		case 'E':
			tok = map[bool]string{true: "Monday", false: "Mon"}[n >= 4]
		case 'z':
			tok = "MST"
		case 'Z':
			tok = "-0700"
		case 'X':
			tok = map[int]string{1: "Z07", 2: "Z0700", 3: "Z07:00"}[min(n, 3)]
		case 'x':
			tok = map[int]string{1: "-07", 2: "-0700", 3: "-07:00"}[min(n, 3)]
		default:
			return "", fmt.Errorf("unsupported letter '%c' in date pattern %q", c, p)
		}
		b.WriteString(tok)
		i += n
	}
	return b.String(), nil
}

// containsLayoutWord reports literal text Go would read as a layout element.
func containsLayoutWord(s string) bool {
	for _, w := range []string{"Jan", "Mon", "MST", "PM", "pm", "January", "Monday"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

var zoneCache sync.Map

// zoneOf resolves a Java ZoneId: region IDs, UTC/GMT, and offsets such as
// +02:00, GMT+2 or UTC-05:30.
func zoneOf(id string) (*time.Location, error) {
	if l, ok := zoneCache.Load(id); ok {
		return l.(*time.Location), nil
	}
	t := strings.TrimSpace(id)
	var loc *time.Location
	rest := t
	for _, p := range []string{"UTC", "GMT", "UT"} {
		if strings.HasPrefix(t, p) && len(t) > len(p) && (t[len(p)] == '+' || t[len(p)] == '-') {
			rest = t[len(p):]
		}
	}
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		digits := strings.ReplaceAll(rest[1:], ":", "")
		if len(digits) == 1 {
			digits = "0" + digits
		}
		if len(digits) == 2 {
			digits += "00"
		}
		if off, err := parseOffset(rest[:1] + digits); err == nil {
			loc = time.FixedZone(t, off)
		}
	} else if t == "Z" {
		loc = time.UTC
	} else if l, err := time.LoadLocation(t); err == nil && t != "" && t != "Local" {
		loc = l
	}
	if loc == nil {
		return nil, fmt.Errorf("Invalid time zone: %s", id)
	}
	zoneCache.Store(id, loc)
	return loc, nil
}

func formatInZone(ms int64, pattern, zone string) (any, error) {
	loc, err := zoneOf(zone)
	if err != nil {
		return nil, err
	}
	return formatIn(ms, pattern, loc)
}

func formatIn(ms int64, pattern string, loc *time.Location) (any, error) {
	layout, err := javaLayout(pattern)
	if err != nil {
		return nil, err
	}
	return time.UnixMilli(ms).In(loc).Format(layout), nil
}

func parseInZone(s, pattern, zone string) (int64, error) {
	loc, err := zoneOf(zone)
	if err != nil {
		return 0, err
	}
	return parseIn(s, pattern, loc)
}

func parseIn(s, pattern string, loc *time.Location) (int64, error) {
	layout, err := javaLayout(pattern)
	if err != nil {
		return 0, err
	}
	tm, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		// ksqlDB's parser is case-insensitive ("...33z" for the X offset);
		// Go matches month, day and zone names in any case already, so
		// only the letters it matches exactly are left to fold.
		var err2 error
		if tm, err2 = time.ParseInLocation(layout, strings.ToUpper(s), loc); err2 != nil {
			return 0, fmt.Errorf("Failed to parse timestamp '%s' with formatter '%s': %v", s, pattern, err)
		}
	}
	tm = resolveZoneName(tm, layout)
	// Go defaults a missing year to 0; Java defaults it to 1970.
	if !strings.Contains(layout, "2006") && !strings.Contains(layout, "06") {
		tm = tm.AddDate(1970, 0, 0)
	}
	return tm.UnixMilli(), nil
}

// zoneNames maps the zone names a 'z' pattern reads (Java's English zone
// texts) to the region whose rules apply: Java resolves "PST" to
// America/Los_Angeles, so a May date-time in "PST" is read as PDT.
var zoneNames = map[string]string{
	"PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
	"MST": "America/Denver", "MDT": "America/Denver",
	"CST": "America/Chicago", "CDT": "America/Chicago",
	"EST": "America/New_York", "EDT": "America/New_York",
	"AKST": "America/Anchorage", "AKDT": "America/Anchorage",
	"HST": "Pacific/Honolulu",
	"BST": "Europe/London", "CET": "Europe/Paris", "CEST": "Europe/Paris",
	"EET": "Europe/Athens", "EEST": "Europe/Athens",
	"IST": "Asia/Kolkata", "JST": "Asia/Tokyo",
}

// resolveZoneName re-reads a time parsed with a zone-name layout ("MST")
// in the zone's region. Go gives an abbreviation it does not know in the
// parse location a zero offset; Java resolves the name to a region.
func resolveZoneName(tm time.Time, layout string) time.Time {
	if !strings.Contains(layout, "MST") {
		return tm
	}
	name, off := tm.Zone()
	region, ok := zoneNames[strings.ToUpper(name)]
	if !ok || off != 0 {
		return tm
	}
	loc, err := zoneOf(region)
	if err != nil {
		return tm
	}
	return time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), loc)
}

// serverZone is the zone the deprecated *TOSTRING functions default to:
// the process's local zone (time.Local, whose name is always "Local" and
// so is not a zone ID zoneOf accepts).
func serverZone() *time.Location { return time.Local }

func timeUnitMs(u string) (int64, error) {
	switch strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(u)), "S") {
	case "MILLISECOND":
		return 1, nil
	case "SECOND":
		return 1000, nil
	case "MINUTE":
		return 60_000, nil
	case "HOUR":
		return 3_600_000, nil
	case "DAY":
		return msPerDay, nil
	}
	return 0, fmt.Errorf("unsupported time unit %q", u)
}

func init() {
	const cat = "DATE / TIME"
	reg("UNIX_TIMESTAMP", cat, "Milliseconds since the epoch, now or of a TIMESTAMP.",
		sig(" -> BIGINT", func([]any) (any, error) { return time.Now().UnixMilli(), nil }),
		sig("TIMESTAMP -> BIGINT", func(a []any) (any, error) { return int64(a[0].(Timestamp)), nil }))
	reg("UNIX_DATE", cat, "Days since the epoch, today (server zone) or of a DATE.",
		sig(" -> INT", func([]any) (any, error) {
			now := time.Now()
			_, off := now.Zone()
			return int32(floorDiv(now.Unix()+int64(off), 86400)), nil
		}),
		sig("DATE -> INT", func(a []any) (any, error) { return int32(a[0].(Date)), nil }))
	reg("FROM_UNIXTIME", cat, "TIMESTAMP from milliseconds since the epoch.", sig("BIGINT -> TIMESTAMP", func(a []any) (any, error) {
		return Timestamp(a[0].(int64)), nil
	}))
	reg("FROM_DAYS", cat, "DATE from days since the epoch.", sig("INT -> DATE", func(a []any) (any, error) { return Date(a[0].(int32)), nil }))
	reg("FORMAT_TIMESTAMP", cat, "Formats a TIMESTAMP with a Java pattern (zone defaults to GMT).",
		sig("TIMESTAMP, STRING -> STRING", func(a []any) (any, error) { return formatInZone(int64(a[0].(Timestamp)), str(a[1]), "GMT") }),
		sig("TIMESTAMP, STRING, STRING -> STRING", func(a []any) (any, error) {
			return formatInZone(int64(a[0].(Timestamp)), str(a[1]), str(a[2]))
		}))
	reg("PARSE_TIMESTAMP", cat, "Parses a TIMESTAMP with a Java pattern (zone defaults to GMT).",
		sig("STRING, STRING -> TIMESTAMP", func(a []any) (any, error) {
			ms, err := parseInZone(str(a[0]), str(a[1]), "GMT")
			return Timestamp(ms), err
		}),
		sig("STRING, STRING, STRING -> TIMESTAMP", func(a []any) (any, error) {
			ms, err := parseInZone(str(a[0]), str(a[1]), str(a[2]))
			return Timestamp(ms), err
		}))
	reg("TIMESTAMPTOSTRING", cat, "Formats epoch milliseconds (zone defaults to the server's).",
		sig("BIGINT, STRING -> STRING", func(a []any) (any, error) { return formatIn(a[0].(int64), str(a[1]), serverZone()) }),
		sig("BIGINT, STRING, STRING -> STRING", func(a []any) (any, error) { return formatInZone(a[0].(int64), str(a[1]), str(a[2])) }))
	reg("STRINGTOTIMESTAMP", cat, "Parses epoch milliseconds (zone defaults to the server's).",
		sig("STRING, STRING -> BIGINT", func(a []any) (any, error) { return parseIn(str(a[0]), str(a[1]), serverZone()) }),
		sig("STRING, STRING, STRING -> BIGINT", func(a []any) (any, error) { return parseInZone(str(a[0]), str(a[1]), str(a[2])) }))
	reg("FORMAT_DATE", cat, "Formats a DATE with a Java pattern.", sig("DATE, STRING -> STRING", func(a []any) (any, error) {
		return formatInZone(int64(a[0].(Date))*msPerDay, str(a[1]), "UTC")
	}))
	reg("DATETOSTRING", cat, "Formats days since the epoch with a Java pattern.", sig("INT, STRING -> STRING", func(a []any) (any, error) {
		return formatInZone(int64(a[0].(int32))*msPerDay, str(a[1]), "UTC")
	}))
	parseDate := func(s, p string) (int64, error) {
		ms, err := parseInZone(s, p, "UTC")
		if err != nil {
			return 0, err
		}
		if ms%msPerDay != 0 {
			return 0, fmt.Errorf("Date format contains time field.")
		}
		return ms / msPerDay, nil
	}
	reg("PARSE_DATE", cat, "Parses a DATE with a Java pattern.", sig("STRING, STRING -> DATE", func(a []any) (any, error) {
		d, err := parseDate(str(a[0]), str(a[1]))
		return Date(d), err
	}))
	reg("STRINGTODATE", cat, "Parses days since the epoch with a Java pattern.", sig("STRING, STRING -> INT", func(a []any) (any, error) {
		d, err := parseDate(str(a[0]), str(a[1]))
		return int32(d), err
	}))
	reg("FORMAT_TIME", cat, "Formats a TIME with a Java pattern.", sig("TIME, STRING -> STRING", func(a []any) (any, error) {
		return formatInZone(int64(a[0].(Time)), str(a[1]), "UTC")
	}))
	reg("PARSE_TIME", cat, "Parses a TIME with a Java pattern.", sig("STRING, STRING -> TIME", func(a []any) (any, error) {
		ms, err := parseInZone(str(a[0]), str(a[1]), "UTC")
		if err != nil {
			return nil, err
		}
		if ms < 0 || ms >= msPerDay {
			return nil, fmt.Errorf("Time format contains date field.")
		}
		return Time(ms), nil
	}))
	reg("CONVERT_TZ", cat, "Shifts a TIMESTAMP from one zone's wall clock to another's.", sig("TIMESTAMP, STRING, STRING -> TIMESTAMP", func(a []any) (any, error) {
		from, err := zoneOf(str(a[1]))
		if err != nil {
			return nil, err
		}
		to, err := zoneOf(str(a[2]))
		if err != nil {
			return nil, err
		}
		t := time.UnixMilli(int64(a[0].(Timestamp)))
		_, fo := t.In(from).Zone()
		_, tof := t.In(to).Zone()
		return Timestamp(int64(a[0].(Timestamp)) + int64(tof-fo)*1000), nil
	}))
	addFns := func(name string, sign int64, typ string, apply func(v any, delta int64) any) {
		impl := func(a []any) (any, error) {
			unit, err := timeUnitMs(str(a[0]))
			if err != nil {
				return nil, err
			}
			return apply(a[2], sign*toInt64(a[1])*unit), nil
		}
		reg(name, cat, "Adds or subtracts an interval given as (unit, amount, value).",
			sig("STRING, INT, "+typ+" -> "+typ, impl), sig("STRING, BIGINT, "+typ+" -> "+typ, impl))
	}
	tsAdd := func(v any, d int64) any { return Timestamp(int64(v.(Timestamp)) + d) }
	dateAdd := func(v any, d int64) any {
		return Date(floorDiv(int64(v.(Date))*msPerDay+d, msPerDay))
	}
	timeAdd := func(v any, d int64) any { return Time(floorMod(int64(v.(Time))+d, msPerDay)) }
	addFns("TIMESTAMPADD", 1, "TIMESTAMP", tsAdd)
	addFns("TIMESTAMPSUB", -1, "TIMESTAMP", tsAdd)
	addFns("DATEADD", 1, "DATE", dateAdd)
	addFns("DATESUB", -1, "DATE", dateAdd)
	addFns("TIMEADD", 1, "TIME", timeAdd)
	addFns("TIMESUB", -1, "TIME", timeAdd)
}

var _ arrow.DataType = TimestampType
