package codec

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluicedb/sluice/exec/expr"
)

var (
	tInt    = arrow.PrimitiveTypes.Int32
	tBig    = arrow.PrimitiveTypes.Int64
	tDouble = arrow.PrimitiveTypes.Float64
	tBool   = arrow.FixedWidthTypes.Boolean
	tStr    = arrow.BinaryTypes.String
	tBytes  = arrow.BinaryTypes.Binary
	tDate   = arrow.FixedWidthTypes.Date32
	tTime   = arrow.FixedWidthTypes.Time32ms
	tTS     = arrow.FixedWidthTypes.Timestamp_ms
)

func tDec(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }

func fields(kv ...any) []arrow.Field {
	var fs []arrow.Field
	for i := 0; i < len(kv); i += 2 {
		fs = append(fs, arrow.Field{Name: kv[i].(string), Type: kv[i+1].(arrow.DataType), Nullable: true})
	}
	return fs
}

func dec(unscaled int64, p, s int32) expr.Decimal {
	return expr.Decimal{V: decimal128.FromI64(unscaled), Precision: p, Scale: s}
}

// allTypes is a wrapped row with every type, nested ones included.
func allTypes() []arrow.Field {
	inner := arrow.StructOf(fields("A", tInt, "b", tStr)...)
	return fields(
		"BOOL", tBool, "I", tInt, "L", tBig, "D", tDouble, "DEC", tDec(4, 2),
		"S", tStr, "B", tBytes, "DT", tDate, "TM", tTime, "TS", tTS,
		"ARR", arrow.ListOf(tDouble), "M", arrow.MapOf(tStr, tBig), "ST", inner,
		"NESTED", arrow.ListOf(arrow.MapOf(tStr, inner)),
	)
}

func allValues() []any {
	st := &expr.Struct{Names: []string{"A", "b"}, Values: []any{int32(7), "x\"y"}}
	return []any{
		true, int32(-5), int64(1 << 40), 1.0, dec(110, 4, 2),
		"h\u00e9\n", []byte{0, 1, 2, 250}, expr.Date(19000), expr.Time(3_600_000), expr.Timestamp(1700000000000),
		[]any{10.1, nil, 1e10}, &expr.Map{Keys: []any{"a", "b"}, Values: []any{int64(1), nil}}, st,
		[]any{&expr.Map{Keys: []any{"k"}, Values: []any{st}}},
	}
}

const allTypesJSON = `{"BOOL":true,"I":-5,"L":1099511627776,"D":1.0,"DEC":1.10,"S":"hé\n",` +
	`"B":"AAEC+g==","DT":19000,"TM":3600000,"TS":1700000000000,"ARR":[10.1,null,1.0E10],` +
	`"M":{"a":1,"b":null},"ST":{"A":7,"b":"x\"y"},"NESTED":[{"k":{"A":7,"b":"x\"y"}}]}`

func TestJSONGoldenAndRoundTrip(t *testing.T) {
	s := Spec{Format: JSON, Fields: allTypes()}
	got, err := EncodeValue(nil, s, allValues())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != allTypesJSON {
		t.Fatalf("encoded\n got %s\nwant %s", got, allTypesJSON)
	}
	back, err := DecodeToValues(s, got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, allValues()) {
		t.Fatalf("round trip\n got %#v\nwant %#v", back, allValues())
	}
	// All NULL: every column written as null, keys in column order.
	nulls := make([]any, len(s.Fields))
	got, err = EncodeValue(nil, s, nulls)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"BOOL":null,"I":null,"L":null,"D":null,"DEC":null,"S":null,"B":null,"DT":null,"TM":null,"TS":null,"ARR":null,"M":null,"ST":null,"NESTED":null}`
	if string(got) != want {
		t.Fatalf("nulls: got %s", got)
	}
	back, err = DecodeToValues(s, got)
	if err != nil || !reflect.DeepEqual(back, nulls) {
		t.Fatalf("nulls back: %v %v", back, err)
	}
}

func TestJSONUnwrapped(t *testing.T) {
	for _, tc := range []struct {
		typ  arrow.DataType
		val  any
		want string
	}{
		{tBool, true, `true`},
		{tInt, int32(10), `10`},
		{tBig, int64(10827272222), `10827272222`},
		{tDouble, 1234.589, `1234.589`},
		{tDouble, math.Inf(-1), `"-Infinity"`},
		{tStr, "hello", `"hello"`},
		{tDec(4, 2), dec(1010, 4, 2), `10.10`},
		{tDec(20, 10), dec(1, 20, 10), `1E-10`},
		{tDec(33, 16), dec(0, 33, 16), `0E-16`},
		{arrow.ListOf(tStr), []any{"a", "b", nil}, `["a","b",null]`},
		{arrow.MapOf(tStr, tDouble), &expr.Map{Keys: []any{"b"}, Values: []any{76.54}}, `{"b":76.54}`},
		{arrow.StructOf(fields("A", tDouble)...), &expr.Struct{Names: []string{"A"}, Values: []any{76.54}}, `{"A":76.54}`},
	} {
		s := Spec{Format: JSON, Fields: fields("V", tc.typ), Unwrapped: true}
		got, err := EncodeValue(nil, s, []any{tc.val})
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: encode got %s, %v; want %s", tc.typ, got, err, tc.want)
			continue
		}
		back, err := DecodeToValues(s, got)
		if err != nil || !reflect.DeepEqual(back, []any{tc.val}) {
			t.Errorf("%s: decode %s got %#v, %v", tc.typ, got, back, err)
		}
		// A NULL unwrapped value is a Kafka null, and both a Kafka null and
		// a JSON null document read back as a null record.
		got, err = EncodeValue(nil, s, []any{nil})
		if err != nil || got != nil {
			t.Errorf("%s: NULL encodes to %q, %v; want Kafka null", tc.typ, got, err)
		}
		if !IsNullRecord(s, nil) || !IsNullRecord(s, []byte(" null ")) {
			t.Errorf("IsNullRecord")
		}
	}
}

func decodeJSON(t *testing.T, s Spec, in string) ([]any, error) {
	t.Helper()
	return DecodeToValues(s, []byte(in))
}

func TestJSONCoercions(t *testing.T) {
	for _, tc := range []struct {
		typ  arrow.DataType
		in   string
		want any    // when err == ""
		err  string // substring of the error
	}{
		{tInt, `42`, int32(42), ""},
		{tInt, `"42"`, int32(42), ""},
		{tInt, `1.9`, int32(1), ""},
		{tInt, `-1.9`, int32(-1), ""},
		{tInt, `3000000000`, int32(-1294967296), ""}, // Java's (int) of a long
		{tInt, `"4x"`, nil, "Can't coerce string to type. targetType: INTEGER"},
		{tInt, `"3000000000"`, nil, "Can't coerce string"},
		{tInt, `true`, nil, "sourceType: BooleanNode, requiredType: INTEGER"},
		{tBig, `"-9223372036854775808"`, int64(math.MinInt64), ""},
		{tBig, `1e3`, int64(1000), ""},
		{tDouble, `1`, 1.0, ""},
		{tDouble, `"2.5"`, 2.5, ""},
		{tDouble, `" 2.5d "`, 2.5, ""},
		{tDouble, `"NaN"`, math.NaN(), ""},
		{tDouble, `"inf"`, nil, "targetType: DOUBLE"},
		{tDouble, `[1]`, nil, "sourceType: ArrayNode, requiredType: DOUBLE"},
		{tBool, `true`, true, ""},
		{tBool, `"true"`, nil, "sourceType: TextNode, requiredType: BOOLEAN"},
		{tStr, `10`, "10", ""},
		{tStr, `1.50`, "1.50", ""},
		{tStr, `false`, "false", ""},
		{tStr, `{ "a" : [1, "x\u00e9"], "b":{} }`, `{"a":[1,"xé"],"b":{}}`, ""},
		{tStr, `[1, "a", null, [2, 3], {"k": true}]`, `[1, a, null, [2, 3], {"k":true}]`, ""},
		{tStr, `"a\"b\\c\u0001"`, "a\"b\\c\x01", ""},
		{tStr, `"\ud83d\ude00"`, "😀", ""},
		{tDec(4, 2), `12.3`, dec(1230, 4, 2), ""},
		{tDec(4, 2), `"12.30"`, dec(1230, 4, 2), ""},
		{tDec(4, 2), `12.300`, dec(1230, 4, 2), ""},
		{tDec(4, 2), `1.2E1`, dec(1200, 4, 2), ""},
		{tDec(4, 2), `-.5`, nil, "invalid JSON number"},
		{tDec(4, 2), `"-.5"`, dec(-50, 4, 2), ""},
		{tDec(4, 2), `1.234`, nil, "Cannot fit decimal '1.234' into DECIMAL(4, 2) without rounding. (Requires 4,3)"},
		{tDec(4, 2), `100`, nil, "Numeric field overflow: A field with precision 4 and scale 2 must round to an absolute value less than 10^2. Got 100"},
		{tDec(38, 0), `12345678901234567890123456789012345678`, expr.Decimal{V: mustDec("12345678901234567890123456789012345678"), Precision: 38}, ""},
		{tBytes, `"AAEC+g=="`, []byte{0, 1, 2, 250}, ""},
		{tBytes, `"AAEC+g"`, []byte{0, 1, 2, 250}, ""},
		{tBytes, `"!!"`, nil, "invalid base64"},
		{tBytes, `12`, nil, "sourceType: IntNode, requiredType: BYTES"},
		{tTS, `1700000000000`, expr.Timestamp(1700000000000), ""},
		{tTS, `"1700000000000"`, expr.Timestamp(1700000000000), ""},
		{tTS, `"2023-01-01T00:00:00"`, nil, "Can't coerce string"},
		{tDate, `19000`, expr.Date(19000), ""},
		{tTime, `86400001`, nil, "outside"},
		{arrow.ListOf(tStr), `[1, 2, 3]`, []any{"1", "2", "3"}, ""},
		{arrow.ListOf(tInt), `{"a":1}`, nil, "sourceType: ObjectNode, requiredType: ARRAY<INTEGER>"},
		{arrow.ListOf(tInt), `[1, "x"]`, nil, "[1]"},
		{arrow.MapOf(tStr, tInt), `{"a":1,"b":2,"a":3}`, &expr.Map{Keys: []any{"a", "b"}, Values: []any{int32(3), int32(2)}}, ""},
		{tInt, `{"V": 1}`, nil, "sourceType: ObjectNode, requiredType: INTEGER"},
		{tInt, `1 trailing`, int32(1), ""}, // Jackson's readTree ignores what follows the value
		{tInt, `[1`, nil, "expected ',' or ']'"},
		{tStr, `"a` + "\xff" + `"`, nil, "invalid UTF-8"},
	} {
		s := Spec{Format: JSON, Fields: fields("V", tc.typ), Unwrapped: true}
		got, err := decodeJSON(t, s, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s from %s: got %v, %v; want error containing %q", tc.typ, tc.in, got, err, tc.err)
			}
			var re *RecordError
			if !errors.As(err, &re) || re.Format != JSON {
				t.Errorf("%s from %s: error %T is not a *RecordError", tc.typ, tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s from %s: %v", tc.typ, tc.in, err)
			continue
		}
		if f, ok := tc.want.(float64); ok && math.IsNaN(f) {
			if g, ok := got[0].(float64); !ok || !math.IsNaN(g) {
				t.Errorf("%s from %s: got %v, want NaN", tc.typ, tc.in, got[0])
			}
			continue
		}
		if !reflect.DeepEqual(got[0], tc.want) {
			t.Errorf("%s from %s: got %#v, want %#v", tc.typ, tc.in, got[0], tc.want)
		}
	}
}

func mustDec(s string) decimal128.Num {
	n, err := parseDecimal([]byte(s), 38, 0)
	if err != nil {
		panic(err)
	}
	return n
}

func TestJSONFieldMatching(t *testing.T) {
	s := Spec{Format: JSON, Fields: fields("ID", tInt, "name", tStr, "Mixed", tInt)}
	for _, tc := range []struct {
		in   string
		want []any
	}{
		// Unquoted (upper-case) columns match any case; extra keys ignored.
		{`{"id": 1, "extra": [1, {"x": 2}], "name": "a"}`, []any{int32(1), "a", nil}},
		{`{"Id": 1}`, []any{int32(1), nil, nil}},
		// A quoted lower-case column matches only exactly.
		{`{"NAME": "a"}`, []any{nil, nil, nil}},
		// An exact match beats an upper-cased one, in either order.
		{`{"ID": 1, "id": 2}`, []any{int32(1), nil, nil}},
		{`{"id": 2, "ID": 1}`, []any{int32(1), nil, nil}},
		// Among equals the last wins (Jackson's ObjectNode).
		{`{"id": 2, "iD": 3}`, []any{int32(3), nil, nil}},
		// Mixed-case quoted name: exact only ("MIXED" != "Mixed").
		{`{"mixed": 5}`, []any{nil, nil, nil}},
		{`{"Mixed": 5}`, []any{nil, nil, int32(5)}},
		// Escaped keys are unescaped before matching.
		{`{"\u0069d": 9}`, []any{int32(9), nil, nil}},
		{`{}`, []any{nil, nil, nil}},
		{`{"ID": null}`, []any{nil, nil, nil}},
	} {
		got, err := decodeJSON(t, s, tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	// Nested STRUCT fields follow the same rules.
	s = Spec{Format: JSON, Fields: fields("K", arrow.StructOf(fields("F", tDouble)...)), Unwrapped: true}
	got, err := decodeJSON(t, s, `{"f": 45.67}`)
	want := &expr.Struct{Names: []string{"F"}, Values: []any{45.67}}
	if err != nil || !reflect.DeepEqual(got[0], want) {
		t.Errorf("nested: got %#v, %v", got, err)
	}
	// A wrapped value must be an object; a JSON null document is a null record.
	if _, err := decodeJSON(t, Spec{Format: JSON, Fields: fields("V", tInt)}, `10`); err == nil {
		t.Error("bare number for a wrapped value: want error")
	}
	if got, err := decodeJSON(t, Spec{Format: JSON, Fields: fields("V", tInt)}, `null`); err != nil || got != nil {
		t.Errorf("null document: %v %v", got, err)
	}
}

// TestDecodeErrorsKeepColumnsAligned drives one decoder over good and bad
// records and checks after each that every builder, nested ones included,
// grew by exactly one entry: the Decoder contract.
func TestDecodeErrorsKeepColumnsAligned(t *testing.T) {
	cases := []struct {
		spec    Spec
		records []string // "<nil>" is a Kafka null
	}{
		{Spec{Format: JSON, Fields: allTypes()}, []string{
			allTypesJSON,
			`{"I": "x", "L": 1, "ST": {"A": 1}}`,
			`{"ARR": [1, 2, "x"], "M": {"a": 1}}`,
			`{"M": {"a": 1, "b": "x"}, "S": "ok"}`,
			`{"NESTED": [{"k": {"A": "bad"}}], "I": 3}`,
			`{"ST": {"A": 1, "b": {"x": 1}}, "DEC": 999}`,
			`{"I": 1,`,
			`[1, 2]`,
			``,
			`<nil>`,
			`null`,
			allTypesJSON,
		}},
		{Spec{Format: Delimited, Fields: fields("A", tInt, "B", tStr, "C", tDec(4, 2))}, []string{
			`1,x,1.5`, `x,y,1`, `1,2`, `1,2,3,4`, `"1,x,1`, `1,"a"b,2`, ``, `<nil>`, `,,`, `2,"q""",99.99`,
		}},
		{Spec{Format: Kafka, Fields: fields("V", tBig)}, []string{"12345678", "123", "<nil>"}},
		{Spec{Format: Kafka, Fields: fields("K", tStr), Window: SessionWindow}, []string{"abc\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01", "short", "<nil>"}},
	}
	for _, tc := range cases {
		d, err := NewDecoder(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		bs := make([]array.Builder, 0)
		for _, typ := range specTypes(tc.spec) {
			bs = append(bs, array.NewBuilder(memory.DefaultAllocator, typ))
		}
		fails := 0
		for i, r := range tc.records {
			var data []byte
			if r != "<nil>" {
				data = []byte(r)
			}
			if err := d.Decode(data, bs); err != nil {
				fails++
				var re *RecordError
				if !errors.As(err, &re) || re.Format != tc.spec.Format {
					t.Errorf("%s %q: error %v is not a *RecordError for the format", tc.spec.Format, r, err)
				}
			}
			for j, b := range bs {
				if b.Len() != i+1 {
					t.Fatalf("%s record %d %q: column %d has %d entries, want %d", tc.spec.Format, i, r, j, b.Len(), i+1)
				}
			}
		}
		if fails == 0 {
			t.Errorf("%s: no record failed; the cases are meant to", tc.spec.Format)
		}
		// The arrays must be valid Arrow: build them and read every row back.
		for _, b := range bs {
			a := b.NewArray()
			for i := 0; i < a.Len(); i++ {
				expr.ValueAt(a, i)
			}
			a.Release()
			b.Release()
		}
	}
}

func TestDelimited(t *testing.T) {
	s := Spec{Format: Delimited, Fields: fields("B", tBool, "I", tInt, "L", tBig, "D", tDouble, "DEC", tDec(6, 4),
		"S", tStr, "BY", tBytes, "DT", tDate, "TM", tTime, "TS", tTS)}
	vals := []any{true, int32(-1), int64(2), 0.1, dec(123650, 6, 4), "a,b", []byte("hi"), expr.Date(3), expr.Time(4), expr.Timestamp(5)}
	got, err := EncodeValue(nil, s, vals)
	want := `true,-1,2,0.1,12.3650,"a,b",aGk=,3,4,5`
	if err != nil || string(got) != want {
		t.Fatalf("encode: got %s, %v; want %s", got, err, want)
	}
	back, err := DecodeToValues(s, got)
	if err != nil || !reflect.DeepEqual(back, vals) {
		t.Fatalf("decode: %#v %v", back, err)
	}
	// commons-csv 1.4 minimal quoting.
	for _, tc := range []struct {
		vals []any
		want string
	}{
		{[]any{"-12345.12", "x"}, `"-12345.12",x`},
		{[]any{"x", "-5"}, `x,-5`},
		{[]any{"", "x"}, `"",x`},
		{[]any{"x", ""}, `x,`},
		{[]any{"x", nil}, `x,`},
		{[]any{nil, "x"}, `,x`},
		{[]any{"x", "#a"}, `x,"#a"`},
		{[]any{"x", "a "}, `x,"a "`},
		{[]any{"x", `say "hi"`}, `x,"say ""hi"""`},
		{[]any{"x", "a\nb"}, "x,\"a\nb\""},
		{[]any{"é", "ü"}, `"é",ü`},
	} {
		s := Spec{Format: Delimited, Fields: fields("A", tStr, "B", tStr)}
		got, err := EncodeValue(nil, s, tc.vals)
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %s, %v; want %s", tc.vals, got, err, tc.want)
		}
	}
	// Reading: quotes, empty fields, Java parsers, the custom delimiter.
	s2 := Spec{Format: Delimited, Fields: fields("K1", tStr, "K2", tStr), Delimiter: ';'}
	if got, err := DecodeToValues(s2, []byte(`foo,bar;baz`)); err != nil || !reflect.DeepEqual(got, []any{"foo,bar", "baz"}) {
		t.Errorf("delimiter: %v %v", got, err)
	}
	s3 := Spec{Format: Delimited, Fields: fields("V", tDec(33, 16))}
	for in, want := range map[string]string{
		"12345678987654321.2345678987654321": "12345678987654321.2345678987654321",
		".12":                                "0.1200000000000000",
		`"-12345.12"`:                        `"-12345.1200000000000000"`,
		"0":                                  "0.0000000000000000",
	} {
		v, err := DecodeToValues(s3, []byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		out, err := EncodeValue(nil, s3, v)
		if err != nil || string(out) != want {
			t.Errorf("%s: wrote %s, %v; want %s", in, out, err, want)
		}
	}
	sb := Spec{Format: Delimited, Fields: fields("B", tBool)}
	for in, want := range map[string]any{"true": true, `"TRUE"`: true, "yes": false, "": nil} {
		got, err := DecodeToValues(sb, []byte(in))
		if in == "" {
			if err == nil || !strings.Contains(err.Error(), "No fields in record") {
				t.Errorf("empty value: %v, %v", got, err)
			}
			continue
		}
		if err != nil || got[0] != want {
			t.Errorf("%s: got %v, %v", in, got, err)
		}
	}
	if _, err := DecodeToValues(s2, []byte("a,b;c;d")); err == nil || !strings.Contains(err.Error(), "Column count mismatch on deserialization. expected: 2, got: 3") {
		t.Errorf("count mismatch: %v", err)
	}
	// A single NULL column is a Kafka null; a NULL among several is empty.
	if got, err := EncodeValue(nil, sb, []any{nil}); err != nil || got != nil {
		t.Errorf("single NULL: %q %v", got, err)
	}
}

func TestKafka(t *testing.T) {
	for _, tc := range []struct {
		typ  arrow.DataType
		val  any
		want []byte
	}{
		{tInt, int32(-2), []byte{0xff, 0xff, 0xff, 0xfe}},
		{tBig, int64(1), []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{tDouble, 1.0, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}},
		{tStr, "bar", []byte("bar")},
		{tStr, "", []byte{}},
		{tBytes, []byte{0, 0xff}, []byte{0, 0xff}},
	} {
		s := Spec{Format: Kafka, Fields: fields("V", tc.typ), Unwrapped: true}
		got, err := EncodeValue(nil, s, []any{tc.val})
		if err != nil || got == nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %x, %v; want %x", tc.typ, got, err, tc.want)
		}
		back, err := DecodeToValues(s, got)
		if err != nil || !reflect.DeepEqual(back, []any{tc.val}) {
			t.Errorf("%s: back %#v, %v", tc.typ, back, err)
		}
		if got, _ := EncodeValue(nil, s, []any{nil}); got != nil {
			t.Errorf("%s: NULL is not a Kafka null", tc.typ)
		}
	}
	_, err := DecodeToValues(Spec{Format: Kafka, Fields: fields("V", tInt)}, []byte{1, 2})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "Size of data received by IntegerDeserializer is not 4") {
		t.Errorf("short INT: %v", err)
	}
	// Zero fields: nothing read, a Kafka null written.
	if got, err := DecodeToValues(Spec{Format: Kafka}, []byte("x")); err != nil || len(got) != 0 {
		t.Errorf("no fields: %v %v", got, err)
	}
}

func TestNone(t *testing.T) {
	got, err := EncodeValue([]byte("keep"), Spec{Format: None}, nil)
	if err != nil || got != nil {
		t.Errorf("NONE encode: %q %v", got, err)
	}
	if v, err := DecodeToValues(Spec{Format: None}, []byte("ignored")); err != nil || len(v) != 0 {
		t.Errorf("NONE decode: %v %v", v, err)
	}
}

func TestWindowedKeys(t *testing.T) {
	be := func(v int64) []byte {
		b := make([]byte, 8)
		for i := 7; i >= 0; i-- {
			b[i] = byte(v)
			v >>= 8
		}
		return b
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, tc := range []struct {
		spec Spec
		vals []any
		want []byte
	}{
		{Spec{Format: Kafka, Fields: fields("K", tStr), Window: TimeWindow, WindowSize: 10_000},
			[]any{"a", expr.Timestamp(30_000), expr.Timestamp(40_000)}, cat([]byte("a"), be(30_000))},
		{Spec{Format: JSON, Fields: fields("K", tInt), Unwrapped: true, Window: SessionWindow},
			[]any{int32(1), expr.Timestamp(5), expr.Timestamp(9)}, cat([]byte("1"), be(9), be(5))},
		{Spec{Format: JSON, Fields: fields("K1", tInt, "K2", tStr), Window: TimeWindow, WindowSize: 1000},
			[]any{int32(1), "x", expr.Timestamp(2000), expr.Timestamp(3000)}, cat([]byte(`{"K1":1,"K2":"x"}`), be(2000))},
		{Spec{Format: Delimited, Fields: fields("K", tStr), Window: SessionWindow},
			[]any{nil, expr.Timestamp(1), expr.Timestamp(1)}, cat(be(1), be(1))},
	} {
		got, err := EncodeValue(nil, tc.spec, tc.vals)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%+v: got %x, %v; want %x", tc.spec, got, err, tc.want)
			continue
		}
		back, err := DecodeToValues(tc.spec, got)
		if err != nil || !reflect.DeepEqual(back, tc.vals) {
			t.Errorf("%+v: back %#v, %v", tc.spec, back, err)
		}
	}
	if _, err := NewDecoder(Spec{Format: Kafka, Fields: fields("K", tStr), Window: TimeWindow}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("time window without size: %v", err)
	}
}

func TestUnsupportedSpecs(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Format: Kafka, Fields: fields("A", tInt, "B", tInt)}, "The 'KAFKA' format only supports a single field. Got: [`A` INTEGER, `B` INTEGER]"},
		{Spec{Format: Kafka, Fields: fields("S", arrow.StructOf(fields("F1", tDouble)...))}, "The 'KAFKA' format does not support type 'STRUCT'"},
		{Spec{Format: Kafka, Fields: fields("B", tBool)}, "The 'KAFKA' format does not support type 'BOOLEAN'"},
		{Spec{Format: Kafka, Fields: fields("D", tDec(4, 2))}, "The 'KAFKA' format does not support type 'DECIMAL'"},
		{Spec{Format: Delimited, Fields: fields("K", arrow.ListOf(tInt))}, "The 'DELIMITED' format does not support type 'ARRAY', column: `K`"},
		{Spec{Format: Delimited, Fields: fields("K", tInt), Delimiter: '"'}, "Invalid delimiter"},
		{Spec{Format: JSON, Fields: fields("M", arrow.ListOf(arrow.MapOf(tInt, tDouble)))}, "JSON only supports MAP types with STRING keys"},
		{Spec{Format: JSON, Fields: fields("A", tInt, "B", tInt), Unwrapped: true}, "exactly one column"},
		{Spec{Format: None, Fields: fields("A", tInt)}, "The 'NONE' format can only be used when no columns are defined."},
		{Spec{Format: "AVRO"}, `unknown format "AVRO"`},
		{Spec{Format: JSON, Fields: fields("A", arrow.PrimitiveTypes.Int8)}, "no SQL counterpart"},
	} {
		for _, mk := range []func(Spec) error{
			func(s Spec) error { _, err := NewDecoder(s); return err },
			func(s Spec) error { _, err := NewEncoder(s); return err },
		} {
			err := mk(tc.spec)
			var se *SpecError
			if !errors.Is(err, ErrUnsupported) || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) || se.Hint == "" {
				t.Errorf("%+v: got %v; want *SpecError with hint containing %q", tc.spec, err, tc.want)
			}
		}
	}
}

func TestEncodeValueErrors(t *testing.T) {
	s := Spec{Format: JSON, Fields: fields("D", tDec(4, 2))}
	if _, err := EncodeValue(nil, s, []any{dec(12345, 5, 3)}); err == nil || !strings.Contains(err.Error(), "without rounding") {
		t.Errorf("decimal rescale: %v", err)
	}
	if got, err := EncodeValue(nil, s, []any{dec(15, 2, 1)}); err != nil || string(got) != `{"D":1.50}` {
		t.Errorf("decimal rescale up: %s %v", got, err)
	}
	if _, err := EncodeValue(nil, s, []any{1.5}); err == nil {
		t.Error("float64 for DECIMAL: want error")
	}
	if _, err := EncodeValue(nil, s, nil); err == nil {
		t.Error("missing values: want error")
	}
}

func TestAppendJavaDoubleMatchesFormatDouble(t *testing.T) {
	vals := []float64{0, -0.0, 1, -1, 0.1, 0.001, 0.00099, 1e7, 9999999.999, 1234.589, 0.30000000000000004,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 100, 1e-3, 123456.7, math.NaN(), math.Inf(1)}
	x := 1.0
	for i := 0; i < 2000; i++ {
		x = x*1.37 + 0.011
		if x > 1e12 {
			x = x / 3.3e11
		}
		vals = append(vals, x, -x, 1/x)
	}
	for _, v := range vals {
		if got, want := string(appendJavaDouble(nil, v)), expr.FormatDouble(v); got != want {
			t.Fatalf("%v: got %s, want %s", v, got, want)
		}
	}
}
