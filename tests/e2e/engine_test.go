package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice"
)

// The seed's first step: a transactions stream filtered and projected into
// a new topic by a persistent query, fed by an external Kafka producer.
func TestFilterProjectIntoTopic(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `
		CREATE STREAM transactions (tx_id BIGINT KEY, customer_id INT, amount DOUBLE, currency STRING)
		  WITH (KAFKA_TOPIC='transactions', FORMAT='JSON', PARTITIONS=3);
		SET 'auto.offset.reset'='earliest';`)
	cl := client(t, eng.KafkaAddrs())
	for i := 1; i <= 30; i++ {
		produce(t, cl, "transactions", fmt.Sprint(i), fmt.Sprintf(`{"customer_id": %d, "amount": %d.5, "currency": "%s"}`,
			i%7, i*10, []string{"EUR", "USD"}[i%2]))
	}
	s := eng.NewSession()
	if _, err := s.Exec(testCtx(t), `SET 'auto.offset.reset'='earliest';
		CREATE STREAM big_eur WITH (KAFKA_TOPIC='big_eur') AS
		  SELECT tx_id, customer_id, amount * 2 AS doubled FROM transactions
		  WHERE currency = 'EUR' AND amount > 100 EMIT CHANGES;`); err != nil {
		t.Fatal(err)
	}
	// Even i are EUR; amount = 10i+0.5 > 100 means i >= 10: 10,12,...,30.
	recs := readTopic(t, eng.KafkaAddrs(), "big_eur", 11, 20*time.Second)
	if len(recs) != 11 {
		t.Fatalf("got %d output records, want 11", len(recs))
	}
	vals := values(t, recs, "DOUBLED")
	for k, v := range vals {
		i := 10 + 2*k
		if v["DOUBLED"] != float64(i*10)*2+1 || v["CUSTOMER_ID"] != float64(i%7) || len(v) != 2 {
			t.Errorf("record %d = %v, want CUSTOMER_ID=%d DOUBLED=%v", k, v, i%7, float64(i*10)*2+1)
		}
	}
	for _, r := range recs {
		if string(r.Key) == "" {
			t.Errorf("output record lost its key: %v", r)
		}
	}
}

// Bad records are skipped and counted; good records around them are not lost.
func TestBadRecordsAreSkippedAndCounted(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `CREATE STREAM s (id INT, v INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);`)
	cl := client(t, eng.KafkaAddrs())
	produce(t, cl, "s", "", `{"id": 1, "v": 10}`)
	produce(t, cl, "s", "", `{"id": 2, "v": `) // broken JSON
	produce(t, cl, "s", "", `{"id": 3, "v": "not a number"}`)
	produce(t, cl, "s", "", `{"id": 4, "v": 40}`)
	s := eng.NewSession()
	if _, err := s.Exec(testCtx(t), `SET 'auto.offset.reset'='earliest';
		CREATE STREAM out AS SELECT id, v FROM s;`); err != nil {
		t.Fatal(err)
	}
	recs := readTopic(t, eng.KafkaAddrs(), "OUT", 2, 20*time.Second)
	got := values(t, recs, "ID")
	if len(got) != 2 || got[0]["ID"] != 1.0 || got[1]["ID"] != 4.0 {
		t.Fatalf("output = %v, want ids 1 and 4", got)
	}
	rows, err := eng.Query(testCtx(t), `DESCRIBE s EXTENDED;`)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for rows.Next() {
		fmt.Fprintln(&text, rows.Row().Values...)
	}
	if !strings.Contains(text.String(), "decode-errors: 2") {
		t.Errorf("DESCRIBE EXTENDED does not count the 2 bad records:\n%s", text.String())
	}
}

// Bad SQL gets an *sluice.Error with a SQLSTATE and a position, and the
// engine keeps serving.
func TestBadSQL(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `CREATE STREAM s (id INT, v INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);`)
	for _, c := range []struct {
		sql, code string
		line, col int
	}{
		{"SELECT nope FROM s EMIT CHANGES;", "42703", 1, 8},
		{"SELECT id FROM missing EMIT CHANGES;", "42P01", 1, 16},
		{"SELECT id FROM s WHERE EMIT CHANGES;", "42601", 1, 0},
		{"CREATE STREAM s (id INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');", "42P07", 1, 15},
		{"CREATE STREAM t2 (id INT) WITH (KAFKA_TOPIC='no_such_topic', VALUE_FORMAT='JSON');", "42704", 0, 0},
	} {
		_, err := eng.Query(testCtx(t), c.sql)
		var se *sluice.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v is not a *sluice.Error", c.sql, err)
			continue
		}
		if se.Code != c.code {
			t.Errorf("%s: code %s, want %s (%v)", c.sql, se.Code, c.code, se)
		}
		if c.line > 0 && (se.Pos.Line != c.line || (c.col > 0 && se.Pos.Col != c.col)) {
			t.Errorf("%s: position %v, want line %d col %d", c.sql, se.Pos, c.line, c.col)
		}
	}
	// Nothing half-created, and the engine still works.
	if _, ok := eng.Source("T2"); ok {
		t.Error("a failed CREATE STREAM left a catalog entry behind")
	}
	mustExec(t, eng, `INSERT INTO s (id, v) VALUES (1, 2);`)
}

// A push query streams rows as they arrive and ends at its LIMIT.
func TestPushQueryLimit(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	mustExec(t, eng, `CREATE STREAM s (id INT, name STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=2);`)
	rows, err := eng.Query(testCtx(t), `SELECT id, UCASE(name) AS upper_name FROM s WHERE id > 1 EMIT CHANGES LIMIT 2;`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if cols := rows.Columns(); len(cols) != 2 || cols[0].Name != "ID" || cols[1].Name != "UPPER_NAME" {
		t.Fatalf("columns = %+v", cols)
	}
	go func() {
		// The query starts at the latest offsets; rows inserted now reach it.
		time.Sleep(300 * time.Millisecond)
		for i := 1; i <= 4; i++ {
			if _, err := eng.Exec(testCtx(t), fmt.Sprintf(`INSERT INTO s (id, name) VALUES (%d, 'n%d');`, i, i)); err != nil {
				t.Error(err)
			}
		}
	}()
	var got []string
	for rows.Next() {
		got = append(got, fmt.Sprintln(rows.Row().Values...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d rows (%v), want 2 (LIMIT 2)", len(got), got)
	}
	for _, g := range got {
		if g != "2 N2\n" && g != "3 N3\n" && g != "4 N4\n" {
			t.Errorf("unexpected row %q", g)
		}
	}
}
