package server

import (
	"reflect"
	"testing"

	"github.com/sluicedb/sluice/server/pgcatalog"
)

func TestParseSignature(t *testing.T) {
	cases := []struct {
		in   string
		want pgcatalog.Signature
	}{
		{"ABS(INTEGER) -> INTEGER", pgcatalog.Signature{Args: []uint32{oidInt4}, Result: oidInt4}},
		{"PI() -> DOUBLE", pgcatalog.Signature{Result: oidFloat8}},
		{"SUBSTRING(BYTES, INTEGER, INTEGER) -> BYTES",
			pgcatalog.Signature{Args: []uint32{oidBytea, oidInt4, oidInt4}, Result: oidBytea}},
		{"CONCAT(STRING...) -> STRING",
			pgcatalog.Signature{Args: []uint32{pgcatalog.OIDTextArray}, Variadic: true, Result: oidText}},
		{"COALESCE(T, T...) -> T", pgcatalog.Signature{Args: []uint32{pgcatalog.OIDAnyElement, pgcatalog.OIDAnyArray},
			Variadic: true, Result: pgcatalog.OIDAnyElement}},
		{"ARRAY_MAX(ARRAY<T>) -> T", pgcatalog.Signature{Args: []uint32{pgcatalog.OIDAnyArray}, Result: pgcatalog.OIDAnyElement}},
		{"GENERATE_SERIES(BIGINT, BIGINT) -> ARRAY<BIGINT>",
			pgcatalog.Signature{Args: []uint32{oidInt8, oidInt8}, Result: pgcatalog.OIDInt8Array}},
		{"AS_MAP(ARRAY<STRING>, ARRAY<T>) -> MAP<STRING, T>",
			pgcatalog.Signature{Args: []uint32{pgcatalog.OIDTextArray, pgcatalog.OIDAnyArray}, Result: oidJSON}},
		{"SPLIT(STRING, STRING) -> ARRAY<ARRAY<STRING>>",
			pgcatalog.Signature{Args: []uint32{oidText, oidText}, Result: oidJSON}},
		{"TRANSFORM(ARRAY<T>, LAMBDA) -> ARRAY<U>",
			pgcatalog.Signature{Args: []uint32{pgcatalog.OIDAnyArray, pgcatalog.OIDAny}, Result: pgcatalog.OIDAnyArray}},
		{"TO_JSON_STRING(ANY) -> STRING", pgcatalog.Signature{Args: []uint32{pgcatalog.OIDAny}, Result: oidText}},
		{"ROUND(DECIMAL, INTEGER) -> ?", pgcatalog.Signature{Args: []uint32{oidNumeric, oidInt4}, Result: oidNumeric}},
		{"ENTRIES(MAP<STRING, T>, BOOLEAN) -> ?",
			pgcatalog.Signature{Args: []uint32{oidJSON, oidBool}, Result: pgcatalog.OIDAnyElement}},
		{"F(DECIMAL(10, 2), STRUCT<A INT, B ARRAY<INT>>) -> TIMESTAMP",
			pgcatalog.Signature{Args: []uint32{oidNumeric, oidJSON}, Result: oidTimestamp}},
	}
	for _, c := range cases {
		got, ok := parseSignature(c.in)
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v (%v), want %+v", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "ABS", "ABS(INTEGER", "ABS(INTEGER)", "ABS(INTEGER) INTEGER", "F(T..., T) -> T", "(INT) -> INT"} {
		if _, ok := parseSignature(bad); ok {
			t.Errorf("%q: parsed", bad)
		}
	}
}
