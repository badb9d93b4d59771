package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
)

// Stopping and starting the engine while input keeps arriving neither loses
// nor repeats an output record: the catalog and the query come back from the
// command topic and resume from their committed offsets. Under at-least-once
// the state is kept in memory, so each restart resumes from the offsets the
// stage's group holds: a clean stop must have committed its last cycle
// (the commit is asynchronous, commitOffsets).
func TestRestartMidStreamNeitherLosesNorRepeats(t *testing.T) {
	for _, tc := range []struct {
		guarantee string
		opts      []sluice.Option
	}{
		{"exactly_once_v2", nil},
		{"at_least_once", []sluice.Option{sluice.WithInMemoryState()}},
	} {
		t.Run(tc.guarantee, func(t *testing.T) { testRestartMidStream(t, tc.guarantee, tc.opts) })
	}
}

func testRestartMidStream(t *testing.T, guarantee string, opts []sluice.Option) {
	dir := t.TempDir()
	eng := openEngine(t, dir, append(opts, sluice.WithKafkaAddr(freeAddr(t)))...)
	addr := eng.KafkaAddrs()
	mustExec(t, eng, `
		CREATE STREAM input (id BIGINT, v INT) WITH (KAFKA_TOPIC='input', VALUE_FORMAT='JSON', PARTITIONS=2);`)
	s := eng.NewSession()
	if _, err := s.Exec(testCtx(t), `SET 'auto.offset.reset'='earliest';
		SET 'processing.guarantee'='`+guarantee+`';
		CREATE STREAM output AS SELECT id, v * 10 AS v10 FROM input WHERE v % 2 = 0;`); err != nil {
		t.Fatal(err)
	}

	// A producer writes records 0..N-1 to the embedded broker while the
	// engine restarts underneath it; it retries while the broker is down.
	const n = 3000
	var sent atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; {
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr...), kgo.RecordRetries(3))
			if err != nil {
				return
			}
			for ; i < n; i++ {
				r := &kgo.Record{Topic: "input", Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf(`{"id": %d, "v": %d}`, i, i))}
				pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
				err := cl.ProduceSync(pctx, r).FirstErr()
				pcancel()
				if err != nil {
					break
				}
				sent.Add(1)
			}
			cl.Close()
			if ctx.Err() != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	for restart := 0; restart < 3; restart++ {
		time.Sleep(400 * time.Millisecond)
		if err := eng.Close(); err != nil {
			t.Fatalf("close %d: %v", restart, err)
		}
		eng = openEngine(t, dir, append(opts, sluice.WithKafkaAddr(addr[0]))...)
	}
	wg.Wait()
	if sent.Load() != n {
		t.Fatalf("producer sent %d of %d records", sent.Load(), n)
	}
	defer eng.Close()
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	recs := readTopic(t, eng.KafkaAddrs(), "OUTPUT", n/2, 30*time.Second)
	seen := map[int]int{}
	for _, r := range recs {
		var v struct{ ID, V10 int }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		if v.V10 != v.ID*10 {
			t.Errorf("record %+v: V10 != ID*10", v)
		}
		seen[v.ID]++
	}
	for i := 0; i < n; i += 2 {
		if seen[i] != 1 {
			t.Errorf("id %d appears %d times in the output, want exactly once", i, seen[i])
		}
	}
	if len(recs) != n/2 {
		t.Errorf("output has %d records, want %d", len(recs), n/2)
	}
}
