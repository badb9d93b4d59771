package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/server"
)

// serveFlags are the flags of 'sluice serve'.
type serveFlags struct {
	dataDir   string
	pgAddr    string
	kafkaAddr string
	brokers   string
	serviceID string
	logLevel  string
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("sluice serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: sluice serve [flags]\n\nRuns the engine and its Postgres server until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.dataDir, "data-dir", "./sluice-data", "directory for the catalog, state and the embedded broker's log")
	fs.StringVar(&f.pgAddr, "pg-addr", server.DefaultAddr, "Postgres wire protocol listen address (loopback only until authentication lands)")
	fs.StringVar(&f.kafkaAddr, "kafka-addr", "127.0.0.1:9092", "embedded Kafka broker listen address (ignored with --brokers)")
	fs.StringVar(&f.brokers, "brokers", "", "comma-separated seed brokers of an existing Kafka cluster; default: run the embedded broker")
	fs.StringVar(&f.serviceID, "service-id", "sluice", "cluster name: instances with the same id share catalog and queries")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return f, errUsage
	}
	return f, nil
}

var errUsage = errors.New("usage")

// brokerList splits --brokers, ignoring blanks so "a:1, b:2," works.
func brokerList(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// lateEngine lets the Postgres listener bind before the engine opens, so a
// taken --pg-addr fails at once instead of after the engine has started and
// been shut down again. Connections are accepted only by Serve, which runs
// after eng is set, so NewSession never sees a nil engine.
type lateEngine struct{ eng server.Engine }

func (l *lateEngine) NewSession() server.Session { return l.eng.NewSession() }

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	f, err := parseServeFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		fmt.Fprintf(stderr, "sluice: --log-level %q is not one of debug, info, warn, error\n", f.logLevel)
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// After the first signal, stop restores the default handlers, so a
	// second Ctrl-C kills a shutdown that hangs.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	late := &lateEngine{}
	srv := server.New(late, server.Config{Addr: f.pgAddr, Logger: logger})
	if err := srv.Listen(); err != nil {
		fmt.Fprintln(stderr, startupMessage(err, f))
		return exitError
	}

	opts := []sluice.Option{
		sluice.WithDataDir(f.dataDir),
		sluice.WithServiceID(f.serviceID),
		sluice.WithLogger(logger),
	}
	if bs := brokerList(f.brokers); len(bs) > 0 {
		opts = append(opts, sluice.WithBrokers(bs...))
	} else {
		opts = append(opts, sluice.WithKafkaAddr(f.kafkaAddr))
	}
	eng, err := sluice.Open(ctx, opts...)
	if err != nil {
		srv.Close()
		fmt.Fprintln(stderr, startupMessage(err, f))
		return exitError
	}
	late.eng = server.Adapt(eng)

	pgHost, pgPort, _ := net.SplitHostPort(srv.Addr().String())
	logger.Info("sluice started", "version", versionString(), "data_dir", f.dataDir,
		"kafka", strings.Join(eng.KafkaAddrs(), ","), "postgres", srv.Addr().String(),
		"connect", "psql -h "+pgHost+" -p "+pgPort)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	code := exitOK
	select {
	case <-ctx.Done():
		stop()
		logger.Info("shutting down; press Ctrl-C again to force")
	case err := <-served:
		// Serve only returns early on a broken listener.
		logger.Error("postgres server failed", "err", err)
		code = exitError
	}
	srv.Close()
	if err := eng.Close(); err != nil {
		logger.Error("closing the engine", "err", err)
		code = exitError
	}
	if code == exitOK {
		logger.Info("stopped cleanly")
	}
	return code
}

// startupMessage turns a startup failure into one line that says which flag
// to change.
func startupMessage(err error, f serveFlags) string {
	var pgInUse *server.AddrInUseError
	var kafkaInUse *sluice.AddrInUseError
	switch {
	case errors.As(err, &pgInUse):
		return fmt.Sprintf("sluice: --pg-addr %s is already in use; pass another address with --pg-addr", pgInUse.Addr)
	case errors.As(err, &kafkaInUse):
		return fmt.Sprintf("sluice: --kafka-addr %s is already in use; pass another address with --kafka-addr (or use an existing cluster with --brokers)", kafkaInUse.Addr)
	case errors.Is(err, server.ErrInsecureListen):
		return fmt.Sprintf("sluice: --pg-addr %s is not a loopback address and sluice has no authentication yet; pass a loopback address such as 127.0.0.1:7432", f.pgAddr)
	}
	// Engine errors already start with "sluice: ".
	return "sluice: " + strings.TrimPrefix(err.Error(), "sluice: ")
}
