package codec

import (
	"errors"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnsupported: a Spec asks a format for something it cannot do (a
	// type it cannot carry, too many columns, a bad delimiter). Returned, as
	// a *SpecError, by NewDecoder and NewEncoder: always a statement-time
	// problem, never a per-record one.
	ErrUnsupported = errors.New("unsupported serialization")
	// ErrMalformed: a record's bytes do not parse in the format (bad JSON,
	// wrong KAFKA length, wrong DELIMITED field count). Returned, as a
	// *RecordError, by Decode.
	ErrMalformed = errors.New("malformed record")
	// ErrConvert: a record parses, but a value cannot become its column's
	// type (a JSON string for an INT column that is not a number, a decimal
	// that does not fit). Returned, as a *RecordError, by Decode and Encode.
	ErrConvert = errors.New("value does not fit its column")
)

// SQLSTATE codes carried by this package's errors (PostgreSQL's table). exec
// cannot import sql, so the codes are repeated here; the planner and the
// sources map them onto sql.Error unchanged.
const (
	codeFeatureNotSupported = "0A000"
	codeInvalidText         = "22P02"
	codeDataException       = "22000"
)

// SpecError reports a Spec that its format cannot serialize. Msg uses
// ksqlDB's wording where ksqlDB has one, so users who search for the message
// find ksqlDB's documentation; Hint says what to do instead.
type SpecError struct {
	Format string // JSON, DELIMITED, KAFKA, NONE, or the unknown name given
	Column string // the offending column; empty when the problem is the whole spec
	Msg    string
	Hint   string
}

func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *SpecError) Is(target error) bool { return target == ErrUnsupported }

// SQLState is feature_not_supported.
func (e *SpecError) SQLState() string { return codeFeatureNotSupported }

// RecordError reports a key or value that could not be decoded or encoded.
// It names the format and, when the failure is about one column, the column
// (with a path into nested values such as `V`.`F`[2]); Err says why and
// matches ErrMalformed or ErrConvert.
type RecordError struct {
	Format string
	Column string
	Err    error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString("cannot deserialize ")
	b.WriteString(e.Format)
	if e.Column != "" {
		b.WriteString(" column ")
		b.WriteString(e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// SQLState is invalid_text_representation for bytes that do not parse and
// data_exception for values that do not fit.
func (e *RecordError) SQLState() string {
	if errors.Is(e.Err, ErrMalformed) {
		return codeInvalidText
	}
	return codeDataException
}

// EncodeError reports a row that could not be serialized (a value the format
// cannot represent, such as a NaN map key or an out-of-range decimal).
type EncodeError struct {
	Format string
	Column string
	Err    error
}

func (e *EncodeError) Error() string {
	s := "cannot serialize " + e.Format
	if e.Column != "" {
		s += " column " + e.Column
	}
	return s + ": " + e.Err.Error()
}

func (e *EncodeError) Unwrap() error { return e.Err }

// SQLState is data_exception.
func (e *EncodeError) SQLState() string { return codeDataException }

// detail is an error whose text is built lazily: decode failures happen on
// the hot path of bad input, and most are counted and dropped unread.
type detail struct {
	kind error // ErrMalformed or ErrConvert
	msg  string
}

func (d *detail) Error() string { return d.msg }
func (d *detail) Unwrap() error { return d.kind }

func malformed(msg string) error  { return &detail{ErrMalformed, msg} }
func convertErr(msg string) error { return &detail{ErrConvert, msg} }

// quoteIdent renders a column name the way ksqlDB prints it in messages.
func quoteIdent(name string) string { return "`" + name + "`" }
