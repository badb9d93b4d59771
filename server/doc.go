// Package server speaks the PostgreSQL wire protocol (version 3) in front of
// a sluice engine, so psql and Postgres drivers can run sluice SQL.
//
// It is a client of the root package's embedding API and nothing more
// (DESIGN.md decision 10): it never imports planner, exec or storage.
//
// What is implemented is the simple-query path, the one psql uses:
//
//   - startup: SSLRequest and GSSEncRequest are refused with 'N' (TLS comes
//     later), the StartupMessage is answered with AuthenticationOk (trust),
//     the ParameterStatus values drivers rely on, BackendKeyData and
//     ReadyForQuery;
//   - Query: the string is split into statements with sluice.SplitStatements
//     and each runs, in order, in the connection's own sluice.Session, so SET
//     applies to the later statements of the connection;
//   - CancelRequest (on a new connection, as the protocol wants) cancels the
//     running statement of the connection whose key it carries;
//   - Terminate.
//
// The extended protocol (Parse, Bind, ...) is answered with a 0A000 error and
// skipped until Sync; COPY and function calls are not supported.
//
// Invariants:
//
//  1. Only the connection's own goroutine writes to its socket. Readers,
//     cancel requests and shutdown only cancel contexts or set deadlines;
//     they never send messages, so messages never interleave.
//  2. A connection has at most one running statement, and cancelling it
//     never affects another connection: CancelRequest must match both the
//     process id and the 32-bit secret handed out in BackendKeyData.
//  3. Trust authentication is only offered on loopback listeners, unless the
//     configuration explicitly says otherwise (Config.AllowNonLoopbackTrust).
//  4. Errors that are not *sluice.Error are reported as XX000 with a generic
//     message; their text goes to the log only, so internals never leak to
//     clients.
package server
