package server

import (
	"strconv"
	"strings"
)

// Postgres type OIDs (pg_type.oid) of the types sluice columns map to. They
// are fixed by Postgres, so drivers decode by them.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidNumeric     = 1700
	oidJSONB       = 3802
)

// pgType is how a sluice column type is described in RowDescription.
type pgType struct {
	OID    uint32
	Size   int16 // pg_type.typlen; -1 for variable length
	Typmod int32 // -1 when the type has no modifier
}

// pgTypeOf maps a ksqlDB type name, as sluice.Column.Type spells it
// ("INTEGER", "DECIMAL(10, 2)", "ARRAY<STRING>", ...), to the Postgres type
// that describes its text rendering. ARRAY, MAP and STRUCT are sent as json:
// Postgres arrays cannot hold maps or structs, JSON is what ksqlDB users read
// anyway, and drivers decode json into their native maps and lists. Unknown
// names fall back to text, which every client can display.
func pgTypeOf(name string) pgType {
	name = strings.ToUpper(strings.TrimSpace(name))
	base := name
	if i := strings.IndexAny(name, "(<"); i >= 0 {
		base = strings.TrimSpace(name[:i])
	}
	switch base {
	case "BOOLEAN":
		return pgType{oidBool, 1, -1}
	case "INTEGER", "INT":
		return pgType{oidInt4, 4, -1}
	case "BIGINT":
		return pgType{oidInt8, 8, -1}
	case "DOUBLE":
		return pgType{oidFloat8, 8, -1}
	case "DECIMAL":
		return pgType{oidNumeric, -1, numericTypmod(name)}
	case "BYTES":
		return pgType{oidBytea, -1, -1}
	case "DATE":
		return pgType{oidDate, 4, -1}
	case "TIME":
		return pgType{oidTime, 8, -1}
	case "TIMESTAMP":
		return pgType{oidTimestamp, 8, -1}
	case "ARRAY", "MAP", "STRUCT":
		return pgType{oidJSON, -1, -1}
	}
	return pgType{oidText, -1, -1}
}

// numericTypmod encodes DECIMAL(p, s) the way Postgres encodes numeric(p,s)
// in atttypmod: ((p << 16) | s) + VARHDRSZ. It returns -1 when the name has
// no well-formed precision and scale.
func numericTypmod(name string) int32 {
	open, close := strings.IndexByte(name, '('), strings.IndexByte(name, ')')
	if open < 0 || close < open {
		return -1
	}
	ps, ss, ok := strings.Cut(name[open+1:close], ",")
	if !ok {
		return -1
	}
	p, err1 := strconv.Atoi(strings.TrimSpace(ps))
	s, err2 := strconv.Atoi(strings.TrimSpace(ss))
	if err1 != nil || err2 != nil || p <= 0 || p > 1000 || s < 0 || s > p {
		return -1
	}
	return int32(p<<16|s) + 4
}

// pgTypeByOID describes the types the compatibility layer and parameter
// inference produce directly by OID.
func pgTypeByOID(oid uint32) pgType {
	switch oid {
	case oidBool, oidChar:
		return pgType{oid, 1, -1}
	case oidInt2:
		return pgType{oid, 2, -1}
	case oidInt4, oidOID, oidFloat4, oidDate:
		return pgType{oid, 4, -1}
	case oidInt8, oidFloat8, oidTime, oidTimestamp, oidTimestampTZ:
		return pgType{oid, 8, -1}
	case oidName:
		return pgType{oid, 64, -1}
	}
	return pgType{oid, -1, -1}
}

// pgTypeName is the SQL name of a type OID, for parameter inference from
// casts and for error messages.
func pgTypeName(oid uint32) string {
	switch oid {
	case oidBool:
		return "boolean"
	case oidBytea:
		return "bytea"
	case oidInt2:
		return "smallint"
	case oidInt4:
		return "integer"
	case oidInt8:
		return "bigint"
	case oidFloat4:
		return "real"
	case oidFloat8:
		return "double precision"
	case oidNumeric:
		return "numeric"
	case oidDate:
		return "date"
	case oidTime:
		return "time"
	case oidTimestamp:
		return "timestamp"
	case oidTimestampTZ:
		return "timestamptz"
	case oidJSON:
		return "json"
	case oidJSONB:
		return "jsonb"
	case oidVarchar:
		return "varchar"
	}
	return "text"
}

// oidOfTypeName maps a type name written in SQL (a cast target, in either
// dialect) to an OID, or 0 when it is not one parameters can have.
func oidOfTypeName(name string) uint32 {
	switch strings.ToUpper(name) {
	case "BOOL", "BOOLEAN":
		return oidBool
	case "INT2", "SMALLINT":
		return oidInt2
	case "INT", "INT4", "INTEGER":
		return oidInt4
	case "INT8", "BIGINT":
		return oidInt8
	case "FLOAT4", "REAL":
		return oidFloat4
	case "FLOAT8", "DOUBLE", "FLOAT":
		return oidFloat8
	case "NUMERIC", "DECIMAL":
		return oidNumeric
	case "TEXT", "STRING", "VARCHAR", "CHAR", "NAME":
		return oidText
	case "BYTEA", "BYTES":
		return oidBytea
	case "DATE":
		return oidDate
	case "TIME":
		return oidTime
	case "TIMESTAMP":
		return oidTimestamp
	case "TIMESTAMPTZ":
		return oidTimestampTZ
	case "JSON":
		return oidJSON
	case "JSONB":
		return oidJSONB
	}
	return 0
}
