package qtt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

func TestStripComments(t *testing.T) {
	in := "{\n// line\n\"a\": \"x // not a comment /* nor this */\", /* block\nspans */ \"b\": \"\\\"//\"}"
	out, err := StripComments([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) || strings.Count(string(out), "\n") != strings.Count(in, "\n") {
		t.Errorf("offsets or lines not kept: %q", out)
	}
	var v map[string]string
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if v["a"] != "x // not a comment /* nor this */" || v["b"] != `"//` {
		t.Errorf("strings changed: %q", v)
	}
	if _, err := StripComments([]byte("{/* open")); err == nil {
		t.Error("unterminated comment accepted")
	}
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		a, b         string
		equals, same bool // BigDecimal.equals, compareTo == 0
	}{
		{"1.0", "1.0", true, true},
		{"1.0", "1.00", false, true},
		{"1.0E10", "10000000000.0", false, true},
		{"1.0E10", "1.0E+10", true, true},
		{"-0.5", "-0.50", false, true},
		{"2", "3", false, false},
	} {
		a, err := parseDecimal(c.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseDecimal(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if a.equals(b) != c.equals || (a.cmp(b) == 0) != c.same {
			t.Errorf("%s vs %s: equals %v cmp %d", c.a, c.b, a.equals(b), a.cmp(b))
		}
	}
	d, _ := parseDecimal("-1.9")
	if d.longValue() != -1 || d.intValue() != -1 {
		t.Errorf("truncation of -1.9: %d %d", d.longValue(), d.intValue())
	}
	big, _ := parseDecimal("4294967297") // 2^32 + 1: intValue wraps to 1
	if big.intValue() != 1 || big.longValue() != 4294967297 {
		t.Errorf("wrap: %d %d", big.intValue(), big.longValue())
	}
	if s := d.String(); s != "-1.9" {
		t.Errorf("String: %s", s)
	}
	if _, err := parseDecimal("1.2.3"); err == nil {
		t.Error("bad decimal accepted")
	}
}

func mustActual(t *testing.T, text string) any {
	t.Helper()
	v, err := parseActualJSON([]byte(text), true)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustExpected(t *testing.T, text string) any {
	t.Helper()
	v, err := parseExpected(json.RawMessage(text))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestComparator covers the rules of SPEC 3.7, including Java's quirks.
func TestComparator(t *testing.T) {
	for _, c := range []struct {
		expected, actual string
		match            bool
	}{
		{`1`, `1`, true},
		{`1.0`, `1`, true},  // intValue() of the expected decimal
		{`1.5`, `1`, true},  // truncation, as in Java
		{`1`, `1.0`, false}, // an integer literal needs an actual scale <= 0
		{`1.0`, `1.0`, true},
		{`1.0`, `1.00`, false}, // scale-sensitive
		{`1.0E10`, `10000000000.0`, false},
		{`9223372036854775807`, `9223372036854775807`, true},
		{`"1.50"`, `1.50`, true}, // a string matches an equal BigDecimal
		{`"1.5"`, `1.50`, false},
		{`"a"`, `"a"`, true},
		{`"a"`, `"A"`, false},
		{`true`, `true`, true},
		{`true`, `"true"`, false},
		{`null`, `null`, true},
		{`null`, `0`, false},
		{`{"a": 1, "B": 2}`, `{"A": 1, "B": 2}`, true}, // expected names may be lower case
		{`{"A": 1}`, `{"A": 1, "B": 2}`, false},        // extra actual fields fail
		{`{"a": 1}`, `{"b": 1}`, false},
		{`[1, 2]`, `[1, 2]`, true},
		{`[1, 2]`, `[2, 1]`, false},
		{`[1]`, `[1, 2]`, false},
		{`{"m": {"k": [1.25]}}`, `{"M": {"k": [1.25]}}`, true},
	} {
		d := compareValue(mustExpected(t, c.expected), mustActual(t, c.actual), "value")
		if (d == "") != c.match {
			t.Errorf("expected %s vs actual %s: match=%v, want %v (%s)", c.expected, c.actual, d == "", c.match, d)
		}
	}
	// Doubles (binary formats) compare within 1e-6.
	if d := compareValue(mustExpected(t, `0.1`), 0.1000000001, "v"); d != "" {
		t.Error(d)
	}
	if d := compareValue(mustExpected(t, `0.1`), 0.11, "v"); d == "" {
		t.Error("0.1 matched 0.11")
	}
	// BYTES match their base64 text.
	if d := compareValue(mustExpected(t, `"IQ=="`), []byte("!"), "v"); d != "" {
		t.Error(d)
	}
	// Inexact mode parses floats as doubles.
	v, err := parseActualJSON([]byte(`1.50`), false)
	if err != nil || v != 1.5 {
		t.Errorf("inexact parse: %v %v", v, err)
	}
}

func TestParseSchema(t *testing.T) {
	cols, err := parseSchema("ID BIGINT KEY, `k` STRING PRIMARY KEY, S STRUCT<F1 VARCHAR, `foo` ARRAY<INT>>, " +
		"M MAP<STRING, DECIMAL(4,2)>, E STRUCT< >, H ARRAY<STRUCT<`KEY` STRING, `VALUE` BYTES>> HEADERS, H1 BYTES HEADER('abc')")
	if err != nil {
		t.Fatal(err)
	}
	want := []schemaColumn{
		{Name: "ID", Type: sql.Bigint, Role: sql.ColKey},
		{Name: "k", Type: sql.String, Role: sql.ColKey},
		{Name: "S", Type: &sql.Type{Kind: sql.TypeStruct, Fields: []sql.Field{
			{Name: "F1", Type: sql.String}, {Name: "foo", Type: sql.ArrayOf(sql.Int)}}}},
		{Name: "M", Type: sql.MapOf(sql.String, sql.Decimal(4, 2))},
		{Name: "E", Type: &sql.Type{Kind: sql.TypeStruct}},
		{Name: "H", Type: sql.ArrayOf(&sql.Type{Kind: sql.TypeStruct, Fields: []sql.Field{
			{Name: "KEY", Type: sql.String}, {Name: "VALUE", Type: sql.Bytes}}}), Role: sql.ColHeaders},
		{Name: "H1", Type: sql.Bytes, Role: sql.ColHeader, HeaderKey: "abc"},
	}
	if d := compareSchemas(want, cols); d != "" {
		t.Error(d)
	}
	if d := compareSchemas(want[:1], cols[:2]); d == "" {
		t.Error("different lengths matched")
	}
	for _, bad := range []string{"ID", "ID FOO", "ID DECIMAL(4)", "ID INT KEY,", "S STRUCT<A INT"} {
		if _, err := parseSchema(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if cols, err := parseSchema("  "); err != nil || cols != nil {
		t.Errorf("empty schema: %v %v", cols, err)
	}
}

func TestDeclaredTopic(t *testing.T) {
	for _, c := range []struct {
		stmt  string
		topic string
		parts int32
		ok    bool
	}{
		{"CREATE STREAM S (ID INT KEY, M MAP<STRING, INT>) WITH (kafka_topic='t1', value_format='JSON', partitions=4);", "t1", 4, true},
		{"create or replace table T (ID INT PRIMARY KEY) with (KAFKA_TOPIC='T2', format='json');", "T2", 0, true},
		{"CREATE SOURCE STREAM IF NOT EXISTS `s` (a INT) WITH (kafka_topic='x''y', value_format='JSON');", "x'y", 0, true},
		{"CREATE STREAM S AS SELECT * FROM T;", "", 0, false},
		{"CREATE STREAM S WITH (kafka_topic='t', value_format='AVRO');", "", 0, false},
		{"CREATE STREAM S WITH (kafka_topic='t') AS SELECT * FROM T;", "", 0, false},
		{"INSERT INTO S VALUES (1);", "", 0, false},
	} {
		topic, parts, ok := declaredTopic(c.stmt)
		if topic != c.topic || parts != c.parts || ok != c.ok {
			t.Errorf("%s: got %q %d %v", c.stmt, topic, parts, ok)
		}
	}
	if !isPushQuery("select * from s emit changes limit 2;") || isPushQuery("SELECT 'EMIT CHANGES' FROM T;") {
		t.Error("isPushQuery")
	}
	if firstWord("  -- c\n select 1") != "SELECT" {
		t.Error("firstWord")
	}
}

func TestExpandAndSkip(t *testing.T) {
	f := &File{Stem: "f", Tests: []*TestObject{{
		Name:       "t",
		Statements: []string{"CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='{FORMAT}');"},
		Format:     []string{"AVRO", "JSON"},
		Config:     []string{"true", "false"},
		Properties: map[string]any{"p": "{CONFIG}", "n": json.Number("0"), "b": true},
		Inputs:     []Record{{Topic: "t", Value: json.RawMessage("{}")}},
	}}}
	if err := f.Tests[0].validate(false); err != nil {
		t.Fatal(err)
	}
	cases := f.Expand()
	var names []string
	for _, c := range cases {
		names = append(names, c.Name)
	}
	want := "f - t - AVRO - p=true|f - t - AVRO - p=false|f - t - JSON - p=true|f - t - JSON - p=false"
	if strings.Join(names, "|") != want {
		t.Fatalf("names: %q", names)
	}
	if !strings.Contains(cases[2].Statements[0], "value_format='JSON'") || cases[3].Properties["p"] != "false" ||
		cases[0].Properties["n"] != "0" || cases[0].Properties["b"] != "true" {
		t.Errorf("expansion: %+v %+v", cases[2].Statements, cases[3].Properties)
	}
	if r := cases[0].SkipReason(); r != "needs schema-registry format AVRO" {
		t.Errorf("AVRO skip: %q", r)
	}
	if r := cases[2].SkipReason(); r != "" {
		t.Errorf("JSON skip: %q", r)
	}
	noFormat := (&File{Stem: "g", Tests: []*TestObject{{Name: "u", Statements: []string{"SELECT '{FORMAT}', Bad_Udf(x) FROM s;"}}}}).Expand()
	if !strings.Contains(noFormat[0].Statements[0], missingFormat) {
		t.Errorf("missing format text: %s", noFormat[0].Statements[0])
	}
	if r := noFormat[0].SkipReason(); r != "uses ksqlDB test-only function BAD_UDF" {
		t.Errorf("test-only skip: %q", r)
	}
	disabled := false
	if r := (&Case{Test: &TestObject{Enabled: &disabled}}).SkipReason(); r == "" {
		t.Error("disabled case not skipped")
	}
	bad := &TestObject{Name: "x", Statements: []string{"s"}, Config: []string{"a"}}
	if bad.validate(false) == nil {
		t.Error("config without {CONFIG} property accepted")
	}
	if (&TestObject{Name: "x", Statements: []string{"s"}}).validate(false) == nil {
		t.Error("case with neither outputs nor expectedException accepted")
	}
}

func testSource(keyFmt, valFmt string, key, val []planner.Column, win *planner.Window) *sluice.Source {
	cols := append(append([]planner.Column(nil), key...), val...)
	return &sluice.Source{Name: "S", Topic: "t", Columns: cols, Window: win,
		KeyFormat: planner.Format{Name: keyFmt}, ValueFormat: planner.Format{Name: valFmt}}
}

func TestSerde(t *testing.T) {
	intKey := []planner.Column{{Name: "K", Type: sql.Int, Role: sql.ColKey}}
	dbl := []planner.Column{{Name: "V", Type: sql.Double}}
	src := testSource("KAFKA", "KAFKA", intKey, dbl, nil)
	r := &Record{Key: json.RawMessage("-2"), Value: json.RawMessage("1.5")}
	k, err := encodeKey(src, r)
	if err != nil || binary.BigEndian.Uint32(k) != uint32(0xfffffffe) || len(k) != 4 {
		t.Fatalf("KAFKA INT key: %x %v", k, err)
	}
	v, err := encodeValue(src, r)
	if err != nil || math.Float64frombits(binary.BigEndian.Uint64(v)) != 1.5 {
		t.Fatalf("KAFKA DOUBLE value: %x %v", v, err)
	}
	dk, win, err := decodeKey(src, k, true)
	if err != nil || dk != int32(-2) || win != nil {
		t.Errorf("decode key: %v %v %v", dk, win, err)
	}
	dv, err := decodeValue(src, v, true)
	if err != nil || dv != 1.5 {
		t.Errorf("decode value: %v %v", dv, err)
	}
	if _, err := encodeKey(src, &Record{Key: json.RawMessage(`"x"`)}); err == nil {
		t.Error("string accepted for KAFKA INT")
	}

	// JSON: the text as written, a null value is a tombstone.
	js := testSource("JSON", "JSON", intKey, dbl, nil)
	v, err = encodeValue(js, &Record{Value: json.RawMessage(`{ "V" : 10.1234512345123451234 }`)})
	if err != nil || string(v) != `{"V":10.1234512345123451234}` {
		t.Errorf("JSON value: %s %v", v, err)
	}
	if v, err := encodeValue(js, &Record{Value: json.RawMessage(`null`)}); err != nil || v != nil {
		t.Errorf("tombstone: %v %v", v, err)
	}

	// Windowed keys: time = key ‖ start; session = key ‖ end ‖ start.
	strKey := []planner.Column{{Name: "K", Type: sql.String, Role: sql.ColKey}}
	tw := testSource("KAFKA", "JSON", strKey, dbl, &planner.Window{Type: "HOPPING", Size: 5000})
	k, err = encodeKey(tw, &Record{Key: json.RawMessage(`"a"`), Window: &Window{Start: 1000, End: 6000, Type: "time"}})
	if err != nil || string(k[:1]) != "a" || len(k) != 9 || binary.BigEndian.Uint64(k[1:]) != 1000 {
		t.Fatalf("time window key: %x %v", k, err)
	}
	dk, win, err = decodeKey(tw, k, true)
	if err != nil || dk != "a" || win == nil || win.Start != 1000 || win.End != 6000 || win.IsSession() {
		t.Errorf("decode time window: %v %+v %v", dk, win, err)
	}
	sw := testSource("KAFKA", "JSON", strKey, dbl, &planner.Window{Type: "SESSION"})
	k, err = encodeKey(sw, &Record{Key: json.RawMessage(`"a"`), Window: &Window{Start: 10, End: 20, Type: "session"}})
	if err != nil || len(k) != 17 || binary.BigEndian.Uint64(k[1:9]) != 20 || binary.BigEndian.Uint64(k[9:]) != 10 {
		t.Fatalf("session window key: %x %v", k, err)
	}
	dk, win, err = decodeKey(sw, k, true)
	if err != nil || dk != "a" || win == nil || win.Start != 10 || win.End != 20 || !win.IsSession() {
		t.Errorf("decode session window: %v %+v %v", dk, win, err)
	}
	if _, _, err := decodeKey(sw, []byte("short"), true); err == nil {
		t.Error("short session key decoded")
	}

	// DELIMITED: the string as written.
	dl := testSource("DELIMITED", "DELIMITED", intKey, dbl, nil)
	v, err = encodeValue(dl, &Record{Value: json.RawMessage(`"1,,x"`)})
	if err != nil || string(v) != "1,,x" {
		t.Errorf("DELIMITED: %q %v", v, err)
	}

	// Owning source: sinks for outputs, plain sources for inputs.
	in := &sluice.Source{Name: "A", Topic: "t"}
	sink := &sluice.Source{Name: "B", Topic: "t", Query: "CSAS_B_0"}
	if owningSource([]*sluice.Source{in, sink}, "t", true) != sink || owningSource([]*sluice.Source{in, sink}, "t", false) != in ||
		owningSource([]*sluice.Source{in}, "u", false) != nil {
		t.Error("owningSource")
	}
}

func TestScoreLine(t *testing.T) {
	got := ScoreLine("conformance", Tally{Pass: 412, Fail: 524, Skip: 120, Negative: 10, RightStage: 7, SameMessage: 3})
	want := "conformance: 412/936 portable cases pass (44.0%), 120 skipped; expected errors: 7/10 fail at the right stage, 3/10 with the same message"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBaseline(t *testing.T) {
	path := t.TempDir() + "/b.txt"
	mk := func(name string, s Status) *Result { return &Result{Case: &Case{Name: name}, Status: s} }
	if err := WriteBaseline(path, []*Result{mk("b", Pass), mk("a", Pass), mk("c", Fail)}); err != nil {
		t.Fatal(err)
	}
	base, err := ReadBaseline(path)
	if err != nil || len(base) != 2 || !base["a"] || !base["b"] {
		t.Fatalf("baseline: %v %v", base, err)
	}
	reg := Regressions(base, []*Result{mk("a", Pass), mk("b", Fail), mk("c", Fail)})
	if len(reg) != 1 || reg[0].Case.Name != "b" {
		t.Errorf("regressions: %v", reg)
	}
	if b, err := ReadBaseline(t.TempDir() + "/none"); err != nil || len(b) != 0 {
		t.Errorf("missing baseline: %v %v", b, err)
	}
}

func TestMessageMatches(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &sql.Error{Code: sql.CodeInvalidParameter, Msg: "Format 'KAFKA' is bad", Hint: "use JSON"})
	for _, c := range []struct {
		want string
		ok   bool
	}{
		{"", true},
		{"Format 'KAFKA' is bad.", true}, // Java's trailing period
		{"'KAFKA' is", true},
		{"use JSON", true},
		{"Format 'JSON'", false},
	} {
		if got := messageMatches(err, c.want); got != c.ok {
			t.Errorf("%q: %v", c.want, got)
		}
	}
	res := &Result{}
	checkError(res, &ExpectedException{Type: "org.apache.kafka.streams.errors.StreamsException"}, stageStatement, err, 0)
	if res.Status != Fail || res.RightStage {
		t.Errorf("a statement error matched a StreamsException: %+v", res)
	}
	res = &Result{}
	checkError(res, &ExpectedException{Type: "io.confluent.ksql.util.KsqlStatementException", Message: "is bad"}, stageStatement, err, 0)
	if res.Status != Pass || !res.RightStage || !res.SameMessage {
		t.Errorf("matching statement error: %+v", res)
	}
}

func TestKsqlPositionInMessage(t *testing.T) {
	err := &sql.Error{Code: sql.CodeAmbiguousColumn, Msg: "Column 'ID' is ambiguous", Pos: sql.Pos{Line: 1, Col: 84}}
	exp := &ExpectedException{Type: "io.confluent.ksql.util.KsqlStatementException",
		Message: "Exception while preparing statement: Line: 3, Col: 84: Column 'ID' is ambiguous."}
	for _, c := range []struct {
		linesBefore int
		pass        bool
	}{{2, true}, {1, false}, {3, false}} {
		res := &Result{}
		checkError(res, exp, stageStatement, err, c.linesBefore)
		if res.SameMessage != c.pass {
			t.Errorf("%d lines before: same message %v, want %v", c.linesBefore, res.SameMessage, c.pass)
		}
	}
	res := &Result{}
	exp.Message = "Line: 3, Col: 80: Column 'ID' is ambiguous."
	if checkError(res, exp, stageStatement, err, 2); res.SameMessage {
		t.Errorf("another column matched")
	}
	if n := linesBefore([]string{"a;", "b\nc;"}); n != 3 {
		t.Errorf("linesBefore: %d", n)
	}
}
