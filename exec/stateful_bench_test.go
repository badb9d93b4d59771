package exec_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

// The stateful operators' own CPU cost: hash aggregation and the
// stream-table join probe, over the in-memory store of the operator
// harness (exectest.MemState), so the figures leave out the state store;
// the store behind a running query (cache over Pebble) is measured by
// BenchmarkTaskState in the root package. One op is one input record;
// bytes are input value bytes.

// benchStateful decodes recs (of spec) through a task into ops and counts
// the output rows.
func benchStateful(b *testing.B, spec exec.SourceSpec, ops []any, recs []*kgo.Record) {
	var size int64
	for _, r := range recs {
		size += int64(len(r.Value))
	}
	tc := &exec.TaskContext{QueryID: "bench", Metrics: &exec.Metrics{}, OnRecordError: func(err error) { b.Fatal(err) },
		OpenState: exectest.NewMemState().Open}
	src, err := exec.NewSourceDecoder(spec, tc)
	if err != nil {
		b.Fatal(err)
	}
	var rows int
	head, err := exec.BuildPipeline(ops, exec.NewCollector(func(_ context.Context, bt exec.Batch) error {
		rows += bt.Len()
		return nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	task := exec.NewTask(tc, src, head, 1024)
	if err := task.Open(); err != nil {
		b.Fatal(err)
	}
	defer task.Close()
	ctx := context.Background()
	b.SetBytes(size / int64(len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += len(recs) {
		n := min(len(recs), b.N-done)
		if err := task.Process(ctx, recs[:n]); err != nil {
			b.Fatal(err)
		}
		if err := task.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if rows == 0 {
		b.Fatal("no output")
	}
}

// BenchmarkHashAggregate models GROUP BY over Nexmark bids: COUNT(*) and
// MAX(price) per auction (about 100 groups live at a time, like q5's
// counts) and per bidder (1000 groups).
func BenchmarkHashAggregate(b *testing.B) {
	recs := nexmarkBids(1 << 14)
	spec := exec.SourceSpec{Topic: "bids", Key: codec.Spec{Format: codec.None},
		Value: codec.Spec{Format: codec.JSON, Fields: bidFields}, TimestampCol: -1}
	// Decoded layout: the bid fields (0-6), ROWTIME (7), ROWPARTITION, ROWOFFSET.
	for _, g := range []struct {
		name string
		col  int
	}{{"auction", 0}, {"bidder", 1}} {
		b.Run("groupby="+g.name, func(b *testing.B) {
			ops := []any{exec.AggregateSpec{
				Name: "agg", KeyCols: []int{g.col}, KeyNames: []string{"K"}, TimeCol: 7, ChangeCol: -1,
				Aggs: []exec.AggCall{
					call(b, "COUNT", nil, nil),
					call(b, "MAX", []arrow.DataType{expr.BigintType}, nil, 2),
				},
			}}
			benchStateful(b, spec, ops, recs)
		})
	}
}

// BenchmarkJoinProbe models a stream-table join's probe (q3's auctions
// looking up their seller, an enrichment join): stream rows keyed by a
// BIGINT find their row among tables of 1,000 and 100,000 keys, loaded
// before the timer starts. Every probe finds its row.
func BenchmarkJoinProbe(b *testing.B) {
	for _, keys := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("table=%d", keys), func(b *testing.B) {
			stream := joinSide("tx", false, expr.Field("AMOUNT", expr.BigintType))
			table := joinSide("cust", true, expr.Field("NAME", expr.StringType), expr.Field("CITY", expr.StringType))
			ls, rs := sideSchema(b, stream), sideSchema(b, table)
			timeCol := func(s *arrow.Schema) int { return s.FieldIndices(exec.RowTimeName)[0] }
			spec := exec.JoinSpec{Name: "join", Kind: exec.StreamTable, Type: exec.JoinInner, KeyName: "K",
				Left:  exec.JoinSide{Schema: ls, KeyCol: 0, TimeCol: timeCol(ls)},
				Right: exec.JoinSide{Schema: rs, KeyCol: 0, TimeCol: timeCol(rs)}}
			var rows int
			heads, err := exec.BuildJoinPipeline([]any{spec}, [][]any{nil}, exec.NewCollector(func(_ context.Context, bt exec.Batch) error {
				rows += bt.Len()
				return nil
			}))
			if err != nil {
				b.Fatal(err)
			}
			tc := &exec.TaskContext{QueryID: "bench", Metrics: &exec.Metrics{}, OnRecordError: func(err error) { b.Fatal(err) },
				OpenState: exectest.NewMemState().Open}
			var inputs []exec.TaskInput
			for i, s := range []exec.SourceSpec{stream, table} {
				d, err := exec.NewSourceDecoder(s, tc)
				if err != nil {
					b.Fatal(err)
				}
				inputs = append(inputs, exec.TaskInput{Decoder: d, Head: heads[i]})
			}
			task := exec.NewMultiTask(tc, inputs, 1024)
			if err := task.Open(); err != nil {
				b.Fatal(err)
			}
			defer task.Close()
			ctx := context.Background()
			var tableRecs []*kgo.Record
			for k := range keys {
				tableRecs = append(tableRecs, exectest.Record("cust", bigintKey(int64(k)),
					[]byte(fmt.Sprintf(`{"NAME":"customer %d","CITY":"Portland"}`, k)), 0))
			}
			if err := task.ProcessInputs(ctx, [][]*kgo.Record{nil, exectest.Number(tableRecs)}); err != nil {
				b.Fatal(err)
			}
			probes := make([]*kgo.Record, 1<<14)
			var size int64
			for i := range probes {
				probes[i] = exectest.Record("tx", bigintKey(int64(i*7919%keys)), []byte(fmt.Sprintf(`{"AMOUNT":%d}`, i)), int64(1+i))
				size += int64(len(probes[i].Value))
			}
			probes = exectest.Number(probes)
			b.SetBytes(size / int64(len(probes)))
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += len(probes) {
				n := min(len(probes), b.N-done)
				if err := task.ProcessInputs(ctx, [][]*kgo.Record{probes[:n], nil}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if rows == 0 {
				b.Fatal("no output")
			}
		})
	}
}

func bigintKey(k int64) []byte {
	return []byte{byte(k >> 56), byte(k >> 48), byte(k >> 40), byte(k >> 32), byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
}
