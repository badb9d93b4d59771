package sluice

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/storage"
)

// Two engines of one service on one in-process cluster share a query's
// partitions. A partition that moved from a to b loses its state on a once
// b has committed progress for it; TERMINATE then deletes the query's state
// on both, its consumer groups and its internal topics, and keeps its sink
// topic. Takes about 20 s (group rebalances and the 5 s sweep).
func TestCleanupMovedAndTerminated(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	open := func() *Engine {
		e, err := Open(ctx, WithBrokers(cluster.ListenAddrs()...), WithDataDir(t.TempDir()), WithServiceID("clean"),
			WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a := open()
	defer a.Close()
	if _, err := a.Exec(ctx, `CREATE STREAM ev (id INT KEY, k INT, v INT) WITH (KAFKA_TOPIC='ev', VALUE_FORMAT='JSON', PARTITIONS=4);
		SET 'auto.offset.reset'='earliest'; SET 'session.timeout.ms'='6000';
		CREATE TABLE tot AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k;`); err != nil {
		t.Fatal(err)
	}
	produce := func() {
		t.Helper()
		for i := 0; i < 400; i++ {
			a.producer.Produce(ctx, &kgo.Record{Topic: "ev", Value: []byte(fmt.Sprintf(`{"K":%d,"V":%d}`, i%200, i))}, nil)
		}
		if err := a.producer.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	produce()
	if err := a.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	qa := a.queries[a.cat.queryList()[0].ID]
	final := qa.stages[len(qa.stages)-1]
	waitFor(t, ctx, "a to checkpoint every partition", func() bool {
		for p := int32(0); p < final.parts; p++ {
			if _, ok, _ := a.readCheckpoints(final.name, p, 1); !ok {
				return false
			}
		}
		return true
	})

	// b joins: the partitions it takes move away from a.
	b := open()
	defer b.Close()
	waitFor(t, ctx, "the partitions to be shared", func() bool {
		return len(final.owned(false)) == 2 && len(b.queries) == 1 &&
			len(b.queries[qa.id].stages[len(qa.stages)-1].owned(false)) == 2
	})
	moved := slices.DeleteFunc([]int32{0, 1, 2, 3}, func(p int32) bool { return slices.Contains(final.owned(false), p) })
	produce()
	waitFor(t, ctx, "a to drop the state of the partitions b owns", func() bool {
		for _, p := range moved {
			if _, ok, _ := a.readCheckpoints(final.name, p, 1); ok {
				return false
			}
			if n := countKeys(t, a, final.name, p); n != 0 {
				return false
			}
		}
		return true
	})
	for _, p := range final.owned(false) {
		if _, ok, _ := a.readCheckpoints(final.name, p, 1); !ok || countKeys(t, a, final.name, p) == 0 {
			t.Fatalf("a lost the state of partition %d, which it owns", p)
		}
	}

	// TERMINATE on a reaches b; both drop the query's state, the groups go
	// once both left, and the last to leave deletes the internal topics.
	internal := internalTopics(t, a, qa.id)
	if len(internal) < 2 {
		t.Fatalf("internal topics of %s: %v, want a repartition and changelog topics", qa.id, internal)
	}
	if _, err := a.Exec(ctx, "TERMINATE "+qa.id+";"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "groups, state and internal topics to go", func() bool {
		for _, e := range []*Engine{a, b} {
			for _, s := range qa.stages {
				if countKeys(t, e, s.name, -1) != 0 {
					return false
				}
				if _, ok, _ := e.readCheckpoints(s.name, 0, len(s.topics)); ok {
					return false
				}
			}
		}
		groups, err := a.kafka.Admin().ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range qa.stages {
			if _, ok := groups[s.group]; ok {
				return false
			}
		}
		return len(internalTopics(t, a, qa.id)) == 0
	})
	if _, ok, err := a.kafka.DescribeTopic(ctx, "TOT"); err != nil || !ok {
		t.Fatalf("the sink topic TOT is gone (%v)", err)
	}
}

// countKeys counts a stage's operator keys of partition p (all partitions
// with p < 0) in e's state.
func countKeys(t *testing.T, e *Engine, stage string, p int32) int {
	it, err := e.state.Iter(storage.QueryPrefix(storage.NamespaceOperator, stage))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		pre, _, err := storage.DecodePrefix(it.Key())
		if err != nil {
			t.Fatal(err)
		}
		if p < 0 || pre.Partition == p {
			n++
		}
	}
	return n
}

// internalTopics lists the repartition and changelog topics of query id.
func internalTopics(t *testing.T, e *Engine, id string) []string {
	all, err := e.kafka.ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tp := range all {
		if strings.HasPrefix(tp.Name, "_sluice-clean-"+id) || strings.HasPrefix(tp.Name, "_sluice-"+id+"-") {
			out = append(out, tp.Name)
		}
	}
	return out
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
