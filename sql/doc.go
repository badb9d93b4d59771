// Package sql is sluice's SQL front end: it turns the text a user wrote into
// statements of ksqlDB's dialect (ast.go, ast_extra.go), with SQL types
// (types.go) and errors that carry a SQLSTATE and a position (errors.go).
//
// # Pipeline
//
//  1. lexer.go tokenizes the whole script once. Tokens keep their exact
//     source text and their position (byte offset, 1-based line, 1-based
//     rune column). Unquoted identifiers fold to upper case; `x` and "x"
//     keep their case; a doubled quote in a string stands for one; numbers are INT, DECIMAL
//     (has a point) or DOUBLE (has an exponent); $n is a parameter; ${v} a
//     variable reference; -- and /* */ comments are skipped.
//  2. split.go groups tokens into statements at top-level semicolons.
//  3. parser.go and select.go parse statements by recursive descent over the
//     tokens: DDL, WITH properties, types, durations, and the structure of a
//     query (clause boundaries, FROM/JOIN/WITHIN, WINDOW, EMIT, LIMIT).
//  4. translate.go turns expression tokens (select list, ON, WHERE,
//     GROUP BY, PARTITION BY, HAVING, VALUES) into text that TiDB's MySQL
//     grammar accepts, and tidb.go parses one SELECT per query with TiDB
//     (ANSI_QUOTES) and converts TiDB's AST into this package's AST.
//     PARTITION BY travels as TiDB's ORDER BY (ksqlDB has no ORDER BY);
//     FULL OUTER JOIN travels as STRAIGHT_JOIN; ksqlDB-only expressions
//     (a->b, a[i], ARRAY[..], MAP(k := v), STRUCT(f := v), lambdas,
//     CAST to ksqlDB types, x::T, time-unit arguments, $n, DECIMAL '1.2')
//     travel as calls to lower-case `__sluice_*` placeholder functions
//     whose non-expression parts (types, names) sit in a side table.
//  5. format.go renders statements and expressions canonically.
//
// # Invariants
//
//  1. Identifiers in the AST are folded: unquoted names upper-cased, quoted
//     names verbatim. Function names are always upper-cased.
//  2. Every AST node and every *Error carries a position in the user's
//     original text, never in translated text: each translated segment
//     records the original token it came from, and TiDB's node offsets and
//     error offsets are mapped back through those segments.
//  3. Literals keep their written text: 1.10 is LitDecimal "1.10", 1e3 is
//     LitDouble, integers are LitInt up to 64 bits (larger is an error), a
//     minus sign directly before a number is folded into the literal.
//  4. User text cannot reach TiDB as a keyword except the expression
//     keywords listed in translate.go: every other word is emitted
//     back-quoted, and user function names (upper-cased) can never name a
//     placeholder (lower case).
//  5. Parse never panics on any input and every error it returns is a
//     *Error (42601 for syntax, 0A000 for recognised but unsupported
//     statements such as ALTER or PRINT). FuzzParse holds it to that.
//  6. Format is canonical: Parse(Format(s)) formats to the same text. The
//     QTT test checks this for every statement of ksqlDB's test suite.
//
// # Conventions the planner relies on
//
//   - SelectItem{Star: true, Expr: x} is `x->*` (all fields of struct x);
//     Star with Expr nil is `*` or `Qualifier.*`.
//   - Join.At is the position of the join keyword(s).
//   - WITHIN d sets Before = After = d.
//   - A custom type name parses to Type{Kind: TypeUnknown, Name: NAME}.
//   - A bare integer in GROUP BY / PARTITION BY is a constant, not a
//     column position.
//   - LIKE without ESCAPE has Escape "".
//   - The time units accepted as whole function arguments are ksqlDB's
//     reserved ones (MILLISECOND(S), SECONDS, MINUTES, HOURS, DAYS); the
//     singular DAY, HOUR, MINUTE and SECOND are column names there.
//   - WINDOW name TUMBLING (...) is accepted and the name dropped, as in
//     ksqlDB.
package sql
