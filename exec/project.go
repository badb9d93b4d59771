package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluicedb/sluice/exec/expr"
)

// project computes a new record, one column per expression. Change kinds
// pass through unchanged: a projection maps each change to the same change
// of the projected row.
type project struct {
	spec   ProjectSpec
	evs    []expr.Evaluator
	next   Operator
	tc     *TaskContext
	ectx   expr.Ctx
	cur    int // expression being evaluated, for error messages
	schema *arrow.Schema
	cols   []arrow.Array // reused per batch
}

var _ Operator = (*project)(nil)

// NewProject compiles spec's expressions in front of next.
func NewProject(spec ProjectSpec, next Operator) (Operator, error) {
	if len(spec.Exprs) != len(spec.Names) {
		return nil, fmt.Errorf("project: %d expressions but %d names", len(spec.Exprs), len(spec.Names))
	}
	p := &project{spec: spec, next: next, evs: make([]expr.Evaluator, len(spec.Exprs)), cols: make([]arrow.Array, len(spec.Exprs))}
	fields := make([]arrow.Field, len(spec.Exprs))
	for i, e := range spec.Exprs {
		ev, err := expr.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("project %s AS %s: %w", e, spec.Names[i], err)
		}
		p.evs[i] = ev
		fields[i] = arrow.Field{Name: spec.Names[i], Type: e.DataType(), Nullable: true}
	}
	p.schema = arrow.NewSchema(fields, nil)
	return p, nil
}

func (p *project) Open(tc *TaskContext) error {
	p.tc = tc
	// One closure for the operator's life: evaluation reports through it
	// without allocating per batch.
	p.ectx.OnRowError = func(_ int, err error) {
		p.tc.recordError(&p.tc.metrics().EvalErrors,
			fmt.Errorf("evaluating %s AS %s: %w (the value is NULL)", p.spec.Exprs[p.cur], p.spec.Names[p.cur], err))
	}
	return p.next.Open(tc)
}

func (p *project) Push(ctx context.Context, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	release := func() {
		for i, c := range p.cols {
			if c != nil {
				c.Release()
				p.cols[i] = nil
			}
		}
	}
	for i, ev := range p.evs {
		p.cur = i
		a, err := ev.Eval(&p.ectx, b.Rec)
		if err != nil {
			release()
			return fmt.Errorf("project %s AS %s: %w", p.spec.Exprs[i], p.spec.Names[i], err)
		}
		if a.Len() != n {
			a.Release()
			release()
			return fmt.Errorf("project %s AS %s: evaluator returned %d rows for %d", p.spec.Exprs[i], p.spec.Names[i], a.Len(), n)
		}
		p.cols[i] = a
	}
	p.fixSchema()
	rec := array.NewRecord(p.schema, p.cols, int64(n))
	release()
	defer rec.Release()
	return p.next.Push(ctx, Batch{Rec: rec, Kinds: b.Kinds})
}

// fixSchema adopts the evaluators' actual types where they differ from the
// planned ones only in what SQL does not express (nested nullability, map
// key ordering): an Arrow record requires its schema to match its columns
// exactly. A real type mismatch is a planner or evaluator bug that the next
// operator reports.
func (p *project) fixSchema() {
	var fields []arrow.Field
	for i, c := range p.cols {
		if arrow.TypeEqual(c.DataType(), p.schema.Field(i).Type) {
			continue
		}
		if fields == nil {
			fields = append([]arrow.Field(nil), p.schema.Fields()...)
		}
		fields[i].Type = c.DataType()
	}
	if fields != nil {
		p.schema = arrow.NewSchema(fields, nil)
	}
}

func (p *project) Watermark(ctx context.Context, t int64) error { return p.next.Watermark(ctx, t) }
func (p *project) Flush(ctx context.Context) error              { return p.next.Flush(ctx) }
func (p *project) Close() error                                 { return p.next.Close() }
