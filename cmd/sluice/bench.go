package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluicedb/sluice/bench"
	"github.com/sluicedb/sluice/bench/nexmark"
	"github.com/sluicedb/sluice/storage"
)

const benchUsage = `Usage:
  sluice bench load [flags]      write Nexmark events to Kafka
  sluice bench nexmark [flags]   run Nexmark queries on sluice and on a hand-written baseline
  sluice bench broker [flags]    run the embedded broker alone (for several 'sluice serve --brokers')

Run 'sluice bench <command> -h' for its flags.
`

// benchCmd runs 'sluice bench ...'. The "broker" subcommand runs the
// embedded broker alone, until SIGINT or SIGTERM: a Kafka for several
// 'sluice serve --brokers' instances. The nexmark benchmark re-executes this
// binary with it (and --exit-on-stdin-close, so that the child dies with
// its parent) to run the broker in a child process, so that the engine's
// CPU time can be measured alone.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "load":
		return benchLoad(ctx, args[1:], stderr)
	case "nexmark":
		return benchNexmark(ctx, args[1:], stdout, stderr)
	case "broker":
		return benchBroker(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, benchUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "sluice bench: unknown command %q\n\n%s", args[0], benchUsage)
	return exitUsage
}

// generatorFlags are the flags that shape the event stream, shared by load
// and nexmark so that both can produce the same stream.
type generatorFlags struct {
	seed       uint64
	rate       int64
	partitions int
}

func (g *generatorFlags) register(fs *flag.FlagSet, defPartitions int) {
	fs.Uint64Var(&g.seed, "seed", 1, "generator seed; equal seeds give identical events")
	fs.Int64Var(&g.rate, "rate", 10_000, "event-time rate: events per second of event time (spacing of dateTime)")
	fs.IntVar(&g.partitions, "partitions", defPartitions, "partitions of the topics created for the events")
}

func (g *generatorFlags) config() nexmark.Config {
	return nexmark.Config{Seed: g.seed, Rate: g.rate}
}

// parseFlags parses args into fs, mapping -h to exitOK and other errors or
// stray arguments to exitUsage; ok reports whether to go on.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitUsage, false
	}
	return 0, true
}

func benchLoad(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice bench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		gen       generatorFlags
		events    int64
		start     int64
		dataDir   string
		kafkaAddr string
		brokers   string
		wallRate  int64
	)
	gen.register(fs, 1)
	fs.Int64Var(&events, "events", 1_000_000, "number of events to write (persons, auctions and bids together)")
	fs.Int64Var(&start, "start", 0, "number of the first event, to continue an earlier load of the same seed")
	fs.StringVar(&dataDir, "data-dir", "./sluice-data", "data directory of the embedded broker (as for 'sluice serve'; ignored with --brokers)")
	fs.StringVar(&kafkaAddr, "kafka-addr", "127.0.0.1:9092", "listen address of the embedded broker while loading (ignored with --brokers)")
	fs.StringVar(&brokers, "brokers", "", "comma-separated seed brokers of an existing Kafka cluster; default: the embedded broker")
	fs.Int64Var(&wallRate, "wall-rate", 0, "write at this many events per second of wall-clock time, with event times following the clock (0: as fast as possible)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice bench load [flags]\n\nWrites Nexmark events as JSON to the topics %s.\n\nFlags:\n", strings.Join(nexmark.Topics(), ", "))
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	seeds := brokerList(brokers)
	if len(seeds) == 0 {
		// The embedded broker keeps its log where 'sluice serve' looks for
		// it, so a later serve on the same data directory sees the events.
		b, err := storage.StartBroker(ctx, storage.BrokerConfig{
			DataDir: filepath.Join(dataDir, "broker"), Addr: kafkaAddr,
			Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			fmt.Fprintf(stderr, "sluice bench load: %v\n", err)
			return exitError
		}
		defer b.Close()
		seeds = b.Addrs()
	}
	cfg := gen.config()
	if wallRate > 0 {
		cfg = nexmark.FixedRate(cfg, wallRate)
	}
	t0 := time.Now()
	err := nexmark.Load(ctx, nexmark.NewGenerator(cfg), nexmark.LoadConfig{
		Brokers: seeds, Events: events, Start: start, Partitions: int32(gen.partitions), WallRate: wallRate,
		Progress: func(n int64) {
			fmt.Fprintf(stderr, "load: %d/%d events (%.0f%%), %.0f events/s\n",
				n, events, 100*float64(n)/float64(max(events, 1)), float64(n)/time.Since(t0).Seconds())
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "sluice bench load: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "load: wrote %d events to %s in %.1fs\n", events, strings.Join(seeds, ","), time.Since(t0).Seconds())
	return exitOK
}

func benchNexmark(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice bench nexmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		gen           generatorFlags
		queries       string
		events        int64
		brokers       string
		fixedRate     int64
		latencyEvents int64
		workDir       string
		verify        bool
		guarantee     string
		profileDir    string
	)
	gen.register(fs, 0)
	fs.StringVar(&queries, "query", "q0,q1,q2", "comma-separated queries to run ("+strings.Join(nexmark.QueryNames(), ", ")+"), or \"all\"")
	fs.Int64Var(&events, "events", 1_000_000, "number of events to preload (persons, auctions and bids together)")
	fs.StringVar(&brokers, "brokers", "", "comma-separated seed brokers of an existing Kafka cluster; default: a broker in a child process (and the embedded variant)")
	fs.Int64Var(&fixedRate, "fixed-rate", 0, "also measure p50/p99 end-to-end latency with events written at this rate (events/s), e.g. 50000")
	fs.Int64Var(&latencyEvents, "latency-events", 0, "events written in the fixed-rate phase (default: 10 seconds' worth)")
	fs.StringVar(&workDir, "work-dir", "", "directory for the run's temporary data (default: the system temporary directory)")
	fs.StringVar(&profileDir, "profile-dir", "", "write CPU profiles of the measured phases (<query>-sluice.pprof, <query>-baseline.pprof) to this directory")
	fs.BoolVar(&verify, "verify", false, "after measuring, check that the engine and the baseline wrote the same records")
	fs.StringVar(&guarantee, "guarantee", "at_least_once", "the engine's processing.guarantee: at_least_once (like the baseline's plain producer) or exactly_once_v2 (the engine's default, one transaction per cycle)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: sluice bench nexmark [flags]

Preloads Nexmark events, then measures each query's catch-up on sluice
(with the broker in a separate process, and with the embedded broker) and on
a hand-written Go baseline. Progress goes to stderr; stdout gets one line per
query:

  nexmark query=q1 events=... eps=... eps_per_core=... baseline_eps_per_core=... ratio=... p50_ms=... p99_ms=... peak_rss_mb=...

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	names := strings.Split(queries, ",")
	if strings.TrimSpace(queries) == "all" {
		names = nexmark.QueryNames()
	}
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
		if _, err := nexmark.LookupQuery(names[i]); err != nil {
			fmt.Fprintf(stderr, "sluice bench nexmark: %v\n", err)
			return exitUsage
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sluice bench nexmark: cannot find this binary to run the broker process: %v\n", err)
		return exitError
	}
	opts := bench.Options{
		Queries:       names,
		Events:        events,
		Partitions:    int32(gen.partitions),
		Generator:     gen.config(),
		FixedRate:     fixedRate,
		LatencyEvents: latencyEvents,
		Brokers:       brokerList(brokers),
		WorkDir:       workDir,
		Verify:        verify,
		Guarantee:     guarantee,
		ProfileDir:    profileDir,
		Progress:      stderr,
		BrokerCommand: func(dataDir string) *exec.Cmd {
			cmd := exec.Command(self, "bench", "broker", "--exit-on-stdin-close", "--data-dir", dataDir)
			cmd.Stderr = stderr
			return cmd
		},
	}
	err = bench.Run(ctx, opts, func(r bench.Result) { fmt.Fprintln(stdout, r.Line()) })
	if err != nil {
		fmt.Fprintf(stderr, "sluice bench nexmark: %v\n", err)
		return exitError
	}
	return exitOK
}

// benchBroker is the child process of 'bench nexmark': a broker that lives
// until its stdin closes.
func benchBroker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice bench broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "the broker's log directory (empty: in memory)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	stdinClose := fs.Bool("exit-on-stdin-close", false, "also stop when standard input closes (for a parent process that owns the broker)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	var stdin io.Reader
	if *stdinClose {
		stdin = os.Stdin
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := bench.ServeBroker(ctx, *dataDir, *addr, stdin, stdout, logger); err != nil {
		fmt.Fprintf(stderr, "sluice bench broker: %v\n", err)
		return exitError
	}
	return exitOK
}
