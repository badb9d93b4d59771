package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
)

// Aggregations over joins: a stream-table join summed per table column
// (the groups live in other partitions than the join keys, so the join
// stage writes to the aggregation's repartition topic), a stream-stream
// join with Nexmark q4's shape (MAX per auction, filtered by the auction's
// lifetime), and a table-table join whose updates retract their old
// contribution from the aggregate.
func TestAggregationOverJoins(t *testing.T) {
	eng := openEngine(t, t.TempDir(), sluice.WithManualDrive())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM tx (tx_id BIGINT KEY, customer_id INT, amount DOUBLE)
		  WITH (KAFKA_TOPIC='tx', FORMAT='JSON', PARTITIONS=3);
		CREATE TABLE customers (id INT PRIMARY KEY, tier STRING)
		  WITH (KAFKA_TOPIC='customers', FORMAT='JSON', PARTITIONS=3);
		CREATE STREAM auction (id BIGINT KEY, category INT, starts BIGINT, expires BIGINT)
		  WITH (KAFKA_TOPIC='auction', FORMAT='JSON', PARTITIONS=2);
		CREATE STREAM bid (auction BIGINT, price INT, at BIGINT)
		  WITH (KAFKA_TOPIC='bid', FORMAT='JSON', PARTITIONS=2);
		CREATE TABLE accounts (id INT PRIMARY KEY, region STRING)
		  WITH (KAFKA_TOPIC='accounts', FORMAT='JSON', PARTITIONS=2);
		CREATE TABLE balances (id INT PRIMARY KEY, balance INT)
		  WITH (KAFKA_TOPIC='balances', FORMAT='JSON', PARTITIONS=2);
		SET 'auto.offset.reset'='earliest';
		CREATE TABLE spend_by_tier AS
		  SELECT c.tier AS tier, COUNT(*) AS n, SUM(t.amount) AS total
		  FROM tx t JOIN customers c ON t.customer_id = c.id
		  GROUP BY c.tier EMIT CHANGES;
		CREATE TABLE max_bid AS
		  SELECT a.id AS id, a.category AS category, MAX(b.price) AS final_price
		  FROM auction a JOIN bid b WITHIN (0 SECONDS, 10 SECONDS) ON a.id = b.auction
		  WHERE b.at BETWEEN a.starts AND a.expires
		  GROUP BY a.id, a.category EMIT CHANGES;
		CREATE TABLE balance_by_region AS
		  SELECT a.region AS region, SUM(b.balance) AS total
		  FROM accounts a JOIN balances b ON a.id = b.id
		  GROUP BY a.region EMIT CHANGES;`)
	cl := client(t, eng.KafkaAddrs())
	produce(t, cl, "customers", "1", `{"tier": "gold"}`)
	produce(t, cl, "customers", "2", `{"tier": "silver"}`)
	produce(t, cl, "customers", "3", `{"tier": "gold"}`)
	produceAt(t, cl, "auction", "10", `{"category": 7, "starts": 1000, "expires": 5000}`, 1000)
	produceAt(t, cl, "auction", "11", `{"category": 8, "starts": 1000, "expires": 3000}`, 1000)
	produce(t, cl, "accounts", "1", `{"region": "eu"}`)
	produce(t, cl, "accounts", "2", `{"region": "us"}`)
	produce(t, cl, "balances", "1", `{"balance": 10}`)
	produce(t, cl, "balances", "2", `{"balance": 20}`)
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		cust   int
		amount float64
	}{{1, 10}, {2, 5}, {3, 7}, {4, 100}, {1, 1}} {
		produce(t, cl, "tx", fmt.Sprint(i), fmt.Sprintf(`{"customer_id": %d, "amount": %v}`, r.cust, r.amount))
	}
	for _, b := range []struct {
		auction, price int
		at             int64
	}{{10, 5, 1500}, {10, 9, 2000}, {11, 4, 2500}, {11, 50, 3500}, {10, 7, 4000}, {12, 99, 2000}} {
		produceAt(t, cl, "bid", "", fmt.Sprintf(`{"auction": %d, "price": %d, "at": %d}`, b.auction, b.price, b.at), b.at)
	}
	// Account 1 moves to region us: its balance leaves eu's total.
	produce(t, cl, "accounts", "1", `{"region": "us"}`)
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := pullSorted(t, eng, "SELECT tier, n, total FROM spend_by_tier;"), "gold 3 18\nsilver 1 5\n"; got != want {
		t.Errorf("spend_by_tier:\n%s\nwant:\n%s", got, want)
	}
	// Auction 11's bid at 3500 is after it expired; bid 12 has no auction.
	if got, want := pullSorted(t, eng, "SELECT id, category, final_price FROM max_bid;"), "10 7 9\n11 8 4\n"; got != want {
		t.Errorf("max_bid:\n%s\nwant:\n%s", got, want)
	}
	if got, want := pullSorted(t, eng, "SELECT region, total FROM balance_by_region;"), "eu 0\nus 30\n"; got != want {
		t.Errorf("balance_by_region:\n%s\nwant:\n%s", got, want)
	}
}

// Push queries over joins: the enrichment of the README, whose stream side
// is keyed by another column than the join key (re-keyed in place: a push
// query creates no topics and runs one task over every partition), and an
// aggregation over it.
func TestPushQueriesOverJoins(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM tx (tx_id BIGINT KEY, customer_id INT, amount DOUBLE)
		  WITH (KAFKA_TOPIC='tx', FORMAT='JSON', PARTITIONS=3);
		CREATE TABLE customers (id INT PRIMARY KEY, name STRING, tier STRING)
		  WITH (KAFKA_TOPIC='customers', FORMAT='JSON', PARTITIONS=3);`)
	cl := client(t, eng.KafkaAddrs())
	produceAt(t, cl, "customers", "7", `{"name": "Ada", "tier": "gold"}`, 1)
	produceAt(t, cl, "customers", "8", `{"name": "Bo", "tier": "silver"}`, 1)
	for i, c := range []int{7, 8, 9, 7} {
		produceAt(t, cl, "tx", fmt.Sprint(i+1), fmt.Sprintf(`{"customer_id": %d, "amount": %d}`, c, 10*(i+1)), int64(10+i))
	}
	s := eng.NewSession()
	if _, err := s.Exec(testCtx(t), `SET 'auto.offset.reset'='earliest';`); err != nil {
		t.Fatal(err)
	}
	collect := func(q string) string {
		t.Helper()
		return querySorted(t, s.Query, q)
	}
	got := collect(`SELECT t.tx_id, c.name, t.amount FROM tx t JOIN customers c ON t.customer_id = c.id EMIT CHANGES LIMIT 3;`)
	if want := "1 Ada 10\n2 Bo 20\n4 Ada 40\n"; got != want {
		t.Errorf("join push query:\n%s\nwant:\n%s", got, want)
	}
	got = collect(`SELECT t.tx_id, c.name FROM tx t LEFT JOIN customers c ON t.customer_id = c.id EMIT CHANGES LIMIT 4;`)
	if want := "1 Ada\n2 Bo\n3 <nil>\n4 Ada\n"; got != want {
		t.Errorf("left join push query:\n%s\nwant:\n%s", got, want)
	}
	// Every update of the aggregate is a row: gold 1, silver 1, gold 2.
	got = collect(`SELECT c.tier, COUNT(*) AS n FROM tx t JOIN customers c ON t.customer_id = c.id GROUP BY c.tier EMIT CHANGES LIMIT 3;`)
	if want := "gold 1\ngold 2\nsilver 1\n"; got != want {
		t.Errorf("aggregation push query:\n%s\nwant:\n%s", got, want)
	}
}

// A stream re-keyed for a join must land in the partitions of the table
// it joins: the repartition topic's key is serialized in the table's key
// format (KAFKA here, 4-byte integers), not in a format of its own, or
// equal keys would hash to different partitions and most rows would miss
// their match.
func TestRekeyedJoinSideIsCoPartitioned(t *testing.T) {
	eng := openEngine(t, t.TempDir(), sluice.WithManualDrive())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM tx (tx_id BIGINT KEY, customer_id INT, amount DOUBLE)
		  WITH (KAFKA_TOPIC='tx', FORMAT='JSON', PARTITIONS=3);
		CREATE TABLE customers (id INT PRIMARY KEY, name STRING)
		  WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON', PARTITIONS=3);
		SET 'auto.offset.reset'='earliest';
		CREATE STREAM enriched AS
		  SELECT t.customer_id, t.tx_id, c.name FROM tx t JOIN customers c ON t.customer_id = c.id;`)
	const n = 40
	var script strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&script, "INSERT INTO customers (id, name, ROWTIME) VALUES (%d, 'c%d', 1);\n", i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&script, "INSERT INTO tx (tx_id, customer_id, amount, ROWTIME) VALUES (%d, %d, 1.0, 10);\n", 1000+i, i)
	}
	mustExec(t, eng, script.String())
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	got := values(t, readTopic(t, eng.KafkaAddrs(), "ENRICHED", n, 10*time.Second), "TX_ID")
	if len(got) != n {
		t.Fatalf("enriched %d of %d transactions", len(got), n)
	}
	for i, v := range got {
		if v["TX_ID"] != float64(1000+i) || v["NAME"] != fmt.Sprintf("c%d", i) {
			t.Errorf("record %d: %v, want TX_ID %d NAME c%d", i, v, 1000+i, i)
		}
	}
}

// Bad input to joins has defined, counted behaviour (issue 5): a stream
// row with a NULL join key is dropped (null-key-drops), a table tombstone
// for a key the table never had changes nothing (unknown-key-tombstones),
// and a stream-stream row older than the window's retention is dropped
// (late-records); none stops the query, and DESCRIBE EXTENDED shows the
// counts.
func TestJoinBadInputIsCounted(t *testing.T) {
	eng := openEngine(t, t.TempDir(), sluice.WithManualDrive())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM tx (tx_id BIGINT KEY, customer_id INT, amount DOUBLE)
		  WITH (KAFKA_TOPIC='tx', FORMAT='JSON', PARTITIONS=1);
		CREATE TABLE customers (id INT PRIMARY KEY, name STRING)
		  WITH (KAFKA_TOPIC='customers', FORMAT='JSON', PARTITIONS=1);
		CREATE STREAM clicks (user_id INT KEY, page STRING)
		  WITH (KAFKA_TOPIC='clicks', FORMAT='JSON', PARTITIONS=1);
		CREATE STREAM views (user_id INT KEY, ad STRING)
		  WITH (KAFKA_TOPIC='views', FORMAT='JSON', PARTITIONS=1);
		SET 'auto.offset.reset'='earliest';
		CREATE STREAM enriched AS
		  SELECT t.customer_id, t.tx_id, c.name FROM tx t LEFT JOIN customers c ON t.customer_id = c.id;
		CREATE STREAM clicked_ads AS
		  SELECT c.user_id, c.page, v.ad FROM clicks c
		  JOIN views v WITHIN 1 SECOND GRACE PERIOD 0 SECONDS ON c.user_id = v.user_id;`)
	cl := client(t, eng.KafkaAddrs())
	produceAt(t, cl, "customers", "1", `{"name": "Ada"}`, 1)
	// A tombstone for a key the table never had.
	if err := cl.ProduceSync(testCtx(t), &kgo.Record{Topic: "customers", Key: []byte("9")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	produceAt(t, cl, "tx", "100", `{"customer_id": 1, "amount": 5}`, 10)
	produceAt(t, cl, "tx", "101", `{"customer_id": null, "amount": 6}`, 11) // NULL join key
	produceAt(t, cl, "views", "7", `{"ad": "shoes"}`, 10_000)
	produceAt(t, cl, "clicks", "7", `{"page": "home"}`, 10_500)
	produceAt(t, cl, "clicks", "7", `{"page": "cart"}`, 12_500) // no view within 1s
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// Older than the clicks' window retention (1s + 1s + grace 0) behind
	// their latest time, 12.5s: dropped.
	produceAt(t, cl, "clicks", "7", `{"page": "old"}`, 1_000)
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := values(t, readTopic(t, eng.KafkaAddrs(), "ENRICHED", 1, 5*time.Second), "TX_ID"); len(got) != 1 || got[0]["NAME"] != "Ada" {
		t.Errorf("enriched: %v, want only transaction 100 joined to Ada", got)
	}
	var clicked []string
	for _, r := range readTopic(t, eng.KafkaAddrs(), "CLICKED_ADS", 2, 2*time.Second) {
		clicked = append(clicked, string(r.Value))
	}
	if want := `{"PAGE":"home","AD":"shoes"}`; len(clicked) != 1 || clicked[0] != want {
		t.Errorf("clicked_ads: %q, want only %s", clicked, want)
	}
	for source, want := range map[string]string{
		"tx":     "CSAS_ENRICHED_0 metrics records-in: 4, records-out: 1, decode-errors: 0, eval-errors: 0, late-records: 0, null-key-drops: 1, unknown-key-tombstones: 1",
		"clicks": "CSAS_CLICKED_ADS_1 metrics records-in: 4, records-out: 1, decode-errors: 0, eval-errors: 0, late-records: 1, null-key-drops: 0, unknown-key-tombstones: 0",
	} {
		if text := describe(t, eng, source); !strings.Contains(text, want) {
			t.Errorf("DESCRIBE %s EXTENDED lacks %q:\n%s", source, want, text)
		}
	}
}

// Windowed tables join on key and window: per user and second, the clicks
// of one windowed aggregation next to the views of another. A window of
// one side never meets another window of the other, and the result is
// keyed by the user and the window, in the first table's window type.
func TestWindowedTablesJoinOnKeyAndWindow(t *testing.T) {
	eng := openEngine(t, t.TempDir(), sluice.WithManualDrive())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM clicks (user_id STRING KEY, page STRING)
		  WITH (KAFKA_TOPIC='clicks', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE STREAM views (user_id STRING KEY, ad STRING)
		  WITH (KAFKA_TOPIC='views', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=2);
		SET 'auto.offset.reset'='earliest';
		CREATE TABLE clicks_per_sec AS SELECT user_id, COUNT(*) AS clicks FROM clicks
		  WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY user_id;
		CREATE TABLE views_per_sec AS SELECT user_id, COUNT(*) AS views FROM views
		  WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY user_id;
		CREATE TABLE ctr AS SELECT c.user_id, c.clicks, v.views
		  FROM clicks_per_sec c JOIN views_per_sec v ON c.user_id = v.user_id;`)
	cl := client(t, eng.KafkaAddrs())
	produceAt(t, cl, "views", "u1", `{"ad": "a"}`, 1000)
	produceAt(t, cl, "views", "u1", `{"ad": "b"}`, 1500)
	produceAt(t, cl, "views", "u1", `{"ad": "c"}`, 2100)
	produceAt(t, cl, "clicks", "u1", `{"page": "x"}`, 1200)
	produceAt(t, cl, "clicks", "u1", `{"page": "y"}`, 2500)
	produceAt(t, cl, "clicks", "u2", `{"page": "z"}`, 1300) // u2 has no views
	produceAt(t, cl, "views", "u3", `{"ad": "d"}`, 1300)    // u3 has no clicks
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// The latest result per windowed key (user bytes, then the window's
	// start as 8 bytes big-endian).
	latest := map[string]string{}
	for _, r := range readTopic(t, eng.KafkaAddrs(), "CTR", 100, 3*time.Second) {
		k := r.Key
		if len(k) < 8 {
			t.Fatalf("CTR key %q is not windowed", k)
		}
		start := int64(binary.BigEndian.Uint64(k[len(k)-8:]))
		latest[fmt.Sprintf("%s@%d", k[:len(k)-8], start)] = string(r.Value)
	}
	want := map[string]string{
		"u1@1000": `{"CLICKS":1,"VIEWS":2}`,
		"u1@2000": `{"CLICKS":1,"VIEWS":1}`,
	}
	if fmt.Sprint(latest) != fmt.Sprint(want) {
		t.Errorf("CTR by user and window: %v, want %v", latest, want)
	}
}

// A stream-table join's result depends on the order of its two topics'
// records. With both topics loaded before the query starts, each
// transaction must see the customer's version valid at its time (the
// latest update not after it), however the fetches of the two topics
// interleave: the stage's tasks wait for an input that has records in
// Kafka not fetched yet (joinorder.go) instead of running ahead of it.
// About 5 s.
func TestJoinOrderDoesNotDependOnFetchTiming(t *testing.T) {
	eng := openEngine(t, t.TempDir(), sluice.WithManualDrive())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM tx (tx_id BIGINT KEY, customer_id INT)
		  WITH (KAFKA_TOPIC='tx', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=1);
		CREATE TABLE customers (id INT PRIMARY KEY, name STRING)
		  WITH (KAFKA_TOPIC='customers', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=1);`)
	const customers, versions, txs = 100, 10, 20000
	cl := client(t, eng.KafkaAddrs())
	var recs []*kgo.Record
	for v := 0; v < versions; v++ {
		for c := 0; c < customers; c++ {
			recs = append(recs, &kgo.Record{Topic: "customers", Key: binary.BigEndian.AppendUint32(nil, uint32(c)),
				Value: []byte(fmt.Sprintf(`{"name": "c%dv%d"}`, c, v)), Timestamp: time.UnixMilli(int64(v*2000 + c*5))})
		}
	}
	for i := 0; i < txs; i++ {
		recs = append(recs, &kgo.Record{Topic: "tx", Key: binary.BigEndian.AppendUint64(nil, uint64(i)),
			Value: []byte(fmt.Sprintf(`{"customer_id": %d}`, i%customers)), Timestamp: time.UnixMilli(int64(i))})
	}
	if err := cl.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, eng, `
		SET 'auto.offset.reset'='earliest';
		CREATE STREAM enriched WITH (KEY_FORMAT='KAFKA') AS
		  SELECT t.customer_id, t.tx_id, c.name FROM tx t LEFT JOIN customers c ON t.customer_id = c.id;`)
	if err := eng.RunUntilIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	out := readTopic(t, eng.KafkaAddrs(), "ENRICHED", txs, 20*time.Second)
	if len(out) != txs {
		t.Fatalf("ENRICHED holds %d records, want %d", len(out), txs)
	}
	wrong := 0
	for _, r := range out {
		var v struct{ TX_ID int }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("value %q: %v", r.Value, err)
		}
		i := v.TX_ID
		c := i % customers
		want := fmt.Sprintf(`{"TX_ID":%d,"NAME":null}`, i)
		if i >= c*5 {
			want = fmt.Sprintf(`{"TX_ID":%d,"NAME":"c%dv%d"}`, i, c, min((i-c*5)/2000, versions-1))
		}
		if string(r.Value) != want {
			if wrong++; wrong <= 5 {
				t.Errorf("transaction %d at %d ms: %s, want %s", i, i, r.Value, want)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d transactions saw another customer version", wrong, txs)
	}
}
