package exectest

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
)

// FormatRow renders row i of b as `+I NAME=value NAME=value ...`.
func FormatRow(b exec.Batch, i int) string {
	var s strings.Builder
	s.WriteString(b.Kind(i).String())
	for c, f := range b.Rec.Schema().Fields() {
		s.WriteByte(' ')
		s.WriteString(f.Name)
		s.WriteByte('=')
		s.WriteString(FormatValue(expr.ValueAt(b.Rec.Column(c), i)))
	}
	return s.String()
}

// FormatValue renders a Go SQL value (exec/expr value.go) unambiguously:
// strings quoted, BYTES in base64 as ksqlDB prints them, numbers as Java
// prints them.
func FormatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case bool:
		return strconv.FormatBool(v)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return expr.FormatDouble(v)
	case expr.Decimal:
		return expr.FormatDecimal(v)
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case []byte:
		return "b64:" + base64.StdEncoding.EncodeToString(v)
	case expr.Date:
		return "date:" + strconv.Itoa(int(v))
	case expr.Time:
		return "time:" + strconv.Itoa(int(v))
	case expr.Timestamp:
		return strconv.FormatInt(int64(v), 10)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = FormatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *expr.Map:
		parts := make([]string, len(v.Keys))
		for i := range v.Keys {
			parts[i] = FormatValue(v.Keys[i]) + ": " + FormatValue(v.Values[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *expr.Struct:
		parts := make([]string, len(v.Values))
		for i := range v.Values {
			parts[i] = v.Names[i] + ": " + FormatValue(v.Values[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "?" // unreachable for values ValueAt returns
}

// FormatRecord renders a produced Kafka record as
// `topic key=... value=... ts=... [headers=k:v,...]`.
func FormatRecord(r *kgo.Record) string {
	var s strings.Builder
	s.WriteString(r.Topic)
	s.WriteString(" key=")
	s.WriteString(FormatBytes(r.Key))
	s.WriteString(" value=")
	s.WriteString(FormatBytes(r.Value))
	s.WriteString(" ts=")
	s.WriteString(strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
	if len(r.Headers) > 0 {
		s.WriteString(" headers=")
		for i, h := range r.Headers {
			if i > 0 {
				s.WriteByte(',')
			}
			s.WriteString(h.Key)
			s.WriteByte(':')
			s.WriteString(FormatBytes(h.Value))
		}
	}
	return s.String()
}

// FormatBytes renders record bytes: <nil> for null, the text itself when it
// is printable UTF-8 without spaces at the ends, else 0x and hex. ParseBytes
// reads the same notation.
func FormatBytes(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	if len(b) > 0 && utf8.Valid(b) && !strings.HasPrefix(string(b), "0x") {
		printable := true
		for _, r := range string(b) {
			if !unicode.IsPrint(r) {
				printable = false
				break
			}
		}
		if printable && strings.TrimSpace(string(b)) == string(b) && !strings.Contains(string(b), " | ") {
			return string(b)
		}
	}
	return "0x" + hex.EncodeToString(b)
}

// ParseBytes reads FormatBytes' notation: <nil>, 0x<hex>, or text.
func ParseBytes(s string) ([]byte, error) {
	switch {
	case s == "<nil>":
		return nil, nil
	case strings.HasPrefix(s, "0x"):
		return hex.DecodeString(s[2:])
	}
	return []byte(s), nil
}
