package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
)

// TestQTTPassThrough replays ksqlDB's query-validation tests that exercise
// serialization alone: a source stream declared with columns and formats,
// and `CREATE STREAM OUTPUT [WITH (...)] AS SELECT * FROM INPUT`. Each input
// record is serialized as the QTT harness does, decoded with the source's
// specs, re-encoded with the sink's, and the bytes are compared with the
// expected output by the harness's rules (SPEC.md §3.5, §3.7). The files are
// read from /work/shared/qtt at test time; the test skips if it is absent.
func TestQTTPassThrough(t *testing.T) {
	dir := "/work/shared/qtt"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("QTT files not available")
	}
	ran := 0
	for _, file := range []string{"json.json", "delimited.json", "kafka.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tests []qttCase `json:"tests"`
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, tc := range doc.Tests {
			src, sink, ok := passThroughSpecs(tc)
			if !ok {
				continue
			}
			ran++
			t.Run(file+"/"+tc.Name, func(t *testing.T) { runQTT(t, tc, src, sink) })
		}
	}
	if ran < 20 {
		t.Fatalf("only %d QTT cases were pass-through; the selection is broken", ran)
	}
}

type qttCase struct {
	Name       string            `json:"name"`
	Statements []string          `json:"statements"`
	Properties map[string]any    `json:"properties"`
	Format     []string          `json:"format"`
	Inputs     []qttRecord       `json:"inputs"`
	Outputs    []qttRecord       `json:"outputs"`
	Exception  map[string]string `json:"expectedException"`
}

type qttRecord struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

type sideSpecs struct{ key, value Spec }

var (
	createRe = regexp.MustCompile(`(?is)^CREATE STREAM INPUT \((.*)\) WITH \((.*)\);$`)
	selectRe = regexp.MustCompile(`(?is)^CREATE STREAM (\w+)(?: WITH ?\((.*)\))? AS SELECT \* FROM INPUT;$`)
)

// passThroughSpecs derives source and sink specs from a case's DDL, or
// reports that the case is not a plain pass-through.
func passThroughSpecs(tc qttCase) (src, sink sideSpecs, ok bool) {
	if len(tc.Statements) != 2 || tc.Exception != nil || len(tc.Properties) > 0 || len(tc.Format) > 0 || len(tc.Inputs) == 0 {
		return src, sink, false
	}
	m := createRe.FindStringSubmatch(tc.Statements[0])
	s := selectRe.FindStringSubmatch(tc.Statements[1])
	if m == nil || s == nil {
		return src, sink, false
	}
	var keyFields, valFields []arrow.Field
	for _, col := range splitTop(m[1], ',') {
		col = strings.TrimSpace(col)
		name, rest, _ := strings.Cut(col, " ")
		isKey := strings.HasSuffix(strings.ToUpper(rest), " KEY")
		if isKey {
			rest = rest[:len(rest)-4]
		}
		typ, err := parseQTTType(strings.TrimSpace(rest))
		if err != nil {
			return src, sink, false
		}
		f := arrow.Field{Name: strings.ToUpper(name), Type: typ, Nullable: true}
		if isKey {
			keyFields = append(keyFields, f)
		} else {
			valFields = append(valFields, f)
		}
	}
	props := parseProps(m[2])
	src = makeSides(props, keyFields, valFields, nil)
	sink = makeSides(parseProps(s[2]), keyFields, valFields, &src)
	return src, sink, true
}

func parseProps(s string) map[string]string {
	props := map[string]string{}
	for _, kv := range splitTop(s, ',') {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		props[strings.ToUpper(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), "'")
	}
	return props
}

// makeSides applies ksqlDB's format rules: FORMAT sets both sides, the key
// defaults to KAFKA, a single key is unwrapped, a single value is wrapped
// unless WRAP_SINGLE_VALUE=false or the format is always unwrapped. A sink
// inherits its source's formats and delimiters.
func makeSides(props map[string]string, key, val []arrow.Field, inherit *sideSpecs) sideSpecs {
	kf, vf := Kafka, ""
	var kd, vd byte
	wrap := ""
	if inherit != nil {
		kf, vf, kd, vd = inherit.key.Format, inherit.value.Format, inherit.key.Delimiter, inherit.value.Delimiter
	}
	if f, ok := props["FORMAT"]; ok {
		kf, vf = strings.ToUpper(f), strings.ToUpper(f)
	}
	if f, ok := props["KEY_FORMAT"]; ok {
		kf = strings.ToUpper(f)
	}
	if f, ok := props["VALUE_FORMAT"]; ok {
		vf = strings.ToUpper(f)
	}
	delim := func(s string) byte {
		switch strings.ToUpper(s) {
		case "TAB":
			return '\t'
		case "SPACE":
			return ' '
		}
		return s[0]
	}
	if d, ok := props["KEY_DELIMITER"]; ok {
		kd = delim(d)
	}
	if d, ok := props["VALUE_DELIMITER"]; ok {
		vd = delim(d)
	}
	if w, ok := props["WRAP_SINGLE_VALUE"]; ok {
		wrap = strings.ToLower(w)
	}
	if len(key) == 0 {
		kf = Kafka
	}
	return sideSpecs{
		key:   Spec{Format: kf, Fields: key, Unwrapped: len(key) == 1, Delimiter: kd},
		value: Spec{Format: vf, Fields: val, Unwrapped: len(val) == 1 && (wrap == "false" || vf == Kafka), Delimiter: vd},
	}
}

// splitTop splits at sep outside <> and () nesting.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseQTTType(s string) (arrow.DataType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "BOOLEAN":
		return tBool, nil
	case "INT", "INTEGER":
		return tInt, nil
	case "BIGINT":
		return tBig, nil
	case "DOUBLE":
		return tDouble, nil
	case "STRING", "VARCHAR":
		return tStr, nil
	case "BYTES":
		return tBytes, nil
	case "DATE":
		return tDate, nil
	case "TIME":
		return tTime, nil
	case "TIMESTAMP":
		return tTS, nil
	}
	switch {
	case strings.HasPrefix(u, "DECIMAL("):
		var p, sc int32
		if _, err := fmt.Sscanf(strings.ReplaceAll(u, " ", ""), "DECIMAL(%d,%d)", &p, &sc); err != nil {
			return nil, err
		}
		return tDec(p, sc), nil
	case strings.HasPrefix(u, "ARRAY<"):
		e, err := parseQTTType(s[6 : len(s)-1])
		if err != nil {
			return nil, err
		}
		return arrow.ListOf(e), nil
	case strings.HasPrefix(u, "MAP<"):
		parts := splitTop(s[4:len(s)-1], ',')
		k, err := parseQTTType(parts[0])
		if err != nil {
			return nil, err
		}
		v, err := parseQTTType(parts[1])
		if err != nil {
			return nil, err
		}
		return arrow.MapOf(k, v), nil
	case strings.HasPrefix(u, "STRUCT<"):
		var fs []arrow.Field
		for _, f := range splitTop(s[7:len(s)-1], ',') {
			name, rest, _ := strings.Cut(strings.TrimSpace(f), " ")
			t, err := parseQTTType(rest)
			if err != nil {
				return nil, err
			}
			fs = append(fs, arrow.Field{Name: strings.ToUpper(name), Type: t, Nullable: true})
		}
		return arrow.StructOf(fs...), nil
	}
	return nil, fmt.Errorf("unknown type %q", s)
}

// qttBytes serializes a record's key or value as the QTT harness does.
func qttBytes(t *testing.T, s Spec, v json.RawMessage) []byte {
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	switch s.Format {
	case JSON:
		return v
	case Delimited:
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			t.Fatalf("DELIMITED record %s is not a string", v)
		}
		return []byte(str)
	case Kafka:
		if len(s.Fields) == 0 {
			return nil
		}
		switch s.Fields[0].Type.ID() {
		case arrow.INT32:
			n, _ := strconv.ParseInt(string(v), 10, 32)
			return binary.BigEndian.AppendUint32(nil, uint32(n))
		case arrow.INT64:
			n, _ := strconv.ParseInt(string(v), 10, 64)
			return binary.BigEndian.AppendUint64(nil, uint64(n))
		case arrow.FLOAT64:
			f, _ := strconv.ParseFloat(string(v), 64)
			return binary.BigEndian.AppendUint64(nil, math.Float64bits(f))
		default:
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				t.Fatalf("KAFKA record %s is not a string", v)
			}
			return []byte(str)
		}
	}
	t.Fatalf("format %s", s.Format)
	return nil
}

func runQTT(t *testing.T, tc qttCase, src, sink sideSpecs) {
	if len(tc.Inputs) != len(tc.Outputs) {
		t.Skip("not one output per input")
	}
	for i, in := range tc.Inputs {
		out := tc.Outputs[i]
		for _, side := range []struct {
			name       string
			from, to   Spec
			in, expect json.RawMessage
		}{
			{"key", src.key, sink.key, in.Key, out.Key},
			{"value", src.value, sink.value, in.Value, out.Value},
		} {
			data := qttBytes(t, side.from, side.in)
			var got []byte
			if !IsNullRecord(side.from, data) {
				vals, err := DecodeToValues(side.from, data)
				if err != nil {
					t.Fatalf("record %d %s %q: decode: %v", i, side.name, data, err)
				}
				if got, err = EncodeValue(nil, side.to, vals); err != nil {
					t.Fatalf("record %d %s: encode: %v", i, side.name, err)
				}
			}
			want := qttBytes(t, side.to, side.expect)
			if !qttEqual(side.to, got, want) {
				t.Errorf("record %d %s: got %q, want %q", i, side.name, got, want)
			}
		}
	}
}

// qttEqual compares actual and expected bytes: exactly for DELIMITED and
// KAFKA, and for JSON as parsed trees with numbers compared by value
// (QTT's comparator is lenient for whole numbers and doubles).
func qttEqual(s Spec, got, want []byte) bool {
	if got == nil || want == nil || s.Format != JSON {
		return (got == nil) == (want == nil) && bytes.Equal(got, want)
	}
	parse := func(b []byte) (any, bool) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		return v, d.Decode(&v) == nil
	}
	g, ok1 := parse(got)
	w, ok2 := parse(want)
	return ok1 && ok2 && jsonEqual(g, w)
}

func jsonEqual(g, w any) bool {
	switch w := w.(type) {
	case map[string]any:
		gm, ok := g.(map[string]any)
		if !ok || len(gm) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := gm[k]
			if !ok {
				gv, ok = gm[strings.ToUpper(k)]
			}
			if !ok || !jsonEqual(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		ga, ok := g.([]any)
		if !ok || len(ga) != len(w) {
			return false
		}
		for i := range w {
			if !jsonEqual(ga[i], w[i]) {
				return false
			}
		}
		return true
	case json.Number:
		gn, ok := g.(json.Number)
		if !ok {
			return false
		}
		if gn == w {
			return true
		}
		gf, err1 := gn.Float64()
		wf, err2 := w.Float64()
		return err1 == nil && err2 == nil && math.Abs(gf-wf) < 1e-6
	default:
		return g == w
	}
}
