package exec_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

// A multi-column key with every column NULL is a null key when the sink
// keeps its source's key, and is serialized column by column otherwise.
func TestSinkNullKeyIfAllNull(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{expr.Field("K1", expr.IntType), expr.Field("K2", expr.IntType),
		expr.Field("V", expr.IntType), {Name: "T", Type: expr.TimestampType, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	k1, k2 := b.Field(0).(*array.Int32Builder), b.Field(1).(*array.Int32Builder)
	k1.AppendValues([]int32{1, 0, 0}, []bool{true, false, false})
	k2.AppendValues([]int32{2, 2, 0}, []bool{true, true, false})
	b.Field(2).(*array.Int32Builder).AppendValues([]int32{7, 8, 9}, nil)
	b.Field(3).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, 2, 3}, nil)
	in := exec.Batch{Rec: b.NewRecord()}
	defer in.Rec.Release()

	for _, tc := range []struct {
		flag bool
		want string
	}{
		{true, `out key={"K1":1,"K2":2} value={"V":7} ts=1
out key={"K1":null,"K2":2} value={"V":8} ts=2
out key=<nil> value={"V":9} ts=3`},
		{false, `out key={"K1":1,"K2":2} value={"V":7} ts=1
out key={"K1":null,"K2":2} value={"V":8} ts=2
out key={"K1":null,"K2":null} value={"V":9} ts=3`},
	} {
		var out []string
		spec := exec.SinkSpec{
			Topic:            "out",
			Key:              codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("K1", expr.IntType), expr.Field("K2", expr.IntType)}},
			Value:            codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("V", expr.IntType)}},
			KeyCols:          []int{0, 1},
			ValueCols:        []int{2},
			TimeCol:          3,
			NullKeyIfAllNull: tc.flag,
		}
		s, err := exec.NewSink(spec, func(r *kgo.Record) { out = append(out, exectest.FormatRecord(r)) })
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Open(&exec.TaskContext{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Push(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(out, "\n"); got != tc.want {
			t.Errorf("NullKeyIfAllNull=%v: got\n%s\nwant\n%s", tc.flag, got, tc.want)
		}
	}
}
