package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// The MIGRATION_SCHEMA_VERSIONS table. The events stream is the record of
// what happened; the table is ksql-migrations' view of it (the latest event
// of each VERSION_KEY), kept by a persistent query, and the migrator reads
// versions and states from it with pull queries, as ksql-migrations does.
//
// The table catches up with the stream asynchronously, so a read is fenced:
// the reader first reads the stream's last event, then polls the table until
// its row for that event's key shows it (see tableRows.shows). Both steps
// are SQL, so the fence works the same through an embedded engine and
// through a server. Two situations keep the table from answering, and the
// reader then folds the events it read for the fence, which gives the same
// history (foldEvents):
//
//   - the table does not exist: a project initialized before sluice built
//     it, read by a command that does not create it (validate, a dry run),
//     or by info while another applier holds the lock;
//   - the engine cannot answer from the table: pull queries over a table are
//     answered from the state of the engine that runs the table's query,
//     and in a cluster of embedded engines that may be another one ("not
//     materialized here"), or this engine's copy may lag for as long as
//     another engine consumes the stream (tableWait).

// tableStatus says where a history read came from.
type tableStatus int

const (
	fromTable      tableStatus = iota // the table, caught up with the stream
	tableMissing                      // no table: folded the stream
	tableElsewhere                    // the table is materialized by another engine: folded the stream
	tableLagging                      // the table did not catch up within tableWait: folded the stream
)

// readHistory reads the migration history from the table, fenced by the
// stream's last event. exists is false when the events stream is not there
// (no migration was ever applied, or destroy-metadata ran).
func (m *Migrator) readHistory(ctx context.Context, s Session) (h *history, exists bool, status tableStatus, err error) {
	evs, exists, err := readEvents(ctx, s, m.cfg)
	if err != nil || !exists {
		return emptyHistory(), exists, tableMissing, err
	}
	var fence *event
	if len(evs) > 0 {
		fence = &evs[len(evs)-1]
	}
	h, status, err = m.awaitTable(ctx, s, fence)
	if err != nil {
		return nil, true, status, err
	}
	if status != fromTable {
		if status == tableLagging {
			m.printf("warning: %s has not caught up with %s after %s (is its query running? SHOW QUERIES); read the events stream instead",
				m.cfg.TableName, m.cfg.StreamName, m.tableWait)
		}
		h = foldEvents(evs)
	}
	return h, true, status, nil
}

// awaitTable reads the table until it shows want (nil: any state will do)
// or tableWait passes. A status other than fromTable, with a nil error,
// says why the table could not be used; h is then nil.
func (m *Migrator) awaitTable(ctx context.Context, s Session, want *event) (h *history, status tableStatus, err error) {
	deadline := time.Now().Add(m.tableWait)
	pause := 20 * time.Millisecond
	for {
		rows, err := readTable(ctx, s, m.cfg)
		switch {
		case isUndefined(err):
			return nil, tableMissing, nil
		case isCode(err, sql.CodeObjectInUse):
			// "not materialized here: its query is not running".
			return nil, tableElsewhere, nil
		case err != nil:
			return nil, fromTable, fmt.Errorf("read the migration history from %s: %w", m.cfg.TableName, err)
		}
		if want == nil || rows.shows(want) {
			h, err := rows.history(m.cfg)
			return h, fromTable, err
		}
		if !time.Now().Before(deadline) {
			return nil, tableLagging, nil
		}
		select {
		case <-ctx.Done():
			return nil, fromTable, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 250*time.Millisecond)
	}
}

// settle waits until the table shows ev, the last event this applier
// wrote, so that a pull query on the table after Apply returns sees what
// Apply did, as with ksql-migrations. Readers fence by themselves, so a
// table that is slow, or kept by another engine, costs only a warning.
func (m *Migrator) settle(ctx context.Context, s Session, ev *event) {
	if ev == nil || ctx.Err() != nil {
		return
	}
	_, status, err := m.awaitTable(ctx, s, ev)
	switch {
	case err != nil:
		m.printf("warning: could not check that %s shows the applied versions: %v", m.cfg.TableName, err)
	case status == tableLagging:
		m.printf("warning: %s has not caught up with %s after %s; it will show the applied versions once its query catches up",
			m.cfg.TableName, m.cfg.StreamName, m.tableWait)
	}
}

// ensureTable creates the table if it does not exist. The caller holds the
// apply lock: two engines of a cluster could otherwise both pass IF NOT
// EXISTS and start two queries writing the table's topic. The statement
// runs in a session of its own because it must read the stream from the
// earliest offset (so that a table added to an existing project picks up its
// whole history), and that setting must not leak into the caller's session.
func (m *Migrator) ensureTable(ctx context.Context) error {
	s, err := m.conn.NewSession(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, stmt := range []string{`SET 'auto.offset.reset'='earliest';`, m.cfg.createTableSQL()} {
		if err := s.Exec(ctx, stmt); err != nil && !isCode(err, sql.CodeDuplicateObject) {
			return fmt.Errorf("create the migration metadata table %s: %w", m.cfg.TableName, err)
		}
	}
	return nil
}

// ensureTableLocked creates the table under the apply lock, waiting up to
// wait for it. It is how InitializeMetadata and Info create the table;
// Apply holds the lock already.
func (m *Migrator) ensureTableLocked(ctx context.Context, s Session, wait time.Duration) error {
	lk := &applyLock{s: s, cfg: m.cfg, owner: newOwner(), lease: m.lease, poll: m.poll}
	if err := lk.acquire(ctx, wait); err != nil {
		return err
	}
	err := m.ensureTable(ctx)
	if rerr := lk.release(ctx); rerr != nil {
		m.printf("warning: could not release the migrations lock (it expires after %s): %v", m.lease, rerr)
	}
	return err
}

// dropTable terminates the queries that write the table, then drops it and
// deletes its topic: a table written by a query cannot be dropped.
func (m *Migrator) dropTable(ctx context.Context, s Session) error {
	t, err := s.Query(ctx, `SHOW QUERIES;`)
	if err != nil {
		return fmt.Errorf("destroy the migration metadata: SHOW QUERIES: %w", err)
	}
	id, sink := t.column("Query ID"), t.column("Sink Name")
	if id < 0 || sink < 0 {
		return fmt.Errorf("destroy the migration metadata: SHOW QUERIES has no Query ID and Sink Name columns (got %v)", t.Columns)
	}
	for _, r := range t.Rows {
		if r[sink].Text != m.cfg.TableName {
			continue
		}
		if err := s.Exec(ctx, fmt.Sprintf("TERMINATE %s;", r[id].Text)); err != nil && !isCode(err, sql.CodeUndefinedObject) {
			return fmt.Errorf("destroy the migration metadata: terminate %s, the query of %s: %w", r[id].Text, m.cfg.TableName, err)
		}
	}
	stmt := fmt.Sprintf("DROP TABLE IF EXISTS %s DELETE TOPIC;", m.cfg.TableName)
	if err := s.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("destroy the migration metadata: %s: %w", stmt, err)
	}
	return nil
}

// isCode reports an engine error with the given SQLSTATE.
func isCode(err error, code string) bool {
	var se *sluice.Error
	return errors.As(err, &se) && se.Code == code
}
