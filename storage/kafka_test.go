package storage

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaCreateTopicIsIdempotent(t *testing.T) {
	k := dialKafka(t, startBroker(t, ""))
	ctx := testCtx(t)
	cfg := map[string]*string{"retention.ms": kadm.StringPtr("1000")}
	if err := k.CreateTopic(ctx, "orders", 4, 0, cfg); err != nil {
		t.Fatal(err)
	}
	if err := k.CreateTopic(ctx, "orders", 4, 0, nil); err != nil {
		t.Fatalf("re-creating with the same partitions: %v", err)
	}
	if err := k.CreateTopic(ctx, "orders", 0, 0, nil); err != nil {
		t.Fatalf("re-creating with default partitions: %v", err)
	}
	err := k.CreateTopic(ctx, "orders", 6, 0, nil)
	var mismatch *TopicMismatchError
	if !errors.As(err, &mismatch) || mismatch.Existing != 4 || mismatch.Partitions != 6 {
		t.Fatalf("re-creating with other partitions: err = %v, want *TopicMismatchError{4 vs 6}", err)
	}
	info, ok, err := k.DescribeTopic(ctx, "orders")
	if err != nil || !ok {
		t.Fatalf("DescribeTopic = %v, %v", ok, err)
	}
	if want := (TopicInfo{Name: "orders", Partitions: 4, Replicas: 1}); info != want {
		t.Fatalf("DescribeTopic = %+v, want %+v", info, want)
	}
}

func TestKafkaCreateTopicRejectsTooManyReplicas(t *testing.T) {
	k := dialKafka(t, startBroker(t, ""))
	// The embedded broker has one node; asking for three replicas is a
	// user error that must surface, not be silently downgraded.
	if err := k.CreateTopic(testCtx(t), "r3", 1, 3, nil); err == nil {
		t.Fatal("CreateTopic with 3 replicas on 1 broker succeeded")
	}
}

func TestKafkaListAndDeleteTopics(t *testing.T) {
	b := startBroker(t, "")
	k := dialKafka(t, b)
	ctx := testCtx(t)
	for _, name := range []string{"b", "a", "__internal"} {
		if err := k.CreateTopic(ctx, name, 2, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	list, err := k.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []TopicInfo{{"a", 2, 1}, {"b", 2, 1}}
	if !slices.Equal(list, want) {
		t.Fatalf("ListTopics = %+v, want %+v", list, want)
	}
	if err := k.DeleteTopic(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := k.DescribeTopic(ctx, "a"); err != nil || ok {
		t.Fatalf("after delete DescribeTopic = %v, %v", ok, err)
	}
	if err := k.DeleteTopic(ctx, "a"); !errors.Is(err, ErrTopicNotFound) {
		t.Fatalf("deleting a missing topic: err = %v, want ErrTopicNotFound", err)
	}
}

func TestKafkaOffsets(t *testing.T) {
	b := startBroker(t, "")
	k := dialKafka(t, b)
	ctx := testCtx(t)
	if err := k.CreateTopic(ctx, "t", 2, 0, nil); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addrs())
	produce(t, prod, "t", "x", "y", "z")

	end, err := k.EndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(end["t"]) != 2 || end["t"][0]+end["t"][1] != 3 {
		t.Fatalf("EndOffsets = %v, want 2 partitions holding 3 records", end)
	}
	stable, err := k.StableOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if !mapsEqual(stable["t"], end["t"]) {
		t.Fatalf("without transactions StableOffsets %v != EndOffsets %v", stable, end)
	}
	start, err := k.StartOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if start["t"][0] != 0 || start["t"][1] != 0 {
		t.Fatalf("StartOffsets = %v, want zeros", start)
	}
	if _, err := k.EndOffsets(ctx, "t", "missing"); !errors.Is(err, ErrTopicNotFound) {
		t.Fatalf("EndOffsets of a missing topic: err = %v, want ErrTopicNotFound", err)
	}
	if got, err := k.EndOffsets(ctx); err != nil || len(got) != 0 {
		t.Fatalf("EndOffsets() = %v, %v; want empty", got, err)
	}

	// Committed offsets of a group, committed through the admin API.
	offs := make(kadm.Offsets)
	offs.AddOffset("t", 1, 2, -1)
	if _, err := k.Admin().CommitOffsets(ctx, "g", offs); err != nil {
		t.Fatal(err)
	}
	got, err := k.CommittedOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["t"][1] != 2 {
		t.Fatalf("CommittedOffsets = %v, want t[1]=2", got)
	}
	if got, err := k.CommittedOffsets(ctx, "never-committed"); err != nil || len(got) != 0 {
		t.Fatalf("CommittedOffsets of an unknown group = %v, %v; want empty", got, err)
	}
}

func TestKafkaClosed(t *testing.T) {
	k := dialKafka(t, startBroker(t, ""))
	k.Close()
	k.Close()
	if err := k.CreateTopic(testCtx(t), "t", 1, 0, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateTopic after Close: err = %v, want ErrClosed", err)
	}
}

func TestDialKafkaFailsFast(t *testing.T) {
	// A port we just closed has nobody listening.
	b := startBroker(t, "")
	addr := b.Addrs()
	b.Close()
	ctx := testCtx(t)
	if _, err := DialKafka(ctx, addr, testLogger(t)); err == nil {
		t.Fatal("DialKafka to a closed port succeeded")
	}
	if _, err := DialKafka(ctx, nil, testLogger(t)); err == nil {
		t.Fatal("DialKafka without seeds succeeded")
	}
}

// DialKafkaWait waits for a broker that starts after it was called, and
// gives up after its wait on one that never does.
func TestDialKafkaWaitsForAStartingBroker(t *testing.T) {
	first := startBroker(t, "")
	addr := first.Addrs()
	first.Close()
	ctx := testCtx(t)

	start := time.Now()
	if _, err := DialKafkaWait(ctx, addr, testLogger(t), 600*time.Millisecond); err == nil {
		t.Fatal("DialKafkaWait to a closed port succeeded")
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("DialKafkaWait gave up after %v, before retrying", waited)
	}

	started := make(chan *Broker, 1)
	go func() {
		time.Sleep(700 * time.Millisecond)
		b, err := StartBroker(ctx, BrokerConfig{Addr: addr[0], Logger: testLogger(t)})
		if err != nil {
			t.Errorf("StartBroker on %s: %v", addr[0], err)
			started <- nil
			return
		}
		started <- b
	}()
	k, err := DialKafkaWait(ctx, addr, testLogger(t), 20*time.Second)
	if b := <-started; b != nil {
		defer b.Close()
	}
	if err != nil {
		t.Fatalf("DialKafkaWait did not wait for the broker: %v", err)
	}
	k.Close()
}

func mapsEqual(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// FenceTransactionalID aborts the open transaction of a producer with the
// same transactional id at once (its records never become readable and
// the topic's last stable offset moves past them) and fences the producer.
func TestFenceTransactionalIDAbortsTheOpenTransaction(t *testing.T) {
	b := startBroker(t, "")
	k := dialKafka(t, b)
	ctx := testCtx(t)
	if err := k.CreateTopic(ctx, "out", 1, 0, nil); err != nil {
		t.Fatal(err)
	}
	old, err := NewProducer(b.Addrs(), ProducerOptions{TransactionalID: "stage-instance"})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, old, "out", "left open by a crash")
	if err := k.FenceTransactionalID(ctx, "stage-instance", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ends, err := k.EndOffsets(ctx, "out")
	if err != nil {
		t.Fatal(err)
	}
	stable, err := k.StableOffsets(ctx, "out")
	if err != nil {
		t.Fatal(err)
	}
	if stable["out"][0] != ends["out"][0] {
		t.Fatalf("last stable offset %d, end %d: the transaction is still open", stable["out"][0], ends["out"][0])
	}
	if err := old.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("the fenced producer committed")
	}
	produce(t, newClient(t, b.Addrs()), "out", "after")
	if got := consumeAll(t, b.Addrs(), "out", 1, kgo.FetchIsolationLevel(kgo.ReadCommitted())); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("read_committed read %v", got)
	}
}
