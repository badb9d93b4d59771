// Package expr evaluates bound SQL expressions over Arrow records, a column
// at a time, with ksqlDB's NULL semantics, and holds the function registry.
//
// The planner builds Node trees (ir.go) whose calls are resolved against the
// registry (Resolve, StructField, StructConstructor, LambdaParamTypes), then
// Compile turns a tree into an Evaluator.
//
// # Files
//
//	types.go       canonical Arrow type of each SQL type, TypeName, widening
//	convert.go     ValueAt / AppendValue / NewBuilder / MakeArray
//	decimal.go     exact DECIMAL arithmetic on math/big
//	cast.go        CAST rules, ISO date/time text
//	compare.go     value equality (Java equals) and ordering (compareTo)
//	registry.go    overloads, type patterns, Resolve, Functions
//	operators.go   operators (+ = AND IN LIKE SUBSCRIPT ARRAY MAP ...)
//	kernels.go     hand-written column kernels
//	compile.go     evaluators: column, literal, kernel, generic, CASE, CAST
//	rowinterp.go   row interpreter for lambda-taking calls
//	funcs_*.go     the scalar function library
//
// # Evaluation paths
//
// Kernels: arithmetic (+ - * / % NEG) and comparisons on INT, BIGINT and
// DOUBLE, AND/OR/NOT, IS [NOT] NULL, and INT/BIGINT/DOUBLE casts run as
// hand-written loops over the raw Arrow buffers (kernels.go). Arrow's compute
// kernels are not used: their semantics differ from ksqlDB's (a comparison
// with NULL is FALSE here, integer division by zero nulls one row instead of
// failing the batch) and their executor allocates per call. Compile inserts
// casts so a kernel sees operands of the type it was resolved for, and folds
// casts of literals, so `price > 100` compares two BIGINT columns, the right
// one a cached constant.
//
// Generic fallback: every other function is a ScalarImpl over the Go value
// representation (value.go), lifted to columns row by row (genericEval). It
// boxes values and allocates per row; it is the path for the long tail of
// functions, not for the hot operators. Calls with lambda arguments
// (TRANSFORM, FILTER, REDUCE) run on the row interpreter, which binds lambda
// parameters per element.
//
// # Invariants
//
//  1. Evaluators are immutable after Compile and safe for concurrent use; the
//     only shared state is a literal's cached constant column, swapped
//     atomically and handed out with Retain.
//  2. Eval returns a fresh reference the caller must Release; inputs are
//     never mutated. A column reference returns the input column retained.
//  3. A per-row failure (division by zero, bad cast, a function that throws
//     in ksqlDB) makes that row NULL and is reported once through
//     Ctx.OnRowError as a *RowError; Eval fails only for non-row problems.
//  4. Comparisons never return NULL (NULL operand -> FALSE, as ksqlDB).
//     AND/OR/NOT use SQL three-valued logic; ksqlDB instead raises an error
//     (NULL result) when an operand is a NULL boolean, so the two differ only
//     in FALSE AND NULL (FALSE here) and TRUE OR NULL (TRUE here).
//  5. CASE evaluates every arm over the batch but forwards row errors only
//     for rows whose value comes from that arm (ksqlDB evaluates lazily).
//  6. STRING + STRING is Java concatenation: NULL renders as "null", as in
//     ksqlDB's compiled queries. CONCAT and || skip NULLs.
//  7. DECIMAL results are exact: arithmetic that would need rounding or
//     overflows the result type is a row error. Derived precisions are
//     capped at 38 (Decimal128); scale is given up first.
//  8. Strings are indexed in UTF-16 code units, like Java.
//
// Resolution: numbers widen INT -> BIGINT -> DECIMAL -> DOUBLE; a NULL-typed
// argument matches any parameter; among matching overloads the fewest
// widenings win and ties go to the first registered (ksqlDB reports such
// ties as ambiguous). Regular expressions use Go's RE2, which lacks
// backreferences and lookaround. Date patterns are Java patterns translated
// to Go layouts (see funcs_time.go for the supported letters).
package expr
