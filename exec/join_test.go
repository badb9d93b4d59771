package exec_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

// Join scenarios run through a two-input task (exec.NewMultiTask) with
// batch sizes 1, 3 and 1024, and with a checkpoint and restore after every
// prefix of the input: the task is flushed and closed, and a new task
// continues over the same state. The records are listed in the order the
// task interleaves them (time order, right input first on ties), so a
// restart point never changes the processing order.

// joinSide is a source keyed by a KAFKA BIGINT column ID with a JSON value.
func joinSide(topic string, table bool, value ...arrow.Field) exec.SourceSpec {
	return exec.SourceSpec{
		Topic:        topic,
		Key:          codec.Spec{Format: codec.Kafka, Fields: []arrow.Field{expr.Field("ID", expr.BigintType)}},
		Value:        codec.Spec{Format: codec.JSON, Fields: value},
		TimestampCol: -1,
		Table:        table,
	}
}

// sideSchema is the decoded layout of spec (see exec.SourceSpec).
func sideSchema(t testing.TB, spec exec.SourceSpec) *arrow.Schema {
	t.Helper()
	d, err := exec.NewSourceDecoder(spec, &exec.TaskContext{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	return d.Schema()
}

type joinScenario struct {
	left, right exec.SourceSpec
	spec        exec.JoinSpec
	// recs are "topic|key|json value|ts" lines; key "-" is a null key,
	// value "-" a tombstone.
	recs []string
}

func (s joinScenario) records() []*kgo.Record {
	var out []*kgo.Record
	offs := map[string]int64{}
	for _, l := range s.recs {
		p := strings.Split(l, "|")
		var ts int64
		fmt.Sscan(p[3], &ts)
		var key, val []byte
		if p[1] != "-" {
			var k int64
			fmt.Sscan(p[1], &k)
			key = []byte{byte(k >> 56), byte(k >> 48), byte(k >> 40), byte(k >> 32), byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		}
		if p[2] != "-" {
			val = []byte(p[2])
		}
		r := exectest.Record(p[0], key, val, ts)
		r.Offset = offs[p[0]]
		offs[p[0]]++
		out = append(out, r)
	}
	return out
}

// newTestTaskContext returns a task context over in-memory state that
// writes record errors to b, and its metrics.
func newTestTaskContext(b *strings.Builder) (*exec.TaskContext, *exec.Metrics) {
	m := &exec.Metrics{}
	state := exectest.NewMemState()
	return &exec.TaskContext{QueryID: "test", Metrics: m, OpenState: state.Open,
		OnRecordError: func(err error) { fmt.Fprintf(b, "error: %v\n", err) }}, m
}

// run processes the records with one batch size, restarting after the
// first restartAfter records when restartAfter > 0, and renders the output
// rows and the counters.
func (s joinScenario) run(t *testing.T, batchSize, restartAfter int) string {
	t.Helper()
	var b strings.Builder
	tc, m := newTestTaskContext(&b)
	recs := s.records()
	parts := [][]*kgo.Record{recs}
	if restartAfter > 0 {
		parts = [][]*kgo.Record{recs[:restartAfter], recs[restartAfter:]}
	}
	streamTime := exec.NoStreamTime
	ctx := context.Background()
	for _, part := range parts {
		tail := exec.NewCollector(func(_ context.Context, bt exec.Batch) error {
			for i := 0; i < bt.Len(); i++ {
				b.WriteString(exectest.FormatRow(bt, i) + "\n")
			}
			return nil
		})
		task := s.newTask(t, tc, tail, batchSize)
		task.RestoreStreamTime(streamTime)
		if err := task.Open(); err != nil {
			t.Fatal(err)
		}
		byInput := make([][]*kgo.Record, 2)
		for _, r := range part {
			i := 0
			if r.Topic == s.right.Topic {
				i = 1
			}
			byInput[i] = append(byInput[i], r)
		}
		if err := task.ProcessInputs(ctx, byInput); err != nil {
			t.Fatal(err)
		}
		if err := task.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := task.Close(); err != nil {
			t.Fatal(err)
		}
		streamTime = task.StreamTime()
	}
	fmt.Fprintf(&b, "in=%d dropped-nulls=%d unknown-tombstones=%d late=%d stream-time=%d\n",
		m.RecordsIn.Load(), m.DroppedNulls.Load(), m.UnknownTombstones.Load(), m.LateRecords.Load(), streamTime)
	return b.String()
}

// newTask builds the scenario's two-input task in front of tail.
func (s joinScenario) newTask(t *testing.T, tc *exec.TaskContext, tail exec.Operator, batchSize int) *exec.Task {
	t.Helper()
	heads, err := exec.BuildJoinPipeline([]any{s.spec}, [][]any{nil}, tail)
	if err != nil {
		t.Fatal(err)
	}
	var inputs []exec.TaskInput
	for i, spec := range []exec.SourceSpec{s.left, s.right} {
		d, err := exec.NewSourceDecoder(spec, tc)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, exec.TaskInput{Decoder: d, Head: heads[i]})
	}
	return exec.NewMultiTask(tc, inputs, batchSize)
}

// check runs s with every batch size and every restart point and compares
// each result with want.
func (s joinScenario) check(t *testing.T, want string) {
	t.Helper()
	for _, bs := range exectest.DefaultBatchSizes {
		if got := s.run(t, bs, 0); got != want {
			t.Fatalf("batch size %d: got:\n%s\nwant:\n%s", bs, got, want)
		}
	}
	for k := 1; k < len(s.recs); k++ {
		if got := s.run(t, 3, k); got != want {
			t.Fatalf("restart after %d records: got:\n%s\nwant:\n%s", k, got, want)
		}
	}
}

func newJoinScenario(t *testing.T, kind exec.JoinKind, typ exec.JoinType, w *exec.JoinWindow, left, right exec.SourceSpec, recs ...string) joinScenario {
	ls, rs := sideSchema(t, left), sideSchema(t, right)
	time := func(s *arrow.Schema) int { return s.FieldIndices(exec.RowTimeName)[0] }
	return joinScenario{left: left, right: right, recs: recs, spec: exec.JoinSpec{
		Name: "join", Kind: kind, Type: typ, Window: w, KeyName: "K",
		Left:  exec.JoinSide{Schema: ls, KeyCol: 0, TimeCol: time(ls)},
		Right: exec.JoinSide{Schema: rs, KeyCol: 0, TimeCol: time(rs)},
	}}
}

// The seed's enrichment: transactions (a stream keyed by customer id here)
// joined to the customers table. A customer update changes later
// enrichments only; table changes emit nothing; a NULL key and a tombstone
// for an unknown customer are dropped and counted, each under its name.
func TestJoinStreamTable(t *testing.T) {
	tx := joinSide("tx", false, expr.Field("AMOUNT", expr.IntType))
	cust := joinSide("cust", true, expr.Field("NAME", expr.StringType))
	recs := []string{
		`cust|1|{"NAME":"ann"}|0`,
		`tx|1|{"AMOUNT":10}|1`,
		`tx|2|{"AMOUNT":20}|2`, // no customer 2 yet
		`cust|2|{"NAME":"bob"}|3`,
		`cust|1|{"NAME":"ann b."}|4`,
		`tx|1|{"AMOUNT":30}|4`, // same time as the update: sees it
		`tx|-|{"AMOUNT":40}|5`, // NULL key
		`cust|9|-|6`,           // tombstone for a customer never seen
		`cust|2|-|7`,
		`tx|2|{"AMOUNT":50}|8`,
	}
	newJoinScenario(t, exec.StreamTable, exec.JoinLeft, nil, tx, cust, recs...).check(t, `+I K=1 ID=1 AMOUNT=10 ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=1 NAME='ann' ROWTIME=0 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=1
+I K=2 ID=2 AMOUNT=20 ROWTIME=2 ROWPARTITION=0 ROWOFFSET=1 ID=NULL NAME=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=2
+I K=1 ID=1 AMOUNT=30 ROWTIME=4 ROWPARTITION=0 ROWOFFSET=2 ID=1 NAME='ann b.' ROWTIME=4 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=4
+I K=2 ID=2 AMOUNT=50 ROWTIME=8 ROWPARTITION=0 ROWOFFSET=4 ID=NULL NAME=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=8
in=10 dropped-nulls=1 unknown-tombstones=1 late=0 stream-time=8
`)
	newJoinScenario(t, exec.StreamTable, exec.JoinInner, nil, tx, cust, recs...).check(t, `+I K=1 ID=1 AMOUNT=10 ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=1 NAME='ann' ROWTIME=0 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=1
+I K=1 ID=1 AMOUNT=30 ROWTIME=4 ROWPARTITION=0 ROWOFFSET=2 ID=1 NAME='ann b.' ROWTIME=4 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=4
in=10 dropped-nulls=1 unknown-tombstones=1 late=0 stream-time=8
`)
}

// Stream-stream joins: WITHIN 10 ms. Without a grace period an unmatched
// row of an outer side is emitted at once; with one it waits until its
// window closed, and a match withdraws it.
func TestJoinStreamStream(t *testing.T) {
	l := joinSide("l", false, expr.Field("A", expr.StringType))
	r := joinSide("r", false, expr.Field("B", expr.StringType))
	recs := []string{
		`l|1|{"A":"a1"}|0`,
		`r|1|{"B":"b1"}|5`,   // joins a1
		`l|2|{"A":"a2"}|6`,   // never matched
		`r|3|{"B":"b3"}|8`,   // never matched
		`r|1|{"B":"b1x"}|20`, // a1 is out of its window
		`l|1|{"A":"a1y"}|25`, // joins b1x
		`l|4|{"A":"a4"}|100`, // closes the windows of a2 and b3
	}
	eager := &exec.JoinWindow{Before: 10, After: 10, Grace: exec.DefaultJoinGrace(10)}
	newJoinScenario(t, exec.StreamStream, exec.JoinOuter, eager, l, r, recs...).check(t, `+I K=1 ID=1 A='a1' ROWTIME=0 ROWPARTITION=0 ROWOFFSET=0 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=0
+I K=1 ID=1 A='a1' ROWTIME=0 ROWPARTITION=0 ROWOFFSET=0 ID=1 B='b1' ROWTIME=5 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=5
+I K=2 ID=2 A='a2' ROWTIME=6 ROWPARTITION=0 ROWOFFSET=1 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=6
+I K=3 ID=NULL A=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ID=3 B='b3' ROWTIME=8 ROWPARTITION=0 ROWOFFSET=1 ROWTIME=8
+I K=1 ID=NULL A=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ID=1 B='b1x' ROWTIME=20 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=20
+I K=1 ID=1 A='a1y' ROWTIME=25 ROWPARTITION=0 ROWOFFSET=2 ID=1 B='b1x' ROWTIME=20 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=25
+I K=4 ID=4 A='a4' ROWTIME=100 ROWPARTITION=0 ROWOFFSET=3 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=100
in=7 dropped-nulls=0 unknown-tombstones=0 late=0 stream-time=100
`)
	deferred := &exec.JoinWindow{Before: 10, After: 10, Grace: 5, DeferOuter: true}
	// a2 (6) and b3 (8) close when stream time passes 21 and 23: at a1y
	// (25), before a1y itself is joined.
	newJoinScenario(t, exec.StreamStream, exec.JoinOuter, deferred, l, r, recs...).check(t, `+I K=1 ID=1 A='a1' ROWTIME=0 ROWPARTITION=0 ROWOFFSET=0 ID=1 B='b1' ROWTIME=5 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=5
+I K=2 ID=2 A='a2' ROWTIME=6 ROWPARTITION=0 ROWOFFSET=1 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=6
+I K=3 ID=NULL A=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ID=3 B='b3' ROWTIME=8 ROWPARTITION=0 ROWOFFSET=1 ROWTIME=8
+I K=1 ID=1 A='a1y' ROWTIME=25 ROWPARTITION=0 ROWOFFSET=2 ID=1 B='b1x' ROWTIME=20 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=25
in=7 dropped-nulls=0 unknown-tombstones=0 late=0 stream-time=100
`)
	inner := &exec.JoinWindow{Before: 10, After: 10, Grace: 0}
	newJoinScenario(t, exec.StreamStream, exec.JoinInner, inner, l, r, append(recs,
		`l|4|{"A":"late"}|70`, // older than the left side's retention (20 ms): not stored
	)...).check(t, `+I K=1 ID=1 A='a1' ROWTIME=0 ROWPARTITION=0 ROWOFFSET=0 ID=1 B='b1' ROWTIME=5 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=5
+I K=1 ID=1 A='a1y' ROWTIME=25 ROWPARTITION=0 ROWOFFSET=2 ID=1 B='b1x' ROWTIME=20 ROWPARTITION=0 ROWOFFSET=2 ROWTIME=25
in=8 dropped-nulls=0 unknown-tombstones=0 late=1 stream-time=100
`)
}

// Table-table joins emit the joined table's changes, with retractions and
// tombstones.
func TestJoinTableTable(t *testing.T) {
	l := joinSide("l", true, expr.Field("A", expr.StringType))
	r := joinSide("r", true, expr.Field("B", expr.StringType))
	recs := []string{
		`l|1|{"A":"a1"}|1`,
		`r|1|{"B":"b1"}|2`,
		`l|1|{"A":"a1'"}|3`,
		`r|2|{"B":"b2"}|4`,
		`r|1|-|5`,
		`l|1|-|6`,
		`l|7|-|7`, // tombstone for a key never seen
	}
	newJoinScenario(t, exec.TableTable, exec.JoinOuter, nil, l, r, recs...).check(t, `+I K=1 ID=1 A='a1' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=1
-U K=1 ID=1 A='a1' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=2
+U K=1 ID=1 A='a1' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=2
-U K=1 ID=1 A='a1' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=3
+U K=1 ID=1 A='a1''' ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=3
+I K=2 ID=NULL A=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ID=2 B='b2' ROWTIME=4 ROWPARTITION=0 ROWOFFSET=1 ROWTIME=4
-U K=1 ID=1 A='a1''' ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=5
+U K=1 ID=1 A='a1''' ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=5
-D K=1 ID=1 A='a1''' ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=NULL B=NULL ROWTIME=NULL ROWPARTITION=NULL ROWOFFSET=NULL ROWTIME=6
in=7 dropped-nulls=0 unknown-tombstones=1 late=0 stream-time=7
`)
	// An inner join emits only rows with both sides: the right tombstone
	// deletes the joined row, and the left one then has nothing to delete.
	newJoinScenario(t, exec.TableTable, exec.JoinInner, nil, l, r, recs...).check(t, `+I K=1 ID=1 A='a1' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=2
-U K=1 ID=1 A='a1' ROWTIME=1 ROWPARTITION=0 ROWOFFSET=0 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=3
+U K=1 ID=1 A='a1''' ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=3
-D K=1 ID=1 A='a1''' ROWTIME=3 ROWPARTITION=0 ROWOFFSET=1 ID=1 B='b1' ROWTIME=2 ROWPARTITION=0 ROWOFFSET=0 ROWTIME=5
in=7 dropped-nulls=0 unknown-tombstones=1 late=0 stream-time=7
`)
}
