// Package crash tests exactly-once processing as a user runs it: a real
// `sluice serve` process with its embedded broker, killed with SIGKILL at
// random moments and restarted each time on the same data directory.
//
//   - TestEnrichmentSurvivesSIGKILL (issue #5): 1M transactions LEFT JOIN
//     10k customers through a repartition topic; the output, read with
//     read_committed, holds exactly one correct record per transaction.
//   - TestAggregationSurvivesSIGKILL (issue #4): COUNT and SUM GROUP BY
//     over 1M events through a repartition topic; per key the committed
//     updates count 1, 2, 3, ... and each adds one input's amount once.
//     Then the state directory is wiped (the broker's log stays): the
//     restart restores from the changelogs, more events continue every
//     count exactly, and pull queries answer the final values.
//
// The kills fall at random points of the output's progress, and one at a
// random point of a restart (while state is restored). SLUICE_CRASH_RECORDS
// and SLUICE_CRASH_KILLS change the size of a run; SLUICE_CRASH_KEEP=1
// keeps the data directory and the server log for a post-mortem.
package crash
