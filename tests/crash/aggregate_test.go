package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// totals checks the output of `SELECT k, COUNT(*) AS n, SUM(amount) AS
// total ... GROUP BY k` over events whose id i has key i % keys and amount
// i. Without caching every input emits an update, so per key the committed
// updates must count 1, 2, 3, ... with no gap and no repeat, and each
// update's SUM must grow by the amount of one input of that key, each input
// once: a lost input shows as a gap or a missing amount, a replayed one as
// a repeated count or amount.
type totals struct {
	keys    int
	n       []int64  // per key: the last count seen
	total   []int64  // per key: the last sum seen
	seen    []bool   // per input id: its amount was added
	updates int      // output records read
	wrong   []string // the first problems found
	errs    int
}

func newTotals(keys, inputs int) *totals {
	return &totals{keys: keys, n: make([]int64, keys), total: make([]int64, keys), seen: make([]bool, inputs)}
}

func (a *totals) fail(format string, args ...any) {
	a.errs++
	if len(a.wrong) < 10 {
		a.wrong = append(a.wrong, fmt.Sprintf(format, args...))
	}
}

func (a *totals) handle(r *kgo.Record) {
	a.updates++
	k, err := strconv.Atoi(string(r.Key))
	var v struct{ N, Total int64 }
	if err != nil || k < 0 || k >= a.keys || json.Unmarshal(r.Value, &v) != nil {
		a.fail("undecodable update %s=%s at %s[%d]@%d", r.Key, r.Value, r.Topic, r.Partition, r.Offset)
		return
	}
	id := v.Total - a.total[k]
	switch {
	case v.N != a.n[k]+1:
		a.fail("key %d: count %d after %d at partition %d offset %d", k, v.N, a.n[k], r.Partition, r.Offset)
	case id < 0 || id >= int64(len(a.seen)) || int(id)%a.keys != k:
		a.fail("key %d: sum grew by %d, not the amount of an input of this key (offset %d)", k, id, r.Offset)
	case a.seen[id]:
		a.fail("key %d: input %d counted twice (offset %d)", k, id, r.Offset)
	default:
		a.seen[id] = true
	}
	a.n[k], a.total[k] = v.N, v.Total
}

// counted is the number of inputs whose update arrived.
func (a *totals) counted() int {
	c := 0
	for _, n := range a.n {
		c += int(n)
	}
	return c
}

// TestAggregationSurvivesSIGKILL is issue #4's crash test: COUNT and SUM
// GROUP BY a value column (so through a repartition topic) over 1M events
// in a 4-partition stream, the engine SIGKILLed at random moments at least
// 5 times and restarted each time. A read_committed consumer of the output
// must see every update exactly once (see totals). Then the engine is
// stopped, its state directory wiped (the broker's log stays), and started
// again: the state comes back from the changelog topics, more events
// continue every key's count and sum exactly, and a pull query answers the
// final values.
func TestAggregationSurvivesSIGKILL(t *testing.T) {
	needPsql(t)
	events := scale(t, "SLUICE_CRASH_RECORDS", 1_000_000)
	kills := scale(t, "SLUICE_CRASH_KILLS", 5)
	const keys = 1000
	more := events / 10 // events after the restore, on half of the keys
	began := time.Now()
	s := newServer(t)
	s.start()
	s.psql(`CREATE STREAM ev (id BIGINT KEY, k INT, amount BIGINT)
	          WITH (KAFKA_TOPIC='ev', FORMAT='JSON', PARTITIONS=4);`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	event := func(i int) *kgo.Record {
		return &kgo.Record{Topic: "ev", Key: []byte(strconv.Itoa(i)),
			Value: []byte(fmt.Sprintf(`{"k": %d, "amount": %d}`, i%keys, i)), Timestamp: time.UnixMilli(int64(i))}
	}
	s.produce(ctx, events, event)
	produced := time.Now()

	s.psql(`SET 'auto.offset.reset'='earliest';
	        CREATE TABLE totals AS SELECT k, COUNT(*) AS n, SUM(amount) AS total FROM ev GROUP BY k;`)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	s.crashes(ctx, rng, "TOTALS", int64(events), kills)

	got := newTotals(keys, events+more*2)
	rd := s.reader("TOTALS")
	rd.until(ctx, got.handle, func() bool { return got.counted() >= events })
	crashed := time.Now()
	t.Logf("%d events, %d keys, %d kills: %d updates, %d inputs counted, %d lost, %d wrong or repeated",
		events, keys, kills, got.updates, got.counted(), events-got.counted(), got.errs)
	t.Logf("produce %.1fs, process with kills and read back %.1fs (%.0f events/s)",
		produced.Sub(began).Seconds(), crashed.Sub(produced).Seconds(), float64(events)/crashed.Sub(produced).Seconds())
	if got.errs > 0 || got.updates != events || got.counted() != events {
		t.Fatalf("want every input's update exactly once; first problems:\n%s\nserver log tail:\n%s",
			strings.Join(got.wrong, "\n"), s.logTail())
	}

	// Restore into an empty state directory from the changelogs alone.
	s.stop()
	if err := os.RemoveAll(filepath.Join(s.dir, "state")); err != nil {
		t.Fatal(err)
	}
	s.start()
	// Events on the even keys only: the odd keys' rows must come back
	// from the restore, not from new updates.
	s.produce(ctx, more, func(j int) *kgo.Record {
		i := events + 2*j
		return event(i - i%keys + (2*j)%keys)
	})
	want := events + more
	rd.until(ctx, got.handle, func() bool { return got.counted() >= want })
	t.Logf("after the restore: %d more events, %d updates in all, %d wrong or repeated (%.1fs)",
		more, got.updates, got.errs, time.Since(crashed).Seconds())
	if got.errs > 0 || got.updates != want || got.counted() != want {
		t.Fatalf("after the restore, want every input's update exactly once, continuing the counts; first problems:\n%s\nserver log tail:\n%s",
			strings.Join(got.wrong, "\n"), s.logTail())
	}
	log, _ := os.ReadFile(s.log.Name())
	if _, since, _ := strings.Cut(string(log), fmt.Sprintf("=== test: start %d\n", s.starts)); !strings.Contains(since, `msg="restored operator state"`) {
		t.Errorf("the engine did not log a restore from the changelogs after its state directory was wiped")
	}

	// Pull queries answer from the restored state: an odd key (not
	// updated since the restore) and an even one.
	for _, k := range []int{keys - 1, keys - 2} {
		out := strings.TrimSpace(s.psql(fmt.Sprintf("SELECT k, n, total FROM totals WHERE k = %d;", k)))
		if wantRow := fmt.Sprintf("%d,%d,%d", k, got.n[k], got.total[k]); out != wantRow {
			t.Errorf("pull query for key %d returned %q, want %q", k, out, wantRow)
		}
	}
}
