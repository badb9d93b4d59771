package planner

import (
	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/sql"
)

// Plan is the output of planning one SELECT (a push query, a pull query, or
// the body of CSAS/CTAS/INSERT INTO ... SELECT): a logical plan for EXPLAIN
// and a physical per-partition pipeline for the runtime.
type Plan struct {
	// Logical is the optimized logical plan (for EXPLAIN).
	Logical Node
	// Input is how each task decodes its source topic's records.
	Input exec.SourceSpec
	// Ops are the stateless operators applied in order to decoded batches.
	// Each element is an exec.FilterSpec or an exec.ProjectSpec.
	Ops []any
	// Output describes the rows that leave the last operator: the columns of
	// the result, in order, with their roles (key columns first, as ksqlDB
	// orders a sink's schema), and the index of ROWTIME in the final batch.
	Output []Column
	// OutputTimeCol is the column of the final batch that carries each row's
	// timestamp (hidden from Output).
	OutputTimeCol int
	// Sink is set for persistent queries; nil for transient queries.
	Sink *exec.SinkSpec
	// Limit ends a transient query after this many rows (nil: no limit).
	Limit *int64
	// Emit is the query's EMIT mode.
	Emit sql.EmitMode
	// Explain is the rendered logical and physical plans.
	Explain string
	// Joins are the extra inputs of a join query's final stage, in the
	// order of the exec.JoinSpecs in Ops: Joins[k] feeds the right port of
	// the k-th JoinSpec (exec.BuildJoinPipeline). The stage reads Input and
	// every Joins[k].Input topic in one task per partition, so the topics
	// must have equal partition counts (the planner checks it, and
	// re-keys an input through a Pre stage when it is not partitioned by
	// its join key). Empty for queries without joins.
	Joins []JoinInput
	// Pre are the stages that run before this one, in order: each reads a
	// topic and writes an internal topic (a repartition topic) that a later
	// stage reads. Empty for single-stage queries. The top-level fields of
	// Plan are the final stage.
	Pre []*Stage
	// SingleTask asks for one task that reads every partition of the
	// stage's inputs instead of one task per partition: a push query over
	// a join, whose re-keyed sides are re-keyed in place rather than
	// through repartition topics.
	SingleTask bool
}

// Stage is one sub-topology of a multi-stage query: a source topic, the
// operators, and the sink (an internal topic) that connects it to the next
// stage.
type Stage struct {
	Input exec.SourceSpec
	Ops   []any
	Sink  exec.SinkSpec
	// Joins are the stage's extra inputs, as Plan.Joins.
	Joins []JoinInput
	// Topic is the internal topic the stage writes, with its partition
	// count; the engine creates it (with the query) and deletes it (with the
	// query's DROP).
	Topic      string
	Partitions int32
}

// JoinInput is an extra input of a stage: the topic it reads and the
// operators applied to its rows before they reach their join.
type JoinInput struct {
	Input exec.SourceSpec
	Ops   []any
}

// Node is a logical plan node (scan, filter, project, ...). Nodes are
// immutable; rewrite rules return new trees.
type Node interface {
	// Children returns the node's inputs.
	Children() []Node
	// String renders the node alone (not its children), for EXPLAIN.
	String() string
}
