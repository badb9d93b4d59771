package planner

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
)

// A rule rewrites a logical plan into an equivalent one (package invariant
// 3). Rules run once each, in the order of the list.
type rule struct {
	name  string
	apply func(Node) (Node, error)
}

// rules is the rewrite pipeline, in order:
//
//  1. fold-constants evaluates constant subtrees first, so that the later
//     rules see TRUE filters (which it removes) and simple predicates.
//  2. push-down-filters moves filters below projections and merges
//     adjacent filters into one conjunction, so filters run on the fewest
//     columns and rows are dropped before anything is computed for them.
//  3. prune-columns drops computed columns nobody reads and records which
//     source columns the plan needs.
var rules = []rule{
	{"fold-constants", foldConstants},
	{"push-down-filters", pushDownFilters},
	{"prune-columns", pruneColumns},
}

// optimize applies the rules in order.
func optimize(n Node) (Node, error) {
	for _, r := range rules {
		var err error
		if n, err = r.apply(n); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.name, err)
		}
	}
	return n, nil
}

// ---- fold-constants ----

func foldConstants(n Node) (Node, error) {
	return transformUp(n, func(n Node) (Node, error) {
		switch n := n.(type) {
		case *Filter:
			p := foldExpr(n.Pred)
			if l, ok := p.(*expr.Lit); ok && l.Value == true {
				return n.Input, nil
			}
			return &Filter{Input: n.Input, Pred: p}, nil
		case *Project:
			es := make([]expr.Node, len(n.Exprs))
			for i, e := range n.Exprs {
				es[i] = foldExpr(e)
			}
			return &Project{Input: n.Input, Exprs: es, Cols: n.Cols}, nil
		}
		return n, nil
	})
}

func isLit(n expr.Node) bool { _, ok := n.(*expr.Lit); return ok }

func boolLit(n expr.Node) (val, ok bool) {
	l, isL := n.(*expr.Lit)
	if !isL {
		return false, false
	}
	v, isB := l.Value.(bool)
	return v, isB
}

// foldExpr replaces constant subtrees by their values. A subtree whose
// evaluation fails stays as it is, so that the runtime reports the failure
// per row (NULL plus a processing-log entry), exactly as without folding.
func foldExpr(n expr.Node) expr.Node {
	switch n := n.(type) {
	case *expr.Call:
		args := make([]expr.Node, len(n.Args))
		all := true
		for i, a := range n.Args {
			args[i] = foldExpr(a)
			all = all && isLit(args[i])
		}
		c := &expr.Call{Name: n.Name, Args: args, Fn: n.Fn, Type: n.Type}
		// Boolean identities. ksqlDB's AND/OR short-circuit like Java's
		// && and ||, so FALSE AND x is FALSE even when x would fail.
		if (n.Name == "AND" || n.Name == "OR") && len(args) == 2 {
			absorbing := n.Name == "OR" // TRUE absorbs OR, FALSE absorbs AND
			for i, a := range args {
				if v, ok := boolLit(a); ok {
					if v == absorbing {
						return &expr.Lit{Value: v, Type: expr.BooleanType}
					}
					other := args[1-i]
					if other.DataType().ID() == arrow.BOOL {
						return other
					}
				}
			}
		}
		if all && len(args) > 0 && isDeterministic(c) {
			if v, err := evalConst(c); err == nil {
				return &expr.Lit{Value: v, Type: c.Type}
			}
		}
		return c
	case *expr.Cast:
		x := foldExpr(n.X)
		c := &expr.Cast{X: x, Type: n.Type}
		if isLit(x) {
			if v, err := evalConst(c); err == nil {
				return &expr.Lit{Value: v, Type: n.Type}
			}
		}
		return c
	case *expr.Case:
		out := &expr.Case{Type: n.Type}
		for _, w := range n.Whens {
			cond := foldExpr(w.Cond)
			res := foldExpr(w.Result)
			if v, ok := boolLit(cond); ok {
				if !v {
					continue // never taken
				}
				if len(out.Whens) == 0 {
					return res // always taken first
				}
				out.Else = res
				return out
			}
			out.Whens = append(out.Whens, expr.CaseWhen{Cond: cond, Result: res})
		}
		if n.Else != nil {
			out.Else = foldExpr(n.Else)
		}
		if len(out.Whens) == 0 {
			if out.Else != nil {
				return out.Else
			}
			return &expr.Lit{Type: n.Type}
		}
		return out
	case *expr.Lambda:
		return &expr.Lambda{Params: n.Params, Types: n.Types, Body: foldExpr(n.Body)}
	}
	return n
}

// ---- push-down-filters ----

func pushDownFilters(n Node) (Node, error) {
	// Top-down: a filter moved below a projection may meet another filter
	// or projection there, so recurse on the rewritten node.
	switch x := n.(type) {
	case *Filter:
		switch in := x.Input.(type) {
		case *Filter:
			merged := &Filter{Input: in.Input, Pred: mustCall("AND", in.Pred, x.Pred)}
			return pushDownFilters(merged)
		case *Project:
			if p, ok := substitute(x.Pred, in.Exprs); ok {
				below, err := pushDownFilters(&Filter{Input: in.Input, Pred: p})
				if err != nil {
					return nil, err
				}
				return &Project{Input: below, Exprs: in.Exprs, Cols: in.Cols}, nil
			}
		}
	}
	ch := n.Children()
	if len(ch) == 0 {
		return n, nil
	}
	nc := make([]Node, len(ch))
	for i, c := range ch {
		var err error
		if nc[i], err = pushDownFilters(c); err != nil {
			return nil, err
		}
	}
	return withChildren(n, nc), nil
}

// substitute rewrites a predicate over a projection's outputs into one over
// its input. It refuses when a referenced output is not deterministic:
// evaluating it again below the projection could give another value.
func substitute(pred expr.Node, exprs []expr.Node) (expr.Node, bool) {
	ok := true
	out := mapCols(pred, func(c *expr.Col) expr.Node {
		e := exprs[c.Index]
		if !isDeterministic(e) {
			ok = false
		}
		return e
	})
	return out, ok
}

// ---- prune-columns ----

func pruneColumns(n Node) (Node, error) {
	all := make([]bool, len(Columns(n)))
	for i := range all {
		all[i] = true
	}
	out, _, err := prune(n, all)
	return out, err
}

// prune rewrites n so that it produces at least the required columns and
// returns, for each of n's old output columns, its new index (-1 when
// dropped).
func prune(n Node, required []bool) (Node, []int, error) {
	switch n := n.(type) {
	case *Scan:
		var needed []int
		mapping := make([]int, len(n.Cols))
		for i := range n.Cols {
			mapping[i] = i
			if required[i] {
				needed = append(needed, i)
			}
		}
		if needed == nil {
			needed = []int{}
		}
		c := *n
		c.Needed = needed
		return &c, mapping, nil
	case *Filter:
		req := append([]bool(nil), required...)
		used := map[int]bool{}
		colsUsed(n.Pred, used)
		for i := range used {
			req[i] = true
		}
		in, mapping, err := prune(n.Input, req)
		if err != nil {
			return nil, nil, err
		}
		return &Filter{Input: in, Pred: remap(n.Pred, mapping)}, mapping, nil
	case *Project:
		inReq := make([]bool, len(Columns(n.Input)))
		var keep []int
		for i, e := range n.Exprs {
			if required[i] || !isDeterministic(e) {
				keep = append(keep, i)
				used := map[int]bool{}
				colsUsed(e, used)
				for c := range used {
					inReq[c] = true
				}
			}
		}
		in, inMap, err := prune(n.Input, inReq)
		if err != nil {
			return nil, nil, err
		}
		mapping := make([]int, len(n.Exprs))
		for i := range mapping {
			mapping[i] = -1
		}
		p := &Project{Input: in}
		for j, i := range keep {
			mapping[i] = j
			p.Exprs = append(p.Exprs, remap(n.Exprs[i], inMap))
			p.Cols = append(p.Cols, n.Cols[i])
		}
		return p, mapping, nil
	case *FlatMap:
		// Every function stays: each one decides how many rows a row
		// becomes, whether its column is read or not.
		nIn := len(Columns(n.Input))
		inReq := append([]bool(nil), required[:nIn]...)
		used := map[int]bool{}
		for _, fn := range n.Funcs {
			colsUsed(fn.Arg, used)
		}
		for c := range used {
			inReq[c] = true
		}
		in, inMap, err := prune(n.Input, inReq)
		if err != nil {
			return nil, nil, err
		}
		newIn := len(Columns(in))
		mapping := append([]int(nil), inMap...)
		f := &FlatMap{Input: in, Cols: n.Cols}
		for k, fn := range n.Funcs {
			mapping = append(mapping, newIn+k)
			f.Funcs = append(f.Funcs, exec.TableFunc{Name: fn.Name, Arg: remap(fn.Arg, inMap)})
		}
		return f, mapping, nil
	}
	// Nodes that are not produced yet keep every column.
	mapping := make([]int, len(Columns(n)))
	for i := range mapping {
		mapping[i] = i
	}
	return n, mapping, nil
}

func remap(n expr.Node, mapping []int) expr.Node {
	return mapCols(n, func(c *expr.Col) expr.Node {
		if mapping[c.Index] == c.Index {
			return c
		}
		return &expr.Col{Index: mapping[c.Index], Name: c.Name, Type: c.Type}
	})
}
