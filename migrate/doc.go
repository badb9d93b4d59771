// Package migrate applies versioned migration files to sluice, compatible
// with ksqlDB's ksql-migrations: the same project layout, file names,
// statement syntax and history stream, so a team can point sluice at the
// directory it already applies to ksqlDB.
//
// # Files
//
// A project directory holds migrations/ and, optionally,
// ksql-migrations.properties. migrations/V000001__create_orders.sql is
// version 1 named "create orders"; files apply in version order. A file is
// a script of statements: DDL (CREATE STREAM/TABLE/TYPE, CSAS, DROP,
// TERMINATE), INSERT VALUES, SET/UNSET and DEFINE/UNDEFINE. Statements are
// split by sluice's lexer (sql.Split), so semicolons inside comments,
// strings and quoted identifiers do not split, and a statement may span
// lines. ${name} is substituted with sql.Substitute from WithDefines
// (--define name=value) and from DEFINE statements earlier in the same file.
// Substitution happens in the migrator, not in the engine, so that an
// embedded engine, a server and --dry-run all see the same text. Each file
// runs in a session of its own: SET in one file does not reach the next.
//
// # History
//
// As in ksql-migrations, the history lives in the engine itself: the
// MIGRATION_EVENTS stream over the single-partition topic
// <service>_ksql_MIGRATION_EVENTS, with ksql-migrations' columns
// (VERSION_KEY, VERSION, NAME, STATE, CHECKSUM, STARTED_ON, COMPLETED_ON,
// PREVIOUS, ERROR_REASON). Every state change of a version (RUNNING, then
// MIGRATED or ERROR) is written twice, keyed by the version and by
// CURRENT. CHECKSUM is the MD5 of the file; times are epoch milliseconds as
// text; PREVIOUS is the version migrated before, "<none>" for the first.
// PENDING is never written: it is what Info calls a file with no events.
//
// Over the stream, initialize-metadata (and Apply) creates ksql-migrations'
// MIGRATION_SCHEMA_VERSIONS table on the topic
// <service>_ksql_MIGRATION_SCHEMA_VERSIONS, with ksql-migrations' statement:
// a CTAS of LATEST_BY_OFFSET of every column, GROUP BY VERSION_KEY. Info,
// Apply and Validate read the current version and the state of each version
// from it with pull queries. LATEST_BY_OFFSET skips NULLs, so a row keeps
// the COMPLETED_ON and ERROR_REASON of an earlier run of its version; the
// reader drops them when the row's state says they are stale (RUNNING has
// neither, MIGRATED no ERROR_REASON).
//
// The table's query catches up with the stream asynchronously, so reads are
// fenced, in SQL so that they work the same embedded and over a server: the
// reader reads the stream's last event, then polls the table until the row
// of that event's key shows it (the stream has one partition, so the table
// then reflects every event before it too). Apply returns only once the
// table shows the last event it wrote, so a pull query on the table right
// after it sees its work. When the table cannot answer, the reader computes
// the same rows from the events it read for the fence: when the table does
// not exist (a project initialized by an older sluice, read by validate or
// a dry run, which create nothing), when the table is materialized by
// another engine of a cluster of embedded engines (pull queries are
// answered from the state of the engine that runs the table's query), or
// when it has not caught up within ten seconds (with a warning).
//
// A project initialized before sluice built the table gets it on its next
// apply, or info; the table's query reads the stream from its earliest
// offset, so it holds the whole history. The table is created under the
// apply lock (info does not wait for it, and leaves the creation to the
// applier holding it), so that two engines of a cluster never both start
// its query. destroy-metadata terminates the table's query and drops the
// table, the events stream and the lock stream, deleting their topics.
//
// # Forward only, and failures
//
// Apply runs the versions above the last migrated one. Before it changes
// anything it checks that the file of every migrated version is present
// and unchanged (by checksum) and that no file was added below the current
// version; Validate reports the same. A statement that fails stops Apply:
// the version is recorded as ERROR, and ERROR_REASON names the file, the
// line and column, the statement, the engine's message and SQLSTATE. After
// the file is fixed, Apply starts again with that version. Statements
// before the failed one had taken effect, and running them again would fail
// ("already exists"), so ERROR_REASON ends with a marker recording how many
// statements were applied and a digest of their text; the retry skips them
// if they are unchanged and refuses if they were edited. (ksql-migrations
// has no column for this, and the reason text is where a person looks for
// it too.) A version left RUNNING by an applier that died is run again from
// its first statement, since how far it got is unknown.
//
// # Two appliers at once
//
// Deploys start many replicas at once, and each may apply migrations at
// start-up, through different engines of the same cluster or through one
// server. Exactly one must apply; the others wait (WithLockWait, --wait)
// and then find nothing to do, or fail with a *LockedError saying who holds
// the lock. Waiting is not the mechanism, though; the exclusion is decided
// by the log:
//
// The lock is a second single-partition stream, MIGRATION_LOCKS (a sluice
// addition), of records (OWNER, ACTION, LEASE_MS) where ACTION is ACQUIRE,
// RENEW or RELEASE. Because the topic has one partition, Kafka gives every
// record of every applier one total order, and every applier computes the
// holder by folding the records in that order with the same rules (see
// foldLock): an ACQUIRE wins only if the lock is free at that point of the
// log. An applier appends its ACQUIRE, then reads the stream (the INSERT
// returns once the record is acknowledged, and a pull query reads up to the
// end as of its start, so the read includes it) and knows whether it won.
// Two appliers can both append ACQUIREs; only the first in the log wins, and
// both compute the same answer. This is a compare-and-set on the log rather
// than on time.
//
// Time enters only for crashes: an applier that dies holding the lock must
// not block the project forever, so a holder has a lease (WithLease,
// default two minutes) and an ACQUIRE whose record timestamp is past the
// holder's lease wins. The timestamps are the records' ROWTIME, assigned by
// the engine that accepted the INSERT, and they come from the log, so
// appliers still agree. The holder renews before every statement and checks
// in the same step that it still holds the lock; an applier that was
// paused past its lease and lost the lock stops before its next statement
// and writes nothing more. Clocks of different engines must agree to well
// within the lease, as for any lease.
//
// The lock is built from SQL statements (INSERT and pull queries) rather
// than from a Kafka API in the engine so that it works the same through an
// embedded engine and through a server reached over the Postgres protocol,
// where the client sees SQL only.
//
// # Use
//
// From Go, apply at start-up from files embedded in the binary:
//
//	//go:embed migrations
//	var migrations embed.FS
//
//	m, err := migrate.New(eng, migrations, migrate.WithDefines(map[string]string{"env": "prod"}))
//	rep, err := m.Apply(ctx, migrate.Target{}) // all pending
//
// From the command line, sluice migrate (cmd/sluice) wraps the same calls,
// on an embedded engine (--data-dir) or a running sluice (--server, see
// Dial).
package migrate
