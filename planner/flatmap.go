package planner

import (
	"strings"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// FlatMap applies table functions (EXPLODE, CUBE_EXPLODE) to each input
// row: its output is the input's columns followed by one column per
// function, one row per result (see exec.FlatMapSpec). The select items
// that call table functions refer to these columns; the Project above
// computes the select list over them, so a table function's result can
// take part in further expressions as in ksqlDB.
type FlatMap struct {
	Input Node
	Funcs []exec.TableFunc
	// Cols describes the function columns only (appended to the input's).
	Cols []OutCol
}

func (f *FlatMap) Children() []Node { return []Node{f.Input} }

func (f *FlatMap) String() string {
	parts := make([]string, len(f.Funcs))
	for i, fn := range f.Funcs {
		parts[i] = f.Cols[i].Name + " := " + fn.Name + "(" + fn.Arg.String() + ")"
	}
	return "FlatMap " + strings.Join(parts, ", ")
}

func (f *FlatMap) columns() []OutCol {
	in := Columns(f.Input)
	return append(append(make([]OutCol, 0, len(in)+len(f.Cols)), in...), f.Cols...)
}

func (f *FlatMap) spec() exec.FlatMapSpec {
	names := make([]string, len(f.Cols))
	for i, c := range f.Cols {
		names[i] = c.Name
	}
	return exec.FlatMapSpec{Funcs: f.Funcs, Names: names}
}

// tableFuncScope collects the table function calls of a select list while
// it is bound.
type tableFuncScope struct {
	// base is the index of the first function column: the number of
	// columns of the FlatMap's input.
	base  int
	funcs []exec.TableFunc
	cols  []OutCol
	// inside is the table function whose arguments are being bound, ""
	// outside one: ksqlDB does not nest table functions.
	inside string
}

// tableFunc binds a table function call. In the select list of a query
// over one stream it becomes a reference to a FlatMap column; elsewhere it
// is one of ksqlDB's errors.
func (b *binder) tableFunc(e *sql.Call) (expr.Node, error) {
	switch {
	case b.aggs != nil:
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, e.At, "Table functions cannot be used with aggregations.").
			WithHint("explode in one query (CREATE STREAM AS SELECT) and aggregate its output in another")
	case b.tfs == nil && b.sc.clause == "SELECT":
		// A select list where table functions are not planned: joins.
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, e.At, "Table functions are not supported in this query: %s", exprText(e)).
			WithHint("explode in a query over a single stream, then join its output")
	case b.tfs == nil:
		where := b.sc.clause
		if where == "" {
			where = "this context"
		}
		return nil, sql.Errorf(sql.CodeSyntax, e.At, "Table functions can only be used in the SELECT list, not in %s: %s", where, exprText(e))
	case b.tfs.inside != "":
		return nil, sql.Errorf(sql.CodeSyntax, e.At, "Table functions cannot be nested: %s is an argument of %s", exprText(e), b.tfs.inside)
	case e.Distinct:
		return nil, sql.Errorf(sql.CodeSyntax, e.At, "DISTINCT is only allowed in aggregate functions")
	}
	if len(e.Args) != 1 {
		return nil, sql.Errorf(sql.CodeUndefinedFunction, e.At, "Function '%s' takes one argument, an ARRAY, not %d", e.Name, len(e.Args))
	}
	b.tfs.inside = e.Name
	arg, err := b.bind(e.Args[0])
	b.tfs.inside = ""
	if err != nil {
		return nil, err
	}
	t, err := exec.TableFuncType(e.Name, arg.DataType())
	if err != nil {
		return nil, sql.Errorf(sql.CodeUndefinedFunction, e.At, "Function '%s' does not accept parameters (%s)", e.Name, expr.TypeName(arg.DataType())).
			WithHint("%s takes an ARRAY", e.Name)
	}
	idx := b.tfs.base + len(b.tfs.funcs)
	name := exprText(e)
	b.tfs.funcs = append(b.tfs.funcs, exec.TableFunc{Name: e.Name, Arg: arg})
	b.tfs.cols = append(b.tfs.cols, OutCol{Name: name, Type: t})
	return &expr.Col{Index: idx, Name: name, Type: t}, nil
}

// flatMapShift moves a Project's references to its FlatMap's function
// columns up by one after a column was appended to the scan below
// (addHeadersColumn): the function columns follow the input's.
func flatMapShift(p *Project, firstNew int) {
	if _, ok := p.Input.(*FlatMap); !ok {
		return
	}
	for i, e := range p.Exprs {
		p.Exprs[i] = mapCols(e, func(c *expr.Col) expr.Node {
			if c.Index < firstNew {
				return c
			}
			return &expr.Col{Index: c.Index + 1, Name: c.Name, Type: c.Type}
		})
	}
}
