package exec

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"

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
		if i < len(p.spec.NullOnDelete) && p.spec.NullOnDelete[i] && b.Kinds != nil {
			a = nullWhereDeleted(a, b.Kinds)
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

// nullWhereDeleted returns a with its Delete rows made NULL (the same data
// under a new validity bitmap), releasing a; a itself when no row is a
// Delete.
func nullWhereDeleted(a arrow.Array, kinds []ChangeKind) arrow.Array {
	if a.DataType().ID() == arrow.NULL || !slices.Contains(kinds, Delete) {
		return a // a NULL-typed column is NULL everywhere already
	}
	d := a.Data()
	n, off := d.Len(), d.Offset()
	valid := memory.NewResizableBuffer(memory.DefaultAllocator)
	valid.Resize(int(bitutil.BytesForBits(int64(n + off))))
	bits := valid.Bytes()
	for i := 0; i < n; i++ {
		bitutil.SetBitTo(bits, off+i, kinds[i] != Delete && a.IsValid(i))
	}
	buffers := append([]*memory.Buffer{valid}, d.Buffers()[1:]...)
	nd := array.NewData(d.DataType(), n, buffers, d.Children(), array.UnknownNullCount, off)
	out := array.MakeFromData(nd)
	nd.Release()
	valid.Release()
	a.Release()
	return out
}
