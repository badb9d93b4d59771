package sluice

import (
	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/planner"
)

// The Go types of SQL values in Row.Values that are not plain Go types
// (re-exported from exec/expr; see Row).
type (
	// Decimal is a DECIMAL(p, s) value.
	Decimal = expr.Decimal
	// Date is a DATE: days since 1970-01-01.
	Date = expr.Date
	// Time is a TIME: milliseconds since midnight.
	Time = expr.Time
	// Timestamp is a TIMESTAMP: milliseconds since the epoch, UTC.
	Timestamp = expr.Timestamp
	// Map is a MAP value; entries keep insertion order.
	Map = expr.Map
	// Struct is a STRUCT value.
	Struct = expr.Struct
)

// Change kinds of result rows.
const (
	Insert       = exec.Insert
	Delete       = exec.Delete
	UpdateBefore = exec.UpdateBefore
	UpdateAfter  = exec.UpdateAfter
)

// Source is a stream or table of the catalog.
type Source = planner.Source

// ChangeKind says whether a result row is an insert, a delete, or one half of
// an update (re-exported from exec).
type ChangeKind = exec.ChangeKind

// Result describes the outcome of one statement that returns no rows.
type Result struct {
	// Tag is the statement's command tag, e.g. "CREATE STREAM", "INSERT 0 1",
	// "TERMINATE".
	Tag string
	// Message is what ksqlDB's CLI would print, e.g. "Stream created".
	Message string
	// QueryID is the id of the persistent query the statement started, if any.
	QueryID string
}

// Column describes a column of a result.
type Column struct {
	Name string
	// Type is the SQL type as ksqlDB prints it (INTEGER, STRING, ...).
	Type string
	// Key reports a key column (KEY or PRIMARY KEY).
	Key bool
}

// Row is one result row: its change kind and its values as Go values: nil
// for NULL, bool, int32 (INT), int64 (BIGINT), float64 (DOUBLE), Decimal,
// string, []byte (BYTES), Date, Time, Timestamp, []any (ARRAY), *Map and
// *Struct.
type Row struct {
	Kind   ChangeKind
	Values []any
}
