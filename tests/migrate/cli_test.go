// Package migrate tests 'sluice migrate' end to end: it builds the real
// binary and runs it as a user would, on an embedded engine (--data-dir)
// and against a running 'sluice serve' (--server).
package migrate

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/migrate"
	"github.com/sluicedb/sluice/tests/internal/sluicebin"
)

var binary string

func TestMain(m *testing.M) { sluicebin.Main(m, &binary) }

// run runs the binary and returns its combined output and exit code.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), code
}

// ok runs the binary and fails the test unless it exits 0 and its output
// contains every want.
func ok(t *testing.T, want []string, args ...string) string {
	t.Helper()
	out, code := run(t, args...)
	if code != 0 {
		t.Fatalf("sluice %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("sluice %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// files are the migrations: streams and a table, a CSAS, INSERT VALUES,
// with comments, quotes and statements over several lines.
var files = map[string]string{
	"V000001__create_orders.sql": `-- The web shop's orders; a ; in a comment does not split.
CREATE STREAM orders (
  id INT KEY,
  customer_id INT,
  item STRING,
  amount DOUBLE
) WITH (KAFKA_TOPIC='orders_${env}', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE customers (id INT PRIMARY KEY, name STRING)
  WITH (KAFKA_TOPIC='customers_${env}', VALUE_FORMAT='JSON', PARTITIONS=2);
`,
	"V000002__large_orders.sql": `SET 'auto.offset.reset'='earliest';
DEFINE min_amount = '100';
CREATE STREAM large_orders AS
  SELECT id, item, amount FROM orders
  WHERE amount > ${min_amount} AND item <> 'x;y'
  EMIT CHANGES;
`,
	"V000003__seed.sql": `INSERT INTO orders (id, customer_id, item, amount) VALUES (1, 7, 'it''s; a book', 250.0);
INSERT INTO customers (id, name) VALUES (7, 'Ada');
`,
}

// project creates a project with new-project and create, then fills the
// files in.
func project(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	ok(t, []string{"Created migrations project"}, "migrate", "new-project", dir)
	if _, err := os.Stat(filepath.Join(dir, "ksql-migrations.properties")); err != nil {
		t.Fatal(err)
	}
	for _, desc := range []string{"create orders", "large orders", "seed"} {
		ok(t, []string{"Created "}, "migrate", "--dir", dir, "create", desc)
	}
	for name, text := range files {
		p := filepath.Join(dir, "migrations", name)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("create did not make %s: %v", name, err)
		}
		write(t, p, text)
	}
	return dir
}

func TestEmbedded(t *testing.T) {
	dir := project(t)
	g := []string{"migrate", "--dir", dir, "--data-dir", filepath.Join(t.TempDir(), "data")}
	cmd := func(args ...string) []string { return append(append([]string(nil), g...), args...) }

	ok(t, []string{"1       | create orders | PENDING"}, cmd("info")...)
	ok(t, []string{"Dry run: 3 migration(s)", "KAFKA_TOPIC='orders_test'", "WHERE amount > 100"}, cmd("apply", "--all", "--dry-run", "--define", "env=test")...)
	ok(t, []string{"Current migration version: <none>"}, cmd("info")...)

	ok(t, []string{"MIGRATED version 1", "the current version is 1"}, cmd("apply", "--next", "--define", "env=test")...)
	ok(t, []string{"MIGRATED version 2", "MIGRATED version 3", "the current version is 3"}, cmd("apply", "--all", "--define", "env=test")...)
	ok(t, []string{"Nothing to apply: the current version is 3."}, cmd("apply", "--all", "--define", "env=test")...)
	out := ok(t, []string{"Current migration version: 3 (MIGRATED)"}, cmd("info")...)
	if strings.Count(out, "MIGRATED") != 4 {
		t.Fatalf("info:\n%s", out)
	}
	ok(t, []string{"Validated"}, cmd("validate")...)

	// A failing migration names the file, the statement and the reason.
	bad := filepath.Join(dir, "migrations", "V000004__by_customer.sql")
	write(t, bad, "CREATE STREAM by_customer AS\n  SELECT id, custmer_id FROM orders EMIT CHANGES;\n")
	out, code := run(t, cmd("apply", "--all", "--define", "env=test")...)
	if code != 1 {
		t.Fatalf("failing apply: exit %d\n%s", code, out)
	}
	for _, w := range []string{"migrations/V000004__by_customer.sql:2:", "statement 1 of 1", "CUSTMER_ID", "SQLSTATE 42703"} {
		if !strings.Contains(out, w) {
			t.Fatalf("failing apply: output lacks %q:\n%s", w, out)
		}
	}
	ok(t, []string{"Current migration version: 4 (ERROR)", "| ERROR    |", "V000004__by_customer.sql"}, cmd("info")...)

	// The fix, and apply continues from there.
	write(t, bad, "CREATE STREAM by_customer AS\n  SELECT id, customer_id FROM orders EMIT CHANGES;\n")
	ok(t, []string{"MIGRATED version 4", "the current version is 4"}, cmd("apply", "--all", "--define", "env=test")...)

	// Editing an applied file is reported by validate.
	write(t, filepath.Join(dir, "migrations", "V000002__large_orders.sql"), files["V000002__large_orders.sql"]+"-- edited\n")
	out, code = run(t, cmd("validate")...)
	if code != 1 || !strings.Contains(out, "V000002__large_orders.sql was changed after it was applied") {
		t.Fatalf("validate after an edit: exit %d\n%s", code, out)
	}

	ok(t, []string{"Dropped the migration metadata"}, cmd("destroy-metadata")...)
	ok(t, []string{"Current migration version: <none>"}, cmd("info")...)

	// Usage errors exit 2.
	if out, code := run(t, "migrate", "--dir", dir, "info"); code != 2 || !strings.Contains(out, "--server") {
		t.Fatalf("no engine given: exit %d\n%s", code, out)
	}
	if out, code := run(t, cmd("apply")...); code != 2 || !strings.Contains(out, "--all") {
		t.Fatalf("apply without a target: exit %d\n%s", code, out)
	}
}

// TestServerConcurrentAppliers runs 'sluice serve' and two 'sluice migrate
// apply' processes against it at once: one applies, the other waits for it
// and finds nothing to do; every version is applied exactly once.
func TestServerConcurrentAppliers(t *testing.T) {
	dir := project(t)
	pg, kafka := sluicebin.FreeAddr(t), sluicebin.FreeAddr(t)
	srv := exec.Command(binary, "serve", "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--pg-addr", pg, "--kafka-addr", kafka, "--log-level", "warn")
	var srvOut bytes.Buffer
	srv.Stdout, srv.Stderr = &srvOut, &srvOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
		if t.Failed() {
			t.Logf("serve output:\n%s", srvOut.String())
		}
	})
	url := "postgres://" + pg
	g := []string{"migrate", "--dir", dir, "--server", url}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, code := run(t, append(g, "info")...); code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice serve did not come up:\n%s", srvOut.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	outs := make([]string, 2)
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], codes[i] = run(t, append(g, "apply", "--all", "--define", "env=srv", "--wait", "1m")...)
		}()
	}
	wg.Wait()
	applied := 0
	for i := range outs {
		if codes[i] != 0 {
			t.Fatalf("applier %d: exit %d\n%s", i, codes[i], outs[i])
		}
		applied += strings.Count(outs[i], "MIGRATED version")
	}
	if applied != 3 {
		t.Fatalf("versions applied: %d, want 3\n%s\n---\n%s", applied, outs[0], outs[1])
	}
	ok(t, []string{"Current migration version: 3 (MIGRATED)"}, append(g, "info")...)
	ok(t, []string{"Nothing to apply"}, append(g, "apply", "--all", "--define", "env=srv")...)
	ok(t, []string{"Validated"}, append(g, "validate")...)

	// The history is ksql-migrations' MIGRATION_SCHEMA_VERSIONS table too,
	// which a pull query over the server reads.
	ctx := context.Background()
	conn, err := migrate.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tab, err := s.Query(ctx, `SELECT VERSION_KEY, VERSION, STATE FROM MIGRATION_SCHEMA_VERSIONS;`)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range tab.Rows {
		rows = append(rows, r[0].Text+":"+r[1].Text+":"+r[2].Text)
	}
	sort.Strings(rows)
	if got := strings.Join(rows, " "); got != "1:1:MIGRATED 2:2:MIGRATED 3:3:MIGRATED CURRENT:3:MIGRATED" {
		t.Fatalf("pull query on MIGRATION_SCHEMA_VERSIONS over the server: %s", got)
	}
}
