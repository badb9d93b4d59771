package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestBrokerRestartKeepsRecordsTopicsAndOffsets(t *testing.T) {
	dir := t.TempDir()
	const topic, group = "orders", "query-1"
	var want []string
	for i := range 50 {
		want = append(want, fmt.Sprintf("order-%02d", i))
	}

	b1 := startBroker(t, dir)
	k1 := dialKafka(t, b1)
	ctx := testCtx(t)
	if err := k1.CreateTopic(ctx, topic, 1, 0, nil); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b1.Addrs())
	produce(t, prod, topic, want...)

	// A consumer group reads 20 records and commits; the restart must keep
	// that position.
	cons := newClient(t, b1.Addrs(), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	var read int
	for read < 20 {
		fs := cons.PollRecords(ctx, 20-read)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		read += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cons.Close()
	prod.Close()
	k1.Close()
	if err := b1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	b2 := startBroker(t, dir)
	k2 := dialKafka(t, b2)
	info, ok, err := k2.DescribeTopic(ctx, topic)
	if err != nil || !ok || info.Partitions != 1 {
		t.Fatalf("after restart DescribeTopic = %+v, %v, %v; want 1 partition", info, ok, err)
	}
	if got := consumeAll(t, b2.Addrs(), topic, len(want)); !slices.Equal(got, want) {
		t.Fatalf("after restart read %v, want %v", got, want)
	}
	committed, err := k2.CommittedOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if got := committed[topic][0]; got != 20 {
		t.Fatalf("after restart committed offset = %d (%v), want 20", got, committed)
	}
	// Offsets keep counting from where they were: the log's end survived.
	end, err := k2.EndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if end[topic][0] != int64(len(want)) {
		t.Fatalf("after restart end offset = %d, want %d", end[topic][0], len(want))
	}
	// And the group resumes at its committed offset.
	cons2 := newClient(t, b2.Addrs(), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit())
	fs := cons2.PollRecords(ctx, 1)
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	if recs := fs.Records(); len(recs) == 0 || recs[0].Offset != 20 {
		t.Fatalf("group resumed at %v, want offset 20", recs)
	}
}

func TestBrokerAddrInUse(t *testing.T) {
	b := startBroker(t, "")
	_, err := StartBroker(testCtx(t), BrokerConfig{Addr: b.Addrs()[0], Logger: testLogger(t)})
	var inUse *AddrInUseError
	if !errors.As(err, &inUse) || inUse.Addr != b.Addrs()[0] {
		t.Fatalf("StartBroker on a taken port: err = %v, want *AddrInUseError{%s}", err, b.Addrs()[0])
	}
}

func TestBrokerDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	startBroker(t, dir)
	_, err := StartBroker(testCtx(t), BrokerConfig{DataDir: dir, Logger: testLogger(t)})
	if !errors.Is(err, ErrDataDirInUse) {
		t.Fatalf("second broker on the same dir: err = %v, want ErrDataDirInUse", err)
	}
}

func TestBrokerCloseReleasesDataDir(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	startBroker(t, dir)
}

func TestBrokerAdvertisedAddr(t *testing.T) {
	b, err := StartBroker(testCtx(t), BrokerConfig{Addr: "0.0.0.0:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addr := b.Addrs()[0]
	if addr[:len("127.0.0.1:")] != "127.0.0.1:" {
		t.Fatalf("unspecified listen host advertised as %q, want 127.0.0.1", addr)
	}
	// Clients follow the advertised address from metadata, so a working
	// round trip proves it is reachable.
	k := dialKafka(t, b)
	if err := k.CreateTopic(testCtx(t), "t", 1, 0, nil); err != nil {
		t.Fatal(err)
	}
	produce(t, newClient(t, b.Addrs()), "t", "x")
}

func TestBrokerAutoCreatesTopicsForProducers(t *testing.T) {
	b := startBroker(t, "")
	k := dialKafka(t, b)
	ctx := testCtx(t)
	// A kcat-style producer that asks for auto-creation.
	produce(t, newClient(t, b.Addrs(), kgo.AllowAutoTopicCreation()), "from-kcat", "a", "b")
	info, ok, err := k.DescribeTopic(ctx, "from-kcat")
	if err != nil || !ok || info.Partitions != 1 {
		t.Fatalf("auto-created topic = %+v, %v, %v; want 1 partition", info, ok, err)
	}
	// Our own metadata requests never create topics.
	if _, ok, err := k.DescribeTopic(ctx, "not-there"); err != nil || ok {
		t.Fatalf("DescribeTopic(not-there) = %v, %v; want false, nil", ok, err)
	}
	if _, ok, _ := k.DescribeTopic(ctx, "not-there"); ok {
		t.Fatal("DescribeTopic created the topic")
	}
}

func TestBrokerAutoCreateDisabled(t *testing.T) {
	b, err := StartBroker(testCtx(t), BrokerConfig{AutoCreatePartitions: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl := newClient(t, b.Addrs(), kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(0))
	err = cl.ProduceSync(testCtx(t), &kgo.Record{Topic: "nope", Value: []byte("x")}).FirstErr()
	if err == nil {
		t.Fatal("produce to a missing topic succeeded with auto-creation disabled")
	}
	if _, ok, err := dialKafka(t, b).DescribeTopic(testCtx(t), "nope"); err != nil || ok {
		t.Fatalf("DescribeTopic(nope) = %v, %v; want false, nil", ok, err)
	}
}

// TestBrokerTransactions checks what exactly-once builds on: a
// read_committed consumer sees committed transactions only, and an open
// transaction holds back the last stable offset.
func TestBrokerTransactions(t *testing.T) {
	b := startBroker(t, t.TempDir())
	k := dialKafka(t, b)
	ctx := testCtx(t)
	const topic = "txn"
	if err := k.CreateTopic(ctx, topic, 1, 0, nil); err != nil {
		t.Fatal(err)
	}
	txp, err := NewProducer(b.Addrs(), ProducerOptions{TransactionalID: "task-0"})
	if err != nil {
		t.Fatal(err)
	}
	defer txp.Close()

	inTxn := func(commit bool, values ...string) {
		t.Helper()
		if err := txp.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		produce(t, txp, topic, values...)
		if err := txp.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	inTxn(true, "c1", "c2")
	inTxn(false, "aborted1", "aborted2")

	// An open transaction: its records are below the high watermark but
	// not below the last stable offset.
	if err := txp.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txp, topic, "open1")
	hw, err := k.EndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	lso, err := k.StableOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if lso[topic][0] >= hw[topic][0] {
		t.Fatalf("with an open transaction LSO %d >= HW %d", lso[topic][0], hw[topic][0])
	}
	if err := txp.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	produce(t, newClient(t, b.Addrs()), topic, "plain")

	got := consumeAll(t, b.Addrs(), topic, 4, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if want := []string{"c1", "c2", "open1", "plain"}; !slices.Equal(got, want) {
		t.Fatalf("read_committed read %v, want %v", got, want)
	}
	got = consumeAll(t, b.Addrs(), topic, 6)
	if want := []string{"c1", "c2", "aborted1", "aborted2", "open1", "plain"}; !slices.Equal(got, want) {
		t.Fatalf("read_uncommitted read %v, want %v", got, want)
	}
}

// TestBrokerTransactSessionSurvivesRestart runs the consume-transform-
// produce loop of exactly-once queries (kgo.GroupTransactSession) and checks
// that its output and its transactionally committed input offsets survive a
// broker restart.
func TestBrokerTransactSessionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	const in, out, group = "eos-in", "eos-out", "eos-query"
	b1 := startBroker(t, dir)
	k1 := dialKafka(t, b1)
	ctx := testCtx(t)
	for _, topic := range []string{in, out} {
		if err := k1.CreateTopic(ctx, topic, 1, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	produce(t, newClient(t, b1.Addrs()), in, "a", "b", "c")

	popts, err := ProducerOptions{TransactionalID: "eos-query-task-0"}.ClientOpts(b1.Addrs())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := kgo.NewGroupTransactSession(append(popts,
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.WithLogger(newKgoLogger(testLogger(t))),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	var done int
	for done < 3 {
		fs := sess.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Topic: out, Value: append([]byte("out-"), r.Value...)}, nil)
			done++
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil || !committed {
			t.Fatalf("End = %v, %v", committed, err)
		}
	}
	sess.Close()
	k1.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := startBroker(t, dir)
	k2 := dialKafka(t, b2)
	offs, err := k2.CommittedOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if offs[in][0] != 3 {
		t.Fatalf("after restart committed offsets = %v, want %s[0]=3", offs, in)
	}
	got := consumeAll(t, b2.Addrs(), out, 3, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if want := []string{"out-a", "out-b", "out-c"}; !slices.Equal(got, want) {
		t.Fatalf("after restart output = %v, want %v", got, want)
	}
	// The transactional id is usable again after the restart.
	txp, err := NewProducer(b2.Addrs(), ProducerOptions{TransactionalID: "eos-query-task-0"})
	if err != nil {
		t.Fatal(err)
	}
	defer txp.Close()
	if err := txp.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txp, out, "out-d")
	if err := txp.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("transaction after restart: %v", err)
	}
}

func TestBrokerSyncWrites(t *testing.T) {
	dir := t.TempDir()
	b, err := StartBroker(testCtx(t), BrokerConfig{DataDir: dir, SyncWrites: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	produce(t, newClient(t, b.Addrs(), kgo.AllowAutoTopicCreation()), "synced", "s1", "s2")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startBroker(t, dir)
	if got := consumeAll(t, b2.Addrs(), "synced", 2); !slices.Equal(got, []string{"s1", "s2"}) {
		t.Fatalf("after restart read %v", got)
	}
}

// TestBrokerCrashAbortedTransactionStaysAborted checks the embedded
// broker's recovery after a crash (a SIGKILLed `sluice serve`): a
// transaction left open by the crash is aborted, and stays aborted through
// later crashes, after the same transactional id has committed newer
// transactions in the same partition. A copy of a running broker's data
// directory is the image a crash leaves.
func TestBrokerCrashAbortedTransactionStaysAborted(t *testing.T) {
	const topic, txid = "eos-out", "stage-0"
	dir2 := openTransactionAtCrash(t, topic, txid)

	b2 := startBroker(t, dir2)
	commitTransaction(t, b2, txid, topic, "committed")
	dir3 := crashImage(t, b2, dir2)

	readCommittedAfterCrash(t, dir3, topic, "committed")
}

// TestBrokerCrashBetweenSegmentAndIndexWrites checks the recovery from a
// crash between the two writes that append a batch to a partition: the
// batch is in the segment file, its entry in the index file beside it is
// not. The transaction the batch belongs to was open at the crash, so it
// must be aborted, and so must a transaction open at a later crash, once
// the partition has grown past the spot. (The embedded broker once took a
// batch without an index entry for non-transactional: the open
// transaction's records became visible and were written again by the
// restarted producer, which doubled a cycle of tests/crash; and each later
// batch took its predecessor's entry.)
func TestBrokerCrashBetweenSegmentAndIndexWrites(t *testing.T) {
	const topic, txid = "eos-out", "stage-0"
	dir2 := openTransactionAtCrash(t, topic, txid)
	// The partition's only batch so far: the crash came before its index
	// entry was written.
	index := filepath.Join(dir2, "partitions", topic+"-0", "0.idx")
	if fi, err := os.Stat(index); err != nil || fi.Size() == 0 {
		t.Fatalf("the crash image has no index entry to drop (the broker's file layout changed?): %v", err)
	}
	if err := os.Truncate(index, 0); err != nil {
		t.Fatal(err)
	}

	b2 := startBroker(t, dir2)
	txp := commitTransaction(t, b2, txid, topic, "committed")
	if err := txp.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txp, topic, "open at the second crash")
	dir3 := crashImage(t, b2, dir2)

	readCommittedAfterCrash(t, dir3, topic, "committed")
}

// openTransactionAtCrash starts a broker with a one-partition topic,
// leaves a transaction of txid open in it (one record) and returns the
// crash image of its data directory.
func openTransactionAtCrash(t *testing.T, topic, txid string) string {
	t.Helper()
	dir := t.TempDir()
	b := startBroker(t, dir)
	if err := dialKafka(t, b).CreateTopic(testCtx(t), topic, 1, 0, nil); err != nil {
		t.Fatal(err)
	}
	txp := newTxnProducer(t, b, txid)
	if err := txp.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txp, topic, "open at the crash")
	return crashImage(t, b, dir)
}

// commitTransaction commits a transaction of txid holding value on b and
// returns the producer.
func commitTransaction(t *testing.T, b *Broker, txid, topic, value string) *kgo.Client {
	t.Helper()
	txp := newTxnProducer(t, b, txid)
	if err := txp.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txp, topic, value)
	if err := txp.EndTransaction(testCtx(t), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	return txp
}

// readCommittedAfterCrash starts a broker on the crash image dir, appends
// a plain record to topic and checks that read_committed reads the
// committed values, then the plain record.
func readCommittedAfterCrash(t *testing.T, dir, topic string, committed ...string) {
	t.Helper()
	b := startBroker(t, dir)
	produce(t, newClient(t, b.Addrs()), topic, "plain")
	want := append(committed, "plain")
	got := consumeAll(t, b.Addrs(), topic, len(want), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if !slices.Equal(got, want) {
		t.Fatalf("read_committed after the crashes read %v, want %v", got, want)
	}
}

// crashImage returns a copy of the data directory of the running broker b:
// the image a crash (a SIGKILLed process) leaves, as the broker writes with
// plain write calls. It closes b.
func crashImage(t *testing.T, b *Broker, from string) string {
	t.Helper()
	to := t.TempDir()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	b.Close()
	return to
}

func newTxnProducer(t *testing.T, b *Broker, txid string) *kgo.Client {
	t.Helper()
	txp, err := NewProducer(b.Addrs(), ProducerOptions{TransactionalID: txid})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(txp.Close)
	return txp
}
