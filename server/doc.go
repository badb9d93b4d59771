// Package server speaks the PostgreSQL wire protocol (version 3) in front of
// a sluice engine, so psql and Postgres drivers can run sluice SQL.
//
// It is a client of the root package's embedding API and nothing more
// (DESIGN.md decision 10): it never imports planner, exec or storage.
//
// Files:
//
//	server.go     listener, connection tracking, CancelRequest, shutdown
//	auth.go       startup packet, TLS upgrade, trust / password / SCRAM-SHA-256
//	conn.go       message loop, simple query, statement dispatch, errors
//	extended.go   Parse, Bind, Describe, Execute, Close (Sync/Flush in conn.go)
//	params.go     $n parameters: type inference and binding on tokens
//	pgsession.go  Postgres-only statements: SET/SHOW/RESET, BEGIN/COMMIT,
//	              DISCARD ALL, DECLARE/FETCH/CLOSE, COPY; session settings
//	portal.go     portals and cursors, utility statements, COPY TO STDOUT
//	stream.go     a running statement's rows and how they reach the socket
//	binary.go     binary formats of results and parameters
//	catalog.go    the engine's catalog for package pgcatalog
//	funcsig.go    function signatures in Postgres types, for pg_proc (\df)
//	pgcatalog/    virtual pg_catalog and information_schema for psql's \d
//
// Statements are recognised on tokens of sql.PGTokens (the sluice lexer
// plus Postgres' E” strings and pattern operators), never by regular
// expressions over SQL text. What the server does not answer itself goes to
// the engine unchanged, through the connection's own sluice.Session.
//
// Invariants:
//
//  1. Only the connection's own goroutine writes to its socket. Readers,
//     cancel requests and shutdown only cancel contexts or set deadlines;
//     they never send messages, so messages never interleave.
//  2. A connection has at most one running statement, and cancelling it
//     never affects another connection: CancelRequest must match both the
//     process id and the 32-bit secret handed out in BackendKeyData.
//  3. Trust authentication is only allowed on loopback listeners, unless the
//     configuration explicitly says otherwise (Config.AllowNonLoopbackTrust).
//  4. Errors that are not *sluice.Error are reported as XX000 with a generic
//     message; their text goes to the log only, so internals never leak to
//     clients. Authentication failures say the same whether the user exists
//     or not.
//  5. A parameter value can never change a statement's shape: $n tokens are
//     replaced by literals quoted for the parameter's type. Likewise a
//     quoted literal of a SELECT or INSERT is unquoted only where a numeric
//     or boolean column expects it and only when it is a valid number or
//     boolean (Postgres' untyped literals; pgx's simple mode sends every
//     parameter so), so its text is never read as SQL.
//  6. Portals live as in Postgres: outside a transaction block they end at
//     Sync (or with the simple query); cursors need BEGIN and end at
//     COMMIT or ROLLBACK.
//
// Describing a statement that returns rows starts it (sluice learns a
// query's columns by planning and opening it); the rows are kept for the
// Bind that usually follows, so a push query is not started twice.
package server
