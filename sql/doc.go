// Package sql is sluice's SQL front end: it turns the text a user wrote into
// statements of ksqlDB's dialect (ast.go), with SQL types (types.go) and
// errors that carry a SQLSTATE and a position (errors.go).
//
// The front end is token-aware: a small lexer splits a script into
// statements and recognizes the parts of ksqlDB's grammar that MySQL's lacks
// (CREATE STREAM ... WITH (...), WINDOW, WITHIN, PARTITION BY, EMIT, struct
// access with ->, subscripts, ARRAY/MAP/STRUCT constructors, lambdas, ::
// casts). Expressions and query bodies are parsed by TiDB's parser
// (github.com/pingcap/tidb/pkg/parser, ANSI_QUOTES) and translated into this
// package's AST. No regular expression ever rewrites SQL text.
//
// Invariants:
//  1. Identifiers in the AST are folded: unquoted names upper-cased, quoted
//     names verbatim.
//  2. Every AST node and every *Error carries a position in the user's
//     original text (line and column), never in a rewritten text.
//  3. Parse never panics on any input; fuzz tests hold it to that.
package sql
