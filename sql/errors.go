package sql

import "fmt"

// SQLSTATE codes used by sluice. They follow PostgreSQL's table so that
// Postgres clients and drivers classify errors correctly.
const (
	CodeSyntax              = "42601" // syntax_error
	CodeUndefinedColumn     = "42703" // undefined_column
	CodeUndefinedTable      = "42P01" // undefined_table (unknown stream or table)
	CodeUndefinedFunction   = "42883" // undefined_function
	CodeDuplicateObject     = "42P07" // duplicate_table (stream/table exists)
	CodeDuplicateColumn     = "42701" // duplicate_column
	CodeAmbiguousColumn     = "42702" // ambiguous_column
	CodeDatatypeMismatch    = "42804" // datatype_mismatch
	CodeInvalidParameter    = "22023" // invalid_parameter_value (bad WITH property)
	CodeFeatureNotSupported = "0A000" // feature_not_supported
	CodeDataException       = "22000" // data_exception
	CodeDivisionByZero      = "22012"
	CodeInvalidText         = "22P02" // invalid_text_representation
	CodeUndefinedObject     = "42704" // undefined_object (unknown query id, type, topic)
	CodeObjectInUse         = "55006" // object_in_use (DROP of a source a query reads)
	CodeObjectNotInState    = "55000" // object_not_in_prerequisite_state (a partition that moved)
	CodeQueryCanceled       = "57014"
	CodeInternal            = "XX000"
	CodeConnectionFailure   = "08006"
)

// Pos is a position in the text the user wrote. Line and Col are 1-based;
// Col counts runes. Offset is the 0-based byte offset. The zero Pos means
// "unknown position".
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// IsValid reports whether p names a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string {
	if !p.IsValid() {
		return "?"
	}
	return fmt.Sprintf("line %d:%d", p.Line, p.Col)
}

// Error is the one error type that reaches users. Every error produced by the
// front end, the binder, the planner and the engine for a user's statement is
// an *Error (possibly wrapped): it carries a SQLSTATE, the position in the
// statement text when one is known, and a hint that says what to do.
type Error struct {
	Code string // SQLSTATE, one of the Code* constants
	Msg  string // what is wrong, one sentence, no trailing period
	Hint string // what to do next; may be empty
	Pos  Pos    // where, in the user's text
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Pos.IsValid() {
		s = e.Pos.String() + ": " + s
	}
	if e.Hint != "" {
		// ksqlDB's own rendering: the hint on a line of its own.
		s += "\nHint: " + e.Hint
	}
	return s
}

// Errorf builds an *Error at pos.
func Errorf(code string, pos Pos, format string, args ...any) *Error {
	return &Error{Code: code, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// WithHint returns e with its hint set.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}
