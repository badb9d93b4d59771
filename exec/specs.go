package exec

import (
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
)

// SourceSpec says how a task turns Kafka records of one source topic into
// batches. The decoded record's columns are, in this order:
//
//	Key.Fields..., Value.Fields...,
//	ROWTIME (timestamp ms), ROWPARTITION (int32), ROWOFFSET (int64),
//	WINDOWSTART, WINDOWEND (timestamp ms; only when Key.Window is set),
//	Headers... (one column per HeaderCol)
//
// Schema() returns exactly that layout; the planner binds column references
// against it.
type SourceSpec struct {
	Topic string
	Key   codec.Spec
	Value codec.Spec
	// Headers are the HEADERS / HEADER('k') columns.
	Headers []HeaderCol
	// TimestampCol, when >= 0, is the index (in the decoded layout) of the
	// column that supplies event time instead of the Kafka timestamp; ROWTIME
	// then holds that column's value. TimestampFormat parses a STRING column
	// (Java DateTimeFormatter pattern); empty for BIGINT/TIMESTAMP columns.
	TimestampCol    int
	TimestampFormat string
	// Table: the source is a table (a null value is a tombstone, emitted as a
	// Delete of the key). For a stream, a record with a null value is
	// dropped unless NullRows is set.
	Table bool
	// NullRows: on a stream, a record with a null value becomes a Delete
	// row with every value column NULL (a "null row") instead of being
	// dropped. ksqlDB forwards such a record through projections unchanged
	// and its sink writes it as a null value, while filters, joins and
	// aggregations ignore it; so the planner sets NullRows only for
	// pipelines whose operators are all projections ending in a sink.
	NullRows bool
}

// HeaderCol is a HEADERS column (All) or a HEADER('Key') column.
type HeaderCol struct {
	Name string
	All  bool
	Key  string
}

// SinkSpec says how a task turns result batches into Kafka records.
type SinkSpec struct {
	Topic string
	Key   codec.Spec
	Value codec.Spec
	// KeyCols and ValueCols are the input columns that feed Key.Fields and
	// Value.Fields (plus the two window columns at the end of KeyCols for a
	// windowed key).
	KeyCols   []int
	ValueCols []int
	// TimeCol is the input column holding each record's timestamp (ROWTIME).
	TimeCol int
	// HeaderCols are input columns written as headers: a HEADERS column
	// (ARRAY<STRUCT<KEY,VALUE>>) writes all its entries.
	HeaderCols []int
	// Table: Delete rows become tombstones (null value); UpdateBefore rows
	// are not written (the UpdateAfter that follows carries the new value).
	Table bool
	// NullKeyIfAllNull writes a null key when every key column is NULL.
	// The planner sets it where the key passes through from the source
	// unchanged: a null record key decodes as all-NULL key columns, and
	// ksqlDB writes it back as a null key, where a computed key (PARTITION
	// BY, GROUP BY) with NULL columns is serialized column by column.
	NullKeyIfAllNull bool
}

// FilterSpec keeps the rows for which Pred is TRUE.
type FilterSpec struct {
	Pred expr.Node
}

// ProjectSpec computes Exprs into a new record with the given column names.
type ProjectSpec struct {
	Exprs []expr.Node
	Names []string
	// NullOnDelete, when set, has one entry per expression: a true entry's
	// column is NULL in Delete rows. A stream's null-valued record (a
	// Delete row, see SourceSpec.NullRows) has no value row in ksqlDB, so
	// a PARTITION BY key computed from ROWTIME, ROWPARTITION or ROWOFFSET
	// is NULL for it.
	NullOnDelete []bool
}
