package clients

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the psql golden files")

// TestPsqlCatalogGolden runs psql's describe commands with -E, so the
// golden files hold both the catalog queries psql sends (recorded from the
// installed psql 15) and what it prints for them. Rewrite them with
// go test ./tests/clients -run TestPsqlCatalogGolden -update.
func TestPsqlCatalogGolden(t *testing.T) {
	psql := requireBinary(t, "psql", "postgresql-client")
	out, err := exec.Command(psql, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "(PostgreSQL) 15.") {
		t.Skipf("golden files are recorded with psql 15; this is %s", strings.TrimSpace(string(out)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := startStack(t, ctx)
	setup := []string{
		"CREATE STREAM orders (id INT KEY, item STRING, amount DOUBLE, tags ARRAY<STRING>) " +
			"WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);",
		"CREATE TABLE users (id INT PRIMARY KEY, name STRING, balance DECIMAL(10, 2), seen TIMESTAMP) " +
			"WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=1);",
	}
	for _, st := range setup {
		if r := run(s.psqlCmd(ctx, psql, "-c", st), ""); r.err != nil {
			t.Fatalf("%s: %v", st, r)
		}
	}
	cases := []struct{ name, cmd string }{
		{"d", `\d`},
		{"dt", `\dt`},
		{"dv", `\dv`},
		{"d_orders", `\d orders`},
		{"d_users", `\d users`},
		{"dplus_users", `\d+ users`},
		{"l", `\l`},
		{"dn", `\dn`},
		{"df_abs", `\df abs`},
		// Variadic, polymorphic, array and lambda signatures.
		{"df_some", `\df (concat|coalesce|array_length|transform|json_array_contains|split)`},
		{"dfplus_substring", `\df+ substring`},
		{"dplus_orders", `\d+ orders`},
		{"x_version", "\\x\nSELECT current_database(), current_schema(), current_user;"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Aligned output with headers, as a person sees it.
			cmd := exec.CommandContext(ctx, psql, "-X", "-E", "-v", "ON_ERROR_STOP=1",
				"-h", s.pgHost, "-p", s.pgPort, "-U", "sluice", "-d", "sluice")
			cmd.Env = append(os.Environ(), "PAGER=", "PSQL_PAGER=", "PGPASSWORD=", "COLUMNS=200")
			r := run(cmd, c.cmd+"\n")
			if r.err != nil {
				t.Fatalf("psql: %v", r)
			}
			got := r.stdout + r.stderr
			path := filepath.Join("testdata", "psql_"+c.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to record)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", c.cmd, path, got, want)
			}
		})
	}
}

// TestPsqlFetchCountAndCopy: \set FETCH_COUNT makes psql read a push query
// through a cursor (BEGIN, DECLARE, FETCH), and COPY (...) TO STDOUT
// streams rows as CopyData.
func TestPsqlFetchCountAndCopy(t *testing.T) {
	psql := requireBinary(t, "psql", "postgresql-client")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := startStack(t, ctx)
	if r := run(s.psqlCmd(ctx, psql,
		"-c", "CREATE STREAM ev (id INT KEY, v STRING) WITH (KAFKA_TOPIC='ev', VALUE_FORMAT='JSON', PARTITIONS=1);",
		"-c", "INSERT INTO ev (id, v) VALUES (1, 'a\tb');",
		"-c", "INSERT INTO ev (id, v) VALUES (2, NULL);"), ""); r.err != nil {
		t.Fatalf("setup: %v", r)
	}
	r := run(s.psqlCmd(ctx, psql), "SET 'auto.offset.reset'='earliest';\n\\set FETCH_COUNT 1\nSELECT id, v FROM ev EMIT CHANGES LIMIT 2;\n")
	if r.err != nil || r.stdout != "1|a\tb\n2|\n" {
		t.Errorf("FETCH_COUNT push query: %v", r)
	}
	r = run(s.psqlCmd(ctx, psql, "-c", "SET 'auto.offset.reset'='earliest';",
		"-c", "COPY (SELECT id, v FROM ev EMIT CHANGES LIMIT 2) TO STDOUT"), "")
	if r.err != nil || r.stdout != "1\ta\\tb\n2\t\\N\n" {
		t.Errorf("COPY TO STDOUT: %v", r)
	}
}
