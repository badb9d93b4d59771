package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// A push query that groups a multi-partition stream by a column that is
// not its key needs no repartition topic: it runs as one task over every
// partition, so each group is counted once, whatever partition its rows
// arrive on. A push query with PARTITION BY re-keys its rows in place.
func TestPushQueriesThatRekey(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM orders (id INT KEY, region STRING, amount INT)
		  WITH (KAFKA_TOPIC='orders', FORMAT='JSON', PARTITIONS=3);`)
	cl := client(t, eng.KafkaAddrs())
	// Ids spread the rows over the three partitions.
	for id := 1; id <= 9; id++ {
		region := []string{"eu", "us", "ap"}[id%3]
		produce(t, cl, "orders", fmt.Sprint(id), fmt.Sprintf(`{"region": %q, "amount": %d}`, region, id))
	}
	s := eng.NewSession()
	if _, err := s.Exec(testCtx(t), `SET 'auto.offset.reset'='earliest';`); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(testCtx(t), `SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY region EMIT CHANGES LIMIT 9;`)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for rows.Next() {
		v := rows.Row().Values
		last[fmt.Sprint(v[0])] = fmt.Sprint(v[1:]...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// eu: ids 3, 6, 9; us: 1, 4, 7; ap: 2, 5, 8.
	if want := map[string]string{"eu": "3 18", "us": "3 12", "ap": "3 15"}; fmt.Sprint(last) != fmt.Sprint(want) {
		t.Errorf("final counts per region = %v, want %v", last, want)
	}

	rows, err = s.Query(testCtx(t), `SELECT region, id FROM orders PARTITION BY region EMIT CHANGES LIMIT 9;`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		got = append(got, strings.TrimSpace(fmt.Sprintln(rows.Row().Values...)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if want := "ap 2,ap 5,ap 8,eu 3,eu 6,eu 9,us 1,us 4,us 7"; strings.Join(got, ",") != want {
		t.Errorf("PARTITION BY rows = %v, want %s", got, want)
	}
}
