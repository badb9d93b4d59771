// Package exec runs queries: push-based operators over Arrow record batches
// that carry a change kind per row (batch.go, operator.go), the vectorized
// expression evaluator (package exec/expr), the record codecs that decode
// Kafka bytes straight into Arrow builders (package exec/codec), and the task
// runtime (one goroutine per task, one task per input partition).
//
// exec never imports sql or planner: the planner translates bound SQL into
// exec's own plan vocabulary (expr.Node trees, operator specs).
//
// Invariants:
//  1. An operator is driven by exactly one goroutine, its task's.
//  2. Within a batch, an UpdateBefore row is immediately followed by its
//     UpdateAfter row.
//  3. Results never depend on batch sizes: every operator test runs with
//     batch sizes 1, 3 and 1024 and requires the same output.
package exec
