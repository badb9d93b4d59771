package exec

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluicedb/sluice/exec/agg"
	"github.com/sluicedb/sluice/exec/expr"
)

// tableSource is the operator of TableSourceSpec: it materializes a table
// so that its upserts become a changelog with retractions.
//
// State: key = the primary key values encoded with agg.AppendValue (one
// after the other; prefix-free), value = the StoredCols values of the
// row's current version, encoded the same way.
type tableSource struct {
	spec  TableSourceSpec
	next  Operator
	tc    *TaskContext
	store StateStore
	mem   memory.Allocator
}

var _ Operator = (*tableSource)(nil)

// NewTableSource returns the operator of spec in front of next.
func NewTableSource(spec TableSourceSpec, next Operator) (Operator, error) {
	if spec.Name == "" {
		return nil, errors.New("table source: no state name")
	}
	if len(spec.KeyCols) == 0 {
		return nil, errors.New("table source: a table needs a primary key")
	}
	return &tableSource{spec: spec, next: next, mem: memory.DefaultAllocator}, nil
}

func (t *tableSource) Open(tc *TaskContext) error {
	t.tc = tc
	if tc == nil || tc.OpenState == nil {
		return fmt.Errorf("table source %s: the task has no state", t.spec.Name)
	}
	st, err := tc.OpenState(t.spec.Name)
	if err != nil {
		return fmt.Errorf("table source %s: open state: %w", t.spec.Name, err)
	}
	t.store = st
	return t.next.Open(tc)
}

// Push turns each input row (Insert = upsert, Delete = tombstone) into its
// changes. Output rows are built column by column: row j of the output is
// either input row src[j] (a new version) or the stored old version of it
// (old[j] != nil), whose StoredCols replace the input's.
func (t *tableSource) Push(ctx context.Context, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	rec := b.Rec
	var (
		src   []int
		old   [][]any
		kinds []ChangeKind
		key   []byte
	)
	for i := 0; i < n; i++ {
		key = key[:0]
		for _, c := range t.spec.KeyCols {
			key = agg.AppendValue(key, expr.ValueAt(rec.Column(c), i))
		}
		prev, existed, err := t.store.Get(key)
		if err != nil {
			return fmt.Errorf("table source %s: %w", t.spec.Name, err)
		}
		var prevVals []any
		if existed {
			if prevVals, err = decodeValues(prev, len(t.spec.StoredCols)); err != nil {
				return fmt.Errorf("table source %s: corrupt state: %w", t.spec.Name, err)
			}
		}
		if b.Kind(i) == Delete {
			if !existed {
				// Nothing to delete: Kafka Streams' materialized table
				// forwards nothing for it either.
				t.tc.metrics().UnknownTombstones.Add(1)
				continue
			}
			if err := t.store.Delete(key); err != nil {
				return err
			}
			src, old, kinds = append(src, i), append(old, prevVals), append(kinds, Delete)
			continue
		}
		var val []byte
		for _, c := range t.spec.StoredCols {
			val = agg.AppendValue(val, expr.ValueAt(rec.Column(c), i))
		}
		if err := t.store.Put(key, val); err != nil {
			return err
		}
		if existed {
			src, old, kinds = append(src, i, i), append(old, prevVals, nil), append(kinds, UpdateBefore, UpdateAfter)
		} else {
			src, old, kinds = append(src, i), append(old, nil), append(kinds, Insert)
		}
	}
	if len(src) == 0 {
		return nil
	}
	out, err := t.build(rec, src, old)
	if err != nil {
		return err
	}
	defer out.Release()
	return t.next.Push(ctx, Batch{Rec: out, Kinds: kinds})
}

func decodeValues(b []byte, n int) ([]any, error) {
	vals := make([]any, n)
	var err error
	for i := range vals {
		if vals[i], b, err = agg.ReadValue(b); err != nil {
			return nil, err
		}
	}
	// Never nil, even for n == 0: a non-nil slice means "an old version".
	return vals, nil
}

func (t *tableSource) build(rec arrow.Record, src []int, old [][]any) (arrow.Record, error) {
	stored := make(map[int]int, len(t.spec.StoredCols)) // column -> index in a stored row
	for i, c := range t.spec.StoredCols {
		stored[c] = i
	}
	sel := make([]int32, len(src))
	for j, i := range src {
		sel[j] = int32(i)
	}
	taken, err := takeRecord(t.mem, rec, sel)
	if err != nil {
		return nil, fmt.Errorf("table source %s: %w", t.spec.Name, err)
	}
	hasOld := false
	for _, o := range old {
		if o != nil {
			hasOld = true
		}
	}
	if !hasOld {
		return taken, nil
	}
	defer taken.Release()
	cols := make([]arrow.Array, taken.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for c := 0; c < int(taken.NumCols()); c++ {
		si, isStored := stored[c]
		if !isStored {
			cols[c] = taken.Column(c)
			cols[c].Retain()
			continue
		}
		bld := array.NewBuilder(t.mem, taken.Column(c).DataType())
		in := taken.Column(c)
		for j := range src {
			v := any(nil)
			if old[j] != nil {
				v = old[j][si]
			} else {
				v = expr.ValueAt(in, j)
			}
			if err := expr.AppendValue(bld, v); err != nil {
				bld.Release()
				return nil, fmt.Errorf("table source %s: column %s: %w", t.spec.Name, taken.ColumnName(c), err)
			}
		}
		cols[c] = bld.NewArray()
		bld.Release()
	}
	return array.NewRecord(taken.Schema(), cols, int64(len(src))), nil
}

func (t *tableSource) Watermark(ctx context.Context, w int64) error { return t.next.Watermark(ctx, w) }
func (t *tableSource) Flush(ctx context.Context) error              { return t.next.Flush(ctx) }
func (t *tableSource) Close() error                                 { return t.next.Close() }

// changeColumn is the operator of ChangeColumnSpec.
type changeColumn struct {
	spec ChangeColumnSpec
	next Operator
	mem  memory.Allocator
}

// NewChangeColumn returns the operator of spec in front of next.
func NewChangeColumn(spec ChangeColumnSpec, next Operator) Operator {
	return &changeColumn{spec: spec, next: next, mem: memory.DefaultAllocator}
}

func (c *changeColumn) Open(tc *TaskContext) error { return c.next.Open(tc) }

func (c *changeColumn) Push(ctx context.Context, b Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	bld := array.NewInt32Builder(c.mem)
	defer bld.Release()
	bld.Reserve(n)
	for i := 0; i < n; i++ {
		bld.UnsafeAppend(int32(b.Kind(i)))
	}
	kc := bld.NewArray()
	defer kc.Release()
	fields := append(append([]arrow.Field(nil), b.Rec.Schema().Fields()...),
		arrow.Field{Name: c.spec.Name, Type: expr.IntType, Nullable: true})
	cols := append(append([]arrow.Array(nil), b.Rec.Columns()...), kc)
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, int64(n))
	defer rec.Release()
	return c.next.Push(ctx, Batch{Rec: rec})
}

func (c *changeColumn) Watermark(ctx context.Context, t int64) error { return c.next.Watermark(ctx, t) }
func (c *changeColumn) Flush(ctx context.Context) error              { return c.next.Flush(ctx) }
func (c *changeColumn) Close() error                                 { return c.next.Close() }
