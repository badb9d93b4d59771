// Package qtt plays ksqlDB's query-validation tests ("QTT") against sluice.
//
// The QTT files (../shared/qtt relative to the repository root, or the
// directory named by SLUICE_QTT_DIR) are the executable specification of
// sluice's SQL dialect. Their format and the semantics the upstream Java
// runner applies are described in ../shared/qtt/SPEC.md; this package
// implements that document:
//
//   - Load reads a file (JSON with comments, numbers kept exactly) and
//     Expand turns each test object into cases (format and config
//     expansion, case names "<file> - <test>[ - FORMAT][ - prop=value]").
//   - Runner.Run plays one case against a fresh engine on its own
//     in-memory kfake broker: it creates the topics, executes the
//     statements in order, produces the inputs to partition 0 in file
//     order, one run of consecutive inputs to the same topic at a time,
//     and after each run lets every persistent query consume its input
//     (Engine.RunUntilIdle); then it reads each expected topic back from the
//     beginning to its end offset with read_committed, and compares the
//     records with the comparator rules of SPEC 3.7; then it checks
//     expected exceptions (3.8) and post conditions (3.9).
//   - The REST files (rest/*.json) are run by the same Runner with their
//     own semantics: statements before the first SELECT are executed, the
//     inputs produced, the queries consumed, and each SELECT is run with
//     Engine.Query (push queries up to their LIMIT, pull queries to their
//     end) and compared with the expected responses.
//   - RunSuite runs many cases with a bounded worker pool and a per-case
//     timeout, and Summary reports scores, per-file counts and baselines.
//
// The runner has its own serializer for test records, written from the
// specification rather than shared with the engine's codecs, so that codec
// bugs show up as failures. Cases that need a schema-registry format
// (AVRO, PROTOBUF, PROTOBUF_NOSR, JSON_SR) or one of ksqlDB's test-only
// functions are skipped with that reason.
//
// Deviation from the Java harness (SPEC 3.6 item 4): the Java harness runs
// each query alone over all its inputs, one record at a time, before the
// next query. Here every run of inputs is consumed by all queries, in
// creation order, before the next run is produced. A single query sees its
// inputs in file order either way; a query that reads both an input topic
// and a topic derived by an earlier query sees the derived records after
// each run, not after all inputs.
//
// Use it through `go test ./tests/qtt/` (the conformance test, scored
// against baseline.txt) or the command `go run ./tests/qtt/cmd/qtt -dir DIR`.
package qtt
