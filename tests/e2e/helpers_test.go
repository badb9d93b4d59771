package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/tests/internal/sluicebin"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// openEngine starts an engine with its embedded broker on a free port in
// dir. brokers, when given, replaces the embedded broker.
func openEngine(t *testing.T, dir string, opts ...sluice.Option) *sluice.Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []sluice.Option{sluice.WithDataDir(dir), sluice.WithKafkaAddr("127.0.0.1:0"), sluice.WithLogger(quietLogger())}
	eng, err := sluice.Open(ctx, append(base, opts...)...)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	return eng
}

func mustExec(t *testing.T, eng *sluice.Engine, script string) []sluice.Result {
	t.Helper()
	res, err := eng.Exec(testCtx(t), script)
	if err != nil {
		t.Fatalf("exec %q: %v", script, err)
	}
	return res
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func client(t *testing.T, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func produce(t *testing.T, cl *kgo.Client, topic string, key, value string) {
	t.Helper()
	r := &kgo.Record{Topic: topic, Value: []byte(value)}
	if key != "" {
		r.Key = []byte(key)
	}
	if err := cl.ProduceSync(testCtx(t), r).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readTopic reads every committed record of topic (all partitions) until
// it has n records or the timeout passes.
func readTopic(t *testing.T, seeds []string, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl := client(t, seeds, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// values decodes JSON record values into maps, sorted by the given field.
func values(t *testing.T, recs []*kgo.Record, sortBy string) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("record %s[%d]@%d: value %q is not a JSON object: %v", r.Topic, r.Partition, r.Offset, r.Value, err)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][sortBy].(float64) < out[j][sortBy].(float64) })
	return out
}

// produceAt produces one record with the given timestamp (ms).
func produceAt(t *testing.T, cl *kgo.Client, topic, key, value string, ts int64) {
	t.Helper()
	r := &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value), Timestamp: time.UnixMilli(ts)}
	if err := cl.ProduceSync(testCtx(t), r).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string { return sluicebin.FreeAddr(t) }
