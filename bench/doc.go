// Package bench runs the Nexmark benchmark against sluice and, in the same
// run, against a hand-written Go baseline doing the same work, so that the
// ratio between the two is a yardstick that survives a noisy shared machine.
//
// # What is measured
//
// Catch-up processing: the events are loaded first, then a query is started
// and timed until it has consumed all of its input (Engine.RunUntilIdle in
// manual drive, which processes, flushes the sink and commits exactly as a
// running query does). Output is counted on the sink topic, as end-offset
// deltas, so nothing is inferred from the engine's own counters.
//
// CPU time is the process's user+system time from getrusage, which counts
// every goroutine, the garbage collector and, in the embedded variant, the
// in-process broker. Two variants per query:
//
//   - sluice alone: the broker runs in a child process (the sluice binary
//     re-executed as "sluice bench broker"), and only the engine's process is
//     counted. This is how the published per-core figures of other engines
//     count: the Kafka cluster is not charged to the engine.
//   - embedded: sluice with its in-process broker, all of it counted; what a
//     single-binary deployment costs.
//
// The baseline (baseline.go) is charged the same way as "sluice alone": it
// reads from the same child broker and is measured in this process.
//
// Peak RSS is VmHWM from /proc/self/status, reset before each measured phase
// through /proc/self/clear_refs after a forced GC, so each phase reports its
// own peak rather than the loader's or an earlier phase's.
//
// In fixed-rate mode the loader writes at a wall-clock rate with event times
// that follow the wall clock, a running (not manually driven) engine
// processes them, and a consumer of the sink topic records, for each output
// record, the time from its event time (which the sink carries as the
// record timestamp) to its arrival: end-to-end latency including Kafka on
// both sides, at millisecond resolution.
package bench
