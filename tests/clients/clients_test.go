package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/server"
)

// requireBinary returns the path of a client program, skipping the test
// when it is missing unless SLUICE_REQUIRE_CLIENTS is set.
func requireBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("SLUICE_REQUIRE_CLIENTS") != "" {
		t.Fatalf("%s is not installed and SLUICE_REQUIRE_CLIENTS is set: apt-get install -y %s", name, pkg)
	}
	t.Skipf("%s is not installed (apt-get install -y %s); set SLUICE_REQUIRE_CLIENTS=1 to fail instead of skipping", name, pkg)
	return ""
}

// testWriter sends engine and server logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sessionWatcher receives the server's debug log and signals each session
// start, so a test knows when psql is connected.
type sessionWatcher struct{ started chan struct{} }

func (w sessionWatcher) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`msg="session started"`)) {
		select {
		case w.started <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// stack is an engine with the embedded broker and a Postgres server, both
// on free loopback ports.
type stack struct {
	kafka    string // broker address for kcat
	pgHost   string
	pgPort   string
	sessions chan struct{} // receives when a Postgres session starts
}

func startStack(t *testing.T, ctx context.Context) *stack {
	t.Helper()
	return startStackWith(t, ctx, server.Config{})
}

// startStackWith is startStack with a server configuration (address and
// logger are set here).
func startStackWith(t *testing.T, ctx context.Context, cfg server.Config) *stack {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := sluice.Open(ctx,
		sluice.WithDataDir(t.TempDir()),
		sluice.WithKafkaAddr("127.0.0.1:0"),
		sluice.WithLogger(logger),
	)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	sessions := make(chan struct{}, 1)
	srvLogger := slog.New(slog.NewTextHandler(sessionWatcher{sessions}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Addr, cfg.Logger = "127.0.0.1:0", srvLogger
	srv := server.New(server.Adapt(eng), cfg)
	if err := srv.Listen(); err != nil {
		eng.Close()
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	t.Cleanup(func() {
		// The order serve uses: sessions first, then the engine.
		srv.Close()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := eng.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	host, port, err := net.SplitHostPort(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	addrs := eng.KafkaAddrs()
	if len(addrs) == 0 {
		t.Fatal("engine reports no Kafka address")
	}
	return &stack{kafka: addrs[0], pgHost: host, pgPort: port, sessions: sessions}
}

// psqlCmd builds a psql invocation against the stack: no psqlrc, stop at the
// first error, unaligned output without headers or footers (so stdout holds
// just the rows, "|"-separated), quiet (no command tags).
func (s *stack) psqlCmd(ctx context.Context, bin string, args ...string) *exec.Cmd {
	base := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", s.pgHost, "-p", s.pgPort, "-U", "sluice", "-d", "sluice"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGAPPNAME=sluice-client-test",
		"PGSSLMODE=prefer", "PAGER=", "PSQL_PAGER=", "PGPASSWORD=")
	return cmd
}

type result struct {
	stdout, stderr string
	err            error
}

func run(cmd *exec.Cmd, stdin string) result {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return result{out.String(), errb.String(), err}
}

func (r result) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// TestPsqlAndKcat is the tour a new user takes: produce JSON with kcat,
// declare a stream and a persistent query in psql, read the query's output
// topic with kcat, watch a push query in psql, and make a mistake.
func TestPsqlAndKcat(t *testing.T) {
	psql := requireBinary(t, "psql", "postgresql-client")
	kcat := requireBinary(t, "kcat", "kcat")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startStack(t, ctx)

	// Declare the source stream first, so the engine creates its topic
	// with one partition and the order of records is total.
	r := run(s.psqlCmd(ctx, psql, "-c",
		"CREATE STREAM orders (id INT, item STRING, qty INT) "+
			"WITH (kafka_topic='orders', value_format='JSON', partitions=1);"), "")
	if r.err != nil {
		t.Fatalf("CREATE STREAM: %v", r)
	}

	input := `{"id":1,"item":"apple","qty":3}
{"id":2,"item":"pear","qty":1}
{"id":3,"item":"plum","qty":5}
{"id":4,"item":"fig","qty":2}
`
	r = run(exec.CommandContext(ctx, kcat, "-P", "-b", s.kafka, "-t", "orders"), input)
	if r.err != nil {
		t.Fatalf("kcat -P: %v", r)
	}

	// SET applies to the later statements of the same session: psql runs
	// each -c in the one connection.
	r = run(s.psqlCmd(ctx, psql,
		"-c", "SET 'auto.offset.reset'='earliest';",
		"-c", "CREATE STREAM big_orders WITH (kafka_topic='big_orders', value_format='JSON', partitions=1) AS "+
			"SELECT id, item, qty * 10 AS units FROM orders WHERE qty > 1 EMIT CHANGES;"), "")
	if r.err != nil {
		t.Fatalf("CREATE STREAM AS SELECT: %v", r)
	}

	r = run(exec.CommandContext(ctx, kcat, "-C", "-b", s.kafka, "-t", "big_orders",
		"-o", "beginning", "-c", "3", "-f", "%s\n", "-q"), "")
	if r.err != nil {
		t.Fatalf("kcat -C: %v", r)
	}
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("output record %q is not a JSON object: %v", line, err)
		}
		got = append(got, v)
	}
	want := []map[string]any{
		{"ID": 1.0, "ITEM": "apple", "UNITS": 30.0},
		{"ID": 3.0, "ITEM": "plum", "UNITS": 50.0},
		{"ID": 4.0, "ITEM": "fig", "UNITS": 20.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("big_orders records:\n got %v\nwant %v", got, want)
	}

	// A push query: rows are printed when LIMIT ends it (psql prints a
	// result once it is complete).
	r = run(s.psqlCmd(ctx, psql,
		"-c", "SET 'auto.offset.reset'='earliest';",
		"-c", "SELECT id, item FROM orders EMIT CHANGES LIMIT 3;"), "")
	if r.err != nil {
		t.Fatalf("push query: %v", r)
	}
	if got, want := strings.TrimSpace(r.stdout), "1|apple\n2|pear\n3|plum"; got != want {
		t.Errorf("push query printed:\n%s\nwant:\n%s", got, want)
	}

	// A mistake shows its SQLSTATE and where it is; the server lives on.
	r = run(s.psqlCmd(ctx, psql, "-c", `\set VERBOSITY verbose`, "-c", "SELEC id FROM orders;"), "")
	if r.err == nil || !strings.Contains(r.stderr, "ERROR:  42601: ") || !strings.Contains(r.stderr, "LINE 1: SELEC id FROM orders;") {
		t.Errorf("bad SQL: want psql to fail with a 42601 error pointing into line 1; got %v", r)
	}
	r = run(s.psqlCmd(ctx, psql, "-c", "SHOW STREAMS;"), "")
	if r.err != nil || !strings.Contains(r.stdout, "ORDERS") || !strings.Contains(r.stdout, "BIG_ORDERS") {
		t.Errorf("SHOW STREAMS after the error: want both streams listed; got %v", r)
	}
}

// TestPsqlCancelsAPushQuery interrupts psql during an endless push query:
// psql sends a CancelRequest on SIGINT, and the server ends the query with
// 57014 and keeps the session usable.
func TestPsqlCancelsAPushQuery(t *testing.T) {
	psql := requireBinary(t, "psql", "postgresql-client")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := startStack(t, ctx)

	r := run(s.psqlCmd(ctx, psql, "-c",
		"CREATE STREAM ticks (n INT) WITH (kafka_topic='ticks', value_format='JSON', partitions=1);"), "")
	if r.err != nil {
		t.Fatalf("CREATE STREAM: %v", r)
	}
	cmd := s.psqlCmd(ctx, psql, "-c", "SELECT n FROM ticks EMIT CHANGES;")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	for len(s.sessions) > 0 {
		<-s.sessions // from the CREATE STREAM's session
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.sessions:
	case <-ctx.Done():
		t.Fatal("psql never connected")
	}
	// psql sends its Query right after startup. A cancel that lands while
	// the session is still idle is dropped (as in Postgres), so leave the
	// query a moment to start.
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if err == nil || !strings.Contains(errb.String(), "canceling statement due to user request") {
		t.Errorf("psql after SIGINT: err=%v stderr=%q; want the query canceled", err, errb.String())
	}
	r = run(s.psqlCmd(ctx, psql, "-c", "SHOW STREAMS;"), "")
	if r.err != nil || !strings.Contains(r.stdout, "TICKS") {
		t.Errorf("server after the cancel: %v", r)
	}
}

// TestPsqlPushQueryOverJoin watches a stream-table join from psql: the
// stream is keyed by another column than the join key, so the push query
// re-keys it in place.
func TestPsqlPushQueryOverJoin(t *testing.T) {
	psql := requireBinary(t, "psql", "postgresql-client")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := startStack(t, ctx)
	r := run(s.psqlCmd(ctx, psql,
		"-c", "CREATE STREAM tx (tx_id BIGINT KEY, customer_id INT, amount DOUBLE) "+
			"WITH (kafka_topic='tx', format='JSON', partitions=3);",
		"-c", "CREATE TABLE customers (id INT PRIMARY KEY, name STRING) "+
			"WITH (kafka_topic='customers', format='JSON', partitions=3);",
		"-c", "INSERT INTO customers (id, name, ROWTIME) VALUES (7, 'Ada', 1);",
		"-c", "INSERT INTO customers (id, name, ROWTIME) VALUES (8, 'Bo', 1);",
		"-c", "INSERT INTO tx (tx_id, customer_id, amount, ROWTIME) VALUES (1, 7, 250.0, 10);",
		"-c", "INSERT INTO tx (tx_id, customer_id, amount, ROWTIME) VALUES (2, 9, 120.0, 11);",
		"-c", "INSERT INTO tx (tx_id, customer_id, amount, ROWTIME) VALUES (3, 8, 20.0, 12);"), "")
	if r.err != nil {
		t.Fatalf("setup: %v", r)
	}
	r = run(s.psqlCmd(ctx, psql,
		"-c", "SET 'auto.offset.reset'='earliest';",
		"-c", "SELECT t.tx_id, c.name, t.amount FROM tx t JOIN customers c ON t.customer_id = c.id EMIT CHANGES LIMIT 2;"), "")
	if r.err != nil {
		t.Fatalf("push query over a join: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	sort.Strings(lines)
	if got, want := strings.Join(lines, "\n"), "1|Ada|250\n3|Bo|20"; got != want {
		t.Errorf("push query over a join printed:\n%s\nwant:\n%s", got, want)
	}
}
