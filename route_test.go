package sluice_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/internal/servedtest"
	"github.com/sluicedb/sluice/server"
)

// servedEngine is an engine with its Postgres-wire server.
type servedEngine struct {
	*sluice.Engine
	srv *server.Server
}

func openServed(t *testing.T, brokers []string) *servedEngine {
	eng, srv := servedtest.Open(t, sluice.WithBrokers(brokers...), sluice.WithDataDir(t.TempDir()),
		sluice.WithServiceID("route"), sluice.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return &servedEngine{eng, srv}
}

// rows runs a query and returns its rows as "v1|v2|..." lines.
func rows(ctx context.Context, e *sluice.Engine, q string) ([]string, error) {
	rs, err := e.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var f []string
		for _, v := range rs.Row().Values {
			f = append(f, fmt.Sprint(v))
		}
		out = append(out, strings.Join(f, "|"))
	}
	return out, rs.Err()
}

var ownedRe = regexp.MustCompile(`partitions on this instance\|CTAS_Q_\d+: ([0-9, ]+) of 4`)

// Two engines of one service share a table's partitions. A pull query on
// either sees every row: a scan reads the other engine's partitions from
// it, and a lookup finds a key that its producer wrote to another
// partition than the default partitioner's (it asks the key's partition's
// owner, then the others). When the owner of some partitions cannot be
// reached, the query fails with 08006 naming them. Takes about 3 s.
func TestPullQueriesAcrossInstances(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close) // after the engines' cleanups
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := openServed(t, cluster.ListenAddrs())
	b := openServed(t, cluster.ListenAddrs())
	if _, err := a.Exec(ctx, `CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=4);
		SET 'auto.offset.reset'='earliest';
		CREATE TABLE q AS SELECT * FROM users;`); err != nil {
		t.Fatal(err)
	}
	// Keys go to partition i%4, not where murmur2 would put them.
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 20
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: "users", Partition: int32(i % 4), Key: []byte(fmt.Sprintf("u%d", i)),
			Value: []byte(fmt.Sprintf(`{"NAME":"name%d"}`, i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	owned := func(e *servedEngine) int {
		out, err := rows(ctx, e.Engine, "DESCRIBE q EXTENDED;")
		if err != nil {
			t.Fatal(err)
		}
		m := ownedRe.FindStringSubmatch(strings.Join(out, "\n"))
		if m == nil {
			return 0
		}
		return len(strings.Split(m[1], ","))
	}
	for owned(a) != 2 || owned(b) != 2 {
		select {
		case <-ctx.Done():
			t.Fatalf("the engines own %d and %d partitions of 4", owned(a), owned(b))
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, e := range []*servedEngine{a, b} {
		var all []string
		for len(all) < n && ctx.Err() == nil {
			// The tasks may still be catching up with the topic.
			if all, err = rows(ctx, e.Engine, "SELECT * FROM q;"); err != nil {
				t.Fatal(err)
			}
		}
		if len(all) != n {
			t.Fatalf("scan: %d rows, want %d: %v", len(all), n, all)
		}
		for i := 0; i < n; i++ {
			got, err := rows(ctx, e.Engine, fmt.Sprintf("SELECT * FROM q WHERE id = 'u%d';", i))
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("u%d|name%d", i, i); len(got) != 1 || got[0] != want {
				t.Fatalf("lookup of u%d: %v, want %s", i, got, want)
			}
		}
		if got, err := rows(ctx, e.Engine, "SELECT * FROM q LIMIT 3;"); err != nil || len(got) != 3 {
			t.Fatalf("LIMIT 3 over the merged rows: %v, %v", got, err)
		}
	}
	// b stops serving but stays in the group: a cannot read b's
	// partitions and says so.
	b.srv.Close()
	_, err = rows(ctx, a.Engine, "SELECT * FROM q;")
	var se *sluice.Error
	if !errors.As(err, &se) || se.Code != "08006" || !strings.Contains(se.Msg, "cannot read partitions") {
		t.Fatalf("scan with b unreachable: %v, want SQLSTATE 08006 naming b's partitions", err)
	}
}
