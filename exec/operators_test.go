package exec_test

import (
	"context"
	"fmt"
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

// recorder is a tail operator that logs every call, to check the order in
// which a task drives its pipeline.
type recorder struct {
	log  []string
	rows []string
}

func (r *recorder) Open(*exec.TaskContext) error { r.log = append(r.log, "open"); return nil }
func (r *recorder) Push(_ context.Context, b exec.Batch) error {
	r.log = append(r.log, fmt.Sprintf("push %d", b.Len()))
	for i := 0; i < b.Len(); i++ {
		r.rows = append(r.rows, exectest.FormatRow(b, i))
	}
	return nil
}
func (r *recorder) Watermark(_ context.Context, t int64) error {
	r.log = append(r.log, fmt.Sprintf("watermark %d", t))
	return nil
}
func (r *recorder) Flush(context.Context) error { r.log = append(r.log, "flush"); return nil }
func (r *recorder) Close() error                { r.log = append(r.log, "close"); return nil }

// kvBatch builds a (K INT, V INT) batch; a negative v is NULL.
func kvBatch(ks, vs []int32, kinds []exec.ChangeKind) exec.Batch {
	schema := arrow.NewSchema([]arrow.Field{expr.Field("K", expr.IntType), expr.Field("V", expr.IntType), {Name: "T", Type: expr.TimestampType, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range ks {
		b.Field(0).(*array.Int32Builder).Append(ks[i])
		if vs[i] < 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int32Builder).Append(vs[i])
		}
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(i))
	}
	return exec.Batch{Rec: b.NewRecord(), Kinds: kinds}
}

func TestFilterKeepsUpdatePairs(t *testing.T) {
	in := kvBatch(
		[]int32{1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7},
		[]int32{20, 30, 20, 5, 5, 20, 5, 6, -1, 50, 1},
		[]exec.ChangeKind{
			exec.UpdateBefore, exec.UpdateAfter, // both pass
			exec.UpdateBefore, exec.UpdateAfter, // only the old row passes: Delete
			exec.UpdateBefore, exec.UpdateAfter, // only the new row passes: Insert
			exec.UpdateBefore, exec.UpdateAfter, // neither
			exec.Delete,      // tombstones always pass
			exec.UpdateAfter, // an upsert that passes
			exec.Insert,      // one that does not
		})
	defer in.Rec.Release()
	pred, err := exectest.ParseExpr("(> V 10)", in.Rec.Schema())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	f, err := exec.NewFilter(exec.FilterSpec{Pred: pred}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Open(&exec.TaskContext{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Push(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rec.rows, "\n")
	want := strings.Join([]string{
		"-U K=1 V=20 T=0",
		"+U K=1 V=30 T=1",
		"-D K=2 V=20 T=2",
		"+I K=3 V=20 T=5",
		"-D K=5 V=NULL T=8",
		"+U K=6 V=50 T=9",
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSinkTableSkipsUpdateBefore(t *testing.T) {
	in := kvBatch([]int32{1, 1, 2}, []int32{1, 2, 3}, []exec.ChangeKind{exec.UpdateBefore, exec.UpdateAfter, exec.Delete})
	defer in.Rec.Release()
	var out []string
	spec := exec.SinkSpec{
		Topic:     "out",
		Key:       codec.Spec{Format: codec.Kafka, Fields: []arrow.Field{expr.Field("K", expr.IntType)}, Unwrapped: true},
		Value:     codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("V", expr.IntType)}},
		KeyCols:   []int{0},
		ValueCols: []int{1},
		TimeCol:   2,
		Table:     true,
	}
	m := &exec.Metrics{}
	s, err := exec.NewSink(spec, func(r *kgo.Record) { out = append(out, exectest.FormatRecord(r)) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(&exec.TaskContext{Metrics: m}); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	want := "out key=0x00000001 value={\"V\":2} ts=1\nout key=0x00000002 value=<nil> ts=2"
	if got := strings.Join(out, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if m.RecordsOut.Load() != 2 {
		t.Errorf("RecordsOut = %d, want 2", m.RecordsOut.Load())
	}
}

func TestSinkRecordsDoNotShareBytes(t *testing.T) {
	in := kvBatch([]int32{1, 2}, []int32{10, 20}, nil)
	defer in.Rec.Release()
	var recs []*kgo.Record
	spec := exec.SinkSpec{
		Topic:     "out",
		Value:     codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("V", expr.IntType)}},
		ValueCols: []int{1},
		TimeCol:   2,
	}
	s, err := exec.NewSink(spec, func(r *kgo.Record) { recs = append(recs, r) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(&exec.TaskContext{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	// An owner appending to one record's value must not clobber the next.
	recs[0].Value = append(recs[0].Value, "garbage"...)
	if got := string(recs[1].Value); got != `{"V":20}` {
		t.Errorf("second value = %s", got)
	}
}

func TestTaskOrder(t *testing.T) {
	spec := exec.SourceSpec{
		Topic:        "t",
		Key:          codec.Spec{Format: codec.None},
		Value:        codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("V", expr.IntType)}},
		TimestampCol: -1,
	}
	tc := &exec.TaskContext{}
	src, err := exec.NewSourceDecoder(spec, tc)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	task := exec.NewTask(tc, src, rec, 2)
	if task.StreamTime() != exec.NoStreamTime {
		t.Fatalf("initial stream time %d", task.StreamTime())
	}
	recs := exectest.Number([]*kgo.Record{
		exectest.Record("t", nil, []byte(`{"V":1}`), 10),
		exectest.Record("t", nil, []byte(`{"V":2}`), 5),
		exectest.Record("t", nil, []byte(`{"V":3}`), 7), // does not raise stream time
		exectest.Record("t", nil, []byte(`bad`), 50),    // dropped: no time
		exectest.Record("t", nil, []byte(`{"V":5}`), 20),
	})
	ctx := context.Background()
	if err := task.Open(); err != nil {
		t.Fatal(err)
	}
	if err := task.Process(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := task.Close(); err != nil {
		t.Fatal(err)
	}
	want := "open, push 2, watermark 10, push 1, push 1, watermark 20, flush, close"
	if got := strings.Join(rec.log, ", "); got != want {
		t.Errorf("calls:\n%s\nwant\n%s", got, want)
	}
	if task.StreamTime() != 20 {
		t.Errorf("stream time %d, want 20", task.StreamTime())
	}
}

// TestSourceDropsNestedRows drops a bad record from a batch with ARRAY and
// MAP columns, which takes the type-generic copy path.
func TestSourceDropsNestedRows(t *testing.T) {
	spec := exec.SourceSpec{
		Topic: "n",
		Key:   codec.Spec{Format: codec.None},
		Value: codec.Spec{Format: codec.JSON, Fields: []arrow.Field{
			expr.Field("A", expr.ListOf(expr.IntType)),
			expr.Field("M", expr.MapOf(expr.StringType, expr.DoubleType)),
			expr.Field("D", expr.DecimalType(4, 2)),
		}},
		TimestampCol: -1,
	}
	recs := exectest.Number([]*kgo.Record{
		exectest.JSONRecord("n", nil, map[string]any{"A": []int{1, 2}, "M": map[string]float64{"x": 1.5}, "D": 1.25}, 1),
		exectest.Record("n", nil, []byte(`{"A": [1, "x"]}`), 2),
		exectest.JSONRecord("n", nil, map[string]any{"A": nil, "M": map[string]any{"y": nil}, "D": 3}, 3),
	})
	r := exectest.Check(t, exectest.Scenario{Source: spec, Records: recs})
	want := []string{
		"+I A=[1, 2] M={'x': 1.5} D=1.25 ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0",
		"+I A=NULL M={'y': NULL} D=3.00 ROWTIME=3 ROWPARTITION=0 ROWOFFSET=2",
	}
	if strings.Join(r.Output, "\n") != strings.Join(want, "\n") || len(r.Errors) != 1 {
		t.Errorf("got\n%s", r)
	}
}

func TestBuildPipelineRejectsUnknownSpecs(t *testing.T) {
	if _, err := exec.BuildPipeline([]any{42}, &recorder{}); err == nil {
		t.Error("BuildPipeline accepted an int")
	}
}
