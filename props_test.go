package sluice

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// commit.interval.ms decides how many cycles (transactions) a backlog
// takes: with 0 every poll commits, so a backlog of n records takes at
// least n/maxCycleRecords cycles; with a long interval a cycle keeps taking
// the records that are ready, so the same backlog commits in a few cycles
// (one per fetch at most). Takes about 5 s.
func TestCommitIntervalHonoured(t *testing.T) {
	ctx, open := stateTestEngine(t)
	e := open(t.TempDir())
	defer e.Close()
	if _, err := e.Exec(ctx, `CREATE STREAM src (id INT KEY, v INT) WITH (KAFKA_TOPIC='src', VALUE_FORMAT='JSON', PARTITIONS=1);`); err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	for i := 0; i < n; i++ {
		e.producer.Produce(ctx, &kgo.Record{Topic: "src", Value: []byte(fmt.Sprintf(`{"V":%d}`, i))}, nil)
	}
	if err := e.producer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	create := func(name, interval string) *persistentQuery {
		s := e.NewSession()
		script := fmt.Sprintf(`SET 'auto.offset.reset'='earliest'; SET 'commit.interval.ms'='%s';
			CREATE STREAM %s AS SELECT * FROM src;`, interval, name)
		res, err := s.Exec(ctx, script)
		if err != nil {
			t.Fatal(err)
		}
		return e.queries[res[len(res)-1].QueryID]
	}
	every, long := create("every_poll", "0"), create("long", "30000")
	if err := e.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	ce, cl := every.stages[0].cycles.Load(), long.stages[0].cycles.Load()
	t.Logf("%d records: %d cycles with commit.interval.ms=0, %d with 30000", n, ce, cl)
	if ce < n/maxCycleRecords {
		t.Errorf("commit.interval.ms=0: %d cycles, want at least %d", ce, n/maxCycleRecords)
	}
	if cl < 1 || cl*2 > ce {
		t.Errorf("commit.interval.ms=30000: %d cycles, want at least 1 and at most half of %d", cl, ce)
	}
	rows, err := e.Query(ctx, "DESCRIBE long EXTENDED;")
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for rows.Next() {
		fmt.Fprintln(&text, rows.Row().Values...)
	}
	if want := fmt.Sprintf("commits on this instance %s: %d (commit.interval.ms: 30000)", long.id, cl); !strings.Contains(text.String(), want) {
		t.Errorf("DESCRIBE EXTENDED lacks %q:\n%s", want, text.String())
	}
}

// Bad timing properties fail the statement, naming the property and its
// range, before anything is created.
func TestTimingPropertiesChecked(t *testing.T) {
	ctx, open := stateTestEngine(t)
	e := open(t.TempDir())
	defer e.Close()
	if _, err := e.Exec(ctx, `CREATE STREAM src (id INT KEY, v INT) WITH (KAFKA_TOPIC='src', VALUE_FORMAT='JSON', PARTITIONS=1);`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ set, want string }{
		{`SET 'commit.interval.ms'='soon';`, "invalid value 'soon' for property commit.interval.ms"},
		{`SET 'ksql.streams.commit.interval.ms'='-1';`, "invalid value '-1' for property commit.interval.ms"},
		{`SET 'session.timeout.ms'='500';`, "invalid value '500' for property session.timeout.ms"},
		{`SET 'transaction.timeout.ms'='99999999';`, "invalid value '99999999' for property transaction.timeout.ms"},
		{`SET 'session.timeout.ms'='3000'; SET 'heartbeat.interval.ms'='3000';`, "heartbeat.interval.ms (3000) must be below session.timeout.ms (3000)"},
	} {
		_, err := e.NewSession().Exec(ctx, c.set+` CREATE STREAM out AS SELECT * FROM src;`)
		var se *Error
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &se) || se.Code != "22023" {
			t.Errorf("%s: got %v, want SQLSTATE 22023 with %q", c.set, err, c.want)
		}
		if _, ok := e.Source("OUT"); ok {
			t.Fatalf("%s: OUT was created", c.set)
		}
	}
	// Good values take effect on the query's stages.
	res, err := e.NewSession().Exec(ctx, `SET 'session.timeout.ms'='7000'; SET 'transaction.timeout.ms'='20000';
		CREATE STREAM out AS SELECT * FROM src;`)
	if err != nil {
		t.Fatal(err)
	}
	q := e.queries[res[len(res)-1].QueryID]
	if q.timing.session.Milliseconds() != 7000 || q.timing.txn.Milliseconds() != 20000 || q.timing.commitInterval.Milliseconds() != 100 {
		t.Fatalf("timing = %+v", q.timing)
	}
}
