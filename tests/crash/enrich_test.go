package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestEnrichmentSurvivesSIGKILL is issue #5's crash test: the seed's
// enrichment pipeline (a stream of transactions LEFT JOIN a table of
// customers, the stream re-keyed by customer through a repartition topic)
// over 1M transactions and 10k customers, the engine SIGKILLed at random
// moments at least 5 times and restarted each time. The output, read with
// read_committed, must hold exactly one correct enriched record per
// transaction.
func TestEnrichmentSurvivesSIGKILL(t *testing.T) {
	needPsql(t)
	transactions := scale(t, "SLUICE_CRASH_RECORDS", 1_000_000)
	kills := scale(t, "SLUICE_CRASH_KILLS", 5)
	const customers = 10_000
	began := time.Now()
	s := newServer(t)
	s.start()

	s.psql(`CREATE STREAM tx (id BIGINT KEY, customer_id INT, amount DOUBLE)
	          WITH (KAFKA_TOPIC='tx', FORMAT='JSON', PARTITIONS=2);
	        CREATE TABLE customers (id INT PRIMARY KEY, name STRING)
	          WITH (KAFKA_TOPIC='customers', FORMAT='JSON', PARTITIONS=2);`)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s.produce(ctx, customers, func(c int) *kgo.Record {
		return &kgo.Record{Topic: "customers", Key: []byte(fmt.Sprint(c)),
			Value: []byte(fmt.Sprintf(`{"name": "customer-%d"}`, c)), Timestamp: time.UnixMilli(int64(c))}
	})
	s.produce(ctx, transactions, func(i int) *kgo.Record {
		return &kgo.Record{Topic: "tx", Key: []byte(fmt.Sprint(i)),
			Value:     []byte(fmt.Sprintf(`{"customer_id": %d, "amount": %d.5}`, i%customers, i)),
			Timestamp: time.UnixMilli(int64(customers + i))}
	})
	produced := time.Now()

	s.psql(`SET 'auto.offset.reset'='earliest';
	        CREATE STREAM enriched AS
	          SELECT t.customer_id AS cid, t.id AS tx_id, c.name AS name, t.amount AS amount
	          FROM tx t LEFT JOIN customers c ON t.customer_id = c.id;`)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	s.crashes(ctx, rng, "ENRICHED", int64(transactions), kills)

	seen := make([]uint8, transactions)
	total, distinct, bad, unmatched := 0, 0, 0, 0
	handle := func(r *kgo.Record) {
		var v struct {
			TxID   int64 `json:"TX_ID"`
			Name   *string
			Amount float64
		}
		total++
		if err := json.Unmarshal(r.Value, &v); err != nil || v.TxID < 0 || v.TxID >= int64(transactions) {
			bad++
			return
		}
		id := v.TxID
		if seen[id]++; seen[id] == 1 {
			distinct++
		}
		// The output is keyed by the join key, the customer id.
		cid := id % customers
		switch {
		case string(r.Key) != fmt.Sprint(cid) || v.Amount != float64(id)+0.5:
			bad++
		case v.Name == nil:
			unmatched++
		case *v.Name != fmt.Sprintf("customer-%d", cid):
			bad++
		}
	}
	s.reader("ENRICHED").until(ctx, handle, func() bool { return distinct == transactions })
	done := time.Now()

	t.Logf("%d transactions, %d customers, %d kills: %d output records, %d distinct, %d lost, %d duplicated, %d wrong, %d without their customer",
		transactions, customers, kills, total, distinct, transactions-distinct, total-distinct-bad, bad, unmatched)
	t.Logf("produce %.1fs, process with kills and read back %.1fs (%.0f records/s)",
		produced.Sub(began).Seconds(), done.Sub(produced).Seconds(), float64(transactions)/done.Sub(produced).Seconds())
	if distinct != transactions || total != transactions || bad != 0 || unmatched != 0 {
		t.Fatalf("want exactly one correct enriched output per transaction; server log tail:\n%s", s.logTail())
	}
}
