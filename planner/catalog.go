package planner

import "github.com/sluicedb/sluice/sql"

// Column is a column of a stream or table, in the order DESCRIBE shows it
// (key columns first, then value columns, then header columns).
type Column struct {
	Name      string
	Type      *sql.Type
	Role      sql.ColumnConstraint // ColKey, ColPrimaryKey, ColValue, ColHeaders, ColHeader
	HeaderKey string               // for ColHeader
}

// Format is one side's serialization as declared (or inherited) by a source.
type Format struct {
	Name       string // JSON, DELIMITED, KAFKA, NONE, ...
	Delimiter  byte   // DELIMITED
	WrapSingle *bool  // value side only: WRAP_SINGLE_VALUE; nil = default (wrapped)
}

// Window describes a windowed source (the sink of a windowed aggregation, or
// a source declared with WINDOW_TYPE).
type Window struct {
	Type string // "TUMBLING", "HOPPING", "SESSION"
	Size int64  // ms, for TUMBLING/HOPPING
}

// Source is a catalog entry: a stream or a table over a topic. Sources are
// immutable; replacing one builds a new value.
type Source struct {
	Name            string
	Kind            sql.SourceKind
	Columns         []Column
	Topic           string
	Partitions      int32
	Replicas        int16
	KeyFormat       Format
	ValueFormat     Format
	Window          *Window // nil when not windowed
	TimestampColumn string  // "" = Kafka record timestamp
	TimestampFormat string
	IsSource        bool   // CREATE SOURCE STREAM|TABLE (read-only)
	SQL             string // the statement that created it
	// Query is the id of the persistent query that writes to it (CSAS/CTAS),
	// or "".
	Query string
}

// KeyColumns returns the key columns, in order.
func (s *Source) KeyColumns() []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey {
			out = append(out, c)
		}
	}
	return out
}

// ValueColumns returns the value columns, in order.
func (s *Source) ValueColumns() []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Role == sql.ColValue {
			out = append(out, c)
		}
	}
	return out
}

// Catalog is what the planner reads: the sources and custom types known to
// the engine. Names are exact (already folded).
type Catalog interface {
	Source(name string) (*Source, bool)
	Type(name string) (*sql.Type, bool)
}
