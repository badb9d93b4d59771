// Package pgcatalog answers the catalog queries of psql and Postgres tools
// (\d, \dt, \dv, \d NAME, \l, \dn, \df, information_schema) from virtual
// pg_catalog and information_schema relations that describe sluice's
// streams, tables and functions.
//
// The queries are fixed texts, but they are not matched as texts: each is
// parsed from tokens of the sql package's Postgres-flavoured lexer
// (sql.PGTokens) into a small AST of the SELECT subset catalog queries use
// (joins, subqueries, UNION, CASE, ::casts, OPERATOR(pg_catalog.~), ANY,
// ARRAY(...), table functions, aggregates, ORDER BY and LIMIT) and
// evaluated row by row over the virtual relations. A psql release with
// different queries keeps working as long as it stays inside that subset.
//
// Streams are relkind 'v' (psql labels them "view", \dv lists them) and
// tables relkind 'r' ("table", \dt): both are read-only relations one
// queries, and they keep psql's per-relkind follow-up queries small. Key
// columns are shown NOT NULL. Relations sluice has no counterpart for
// (pg_index, pg_constraint, pg_inherits, pg_policy, publications, ...) are
// empty and answer NULL for any column, so psql's footers stay empty.
//
// The regular expressions in this package evaluate the SQL ~ and LIKE
// operators on catalog values; no SQL text is ever rewritten with them.
package pgcatalog
