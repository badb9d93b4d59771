// Package expr evaluates bound SQL expressions over Arrow records, a column
// at a time, with SQL NULL semantics, and holds the function registry.
//
// The planner builds Node trees (ir.go) whose function calls are resolved
// against the registry (Resolve), then Compile turns a tree into an
// Evaluator. Hot operators (arithmetic, comparison, boolean logic, IS NULL)
// have typed column kernels; every other function is written row-at-a-time
// against the Go value representation (value.go) and lifted to columns by a
// generic adapter, the "generic fallback" of cockroach's colexec.
package expr
