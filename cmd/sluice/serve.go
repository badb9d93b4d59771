package main

import (
	"context"
	"crypto/tls"
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
	"time"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/server"
)

// serveFlags are the flags of 'sluice serve'.
type serveFlags struct {
	dataDir    string
	pgAddr     string
	kafkaAddr  string
	brokers    string
	brokerWait time.Duration
	serviceID  string
	logLevel   string
	// advertised is the --pg-addr other instances reach this one at
	// (default: the listen address).
	advertised string
	// props are --set KEY=VALUE engine properties.
	props userFlags

	auth          string
	users         userFlags
	usersFile     string
	tlsCert       string
	tlsKey        string
	requireTLS    bool
	maxConns      int
	allowInsecure bool
}

// userFlags collects repeated --user NAME:PASSWORD flags.
type userFlags []string

func (u *userFlags) String() string     { return strings.Join(*u, ",") }
func (u *userFlags) Set(v string) error { *u = append(*u, v); return nil }

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("sluice serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: sluice serve [flags]\n\nRuns the engine and its Postgres server until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.dataDir, "data-dir", "./sluice-data", "directory for the catalog, state and the embedded broker's log")
	fs.StringVar(&f.pgAddr, "pg-addr", server.DefaultAddr, "Postgres wire protocol listen address")
	fs.StringVar(&f.kafkaAddr, "kafka-addr", "127.0.0.1:9092", "embedded Kafka broker listen address (ignored with --brokers)")
	fs.StringVar(&f.brokers, "brokers", "", "comma-separated seed brokers of an existing Kafka cluster; default: run the embedded broker")
	fs.DurationVar(&f.brokerWait, "broker-wait", time.Minute, "with --brokers: how long to wait for brokers that do not answer yet (a cluster still starting) before giving up")
	fs.StringVar(&f.serviceID, "service-id", "sluice", "cluster name: instances with the same id share catalog and queries")
	fs.StringVar(&f.advertised, "advertised-addr", "", "host:port at which the other instances of the service reach this one's Postgres server, to forward pull queries (default: the --pg-addr listen address)")
	fs.Var(&f.props, "set", "an engine property as KEY=VALUE, the default of every session (e.g. commit.interval.ms=100); repeatable")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.auth, "auth", "", "Postgres authentication: trust, password or scram-sha-256 (default: scram-sha-256 when users are given, else trust)")
	fs.Var(&f.users, "user", "a Postgres user as NAME:PASSWORD (or NAME:SCRAM-SHA-256$... verifier); repeatable")
	fs.StringVar(&f.usersFile, "users-file", "", "file of Postgres users, one NAME:PASSWORD or NAME:SCRAM-SHA-256$... per line")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate file for Postgres TLS (with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key file for Postgres TLS (with --tls-cert)")
	fs.BoolVar(&f.requireTLS, "require-tls", false, "refuse Postgres clients that do not use TLS")
	fs.IntVar(&f.maxConns, "max-connections", server.DefaultMaxConns, "maximum concurrent Postgres sessions")
	fs.BoolVar(&f.allowInsecure, "allow-unauthenticated-remote", false, "allow trust authentication on a non-loopback --pg-addr (only for private networks)")
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

// Relations and Functions forward the engine's catalog to psql's \d.
func (l *lateEngine) Relations() []server.Relation {
	if cat, ok := l.eng.(server.Catalog); ok {
		return cat.Relations()
	}
	return nil
}

func (l *lateEngine) Functions() []server.Function {
	if cat, ok := l.eng.(server.Catalog); ok {
		return cat.Functions()
	}
	return nil
}

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

	cfg, err := serverConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, "sluice: "+err.Error())
		return exitUsage
	}
	cfg.Logger = logger
	late := &lateEngine{}
	srv := server.New(late, cfg)
	if err := srv.Listen(); err != nil {
		fmt.Fprintln(stderr, startupMessage(err, f))
		return exitError
	}

	props := map[string]string{}
	for _, kv := range f.props {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(stderr, "sluice: --set %q is not KEY=VALUE\n", kv)
			srv.Close()
			return exitUsage
		}
		props[k] = v
	}
	advertised := f.advertised
	if advertised == "" {
		advertised = advertisedAddr(srv.Addr())
	}
	opts := []sluice.Option{
		sluice.WithDataDir(f.dataDir),
		sluice.WithServiceID(f.serviceID),
		sluice.WithLogger(logger),
		sluice.WithProperties(props),
		sluice.WithAdvertisedAddr(advertised),
	}
	if bs := brokerList(f.brokers); len(bs) > 0 {
		opts = append(opts, sluice.WithBrokers(bs...), sluice.WithBrokerWait(f.brokerWait))
	} else {
		opts = append(opts, sluice.WithKafkaAddr(f.kafkaAddr))
	}
	eng, err := sluice.Open(ctx, opts...)
	if err != nil {
		srv.Close()
		if ctx.Err() != nil {
			// SIGINT or SIGTERM during start-up: a requested stop, not a
			// failure.
			logger.Info("start-up interrupted; stopped")
			return exitOK
		}
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
		return fmt.Sprintf("sluice: --pg-addr %s is not a loopback address and authentication is trust; add users with --user or --users-file (scram-sha-256), bind a loopback address such as 127.0.0.1:7432, or pass --allow-unauthenticated-remote on a private network", f.pgAddr)
	}
	// Engine errors already start with "sluice: ".
	return "sluice: " + strings.TrimPrefix(err.Error(), "sluice: ")
}

// serverConfig turns the authentication and TLS flags into the server's
// configuration.
func serverConfig(f serveFlags) (server.Config, error) {
	cfg := server.Config{Addr: f.pgAddr, MaxConns: f.maxConns, AllowNonLoopbackTrust: f.allowInsecure,
		RequireTLS: f.requireTLS}
	users := map[string]server.Credential{}
	if f.usersFile != "" {
		loaded, err := server.LoadUsers(f.usersFile)
		if err != nil {
			return cfg, fmt.Errorf("--users-file: %v", err)
		}
		users = loaded
	}
	for _, u := range f.users {
		name, cred, err := server.ParseUser(u)
		if err != nil {
			return cfg, fmt.Errorf("--user: %v", err)
		}
		users[name] = cred
	}
	switch {
	case f.auth != "":
		m, err := server.ParseAuthMethod(f.auth)
		if err != nil {
			return cfg, fmt.Errorf("--auth: %v", err)
		}
		cfg.Auth = m
	case len(users) > 0:
		cfg.Auth = server.AuthSCRAM
	default:
		cfg.Auth = server.AuthTrust
	}
	if cfg.Auth != server.AuthTrust && len(users) == 0 {
		return cfg, fmt.Errorf("--auth %s needs users: pass --user NAME:PASSWORD or --users-file", cfg.Auth)
	}
	cfg.Users = users
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return cfg, errors.New("--tls-cert and --tls-key go together")
	}
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return cfg, fmt.Errorf("loading the TLS certificate: %v", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if f.requireTLS && cfg.TLS == nil {
		return cfg, errors.New("--require-tls needs --tls-cert and --tls-key")
	}
	return cfg, nil
}

// advertisedAddr is the address other instances reach a listener at: the
// listen address, with this host's name for an unspecified IP (0.0.0.0).
func advertisedAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}
