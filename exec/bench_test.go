package exec_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

// nexmarkBids returns n Nexmark Bid events as JSON Kafka records, generated
// deterministically: about 100 in-flight auctions, 1000 bidders, the
// channel and URL shapes of the Nexmark generator, and a padded "extra".
func nexmarkBids(n int) []*kgo.Record {
	rng := rand.New(rand.NewSource(1))
	channels := []string{"Google", "Facebook", "Baidu", "Apple"}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		ts := int64(1_700_000_000_000 + i*10)
		ch := channels[rng.Intn(len(channels))]
		v := fmt.Sprintf(`{"auction":%d,"bidder":%d,"price":%d,"channel":"%s","url":"https://www.nexmark.com/%s/item.htm?query=1&channel_id=%d","dateTime":%d,"extra":"%s"}`,
			1000+i/10+rng.Intn(100), 1000+rng.Intn(1000), 100+rng.Intn(10_000_000), ch, ch, rng.Intn(1<<20), ts,
			"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"[:20+rng.Intn(30)])
		recs[i] = exectest.Record("bids", nil, []byte(v), ts)
	}
	return exectest.Number(recs)
}

var bidFields = []arrow.Field{
	expr.Field("AUCTION", expr.BigintType),
	expr.Field("BIDDER", expr.BigintType),
	expr.Field("PRICE", expr.BigintType),
	expr.Field("CHANNEL", expr.StringType),
	expr.Field("URL", expr.StringType),
	expr.Field("DATETIME", expr.BigintType),
	expr.Field("EXTRA", expr.StringType),
}

// nexmarkQuery returns the stateless pipeline of Nexmark q0 (pass-through),
// q1 (currency conversion) or q2 (filter), written against the decoded bid
// layout, and the names of the columns the sink writes.
func nexmarkQuery(tb testing.TB, q string, schema *arrow.Schema) (ops []any, out []string) {
	parse := func(s string) expr.Node {
		n, err := exectest.ParseExpr(s, schema)
		if err != nil {
			tb.Fatal(err)
		}
		return n
	}
	project := func(names ...string) (exec.ProjectSpec, *arrow.Schema) {
		var ps exec.ProjectSpec
		var fields []arrow.Field
		for i := 0; i < len(names); i += 2 {
			n := parse(names[i+1])
			ps.Names, ps.Exprs = append(ps.Names, names[i]), append(ps.Exprs, n)
			fields = append(fields, expr.Field(names[i], n.DataType()))
		}
		return ps, arrow.NewSchema(fields, nil)
	}
	switch q {
	case "q0":
		ps, _ := project("AUCTION", "AUCTION", "BIDDER", "BIDDER", "PRICE", "PRICE", "CHANNEL", "CHANNEL",
			"URL", "URL", "DATETIME", "DATETIME", "EXTRA", "EXTRA", "T", "ROWTIME")
		return []any{ps}, []string{"AUCTION", "BIDDER", "PRICE", "CHANNEL", "URL", "DATETIME", "EXTRA"}
	case "q1":
		ps, _ := project("AUCTION", "AUCTION", "BIDDER", "BIDDER", "PRICE", "(* PRICE 0.908)",
			"DATETIME", "DATETIME", "EXTRA", "EXTRA", "T", "ROWTIME")
		return []any{ps}, []string{"AUCTION", "BIDDER", "PRICE", "DATETIME", "EXTRA"}
	case "q2":
		f := exec.FilterSpec{Pred: parse("(= (% AUCTION 123) 0)")}
		ps, _ := project("AUCTION", "AUCTION", "PRICE", "PRICE", "T", "ROWTIME")
		return []any{f, ps}, []string{"AUCTION", "PRICE"}
	}
	tb.Fatalf("unknown query %s", q)
	return nil, nil
}

// BenchmarkPipeline models Nexmark q0-q2 on one task: JSON bids are decoded,
// filtered and projected, and encoded back to JSON Kafka records. One op is
// one input record; bytes are input value bytes.
func BenchmarkPipeline(b *testing.B) {
	recs := nexmarkBids(1 << 14)
	var size int64
	for _, r := range recs {
		size += int64(len(r.Value))
	}
	for _, q := range []string{"q0", "q1", "q2"} {
		for _, batch := range []int{1024} {
			b.Run(fmt.Sprintf("query=%s,batch=%d", q, batch), func(b *testing.B) {
				benchPipeline(b, q, batch, recs, size/int64(len(recs)))
			})
		}
	}
}

func benchPipeline(b *testing.B, q string, batch int, recs []*kgo.Record, avg int64) {
	tc := &exec.TaskContext{QueryID: q, Metrics: &exec.Metrics{}, OnRecordError: func(err error) { b.Fatal(err) }}
	src, err := exec.NewSourceDecoder(exec.SourceSpec{
		Topic:        "bids",
		Key:          codec.Spec{Format: codec.None},
		Value:        codec.Spec{Format: codec.JSON, Fields: bidFields},
		TimestampCol: -1,
	}, tc)
	if err != nil {
		b.Fatal(err)
	}
	ops, outCols := nexmarkQuery(b, q, src.Schema())
	// The last project's columns: the output names, then T (ROWTIME).
	var valueCols []int
	var valueFields []arrow.Field
	last := ops[len(ops)-1].(exec.ProjectSpec)
	for i, name := range last.Names {
		for _, o := range outCols {
			if o == name {
				valueCols = append(valueCols, i)
				valueFields = append(valueFields, expr.Field(name, last.Exprs[i].DataType()))
			}
		}
	}
	var emitted int
	sink, err := exec.NewSink(exec.SinkSpec{
		Topic:     "out",
		Key:       codec.Spec{Format: codec.None},
		Value:     codec.Spec{Format: codec.JSON, Fields: valueFields},
		ValueCols: valueCols,
		TimeCol:   len(last.Names) - 1,
	}, func(*kgo.Record) { emitted++ })
	if err != nil {
		b.Fatal(err)
	}
	head, err := exec.BuildPipeline(ops, sink)
	if err != nil {
		b.Fatal(err)
	}
	task := exec.NewTask(tc, src, head, batch)
	if err := task.Open(); err != nil {
		b.Fatal(err)
	}
	defer task.Close()
	ctx := context.Background()

	b.ReportAllocs()
	b.SetBytes(avg)
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, len(recs))
		if err := task.Process(ctx, recs[:n]); err != nil {
			b.Fatal(err)
		}
		// A processing cycle: the producer acknowledged the records (the
		// emit function here keeps none), so the sink reuses their memory.
		sink.(exec.RecordRecycler).RecycleRecords(true)
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(emitted)/float64(b.N), "out/op")
}

// TestNexmarkQueries checks that the benchmarked pipelines produce output,
// the same for every batch size.
func TestNexmarkQueries(t *testing.T) {
	spec := exec.SourceSpec{
		Topic:        "bids",
		Key:          codec.Spec{Format: codec.None},
		Value:        codec.Spec{Format: codec.JSON, Fields: bidFields},
		TimestampCol: -1,
	}
	src, err := exec.NewSourceDecoder(spec, &exec.TaskContext{})
	if err != nil {
		t.Fatal(err)
	}
	schema := src.Schema()
	src.Release()
	recs := nexmarkBids(2000)
	for q, want := range map[string]int{"q0": 2000, "q1": 2000, "q2": 14} {
		ops, _ := nexmarkQuery(t, q, schema)
		r := exectest.Check(t, exectest.Scenario{Source: spec, Records: recs, Ops: ops})
		if len(r.Output) != want || len(r.Errors) != 0 {
			t.Errorf("%s: %d rows and %d errors, want %d rows", q, len(r.Output), len(r.Errors), want)
		}
	}
}
