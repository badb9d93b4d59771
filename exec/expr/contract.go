package expr

import (
	"github.com/apache/arrow/go/v17/arrow"
)

// Evaluator evaluates one compiled expression over whole records.
//
// Eval returns an array of the expression's type with rec.NumRows() rows.
// The caller owns the result and must Release it. A per-row failure (a bad
// cast, a function that throws in ksqlDB) makes that row's result NULL and
// is reported through ctx.OnRowError; Eval itself returns an error only for
// failures that are not about one row.
type Evaluator interface {
	Eval(ctx *Ctx, rec arrow.Record) (arrow.Array, error)
}

// Ctx is what evaluation needs from its caller.
type Ctx struct {
	// OnRowError receives per-row evaluation errors (may be nil).
	OnRowError func(row int, err error)
	// Props are query-level settings functions may read
	// (e.g. "ksql.functions.collect_list.limit"); may be nil.
	Props map[string]string
}

// ScalarImpl is the row-at-a-time implementation of a scalar function. Args
// use the Go value representation of value.go; it returns the result value
// (nil for NULL) or an error, which makes the row NULL and is reported.
// Functions whose ksqlDB counterpart returns NULL on NULL input should say so
// with Func.NullOnNull so that the generic adapter short-circuits.
type ScalarImpl func(args []any) (any, error)

// Func is a resolved function overload.
type Func struct {
	Name string
	// Impl computes one row. Operators with vectorized kernels may leave it
	// nil when Kernel is set.
	Impl ScalarImpl
	// Kernel, when set, evaluates whole columns (the fast path).
	Kernel func(ctx *Ctx, args []arrow.Array, n int) (arrow.Array, error)
	// NullOnNull: the result is NULL whenever any argument is NULL.
	NullOnNull bool
	// Result is the overload's result type for the argument types it was
	// resolved with.
	Result arrow.DataType
}
