package migrate

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/internal/servedtest"
	"github.com/sluicedb/sluice/sql"
)

// project is the migrations directory the tests apply: streams and a
// table, a CSAS, INSERT VALUES, with comments, quotes and multi-line
// statements that a naive splitter would cut wrong.
func project() fstest.MapFS {
	return fstest.MapFS{
		"ksql-migrations.properties": {Data: []byte("ksql.server.url=http://localhost:8088\n")},
		"migrations/V000001__create_orders.sql": {Data: []byte(`-- Orders from the web shop; this comment has a ; in it.
DEFINE suffix = 'v1';
CREATE STREAM orders (
  id INT KEY,
  customer_id INT,
  item STRING,   -- 'quoted; in a comment'
  amount DOUBLE
) WITH (KAFKA_TOPIC='orders_${suffix}', VALUE_FORMAT='JSON', PARTITIONS=2);

/* customers; a table declared over its topic */
CREATE TABLE customers (id INT PRIMARY KEY, name STRING, city STRING)
  WITH (KAFKA_TOPIC='customers_${suffix}', VALUE_FORMAT='JSON', PARTITIONS=2);
`)},
		"migrations/V000002__large_orders.sql": {Data: []byte(`SET 'auto.offset.reset'='earliest';
CREATE STREAM large_orders WITH (KAFKA_TOPIC='large_orders', PARTITIONS=2) AS
  SELECT id, customer_id, UCASE(item) AS item, amount
  FROM orders
  WHERE amount > ${threshold} AND item <> 'gift; free'
  EMIT CHANGES;
`)},
		"migrations/V000003__seed_orders.sql": {Data: []byte(`INSERT INTO orders (id, customer_id, item, amount) VALUES (1, 7, 'it''s a book; really', 250.0);
INSERT INTO orders (id, customer_id, item, amount) VALUES (2, 8, 'pen', 2.5);
INSERT INTO customers (id, name, city) VALUES (7, 'Ada', 'London');
`)},
	}
}

var defines = map[string]string{"threshold": "100"}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func openEngine(t *testing.T, opts ...sluice.Option) *sluice.Engine {
	t.Helper()
	ctx := context.Background()
	base := []sluice.Option{sluice.WithDataDir(t.TempDir()), sluice.WithKafkaAddr("127.0.0.1:0"), sluice.WithLogger(quietLogger())}
	eng, err := sluice.Open(ctx, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// openServedEngine opens an engine with its Postgres-wire server, as sluice
// serve runs it: instances of one service forward pull queries (migrate's
// history read) to the owner of the partitions they read.
func openServedEngine(t *testing.T, opts ...sluice.Option) *sluice.Engine {
	t.Helper()
	base := []sluice.Option{sluice.WithDataDir(t.TempDir()), sluice.WithKafkaAddr("127.0.0.1:0"), sluice.WithLogger(quietLogger())}
	eng, _ := servedtest.Open(t, append(base, opts...)...)
	return eng
}

func newMigrator(t *testing.T, c Conn, fsys fstest.MapFS, opts ...Option) *Migrator {
	t.Helper()
	m, err := NewConn(c, fsys, append([]Option{WithDefines(defines), WithOutput(testWriter{t})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func states(t *testing.T, m *Migrator) string {
	t.Helper()
	rep, err := m.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b []string
	for _, v := range rep.Versions {
		b = append(b, strconv.Itoa(v.Version)+":"+string(v.State))
	}
	return strings.Join(b, " ")
}

func TestApplyInfoValidate(t *testing.T) {
	ctx := context.Background()
	eng := openEngine(t)
	fsys := project()
	m := newMigrator(t, EngineConn(eng), fsys)

	if got := states(t, m); got != "1:PENDING 2:PENDING 3:PENDING" {
		t.Fatalf("fresh engine: %s", got)
	}
	// Dry run: substituted statements, nothing changed.
	rep, err := m.Apply(ctx, Target{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Planned) != 3 || len(rep.Planned[0].Statements) != 2 || !strings.Contains(rep.Planned[0].Statements[0], "'orders_v1'") ||
		!strings.Contains(rep.Planned[1].Statements[1], "amount > 100") {
		t.Fatalf("dry run plan: %+v", rep.Planned)
	}
	if _, ok := eng.Source("ORDERS"); ok {
		t.Fatal("dry run created ORDERS")
	}

	rep, err = m.Apply(ctx, Target{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Applied) != 1 || rep.Current != 1 {
		t.Fatalf("apply next: %+v", rep)
	}
	rep, err = m.Apply(ctx, Target{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Applied) != 2 || rep.Current != 3 {
		t.Fatalf("apply all: %+v", rep)
	}
	if got := states(t, m); got != "1:MIGRATED 2:MIGRATED 3:MIGRATED" {
		t.Fatalf("after apply: %s", got)
	}
	for _, name := range []string{"ORDERS", "CUSTOMERS", "LARGE_ORDERS"} {
		if _, ok := eng.Source(name); !ok {
			t.Errorf("%s was not created", name)
		}
	}
	if s, _ := eng.Source("ORDERS"); s != nil && s.Topic != "orders_v1" {
		t.Errorf("ORDERS topic %q: DEFINE was not substituted", s.Topic)
	}
	// The CSAS of version 2 processes the rows inserted by version 3.
	waitForRows(t, eng, `SELECT id, item FROM large_orders;`, 1)

	// Nothing to do the second time.
	rep, err = m.Apply(ctx, Target{})
	if err != nil || len(rep.Applied) != 0 || rep.Current != 3 {
		t.Fatalf("re-apply: %+v %v", rep, err)
	}
	if err := m.Validate(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := m.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Current == nil || info.Current.Version != 3 || info.Versions[1].Previous != "1" || info.Versions[0].Previous != "<none>" ||
		info.Versions[2].CompletedOn.IsZero() || info.Versions[2].Checksum != checksum(fsys["migrations/V000003__seed_orders.sql"].Data) {
		t.Fatalf("info: %+v", info.Versions)
	}

	// Editing an applied file is reported by validate, and blocks apply.
	fsys["migrations/V000002__large_orders.sql"] = &fstest.MapFile{Data: []byte("-- edited\n" + string(fsys["migrations/V000002__large_orders.sql"].Data))}
	var verr *ValidationError
	if err := m.Validate(ctx); !errors.As(err, &verr) || !strings.Contains(err.Error(), "V000002__large_orders.sql was changed") {
		t.Fatalf("validate after edit: %v", err)
	}
	if _, err := m.Apply(ctx, Target{}); !errors.As(err, &verr) {
		t.Fatalf("apply after edit: %v", err)
	}
}

func waitForRows(t *testing.T, eng *sluice.Engine, q string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows, err := eng.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for rows.Next() {
			got++
		}
		rows.Close()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d rows after 20s, want %d", q, got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestFailedMigrationAndFix(t *testing.T) {
	ctx := context.Background()
	eng := openEngine(t)
	fsys := project()
	m := newMigrator(t, EngineConn(eng), fsys)
	if _, err := m.Apply(ctx, Target{}); err != nil {
		t.Fatal(err)
	}
	// Version 4: the first statement works, the second has a typo.
	fsys["migrations/V000004__returns.sql"] = &fstest.MapFile{Data: []byte(`CREATE STREAM returns (id INT KEY, reason STRING)
  WITH (KAFKA_TOPIC='returns', VALUE_FORMAT='JSON', PARTITIONS=1);
CREATE STREAM big_returns AS
  SELECT id, reasn FROM returns EMIT CHANGES;
`)}
	_, err := m.Apply(ctx, Target{})
	var serr *StatementError
	if !errors.As(err, &serr) {
		t.Fatalf("want a StatementError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"migrations/V000004__returns.sql:4:", "statement 2 of 2", "CREATE STREAM big_returns AS", "REASN", "SQLSTATE 42703"} {
		if !strings.Contains(strings.ToUpper(msg), strings.ToUpper(want)) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	info, err := m.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v4 := info.Versions[3]
	if v4.State != Error || info.Current.State != Error || !strings.Contains(v4.ErrorReason, "V000004__returns.sql") || v4.Previous != "3" {
		t.Fatalf("version 4 after failure: %+v", v4)
	}
	// Apply again without a fix fails the same way, and does not redo the
	// first statement (which would fail with "already exists").
	if _, err := m.Apply(ctx, Target{}); !errors.As(err, &serr) || serr.Index != 2 {
		t.Fatalf("unfixed re-apply: %v", err)
	}
	// Editing the applied first statement is refused.
	good := `CREATE STREAM big_returns AS
  SELECT id, reason FROM returns EMIT CHANGES;
`
	fsys["migrations/V000004__returns.sql"] = &fstest.MapFile{Data: []byte(`CREATE STREAM returns (id INT KEY, reason STRING, extra INT)
  WITH (KAFKA_TOPIC='returns', VALUE_FORMAT='JSON', PARTITIONS=1);
` + good)}
	if _, err := m.Apply(ctx, Target{}); err == nil || !strings.Contains(err.Error(), "have changed since") {
		t.Fatalf("apply with an edited applied statement: %v", err)
	}
	// The fix: the first statement as it was, the second corrected (and a
	// comment added, which does not matter).
	fsys["migrations/V000004__returns.sql"] = &fstest.MapFile{Data: []byte(`CREATE STREAM returns (id INT KEY, reason STRING)
  WITH (KAFKA_TOPIC='returns', VALUE_FORMAT='JSON', PARTITIONS=1);
-- fixed the column name
` + good)}
	rep, err := m.Apply(ctx, Target{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Applied) != 1 || rep.Current != 4 {
		t.Fatalf("after fix: %+v", rep)
	}
	if got := states(t, m); got != "1:MIGRATED 2:MIGRATED 3:MIGRATED 4:MIGRATED" {
		t.Fatalf("after fix: %s", got)
	}
	if err := m.Validate(ctx); err != nil {
		t.Fatal(err)
	}

	// Later a join: enrich orders with customers (the join key in the
	// projection, as ksqlDB requires). An engine that cannot run joins
	// refuses it with 0A000, and the migration stops clearly.
	fsys["migrations/V000005__enrich_orders.sql"] = &fstest.MapFile{Data: []byte(`CREATE STREAM enriched_orders AS
  SELECT o.customer_id, o.id, o.item, c.name, c.city
  FROM orders o JOIN customers c ON o.customer_id = c.id
  EMIT CHANGES;
`)}
	rep, err = m.Apply(ctx, Target{})
	switch {
	case err == nil:
		if rep.Current != 5 {
			t.Fatalf("join applied, but current is %d", rep.Current)
		}
	case errors.As(err, &serr):
		if !strings.Contains(err.Error(), "V000005__enrich_orders.sql") || !strings.Contains(err.Error(), "SQLSTATE 0A000") {
			t.Fatalf("join failed unclearly: %v", err)
		}
		if got := states(t, m); got != "1:MIGRATED 2:MIGRATED 3:MIGRATED 4:MIGRATED 5:ERROR" {
			t.Fatalf("after join: %s", got)
		}
	default:
		t.Fatal(err)
	}
}

func TestTargets(t *testing.T) {
	ctx := context.Background()
	eng := openEngine(t)
	m := newMigrator(t, EngineConn(eng), project())
	if _, err := m.Apply(ctx, Target{Version: 2}); err == nil || !strings.Contains(err.Error(), "the next is 1") {
		t.Fatalf("--version 2 first: %v", err)
	}
	if _, err := m.Apply(ctx, Target{Version: 1}); err != nil {
		t.Fatal(err)
	}
	rep, err := m.Apply(ctx, Target{Until: 2})
	if err != nil || rep.Current != 2 || len(rep.Applied) != 1 {
		t.Fatalf("--until 2: %+v %v", rep, err)
	}
	if _, err := m.Apply(ctx, Target{Until: 1}); err == nil {
		t.Fatal("--until an applied version succeeded")
	}
	if _, err := m.Apply(ctx, Target{Next: true, Until: 3}); err == nil {
		t.Fatal("two targets accepted")
	}
	// A file added below the current version can never run.
	fsys := project()
	fsys["migrations/V000000__zero.sql"] = &fstest.MapFile{Data: []byte("")}
	if _, err := LoadFiles(fsys); err == nil {
		t.Fatal("version 0 accepted")
	}
}

// TestConcurrentAppliers runs two engines of one cluster (as two processes
// would) applying the same project at once: exactly one applies each
// version, the other waits and finds nothing to do.
func TestConcurrentAppliers(t *testing.T) {
	ctx := context.Background()
	a := openServedEngine(t)
	b := openServedEngine(t, sluice.WithBrokers(a.KafkaAddrs()...))
	fsys := project()
	var wg sync.WaitGroup
	reps := make([]*ApplyReport, 2)
	errs := make([]error, 2)
	for i, eng := range []*sluice.Engine{a, b} {
		m := newMigrator(t, EngineConn(eng), fsys, WithLockWait(time.Minute))
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = m.Apply(ctx, Target{})
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("applier %d: %v", i, errs[i])
		}
	}
	if n := len(reps[0].Applied) + len(reps[1].Applied); n != 3 {
		t.Fatalf("versions applied: %d and %d, want 3 in all", len(reps[0].Applied), len(reps[1].Applied))
	}
	// The history has exactly one RUNNING event per version.
	s, _ := EngineConn(a).NewSession(ctx)
	tab, err := s.Query(ctx, `SELECT VERSION FROM MIGRATION_EVENTS WHERE STATE = 'RUNNING' AND VERSION_KEY <> 'CURRENT';`)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 3 {
		t.Fatalf("RUNNING events: %v", tab.Rows)
	}
}

// TestLockHeld: while another applier holds the lock, Apply with no wait
// fails clearly and changes nothing; after a holder's lease runs out
// (a crashed applier), the lock can be taken.
func TestLockHeld(t *testing.T) {
	ctx := context.Background()
	eng := openEngine(t)
	m := newMigrator(t, EngineConn(eng), project(), WithLockWait(0))
	if err := m.InitializeMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ := EngineConn(eng).NewSession(ctx)
	other := &applyLock{s: s, cfg: m.Config(), owner: "other-host/pid-1/abc", lease: 2 * time.Second, poll: 50 * time.Millisecond}
	if err := other.acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_, err := m.Apply(ctx, Target{})
	var lerr *LockedError
	if !errors.As(err, &lerr) || !errors.Is(err, ErrLocked) || lerr.Owner != other.owner {
		t.Fatalf("apply while locked: %v", err)
	}
	if got := states(t, m); got != "1:PENDING 2:PENDING 3:PENDING" {
		t.Fatalf("apply while locked changed the history: %s", got)
	}
	if err := m.DestroyMetadata(ctx); !errors.As(err, &lerr) {
		t.Fatalf("destroy while locked: %v", err)
	}
	// The holder "crashes": no RELEASE. Its 2s lease runs out.
	m2 := newMigrator(t, EngineConn(eng), project(), WithLockWait(10*time.Second))
	m2.poll = 100 * time.Millisecond
	rep, err := m2.Apply(ctx, Target{})
	if err != nil || rep.Current != 3 {
		t.Fatalf("apply after the lease ran out: %+v %v", rep, err)
	}
	// The old holder, back, finds it lost the lock.
	if err := other.renew(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("renew by the expired holder: %v", err)
	}
}

func TestDestroyMetadata(t *testing.T) {
	ctx := context.Background()
	eng := openEngine(t)
	m := newMigrator(t, EngineConn(eng), project())
	if _, err := m.Apply(ctx, Target{Next: true}); err != nil {
		t.Fatal(err)
	}
	if err := m.DestroyMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := eng.Source("MIGRATION_EVENTS"); ok {
		t.Fatal("MIGRATION_EVENTS still exists")
	}
	if _, ok := eng.Source("ORDERS"); !ok {
		t.Fatal("destroy-metadata dropped a migrated stream")
	}
	if got := states(t, m); got != "1:PENDING 2:PENDING 3:PENDING" {
		t.Fatalf("after destroy: %s", got)
	}
}

func TestFoldLock(t *testing.T) {
	rec := func(at int64, owner, action string) lockRecord {
		return lockRecord{time: at, owner: owner, action: action, leaseMs: 100}
	}
	cases := []struct {
		name string
		recs []lockRecord
		want string
	}{
		{"empty", nil, ""},
		{"first acquire wins", []lockRecord{rec(10, "a", actionAcquire), rec(11, "b", actionAcquire)}, "a"},
		{"release frees", []lockRecord{rec(10, "a", actionAcquire), rec(11, "b", actionAcquire), rec(12, "a", actionRelease), rec(13, "b", actionAcquire)}, "b"},
		{"release by another is ignored", []lockRecord{rec(10, "a", actionAcquire), rec(11, "b", actionRelease)}, "a"},
		{"expired lease is taken", []lockRecord{rec(10, "a", actionAcquire), rec(110, "b", actionAcquire)}, "b"},
		{"renew extends", []lockRecord{rec(10, "a", actionAcquire), rec(100, "a", actionRenew), rec(150, "b", actionAcquire)}, "a"},
		{"renew after takeover is ignored", []lockRecord{rec(10, "a", actionAcquire), rec(120, "b", actionAcquire), rec(121, "a", actionRenew)}, "b"},
	}
	for _, c := range cases {
		h := foldLock(c.recs)
		got := ""
		if h != nil {
			got = h.owner
		}
		if got != c.want {
			t.Errorf("%s: holder %q, want %q", c.name, got, c.want)
		}
	}
}

func TestFileNames(t *testing.T) {
	for name, want := range map[string]string{
		"V000001__create_orders.sql": "1 create orders",
		"V12__a.sql":                 "12 a",
	} {
		v, d, ok, err := parseFileName(name)
		if !ok || err != nil || strconv.Itoa(v)+" "+d != want {
			t.Errorf("%s: %d %q %v %v", name, v, d, ok, err)
		}
	}
	for _, name := range []string{"V1_x.sql", "Vx__y.sql", "V000001__.sql", "V0__zero.sql"} {
		if _, _, ok, err := parseFileName(name); !ok || err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, _, ok, _ := parseFileName("README.md"); ok {
		t.Error("README.md taken for a migration")
	}
	if got := FileName(3, "add users table"); got != "V000003__add_users_table.sql" {
		t.Errorf("FileName: %s", got)
	}
	n, d, ok := parseProgress("x failed (SQLSTATE 42703)" + strings.ReplaceAll(progressMarker, "%d", "2"))
	if !ok || n != 2 || d != "%s" {
		t.Errorf("parseProgress: %d %q %v", n, d, ok)
	}
	v := VersionInfo{ErrorReason: "x failed [sluice: 1 applied, prefix md5 abc]"}
	if got := v.Reason(); got != "x failed (1 statement(s) before it had been applied)" {
		t.Errorf("Reason: %q", got)
	}
}

// TestSchemaVersionsTable: initialize-metadata creates ksql-migrations'
// MIGRATION_SCHEMA_VERSIONS table over the events stream; once Apply
// returns, a pull query on it shows the applied versions; info reads from
// it; destroy-metadata terminates its query and drops it with its topic.
func TestSchemaVersionsTable(t *testing.T) {
	ctx := context.Background()
	eng := openEngine(t)
	m := newMigrator(t, EngineConn(eng), project())
	if err := m.InitializeMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	src, ok := eng.Source("MIGRATION_SCHEMA_VERSIONS")
	if !ok {
		t.Fatal("initialize-metadata did not create MIGRATION_SCHEMA_VERSIONS")
	}
	if src.Kind != sql.KindTable || src.Topic != "sluice_ksql_MIGRATION_SCHEMA_VERSIONS" || src.Query == "" {
		t.Fatalf("MIGRATION_SCHEMA_VERSIONS: kind %v, topic %q, query %q", src.Kind, src.Topic, src.Query)
	}
	if _, err := m.Apply(ctx, Target{}); err != nil {
		t.Fatal(err)
	}
	// No waiting here: Apply returns once the table shows what it wrote.
	if got := tableStates(t, eng, ""); got != "1:1:MIGRATED 2:2:MIGRATED 3:3:MIGRATED CURRENT:3:MIGRATED" {
		t.Fatalf("pull query on the table: %s", got)
	}
	if got := tableStates(t, eng, " WHERE VERSION_KEY='CURRENT'"); got != "CURRENT:3:MIGRATED" {
		t.Fatalf("pull query for CURRENT: %s", got)
	}
	s, _ := EngineConn(eng).NewSession(ctx)
	if _, _, status, err := m.readHistory(ctx, s); err != nil || status != fromTable {
		t.Fatalf("history read from %v, %v; want the table", status, err)
	}

	if err := m.DestroyMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := eng.Source("MIGRATION_SCHEMA_VERSIONS"); ok {
		t.Fatal("destroy-metadata left MIGRATION_SCHEMA_VERSIONS")
	}
	topics, err := s.Query(ctx, `SHOW TOPICS;`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range topics.Rows {
		if strings.HasPrefix(r[0].Text, "sluice_ksql_MIGRATION_") {
			t.Errorf("destroy-metadata left topic %s", r[0].Text)
		}
	}
	queries, err := s.Query(ctx, `SHOW QUERIES;`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range queries.Rows {
		if strings.Contains(r[0].Text, "MIGRATION_SCHEMA_VERSIONS") {
			t.Errorf("destroy-metadata left query %s", r[0].Text)
		}
	}
}

// tableStates runs a pull query on the table and renders its rows as
// KEY:VERSION:STATE, sorted by key.
func tableStates(t *testing.T, eng *sluice.Engine, where string) string {
	t.Helper()
	s, _ := EngineConn(eng).NewSession(context.Background())
	tab, err := s.Query(context.Background(), "SELECT VERSION_KEY, VERSION, STATE FROM MIGRATION_SCHEMA_VERSIONS"+where+";")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range tab.Rows {
		out = append(out, r[0].Text+":"+r[1].Text+":"+r[2].Text)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestTableAddedToExistingProject: a project whose history was written
// before sluice built the table (simulated by dropping it) gets the table on
// the next info, built from the whole history; while another applier holds
// the lock, info leaves the creation to it and reads the stream.
func TestTableAddedToExistingProject(t *testing.T) {
	ctx := context.Background()
	eng := openEngine(t)
	m := newMigrator(t, EngineConn(eng), project(), WithLockWait(0))
	if _, err := m.Apply(ctx, Target{Until: 2}); err != nil {
		t.Fatal(err)
	}
	s, _ := EngineConn(eng).NewSession(ctx)
	dropTable := func() {
		t.Helper()
		if err := m.dropTable(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, ok := eng.Source("MIGRATION_SCHEMA_VERSIONS"); ok {
			t.Fatal("table still there")
		}
	}
	dropTable()

	// Locked by another applier: info is right, and creates nothing.
	other := &applyLock{s: s, cfg: m.Config(), owner: "other-host/pid-1/abc", lease: time.Minute, poll: 50 * time.Millisecond}
	if err := other.acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := states(t, m); got != "1:MIGRATED 2:MIGRATED 3:PENDING" {
		t.Fatalf("info while locked: %s", got)
	}
	if _, ok := eng.Source("MIGRATION_SCHEMA_VERSIONS"); ok {
		t.Fatal("info created the table while another applier held the lock")
	}
	if err := other.release(ctx); err != nil {
		t.Fatal(err)
	}

	// Unlocked: info creates the table, which reads the history from its
	// start.
	if got := states(t, m); got != "1:MIGRATED 2:MIGRATED 3:PENDING" {
		t.Fatalf("info: %s", got)
	}
	if got := tableStates(t, eng, ""); got != "1:1:MIGRATED 2:2:MIGRATED CURRENT:2:MIGRATED" {
		t.Fatalf("table built by info: %s", got)
	}

	// Apply creates it too, and goes on from the history.
	dropTable()
	rep, err := m.Apply(ctx, Target{})
	if err != nil || rep.Current != 3 || len(rep.Applied) != 1 {
		t.Fatalf("apply: %+v %v", rep, err)
	}
	if got := tableStates(t, eng, ""); got != "1:1:MIGRATED 2:2:MIGRATED 3:3:MIGRATED CURRENT:3:MIGRATED" {
		t.Fatalf("table built by apply: %s", got)
	}
}

// TestTableRows: the table's rows become the history the fold of the
// stream gives, although LATEST_BY_OFFSET keeps the COMPLETED_ON and
// ERROR_REASON of an earlier run, and CURRENT may lag the version's row.
func TestTableRows(t *testing.T) {
	c := DefaultConfig("sluice")
	v1 := &VersionInfo{Version: 1, Name: "a", State: Migrated, Checksum: "c1", Previous: noVersion,
		StartedOn: time.UnixMilli(1000), CompletedOn: time.UnixMilli(1100)}
	failed := &VersionInfo{Version: 2, Name: "b", State: Error, Checksum: "c2", Previous: "1",
		StartedOn: time.UnixMilli(2000), CompletedOn: time.UnixMilli(2100), ErrorReason: "boom"}
	retry := &VersionInfo{Version: 2, Name: "b", State: Running, Checksum: "c2", Previous: "1", StartedOn: time.UnixMilli(3000)}

	// The table after the events of v1, the failed run, and the retry's
	// version event, as LATEST_BY_OFFSET with NULLs ignored computes it.
	var evs []event
	for _, w := range []struct {
		key string
		v   *VersionInfo
	}{{"1", v1}, {currentKey, v1}, {"2", failed}, {currentKey, failed}, {"2", retry}} {
		_, ev := eventOf(c, w.key, w.v)
		evs = append(evs, ev)
	}
	rows := tableRows{}
	for _, ev := range evs {
		r := rows[ev.key]
		if r == nil {
			r = make([]Value, len(ev.raw))
		}
		for i, v := range ev.raw {
			if !v.Null {
				r[i] = v
			} else if r[i] == (Value{}) {
				r[i] = Value{Null: true}
			}
		}
		rows[ev.key] = r
	}
	if !rows.shows(&evs[len(evs)-1]) || rows.shows(&event{key: "3", raw: evs[0].raw}) {
		t.Fatal("shows")
	}
	h, err := rows.history(c)
	if err != nil {
		t.Fatal(err)
	}
	want := foldEvents(evs)
	for _, got := range []*VersionInfo{h.current, h.versions[2]} {
		if got.State != Running || !got.StartedOn.Equal(retry.StartedOn) || !got.CompletedOn.IsZero() || got.ErrorReason != "" {
			t.Errorf("retry row: %+v", got)
		}
	}
	if *h.current != *want.current || *h.versions[1] != *want.versions[1] || *h.versions[2] != *want.versions[2] || h.migratedUpTo() != 1 {
		t.Errorf("table history %+v, fold %+v", h.current, want.current)
	}
}
