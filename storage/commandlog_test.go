package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type command struct {
	off   int64
	key   string
	value string
}

func replayAll(t *testing.T, cl *CommandLog, from int64) ([]command, int64) {
	t.Helper()
	var got []command
	next, err := cl.Replay(testCtx(t), from, func(off int64, key string, value []byte) error {
		got = append(got, command{off, key, string(value)})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay(%d): %v", from, err)
	}
	return got, next
}

func TestCommandLogAppendReplay(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	k := dialKafka(t, b)
	ctx := testCtx(t)
	cl, err := OpenCommandLog(ctx, k, "_sluice_commands")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	if got, next := replayAll(t, cl, 0); len(got) != 0 || next != 0 {
		t.Fatalf("empty log replayed %v, next %d", got, next)
	}
	var want []command
	for i := range 5 {
		key, val := fmt.Sprintf("stmt-%d", i), fmt.Sprintf("CREATE STREAM S%d ...", i)
		off, err := cl.Append(ctx, key, []byte(val))
		if err != nil {
			t.Fatal(err)
		}
		if off != int64(i) {
			t.Fatalf("append %d got offset %d", i, off)
		}
		want = append(want, command{off, key, val})
	}
	got, next := replayAll(t, cl, 0)
	if !slices.Equal(got, want) || next != 5 {
		t.Fatalf("Replay(0) = %v, next %d; want %v, next 5", got, next, want)
	}
	got, next = replayAll(t, cl, 3)
	if !slices.Equal(got, want[3:]) || next != 5 {
		t.Fatalf("Replay(3) = %v, next %d; want %v, next 5", got, next, want[3:])
	}
	if got, next := replayAll(t, cl, 5); len(got) != 0 || next != 5 {
		t.Fatalf("Replay(end) = %v, next %d", got, next)
	}
	if _, err := cl.Replay(ctx, 6, func(int64, string, []byte) error { return nil }); err == nil {
		t.Fatal("Replay beyond the end succeeded")
	}

	// The topic is what the invariants say.
	info, _, err := k.DescribeTopic(ctx, cl.Topic())
	if err != nil || info.Partitions != 1 {
		t.Fatalf("command topic = %+v, %v; want 1 partition", info, err)
	}
	assertTopicConfigs(t, k, cl.Topic(), commandLogConfigs)

	// Survives a broker restart, and appends continue after it.
	cl.Close()
	k.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startBroker(t, dir)
	k2 := dialKafka(t, b2)
	cl2, err := OpenCommandLog(ctx, k2, "_sluice_commands")
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	if off, err := cl2.Append(ctx, "stmt-5", []byte("DROP STREAM S0")); err != nil || off != 5 {
		t.Fatalf("append after restart = %d, %v; want offset 5", off, err)
	}
	got, next = replayAll(t, cl2, 0)
	want = append(want, command{5, "stmt-5", "DROP STREAM S0"})
	if !slices.Equal(got, want) || next != 6 {
		t.Fatalf("after restart Replay(0) = %v, next %d; want %v", got, next, want)
	}
}

func assertTopicConfigs(t *testing.T, k *Kafka, topic string, want map[string]string) {
	t.Helper()
	rcs, err := k.Admin().DescribeTopicConfigs(testCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, c := range rc.Configs {
		have[c.Key] = c.MaybeValue()
	}
	for name, v := range want {
		if have[name] != v {
			t.Errorf("topic %s config %s = %q, want %q", topic, name, have[name], v)
		}
	}
}

func TestCommandLogRepairsRetention(t *testing.T) {
	k := dialKafka(t, startBroker(t, ""))
	ctx := testCtx(t)
	// As if auto-created by a stray client: default 7-day retention.
	if err := k.CreateTopic(ctx, "cmds", 1, 0, map[string]*string{"retention.ms": kadm.StringPtr("604800000")}); err != nil {
		t.Fatal(err)
	}
	cl, err := OpenCommandLog(ctx, k, "cmds")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	assertTopicConfigs(t, k, "cmds", commandLogConfigs)
}

func TestCommandLogRejectsPartitionedTopic(t *testing.T) {
	k := dialKafka(t, startBroker(t, ""))
	ctx := testCtx(t)
	if err := k.CreateTopic(ctx, "cmds", 3, 0, nil); err != nil {
		t.Fatal(err)
	}
	_, err := OpenCommandLog(ctx, k, "cmds")
	var mismatch *TopicMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("OpenCommandLog on a 3-partition topic: err = %v, want *TopicMismatchError", err)
	}
}

// TestCommandLogConcurrentAppendsTotalOrder has two engines append at once:
// each append gets its own offset, offsets are dense, and every reader sees
// the same order.
func TestCommandLogConcurrentAppendsTotalOrder(t *testing.T) {
	b := startBroker(t, "")
	ctx := testCtx(t)
	const perEngine = 40
	logs := make([]*CommandLog, 2)
	for i := range logs {
		cl, err := OpenCommandLog(ctx, dialKafka(t, b), "cmds")
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		logs[i] = cl
	}
	offsets := make([][]int64, len(logs))
	var wg sync.WaitGroup
	errs := make(chan error, len(logs))
	for i, cl := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perEngine {
				off, err := cl.Append(ctx, fmt.Sprintf("e%d", i), fmt.Appendf(nil, "%d", j))
				if err != nil {
					errs <- err
					return
				}
				offsets[i] = append(offsets[i], off)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for i, offs := range offsets {
		if !slices.IsSorted(offs) {
			t.Errorf("engine %d offsets not increasing: %v", i, offs)
		}
		for _, o := range offs {
			if seen[o] {
				t.Fatalf("offset %d given to two appends", o)
			}
			seen[o] = true
		}
	}
	a, next := replayAll(t, logs[0], 0)
	bb, _ := replayAll(t, logs[1], 0)
	if next != 2*perEngine || len(a) != 2*perEngine || !slices.Equal(a, bb) {
		t.Fatalf("replays differ or are incomplete: next %d, %d vs %d records", next, len(a), len(bb))
	}
	// Per engine, its own appends appear in its order.
	lastVal := map[string]int{"e0": -1, "e1": -1}
	for _, c := range a {
		var v int
		fmt.Sscan(c.value, &v)
		if v != lastVal[c.key]+1 {
			t.Fatalf("engine %s: value %d after %d", c.key, v, lastVal[c.key])
		}
		lastVal[c.key] = v
	}
}

func TestCommandLogReplayStopsOnFnError(t *testing.T) {
	k := dialKafka(t, startBroker(t, ""))
	ctx := testCtx(t)
	cl, err := OpenCommandLog(ctx, k, "cmds")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 4 {
		if _, err := cl.Append(ctx, "k", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("bad statement")
	next, err := cl.Replay(ctx, 0, func(off int64, _ string, _ []byte) error {
		if off == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || next != 2 {
		t.Fatalf("Replay with failing fn = %d, %v; want 2, %v", next, err, boom)
	}
}

// TestCommandLogTransactionalWriters checks the read_committed side: an
// aborted transactional write is never replayed, and a log ending in a
// commit marker still terminates.
func TestCommandLogTransactionalWriters(t *testing.T) {
	b := startBroker(t, "")
	k := dialKafka(t, b)
	ctx := testCtx(t)
	cl, err := OpenCommandLog(ctx, k, "cmds")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Append(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	txp, err := NewProducer(b.Addrs(), ProducerOptions{TransactionalID: "writer"})
	if err != nil {
		t.Fatal(err)
	}
	defer txp.Close()
	for _, commit := range []bool{false, true} {
		if err := txp.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		produce(t, txp, "cmds", fmt.Sprintf("txn-commit=%v", commit))
		if err := txp.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	got, next := replayAll(t, cl, 0)
	var vals []string
	for _, c := range got {
		vals = append(vals, c.value)
	}
	if want := []string{"1", "txn-commit=true"}; !slices.Equal(vals, want) {
		t.Fatalf("replayed %v, want %v", vals, want)
	}
	end, err := cl.End(ctx)
	if err != nil || next != end {
		t.Fatalf("next = %d, End = %d, %v", next, end, err)
	}
}

func TestCommandLogTail(t *testing.T) {
	k := dialKafka(t, startBroker(t, ""))
	ctx := testCtx(t)
	cl, err := OpenCommandLog(ctx, k, "cmds")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Append(ctx, "k", []byte("before")); err != nil {
		t.Fatal(err)
	}
	tailCtx, cancel := context.WithCancel(ctx)
	got := make(chan string, 10)
	done := make(chan error, 1)
	var next int64
	go func() {
		var err error
		next, err = cl.Tail(tailCtx, 0, func(_ int64, _ string, v []byte) error {
			got <- string(v)
			return nil
		})
		done <- err
	}()
	if v := <-got; v != "before" {
		t.Fatalf("tail first = %q", v)
	}
	if _, err := cl.Append(ctx, "k", []byte("after")); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != "after" {
			t.Fatalf("tail second = %q", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail did not deliver a new command")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || next != 2 {
		t.Fatalf("Tail returned %d, %v; want 2, context.Canceled", next, err)
	}
}
