package exec_test

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

// runFetched processes the scenario's records as a stage's cycles would
// see them: each cycle fetches a random number of the next records of each
// input, hands the task the prefix CutInputs picks (when cut is set; all
// of them otherwise) and keeps the rest for the next cycle.
func (s joinScenario) runFetched(t *testing.T, rng *rand.Rand, cut bool) string {
	t.Helper()
	var b strings.Builder
	tc, m := newTestTaskContext(&b)
	tail := exec.NewCollector(func(_ context.Context, bt exec.Batch) error {
		for i := 0; i < bt.Len(); i++ {
			b.WriteString(exectest.FormatRow(bt, i) + "\n")
		}
		return nil
	})
	task := s.newTask(t, tc, tail, 3)
	if err := task.Open(); err != nil {
		t.Fatal(err)
	}
	all := make([][]*kgo.Record, 2)
	for _, r := range s.records() {
		i := 0
		if r.Topic == s.right.Topic {
			i = 1
		}
		all[i] = append(all[i], r)
	}
	ctx := context.Background()
	fetched := make([]int, 2) // records of each input fetched so far
	done := make([]int, 2)    // records of each input processed
	for done[0] < len(all[0]) || done[1] < len(all[1]) {
		for i := range all {
			fetched[i] = min(len(all[i]), fetched[i]+rng.Intn(3))
		}
		recs := make([][]*kgo.Record, 2)
		behind := make([]bool, 2)
		for i := range all {
			recs[i] = all[i][done[i]:fetched[i]]
			behind[i] = fetched[i] < len(all[i])
		}
		if cut {
			take := task.CutInputs(recs, behind)
			for i := range recs {
				recs[i] = recs[i][:take[i]]
			}
		}
		if err := task.ProcessInputs(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			done[i] += len(recs[i])
		}
	}
	if err := task.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := task.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "in=%d stream-time=%d\n", m.RecordsIn.Load(), task.StreamTime())
	return b.String()
}

// A stream-table join's result depends on the order of its inputs' records.
// With CutInputs, a task processes them in timestamp order however the
// records arrive across cycles: the result equals that of processing all
// of them at once. Handing each cycle everything fetched does not.
func TestCutInputsMakesTheOrderIndependentOfFetches(t *testing.T) {
	tx := joinSide("tx", false, expr.Field("AMOUNT", expr.IntType))
	cust := joinSide("cust", true, expr.Field("NAME", expr.StringType))
	var recs []string
	for i := 0; i < 30; i++ {
		if i%3 == 0 {
			recs = append(recs, fmt.Sprintf(`cust|%d|{"NAME":"v%d"}|%d`, i%2, i, 10*i))
		}
		recs = append(recs, fmt.Sprintf(`tx|%d|{"AMOUNT":%d}|%d`, i%2, i, 10*i+5))
	}
	s := newJoinScenario(t, exec.StreamTable, exec.JoinLeft, nil, tx, cust, recs...)
	want := s.runFetched(t, rand.New(rand.NewSource(0)), true)
	if !strings.Contains(want, `NAME='v27'`) {
		t.Fatalf("the scenario joins nothing:\n%s", want)
	}
	differs := 0
	for seed := int64(1); seed <= 20; seed++ {
		if got := s.runFetched(t, rand.New(rand.NewSource(seed)), true); got != want {
			t.Fatalf("fetch seed %d: got:\n%s\nwant:\n%s", seed, got, want)
		}
		if s.runFetched(t, rand.New(rand.NewSource(seed)), false) != want {
			differs++
		}
	}
	if differs == 0 {
		t.Errorf("without the cut every fetch order gave the same result: the scenario does not test the order")
	}
}

// CutInputs stops where an input that has more records in Kafka runs out,
// waits for one that has none fetched, and ignores one at its end.
func TestCutInputs(t *testing.T) {
	tx := joinSide("tx", false, expr.Field("AMOUNT", expr.IntType))
	cust := joinSide("cust", true, expr.Field("NAME", expr.StringType))
	s := newJoinScenario(t, exec.StreamTable, exec.JoinLeft, nil, tx, cust)
	task := s.newTask(t, &exec.TaskContext{QueryID: "test", Metrics: &exec.Metrics{}}, exec.NewCollector(nil), 3)
	at := func(topic string, ts ...int64) []*kgo.Record {
		var out []*kgo.Record
		for _, x := range ts {
			out = append(out, exectest.Record(topic, nil, nil, x))
		}
		return out
	}
	for _, c := range []struct {
		tx, cust []int64
		behind   []bool
		want     string
	}{
		{[]int64{1, 5, 9}, []int64{2, 6}, []bool{true, true}, "[2 2]"},  // cust runs out after 6: tx 9 waits
		{[]int64{1, 5, 9}, []int64{2, 6}, []bool{true, false}, "[3 2]"}, // cust is at its end
		{[]int64{1, 5, 9}, nil, []bool{false, true}, "[0 0]"},           // nothing of cust fetched yet
		{[]int64{1, 5, 9}, []int64{5}, []bool{false, true}, "[1 1]"},    // the table goes first on equal times
		{[]int64{5}, []int64{1, 5}, []bool{true, false}, "[1 2]"},
	} {
		got := fmt.Sprint(task.CutInputs([][]*kgo.Record{at("tx", c.tx...), at("cust", c.cust...)}, c.behind))
		if got != c.want {
			t.Errorf("tx %v cust %v behind %v: took %s, want %s", c.tx, c.cust, c.behind, got, c.want)
		}
	}
}
