package planner

import (
	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// pushDownWhere moves the leading conjuncts of where (a predicate over V)
// that read only the first source below the joins, where they drop a
// stream row before it is re-keyed, probed and joined instead of after
// the join built its result row. It returns what remains of where for
// after the join (nil when nothing does) and ops with the filter at their
// head when the first source is read directly; a re-keyed first source
// gets the filter in its repartition stage (and its inline form).
//
// The move is exact only when a dropped stream row cannot change the
// result otherwise, so it is done only when the first source is a stream
// and every join is an INNER or LEFT stream-table join: such a row only
// probes the tables (it changes no state the join keeps, and its time
// closes no window), and the first source is never NULL-padded, so the
// conjunct sees the same values above and below the join. Only a prefix
// of the conjunction moves, so conjuncts are evaluated in their written
// order, as ksqlDB's short-circuit AND does; the one difference is that a
// moved conjunct whose evaluation fails is also reported for rows that
// would have found no match.
func (jq *joinQuery) pushDownWhere(where expr.Node, ops []any) (expr.Node, []any) {
	s0 := jq.srcs[0]
	if where == nil || s0.src.Kind != sql.KindStream {
		return where, ops
	}
	for _, st := range jq.steps {
		if st.fk || jq.srcs[st.right].src.Kind != sql.KindTable ||
			(st.kind != sql.JoinInner && st.kind != sql.JoinLeft) {
			return where, ops
		}
	}
	cs := conjuncts(where)
	n := 0
	for n < len(cs) && jq.readsOnly(cs[n], s0) && isDeterministic(cs[n]) {
		n++
	}
	if n == 0 {
		return where, ops
	}
	local := mapCols(andAll(cs[:n]), func(c *expr.Col) expr.Node {
		return &expr.Col{Index: c.Index - s0.base, Name: c.Name, Type: c.Type}
	})
	filter := exec.FilterSpec{Pred: local}
	if s0.pre != nil {
		s0.pre.Ops = append([]any{filter}, s0.pre.Ops...)
		if s0.inline != nil {
			s0.inline = append([]any{filter}, s0.inline...)
		}
	} else {
		ops = append([]any{filter}, ops...)
	}
	if n == len(cs) {
		return nil, ops
	}
	return andAll(cs[n:]), ops
}

// readsOnly reports whether n reads columns of V and all of them are
// source s's.
func (jq *joinQuery) readsOnly(n expr.Node, s *joinSrc) bool {
	used := map[int]bool{}
	colsUsed(n, used)
	for c := range used {
		if c < s.base || c >= s.base+len(s.scan.Cols) {
			return false
		}
	}
	return len(used) > 0
}

// conjuncts splits a predicate at its top-level ANDs, in evaluation order.
func conjuncts(n expr.Node) []expr.Node {
	if c, ok := n.(*expr.Call); ok && c.Name == "AND" && len(c.Args) == 2 {
		return append(conjuncts(c.Args[0]), conjuncts(c.Args[1])...)
	}
	return []expr.Node{n}
}

// andAll joins predicates with AND, left to right.
func andAll(ns []expr.Node) expr.Node {
	out := ns[0]
	for _, n := range ns[1:] {
		out = mustCall("AND", out, n)
	}
	return out
}
