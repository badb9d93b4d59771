package exec

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluicedb/sluice/exec/agg"
	"github.com/sluicedb/sluice/exec/expr"
)

// Specs of the stateful operators (aggregations, windows, table
// materialization). BuildPipeline builds them like the stateless ones;
// each opens its state with TaskContext.OpenState(Name).

// TableSourceSpec turns a table's upsert records into a changelog: the
// operator keeps the last row per primary key in its state and emits Insert
// for a new key, UpdateBefore (old row) + UpdateAfter (new row) for an
// existing key, and Delete (old row) for a tombstone of an existing key. A
// tombstone of an unknown key is dropped and counted in
// Metrics.UnknownTombstones.
//
// Input and output have the same layout (a SourceSpec layout). The old
// row's StoredCols come from state; the other columns (ROWTIME and the
// other pseudo columns, headers) are the current record's, so a retraction
// carries the time of the change that caused it.
type TableSourceSpec struct {
	Name       string
	KeyCols    []int
	StoredCols []int
}

// WindowKind is the kind of a WINDOW clause.
type WindowKind uint8

const (
	WindowTumbling WindowKind = iota + 1
	WindowHopping
	WindowSession
)

func (k WindowKind) String() string {
	switch k {
	case WindowTumbling:
		return "TUMBLING"
	case WindowHopping:
		return "HOPPING"
	case WindowSession:
		return "SESSION"
	}
	return "?"
}

// DefaultGrace is Kafka Streams' default grace period when a WINDOW clause
// gives none: one day minus the window size (the gap, for sessions), but
// not negative (ksqldb-reference.md section 8.3).
func DefaultGrace(size int64) int64 { return max(24*60*60*1000-size, 0) }

// WindowSpec is a windowing of an aggregation (all times in ms).
type WindowSpec struct {
	Kind WindowKind
	// Size is the window size of TUMBLING and HOPPING, the inactivity gap
	// of SESSION.
	Size    int64
	Advance int64 // HOPPING; equals Size for TUMBLING
	Grace   int64
	// Retention is how long a window's state is kept after its start (time
	// windows) or end (sessions); at least Size + Grace.
	Retention int64
}

// AggCall is one aggregate call of an AggregateSpec.
type AggCall struct {
	Fn *agg.Func
	// Args are the input columns of the call's arguments, constants
	// included (the planner projects them), in argument order.
	Args []int
	Name string // output column name
}

// AggregateSpec groups rows by KeyCols and computes Aggs per group (and
// window). The output layout is:
//
//	key columns (KeyNames, the input columns' types),
//	WINDOWSTART, WINDOWEND (TIMESTAMP; only when Window is set),
//	one column per AggCall (Fn.Result),
//	ROWTIME (TIMESTAMP): the largest event time aggregated into the group
//
// and each output row is a change of the result table (Insert, UpdateBefore
// + UpdateAfter, Delete). Every input row that changes a group emits that
// group's new row (no caching, as ksqlDB with cache.max.bytes.buffering=0),
// unless EmitFinal, which emits each window once when it closes.
type AggregateSpec struct {
	Name     string
	KeyCols  []int
	KeyNames []string
	Aggs     []AggCall
	// TimeCol is the input column holding each row's event time (ROWTIME).
	TimeCol int
	// ChangeCol, when >= 0, is an INT input column that carries each row's
	// ChangeKind (rows read back from a repartition topic, see
	// ChangeColumnSpec); otherwise the batch's kinds are used.
	ChangeCol int
	Window    *WindowSpec
	EmitFinal bool
	// Having, when set, is a BOOLEAN expression over the output layout,
	// applied like a WHERE on the result table: a group row for which it is
	// not TRUE is not emitted, and a group that passed before and no longer
	// does is emitted as a Delete (a tombstone in the sink).
	Having expr.Node
}

// Schema returns the output layout for an input layout in.
func (s *AggregateSpec) Schema(in *arrow.Schema) (*arrow.Schema, error) {
	if len(s.KeyNames) != len(s.KeyCols) {
		return nil, fmt.Errorf("aggregate: %d key columns but %d names", len(s.KeyCols), len(s.KeyNames))
	}
	var fields []arrow.Field
	for i, c := range s.KeyCols {
		if c < 0 || c >= in.NumFields() {
			return nil, fmt.Errorf("aggregate: key column %d out of range", c)
		}
		fields = append(fields, arrow.Field{Name: s.KeyNames[i], Type: in.Field(c).Type, Nullable: true})
	}
	if s.Window != nil {
		fields = append(fields,
			arrow.Field{Name: WindowStartName, Type: expr.TimestampType, Nullable: true},
			arrow.Field{Name: WindowEndName, Type: expr.TimestampType, Nullable: true})
	}
	for _, a := range s.Aggs {
		for _, c := range a.Args {
			if c < 0 || c >= in.NumFields() {
				return nil, fmt.Errorf("aggregate %s: argument column %d out of range", a.Name, c)
			}
		}
		fields = append(fields, arrow.Field{Name: a.Name, Type: a.Fn.Result, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: RowTimeName, Type: expr.TimestampType, Nullable: true})
	return arrow.NewSchema(fields, nil), nil
}

// ChangeColumnSpec appends an INT column holding each row's ChangeKind and
// marks every row an Insert, so that a changelog can cross a repartition
// topic (a stream of records) and be turned back into changes by the
// AggregateSpec of the next stage (AggregateSpec.ChangeCol).
type ChangeColumnSpec struct {
	Name string // the column's name
}
