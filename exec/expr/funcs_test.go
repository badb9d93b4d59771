package expr

import (
	"math"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
)

func TestStringFunctions(t *testing.T) {
	null := &Lit{Type: StringType}
	runCases(t, []fcase{
		{"UCASE", []any{"abC"}, "ABC", false},
		{"LCASE", []any{null}, nil, false},
		{"TRIM", []any{" \t a b \n"}, "a b", false},
		{"LEN", []any{"a😀"}, int32(3), false},
		{"SUBSTRING", []any{"hello", int32(2)}, "ello", false},
		{"SUBSTRING", []any{"hello", int32(-3), int32(2)}, "ll", false},
		{"SUBSTRING", []any{"hello", int32(0), int32(2)}, "he", false},
		{"SUBSTRING", []any{"hello", int32(9)}, "", false},
		{"SUBSTRING", []any{"hello", int32(2), int32(-1)}, "", false},
		{"SUBSTRING", []any{null, int32(2)}, nil, false},
		{"CONCAT", []any{"a", null, "b"}, "ab", false},
		{"CONCAT_WS", []any{"-", "a", null, "b"}, "a-b", false},
		{"CONCAT_WS", []any{null, "a"}, nil, false},
		{"REPLACE", []any{"aXbX", "X", "y"}, "ayby", false},
		{"INSTR", []any{"CORPORATE FLOOR", "OR"}, int32(2), false},
		{"INSTR", []any{"CORPORATE FLOOR", "OR", int32(3)}, int32(5), false},
		{"INSTR", []any{"CORPORATE FLOOR", "OR", int32(3), int32(2)}, int32(14), false},
		{"INSTR", []any{"CORPORATE FLOOR", "OR", int32(-3), int32(2)}, int32(2), false},
		{"INSTR", []any{"CORPORATE FLOOR", "MOM"}, int32(0), false},
		{"LPAD", []any{"ab", int32(5), "xy"}, "xyxab", false},
		{"RPAD", []any{"abcdef", int32(3), "x"}, "abc", false},
		{"LPAD", []any{"ab", int32(5), ""}, nil, false},
		{"INITCAP", []any{"hello wORLD  x"}, "Hello World  X", false},
		{"SPLIT", []any{",a,", ","}, []any{"", "a", ""}, false},
		{"SPLIT", []any{"ab", ""}, []any{"a", "b"}, false},
		{"REGEXP_REPLACE", []any{"a1b22", "(\\d+)", "<$1>"}, "a<1>b<22>", false},
		{"REGEXP_EXTRACT", []any{"(\\d)(\\d)", "a12", int32(2)}, "2", false},
		{"REGEXP_EXTRACT", []any{"x", "a12"}, nil, false},
		{"REGEXP_EXTRACT_ALL", []any{"\\d", "a1b2"}, []any{"1", "2"}, false},
		{"REGEXP_REPLACE", []any{"a", "(", "b"}, nil, true},
		{"MASK", []any{"Ab1-"}, "Xxn-", false},
		{"MASK_LEFT", []any{"Abcd", int32(2)}, "Xxcd", false},
		{"MASK_KEEP_RIGHT", []any{"Abcd", int32(1)}, "Xxxd", false},
		{"ELT", []any{int32(2), "a", "b"}, "b", false},
		{"ELT", []any{int32(3), "a", "b"}, nil, false},
		{"FIELD", []any{"b", "a", "b"}, int32(2), false},
		{"CHR", []any{int32(75)}, "K", false},
		{"CHR", []any{"\\u004b"}, "K", false},
		{"TO_BYTES", []any{"4B", "hex"}, []byte("K"), false},
		{"FROM_BYTES", []any{[]byte("K"), "hex"}, "4B", false},
		{"TO_BYTES", []any{"4B", "nope"}, nil, true},
		{"INT_FROM_BYTES", []any{[]byte{0, 0, 1, 2}}, int32(258), false},
		{"INT_FROM_BYTES", []any{[]byte{2, 1, 0, 0}, "little_endian"}, int32(258), false},
		{"INT_FROM_BYTES", []any{[]byte{0xff, 0xff, 0xff, 0xfe}}, int32(-2), false},
		{"INT_FROM_BYTES", []any{[]byte{1, 2, 3}}, nil, true},
		{"INT_FROM_BYTES", []any{[]byte{0, 0, 1, 2}, "MIDDLE_ENDIAN"}, nil, true},
		{"BIGINT_FROM_BYTES", []any{[]byte{0, 0, 0, 0, 0, 0, 1, 0}}, int64(256), false},
		{"DOUBLE_FROM_BYTES", []any{[]byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}}, 1.0, false},
		{"ENCODE", []any{"Hello", "utf8", "base64"}, "SGVsbG8=", false},
		{"MD5", []any{"a"}, "0cc175b9c0f1b6a831c399e269772661", false},
	})
}

func TestMathAndConditional(t *testing.T) {
	runCases(t, []fcase{
		{"ABS", []any{int32(-3)}, int32(3), false},
		{"ABS", []any{dec("-3.2", 2, 1)}, dec("3.2", 2, 1), false},
		{"CEIL", []any{dec("1.21", 3, 2)}, dec("2.00", 3, 2), false},
		{"FLOOR", []any{-1.5}, -2.0, false},
		{"ROUND", []any{2.5}, int64(3), false},
		{"ROUND", []any{-2.5}, int64(-2), false},
		{"ROUND", []any{1.234567, int32(2)}, 1.23, false},
		{"ROUND", []any{123.4, int32(-1)}, 120.0, false},
		{"ROUND", []any{dec("1.25", 3, 2)}, dec("1", 1, 0), false},
		{"ROUND", []any{dec("-1.5", 2, 1)}, dec("-1", 1, 0), false},
		{"ROUND", []any{-1.5, int32(0)}, -1.0, false},
		{"ROUND", []any{-1.55, int32(1)}, -1.5, false},
		{"ROUND", []any{dec("1.25", 3, 2), int32(1)}, dec("1.30", 3, 2), false},
		{"TRUNC", []any{dec("-1.75", 3, 2)}, dec("-1", 1, 0), false},
		{"TRUNC", []any{1.789, int32(1)}, 1.7, false},
		{"SIGN", []any{-2.0}, int32(-1), false},
		{"SQRT", []any{int32(4)}, 2.0, false},
		{"LOG", []any{int32(100)}, math.Log(100), false},
		{"LOG", []any{15.0, 13.0}, math.Log(13) / math.Log(15), false},
		{"POWER", []any{int32(2), int32(10)}, 1024.0, false},
		{"GREATEST", []any{int32(1), lit(nil), int32(5)}, int32(5), false},
		{"LEAST", []any{"b", "a"}, "a", false},
		{"COALESCE", []any{lit(nil), int32(2), int64(3)}, int64(2), false},
		{"IFNULL", []any{&Lit{Type: StringType}, "x"}, "x", false},
		{"NULLIF", []any{dec("1.0", 2, 1), dec("1.0", 2, 1)}, nil, false},
		{"GENERATE_SERIES", []any{int32(3), int32(1)}, []any{int32(3), int32(2), int32(1)}, false},
		{"GENERATE_SERIES", []any{int32(1), int32(3), int32(0)}, nil, true},
	})
}

func TestJSONFunctions(t *testing.T) {
	doc := `{"a":{"b":[1,{"c":"x"}],"n":null},"z":1.50}`
	runCases(t, []fcase{
		{"EXTRACTJSONFIELD", []any{doc, "$.a.b[1].c"}, "x", false},
		{"EXTRACTJSONFIELD", []any{doc, "$.a.b"}, `[1,{"c":"x"}]`, false},
		{"EXTRACTJSONFIELD", []any{doc, "$['z']"}, "1.50", false},
		{"EXTRACTJSONFIELD", []any{doc, "$.a.n"}, "null", false},
		{"EXTRACTJSONFIELD", []any{doc, "$.missing"}, nil, false},
		{"IS_JSON_STRING", []any{`"a"`}, true, false},
		{"IS_JSON_STRING", []any{""}, false, false},
		{"JSON_ARRAY_LENGTH", []any{"[1,2]"}, int32(2), false},
		{"JSON_KEYS", []any{`{"b":1,"a":2}`}, []any{"b", "a"}, false},
		{"JSON_CONCAT", []any{`{"a":1}`, `{"b":2,"a":3}`}, `{"a":3,"b":2}`, false},
		{"JSON_CONCAT", []any{`[1]`, `2`}, `[1,2]`, false},
		{"JSON_ARRAY_CONTAINS", []any{"[1,2]", int32(2)}, true, false},
		{"TO_JSON_STRING", []any{call(t, "MAP", lit("b"), lit(1.0), lit("a"), lit(2.5))}, `{"a":2.5,"b":1.0}`, false},
	})
}

func TestCollectionFunctions(t *testing.T) {
	arr := func(vs ...any) Node {
		args := make([]Node, len(vs))
		for i, v := range vs {
			args[i] = lit(v)
		}
		return call(t, "ARRAY", args...)
	}
	runCases(t, []fcase{
		{"ARRAY_LENGTH", []any{arr(int32(1), int32(2))}, int32(2), false},
		{"ARRAY_CONTAINS", []any{arr(int32(1), int32(2)), int64(2)}, true, false},
		{"ARRAY_DISTINCT", []any{arr("a", "b", "a")}, []any{"a", "b"}, false},
		{"ARRAY_EXCEPT", []any{arr(int32(1), int32(2)), arr(int32(2))}, []any{int32(1)}, false},
		{"ARRAY_UNION", []any{arr(int32(1)), arr(int32(2), int32(1))}, []any{int32(1), int32(2)}, false},
		{"ARRAY_MAX", []any{arr("Z", "a")}, "a", false},
		{"ARRAY_SORT", []any{arr(int32(3), int32(1)), "DESC"}, []any{int32(3), int32(1)}, false},
		{"ARRAY_JOIN", []any{arr(int32(1), int32(2)), "|"}, "1|2", false},
		{"SLICE", []any{arr(int32(1), int32(2), int32(3)), int32(2), int32(3)}, []any{int32(2), int32(3)}, false},
		{"SLICE", []any{arr(int32(1)), int32(0), int32(1)}, nil, false},
		{"MAP_KEYS", []any{call(t, "MAP", lit("a"), lit(int32(1)))}, []any{"a"}, false},
	})
}

func TestLambdas(t *testing.T) {
	xs := call(t, "ARRAY", lit(int32(1)), lit(int32(2)), lit(int32(3)))
	ptypes, err := LambdaParamTypes("TRANSFORM", []arrow.DataType{xs.Type, nil}, 1)
	if err != nil || len(ptypes) != 1 || !TypesEqual(ptypes[0], IntType) {
		t.Fatalf("LambdaParamTypes = %v, %v", ptypes, err)
	}
	x := &LambdaVar{Name: "X", Index: 0, Type: IntType}
	double := &Lambda{Params: []string{"X"}, Types: ptypes, Body: call(t, "*", x, lit(int32(2)))}
	got, rerr := evalOne(t, call(t, "TRANSFORM", xs, double))
	if rerr != nil || !sameValue(got, []any{int32(2), int32(4), int32(6)}) {
		t.Fatalf("TRANSFORM = %v, %v", got, rerr)
	}
	odd := &Lambda{Params: []string{"X"}, Types: ptypes, Body: call(t, "=", call(t, "%", x, lit(int32(2))), lit(int32(1)))}
	got, _ = evalOne(t, call(t, "FILTER", xs, odd))
	if !sameValue(got, []any{int32(1), int32(3)}) {
		t.Fatalf("FILTER = %v", got)
	}
	rt, err := LambdaParamTypes("REDUCE", []arrow.DataType{xs.Type, BigintType, nil}, 2)
	if err != nil || len(rt) != 2 {
		t.Fatalf("REDUCE params = %v, %v", rt, err)
	}
	s := &LambdaVar{Name: "S", Index: 0, Type: BigintType}
	e := &LambdaVar{Name: "E", Index: 1, Type: IntType}
	sum := &Lambda{Params: []string{"S", "E"}, Types: rt, Body: call(t, "+", s, e)}
	got, _ = evalOne(t, call(t, "REDUCE", xs, lit(int64(10)), sum))
	if got != int64(16) {
		t.Fatalf("REDUCE = %v", got)
	}
}

func TestTimeFunctions(t *testing.T) {
	ts := Timestamp(1590534000123) // 2020-05-26T23:00:00.123Z
	runCases(t, []fcase{
		{"FORMAT_TIMESTAMP", []any{ts, "yyyy-MM-dd'T'HH:mm:ss.SSS"}, "2020-05-26T23:00:00.123", false},
		{"FORMAT_TIMESTAMP", []any{ts, "yyyy-MM-dd HH:mm", "+02:00"}, "2020-05-27 01:00", false},
		{"FORMAT_TIMESTAMP", []any{ts, "yyyy-MM-dd", "Nowhere/City"}, nil, true},
		{"PARSE_TIMESTAMP", []any{"2020-05-26 23:00:00.123", "yyyy-MM-dd HH:mm:ss.SSS"}, ts, false},
		{"PARSE_TIMESTAMP", []any{"2020-05-27 01:00", "yyyy-MM-dd HH:mm", "Europe/Paris"}, Timestamp(1590534000000), false},
		{"PARSE_TIMESTAMP", []any{"nope", "yyyy"}, nil, true},
		{"STRINGTOTIMESTAMP", []any{"2020-05-26", "yyyy-MM-dd", "UTC"}, int64(1590451200000), false},
		{"TIMESTAMPTOSTRING", []any{int64(0), "yyyy-MM-dd HH:mm:ss", "UTC"}, "1970-01-01 00:00:00", false},
		{"FORMAT_DATE", []any{Date(18408), "dd/MM/yyyy"}, "26/05/2020", false},
		{"PARSE_DATE", []any{"26/05/2020", "dd/MM/yyyy"}, Date(18408), false},
		{"FROM_UNIXTIME", []any{int64(1000)}, Timestamp(1000), false},
		{"UNIX_TIMESTAMP", []any{ts}, int64(1590534000123), false},
		{"TIMESTAMPADD", []any{"SECONDS", int32(5), ts}, Timestamp(1590534005123), false},
		{"TIMESTAMPSUB", []any{"DAYS", int32(1), ts}, Timestamp(1590534000123 - msPerDay), false},
		{"DATEADD", []any{"HOURS", int32(23), Date(10)}, Date(10), false},
		{"DATEADD", []any{"DAYS", int32(2), Date(10)}, Date(12), false},
		{"TIMEADD", []any{"HOURS", int32(2), Time(23 * 3600000)}, Time(3600000), false},
		{"CONVERT_TZ", []any{Timestamp(0), "UTC", "+01:00"}, Timestamp(3600000), false},
	})
}

func TestURLFunctions(t *testing.T) {
	u := "http://user@www.test.com:8080/nested/path?query=a%20b&flag#frag"
	runCases(t, []fcase{
		{"URL_EXTRACT_PROTOCOL", []any{u}, "http", false},
		{"URL_EXTRACT_HOST", []any{u}, "www.test.com", false},
		{"URL_EXTRACT_PORT", []any{u}, int32(8080), false},
		{"URL_EXTRACT_PATH", []any{u}, "/nested/path", false},
		{"URL_EXTRACT_QUERY", []any{u}, "query=a b&flag", false},
		{"URL_EXTRACT_FRAGMENT", []any{u}, "frag", false},
		{"URL_EXTRACT_PARAMETER", []any{u, "query"}, "a b", false},
		{"URL_EXTRACT_PARAMETER", []any{u, "flag"}, "", false},
		{"URL_EXTRACT_PARAMETER", []any{u, "none"}, nil, false},
		{"URL_ENCODE_PARAM", []any{"a b&c"}, "a+b%26c", false},
		{"URL_DECODE_PARAM", []any{"a+b%26c"}, "a b&c", false},
	})
}

func TestParseTimestampTextPartialAndEndOfDay(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // RFC 3339 in UTC, "" for an error
	}{
		{"2020-02-22T23:45", "2020-02-22T23:45:00Z"},
		{"2020-02-24", "2020-02-24T00:00:00Z"},
		{"2020-02-24T24", "2020-02-25T00:00:00Z"},
		{"2020-02-29T24:00:00", "2020-03-01T00:00:00Z"},
		{"2020-02-24T24:01", ""},
		{"2020-02-24T25", ""},
	} {
		got, err := ParseTimestampText(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: got %d, want an error", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s := time.UnixMilli(int64(got)).UTC().Format(time.RFC3339); s != c.want {
			t.Errorf("%q: got %s, want %s", c.in, s, c.want)
		}
	}
}
