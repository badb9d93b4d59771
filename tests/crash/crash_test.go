package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	customers    = 1000
	transactions = 50000
	kills        = 5
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is a `sluice serve` child process.
type server struct {
	t                  *testing.T
	bin, dir, pg, kafk string
	cmd                *exec.Cmd
	log                *os.File
}

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "serve", "--data-dir", s.dir, "--pg-addr", s.pg, "--kafka-addr", s.kafk)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", s.pg); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("sluice serve did not listen on %s; log in %s", s.pg, s.log.Name())
}

func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
}

func (s *server) psql(sql string) {
	s.t.Helper()
	host, port, _ := net.SplitHostPort(s.pg)
	out, err := exec.Command("psql", "-h", host, "-p", port, "-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput()
	if err != nil {
		s.t.Fatalf("psql %q: %v\n%s", sql, err, out)
	}
}

func TestSIGKILLNeitherLosesNorDuplicates(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		if os.Getenv("SLUICE_REQUIRE_CLIENTS") != "" {
			t.Fatal("psql is required (SLUICE_REQUIRE_CLIENTS is set)")
		}
		t.Skip("psql not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sluice")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sluicedb/sluice/cmd/sluice").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	s := &server{t: t, bin: bin, dir: filepath.Join(dir, "data"), pg: freePort(t), kafk: freePort(t), log: logf}
	s.start()
	defer func() { s.kill() }()

	s.psql(`CREATE STREAM tx (id BIGINT KEY, customer_id INT, amount DOUBLE)
	          WITH (KAFKA_TOPIC='tx', FORMAT='JSON', PARTITIONS=2);
	        CREATE TABLE customers (id INT PRIMARY KEY, name STRING)
	          WITH (KAFKA_TOPIC='customers', FORMAT='JSON', PARTITIONS=2);`)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafk), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for c := 0; c < customers; c++ {
		cl.Produce(ctx, &kgo.Record{Topic: "customers", Key: []byte(fmt.Sprint(c)),
			Value: []byte(fmt.Sprintf(`{"name": "customer-%d"}`, c)), Timestamp: time.UnixMilli(int64(c))}, nil)
	}
	for i := 0; i < transactions; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "tx", Key: []byte(fmt.Sprint(i)),
			Value:     []byte(fmt.Sprintf(`{"customer_id": %d, "amount": %d.5}`, i%customers, i)),
			Timestamp: time.UnixMilli(int64(customers + i))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	s.psql(`SET 'auto.offset.reset'='earliest';
	        CREATE STREAM enriched AS
	          SELECT t.customer_id AS cid, t.id AS tx_id, c.name AS name, t.amount AS amount
	          FROM tx t LEFT JOIN customers c ON t.customer_id = c.id;`)

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(200+rng.Intn(1500)) * time.Millisecond)
		s.kill()
		s.start()
	}

	// Read the output until every transaction has arrived (or time runs out).
	rd, err := kgo.NewClient(kgo.SeedBrokers(s.kafk), kgo.ConsumeTopics("ENRICHED"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	seen := make(map[int64]int, transactions)
	total := 0
	bad := 0
	readCtx, readCancel := context.WithTimeout(ctx, 3*time.Minute)
	defer readCancel()
	handle := func(r *kgo.Record) {
		var v struct {
			TxID   int64 `json:"TX_ID"`
			Name   *string
			Amount float64
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			bad++
			return
		}
		id := v.TxID
		total++
		seen[id]++
		// The output is keyed by the join key, the customer id.
		if string(r.Key) != fmt.Sprint(id%customers) || v.Amount != float64(id)+0.5 ||
			(v.Name != nil && *v.Name != fmt.Sprintf("customer-%d", id%customers)) {
			bad++
		}
	}
	for len(seen) < transactions && readCtx.Err() == nil {
		rd.PollFetches(readCtx).EachRecord(handle)
	}
	// Anything more that is there now would be a duplicate.
	tail, tailCancel := context.WithTimeout(ctx, 2*time.Second)
	rd.PollFetches(tail).EachRecord(handle)
	tailCancel()

	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups += n - 1
		}
	}
	t.Logf("%d transactions, %d kills: %d output records, %d distinct, %d duplicates, %d wrong", transactions, kills, total, len(seen), dups, bad)
	if len(seen) != transactions || total != transactions || bad != 0 {
		log, _ := os.ReadFile(s.log.Name())
		lines := strings.Split(string(log), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		t.Fatalf("want exactly one correct output per transaction; server log tail:\n%s", strings.Join(lines, "\n"))
	}
}
