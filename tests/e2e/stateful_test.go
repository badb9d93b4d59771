package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/sluicedb/sluice"
)

// A windowed aggregation over a three-partition stream, answered by pull
// queries from the state it materializes; after a restart the state comes
// back from the local checkpoint and keeps counting where it stopped.
func TestWindowedAggregationPullAndRestart(t *testing.T) {
	dir := t.TempDir()
	eng := openEngine(t, dir, sluice.WithKafkaAddr(freeAddr(t)))
	addr := eng.KafkaAddrs()
	s := eng.NewSession()
	if _, err := s.Exec(testCtx(t), `
		CREATE STREAM tx (tx_id BIGINT KEY, customer_id INT, amount DOUBLE)
		  WITH (KAFKA_TOPIC='tx', FORMAT='JSON', PARTITIONS=3);
		SET 'auto.offset.reset'='earliest';
		CREATE TABLE spend AS
		  SELECT customer_id, COUNT(*) AS n, SUM(amount) AS total
		  FROM tx WINDOW TUMBLING (SIZE 1 HOUR)
		  GROUP BY customer_id EMIT CHANGES;`); err != nil {
		t.Fatal(err)
	}
	cl := client(t, addr)
	hour := int64(3600_000)
	send := func(id, cust int, amount float64, ts int64) {
		t.Helper()
		r := fmt.Sprintf(`{"customer_id": %d, "amount": %v}`, cust, amount)
		produceAt(t, cl, "tx", fmt.Sprint(id), r, ts)
	}
	// Customer 1: two records in hour 0, one in hour 1; customer 2: one.
	send(1, 1, 10, 0)
	send(2, 1, 5, 10_000)
	send(3, 2, 7, 20_000)
	send(4, 1, 1, hour+1)
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	want := "1 0 3600000 2 15\n1 3600000 7200000 1 1\n"
	if got := pullSorted(t, eng, "SELECT customer_id, WINDOWSTART, WINDOWEND, n, total FROM spend WHERE customer_id = 1;"); got != want {
		t.Fatalf("pull before restart:\n%s\nwant:\n%s", got, want)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	eng = openEngine(t, dir, sluice.WithKafkaAddr(addr[0]))
	defer eng.Close()
	cl = client(t, eng.KafkaAddrs())
	send(5, 1, 100, 30_000)
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	want = "1 0 3600000 3 115\n1 3600000 7200000 1 1\n"
	if got := pullSorted(t, eng, "SELECT customer_id, WINDOWSTART, WINDOWEND, n, total FROM spend WHERE customer_id = 1;"); got != want {
		t.Fatalf("pull after restart:\n%s\nwant:\n%s", got, want)
	}
	if got := pullSorted(t, eng, "SELECT customer_id, n FROM spend WHERE customer_id = 2;"); got != "2 1\n" {
		t.Fatalf("customer 2: %q", got)
	}
}

// pullSorted runs a pull query and returns its rows, one per line, sorted.
func pullSorted(t *testing.T, eng *sluice.Engine, q string) string {
	t.Helper()
	return querySorted(t, eng.Query, q)
}

// querySorted runs a query with query (an Engine's or a Session's Query)
// and returns its rows, one per line, sorted.
func querySorted(t *testing.T, query func(context.Context, string) (*sluice.Rows, error), q string) string {
	t.Helper()
	rows, err := query(testCtx(t), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		lines = append(lines, strings.TrimSuffix(fmt.Sprintln(rows.Row().Values...), "\n"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
