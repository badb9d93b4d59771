package storage

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// testLogger discards logs unless -v is given, so failing tests show the
// broker's story without flooding passing runs.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startBroker starts a broker on dir (in memory when empty) on a free
// loopback port, closed at the end of the test.
func startBroker(t testing.TB, dir string) *Broker {
	t.Helper()
	b, err := StartBroker(testCtx(t), BrokerConfig{DataDir: dir, Addr: "127.0.0.1:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartBroker: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func dialKafka(t testing.TB, b *Broker) *Kafka {
	t.Helper()
	k, err := DialKafka(testCtx(t), b.Addrs(), testLogger(t))
	if err != nil {
		t.Fatalf("DialKafka: %v", err)
	}
	t.Cleanup(k.Close)
	return k
}

func newClient(t testing.TB, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.WithLogger(newKgoLogger(testLogger(t)))}, opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func produce(t testing.TB, cl *kgo.Client, topic string, values ...string) {
	t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(v)}
	}
	if err := cl.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// consumeAll reads topic from the start until n records arrived, with
// extra consumer options (isolation level).
func consumeAll(t testing.TB, seeds []string, topic string, n int, opts ...kgo.Opt) []string {
	t.Helper()
	cl := newClient(t, seeds, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	defer cl.Close()
	ctx := testCtx(t)
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: got %d of %d records: %v", topic, len(got), n, got)
		}
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}
