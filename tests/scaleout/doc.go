// Package scaleout tests sluice's scale-out as real processes: a broker in
// its own process and two `sluice serve` instances with the same service
// id. An aggregation created on one instance runs on both (DDL travels
// through the command topic); one instance is killed with SIGKILL
// mid-stream, the survivor takes its partitions and finishes with exact
// results (read_committed output: every key's final value exact, no update
// twice); the killed instance returns and takes a share of the partitions
// again (DESCRIBE ... EXTENDED shows each instance's partitions). Pull
// queries on either instance then return every group with its exact count
// and sum, scans and key lookups alike (the other instance's partitions are
// read from it); while the killed instance still owns partitions (before
// the session timeout), a pull query fails with SQLSTATE 08006 rather than
// return half of the table.
//
// It takes about a minute: the group notices the killed instance after its
// session timeout (10 s), and the killed instance's open transaction is
// aborted after the transaction timeout (15 s).
package scaleout
