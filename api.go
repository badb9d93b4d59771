package sluice

import (
	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/planner"
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

// Row is one result row: its change kind and its values in the Go
// representation of package exec/expr (nil for NULL, int32 for INT, ...).
type Row struct {
	Kind   ChangeKind
	Values []any
}
