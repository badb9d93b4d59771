package exec_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
)

// A join task interleaving its inputs pushes a few rows at a time into its
// sink: small batches share record slabs and byte arenas (each batch once
// took a slab of 1,024 records and an arena of its own, which took q8's
// sink to a gigabyte per cycle), and the records they emitted keep their
// bytes until they are recycled.
func TestSinkSmallBatchesShareBuffers(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{expr.Field("V", expr.BigintType),
		{Name: "T", Type: expr.TimestampType, Nullable: true}}, nil)
	batch := func(v int64) exec.Batch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).Append(v)
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(v))
		return exec.Batch{Rec: b.NewRecord()}
	}
	var out []*kgo.Record
	spec := exec.SinkSpec{Topic: "out", Value: codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("V", expr.BigintType)}},
		ValueCols: []int{0}, TimeCol: 1}
	s, err := exec.NewSink(spec, func(r *kgo.Record) { out = append(out, r) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(&exec.TaskContext{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 3000
	for i := 0; i < n; i++ {
		in := batch(int64(i))
		if err := s.Push(ctx, in); err != nil {
			t.Fatal(err)
		}
		in.Rec.Release()
	}
	for i, r := range out {
		if want := fmt.Sprintf(`{"V":%d}`, i); string(r.Value) != want {
			t.Fatalf("record %d: value %s, want %s", i, r.Value, want)
		}
	}
	in := batch(1)
	defer in.Rec.Release()
	out = make([]*kgo.Record, 0, 1000)
	allocs := testing.AllocsPerRun(500, func() {
		if err := s.Push(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs >= 1 {
		t.Fatalf("a one-row batch allocates %.2f times: it should take its record and bytes from shared buffers", allocs)
	}
}
