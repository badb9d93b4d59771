package migrate

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// Migrator applies the migration files of a project to a sluice engine and
// reports their state. It is safe to use from one goroutine at a time; two
// Migrators (in one process or many) exclude each other through the apply
// lock.
type Migrator struct {
	conn      Conn
	fsys      fs.FS
	cfg       Config
	serviceID string
	defines   map[string]string
	out       io.Writer
	lockWait  time.Duration
	lease     time.Duration
	poll      time.Duration
	// tableWait bounds how long a read waits for the schema-versions table
	// to catch up with the events stream (see table.go).
	tableWait time.Duration
}

// Option configures a Migrator.
type Option func(*Migrator)

// WithDefines sets variables for ${name} substitution in every migration
// file, like ksql-migrations' --define. A DEFINE in a file overrides them
// for the rest of that file.
func WithDefines(vars map[string]string) Option {
	return func(m *Migrator) {
		for k, v := range vars {
			m.defines[k] = v
		}
	}
}

// WithServiceID names the sluice service whose metadata topics are used
// (see DefaultConfig). Default "sluice", sluice's own default.
func WithServiceID(id string) Option { return func(m *Migrator) { m.serviceID = id } }

// WithConfig replaces the metadata names entirely; the project's
// ksql-migrations.properties is then not consulted.
func WithConfig(c Config) Option {
	return func(m *Migrator) { m.cfg = c }
}

// WithOutput makes the Migrator print one line per step (version started,
// statement skipped, version migrated) to w. Default: silent.
func WithOutput(w io.Writer) Option { return func(m *Migrator) { m.out = w } }

// WithLockWait sets how long Apply waits for another applier to finish
// before it fails with a *LockedError. Default one minute; 0 fails at once.
func WithLockWait(d time.Duration) Option { return func(m *Migrator) { m.lockWait = d } }

// WithLease sets the apply lock's lease: an applier that stops without
// releasing the lock (a crash) blocks others for this long after its last
// renewal. The holder renews before every statement, so the lease must
// only outlast one statement. Default two minutes.
func WithLease(d time.Duration) Option { return func(m *Migrator) { m.lease = d } }

// New returns a Migrator of the project in fsys applied to an embedded
// engine. fsys is the project directory, whose migrations/ directory holds
// the files (os.DirFS(dir), or an embed.FS with //go:embed migrations);
// an fsys without migrations/ is taken as the migrations directory itself.
// A ksql-migrations.properties at its root sets the metadata names.
func New(e *sluice.Engine, fsys fs.FS, opts ...Option) (*Migrator, error) {
	return NewConn(EngineConn(e), fsys, opts...)
}

// NewConn is New for any Conn, such as a running sluice reached with Dial.
func NewConn(c Conn, fsys fs.FS, opts ...Option) (*Migrator, error) {
	m := &Migrator{
		conn:      c,
		fsys:      fsys,
		serviceID: "sluice",
		defines:   map[string]string{},
		out:       io.Discard,
		lockWait:  time.Minute,
		lease:     2 * time.Minute,
		poll:      250 * time.Millisecond,
		tableWait: 10 * time.Second,
	}
	for _, o := range opts {
		o(m)
	}
	if m.cfg.StreamName == "" {
		props, err := ReadProperties(fsys)
		if err != nil {
			return nil, err
		}
		if m.cfg, err = DefaultConfig(m.serviceID).withProperties(props); err != nil {
			return nil, err
		}
	}
	if m.lease <= 0 {
		return nil, errors.New("migrate: the lock lease must be positive")
	}
	return m, nil
}

// Config returns the metadata names in use.
func (m *Migrator) Config() Config { return m.cfg }

func (m *Migrator) printf(format string, args ...any) { fmt.Fprintf(m.out, format+"\n", args...) }

// Target selects what Apply applies. The zero Target applies every pending
// migration (--all).
type Target struct {
	Next    bool // only the next pending version (--next)
	Until   int  // every pending version up to and including Until (--until)
	Version int  // exactly this version, which must be the next pending one (--version)
	DryRun  bool // print what would run; change nothing (--dry-run)
}

func (t Target) check() error {
	n := 0
	if t.Next {
		n++
	}
	if t.Until != 0 {
		n++
	}
	if t.Version != 0 {
		n++
	}
	if n > 1 {
		return errors.New("apply: choose one of all, next, until and version")
	}
	if t.Until < 0 || t.Version < 0 {
		return errors.New("apply: versions are positive numbers")
	}
	return nil
}

// ApplyReport says what Apply did.
type ApplyReport struct {
	// Applied lists the versions migrated by this call, in order.
	Applied []VersionInfo
	// Planned lists, for a dry run, the versions that would be applied and
	// their statements after variable substitution.
	Planned []PlannedVersion
	// Current is the last migrated version after the call, 0 for none.
	Current int
}

// PlannedVersion is a version a dry run would apply.
type PlannedVersion struct {
	File       *File
	Statements []string
}

// Apply applies the pending migrations that t selects, in version order,
// each in a session of its own. Before it changes anything it takes the
// apply lock and checks that the files of applied versions are unchanged.
//
// A statement that fails stops Apply: the version is recorded as ERROR with
// the file, the statement and the reason, and Apply returns a
// *StatementError. After the file is fixed, Apply starts with that version
// again and skips the statements that had been applied, provided they are
// unchanged.
func (m *Migrator) Apply(ctx context.Context, t Target) (*ApplyReport, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	files, err := LoadFiles(m.fsys)
	if err != nil {
		return nil, err
	}
	s, err := m.conn.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()

	if t.DryRun {
		// A dry run neither creates the metadata nor takes the lock: it
		// shows what an apply would do as of now.
		h, _, _, err := m.readHistory(ctx, s)
		if err != nil {
			return nil, err
		}
		return m.plan(h, files, t)
	}

	if err := m.ensureMetadata(ctx, s); err != nil {
		return nil, err
	}
	lk := &applyLock{s: s, cfg: m.cfg, owner: newOwner(), lease: m.lease, poll: m.poll}
	if err := lk.acquire(ctx, m.lockWait); err != nil {
		return nil, err
	}
	defer func() {
		if rerr := lk.release(ctx); rerr != nil {
			m.printf("warning: could not release the migrations lock (it expires after %s): %v", m.lease, rerr)
		}
	}()

	// Under the lock, so that two appliers never both create it. A project
	// initialized before sluice built the table gets it here.
	if err := m.ensureTable(ctx); err != nil {
		return nil, err
	}
	// Read the history only now: while this applier waited, another may
	// have applied what this one was going to.
	h, _, _, err := m.readHistory(ctx, s)
	if err != nil {
		return nil, err
	}
	// Runs before the deferred release: the next holder of the lock, and
	// whoever queries the table once Apply returns, find what it wrote.
	var last *event
	defer func() { m.settle(ctx, s, last) }()
	if problems := checkApplied(h, files); len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	todo, err := selectVersions(h, files, t)
	if err != nil {
		return nil, err
	}
	rep := &ApplyReport{Current: h.migratedUpTo()}
	if len(todo) == 0 {
		m.printf("Nothing to apply: the current version is %s.", versionText(rep.Current))
		return rep, nil
	}
	for _, f := range todo {
		info, ev, err := m.applyFile(ctx, s, lk, h, f)
		if ev != nil {
			last = ev
		}
		if err != nil {
			return rep, err
		}
		rep.Applied = append(rep.Applied, *info)
		rep.Current = f.Version
		h.current = info
	}
	return rep, nil
}

func versionText(v int) string {
	if v == 0 {
		return noVersion
	}
	return strconv.Itoa(v)
}

// ensureMetadata creates the events and lock streams if they are missing.
// Two appliers creating them at once may both pass IF NOT EXISTS on
// different engines; the loser's duplicate error is then harmless. The
// table is not created here but under the lock (ensureTable), which needs
// the lock stream first.
func (m *Migrator) ensureMetadata(ctx context.Context, s Session) error {
	for _, stmt := range []string{m.cfg.createStreamSQL(), m.cfg.createLockSQL()} {
		if err := s.Exec(ctx, stmt); err != nil {
			var se *sluice.Error
			if errors.As(err, &se) && se.Code == sql.CodeDuplicateObject {
				continue
			}
			return fmt.Errorf("create the migration metadata: %w", err)
		}
	}
	return nil
}

// InitializeMetadata creates the migration metadata if it does not exist,
// like ksql-migrations' initialize-metadata: the events stream, the
// MIGRATION_SCHEMA_VERSIONS table over it, and the lock stream. It takes
// the apply lock to create the table, waiting as Apply does. Apply does all
// this by itself.
func (m *Migrator) InitializeMetadata(ctx context.Context) error {
	s, err := m.conn.NewSession(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := m.ensureMetadata(ctx, s); err != nil {
		return err
	}
	return m.ensureTableLocked(ctx, s, m.lockWait)
}

// DestroyMetadata drops the migration metadata and deletes its topics, like
// ksql-migrations' destroy-metadata. The streams and tables the migrations
// created stay. It takes the apply lock first, so it never pulls the
// history from under a running apply.
func (m *Migrator) DestroyMetadata(ctx context.Context) error {
	s, err := m.conn.NewSession(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	_, exists, err := readEvents(ctx, s, m.cfg)
	if err != nil {
		return err
	}
	if exists {
		if err := m.ensureMetadata(ctx, s); err != nil {
			return err
		}
		lk := &applyLock{s: s, cfg: m.cfg, owner: newOwner(), lease: m.lease, poll: m.poll}
		if err := lk.acquire(ctx, 0); err != nil {
			return err
		}
		// Dropping the lock stream below releases the lock with it.
	}
	// The table first: its query reads the events stream, which cannot be
	// dropped while it does.
	if err := m.dropTable(ctx, s); err != nil {
		return err
	}
	stmts := []string{
		fmt.Sprintf("DROP STREAM IF EXISTS %s DELETE TOPIC;", m.cfg.StreamName),
		fmt.Sprintf("DROP STREAM IF EXISTS %s DELETE TOPIC;", m.cfg.LockName),
	}
	for _, stmt := range stmts {
		if err := s.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("destroy the migration metadata: %s: %w", stmt, err)
		}
	}
	return nil
}

// checkApplied lists what is wrong with the files of applied versions:
// changed, missing, or a file that was added below the current version and
// can never be applied (migrations are forward only).
func checkApplied(h *history, files []*File) []string {
	byVersion := map[int]*File{}
	for _, f := range files {
		byVersion[f.Version] = f
	}
	var problems []string
	versions := make([]int, 0, len(h.versions))
	for v := range h.versions {
		versions = append(versions, v)
	}
	sort.Ints(versions)
	for _, v := range versions {
		info := h.versions[v]
		if info.State != Migrated {
			continue
		}
		f := byVersion[v]
		switch {
		case f == nil:
			problems = append(problems, fmt.Sprintf("version %d (%s) was applied but its file is missing from the project", v, info.Name))
		case f.Checksum != info.Checksum:
			problems = append(problems, fmt.Sprintf("%s was changed after it was applied (checksum %s, applied %s); migrations are forward only: restore it and put the change in a new migration", f.Path, f.Checksum, info.Checksum))
		}
	}
	cur := h.migratedUpTo()
	for _, f := range files {
		if info := h.versions[f.Version]; f.Version < cur && (info == nil || info.State != Migrated) {
			problems = append(problems, fmt.Sprintf("%s has a version below the current version %d but was never applied; migrations are forward only: give it a version above %d", f.Path, cur, cur))
		}
	}
	return problems
}

// ValidationError lists the differences between the applied history and
// the project's files.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string {
	return "the migration files do not match the applied history:\n  " + strings.Join(e.Problems, "\n  ")
}

// Validate checks that the file of every applied version is present and
// unchanged since it was applied (by checksum), like ksql-migrations'
// validate. It returns a *ValidationError listing the differences.
func (m *Migrator) Validate(ctx context.Context) error {
	files, err := LoadFiles(m.fsys)
	if err != nil {
		return err
	}
	s, err := m.conn.NewSession(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	h, _, _, err := m.readHistory(ctx, s)
	if err != nil {
		return err
	}
	if problems := checkApplied(h, files); len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// InfoReport is the state of every version: applied or not, with or without
// a file.
type InfoReport struct {
	// Current is the latest version recorded (in any state), nil when no
	// migration was ever applied.
	Current  *VersionInfo
	Versions []VersionInfo // in version order
}

// Info reads the history and lists every version of the project's files
// and of the history, like ksql-migrations' info. Files that were never
// applied are PENDING. A project whose history has no
// MIGRATION_SCHEMA_VERSIONS table yet (initialized by an older sluice) gets
// it here, unless another applier holds the lock, which then creates it.
func (m *Migrator) Info(ctx context.Context) (*InfoReport, error) {
	files, err := LoadFiles(m.fsys)
	if err != nil {
		return nil, err
	}
	s, err := m.conn.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	h, exists, status, err := m.readHistory(ctx, s)
	if err != nil {
		return nil, err
	}
	if exists && status == tableMissing {
		// Info does not wait for the lock: an applier holding it creates
		// the table itself, and the history read above is complete. Without
		// a lock stream (the events stream was made by hand, or an applier
		// stopped between creating the two) info stays read-only too.
		switch err := m.ensureTableLocked(ctx, s, 0); {
		case errors.Is(err, ErrLocked), isUndefined(err):
		case err != nil:
			return nil, err
		default:
			if h, _, _, err = m.readHistory(ctx, s); err != nil {
				return nil, err
			}
		}
	}
	rep := &InfoReport{Current: h.current}
	seen := map[int]bool{}
	for _, f := range files {
		seen[f.Version] = true
		if info := h.versions[f.Version]; info != nil {
			vi := *info
			vi.File = f
			rep.Versions = append(rep.Versions, vi)
			continue
		}
		rep.Versions = append(rep.Versions, VersionInfo{Version: f.Version, Name: f.Name, State: Pending, File: f})
	}
	for v, info := range h.versions {
		if !seen[v] {
			rep.Versions = append(rep.Versions, *info)
		}
	}
	sort.Slice(rep.Versions, func(i, j int) bool { return rep.Versions[i].Version < rep.Versions[j].Version })
	return rep, nil
}

// selectVersions returns the files Apply runs for t: the pending files
// above the last migrated version, starting with a version left in ERROR
// or RUNNING, narrowed by t.
func selectVersions(h *history, files []*File, t Target) ([]*File, error) {
	cur := h.migratedUpTo()
	var pending []*File
	for _, f := range files {
		if f.Version > cur {
			pending = append(pending, f)
		}
	}
	if c := h.current; c != nil && c.State != Migrated {
		if len(pending) == 0 || pending[0].Version != c.Version {
			return nil, fmt.Errorf("version %d (%s) is %s but its file is missing; restore it to continue", c.Version, c.Name, c.State)
		}
	}
	switch {
	case t.Next:
		if len(pending) > 1 {
			pending = pending[:1]
		}
	case t.Until != 0:
		if t.Until <= cur {
			return nil, fmt.Errorf("apply --until %d: version %d is already migrated (the current version is %d)", t.Until, t.Until, cur)
		}
		k := 0
		for k < len(pending) && pending[k].Version <= t.Until {
			k++
		}
		pending = pending[:k]
	case t.Version != 0:
		if len(pending) == 0 || pending[0].Version != t.Version {
			next := "none: everything is migrated"
			if len(pending) > 0 {
				next = strconv.Itoa(pending[0].Version)
			}
			return nil, fmt.Errorf("apply --version %d: only the next pending version can be applied (the next is %s; the current is %s)", t.Version, next, versionText(cur))
		}
		pending = pending[:1]
	}
	return pending, nil
}

// plan is a dry run: the versions Apply would run and their statements.
func (m *Migrator) plan(h *history, files []*File, t Target) (*ApplyReport, error) {
	if problems := checkApplied(h, files); len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	todo, err := selectVersions(h, files, t)
	if err != nil {
		return nil, err
	}
	rep := &ApplyReport{Current: h.migratedUpTo()}
	for _, f := range todo {
		stmts, err := m.statements(f)
		if err != nil {
			return nil, err
		}
		pv := PlannedVersion{File: f}
		for _, st := range stmts {
			if st.kind == kindDefine {
				continue
			}
			pv.Statements = append(pv.Statements, st.text)
		}
		rep.Planned = append(rep.Planned, pv)
	}
	return rep, nil
}

// statement kinds, for how applyFile treats each statement.
const (
	kindChange  = iota // changes the engine: run once
	kindSession        // SET / UNSET: session state, rerun when resuming
	kindDefine         // DEFINE / UNDEFINE: handled here
)

// stmt is one statement of a migration file, after substitution.
type stmt struct {
	raw  sql.Part // as written in the file
	text string   // after ${var} substitution
	kind int
}

// statements splits a file and substitutes variables statement by
// statement, so that a DEFINE applies to the statements after it, as in
// ksqlDB's CLI. Variables are substituted here rather than by the engine so
// that both Conns, and dry runs, behave alike.
func (m *Migrator) statements(f *File) ([]stmt, error) {
	parts, err := sql.Split(string(f.Content))
	if err != nil {
		return nil, fileError(f, sql.Pos{}, 0, 0, "", err)
	}
	vars := make(map[string]string, len(m.defines))
	for k, v := range m.defines {
		vars[k] = v
	}
	out := make([]stmt, 0, len(parts))
	for i, p := range parts {
		text, err := sql.Substitute(p.Text, vars)
		if err != nil {
			return nil, fileError(f, p.At, i+1, len(parts), p.Text, err)
		}
		st := stmt{raw: p, text: text, kind: kindChange}
		// A statement that does not parse here is still sent: the engine
		// reports its error, with its position, like for any other.
		parsed, _ := sql.ParseOne(text)
		switch pt := parsed.(type) {
		case *sql.DefineVariable:
			vars[pt.Name] = pt.Value
			st.kind = kindDefine
		case *sql.UndefineVariable:
			delete(vars, pt.Name)
			st.kind = kindDefine
		case *sql.SetProperty, *sql.UnsetProperty:
			st.kind = kindSession
		case *sql.Query, *sql.Show, *sql.Describe, *sql.Explain:
			return nil, fileError(f, p.At, i+1, len(parts), p.Text, sql.Errorf(sql.CodeFeatureNotSupported, sql.Pos{Line: 1, Col: 1},
				"a migration may not contain queries, SHOW, DESCRIBE or EXPLAIN").
				WithHint("keep DDL, INSERT, SET and DEFINE statements in migrations"))
		}
		out = append(out, st)
	}
	return out, nil
}

// prefixDigest identifies the first n statements of a file as written,
// ignoring comments and blank space between statements, so that a fix below
// a failed statement's applied predecessors can be checked against them.
func prefixDigest(stmts []stmt, n int) string {
	h := md5.New()
	for _, s := range stmts[:n] {
		io.WriteString(h, s.raw.Text)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// progressMarker is appended to the ERROR_REASON of a failed version so
// that the next apply knows how many statements took effect. It is text in
// ksql-migrations' ERROR_REASON column because that schema has no other
// place for it, and a person reading the reason learns the same thing.
const progressMarker = " [sluice: %d applied, prefix md5 %s]"

// Reason returns ErrorReason for people: the progress marker becomes
// "(N statement(s) before it had been applied)".
func (v VersionInfo) Reason() string {
	n, _, ok := parseProgress(v.ErrorReason)
	if !ok {
		return v.ErrorReason
	}
	return fmt.Sprintf("%s (%d statement(s) before it had been applied)", v.ErrorReason[:strings.LastIndex(v.ErrorReason, " [sluice: ")], n)
}

func parseProgress(reason string) (n int, digest string, ok bool) {
	const lead = " [sluice: "
	i := strings.LastIndex(reason, lead)
	if i < 0 || !strings.HasSuffix(reason, "]") {
		return 0, "", false
	}
	// %s stops only at blank space, so the closing bracket is read with the
	// digest and trimmed.
	if _, err := fmt.Sscanf(reason[i+len(lead):], "%d applied, prefix md5 %s", &n, &digest); err != nil {
		return 0, "", false
	}
	return n, strings.TrimSuffix(digest, "]"), true
}

// applyFile applies one version: RUNNING, its statements, MIGRATED or ERROR.
// It returns the last event it wrote, also when it fails.
func (m *Migrator) applyFile(ctx context.Context, s Session, lk *applyLock, h *history, f *File) (*VersionInfo, *event, error) {
	stmts, err := m.statements(f)
	if err != nil {
		return nil, nil, err
	}
	// Resuming a failed version: skip what took effect, if unchanged.
	skip := 0
	if c := h.current; c != nil && c.Version == f.Version {
		switch c.State {
		case Error:
			if n, digest, ok := parseProgress(c.ErrorReason); ok && n > 0 {
				if n > len(stmts) || prefixDigest(stmts, n) != digest {
					return nil, nil, fmt.Errorf("%s failed earlier after its first %d statement(s) had been applied, and those statements have changed since; "+
						"migrations are forward only: restore statements 1-%d as they were and fix only the statements after them", f.Path, n, n)
				}
				skip = n
			}
		case Running:
			m.printf("Version %d was left RUNNING by an applier that stopped; applying it again from its first statement.", f.Version)
		}
	}
	prev := versionText(h.migratedUpTo())
	info := &VersionInfo{Version: f.Version, Name: f.Name, State: Running, Checksum: f.Checksum,
		Previous: prev, StartedOn: time.Now(), File: f}
	if err := lk.renew(ctx); err != nil {
		return nil, nil, err
	}
	last, err := writeEvent(ctx, s, m.cfg, info)
	if err != nil {
		return nil, nil, err
	}
	m.printf("Applying %s (version %d: %s)", f.Base(), f.Version, f.Name)

	sess, err := m.conn.NewSession(ctx)
	if err != nil {
		err = m.fail(ctx, s, info, err, len(stmts), 0, stmts, &last)
		return nil, last, err
	}
	defer sess.Close()
	done := 0
	for i, st := range stmts {
		if st.kind == kindDefine {
			done = i + 1
			continue
		}
		if i < skip && st.kind == kindChange {
			m.printf("  statement %d of %d was applied before; skipping it", i+1, len(stmts))
			done = i + 1
			continue
		}
		if err := lk.renew(ctx); err != nil {
			// Another applier owns the history now: write nothing more.
			return nil, last, fmt.Errorf("%s: stopped before statement %d of %d: %w", f.Path, i+1, len(stmts), err)
		}
		if err := sess.Exec(ctx, st.text); err != nil {
			serr := fileError(f, st.raw.At, i+1, len(stmts), st.raw.Text, shiftedOnly(err, st))
			err := m.fail(ctx, s, info, serr, len(stmts), done, stmts, &last)
			return nil, last, err
		}
		done = i + 1
	}
	info.State = Migrated
	info.CompletedOn = time.Now()
	if last, err = writeEvent(ctx, s, m.cfg, info); err != nil {
		return nil, nil, err
	}
	m.printf("  MIGRATED version %d", f.Version)
	return info, last, nil
}

// fail records a version as ERROR and returns the error to report; *last
// becomes the ERROR event once it is written.
func (m *Migrator) fail(ctx context.Context, s Session, info *VersionInfo, cause error, total, done int, stmts []stmt, last **event) error {
	info.State = Error
	info.CompletedOn = time.Now()
	info.ErrorReason = cause.Error() + fmt.Sprintf(progressMarker, done, prefixDigest(stmts, done))
	// Record the failure even if ctx was cancelled: the history must not
	// be left RUNNING by an applier that is still alive to say why.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ev, err := writeEvent(wctx, s, m.cfg, info)
	if err != nil {
		return errors.Join(cause, err)
	}
	*last = ev
	m.printf("  ERROR in version %d: %v", info.Version, cause)
	return cause
}

// shiftedOnly keeps an engine error's position only when substitution left
// the statement's text unchanged; otherwise the position would point into
// text the user did not write.
func shiftedOnly(err error, st stmt) error {
	var se *sluice.Error
	if st.text == st.raw.Text || !errors.As(err, &se) {
		return err
	}
	cp := *se
	cp.Pos = sql.Pos{}
	return &cp
}

// StatementError is a failed statement of a migration file.
type StatementError struct {
	File      string  // the file's path in the project
	Pos       sql.Pos // where in the file: the error's position, or the statement's start
	Index     int     // 1-based statement number, 0 when the file could not be split
	Total     int     // statements in the file
	Statement string  // the statement as written (shortened)
	Err       error   // the engine's error, usually a *sluice.Error with a SQLSTATE
}

func (e *StatementError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.IsValid() {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Col)
	}
	b.WriteString(": ")
	if e.Index > 0 {
		fmt.Fprintf(&b, "statement %d of %d (%s) failed: ", e.Index, e.Total, e.Statement)
	}
	var se *sluice.Error
	if errors.As(e.Err, &se) {
		b.WriteString(se.Msg)
		fmt.Fprintf(&b, " (SQLSTATE %s", se.Code)
		if se.Hint != "" {
			b.WriteString("; hint: " + se.Hint)
		}
		b.WriteString(")")
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *StatementError) Unwrap() error { return e.Err }

// fileError builds a StatementError whose position is in the file: the
// engine's statement-relative position moved to where the statement
// starts, or the statement's start.
func fileError(f *File, at sql.Pos, index, total int, text string, err error) *StatementError {
	pos := at
	var se *sluice.Error
	if errors.As(err, &se) && se.Pos.IsValid() {
		if !at.IsValid() {
			pos = se.Pos
		} else {
			pos = sql.Pos{Line: at.Line + se.Pos.Line - 1, Col: se.Pos.Col, Offset: at.Offset + se.Pos.Offset}
			if se.Pos.Line == 1 {
				pos.Col = at.Col + se.Pos.Col - 1
			}
		}
	}
	return &StatementError{File: f.Path, Pos: pos, Index: index, Total: total, Statement: shorten(text), Err: err}
}

// shorten returns a statement's first line, cut to 60 characters.
func shorten(s string) string {
	line, _, more := strings.Cut(s, "\n")
	line = strings.TrimSpace(line)
	if r := []rune(line); len(r) > 60 {
		line, more = string(r[:60]), true
	}
	if more {
		line += " ..."
	}
	return line
}
