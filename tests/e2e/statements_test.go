package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sluicedb/sluice"
)

// rowsText runs a statement and renders its rows, one line each.
func rowsText(t *testing.T, s *sluice.Session, stmt string) string {
	t.Helper()
	rows, err := s.Query(testCtx(t), stmt)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		fmt.Fprintln(&b, rows.Row().Values...)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return b.String()
}

// The catalog statements of the spine: SHOW, DESCRIBE, EXPLAIN, TERMINATE,
// DROP [DELETE TOPIC], SET/UNSET, and the rule that a source a query uses
// cannot be dropped.
func TestCatalogStatements(t *testing.T) {
	eng := openEngine(t, t.TempDir())
	defer eng.Close()
	s := eng.NewSession()
	if _, err := s.Exec(testCtx(t), `
		CREATE STREAM clicks (user_id STRING KEY, page STRING, ms BIGINT)
		  WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE TABLE users (id STRING PRIMARY KEY, name STRING)
		  WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=2);
		SET 'auto.offset.reset'='earliest';
		CREATE STREAM home_clicks AS SELECT user_id, ms FROM clicks WHERE page = '/';`); err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, s, "SHOW STREAMS;"); got != "CLICKS clicks KAFKA JSON false\nHOME_CLICKS HOME_CLICKS KAFKA JSON false\n" {
		t.Errorf("SHOW STREAMS =\n%s", got)
	}
	if got := rowsText(t, s, "SHOW TABLES;"); got != "USERS users KAFKA JSON false\n" {
		t.Errorf("SHOW TABLES =\n%s", got)
	}
	if got := rowsText(t, s, "SHOW QUERIES;"); !strings.HasPrefix(got, "CSAS_HOME_CLICKS_0 PERSISTENT RUNNING HOME_CLICKS HOME_CLICKS") {
		t.Errorf("SHOW QUERIES =\n%s", got)
	}
	if got := rowsText(t, s, "SHOW TOPICS;"); !strings.Contains(got, "clicks 2 1\n") || !strings.Contains(got, "HOME_CLICKS 2 1\n") {
		t.Errorf("SHOW TOPICS =\n%s", got)
	}
	if got := rowsText(t, s, "SHOW PROPERTIES;"); !strings.Contains(got, "auto.offset.reset set earliest\n") {
		t.Errorf("SHOW PROPERTIES does not show the session's SET:\n%s", got)
	}
	if got := rowsText(t, s, "DESCRIBE clicks;"); got != "USER_ID STRING (key)\nPAGE STRING\nMS BIGINT\n" {
		t.Errorf("DESCRIBE =\n%s", got)
	}
	if got := rowsText(t, s, "EXPLAIN CSAS_HOME_CLICKS_0;"); !strings.Contains(got, "Filter") || !strings.Contains(got, "Physical plan") {
		t.Errorf("EXPLAIN =\n%s", got)
	}

	// A source read by a query cannot be dropped.
	_, err := s.Query(testCtx(t), "DROP STREAM clicks;")
	var se *sluice.Error
	if !errors.As(err, &se) || se.Code != "55006" || !strings.Contains(se.Msg, "CSAS_HOME_CLICKS_0") {
		t.Fatalf("DROP of a source in use: %v", err)
	}
	if _, err := s.Exec(testCtx(t), "TERMINATE CSAS_HOME_CLICKS_0;"); err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, s, "SHOW QUERIES;"); got != "" {
		t.Errorf("SHOW QUERIES after TERMINATE =\n%s", got)
	}
	if _, err := s.Exec(testCtx(t), "DROP STREAM home_clicks DELETE TOPIC; DROP STREAM clicks; DROP TABLE IF EXISTS nothing;"); err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, s, "SHOW TOPICS;"); strings.Contains(got, "HOME_CLICKS") || !strings.Contains(got, "clicks") {
		t.Errorf("after DROP ... DELETE TOPIC, SHOW TOPICS =\n%s", got)
	}
	// A SOURCE stream is read-only: it never deletes its topic, nor is it
	// replaced.
	if _, err := s.Exec(testCtx(t), "CREATE SOURCE STREAM ro (user_id STRING KEY, page STRING) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"DROP STREAM ro DELETE TOPIC;",
		"CREATE OR REPLACE STREAM ro (user_id STRING KEY, page STRING) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');",
	} {
		_, err := s.Exec(testCtx(t), stmt)
		if !errors.As(err, &se) || se.Code != "0A000" {
			t.Errorf("%s on a SOURCE stream: %v, want a 0A000 error", stmt, err)
		}
	}
	if _, err := s.Exec(testCtx(t), "DROP STREAM ro;"); err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, s, "SHOW TOPICS;"); !strings.Contains(got, "clicks") {
		t.Errorf("after DROP of a SOURCE stream, its topic is gone:\n%s", got)
	}
	if _, err := s.Exec(testCtx(t), "UNSET 'auto.offset.reset';"); err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, s, "SHOW PROPERTIES;"); !strings.Contains(got, "auto.offset.reset default latest\n") {
		t.Errorf("after UNSET, SHOW PROPERTIES =\n%s", got)
	}
}
