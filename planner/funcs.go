package planner

import (
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// This file is the planner's only door into the function registry of
// package expr, so that the mapping of registry errors to SQLSTATEs lives in
// one place.

// resolve resolves a function or operator and maps a failure to a
// *sql.Error at pos: an unknown name or an argument list no overload takes is
// 42883 (undefined_function), as PostgreSQL reports both.
func resolve(name string, args []arrow.DataType, pos sql.Pos) (*expr.Func, error) {
	fn, err := expr.Resolve(name, args)
	if err != nil {
		return nil, resolveErr(err, pos)
	}
	return fn, nil
}

func resolveErr(err error, pos sql.Pos) error {
	var re *expr.ResolveError
	if errors.As(err, &re) {
		e := sql.Errorf(sql.CodeUndefinedFunction, pos, "%s", firstLine(re.Msg))
		if rest := restLines(re.Msg); rest != "" {
			e.Hint = rest
		} else if re.Unknown {
			e.Hint = "run SHOW FUNCTIONS to list the functions sluice knows"
		}
		return e
	}
	return sql.Errorf(sql.CodeUndefinedFunction, pos, "%v", err)
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

func restLines(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return ""
}

// call builds a resolved call node.
func call(name string, args []expr.Node, pos sql.Pos) (expr.Node, error) {
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.DataType()
	}
	fn, err := resolve(name, types, pos)
	if err != nil {
		return nil, err
	}
	return &expr.Call{Name: fn.Name, Args: args, Fn: fn, Type: fn.Result}, nil
}

// mustCall is call for operators the planner itself introduces over
// arguments it has already type-checked (AND of two BOOLEANs): a failure is
// a planner bug.
func mustCall(name string, args ...expr.Node) expr.Node {
	n, err := call(name, args, sql.Pos{})
	if err != nil {
		panic(fmt.Sprintf("planner: resolving %s: %v", name, err))
	}
	return n
}

// aggregateFuncs are ksqlDB's aggregate functions, recognised by name so
// that a query using one where aggregations are not planned gets "not
// supported yet" instead of "unknown function".
var aggregateFuncs = map[string]bool{
	"COUNT": true, "COUNT_DISTINCT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true,
	"COLLECT_LIST": true, "COLLECT_SET": true, "TOPK": true, "TOPKDISTINCT": true,
	"EARLIEST_BY_OFFSET": true, "LATEST_BY_OFFSET": true, "HISTOGRAM": true,
	"STDDEV_SAMPLE": true, "STDDEV_SAMP": true, "CORRELATION": true, "ATTR": true, "SUM_LIST": true,
}

// tableFuncs are ksqlDB's table functions (flatmap.go binds them).
var tableFuncs = map[string]bool{exec.Explode: true, exec.CubeExplode: true}

// nondeterministic functions return a different value per call: they are
// never folded and never duplicated by rules.
var nondeterministic = map[string]bool{
	"RANDOM": true, "UUID": true, "UNIX_TIMESTAMP": true, "UNIX_DATE": true,
	"NOW": true, "CURRENT_TIMESTAMP": true,
}

// IsDeterministic reports whether n gives the same result for the same
// input row every time (no RANDOM, UUID, clock reads).
func IsDeterministic(n expr.Node) bool { return isDeterministic(n) }

// isDeterministic reports whether n gives the same result for the same
// input row every time.
func isDeterministic(n expr.Node) bool {
	ok := true
	walkExpr(n, func(m expr.Node) {
		if c, is := m.(*expr.Call); is && nondeterministic[c.Name] {
			// A zero-argument UNIX_TIMESTAMP() reads the clock; with an
			// argument it is a pure conversion.
			if c.Name != "UNIX_TIMESTAMP" && c.Name != "UNIX_DATE" || len(c.Args) == 0 {
				ok = false
			}
		}
	})
	return ok
}

// epochMillis converts a TIMESTAMP column to BIGINT milliseconds. The
// runtime decodes ROWTIME, WINDOWSTART and WINDOWEND as TIMESTAMP columns,
// while in ksqlDB's SQL they are BIGINT; every reference to them goes
// through this conversion, which costs no copy: both types are 64-bit
// milliseconds, so the kernel reinterprets the buffers.
var epochMillis = &expr.Func{
	Name:       "EPOCH_MILLIS",
	Result:     expr.BigintType,
	NullOnNull: true,
	Impl: func(args []any) (any, error) {
		switch v := args[0].(type) {
		case expr.Timestamp:
			return int64(v), nil
		case int64:
			return v, nil
		}
		return nil, fmt.Errorf("EPOCH_MILLIS: unexpected %T", args[0])
	},
	Kernel: func(_ *expr.Ctx, args []arrow.Array, n int) (arrow.Array, error) {
		d := args[0].Data()
		if d.Len() != n {
			return nil, fmt.Errorf("EPOCH_MILLIS: %d rows, want %d", d.Len(), n)
		}
		out := array.NewData(expr.BigintType, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		defer out.Release()
		return array.MakeFromData(out), nil
	},
}

// asEpochMillis wraps a reference to a TIMESTAMP-typed pseudo column.
func asEpochMillis(n expr.Node) expr.Node {
	if n.DataType().ID() != arrow.TIMESTAMP {
		return n
	}
	return &expr.Call{Name: epochMillis.Name, Args: []expr.Node{n}, Fn: epochMillis, Type: expr.BigintType}
}

// evalConst evaluates an expression without column references. A per-row
// failure (a bad cast, division by zero) is returned as the error.
func evalConst(n expr.Node) (any, error) {
	ev, err := expr.Compile(n)
	if err != nil {
		return nil, err
	}
	var rowErr error
	ctx := &expr.Ctx{OnRowError: func(_ int, err error) {
		if rowErr == nil {
			rowErr = err
		}
	}}
	rec := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	out, err := ev.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	if rowErr != nil {
		return nil, rowErr
	}
	if out.Len() != 1 {
		return nil, fmt.Errorf("constant evaluated to %d rows", out.Len())
	}
	return expr.ValueAt(out, 0), nil
}

// walkExpr calls f on n and every node below it.
func walkExpr(n expr.Node, f func(expr.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case *expr.Call:
		for _, a := range n.Args {
			walkExpr(a, f)
		}
	case *expr.Case:
		for _, w := range n.Whens {
			walkExpr(w.Cond, f)
			walkExpr(w.Result, f)
		}
		walkExpr(n.Else, f)
	case *expr.Cast:
		walkExpr(n.X, f)
	case *expr.Lambda:
		walkExpr(n.Body, f)
	}
}

// mapCols returns n with every Col rewritten by f (nodes without columns
// are shared, not copied).
func mapCols(n expr.Node, f func(*expr.Col) expr.Node) expr.Node {
	switch n := n.(type) {
	case *expr.Col:
		return f(n)
	case *expr.Call:
		args := make([]expr.Node, len(n.Args))
		for i, a := range n.Args {
			args[i] = mapCols(a, f)
		}
		return &expr.Call{Name: n.Name, Args: args, Fn: n.Fn, Type: n.Type}
	case *expr.Case:
		c := &expr.Case{Whens: make([]expr.CaseWhen, len(n.Whens)), Type: n.Type}
		for i, w := range n.Whens {
			c.Whens[i] = expr.CaseWhen{Cond: mapCols(w.Cond, f), Result: mapCols(w.Result, f)}
		}
		if n.Else != nil {
			c.Else = mapCols(n.Else, f)
		}
		return c
	case *expr.Cast:
		return &expr.Cast{X: mapCols(n.X, f), Type: n.Type}
	case *expr.Lambda:
		return &expr.Lambda{Params: n.Params, Types: n.Types, Body: mapCols(n.Body, f)}
	}
	return n
}

// colsUsed adds the indexes of the columns n reads to set.
func colsUsed(n expr.Node, set map[int]bool) {
	walkExpr(n, func(m expr.Node) {
		if c, ok := m.(*expr.Col); ok {
			set[c.Index] = true
		}
	})
}
