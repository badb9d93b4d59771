package server

import (
	"strconv"
	"strings"
)

// Postgres type OIDs (pg_type.oid) of the types sluice columns map to. They
// are fixed by Postgres, so drivers decode by them.
const (
	oidBool      = 16
	oidBytea     = 17
	oidInt8      = 20
	oidInt4      = 23
	oidText      = 25
	oidFloat8    = 701
	oidDate      = 1082
	oidTime      = 1083
	oidTimestamp = 1114
	oidNumeric   = 1700
)

// pgType is how a sluice column type is described in RowDescription.
type pgType struct {
	OID    uint32
	Size   int16 // pg_type.typlen; -1 for variable length
	Typmod int32 // -1 when the type has no modifier
}

// pgTypeOf maps a ksqlDB type name, as sluice.Column.Type spells it
// ("INTEGER", "DECIMAL(10, 2)", "ARRAY<STRING>", ...), to the Postgres type
// that describes its text rendering. ARRAY, MAP and STRUCT are sent as text
// holding JSON: Postgres arrays cannot hold maps or structs, and JSON is what
// ksqlDB users read anyway. Unknown names also fall back to text, which every
// client can display.
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
