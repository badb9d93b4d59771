package exec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/agg"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

// The scenarios below replay cases of ksqlDB's query-validation tests
// (count.json, tumbling-windows.json, suppress.json, earliest-offset-udaf.json,
// having.json) at the operator level. Each runs with batch sizes 1, 3 and
// 1024 and again with a restart (task closed and reopened over the same
// state) after every prefix of its input: results must not change.

// kvSource is a stream (or table) keyed by a KAFKA STRING column ID with a
// JSON value of the given fields.
func kvSource(table bool, value ...arrow.Field) exec.SourceSpec {
	return exec.SourceSpec{
		Topic:        "in",
		Key:          codec.Spec{Format: codec.Kafka, Fields: []arrow.Field{expr.Field("ID", expr.StringType)}},
		Value:        codec.Spec{Format: codec.JSON, Fields: value},
		TimestampCol: -1,
		Table:        table,
	}
}

func call(t testing.TB, name string, types []arrow.DataType, consts map[int]any, cols ...int) exec.AggCall {
	t.Helper()
	args := make([]agg.Arg, len(types))
	for i, ty := range types {
		args[i].Type = ty
		if v, ok := consts[i]; ok {
			args[i].Const, args[i].Value = true, v
		}
	}
	fn, err := agg.Resolve(name, args, agg.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return exec.AggCall{Fn: fn, Args: cols, Name: name}
}

// recs builds records of topic "in": each is "key|json value|ts"; a value
// of "-" is a tombstone.
func recs(lines ...string) []*kgo.Record {
	var out []*kgo.Record
	for _, l := range lines {
		p := strings.Split(l, "|")
		var ts int64
		fmt.Sscan(p[2], &ts)
		var key, val []byte
		if p[0] != "-" {
			key = []byte(p[0])
		}
		if p[1] != "-" {
			val = []byte(p[1])
		}
		out = append(out, exectest.Record("in", key, val, ts))
	}
	return exectest.Number(out)
}

// check runs s, then runs it again with a restart after every record, and
// compares the output with want.
func check(t *testing.T, s exectest.Scenario, want string) {
	t.Helper()
	got := exectest.Check(t, s).String()
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	for k := 1; k < len(s.Records); k++ {
		s.RestartAfter = k
		r, err := exectest.Run(s)
		if err != nil {
			t.Fatalf("restart after %d: %v", k, err)
		}
		if r.String() != want {
			t.Fatalf("restart after %d records: got:\n%s\nwant:\n%s", k, r.String(), want)
		}
	}
}

func TestAggregateStreamCountSum(t *testing.T) {
	// Decoded layout: ID, V, ROWTIME(2), ROWPARTITION, ROWOFFSET.
	src := kvSource(false, expr.Field("V", expr.IntType))
	s := exectest.Scenario{
		Source: src,
		Records: recs(
			`a|{"V":1}|10`,
			`a|{"V":2}|5`,
			`b|{"V":null}|7`,
			`-|{"V":9}|8`, // NULL grouping key: excluded
			`a|{"V":3}|20`,
		),
		Ops: []any{exec.AggregateSpec{
			Name: "agg", KeyCols: []int{0}, KeyNames: []string{"ID"}, TimeCol: 2, ChangeCol: -1,
			Aggs: []exec.AggCall{
				call(t, "COUNT", nil, nil),
				call(t, "SUM", []arrow.DataType{expr.IntType}, nil, 1),
				call(t, "AVG", []arrow.DataType{expr.IntType}, nil, 1),
			},
		}},
	}
	check(t, s, `+I ID='a' COUNT=1 SUM=1 AVG=1.0 ROWTIME=10
-U ID='a' COUNT=1 SUM=1 AVG=1.0 ROWTIME=10
+U ID='a' COUNT=2 SUM=3 AVG=1.5 ROWTIME=10
+I ID='b' COUNT=1 SUM=0 AVG=0.0 ROWTIME=7
-U ID='a' COUNT=2 SUM=3 AVG=1.5 ROWTIME=10
+U ID='a' COUNT=3 SUM=6 AVG=2.0 ROWTIME=20
in=5 out=0 decode-errors=0 eval-errors=0 dropped-nulls=1 stream-time=20
`)
}

// count.json "count table": a table aggregated by a value column retracts
// a row from its old group before adding it to the new one.
func TestAggregateTable(t *testing.T) {
	src := kvSource(true, expr.Field("NAME", expr.StringType))
	s := exectest.Scenario{
		Source: src,
		Records: recs(
			`0|{"NAME":"bob"}|1`,
			`0|{"NAME":"john"}|2`,
			`100|{"NAME":"john"}|3`,
			`100|-|4`,
			`7|-|5`, // tombstone of an unknown key: dropped
			`100|{"NAME":"john"}|6`,
			`100|{"NAME":"john"}|7`, // same group: one update
		),
		Ops: []any{
			exec.TableSourceSpec{Name: "src", KeyCols: []int{0}, StoredCols: []int{0, 1}},
			exec.AggregateSpec{
				Name: "agg", KeyCols: []int{1}, KeyNames: []string{"NAME"}, TimeCol: 2, ChangeCol: -1,
				Aggs: []exec.AggCall{call(t, "COUNT", []arrow.DataType{expr.StringType}, nil, 1),
					call(t, "COLLECT_LIST", []arrow.DataType{expr.StringType}, nil, 0)},
			},
		},
		Sink: &exec.SinkSpec{Topic: "out", Table: true, TimeCol: 3, KeyCols: []int{0}, ValueCols: []int{1},
			Key:   codec.Spec{Format: codec.Kafka, Fields: []arrow.Field{expr.Field("NAME", expr.StringType)}},
			Value: codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("COUNT", expr.BigintType)}}},
	}
	check(t, s, `out key=bob value={"COUNT":1} ts=1
out key=bob value={"COUNT":0} ts=2
out key=john value={"COUNT":1} ts=2
out key=john value={"COUNT":2} ts=3
out key=john value={"COUNT":1} ts=4
out key=john value={"COUNT":2} ts=6
out key=john value={"COUNT":2} ts=7
in=7 out=7 decode-errors=0 eval-errors=0 dropped-nulls=0 unknown-tombstones=1 stream-time=7
`)
}

// count.json "should support removing zero counts from table": HAVING
// turns failing updates into tombstones.
func TestAggregateHaving(t *testing.T) {
	src := kvSource(true, expr.Field("G", expr.BigintType))
	out := arrow.NewSchema([]arrow.Field{expr.Field("G", expr.BigintType), expr.Field("COUNT", expr.BigintType)}, nil)
	having, err := exectest.ParseExpr("(> COUNT 0)", out)
	if err != nil {
		t.Fatal(err)
	}
	s := exectest.Scenario{
		Source:  src,
		Records: recs(`1|{"G":3}|1`, `2|{"G":3}|2`, `1|-|3`, `2|-|4`),
		Ops: []any{
			exec.TableSourceSpec{Name: "src", KeyCols: []int{0}, StoredCols: []int{0, 1}},
			exec.AggregateSpec{
				Name: "agg", KeyCols: []int{1}, KeyNames: []string{"G"}, TimeCol: 2, ChangeCol: -1,
				Aggs:   []exec.AggCall{call(t, "COUNT", nil, nil)},
				Having: having,
			},
		},
	}
	check(t, s, `+I G=3 COUNT=1 ROWTIME=1
-U G=3 COUNT=1 ROWTIME=1
+U G=3 COUNT=2 ROWTIME=2
-U G=3 COUNT=2 ROWTIME=2
+U G=3 COUNT=1 ROWTIME=3
-D G=3 COUNT=0 ROWTIME=4
in=4 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 stream-time=4
`)
}

// tumbling-windows.json "out of order - explicit grace period".
func TestAggregateTumblingGrace(t *testing.T) {
	src := kvSource(false, expr.Field("V", expr.BigintType))
	s := exectest.Scenario{
		Source: src,
		Records: recs(`0|{"V":0}|0`, `0|{"V":1}|89999`, `0|{"V":5}|10009`, `0|{"V":0}|90000`,
			`0|{"V":6}|10010`, `1|{"V":100}|10009`, `1|{"V":101}|30000`, `1|{"V":200}|86412022`, `1|{"V":200}|60000`),
		Ops: []any{exec.AggregateSpec{
			Name: "agg", KeyCols: []int{0}, KeyNames: []string{"ID"}, TimeCol: 2, ChangeCol: -1,
			Window: &exec.WindowSpec{Kind: exec.WindowTumbling, Size: 30000, Advance: 30000, Grace: 60000},
			Aggs:   []exec.AggCall{call(t, "MAX", []arrow.DataType{expr.BigintType}, nil, 1)},
		}},
	}
	check(t, s, `+I ID='0' WINDOWSTART=0 WINDOWEND=30000 MAX=0 ROWTIME=0
+I ID='0' WINDOWSTART=60000 WINDOWEND=90000 MAX=1 ROWTIME=89999
-U ID='0' WINDOWSTART=0 WINDOWEND=30000 MAX=0 ROWTIME=0
+U ID='0' WINDOWSTART=0 WINDOWEND=30000 MAX=5 ROWTIME=10009
+I ID='0' WINDOWSTART=90000 WINDOWEND=120000 MAX=0 ROWTIME=90000
+I ID='1' WINDOWSTART=30000 WINDOWEND=60000 MAX=101 ROWTIME=30000
+I ID='1' WINDOWSTART=86400000 WINDOWEND=86430000 MAX=200 ROWTIME=86412022
in=9 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 late=3 stream-time=86412022
`)
}

// hopping-windows.json: a record updates every window that contains it,
// in ascending start order.
func TestAggregateHopping(t *testing.T) {
	src := kvSource(false, expr.Field("V", expr.DoubleType))
	s := exectest.Scenario{
		Source:  src,
		Records: recs(`0|{"V":0}|0`, `0|{"V":100}|10000`),
		Ops: []any{exec.AggregateSpec{
			Name: "agg", KeyCols: []int{0}, KeyNames: []string{"ID"}, TimeCol: 2, ChangeCol: -1,
			Window: &exec.WindowSpec{Kind: exec.WindowHopping, Size: 30000, Advance: 10000, Grace: exec.DefaultGrace(30000)},
			Aggs:   []exec.AggCall{call(t, "TOPK", []arrow.DataType{expr.DoubleType, expr.IntType}, map[int]any{1: int32(2)}, 1, 1)},
		}},
	}
	check(t, s, `+I ID='0' WINDOWSTART=0 WINDOWEND=30000 TOPK=[0.0] ROWTIME=0
-U ID='0' WINDOWSTART=0 WINDOWEND=30000 TOPK=[0.0] ROWTIME=0
+U ID='0' WINDOWSTART=0 WINDOWEND=30000 TOPK=[100.0, 0.0] ROWTIME=10000
+I ID='0' WINDOWSTART=10000 WINDOWEND=40000 TOPK=[100.0] ROWTIME=10000
in=2 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 stream-time=10000
`)
}

// earliest-offset-udaf.json "merging session windows - with nulls not
// ignored": a merge deletes the sessions it replaces, then emits the
// merged one, whose aggregate merges theirs in offset order.
func TestAggregateSessionMerge(t *testing.T) {
	src := kvSource(false, expr.Field("F0", expr.IntType))
	s := exectest.Scenario{
		Source:  src,
		Records: recs(`0|{"F0":null}|0`, `0|{"F0":1}|1500`, `0|{"F0":null}|700`, `0|{"F0":4}|1600`),
		Ops: []any{exec.AggregateSpec{
			Name: "agg", KeyCols: []int{0}, KeyNames: []string{"ID"}, TimeCol: 2, ChangeCol: -1,
			Window: &exec.WindowSpec{Kind: exec.WindowSession, Size: 1000, Grace: exec.DefaultGrace(1000)},
			Aggs: []exec.AggCall{call(t, "EARLIEST_BY_OFFSET", []arrow.DataType{expr.IntType, expr.BooleanType},
				map[int]any{1: false}, 1, 1)},
		}},
	}
	check(t, s, `+I ID='0' WINDOWSTART=0 WINDOWEND=0 EARLIEST_BY_OFFSET=NULL ROWTIME=0
+I ID='0' WINDOWSTART=1500 WINDOWEND=1500 EARLIEST_BY_OFFSET=1 ROWTIME=1500
-D ID='0' WINDOWSTART=0 WINDOWEND=0 EARLIEST_BY_OFFSET=NULL ROWTIME=0
-D ID='0' WINDOWSTART=1500 WINDOWEND=1500 EARLIEST_BY_OFFSET=1 ROWTIME=1500
+I ID='0' WINDOWSTART=0 WINDOWEND=1500 EARLIEST_BY_OFFSET=NULL ROWTIME=1500
-D ID='0' WINDOWSTART=0 WINDOWEND=1500 EARLIEST_BY_OFFSET=NULL ROWTIME=1500
+I ID='0' WINDOWSTART=0 WINDOWEND=1600 EARLIEST_BY_OFFSET=NULL ROWTIME=1600
in=4 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 stream-time=1600
`)
}

// suppress.json "should suppress multiple keys" and "should support final
// results for session windows": EMIT FINAL emits each window once, when it
// closes.
func TestAggregateEmitFinal(t *testing.T) {
	src := kvSource(false, expr.Field("COL1", expr.StringType))
	tumbling := exectest.Scenario{
		Source: src,
		Records: recs(`k1|{"COL1":"v1"}|0`, `k2|{"COL1":"v1"}|1`, `k1|{"COL1":"v1"}|2`, `k1|{"COL1":"v1"}|1`,
			`k2|{"COL1":"v1"}|0`, `k1|{"COL1":"v1"}|5`, `k1|{"COL1":"v1"}|0`, `k2|{"COL1":"v1"}|2`),
		Ops: []any{exec.AggregateSpec{
			Name: "agg", KeyCols: []int{0}, KeyNames: []string{"ID"}, TimeCol: 2, ChangeCol: -1, EmitFinal: true,
			Window: &exec.WindowSpec{Kind: exec.WindowTumbling, Size: 2, Advance: 2, Grace: 1},
			Aggs:   []exec.AggCall{call(t, "COUNT", nil, nil)},
		}},
	}
	check(t, tumbling, `+I ID='k1' WINDOWSTART=2 WINDOWEND=4 COUNT=1 ROWTIME=2
in=8 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 late=2 stream-time=5
`)
	sessions := exectest.Scenario{
		Source: src,
		Records: recs(`k1|{"COL1":"v1"}|0`, `k1|{"COL1":"v1"}|4`, `k1|{"COL1":"v1"}|8`, `k1|{"COL1":"v1"}|12`,
			`k1|{"COL1":"v1"}|14`, `k1|{"COL1":"v1"}|30`, `k1|{"COL1":"v1"}|29`, `k1|{"COL1":"v1"}|17`, `k1|{"COL1":"v1"}|42`),
		Ops: []any{exec.AggregateSpec{
			Name: "agg", KeyCols: []int{0}, KeyNames: []string{"ID"}, TimeCol: 2, ChangeCol: -1, EmitFinal: true,
			Window: &exec.WindowSpec{Kind: exec.WindowSession, Size: 5, Grace: 6},
			Aggs:   []exec.AggCall{call(t, "COUNT", nil, nil)},
		}},
	}
	check(t, sessions, `+I ID='k1' WINDOWSTART=0 WINDOWEND=14 COUNT=5 ROWTIME=14
+I ID='k1' WINDOWSTART=29 WINDOWEND=30 COUNT=2 ROWTIME=30
in=9 out=0 decode-errors=0 eval-errors=0 dropped-nulls=0 late=1 stream-time=42
`)
}

// Changes read from a change column (a table's GROUP BY repartition
// topic) are cut into batches wherever a batch fills up, so an
// UpdateBefore may end one batch and its UpdateAfter start the next. The
// pair still updates a group it does not leave once (batch size 1
// separates every pair). A restart between the two halves (a cycle
// boundary) applies them one at a time, as the restart points below that
// split a pair show.
func TestAggregateChangeColumnPairs(t *testing.T) {
	src := kvSource(false, expr.Field("G", expr.BigintType), expr.Field("KIND", expr.IntType))
	s := exectest.Scenario{
		Source: src,
		Records: recs(
			`a|{"G":1,"KIND":0}|1`, // insert into group 1
			`a|{"G":1,"KIND":2}|2`, // moves within group 1: one update
			`a|{"G":1,"KIND":3}|2`,
			`b|{"G":2,"KIND":0}|3`,
			`b|{"G":2,"KIND":2}|4`, // moves from group 2 to group 1
			`b|{"G":1,"KIND":3}|4`,
		),
		Ops: []any{exec.AggregateSpec{
			Name: "agg", KeyCols: []int{1}, KeyNames: []string{"G"}, TimeCol: 3, ChangeCol: 2,
			Aggs: []exec.AggCall{call(t, "COUNT", nil, nil)},
		}},
		Sink: &exec.SinkSpec{Topic: "out", Table: true, TimeCol: 2, KeyCols: []int{0}, ValueCols: []int{1},
			Key:   codec.Spec{Format: codec.Kafka, Fields: []arrow.Field{expr.Field("G", expr.BigintType)}},
			Value: codec.Spec{Format: codec.JSON, Fields: []arrow.Field{expr.Field("COUNT", expr.BigintType)}}},
	}
	want := `out key=0x0000000000000001 value={"COUNT":1} ts=1
out key=0x0000000000000001 value={"COUNT":1} ts=2
out key=0x0000000000000002 value={"COUNT":1} ts=3
out key=0x0000000000000002 value={"COUNT":0} ts=4
out key=0x0000000000000001 value={"COUNT":2} ts=4
in=6 out=5 decode-errors=0 eval-errors=0 dropped-nulls=0 stream-time=4
`
	if got := exectest.Check(t, s).String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, k := range []int{1, 3, 4} { // restarts between pairs
		s.RestartAfter = k
		if r, err := exectest.Run(s); err != nil || r.String() != want {
			t.Fatalf("restart after %d records: %v\n%s", k, err, r)
		}
	}
	s.RestartAfter = 2 // splits the first pair: retracted, then added
	r, err := exectest.Run(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.String(); !strings.Contains(got, "out key=0x0000000000000001 value={\"COUNT\":0} ts=2\nout key=0x0000000000000001 value={\"COUNT\":1} ts=2\n") {
		t.Fatalf("restart inside a pair:\n%s", got)
	}
}
