// Package scaleout tests sluice's scale-out as real processes: a broker in
// its own process and two `sluice serve` instances with the same service
// id. An aggregation created on one instance runs on both (DDL travels
// through the command topic); one instance is killed with SIGKILL
// mid-stream, the survivor takes its partitions and finishes with exact
// results (read_committed output: every key's final value exact, no update
// twice); the killed instance returns and takes a share of the partitions
// again (DESCRIBE ... EXTENDED shows each instance's partitions).
//
// It takes about a minute: the group notices the killed instance after its
// session timeout (10 s), and the killed instance's open transaction is
// aborted after the transaction timeout (15 s).
package scaleout
