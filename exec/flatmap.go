package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluicedb/sluice/exec/expr"
)

// Table function names (FlatMapSpec.Funcs[i].Name).
const (
	// Explode emits one row per element of an array; a NULL array emits
	// none. EXPLODE(ARRAY<T>) is T.
	Explode = "EXPLODE"
	// CubeExplode emits every combination of an array's elements with
	// some of them replaced by NULL (the grouping sets of a CUBE), the
	// unchanged array first. An element that is already NULL does not
	// double the combinations. CUBE_EXPLODE(ARRAY<T>) is ARRAY<T>.
	CubeExplode = "CUBE_EXPLODE"
)

// maxCubeElements bounds CUBE_EXPLODE's input: an array of n elements
// emits up to 2^n rows, so a larger one is a bad record, not a job for the
// task's memory.
const maxCubeElements = 20

// TableFunc is one table function call of a FlatMapSpec.
type TableFunc struct {
	Name string // Explode or CubeExplode
	Arg  expr.Node
}

// FlatMapSpec applies table functions (ksqlDB's UDTFs) to every input row.
// The output has the input's columns followed by one column per function,
// named Names[i]. A row with results emits as many rows as its longest
// function result, the input columns repeated; the shorter results are
// padded with NULL (ksqlDB zips several table functions this way). A row
// whose functions all return nothing emits no row.
type FlatMapSpec struct {
	Funcs []TableFunc
	Names []string
}

// TableFuncType is the type of a table function's output column for an
// argument of type arg, or an error when the function does not accept it.
func TableFuncType(name string, arg arrow.DataType) (arrow.DataType, error) {
	list, ok := arg.(*arrow.ListType)
	if !ok {
		return nil, fmt.Errorf("function %s does not accept parameters (%s)", name, expr.TypeName(arg))
	}
	switch name {
	case Explode:
		return list.Elem(), nil
	case CubeExplode:
		return list, nil
	}
	return nil, fmt.Errorf("unknown table function %s", name)
}

type flatMap struct {
	spec   FlatMapSpec
	evs    []expr.Evaluator
	next   Operator
	tc     *TaskContext
	ectx   expr.Ctx
	cur    int // function whose argument is being evaluated, for messages
	schema *arrow.Schema
	in     *arrow.Schema // input schema schema was built for
	mem    memory.Allocator
	// Per-batch scratch, reused: the input row of each output row, and
	// per function the element index of each output row (-1: NULL).
	rows []int32
	elem [][]int32
}

var _ Operator = (*flatMap)(nil)

// NewFlatMap compiles spec's table function arguments in front of next.
func NewFlatMap(spec FlatMapSpec, next Operator) (Operator, error) {
	if len(spec.Funcs) == 0 || len(spec.Funcs) != len(spec.Names) {
		return nil, fmt.Errorf("flatmap: %d table functions but %d names", len(spec.Funcs), len(spec.Names))
	}
	f := &flatMap{spec: spec, next: next, mem: memory.DefaultAllocator,
		evs: make([]expr.Evaluator, len(spec.Funcs)), elem: make([][]int32, len(spec.Funcs))}
	for i, fn := range spec.Funcs {
		if _, err := TableFuncType(fn.Name, fn.Arg.DataType()); err != nil {
			return nil, fmt.Errorf("flatmap %s AS %s: %w", fn.Arg, spec.Names[i], err)
		}
		ev, err := expr.Compile(fn.Arg)
		if err != nil {
			return nil, fmt.Errorf("flatmap %s(%s) AS %s: %w", fn.Name, fn.Arg, spec.Names[i], err)
		}
		f.evs[i] = ev
	}
	return f, nil
}

func (f *flatMap) Open(tc *TaskContext) error {
	f.tc = tc
	f.ectx.OnRowError = func(_ int, err error) {
		fn := f.spec.Funcs[f.cur]
		f.tc.recordError(&f.tc.metrics().EvalErrors,
			fmt.Errorf("evaluating %s(%s) AS %s: %w (the row emits nothing)", fn.Name, fn.Arg, f.spec.Names[f.cur], err))
	}
	return f.next.Open(tc)
}

func (f *flatMap) Push(ctx context.Context, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	args := make([]*array.List, len(f.evs))
	defer func() {
		for _, a := range args {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, ev := range f.evs {
		f.cur = i
		a, err := ev.Eval(&f.ectx, b.Rec)
		if err != nil {
			return fmt.Errorf("flatmap %s(%s): %w", f.spec.Funcs[i].Name, f.spec.Funcs[i].Arg, err)
		}
		l, ok := a.(*array.List)
		if !ok || l.Len() != n {
			a.Release()
			return fmt.Errorf("flatmap %s(%s): argument evaluated to %d rows of %s for %d rows",
				f.spec.Funcs[i].Name, f.spec.Funcs[i].Arg, a.Len(), a.DataType(), n)
		}
		args[i] = l
	}

	// Lay out the output rows: counts per input row first, then the
	// index vectors every output column is gathered with.
	f.rows = f.rows[:0]
	for k := range f.elem {
		f.elem[k] = f.elem[k][:0]
	}
	counts := make([]int, len(args))
	for r := 0; r < n; r++ {
		most := 0
		for k, l := range args {
			counts[k] = f.resultLen(k, l, r)
			most = max(most, counts[k])
		}
		for j := 0; j < most; j++ {
			f.rows = append(f.rows, int32(r))
			for k, l := range args {
				e := int32(-1)
				if j < counts[k] {
					switch f.spec.Funcs[k].Name {
					case Explode:
						start, _ := l.ValueOffsets(r)
						e = int32(start) + int32(j)
					case CubeExplode:
						e = int32(j) // the combination's ordinal; built below
					}
				}
				f.elem[k] = append(f.elem[k], e)
			}
		}
	}
	if len(f.rows) == 0 {
		return nil
	}

	out := len(f.rows)
	cols := make([]arrow.Array, 0, int(b.Rec.NumCols())+len(args))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i, c := range b.Rec.Columns() {
		t, err := takeArray(f.mem, c, f.rows)
		if err != nil {
			return fmt.Errorf("flatmap: take column %s: %w", b.Rec.ColumnName(i), err)
		}
		cols = append(cols, t)
	}
	for k, l := range args {
		var (
			c   arrow.Array
			err error
		)
		switch f.spec.Funcs[k].Name {
		case Explode:
			c, err = takeOrNull(f.mem, l.ListValues(), f.elem[k])
		case CubeExplode:
			c, err = f.cubes(l, k)
		}
		if err != nil {
			return fmt.Errorf("flatmap %s(%s): %w", f.spec.Funcs[k].Name, f.spec.Funcs[k].Arg, err)
		}
		cols = append(cols, c)
	}

	var kinds []ChangeKind
	if b.Kinds != nil {
		kinds = make([]ChangeKind, out)
		for j, r := range f.rows {
			kinds[j] = b.Kinds[r]
		}
	}
	rec := array.NewRecord(f.outSchema(b.Rec.Schema(), cols), cols, int64(out))
	defer rec.Release()
	return f.next.Push(ctx, Batch{Rec: rec, Kinds: kinds})
}

// resultLen is the number of rows function k returns for input row r of
// its argument l.
func (f *flatMap) resultLen(k int, l *array.List, r int) int {
	if l.IsNull(r) {
		return 0
	}
	start, end := l.ValueOffsets(r)
	size := int(end - start)
	if f.spec.Funcs[k].Name == Explode {
		return size
	}
	if size > maxCubeElements {
		f.cur = k
		f.ectx.OnRowError(r, fmt.Errorf("CUBE_EXPLODE of %d elements would emit 2^%d rows; at most %d elements are supported",
			size, size, maxCubeElements))
		return 0
	}
	nonNull := 0
	values := l.ListValues()
	for i := start; i < end; i++ {
		if values.IsValid(int(i)) {
			nonNull++
		}
	}
	return 1 << nonNull
}

// cubes builds CUBE_EXPLODE's output column for function k: output row j
// holds combination f.elem[k][j] of its input row's array. Combination c
// keeps the elements whose bit in c is 0, counting only the non-NULL
// elements (a NULL element is NULL in every combination), so combination
// 0 is the array itself.
func (f *flatMap) cubes(l *array.List, k int) (arrow.Array, error) {
	values := l.ListValues()
	var (
		idx     []int32
		offsets = make([]int32, 1, len(f.rows)+1)
		valid   = make([]bool, len(f.rows))
	)
	for j, r := range f.rows {
		c := f.elem[k][j]
		if c >= 0 {
			valid[j] = true
			start, end := l.ValueOffsets(int(r))
			bit := 0
			for i := start; i < end; i++ {
				e := int32(i)
				if values.IsNull(int(i)) {
					e = -1
				} else {
					if c&(1<<bit) != 0 {
						e = -1
					}
					bit++
				}
				idx = append(idx, e)
			}
		}
		offsets = append(offsets, int32(len(idx)))
	}
	elems, err := takeOrNull(f.mem, values, idx)
	if err != nil {
		return nil, err
	}
	defer elems.Release()
	offBuf := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets))
	bitmap, nulls := validityBitmap(valid, nil)
	data := array.NewData(l.DataType(), len(f.rows), []*memory.Buffer{bitmap, offBuf}, []arrow.ArrayData{elems.Data()}, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

// outSchema is the output schema for input schema in: its fields, then the
// functions' columns with the types actually built (nested nullability may
// differ from the planned types, which an Arrow record does not allow).
func (f *flatMap) outSchema(in *arrow.Schema, cols []arrow.Array) *arrow.Schema {
	if f.schema != nil && f.in == in {
		return f.schema
	}
	fields := append([]arrow.Field(nil), in.Fields()...)
	base := len(fields)
	for k, name := range f.spec.Names {
		fields = append(fields, arrow.Field{Name: name, Type: cols[base+k].DataType(), Nullable: true})
	}
	f.schema, f.in = arrow.NewSchema(fields, nil), in
	return f.schema
}

// takeOrNull gathers rows idx of a, where -1 stands for NULL.
func takeOrNull(mem memory.Allocator, a arrow.Array, idx []int32) (arrow.Array, error) {
	valid := make([]bool, len(idx))
	sel := make([]int32, len(idx))
	some := false
	for j, i := range idx {
		if i >= 0 {
			valid[j], sel[j], some = true, i, true
		}
	}
	if !some || a.DataType().ID() == arrow.NULL {
		return array.MakeArrayOfNull(mem, a.DataType(), len(idx)), nil
	}
	// The padding rows gather row 0 (which exists: some index is valid)
	// and are masked out below.
	t, err := takeArray(mem, a, sel)
	if err != nil {
		return nil, err
	}
	if allTrue(valid) {
		return t, nil
	}
	defer t.Release()
	d := t.Data()
	bitmap, nulls := validityBitmap(valid, t)
	bufs := append([]*memory.Buffer{bitmap}, d.Buffers()[1:]...)
	data := array.NewData(d.DataType(), d.Len(), bufs, d.Children(), nulls, d.Offset())
	defer data.Release()
	return array.MakeFromData(data), nil
}

func allTrue(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return false
		}
	}
	return true
}

// validityBitmap is a validity bitmap for valid, also clearing the rows
// that are NULL in base (when given; the bitmap then follows base's
// offset), and its number of NULLs.
func validityBitmap(valid []bool, base arrow.Array) (*memory.Buffer, int) {
	off := 0
	if base != nil {
		off = base.Data().Offset()
	}
	bits := make([]byte, bitutil.BytesForBits(int64(off+len(valid))))
	nulls := 0
	for j, v := range valid {
		if v && (base == nil || base.IsValid(j)) {
			bitutil.SetBit(bits, off+j)
		} else {
			nulls++
		}
	}
	return memory.NewBufferBytes(bits), nulls
}

func (f *flatMap) Watermark(ctx context.Context, t int64) error { return f.next.Watermark(ctx, t) }
func (f *flatMap) Flush(ctx context.Context) error              { return f.next.Flush(ctx) }
func (f *flatMap) Close() error                                 { return f.next.Close() }
