// Package planner turns bound SQL into what the runtime executes.
//
// It owns four steps:
//
//  1. Binding (bind*.go): names in a statement are resolved against the
//     catalog and the scope of a query (sources, aliases, pseudo columns,
//     lambda parameters); expressions become typed expr.Node trees whose
//     functions are resolved with expr.Resolve. DDL statements are checked
//     and turned into catalog Sources (ddl.go).
//  2. Logical planning (nodes.go, query.go): a SELECT becomes a tree of
//     immutable Nodes (Scan, Filter, Project today; Aggregate, Window and
//     Join are declared so that rules and EXPLAIN already understand them).
//  3. Rewriting (rules.go): named rules, applied in the order listed there.
//  4. Physical planning (physical.go): the optimized tree is lowered into the
//     per-partition pipeline of package exec: a SourceSpec, a sequence of
//     FilterSpec/ProjectSpec and, for persistent queries, a SinkSpec.
//
// Terms: the "layout" of a source is the column order its decoded batches
// have (exec.SourceSpec): key fields, value fields, ROWTIME, ROWPARTITION,
// ROWOFFSET, WINDOWSTART/WINDOWEND for windowed sources, then header
// columns. Every Col index in an expr.Node refers to the output columns of
// the node's input.
//
// Invariants:
//  1. Every error returned for a user's statement is a *sql.Error with a
//     SQLSTATE and, when the offending element is known, its position.
//  2. Nodes are never mutated after construction; rules build new trees.
//  3. A rule never changes a plan's output columns (names, types, order),
//     and never changes which rows reach the output or what errors they
//     raise at run time: constant folding leaves an expression that fails
//     at plan time in place, so the runtime reports it per row as usual.
//  4. The ROWTIME of every output row travels in a hidden BIGINT column
//     after the visible ones (Plan.OutputTimeCol).
//  5. The planner never imports the root package, the server, or storage.
package planner
