package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// State is the state of a migration version, with ksql-migrations' names.
type State string

const (
	// Pending: a file that has not been applied. It is never written to the
	// history; Info derives it.
	Pending State = "PENDING"
	// Running: apply started the version and has not finished it.
	Running State = "RUNNING"
	// Migrated: every statement of the version was applied.
	Migrated State = "MIGRATED"
	// Error: a statement failed; ErrorReason says which and why.
	Error State = "ERROR"
)

// noVersion is PREVIOUS of the first version, as ksql-migrations writes it.
const noVersion = "<none>"

// currentKey is the VERSION_KEY of the events that track the latest
// version, next to the events keyed by the version itself.
const currentKey = "CURRENT"

// Config names the migration metadata: ksql-migrations' stream, table and
// topic names, plus the stream of sluice's apply lock. DefaultConfig gives
// ksql-migrations' defaults for a service; a project's
// ksql-migrations.properties overrides them.
type Config struct {
	StreamName  string // ksql.migrations.stream.name, default MIGRATION_EVENTS
	StreamTopic string // ksql.migrations.stream.topic.name
	// TableName and TableTopic are ksql-migrations' schema-versions table
	// (ksql.migrations.table.name, ksql.migrations.table.topic.name), the
	// latest event of each version key, from which the history is read.
	TableName  string
	TableTopic string
	LockName   string // the lock stream, default MIGRATION_LOCKS (sluice only)
	LockTopic  string
	Replicas   int // ksql.migrations.topic.replicas, default 1
}

// DefaultConfig returns ksql-migrations' default names for a sluice
// service. ksqlDB names the topics <ksql.service.id>ksql_MIGRATION_EVENTS,
// where the service id conventionally ends in an underscore ("default_");
// sluice's service ids do not, so one is added: service "sluice" gives
// sluice_ksql_MIGRATION_EVENTS.
func DefaultConfig(serviceID string) Config {
	prefix := serviceID
	if !strings.HasSuffix(prefix, "_") {
		prefix += "_"
	}
	prefix += "ksql_"
	return Config{
		StreamName:  "MIGRATION_EVENTS",
		StreamTopic: prefix + "MIGRATION_EVENTS",
		TableName:   "MIGRATION_SCHEMA_VERSIONS",
		TableTopic:  prefix + "MIGRATION_SCHEMA_VERSIONS",
		LockName:    "MIGRATION_LOCKS",
		LockTopic:   prefix + "MIGRATION_LOCKS",
		Replicas:    1,
	}
}

// withProperties overlays the ksql-migrations.properties keys sluice
// understands.
func (c Config) withProperties(props map[string]string) (Config, error) {
	set := func(dst *string, key string) {
		if v := strings.TrimSpace(props[key]); v != "" {
			*dst = v
		}
	}
	set(&c.StreamName, "ksql.migrations.stream.name")
	set(&c.StreamTopic, "ksql.migrations.stream.topic.name")
	set(&c.TableName, "ksql.migrations.table.name")
	set(&c.TableTopic, "ksql.migrations.table.topic.name")
	if v := strings.TrimSpace(props["ksql.migrations.topic.replicas"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("%s: ksql.migrations.topic.replicas=%q is not a positive number", PropertiesFile, v)
		}
		c.Replicas = n
	}
	for _, name := range []string{c.StreamName, c.TableName, c.LockName} {
		if !isIdentifier(name) {
			return c, fmt.Errorf("migration metadata name %q must be a plain identifier (letters, digits, underscores)", name)
		}
	}
	return c, nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// quote renders s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// nullable renders s as a literal, or NULL when empty.
func nullable(s string) string {
	if s == "" {
		return "NULL"
	}
	return quote(s)
}

// createStreamSQL is ksql-migrations' MIGRATION_EVENTS stream: every column
// a STRING, times as epoch milliseconds in text. One partition, so that the
// topic's offsets order every event of every applier.
func (c Config) createStreamSQL() string {
	return fmt.Sprintf(`CREATE STREAM IF NOT EXISTS %s (
  VERSION_KEY STRING KEY,
  VERSION STRING,
  NAME STRING,
  STATE STRING,
  CHECKSUM STRING,
  STARTED_ON STRING,
  COMPLETED_ON STRING,
  PREVIOUS STRING,
  ERROR_REASON STRING
) WITH (KAFKA_TOPIC=%s, VALUE_FORMAT='JSON', PARTITIONS=1, REPLICAS=%d);`, c.StreamName, quote(c.StreamTopic), c.Replicas)
}

// createLockSQL is the lock stream (see lock.go).
func (c Config) createLockSQL() string {
	return fmt.Sprintf(`CREATE STREAM IF NOT EXISTS %s (
  LOCK_KEY STRING KEY,
  OWNER STRING,
  ACTION STRING,
  LEASE_MS BIGINT
) WITH (KAFKA_TOPIC=%s, VALUE_FORMAT='JSON', PARTITIONS=1, REPLICAS=%d);`, c.LockName, quote(c.LockTopic), c.Replicas)
}

// VersionInfo is the state of one migration version: what the history says
// about it, and its file.
type VersionInfo struct {
	Version     int
	Name        string
	State       State
	Checksum    string    // of the file as it was applied; empty for PENDING
	Previous    string    // the version migrated before this one, "<none>" for the first
	StartedOn   time.Time // zero when not started
	CompletedOn time.Time // zero when not completed
	ErrorReason string
	File        *File // nil when the file is gone from the project
}

// event is one record of the MIGRATION_EVENTS stream.
type event struct {
	key  string
	info VersionInfo
	// raw is the record's columns VERSION_KEY through ERROR_REASON as text,
	// in historyColumns order: what the table's row for key must show once
	// the table's query has consumed the record (see tableShows).
	raw []Value
}

// historyColumns are the columns of the events stream and of the table, in
// the order every query here selects them.
const historyColumns = "VERSION_KEY, VERSION, NAME, STATE, CHECKSUM, STARTED_ON, COMPLETED_ON, PREVIOUS, ERROR_REASON"

// history is the migration history: the latest state of each version key,
// which is what ksql-migrations' MIGRATION_SCHEMA_VERSIONS table
// (LATEST_BY_OFFSET per VERSION_KEY) holds.
type history struct {
	versions map[int]*VersionInfo
	// current is the latest event of all. Every state change writes the
	// version's event and then the same values under CURRENT; taking the
	// latest of either makes a crash between the two writes harmless.
	current *VersionInfo
}

func emptyHistory() *history { return &history{versions: map[int]*VersionInfo{}} }

// migratedUpTo returns the last version that was fully applied, 0 if none.
func (h *history) migratedUpTo() int {
	if h.current == nil {
		return 0
	}
	if h.current.State == Migrated {
		return h.current.Version
	}
	n, _ := strconv.Atoi(h.current.Previous) // "<none>" gives 0
	return n
}

// parseRow reads one row of historyColumns, from the stream or the table.
// where names the row in errors.
func parseRow(r []Value, where string) (key string, info VersionInfo, err error) {
	if len(r) != 9 {
		return "", info, fmt.Errorf("read the migration history: got %d columns, want 9", len(r))
	}
	v, err := strconv.Atoi(r[1].Text)
	if err != nil {
		// Not written by a migrator; ksql-migrations would choke on it too,
		// so say where it is.
		return "", info, fmt.Errorf("migration history %s: VERSION %q is not a number", where, r[1].Text)
	}
	return r[0].Text, VersionInfo{
		Version:     v,
		Name:        r[2].Text,
		State:       State(r[3].Text),
		Checksum:    r[4].Text,
		StartedOn:   millisTime(r[5]),
		CompletedOn: millisTime(r[6]),
		Previous:    r[7].Text,
		ErrorReason: r[8].Text,
	}, nil
}

// readEvents reads the events stream with a pull query, which ends at the
// stream's end as of the query's start, in offset order. exists is false
// when the stream is not there (no migration was ever applied, or
// destroy-metadata ran).
func readEvents(ctx context.Context, s Session, c Config) (evs []event, exists bool, err error) {
	// One partition, and a pull query over a stream returns its rows in
	// offset order: the row order is the order in which events were
	// written. (Pull queries do not serve ROWOFFSET, as in ksqlDB.)
	t, err := s.Query(ctx, fmt.Sprintf(`SELECT %s FROM %s;`, historyColumns, c.StreamName))
	if err != nil {
		if isUndefined(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("read the migration history from %s: %w", c.StreamName, err)
	}
	for i, r := range t.Rows {
		if len(r) != 9 {
			return nil, true, fmt.Errorf("read the migration history: got %d columns, want 9", len(r))
		}
		key, info, err := parseRow(r, fmt.Sprintf("%s row %d", c.StreamName, i+1))
		if err != nil {
			return nil, true, err
		}
		evs = append(evs, event{key: key, info: info, raw: r})
	}
	return evs, true, nil
}

// foldEvents computes, in Go, what the table holds: the latest event of
// each key. It is the fallback for an engine that cannot answer pull
// queries over the table (see Migrator.readHistory).
func foldEvents(evs []event) *history {
	h := emptyHistory()
	for i := range evs {
		info := evs[i].info
		h.current = &info
		if evs[i].key != currentKey {
			h.versions[info.Version] = &info
		}
	}
	return h
}

// createTableSQL is ksql-migrations' MIGRATION_SCHEMA_VERSIONS table, the
// latest event of each VERSION_KEY, with the same statement. One
// partition, like the stream it reads. The session that runs it must read
// the stream from the earliest offset, or a table created over an existing
// history would miss it.
func (c Config) createTableSQL() string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s WITH (KAFKA_TOPIC=%s, PARTITIONS=1, REPLICAS=%d) AS
  SELECT VERSION_KEY,
    LATEST_BY_OFFSET(VERSION) AS VERSION,
    LATEST_BY_OFFSET(NAME) AS NAME,
    LATEST_BY_OFFSET(STATE) AS STATE,
    LATEST_BY_OFFSET(CHECKSUM) AS CHECKSUM,
    LATEST_BY_OFFSET(STARTED_ON) AS STARTED_ON,
    LATEST_BY_OFFSET(COMPLETED_ON) AS COMPLETED_ON,
    LATEST_BY_OFFSET(PREVIOUS) AS PREVIOUS,
    LATEST_BY_OFFSET(ERROR_REASON) AS ERROR_REASON
  FROM %s
  GROUP BY VERSION_KEY
  EMIT CHANGES;`, c.TableName, quote(c.TableTopic), c.Replicas, c.StreamName)
}

// tableRows is the table as a pull query returns it: the row of each
// VERSION_KEY, in historyColumns order.
type tableRows map[string][]Value

// readTable reads the whole table with a pull query. It is small: two rows
// per version, at most.
func readTable(ctx context.Context, s Session, c Config) (tableRows, error) {
	t, err := s.Query(ctx, fmt.Sprintf(`SELECT %s FROM %s;`, historyColumns, c.TableName))
	if err != nil {
		return nil, err
	}
	rows := tableRows{}
	for _, r := range t.Rows {
		if len(r) != 9 {
			return nil, fmt.Errorf("read the migration history from %s: got %d columns, want 9", c.TableName, len(r))
		}
		rows[r[0].Text] = r
	}
	return rows, nil
}

// shows reports whether the table has consumed ev: its row for ev's key
// equals ev in every column ev sets. Columns ev leaves NULL are skipped
// because LATEST_BY_OFFSET ignores NULLs and keeps the value before. The
// stream has one partition and the table's query consumes it in order, so
// a table that shows the stream's last event has consumed every event
// before it too.
func (rows tableRows) shows(ev *event) bool {
	r := rows[ev.key]
	if r == nil {
		return false
	}
	for i, v := range ev.raw {
		if !v.Null && (r[i].Null || r[i].Text != v.Text) {
			return false
		}
	}
	return true
}

// history turns the table's rows into the history the fold of the stream
// would give.
func (rows tableRows) history(c Config) (*history, error) {
	h := emptyHistory()
	var latest *VersionInfo // of the version rows
	for key, r := range rows {
		_, info, err := parseRow(r, fmt.Sprintf("%s row %q", c.TableName, key))
		if err != nil {
			return nil, err
		}
		info.normalize()
		if key == currentKey {
			h.current = &info
			continue
		}
		h.versions[info.Version] = &info
		if latest == nil || info.Version > latest.Version {
			latest = &info
		}
	}
	// Versions only go forward, so the highest version's row is the latest
	// version event. CURRENT is written after it and is normally the same
	// event; if the applier stopped between the two writes, the version
	// row is the newer one, as the fold's "latest event of all" would say.
	if latest != nil && (h.current == nil || newer(latest, h.current)) {
		cur := *latest
		h.current = &cur
	}
	return h, nil
}

// normalize undoes what LATEST_BY_OFFSET's NULL skipping does to a row: a
// RUNNING event writes no COMPLETED_ON or ERROR_REASON and a MIGRATED
// event no ERROR_REASON, yet the table keeps those of an earlier run of the
// version. The event's own state says which columns are its own.
func (v *VersionInfo) normalize() {
	switch v.State {
	case Running:
		v.CompletedOn, v.ErrorReason = time.Time{}, ""
	case Migrated:
		v.ErrorReason = ""
	}
}

// newer reports whether a is a later event than b.
func newer(a, b *VersionInfo) bool {
	switch {
	case a.Version != b.Version:
		return a.Version > b.Version
	case !a.StartedOn.Equal(b.StartedOn):
		return a.StartedOn.After(b.StartedOn) // a later run of the version
	default:
		return b.State == Running && a.State != Running // the same run, finished
	}
}

func millisTime(v Value) time.Time {
	if v.Null || v.Text == "" {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(v.Text, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func millisText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// eventOf renders v as the event written under key: the INSERT and the
// column values a reader of the table will see.
func eventOf(c Config, key string, v *VersionInfo) (stmt string, ev event) {
	text := func(s string) Value { return Value{Text: s} }
	orNull := func(s string) Value { return Value{Text: s, Null: s == ""} }
	ev = event{key: key, info: *v, raw: []Value{
		text(key), text(strconv.Itoa(v.Version)), text(v.Name), text(string(v.State)),
		orNull(v.Checksum), orNull(millisText(v.StartedOn)), orNull(millisText(v.CompletedOn)),
		text(v.Previous), orNull(v.ErrorReason),
	}}
	stmt = fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s);`,
		c.StreamName, historyColumns, quote(key), quote(strconv.Itoa(v.Version)), quote(v.Name), quote(string(v.State)),
		nullable(v.Checksum), nullable(millisText(v.StartedOn)), nullable(millisText(v.CompletedOn)),
		quote(v.Previous), nullable(v.ErrorReason))
	return stmt, ev
}

// writeEvent records a version's state: under its version key, then under
// CURRENT, as ksql-migrations does. It returns the CURRENT event, the last
// one written.
func writeEvent(ctx context.Context, s Session, c Config, v *VersionInfo) (*event, error) {
	var last event
	for _, key := range []string{strconv.Itoa(v.Version), currentKey} {
		stmt, ev := eventOf(c, key, v)
		if err := s.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("record version %d as %s in %s: %w", v.Version, v.State, c.StreamName, err)
		}
		last = ev
	}
	return &last, nil
}

// isUndefined reports an error saying that a stream does not exist.
func isUndefined(err error) bool {
	var se *sluice.Error
	return errors.As(err, &se) && (se.Code == sql.CodeUndefinedTable || se.Code == sql.CodeUndefinedObject)
}
