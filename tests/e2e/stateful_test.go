package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

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

// Bad input to aggregations has defined, counted behaviour: a DECIMAL sum
// that overflows its type skips the row's update (eval-errors, with
// ksqlDB's "Numeric field overflow" as the last error), a NULL grouping
// key drops the row (null-key-drops), a record for a closed window is
// dropped (late-records); none stops the query, and DESCRIBE EXTENDED
// shows the counts and the state the queries keep.
func TestAggregateBadInputIsCounted(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM pay (id INT KEY, acct STRING, amount DECIMAL(4,1))
		  WITH (KAFKA_TOPIC='pay', FORMAT='JSON', PARTITIONS=1);
		SET 'auto.offset.reset'='earliest';
		CREATE TABLE totals AS SELECT acct, SUM(amount) AS total FROM pay GROUP BY acct;
		CREATE TABLE per_second AS SELECT acct, COUNT(*) AS n FROM pay
		  WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY acct;`)
	cl := client(t, eng.KafkaAddrs())
	produceAt(t, cl, "pay", "1", `{"acct": "a", "amount": 900.5}`, 10_000)
	produceAt(t, cl, "pay", "2", `{"acct": "a", "amount": 200.0}`, 10_100) // 1100.5 > DECIMAL(4,1)
	produceAt(t, cl, "pay", "3", `{"acct": null, "amount": 1.0}`, 10_200)  // NULL grouping key
	produceAt(t, cl, "pay", "4", `{"acct": "a", "amount": 0.5}`, 10_300)
	produceAt(t, cl, "pay", "5", `{"acct": "b", "amount": 2.0}`, 5_000) // window [5s, 6s) closed
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := pullSorted(t, eng, "SELECT acct, CAST(total AS STRING) FROM totals;"); got != "a 901.0\nb 2.0\n" {
		t.Errorf("totals:\n%s", got)
	}
	if got := pullSorted(t, eng, "SELECT acct, n FROM per_second;"); got != "a 3\n" {
		t.Errorf("per_second:\n%s", got)
	}
	text := describe(t, eng, "pay")
	for _, want := range []string{
		// totals: the overflow and the NULL key.
		// The overflowing row leaves the total as it was, which is emitted again.
		"CTAS_TOTALS_0 metrics records-in: 5, records-out: 4, decode-errors: 0, eval-errors: 1, late-records: 0, null-key-drops: 1, unknown-key-tombstones: 0, last-error: ",
		"Numeric field overflow: the sum exceeds DECIMAL(4, 1)",
		// per_second: the NULL key and the late record.
		"CTAS_PER_SECOND_1 metrics records-in: 5, records-out: 3, decode-errors: 0, eval-errors: 0, late-records: 1, null-key-drops: 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("DESCRIBE pay EXTENDED lacks %q:\n%s", want, text)
		}
	}
	for _, q := range []string{"CTAS_TOTALS_0", "CTAS_PER_SECOND_1"} {
		if !regexp.MustCompile(q + ` state\s+keys: [1-9]\d*, bytes: [1-9]\d*`).MatchString(text) {
			t.Errorf("DESCRIBE pay EXTENDED shows no state for %s:\n%s", q, text)
		}
	}
}

// describe returns DESCRIBE <source> EXTENDED as text, a row per line.
func describe(t *testing.T, eng *sluice.Engine, source string) string {
	t.Helper()
	return rowsText(t, eng.NewSession(), "DESCRIBE "+source+" EXTENDED;")
}

// A persistent query over a windowed stream writes each record with its
// window (Kafka Streams' time-window key: key bytes, then the start); a
// record whose windowed key is too short for its window is skipped and
// counted as a decode error.
func TestWindowedStreamCopyCountsMalformedKeys(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM ws (k STRING KEY, v INT)
		  WITH (KAFKA_TOPIC='ws', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=1,
		        WINDOW_TYPE='TUMBLING', WINDOW_SIZE='1 SECOND');
		SET 'auto.offset.reset'='earliest';
		CREATE STREAM copy AS SELECT * FROM ws;`)
	cl := client(t, eng.KafkaAddrs())
	windowed := func(k string, start int64) string {
		return k + string(binary.BigEndian.AppendUint64(nil, uint64(start)))
	}
	produce(t, cl, "ws", windowed("a", 2000), `{"v": 1}`)
	produce(t, cl, "ws", "abc", `{"v": 2}`) // 3 bytes: no room for the 8-byte window start
	produce(t, cl, "ws", windowed("b", 5000), `{"v": 3}`)
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	recs := readTopic(t, eng.KafkaAddrs(), "COPY", 2, 20*time.Second)
	if len(recs) != 2 || string(recs[0].Key) != windowed("a", 2000) || string(recs[1].Key) != windowed("b", 5000) ||
		string(recs[0].Value) != `{"V":1}` || string(recs[1].Value) != `{"V":3}` {
		t.Fatalf("COPY holds %v, want a@2000 {\"V\":1} and b@5000 {\"V\":3}", recs)
	}
	text := describe(t, eng, "ws")
	if !strings.Contains(text, "records-in: 3, records-out: 2, decode-errors: 1") ||
		!strings.Contains(text, "fewer than its 8-byte window") {
		t.Errorf("DESCRIBE ws EXTENDED does not count the malformed key:\n%s", text)
	}
}

// A pull query that pins the key (KEY = c, KEY IN (...)) reads those keys
// from the materialized stores, in the order the IN list names them, and
// never a key that merely starts with the same bytes; windowed tables
// return every window of the key.
func TestPullKeyLookups(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM clicks (user STRING KEY, page STRING)
		  WITH (KAFKA_TOPIC='clicks', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=3);
		SET 'auto.offset.reset'='earliest';
		CREATE TABLE per_user AS SELECT user, COUNT(*) AS n FROM clicks GROUP BY user;
		CREATE TABLE per_user_second AS SELECT user, COUNT(*) AS n FROM clicks
		  WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY user;`)
	cl := client(t, eng.KafkaAddrs())
	for i, u := range []string{"1", "10", "2", "1", "10", "1"} {
		produceAt(t, cl, "clicks", u, `{"page": "p"}`, int64(i)*400)
	}
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	sess := eng.NewSession()
	for _, c := range []struct{ q, want string }{
		{"SELECT user, n FROM per_user WHERE user = '1';", "1 3\n"},
		{"SELECT user, n FROM per_user WHERE user IN ('2', '10', '1', '10');", "2 1\n10 2\n1 3\n"},
		{"SELECT user, n FROM per_user WHERE user IN ('10', '3') AND n > 1;", "10 2\n"},
		{"SELECT user, n FROM per_user WHERE user = '3';", ""},
		{"SELECT user, WINDOWSTART, n FROM per_user_second WHERE user = '1';", "1 0 1\n1 1000 1\n1 2000 1\n"},
		{"SELECT user, WINDOWSTART, n FROM per_user_second WHERE user IN ('10', '2');", "10 0 1\n10 1000 1\n2 0 1\n"},
	} {
		if got := rowsText(t, sess, c.q); got != c.want {
			t.Errorf("%s\ngot:\n%swant:\n%s", c.q, got, c.want)
		}
	}
}
