package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
	// (ksql.migrations.table.name, ksql.migrations.table.topic.name). sluice
	// does not create it yet (see the package documentation); destroy
	// removes it if it exists.
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
	offset int64
	key    string
	info   VersionInfo
}

// history is the migration history as read from the events stream: the
// latest event of each version key, which is what ksql-migrations'
// MIGRATION_SCHEMA_VERSIONS table (LATEST_BY_OFFSET per VERSION_KEY) holds.
type history struct {
	versions map[int]*VersionInfo
	// current is the latest event of all. Every state change writes the
	// version's event and then the same values under CURRENT; taking the
	// latest of either makes a crash between the two writes harmless.
	current *VersionInfo
}

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

// readHistory reads the events stream with a pull query, which ends at the
// stream's end as of the query's start. exists is false when the stream is
// not there (no migration was ever applied, or destroy-metadata ran).
func readHistory(ctx context.Context, s Session, c Config) (h *history, exists bool, err error) {
	t, err := s.Query(ctx, fmt.Sprintf(`SELECT ROWOFFSET, VERSION_KEY, VERSION, NAME, STATE, CHECKSUM, STARTED_ON, COMPLETED_ON, PREVIOUS, ERROR_REASON FROM %s;`, c.StreamName))
	if err != nil {
		if isUndefined(err) {
			return &history{versions: map[int]*VersionInfo{}}, false, nil
		}
		return nil, false, fmt.Errorf("read the migration history from %s: %w", c.StreamName, err)
	}
	var evs []event
	for _, r := range t.Rows {
		if len(r) != 10 {
			return nil, true, fmt.Errorf("read the migration history: got %d columns, want 10", len(r))
		}
		off, err := strconv.ParseInt(r[0].Text, 10, 64)
		if err != nil {
			return nil, true, fmt.Errorf("read the migration history: bad ROWOFFSET %q", r[0].Text)
		}
		v, err := strconv.Atoi(r[2].Text)
		if err != nil {
			// Not written by a migrator; ksql-migrations would choke on it
			// too, so say where it is.
			return nil, true, fmt.Errorf("migration history %s offset %d: VERSION %q is not a number", c.StreamName, off, r[2].Text)
		}
		evs = append(evs, event{offset: off, key: r[1].Text, info: VersionInfo{
			Version:     v,
			Name:        r[3].Text,
			State:       State(r[4].Text),
			Checksum:    r[5].Text,
			StartedOn:   millisTime(r[6]),
			CompletedOn: millisTime(r[7]),
			Previous:    r[8].Text,
			ErrorReason: r[9].Text,
		}})
	}
	// One partition: offsets are the order in which events were written.
	sort.Slice(evs, func(i, j int) bool { return evs[i].offset < evs[j].offset })
	h = &history{versions: map[int]*VersionInfo{}}
	for i := range evs {
		info := evs[i].info
		h.current = &info
		if evs[i].key != currentKey {
			h.versions[info.Version] = &info
		}
	}
	return h, true, nil
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

// writeEvent records a version's state: under its version key, then under
// CURRENT, as ksql-migrations does.
func writeEvent(ctx context.Context, s Session, c Config, v *VersionInfo) error {
	for _, key := range []string{strconv.Itoa(v.Version), currentKey} {
		stmt := fmt.Sprintf(`INSERT INTO %s (VERSION_KEY, VERSION, NAME, STATE, CHECKSUM, STARTED_ON, COMPLETED_ON, PREVIOUS, ERROR_REASON) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s);`,
			c.StreamName, quote(key), quote(strconv.Itoa(v.Version)), quote(v.Name), quote(string(v.State)),
			nullable(v.Checksum), nullable(millisText(v.StartedOn)), nullable(millisText(v.CompletedOn)),
			quote(v.Previous), nullable(v.ErrorReason))
		if err := s.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("record version %d as %s in %s: %w", v.Version, v.State, c.StreamName, err)
		}
	}
	return nil
}

// isUndefined reports an error saying that a stream does not exist.
func isUndefined(err error) bool {
	var se *sluice.Error
	return errors.As(err, &se) && (se.Code == sql.CodeUndefinedTable || se.Code == sql.CodeUndefinedObject)
}
