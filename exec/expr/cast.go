package expr

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
)

// castable reports whether CAST(from AS to) is allowed (reference §2.3).
func castable(from, to arrow.DataType) bool {
	kf, kt := kindOf(from), kindOf(to)
	if kf == kNull || typesEqual(from, to) {
		return true
	}
	if kt == kString {
		return kf != kBytes && kf != kUnknown
	}
	switch kf {
	case kInt, kBigint, kDecimal, kDouble:
		return isNumericKind(kt)
	case kString:
		switch kt {
		case kBool, kInt, kBigint, kDecimal, kDouble, kBytes, kTimestamp, kDate, kTime:
			return true
		}
	case kTimestamp:
		return kt == kDate || kt == kTime
	case kDate:
		return kt == kTimestamp
	case kArray:
		return kt == kArray && castable(from.(*arrow.ListType).Elem(), to.(*arrow.ListType).Elem())
	case kMap:
		if kt != kMap {
			return false
		}
		fm, tm := from.(*arrow.MapType), to.(*arrow.MapType)
		return castable(fm.KeyType(), tm.KeyType()) && castable(fm.ItemType(), tm.ItemType())
	case kStruct:
		if kt != kStruct {
			return false
		}
		ts := to.(*arrow.StructType)
		for _, f := range from.(*arrow.StructType).Fields() {
			if i, ok := ts.FieldIdx(f.Name); ok && !castable(f.Type, ts.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// CastError is the bind-time error for an unsupported CAST.
func CastError(from, to arrow.DataType) error {
	if castable(from, to) {
		return nil
	}
	return fmt.Errorf("Cast of %s to %s is not supported", TypeName(from), TypeName(to))
}

// castValue converts v (of type from) to type to, row at a time.
func castValue(v any, from, to arrow.DataType) (any, error) {
	if v == nil {
		return nil, nil
	}
	kf, kt := kindOf(from), kindOf(to)
	if kt == kDecimal {
		return castToDecimal(v, kf, to)
	}
	if typesEqual(from, to) && kt != kDecimal {
		return v, nil
	}
	switch kt {
	case kString:
		return valueString(v, kf), nil
	case kInt:
		switch x := v.(type) {
		case int64:
			return int32(x), nil // Java (int) wraps
		case float64:
			return int32(javaD2L(x, math.MinInt32, math.MaxInt32)), nil
		case Decimal:
			return int32(decTruncInt64(x)), nil
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("For input string: \"%s\"", x)
			}
			return int32(n), nil
		}
	case kBigint:
		switch x := v.(type) {
		case int32:
			return int64(x), nil
		case float64:
			return javaD2L(x, math.MinInt64, math.MaxInt64), nil
		case Decimal:
			return decTruncInt64(x), nil
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("For input string: \"%s\"", x)
			}
			return n, nil
		}
	case kDouble:
		switch x := v.(type) {
		case int32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case Decimal:
			return decToFloat(x), nil
		case string:
			return parseJavaDouble(x)
		}
	case kBool:
		if s, ok := v.(string); ok {
			return parseBoolPrefix(s), nil
		}
	case kBytes:
		if s, ok := v.(string); ok {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("cannot decode %q as base64: %w", s, err)
			}
			return b, nil
		}
	case kTimestamp:
		switch x := v.(type) {
		case string:
			return ParseTimestampText(x)
		case Date:
			return Timestamp(int64(x) * msPerDay), nil
		}
	case kDate:
		switch x := v.(type) {
		case string:
			return ParseDateText(x)
		case Timestamp:
			return Date(floorDiv(int64(x), msPerDay)), nil
		}
	case kTime:
		switch x := v.(type) {
		case string:
			return ParseTimeText(x)
		case Timestamp:
			return Time(floorMod(int64(x), msPerDay)), nil
		}
	case kArray:
		l, ok := v.([]any)
		if !ok {
			break
		}
		fe, te := from.(*arrow.ListType).Elem(), to.(*arrow.ListType).Elem()
		out := make([]any, len(l))
		for i, e := range l {
			c, err := castValue(e, fe, te)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case kMap:
		m, ok := v.(*Map)
		if !ok {
			break
		}
		fm, tm := from.(*arrow.MapType), to.(*arrow.MapType)
		out := &Map{Keys: make([]any, 0, len(m.Keys)), Values: make([]any, 0, len(m.Keys))}
		for i := range m.Keys {
			k, err := castValue(m.Keys[i], fm.KeyType(), tm.KeyType())
			if err != nil {
				return nil, err
			}
			val, err := castValue(m.Values[i], fm.ItemType(), tm.ItemType())
			if err != nil {
				return nil, err
			}
			out.put(k, val)
		}
		return out, nil
	case kStruct:
		s, ok := v.(*Struct)
		if !ok {
			break
		}
		fs, ts := from.(*arrow.StructType), to.(*arrow.StructType)
		out := &Struct{Names: make([]string, ts.NumFields()), Values: make([]any, ts.NumFields())}
		for i, f := range ts.Fields() {
			out.Names[i] = f.Name
			if j, ok := fs.FieldIdx(f.Name); ok {
				c, err := castValue(s.Values[j], fs.Field(j).Type, f.Type)
				if err != nil {
					return nil, err
				}
				out.Values[i] = c
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("Cast of %s to %s is not supported", TypeName(from), TypeName(to))
}

func castToDecimal(v any, kf kind, to arrow.DataType) (any, error) {
	p, s := decParams(to)
	switch x := v.(type) {
	case int32:
		return decFromBig(new(big.Int).Mul(big.NewInt(int64(x)), pow10Big(s)), p, s)
	case int64:
		return decFromBig(new(big.Int).Mul(big.NewInt(x), pow10Big(s)), p, s)
	case float64:
		return decFromFloat(x, p, s)
	case Decimal:
		return decRescaleHalfUp(x, p, s)
	case string:
		return ParseDecimal(x, int(p), int(s))
	}
	return nil, fmt.Errorf("Cast of %T to %s is not supported", v, TypeName(to))
}

// javaD2L is Java's (long)/(int) conversion of a double: truncation toward
// zero, saturating at the range, NaN -> 0.
func javaD2L(f float64, lo, hi int64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f <= float64(lo):
		return lo
	case f >= float64(hi):
		return hi
	}
	return int64(f)
}

// decTruncInt64 is BigDecimal.longValue: truncate, keep the low 64 bits.
func decTruncInt64(d Decimal) int64 {
	v := d.V.BigInt()
	v.Quo(v, pow10Big(d.Scale))
	// low-order 64 bits, two's complement
	m := new(big.Int).And(v, new(big.Int).SetUint64(math.MaxUint64))
	return int64(m.Uint64())
}

// parseJavaDouble is Double.parseDouble after trim, rejecting NaN/Infinity
// as ksqlDB's cast does.
func parseJavaDouble(s string) (any, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimRight(t, "dDfF")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) && !strings.ContainsAny(t, "0123456789") {
		return nil, fmt.Errorf("For input string: \"%s\"", s)
	}
	return f, nil
}

// parseBoolPrefix: true iff the trimmed text is a non-empty case-insensitive
// prefix of "true" or "yes".
func parseBoolPrefix(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	return t != "" && (strings.HasPrefix("true", t) || strings.HasPrefix("yes", t))
}

const msPerDay = 86400000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// valueString renders v the way ksqlDB's CAST(x AS STRING) does.
func valueString(v any, k kind) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return FormatDouble(x)
	case Decimal:
		return decString(x)
	case string:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case Date:
		return FormatDateISO(x)
	case Time:
		return FormatTimeISO(x)
	case Timestamp:
		return FormatTimestampISO(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = valueString(e, kUnknown)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *Map:
		parts := make([]string, len(x.Keys))
		for i := range x.Keys {
			parts[i] = valueString(x.Keys[i], kUnknown) + "=" + valueString(x.Values[i], kUnknown)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *Struct:
		var parts []string
		for i, n := range x.Names {
			if x.Values[i] != nil {
				parts = append(parts, n+"="+valueString(x.Values[i], kUnknown))
			}
		}
		return "Struct{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v)
}

// FormatTimestampISO renders ts as yyyy-MM-ddTHH:mm:ss.SSS in UTC.
func FormatTimestampISO(ts Timestamp) string {
	return time.UnixMilli(int64(ts)).UTC().Format("2006-01-02T15:04:05.000")
}

// FormatDateISO renders d as yyyy-MM-dd.
func FormatDateISO(d Date) string {
	return time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02")
}

// FormatTimeISO renders t like Java's LocalTime.toString without millis
// (ksqlDB's TIME text): HH:mm when the seconds are zero, else HH:mm:ss.
func FormatTimeISO(t Time) string {
	secs := int(t) / 1000
	h, m, s := secs/3600, secs/60%60, secs%60
	if s == 0 {
		return fmt.Sprintf("%02d:%02d", h, m)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// ParseTimestampText parses ksqlDB's timestamp literal text: a possibly
// partial yyyy-MM-dd'T'HH:mm:ss.SSS with an optional offset (Z, +hh, +hhmm,
// +hh:mm). Missing fields take their minimum; no offset means UTC.
func ParseTimestampText(s string) (Timestamp, error) {
	t := strings.TrimSpace(s)
	bad := fmt.Errorf("Failed to parse timestamp '%s': Text '%s' could not be parsed", s, s)
	loc := time.UTC
	// Split off an offset after the time part.
	if i := strings.IndexByte(t, 'T'); i >= 0 {
		rest := t[i+1:]
		if strings.HasSuffix(rest, "Z") {
			t = t[:len(t)-1]
		} else if j := strings.LastIndexAny(rest, "+-"); j >= 0 {
			off := rest[j:]
			t = t[:i+1+j]
			d, err := parseOffset(off)
			if err != nil {
				return 0, bad
			}
			loc = time.FixedZone(off, d)
		}
	}
	date, clock, hasT := strings.Cut(t, "T")
	dparts := strings.Split(date, "-")
	if len(dparts) == 0 || len(dparts) > 3 || dparts[0] == "" {
		return 0, bad
	}
	nums := []int{0, 1, 1, 0, 0, 0, 0}
	for i, p := range dparts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, bad
		}
		nums[i] = n
	}
	if hasT {
		hms, frac, _ := strings.Cut(clock, ".")
		cparts := strings.Split(hms, ":")
		if len(cparts) > 3 || cparts[0] == "" {
			return 0, bad
		}
		for i, p := range cparts {
			n, err := strconv.Atoi(p)
			if err != nil {
				return 0, bad
			}
			nums[3+i] = n
		}
		if frac != "" {
			for len(frac) < 9 {
				frac += "0"
			}
			n, err := strconv.Atoi(frac[:9])
			if err != nil {
				return 0, bad
			}
			nums[6] = n
		}
	}
	// Hour 24 is the end of the day (midnight of the next), as in Java's
	// ISO parsing, when nothing follows it: '2020-02-24T24'.
	endOfDay := nums[3] == 24 && nums[4] == 0 && nums[5] == 0 && nums[6] == 0
	if endOfDay {
		nums[3] = 0
	}
	if nums[1] < 1 || nums[1] > 12 || nums[2] < 1 || nums[2] > 31 || nums[3] > 23 || nums[4] > 59 || nums[5] > 59 {
		return 0, bad
	}
	tm := time.Date(nums[0], time.Month(nums[1]), nums[2], nums[3], nums[4], nums[5], nums[6], loc)
	if tm.Day() != nums[2] {
		return 0, bad
	}
	if endOfDay {
		tm = tm.AddDate(0, 0, 1)
	}
	return Timestamp(tm.UnixMilli()), nil
}

func parseOffset(off string) (int, error) {
	sign := 1
	if off[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(off[1:], ":", "")
	var h, m int
	var err error
	switch len(digits) {
	case 2:
		h, err = strconv.Atoi(digits)
	case 4:
		h, err = strconv.Atoi(digits[:2])
		if err == nil {
			m, err = strconv.Atoi(digits[2:])
		}
	default:
		return 0, fmt.Errorf("bad offset")
	}
	if err != nil {
		return 0, err
	}
	return sign * (h*3600 + m*60), nil
}

// ParseDateText parses yyyy-MM-dd, allowing partial yyyy or yyyy-MM.
func ParseDateText(s string) (Date, error) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "T") {
		return 0, fmt.Errorf("Failed to parse date '%s'", s)
	}
	ts, err := ParseTimestampText(t)
	if err != nil {
		return 0, fmt.Errorf("Failed to parse date '%s'", s)
	}
	return Date(floorDiv(int64(ts), msPerDay)), nil
}

// ParseTimeText parses ISO local time HH:mm[:ss[.fff]].
func ParseTimeText(s string) (Time, error) {
	t := strings.TrimSpace(s)
	bad := fmt.Errorf("Failed to parse time '%s'", s)
	hms, frac, _ := strings.Cut(t, ".")
	parts := strings.Split(hms, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	lim := []int{23, 59, 59}
	ms := 0
	for i, p := range parts {
		if len(p) != 2 {
			return 0, bad
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > lim[i] {
			return 0, bad
		}
		ms = ms*60 + n
	}
	if len(parts) == 2 {
		ms *= 60
	}
	ms *= 1000
	if frac != "" {
		for len(frac) < 3 {
			frac += "0"
		}
		n, err := strconv.Atoi(frac[:3])
		if err != nil {
			return 0, bad
		}
		ms += n
	}
	return Time(ms), nil
}

// put inserts or replaces k in m, keeping first-insertion order.
func (m *Map) put(k, v any) {
	for i := range m.Keys {
		if valuesEqual(m.Keys[i], k) {
			m.Values[i] = v
			return
		}
	}
	m.Keys = append(m.Keys, k)
	m.Values = append(m.Values, v)
}

// get returns the value for k.
func (m *Map) get(k any) (any, bool) {
	for i := range m.Keys {
		if valuesEqual(m.Keys[i], k) {
			return m.Values[i], true
		}
	}
	return nil, false
}
