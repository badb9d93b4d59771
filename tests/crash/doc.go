// Package crash tests exactly-once processing as a user runs it: a real
// `sluice serve` process with its embedded broker, killed with SIGKILL at
// random moments while it enriches a stream of transactions with a table of
// customers, restarted each time on the same data directory. The output
// topic, read with read_committed, must hold exactly one correct record per
// transaction.
package crash
