package expr

import (
	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// The Go representation of SQL values, used by row-at-a-time function
// implementations, literals, INSERT VALUES and the rows the embedding API
// returns:
//
//	NULL       nil
//	BOOLEAN    bool
//	INT        int32
//	BIGINT     int64
//	DOUBLE     float64
//	DECIMAL    Decimal
//	STRING     string
//	BYTES      []byte
//	DATE       Date       (days since 1970-01-01)
//	TIME       Time       (ms since midnight)
//	TIMESTAMP  Timestamp  (ms since the epoch, UTC)
//	ARRAY      []any
//	MAP        *Map       (entries in insertion order, keys unique)
//	STRUCT     *Struct    (values in field order)
//
// ValueAt (arrow array -> Go value) and AppendValue (Go value -> builder)
// convert between this representation and Arrow.

// Decimal is a DECIMAL(Precision, Scale) value: V / 10^Scale.
type Decimal struct {
	V         decimal128.Num
	Precision int32
	Scale     int32
}

// Date is a DATE: days since 1970-01-01.
type Date int32

// Time is a TIME: milliseconds since midnight.
type Time int32

// Timestamp is a TIMESTAMP: milliseconds since the epoch, UTC.
type Timestamp int64

// Map is a MAP value. Keys are unique; order is insertion order.
type Map struct {
	Keys   []any
	Values []any
}

// Struct is a STRUCT value; Names are the field names of its type.
type Struct struct {
	Names  []string
	Values []any
}
