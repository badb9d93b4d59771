package exec

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluicedb/sluice/exec/expr"
)

// Joins.
//
// A join is an operator with two entry ports: the left input's batches are
// pushed into Port(0), the right input's into Port(1), and the joined rows
// leave through the operator's next operator. The inputs arrive already
// co-partitioned: rows with equal join keys are in the same task (the
// planner re-keys an input through a repartition topic when its partition
// key is not the join key). A task with several inputs (NewMultiTask)
// interleaves them in timestamp order, so a join sees its two sides in the
// order of their event times.
//
// The pipeline of a join query is built by BuildJoinPipeline: the main
// chain (Plan.Ops) holds one JoinSpec per join, and the right input of the
// k-th JoinSpec of the chain is the k-th side chain (Plan.Joins[k]).

// JoinKind says what the two sides of a join are.
type JoinKind uint8

const (
	// StreamStream joins two streams within a window (JoinSpec.Window).
	StreamStream JoinKind = iota + 1
	// StreamTable joins each stream row (left) to the table's (right) row
	// with the same key as it is when the stream row is processed; table
	// changes update the state and emit nothing.
	StreamTable
	// TableTable joins two tables on their primary keys: a change on either
	// side emits the change of the joined row.
	TableTable
	// ForeignKey joins a table (left) to the table (right) whose primary
	// key equals a left column or expression, the foreign key (KIP-213).
	// The left input is the left table's changelog re-keyed by the foreign
	// key, its change kinds in a column (JoinSpec.LeftChangeCol, see
	// ChangeColumnSpec); Left.KeyCol holds the foreign key and
	// JoinSpec.LeftPK the left table's primary key, which keys the result:
	// the output's key column is the foreign key, and its rows are
	// upserts (Insert) and tombstones (Delete) of the left primary key.
	ForeignKey
)

func (k JoinKind) String() string {
	switch k {
	case StreamStream:
		return "STREAM-STREAM"
	case StreamTable:
		return "STREAM-TABLE"
	case TableTable:
		return "TABLE-TABLE"
	case ForeignKey:
		return "FOREIGN-KEY"
	}
	return "?"
}

// JoinType is INNER, LEFT, RIGHT or FULL OUTER.
type JoinType uint8

const (
	JoinInner JoinType = iota + 1
	JoinLeft
	JoinRight
	JoinOuter
)

func (t JoinType) String() string {
	switch t {
	case JoinInner:
		return "INNER"
	case JoinLeft:
		return "LEFT"
	case JoinRight:
		return "RIGHT"
	case JoinOuter:
		return "FULL OUTER"
	}
	return "?"
}

// outer reports whether unmatched rows of side (0 left, 1 right) are
// emitted padded with NULLs.
func (t JoinType) outer(side int) bool {
	switch t {
	case JoinOuter:
		return true
	case JoinLeft:
		return side == 0
	case JoinRight:
		return side == 1
	}
	return false
}

// JoinWindow is the WITHIN clause of a stream-stream join (ms). A left row
// at time t joins right rows in [t-Before, t+After]; a right row at time t
// joins left rows in [t-After, t+Before].
type JoinWindow struct {
	Before, After int64
	// Grace is how long after a window closes late rows are still joined.
	Grace int64
	// DeferOuter is set when the query gave a GRACE PERIOD. As in ksqlDB
	// (Kafka Streams' JoinWindows.ofTimeDifferenceAndGrace), an unmatched
	// row of an outer side is then emitted only once its window has closed
	// (stream time > t + lookahead + Grace) and no match arrived. Without
	// it (JoinWindows.of, Grace = DefaultJoinGrace), an unmatched row is
	// emitted at once, NULL-padded, and a later match is emitted as well.
	DeferOuter bool
}

// DefaultJoinGrace is the grace period of a WITHIN clause without GRACE
// PERIOD: Kafka Streams' deprecated JoinWindows.of keeps 24 hours minus
// twice the window's before-size, but never less than zero.
func DefaultJoinGrace(before int64) int64 { return max(24*60*60*1000-2*before, 0) }

// Retention is how long a row stays in the join's window state after
// stream time passed it: before + after + grace.
func (w *JoinWindow) Retention() int64 { return w.Before + w.After + w.Grace }

// JoinSide describes one input of a join.
type JoinSide struct {
	// Schema is the layout of the batches pushed into the side's port.
	Schema *arrow.Schema
	// KeyCol is the column holding the join key. A table side's KeyCol is
	// its primary key column.
	KeyCol int
	// TimeCol is the column holding each row's event time (ROWTIME).
	TimeCol int
	// WindowCols, for a windowed source, are the columns of the window
	// bounds that belong to its key: WINDOWSTART for a time window, and
	// WINDOWEND too for a session window. Rows join only when these are
	// equal as well, as Kafka Streams joins windowed keys by their bytes.
	// Both sides have as many; none for unwindowed sources.
	WindowCols []int
}

// JoinSpec joins two inputs on equal join keys (SQL equality: a NULL key
// never matches; such rows are dropped and counted in
// Metrics.DroppedNulls).
//
// The output layout is
//
//	KeyName (the join key; the left key, or the right one for rows that
//	         have no left side),
//	the left side's columns, the right side's columns (all NULL for a
//	missing side),
//	ROWTIME (TIMESTAMP): the larger of the two rows' times, or the time of
//	         the one row of a NULL-padded result.
//
// Stream results are Inserts. Table-table results are the changes of the
// joined table: Insert, UpdateBefore + UpdateAfter, Delete (the retracted
// row). A table side takes Insert and UpdateAfter as upserts, Delete as a
// tombstone (one for a key it never saw is dropped and counted in
// Metrics.UnknownTombstones) and ignores UpdateBefore, so a table side may be a
// table changelog or another table-table join.
//
// State (opened as Name): the table sides' rows by key; the stream sides'
// rows by key and time, expired Retention after stream time passed them;
// the pending unmatched rows of a DeferOuter window.
type JoinSpec struct {
	Name        string
	Kind        JoinKind
	Type        JoinType
	Left, Right JoinSide
	Window      *JoinWindow // StreamStream only
	KeyName     string
	// ForeignKey only: the left columns holding the left table's primary
	// key, and the left INT column holding each row's ChangeKind.
	LeftPK        []int
	LeftChangeCol int
}

// Schema returns the output layout.
func (s *JoinSpec) Schema() (*arrow.Schema, error) {
	if s.Left.Schema == nil || s.Right.Schema == nil {
		return nil, fmt.Errorf("join %s: a side has no schema", s.Name)
	}
	for i, side := range []JoinSide{s.Left, s.Right} {
		n := side.Schema.NumFields()
		if side.KeyCol < 0 || side.KeyCol >= n || side.TimeCol < 0 || side.TimeCol >= n {
			return nil, fmt.Errorf("join %s: side %d: key or time column out of range", s.Name, i)
		}
	}
	if len(s.Left.WindowCols) != len(s.Right.WindowCols) {
		return nil, fmt.Errorf("join %s: %d and %d window columns", s.Name, len(s.Left.WindowCols), len(s.Right.WindowCols))
	}
	for i, side := range []JoinSide{s.Left, s.Right} {
		for _, c := range side.WindowCols {
			if c < 0 || c >= side.Schema.NumFields() {
				return nil, fmt.Errorf("join %s: side %d: window column out of range", s.Name, i)
			}
		}
	}
	kt := s.Left.Schema.Field(s.Left.KeyCol).Type
	if rt := s.Right.Schema.Field(s.Right.KeyCol).Type; !arrow.TypeEqual(kt, rt) {
		return nil, fmt.Errorf("join %s: key types differ: %s and %s", s.Name, expr.TypeName(kt), expr.TypeName(rt))
	}
	fields := []arrow.Field{{Name: s.KeyName, Type: kt, Nullable: true}}
	for _, side := range []JoinSide{s.Left, s.Right} {
		for _, f := range side.Schema.Fields() {
			f.Nullable = true
			fields = append(fields, f)
		}
	}
	fields = append(fields, arrow.Field{Name: RowTimeName, Type: expr.TimestampType, Nullable: true})
	return arrow.NewSchema(fields, nil), nil
}

func (s *JoinSpec) validate() error {
	switch s.Kind {
	case StreamStream:
		if s.Window == nil {
			return fmt.Errorf("join %s: a stream-stream join needs a window", s.Name)
		}
		if s.Window.Before < 0 || s.Window.After < 0 || s.Window.Grace < 0 {
			return fmt.Errorf("join %s: negative window", s.Name)
		}
	case StreamTable:
		if s.Type != JoinInner && s.Type != JoinLeft {
			return fmt.Errorf("join %s: a stream-table join is INNER or LEFT, not %s", s.Name, s.Type)
		}
	case TableTable:
	case ForeignKey:
		if _, err := s.Schema(); err != nil {
			return err
		}
		if s.Type != JoinInner && s.Type != JoinLeft {
			return fmt.Errorf("join %s: a foreign-key join is INNER or LEFT, not %s", s.Name, s.Type)
		}
		if len(s.LeftPK) == 0 {
			return fmt.Errorf("join %s: a foreign-key join needs the left primary key", s.Name)
		}
		n := s.Left.Schema.NumFields()
		for _, c := range append([]int{s.LeftChangeCol}, s.LeftPK...) {
			if c < 0 || c >= n {
				return fmt.Errorf("join %s: left column %d out of range", s.Name, c)
			}
		}
	default:
		return fmt.Errorf("join %s: unknown kind %d", s.Name, s.Kind)
	}
	if s.Type < JoinInner || s.Type > JoinOuter {
		return fmt.Errorf("join %s: unknown type %d", s.Name, s.Type)
	}
	if s.Name == "" {
		return fmt.Errorf("join: no state name")
	}
	_, err := s.Schema()
	return err
}
