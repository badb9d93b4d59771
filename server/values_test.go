package server

import (
	"math"
	"math/big"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/exec/expr"
)

// Tests may import exec/expr (the layering lint skips _test files) to build
// the engine's values; the server itself recognises them by reflection.

func dec(unscaled int64, p, s int32) expr.Decimal {
	return expr.Decimal{V: decimal128.FromI64(unscaled), Precision: p, Scale: s}
}

var allTypesColumns = []sluice.Column{
	{Name: "B", Type: "BOOLEAN"},
	{Name: "I", Type: "INTEGER"},
	{Name: "L", Type: "BIGINT"},
	{Name: "D", Type: "DOUBLE"},
	{Name: "N", Type: "DECIMAL(5, 2)"},
	{Name: "S", Type: "STRING"},
	{Name: "Y", Type: "BYTES"},
	{Name: "DT", Type: "DATE"},
	{Name: "T", Type: "TIME"},
	{Name: "TS", Type: "TIMESTAMP"},
	{Name: "A", Type: "ARRAY<INTEGER>"},
	{Name: "M", Type: "MAP<STRING, DOUBLE>"},
	{Name: "ST", Type: "STRUCT<`X` INTEGER, `Y` STRING>"},
	{Name: "NUL", Type: "STRING"},
	{Name: "E", Type: "STRING"},
}

var allTypesRow = []any{
	true, int32(-7), int64(1) << 40, 0.1, dec(150, 5, 2), "héllo", []byte{0xde, 0xad},
	expr.Date(19000), expr.Time(45296789), expr.Timestamp(1700000000123),
	[]any{int32(1), nil, int32(3)},
	&expr.Map{Keys: []any{"a", "b"}, Values: []any{1.5, nil}},
	&expr.Struct{Names: []string{"X", "Y"}, Values: []any{int32(1), "q\"\n"}},
	nil, "",
}

// allTypesText is allTypesRow in Postgres text format ("<NULL>" for NULL).
var allTypesText = []string{
	"t", "-7", "1099511627776", "0.1", "1.50", "héllo", `\xdead`,
	"2022-01-08", "12:34:56.789", "2023-11-14 22:13:20.123",
	"[1,null,3]", `{"a":1.5,"b":null}`, `{"X":1,"Y":"q\"\n"}`,
	"<NULL>", "",
}

func TestAppendText(t *testing.T) {
	for i, v := range allTypesRow {
		if v == nil {
			continue
		}
		got, err := appendText(nil, v)
		if err != nil {
			t.Errorf("%s: %v", allTypesColumns[i].Name, err)
			continue
		}
		if string(got) != allTypesText[i] {
			t.Errorf("%s: appendText(%#v) = %q, want %q", allTypesColumns[i].Name, v, got, allTypesText[i])
		}
	}
	if _, err := appendText(nil, struct{}{}); err == nil {
		t.Error("appendText(struct{}{}) succeeded; want an error for an unknown Go type")
	}
}

func TestAppendFloat8(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0.1, "0.1"},
		{1, "1"},
		{-2.5, "-2.5"},
		{1e6, "1000000"},
		{123456789012345, "123456789012345"},
		{1e15, "1e+15"},
		{1.5e300, "1.5e+300"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{0.30000000000000004, "0.30000000000000004"},
		{math.Copysign(0, -1), "-0"},
		{0, "0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	} {
		if got := string(appendFloat8(nil, c.f)); got != c.want {
			t.Errorf("appendFloat8(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestAppendDecimal(t *testing.T) {
	huge, _ := new(big.Int).SetString("-12345678901234567890123456789012345678", 10)
	for _, c := range []struct {
		d    expr.Decimal
		want string
	}{
		{dec(150, 5, 2), "1.50"},
		{dec(-5, 4, 3), "-0.005"},
		{dec(0, 4, 2), "0.00"},
		{dec(42, 2, 0), "42"},
		{dec(7, 3, -2), "700"},
		{expr.Decimal{V: decimal128.FromBigInt(huge), Precision: 38, Scale: 10},
			"-1234567890123456789012345678.9012345678"},
	} {
		got, err := appendText(nil, c.d)
		if err != nil || string(got) != c.want {
			t.Errorf("appendText(%v scale %d) = %q, %v; want %q", c.d.V.BigInt(), c.d.Scale, got, err, c.want)
		}
	}
}

func TestAppendJSONNested(t *testing.T) {
	v := []any{
		expr.Date(0), expr.Timestamp(0), []byte("hi"), math.NaN(), dec(-1, 3, 2),
		&expr.Map{Keys: []any{int32(1)}, Values: []any{[]any{}}},
		"bad\xffutf8\x01",
	}
	want := `["1970-01-01","1970-01-01 00:00:00.000","aGk=","NaN",-0.01,{"1":[]},"bad\ufffdutf8\u0001"]`
	got, err := appendText(nil, v)
	if err != nil || string(got) != want {
		t.Errorf("appendText(nested) = %s, %v\nwant %s", got, err, want)
	}
}

func TestPGTypeOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		oid    uint32
		typmod int32
	}{
		{"BOOLEAN", oidBool, -1},
		{"INTEGER", oidInt4, -1},
		{"BIGINT", oidInt8, -1},
		{"DOUBLE", oidFloat8, -1},
		{"DECIMAL(10, 2)", oidNumeric, 10<<16 | 2 + 4},
		{"DECIMAL", oidNumeric, -1},
		{"STRING", oidText, -1},
		{"BYTES", oidBytea, -1},
		{"DATE", oidDate, -1},
		{"TIME", oidTime, -1},
		{"TIMESTAMP", oidTimestamp, -1},
		{"ARRAY<DATE>", oidJSON, -1},
		{"MAP<STRING, INTEGER>", oidJSON, -1},
		{"STRUCT<`A` INTEGER>", oidJSON, -1},
		{"SOMETHING_NEW", oidText, -1},
	} {
		got := pgTypeOf(c.name)
		if got.OID != c.oid || got.Typmod != c.typmod {
			t.Errorf("pgTypeOf(%q) = %+v, want oid %d typmod %d", c.name, got, c.oid, c.typmod)
		}
	}
}

// BenchmarkAppendRow renders the all-types row, the per-row work of sending
// a DataRow (reflection on the named types included).
func BenchmarkAppendRow(b *testing.B) {
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = buf[:0]
		for _, v := range allTypesRow {
			if v != nil {
				buf, _ = appendText(buf, v)
			}
		}
	}
	b.SetBytes(int64(len(buf)))
}
