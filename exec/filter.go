package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluicedb/sluice/exec/expr"
)

// filter keeps the rows whose predicate is TRUE (NULL and FALSE drop the
// row, as in SQL's WHERE).
//
// On a changelog it keeps the pairing of invariant 2: when only one half of
// an UpdateBefore/UpdateAfter pair passes, the pair turns into a Delete (the
// row stopped matching) or an Insert (the row started matching). Delete rows
// always pass: a tombstone carries no value to test, and Kafka Streams'
// table filter forwards tombstones the same way.
type filter struct {
	spec FilterSpec
	ev   expr.Evaluator
	next Operator
	tc   *TaskContext
	ectx expr.Ctx
	sel  []int32 // reused selection vector
	mem  memory.Allocator
}

var _ Operator = (*filter)(nil)

// NewFilter compiles spec.Pred, which must be BOOLEAN, in front of next.
func NewFilter(spec FilterSpec, next Operator) (Operator, error) {
	if spec.Pred == nil {
		return nil, fmt.Errorf("filter: no predicate")
	}
	if id := spec.Pred.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
		return nil, fmt.Errorf("filter: predicate %s is %s, not BOOLEAN", spec.Pred, expr.TypeName(spec.Pred.DataType()))
	}
	ev, err := expr.Compile(spec.Pred)
	if err != nil {
		return nil, fmt.Errorf("filter %s: %w", spec.Pred, err)
	}
	return &filter{spec: spec, ev: ev, next: next, mem: memory.DefaultAllocator}, nil
}

func (f *filter) Open(tc *TaskContext) error {
	f.tc = tc
	f.ectx.OnRowError = func(_ int, err error) {
		f.tc.recordError(&f.tc.metrics().EvalErrors, fmt.Errorf("WHERE %s: %w", f.spec.Pred, err))
	}
	return f.next.Open(tc)
}

func (f *filter) Push(ctx context.Context, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	res, err := f.ev.Eval(&f.ectx, b.Rec)
	if err != nil {
		return fmt.Errorf("filter %s: %w", f.spec.Pred, err)
	}
	defer res.Release()
	// A predicate of type NULL (WHERE NULL) is never TRUE.
	mask, _ := res.(*array.Boolean)
	pass := func(i int) bool { return mask != nil && mask.IsValid(i) && mask.Value(i) }

	sel := f.sel[:0]
	var kinds []ChangeKind
	if b.Kinds == nil {
		for i := 0; i < n; i++ {
			if pass(i) {
				sel = append(sel, int32(i))
			}
		}
	} else {
		kinds = make([]ChangeKind, 0, n)
		for i := 0; i < n; i++ {
			switch k := b.Kinds[i]; k {
			case Delete:
				sel, kinds = append(sel, int32(i)), append(kinds, Delete)
			case UpdateBefore:
				before := pass(i)
				paired := i+1 < n && b.Kinds[i+1] == UpdateAfter
				after := paired && pass(i+1)
				switch {
				case before && after:
					sel, kinds = append(sel, int32(i), int32(i+1)), append(kinds, UpdateBefore, UpdateAfter)
				case before:
					sel, kinds = append(sel, int32(i)), append(kinds, Delete)
				case after:
					sel, kinds = append(sel, int32(i+1)), append(kinds, Insert)
				}
				if paired {
					i++
				}
			default:
				if pass(i) {
					sel, kinds = append(sel, int32(i)), append(kinds, k)
				}
			}
		}
	}
	f.sel = sel
	if len(sel) == 0 {
		return nil
	}
	if len(sel) == n && (b.Kinds == nil || kindsEqual(kinds, b.Kinds)) {
		return f.next.Push(ctx, b) // everything passed: no copy
	}
	rec, err := takeRecord(f.mem, b.Rec, sel)
	if err != nil {
		return fmt.Errorf("filter %s: %w", f.spec.Pred, err)
	}
	defer rec.Release()
	return f.next.Push(ctx, Batch{Rec: rec, Kinds: kinds})
}

func kindsEqual(a, b []ChangeKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (f *filter) Watermark(ctx context.Context, t int64) error { return f.next.Watermark(ctx, t) }
func (f *filter) Flush(ctx context.Context) error              { return f.next.Flush(ctx) }
func (f *filter) Close() error                                 { return f.next.Close() }

// takeRecord returns a new record holding rows sel (ascending) of rec. The
// caller releases it.
//
// It does not use arrow's compute package: compute.FilterRecordBatch fans
// columns out to goroutines (operators never start goroutines), and its
// take kernels do not support MAP.
func takeRecord(mem memory.Allocator, rec arrow.Record, sel []int32) (arrow.Record, error) {
	cols := make([]arrow.Array, rec.NumCols())
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	for i, c := range rec.Columns() {
		var err error
		if cols[i], err = takeArray(mem, c, sel); err != nil {
			release()
			return nil, fmt.Errorf("take column %s: %w", rec.ColumnName(i), err)
		}
	}
	out := array.NewRecord(rec.Schema(), cols, int64(len(sel)))
	release()
	return out, nil
}

// takeArray copies rows sel of a: typed loops for the flat SQL types,
// slices and concatenation for the nested ones.
func takeArray(mem memory.Allocator, a arrow.Array, sel []int32) (arrow.Array, error) {
	switch a := a.(type) {
	case *array.Boolean:
		return takeFixed(a, array.NewBooleanBuilder(mem), sel), nil
	case *array.Int32:
		return takeFixed(a, array.NewInt32Builder(mem), sel), nil
	case *array.Int64:
		return takeFixed(a, array.NewInt64Builder(mem), sel), nil
	case *array.Float64:
		return takeFixed(a, array.NewFloat64Builder(mem), sel), nil
	case *array.Date32:
		return takeFixed(a, array.NewDate32Builder(mem), sel), nil
	case *array.Time32:
		return takeFixed(a, array.NewTime32Builder(mem, a.DataType().(*arrow.Time32Type)), sel), nil
	case *array.Timestamp:
		return takeFixed(a, array.NewTimestampBuilder(mem, a.DataType().(*arrow.TimestampType)), sel), nil
	case *array.Decimal128:
		return takeFixed(a, array.NewDecimal128Builder(mem, a.DataType().(*arrow.Decimal128Type)), sel), nil
	case *array.String:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(len(sel))
		for _, i := range sel {
			if a.IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.Append(a.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Binary:
		b := array.NewBinaryBuilder(mem, a.DataType().(arrow.BinaryDataType))
		defer b.Release()
		b.Reserve(len(sel))
		for _, i := range sel {
			if a.IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.Append(a.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Null:
		return array.NewNull(len(sel)), nil
	}
	return takeBySlices(mem, a, sel)
}

type fixedArray[T any] interface {
	arrow.Array
	Value(int) T
}

type fixedBuilder[T any] interface {
	array.Builder
	UnsafeAppend(T)
}

func takeFixed[T any, A fixedArray[T], B fixedBuilder[T]](a A, b B, sel []int32) arrow.Array {
	defer b.Release()
	b.Reserve(len(sel))
	if a.NullN() == 0 {
		for _, i := range sel {
			b.UnsafeAppend(a.Value(int(i)))
		}
	} else {
		for _, i := range sel {
			if a.IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(a.Value(int(i)))
			}
		}
	}
	return b.NewArray()
}

// takeBySlices copies rows sel of a by concatenating slices of its runs of
// consecutive rows; slower than a typed loop but generic over nested types.
func takeBySlices(mem memory.Allocator, a arrow.Array, sel []int32) (arrow.Array, error) {
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for i := 0; i < len(sel); {
		j := i + 1
		for j < len(sel) && sel[j] == sel[j-1]+1 {
			j++
		}
		parts = append(parts, array.NewSlice(a, int64(sel[i]), int64(sel[j-1])+1))
		i = j
	}
	return array.Concatenate(parts, mem)
}
