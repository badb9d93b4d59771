package sql

// Nodes the front end needs beyond ast.go.

// DistinctFrom is `L IS [NOT] DISTINCT FROM R`: null-safe comparison. With
// Not it is true when both sides are NULL or equal.
type DistinctFrom struct {
	ExprBase
	L, R Expr
	Not  bool
}
