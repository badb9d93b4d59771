package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/migrate"
)

const migrateUsage = `Usage: sluice migrate [global flags] COMMAND [flags]

Applies versioned migration files (migrations/V000001__description.sql, the
layout of ksqlDB's ksql-migrations) to sluice, and keeps their history in the
engine itself.

Commands:
  new-project DIR          create DIR/migrations and DIR/ksql-migrations.properties
  create DESCRIPTION       add migrations/V<next>__DESCRIPTION.sql [--version N]
  apply                    apply pending migrations: one of --all, --next,
                           --until V, --version V; with --dry-run, --define k=v,
                           --wait DURATION (how long to wait for another applier)
  info                     list versions and their states
  validate                 check that applied files are unchanged
  initialize-metadata      create the history stream and table (apply does it by itself)
  destroy-metadata         drop the history and its topics

Global flags (before or after the command):
  --dir DIR                the project directory holding migrations/ (default .)
  --server URL             a running sluice, e.g. postgres://127.0.0.1:7432
  --data-dir DIR           or: an embedded engine on this data directory
  --brokers LIST           with --data-dir: an existing Kafka cluster instead of
                           the embedded broker
  --kafka-addr ADDR        with --data-dir: the embedded broker's listener
                           (default 127.0.0.1:0, any free port)
  --service-id ID          the sluice service (default sluice)
  --log-level LEVEL        the embedded engine's log level (default warn)
`

// migrateGlobals are the flags every migrate command takes.
type migrateGlobals struct {
	dir, server, dataDir, brokers, kafkaAddr, serviceID, logLevel string
}

// register adds the global flags to fs with their current values as
// defaults, so that flags given before the command survive the command's
// own parse.
func (g *migrateGlobals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.dir, "dir", g.dir, "project directory holding migrations/")
	fs.StringVar(&g.server, "server", g.server, "postgres:// URL of a running sluice")
	fs.StringVar(&g.dataDir, "data-dir", g.dataDir, "data directory of an embedded engine")
	fs.StringVar(&g.brokers, "brokers", g.brokers, "seed brokers of an existing Kafka cluster (with --data-dir)")
	fs.StringVar(&g.kafkaAddr, "kafka-addr", g.kafkaAddr, "embedded broker listener (with --data-dir)")
	fs.StringVar(&g.serviceID, "service-id", g.serviceID, "sluice service id")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "embedded engine log level")
}

// defineFlags collects repeated --define name=value flags.
type defineFlags map[string]string

func (d defineFlags) String() string { return "" }

func (d defineFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	d[strings.TrimSpace(k)] = v
	return nil
}

// parseInterleaved parses flags that may come before, between and after
// positional arguments (Go's flag package stops at the first positional).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// runMigrate runs 'sluice migrate ARGS' and returns the exit code.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &migrateGlobals{dir: ".", kafkaAddr: "127.0.0.1:0", serviceID: "sluice", logLevel: "warn"}
	top := flag.NewFlagSet("sluice migrate", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(stderr, migrateUsage) }
	g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if top.NArg() == 0 {
		fmt.Fprint(stderr, migrateUsage)
		return exitUsage
	}
	cmd, rest := top.Arg(0), top.Args()[1:]
	if cmd == "help" {
		fmt.Fprint(stdout, migrateUsage)
		return exitOK
	}

	fs := flag.NewFlagSet("sluice migrate "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage) }
	g.register(fs)
	var (
		all, next, dryRun bool
		until, version    int
		wait              = time.Minute
		defines           = defineFlags{}
	)
	switch cmd {
	case "apply":
		fs.BoolVar(&all, "all", false, "apply every pending migration")
		fs.BoolVar(&next, "next", false, "apply the next pending migration")
		fs.IntVar(&until, "until", 0, "apply pending migrations up to and including this version")
		fs.IntVar(&version, "version", 0, "apply this version, which must be the next pending one")
		fs.BoolVar(&dryRun, "dry-run", false, "print the statements that would run; change nothing")
		fs.Var(defines, "define", "name=value for ${name} in migrations (repeatable)")
		fs.DurationVar(&wait, "wait", wait, "how long to wait for another applier to finish")
	case "create":
		fs.IntVar(&version, "version", 0, "the new file's version (default: the next one)")
	case "new-project", "info", "validate", "initialize-metadata", "destroy-metadata":
	default:
		fmt.Fprintf(stderr, "sluice migrate: unknown command %q\n\n%s", cmd, migrateUsage)
		return exitUsage
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sluice migrate %s: %s\n", cmd, fmt.Sprintf(format, a...))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "sluice migrate %s: %v\n", cmd, err)
		return exitError
	}

	// Commands that only touch files need no engine.
	switch cmd {
	case "new-project":
		if len(pos) != 1 {
			return usageErr("want exactly one DIR, got %d arguments", len(pos))
		}
		if err := migrate.NewProject(pos[0]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Created migrations project %s: add migrations with 'sluice migrate --dir %s create DESCRIPTION'.\n", pos[0], pos[0])
		return exitOK
	case "create":
		if len(pos) == 0 {
			return usageErr("want a DESCRIPTION")
		}
		p, err := migrate.CreateFile(g.dir, strings.Join(pos, " "), version)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Created %s\n", p)
		return exitOK
	}
	if len(pos) > 0 {
		return usageErr("unexpected argument %q", pos[0])
	}
	var target migrate.Target
	if cmd == "apply" {
		n := 0
		for _, set := range []bool{all, next, until != 0, version != 0} {
			if set {
				n++
			}
		}
		if n != 1 {
			return usageErr("choose exactly one of --all, --next, --until V and --version V")
		}
		target = migrate.Target{Next: next, Until: until, Version: version, DryRun: dryRun}
	}
	if (g.server == "") == (g.dataDir == "") {
		return usageErr("pass either --server postgres://HOST:PORT (a running sluice) or --data-dir DIR (an embedded engine)")
	}
	if st, err := os.Stat(g.dir); err != nil || !st.IsDir() {
		return usageErr("--dir %s is not a directory", g.dir)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	conn, closeConn, err := openMigrateConn(ctx, g, stderr)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := closeConn(); err != nil {
			fmt.Fprintf(stderr, "sluice migrate: closing the engine: %v\n", err)
		}
	}()
	m, err := migrate.NewConn(conn, os.DirFS(g.dir),
		migrate.WithServiceID(g.serviceID),
		migrate.WithDefines(defines),
		migrate.WithLockWait(wait),
		migrate.WithOutput(stdout))
	if err != nil {
		return fail(err)
	}

	switch cmd {
	case "apply":
		rep, err := m.Apply(ctx, target)
		if err != nil {
			return fail(err)
		}
		if dryRun {
			printPlan(stdout, rep)
			return exitOK
		}
		if len(rep.Applied) > 0 {
			fmt.Fprintf(stdout, "Applied %d migration(s); the current version is %d.\n", len(rep.Applied), rep.Current)
		}
	case "info":
		rep, err := m.Info(ctx)
		if err != nil {
			return fail(err)
		}
		printInfo(stdout, rep)
	case "validate":
		if err := m.Validate(ctx); err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, "Validated: every applied migration file is unchanged.")
	case "initialize-metadata":
		if err := m.InitializeMetadata(ctx); err != nil {
			return fail(err)
		}
		c := m.Config()
		fmt.Fprintf(stdout, "Migration metadata ready: stream %s on topic %s, table %s on topic %s.\n",
			c.StreamName, c.StreamTopic, c.TableName, c.TableTopic)
	case "destroy-metadata":
		if err := m.DestroyMetadata(ctx); err != nil {
			return fail(err)
		}
		c := m.Config()
		fmt.Fprintf(stdout, "Dropped the migration metadata (%s, %s, %s) and deleted their topics.\n", c.TableName, c.StreamName, c.LockName)
	}
	return exitOK
}

// openMigrateConn connects to a running sluice (--server) or opens an
// embedded engine (--data-dir); close releases it.
func openMigrateConn(ctx context.Context, g *migrateGlobals, stderr io.Writer) (migrate.Conn, func() error, error) {
	if g.server != "" {
		c, err := migrate.Dial(ctx, g.server)
		return c, func() error { return nil }, err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q is not one of debug, info, warn, error", g.logLevel)
	}
	opts := []sluice.Option{
		sluice.WithDataDir(g.dataDir),
		sluice.WithServiceID(g.serviceID),
		sluice.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))),
	}
	if bs := brokerList(g.brokers); len(bs) > 0 {
		opts = append(opts, sluice.WithBrokers(bs...))
	} else {
		opts = append(opts, sluice.WithKafkaAddr(g.kafkaAddr))
	}
	eng, err := sluice.Open(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("open the engine on %s: %w", g.dataDir, err)
	}
	return migrate.EngineConn(eng), eng.Close, nil
}

func printPlan(w io.Writer, rep *migrate.ApplyReport) {
	if len(rep.Planned) == 0 {
		fmt.Fprintf(w, "Dry run: nothing to apply (the current version is %s).\n", versionOrNone(rep.Current))
		return
	}
	fmt.Fprintf(w, "Dry run: %d migration(s) would be applied after version %s.\n", len(rep.Planned), versionOrNone(rep.Current))
	for _, p := range rep.Planned {
		fmt.Fprintf(w, "\n-- %s (version %d: %s)\n", filepath.Base(p.File.Path), p.File.Version, p.File.Name)
		for _, s := range p.Statements {
			fmt.Fprintf(w, "%s;\n", s)
		}
	}
}

func versionOrNone(v int) string {
	if v == 0 {
		return "<none>"
	}
	return strconv.Itoa(v)
}

// printInfo prints the versions as ksql-migrations' info does: the current
// version, then a table.
func printInfo(w io.Writer, rep *migrate.InfoReport) {
	if rep.Current == nil {
		fmt.Fprintln(w, "Current migration version: <none>")
	} else {
		fmt.Fprintf(w, "Current migration version: %d (%s)\n", rep.Current.Version, rep.Current.State)
	}
	if len(rep.Versions) == 0 {
		fmt.Fprintln(w, "No migrations: add one with 'sluice migrate create DESCRIPTION'.")
		return
	}
	header := []string{"Version", "Name", "State", "Previous Version", "Started On", "Completed On", "Error Reason"}
	rows := [][]string{header}
	for _, v := range rep.Versions {
		prev, started, completed, reason := "N/A", "N/A", "N/A", "N/A"
		if v.State != migrate.Pending {
			prev = v.Previous
		}
		if !v.StartedOn.IsZero() {
			started = v.StartedOn.Local().Format("2006-01-02 15:04:05.000 MST")
		}
		if !v.CompletedOn.IsZero() {
			completed = v.CompletedOn.Local().Format("2006-01-02 15:04:05.000 MST")
		}
		if v.ErrorReason != "" {
			reason = v.Reason()
		}
		name := v.Name
		if v.File == nil && v.State != migrate.Pending {
			name += " (file missing)"
		}
		rows = append(rows, []string{strconv.Itoa(v.Version), name, string(v.State), prev, started, completed, reason})
	}
	widths := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r[:len(r)-1] { // the last column is not padded
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			if i < len(r)-1 {
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			} else {
				b.WriteString(c)
			}
		}
		fmt.Fprintln(w, " "+b.String())
	}
	line(rows[0])
	var sep strings.Builder
	for i, wd := range widths[:len(widths)-1] {
		if i > 0 {
			sep.WriteString("-+-")
		}
		sep.WriteString(strings.Repeat("-", wd))
	}
	fmt.Fprintln(w, "-"+sep.String()+"-+-"+strings.Repeat("-", len(header[len(header)-1])))
	for _, r := range rows[1:] {
		line(r)
	}
}
