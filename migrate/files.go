package migrate

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MigrationsDir is the directory of a migrations project that holds the
// migration files, as in ksql-migrations.
const MigrationsDir = "migrations"

// PropertiesFile is ksql-migrations' configuration file at the root of a
// project. sluice reads the metadata names from it when it is there (see
// Config); every other key is ksqlDB-specific and ignored.
const PropertiesFile = "ksql-migrations.properties"

// File is one migration file: migrations/V000001__create_orders.sql is
// version 1 named "create orders".
type File struct {
	Version  int
	Name     string // the description with underscores as spaces
	Path     string // path in the project's file system, e.g. migrations/V000001__create_orders.sql
	Content  []byte
	Checksum string // MD5 of Content, lower-case hex, as ksql-migrations computes it
}

// Base returns the file's base name, e.g. V000001__create_orders.sql.
func (f *File) Base() string { return path.Base(f.Path) }

// FileName returns the file name ksql-migrations gives a new migration:
// V, the version in six digits, two underscores, the description with
// spaces as underscores, .sql.
func FileName(version int, description string) string {
	return fmt.Sprintf("V%06d__%s.sql", version, strings.ReplaceAll(strings.TrimSpace(description), " ", "_"))
}

// parseFileName splits V000001__create_orders.sql into 1 and "create
// orders". ok is false for a name that is not a migration file name at all
// (not V...sql); err explains a name that looks like one but is malformed,
// since a silently ignored migration is worse than a refusal.
func parseFileName(name string) (version int, desc string, ok bool, err error) {
	if !strings.HasPrefix(name, "V") || !strings.HasSuffix(name, ".sql") {
		return 0, "", false, nil
	}
	stem := strings.TrimSuffix(strings.TrimPrefix(name, "V"), ".sql")
	digits, rest, found := strings.Cut(stem, "__")
	if !found || digits == "" || rest == "" {
		return 0, "", true, fmt.Errorf("migration file %s: name must look like V000001__description.sql", name)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, "", true, fmt.Errorf("migration file %s: the version %q is not a number; name it like V000001__description.sql", name, digits)
		}
	}
	v, err := strconv.Atoi(digits)
	if err != nil || v <= 0 {
		return 0, "", true, fmt.Errorf("migration file %s: the version must be a positive number", name)
	}
	return v, strings.ReplaceAll(rest, "_", " "), true, nil
}

// LoadFiles reads the migration files of a project: the .sql files of its
// migrations/ directory, or of its root when it has no migrations/
// directory (so fsys may also be the migrations directory itself). They are
// returned in version order. Two files with the same version, or a .sql file
// whose name is not a migration file name, are errors.
func LoadFiles(fsys fs.FS) ([]*File, error) {
	dir := "."
	if st, err := fs.Stat(fsys, MigrationsDir); err == nil && st.IsDir() {
		dir = MigrationsDir
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var files []*File
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, desc, ok, err := parseFileName(e.Name())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("migration file %s: name must look like V000001__description.sql", e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration files %s and %s have the same version %d; give one of them another version", other, e.Name(), v)
		}
		seen[v] = e.Name()
		p := path.Join(dir, e.Name())
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", p, err)
		}
		files = append(files, &File{Version: v, Name: desc, Path: p, Content: b, Checksum: checksum(b)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	return files, nil
}

func checksum(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// ReadProperties reads ksql-migrations.properties at the root of fsys, if it
// is there, as a Java properties file of key=value (or key: value) lines
// with # and ! comments. A missing file yields an empty map.
func ReadProperties(fsys fs.FS) (map[string]string, error) {
	b, err := fs.ReadFile(fsys, PropertiesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", PropertiesFile, err)
	}
	return parseProperties(b), nil
}

// parseProperties handles the subset of the Java properties syntax that
// configuration files use: one key per line, '=' or ':' or blank as the
// separator, comments starting with # or !. Line continuations and escapes
// are not used by ksql-migrations' keys and are not supported.
func parseProperties(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=: \t")
		if i < 0 {
			out[line] = ""
			continue
		}
		out[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return out
}

// propertiesTemplate is written by NewProject. The keys are ksql-migrations'
// own, so the same project can be applied to ksqlDB; sluice uses only the
// metadata names.
const propertiesTemplate = `# Configuration of this migrations project, read by sluice migrate and by
# ksqlDB's ksql-migrations tool.

# ksqlDB's server (ksql-migrations only; sluice takes --server or --data-dir).
ksql.server.url=http://localhost:8088

# The migration history: a stream of migration events over a topic, and the
# table of schema versions built from it. The defaults are shown.
# ksql.migrations.stream.name=MIGRATION_EVENTS
# ksql.migrations.table.name=MIGRATION_SCHEMA_VERSIONS
# ksql.migrations.stream.topic.name=<service id>_ksql_MIGRATION_EVENTS
# ksql.migrations.table.topic.name=<service id>_ksql_MIGRATION_SCHEMA_VERSIONS
# ksql.migrations.topic.replicas=1
`

// NewProject creates a migrations project in dir: dir/migrations and
// dir/ksql-migrations.properties. It fails if dir already holds a project,
// so that it never overwrites a configuration.
func NewProject(dir string) error {
	props := filepath.Join(dir, PropertiesFile)
	if _, err := os.Stat(props); err == nil {
		return fmt.Errorf("%s already exists: %s is already a migrations project", props, dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, MigrationsDir), 0o755); err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	if err := os.WriteFile(props, []byte(propertiesTemplate), 0o644); err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	return nil
}

// CreateFile adds an empty migration file for description to the project in
// dir and returns its path. version 0 means the version after the highest
// one present.
func CreateFile(dir, description string, version int) (string, error) {
	desc := strings.TrimSpace(description)
	if desc == "" {
		return "", errors.New("create migration: the description is empty")
	}
	for _, r := range desc {
		if !(r == ' ' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", fmt.Errorf("create migration: the description %q may only contain letters, digits, spaces and underscores, as it becomes the file name", desc)
		}
	}
	mdir := filepath.Join(dir, MigrationsDir)
	if st, err := os.Stat(mdir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("create migration: %s is not a directory; run 'sluice migrate new-project %s' first", mdir, dir)
	}
	files, err := LoadFiles(os.DirFS(dir))
	if err != nil {
		return "", err
	}
	if version == 0 {
		version = 1
		if n := len(files); n > 0 {
			version = files[n-1].Version + 1
		}
	}
	for _, f := range files {
		if f.Version == version {
			return "", fmt.Errorf("create migration: version %d is taken by %s", version, f.Path)
		}
	}
	p := filepath.Join(mdir, FileName(version, desc))
	// O_EXCL: two engineers creating migrations at once must not silently
	// overwrite each other's file.
	fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("create migration: %w", err)
	}
	header := fmt.Sprintf("-- Migration %d: %s\n-- Statements run in order; DEFINE name = 'value'; sets ${name} for the rest of the file.\n", version, desc)
	_, werr := fh.WriteString(header)
	if cerr := fh.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("create migration: %w", werr)
	}
	return p, nil
}
