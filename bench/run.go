package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/bench/nexmark"
)

// Options configure a benchmark run.
type Options struct {
	// Queries are the Nexmark queries to run ("q0" ... "q8", "enrich").
	Queries []string
	// Events is how many events to load (all kinds together).
	Events int64
	// Partitions of the input topics. Default: the number of CPUs, so the
	// engine's per-partition tasks can use every core.
	Partitions int32
	// Generator configures the event stream (seed, event-time rate).
	Generator nexmark.Config
	// FixedRate, when positive, adds a latency phase per query: events
	// written at this many events per second of wall-clock time to a
	// running engine, with p50/p99 end-to-end latency measured.
	FixedRate int64
	// LatencyEvents is how many events the latency phase writes. Default
	// ten seconds' worth at FixedRate.
	LatencyEvents int64
	// Brokers, when set, is an existing Kafka cluster: the "sluice alone"
	// variant and the baseline run against it, and the embedded variant is
	// skipped.
	Brokers []string
	// BrokerCommand returns the command that runs a broker in a child
	// process with its log under dataDir (a process that calls
	// ServeBroker). Required unless Brokers is set.
	BrokerCommand func(dataDir string) *exec.Cmd
	// WorkDir holds the run's temporary data directories. Default: the
	// system's temporary directory.
	WorkDir string
	// Guarantee is the engine's processing.guarantee during the run.
	// Default "at_least_once": the baseline writes with a plain producer,
	// so the ratio compares like with like; "exactly_once_v2" measures the
	// engine's default (one Kafka transaction per processing cycle).
	Guarantee string
	// Verify reads back the engine's and the baseline's outputs after the
	// measured phases and checks that they hold the same records.
	Verify bool
	// ProfileDir, when set, receives CPU profiles of the measured phases
	// of the separate-broker run: <query>-sluice.pprof and
	// <query>-baseline.pprof.
	ProfileDir string
	// Progress receives progress lines. Default io.Discard.
	Progress io.Writer
	// Logger receives the engine's and broker's logs. Default: warnings and
	// errors to Progress.
	Logger *slog.Logger
}

// Result is the outcome of one query.
type Result struct {
	Query string
	// Unsupported is the engine's error when it cannot run the query yet.
	Unsupported error
	// Events is the number of input records the query consumed.
	Events int64
	// Output, EmbeddedOutput and BaselineOutput are the records each
	// variant wrote.
	Output, EmbeddedOutput, BaselineOutput int64
	// Alone is sluice against a broker in another process; Embedded is
	// sluice with its in-process broker; Baseline is the hand-written Go
	// program. A zero measurement did not run.
	Alone, Embedded, Baseline measurement
	// P50 and P99 are end-to-end latencies of the fixed-rate phase;
	// LatencyRate is the input rate achieved. Zero when it did not run.
	P50, P99    time.Duration
	LatencyRate float64
	// Verified is "ok" or "mismatch: ..." when Options.Verify was set.
	Verified string
}

func perCore(events int64, cpu time.Duration) float64 {
	if cpu <= 0 {
		return 0
	}
	return float64(events) / cpu.Seconds()
}

// Line renders the result as the single machine-readable line the
// benchmark prints per query: space-separated key=value pairs, "na" for
// what was not measured.
func (r Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nexmark query=%s", r.Query)
	if r.Unsupported != nil {
		fmt.Fprintf(&b, " events=0 status=unsupported reason=%s", strconv.Quote("not supported yet: "+r.Unsupported.Error()))
		return b.String()
	}
	num := func(key string, v float64, ok bool, prec int) {
		if !ok {
			fmt.Fprintf(&b, " %s=na", key)
			return
		}
		fmt.Fprintf(&b, " %s=%s", key, strconv.FormatFloat(v, 'f', prec, 64))
	}
	alone := r.Alone.cpu > 0
	fmt.Fprintf(&b, " events=%d", r.Events)
	num("eps", float64(r.Events)/r.Alone.wall.Seconds(), alone, 0)
	num("eps_per_core", perCore(r.Events, r.Alone.cpu), alone, 0)
	num("eps_per_core_embedded", perCore(r.Events, r.Embedded.cpu), r.Embedded.cpu > 0, 0)
	num("baseline_eps_per_core", perCore(r.Events, r.Baseline.cpu), r.Baseline.cpu > 0, 0)
	num("ratio", perCore(r.Events, r.Alone.cpu)/perCore(r.Events, r.Baseline.cpu), alone && r.Baseline.cpu > 0, 3)
	num("p50_ms", float64(r.P50)/1e6, r.P50 > 0, 1)
	num("p99_ms", float64(r.P99)/1e6, r.P99 > 0, 1)
	num("latency_eps", r.LatencyRate, r.LatencyRate > 0, 0)
	num("peak_rss_mb", float64(r.Alone.peakRSS)/(1<<20), alone, 0)
	num("peak_rss_embedded_mb", float64(r.Embedded.peakRSS)/(1<<20), r.Embedded.cpu > 0, 0)
	fmt.Fprintf(&b, " output=%d", r.Output)
	if r.Embedded.cpu > 0 && r.EmbeddedOutput != r.Output {
		fmt.Fprintf(&b, " embedded_output=%d", r.EmbeddedOutput)
	}
	if r.Baseline.cpu > 0 {
		fmt.Fprintf(&b, " baseline_output=%d", r.BaselineOutput)
	}
	if r.Verified != "" {
		fmt.Fprintf(&b, " verify=%s", strconv.Quote(r.Verified))
	}
	return b.String()
}

// runner holds the state of one Run.
type runner struct {
	opts    Options
	root    string
	gen     *nexmark.Generator
	queries []nexmark.Query
	results map[string]*Result
	logger  *slog.Logger
	// sinkStart records, per output topic, the end offsets before the
	// engine wrote to it, for Verify.
	sinkStart map[string]map[int32]int64
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.opts.Progress, "bench: "+format+"\n", args...)
}

// Run runs the benchmark and calls emit with each query's result, in the
// order of opts.Queries, once all phases are done.
func Run(ctx context.Context, opts Options, emit func(Result)) error {
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Partitions <= 0 {
		opts.Partitions = int32(runtime.NumCPU())
	}
	if opts.Events <= 0 {
		return errors.New("bench: events must be positive")
	}
	if len(opts.Brokers) == 0 && opts.BrokerCommand == nil {
		return errors.New("bench: no broker: set Brokers or BrokerCommand")
	}
	r := &runner{opts: opts, gen: nexmark.NewGenerator(opts.Generator), results: map[string]*Result{},
		sinkStart: map[string]map[int32]int64{}}
	r.logger = opts.Logger
	if r.logger == nil {
		r.logger = slog.New(slog.NewTextHandler(opts.Progress, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	for _, name := range opts.Queries {
		q, err := nexmark.LookupQuery(name)
		if err != nil {
			return err
		}
		r.queries = append(r.queries, q)
		r.results[q.Name] = &Result{Query: q.Name}
	}
	var err error
	if r.root, err = os.MkdirTemp(opts.WorkDir, "sluice-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(r.root)

	if err := r.separateBroker(ctx); err != nil {
		return err
	}
	if len(opts.Brokers) == 0 {
		if err := r.embedded(ctx); err != nil {
			return err
		}
	}
	if opts.FixedRate > 0 {
		for _, q := range r.queries {
			if res := r.results[q.Name]; res.Unsupported == nil {
				if err := r.latency(ctx, q, res); err != nil {
					return err
				}
			}
		}
	}
	for _, q := range r.queries {
		emit(*r.results[q.Name])
	}
	return nil
}

// load writes the run's events to brokers, with progress.
func (r *runner) load(ctx context.Context, brokers []string, where string) error {
	t0 := time.Now()
	err := nexmark.Load(ctx, r.gen, nexmark.LoadConfig{
		Brokers: brokers, Events: r.opts.Events, Partitions: r.opts.Partitions,
		Progress: func(n int64) {
			r.logf("load (%s): %d/%d events, %.0f events/s", where, n, r.opts.Events, float64(n)/time.Since(t0).Seconds())
		},
	})
	if err != nil {
		return err
	}
	r.logf("load (%s): done in %.1fs", where, time.Since(t0).Seconds())
	return nil
}

func (r *runner) guarantee() string {
	if r.opts.Guarantee == "" {
		return "at_least_once"
	}
	return r.opts.Guarantee
}

// openEngine opens a manually driven engine whose queries read from the
// earliest offsets.
func (r *runner) openEngine(ctx context.Context, dir string, extra ...sluice.Option) (*sluice.Engine, error) {
	opts := append([]sluice.Option{
		sluice.WithDataDir(dir),
		sluice.WithLogger(r.logger),
		// A fresh service id per engine: against a shared cluster, an
		// earlier run's catalog and consumer groups must not be reused.
		sluice.WithServiceID(fmt.Sprintf("bench-%d", time.Now().UnixNano())),
		sluice.WithProperties(map[string]string{"auto.offset.reset": "earliest", "processing.guarantee": r.guarantee()}),
	}, extra...)
	eng, err := sluice.Open(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := eng.Exec(ctx, nexmark.Sources()); err != nil {
		eng.Close()
		return nil, fmt.Errorf("declare nexmark sources: %w", err)
	}
	return eng, nil
}

// separateBroker runs the "sluice alone" variant and the baseline against a
// broker in a child process (or the cluster of Options.Brokers).
func (r *runner) separateBroker(ctx context.Context) error {
	brokers := r.opts.Brokers
	if len(brokers) == 0 {
		cb, err := startChildBroker(ctx, r.opts.BrokerCommand(filepath.Join(r.root, "broker")))
		if err != nil {
			return err
		}
		defer cb.stop()
		brokers = cb.addrs
		r.logf("broker process listening on %s", strings.Join(brokers, ","))
	}
	if err := r.load(ctx, brokers, "broker process"); err != nil {
		return err
	}
	eng, err := r.openEngine(ctx, filepath.Join(r.root, "alone"), sluice.WithBrokers(brokers...), sluice.WithManualDrive())
	if err != nil {
		return err
	}
	defer eng.Close()
	for _, q := range r.queries {
		res := r.results[q.Name]
		m, events, out, unsupported, err := r.runQuery(ctx, eng, brokers, q, "sluice alone", true)
		if err != nil {
			return err
		}
		if m == nil {
			res.Unsupported = unsupported
			continue
		}
		res.Alone, res.Events, res.Output = *m, events, out
		r.logf("%s sluice alone: %d events in %.2fs wall, %.2fs CPU: %.0f events/s per core; %d output records",
			q.Name, events, m.wall.Seconds(), m.cpu.Seconds(), perCore(events, m.cpu), out)
		if _, ok := baselines[q.Name]; !ok {
			continue
		}
		if err := r.baseline(ctx, brokers, q, res); err != nil {
			return err
		}
	}
	return nil
}

// runQuery starts q on eng and times its catch-up. It returns a nil
// measurement and the engine's error as unsupported when the engine cannot
// run the query; err is for failures of the run itself.
func (r *runner) runQuery(ctx context.Context, eng *sluice.Engine, brokers []string, q nexmark.Query, variant string, recordStart bool) (m *measurement, events, out int64, unsupported, err error) {
	results, err := eng.Exec(ctx, q.SQL)
	var ids []string
	for _, res := range results {
		if res.QueryID != "" {
			ids = append(ids, res.QueryID)
		}
	}
	defer func() {
		for _, id := range ids {
			if _, err := eng.Exec(ctx, "TERMINATE "+id+";"); err != nil {
				r.logf("%s: terminate %s: %v", q.Name, id, err)
			}
		}
	}()
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, 0, nil, ctx.Err()
		}
		r.logf("%s: not supported yet: %v", q.Name, err)
		return nil, 0, 0, err, nil
	}
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, 0, 0, nil, err
	}
	defer adm.Close()
	admin := kadm.NewClient(adm)
	before, err := endOffsets(ctx, admin, q.OutputTopic)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	if recordStart {
		r.sinkStart[q.OutputTopic] = before
	}
	var inputs []string
	for _, k := range q.Inputs {
		inputs = append(inputs, k.Topic())
	}
	inEnds, err := endOffsets(ctx, admin, inputs...)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	events = sum(inEnds)

	// Progress: the output topic's growth, once a second. One ListOffsets
	// request a second is noise next to the work measured.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t0 := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if now, err := endOffsets(ctx, admin, q.OutputTopic); err == nil {
					r.logf("%s %s: %.0fs, %d output records", q.Name, variant, time.Since(t0).Seconds(), sum(now)-sum(before))
				}
			}
		}
	})
	meas, err := r.measureProfiled(q.Name+"-sluice", recordStart, func() error { return eng.RunUntilIdle(ctx) })
	close(stop)
	wg.Wait()
	if err != nil {
		return nil, 0, 0, nil, fmt.Errorf("%s (%s): %w", q.Name, variant, err)
	}
	if r.guarantee() != "at_least_once" {
		// End offsets count the transaction markers too (one per
		// partition per cycle): count the records.
		err := r.readTopic(ctx, admin, q.OutputTopic, before, func(*kgo.Record) { out++ })
		return &meas, events, out, nil, err
	}
	after, err := endOffsets(ctx, admin, q.OutputTopic)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	return &meas, events, sum(after) - sum(before), nil, nil
}

// measureProfiled is measure, with a CPU profile of fn written to
// ProfileDir/<name>.pprof when profiling is on and wanted.
func (r *runner) measureProfiled(name string, wanted bool, fn func() error) (measurement, error) {
	if r.opts.ProfileDir == "" || !wanted {
		return measure(fn)
	}
	f, err := os.Create(filepath.Join(r.opts.ProfileDir, name+".pprof"))
	if err != nil {
		return measurement{}, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return measurement{}, err
	}
	m, err := measure(fn)
	pprof.StopCPUProfile()
	return m, err
}

// baseline runs the hand-written program for q and, with Verify, compares
// its output with the engine's.
func (r *runner) baseline(ctx context.Context, brokers []string, q nexmark.Query, res *Result) error {
	out := q.OutputTopic + "-baseline"
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer adm.Close()
	admin := kadm.NewClient(adm)
	if _, err := admin.CreateTopic(ctx, r.opts.Partitions, 1, nil, out); err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		return fmt.Errorf("create %s: %w", out, err)
	}
	before, err := endOffsets(ctx, admin, out)
	if err != nil {
		return err
	}
	t0 := time.Now()
	br := baselineRun{brokers: brokers, query: q.Name, output: out,
		group: fmt.Sprintf("nexmark-baseline-%d", time.Now().UnixNano()),
		progress: func(n int64) {
			r.logf("%s baseline: %.0fs, %d events consumed", q.Name, time.Since(t0).Seconds(), n)
		}}
	var consumed, produced int64
	m, err := r.measureProfiled(q.Name+"-baseline", true, func() error {
		var err error
		consumed, produced, err = br.run(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s baseline: %w", q.Name, err)
	}
	res.Baseline, res.BaselineOutput = m, produced
	r.logf("%s baseline: %d events in %.2fs wall, %.2fs CPU: %.0f events/s per core; %d output records",
		q.Name, consumed, m.wall.Seconds(), m.cpu.Seconds(), perCore(consumed, m.cpu), produced)
	if consumed != res.Events {
		return fmt.Errorf("%s baseline consumed %d events, the engine %d", q.Name, consumed, res.Events)
	}
	if r.opts.Verify {
		res.Verified, err = r.verify(ctx, admin, q.OutputTopic, r.sinkStart[q.OutputTopic], out, before)
		if err != nil {
			return err
		}
		r.logf("%s verify: %s", q.Name, res.Verified)
	}
	return nil
}

// embedded runs every query that sluice supports against its in-process
// broker, counting the broker's CPU too.
func (r *runner) embedded(ctx context.Context) error {
	var runnable bool
	for _, q := range r.queries {
		runnable = runnable || r.results[q.Name].Unsupported == nil
	}
	if !runnable {
		return nil
	}
	dir := filepath.Join(r.root, "embedded")
	// The sources are declared after loading (openEngine does both in the
	// other order), so open without them first: the embedded broker's
	// address is only known once the engine runs.
	eng, err := sluice.Open(ctx, sluice.WithDataDir(dir), sluice.WithKafkaAddr("127.0.0.1:0"),
		sluice.WithLogger(r.logger), sluice.WithManualDrive(),
		sluice.WithProperties(map[string]string{"auto.offset.reset": "earliest", "processing.guarantee": r.guarantee()}))
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := r.load(ctx, eng.KafkaAddrs(), "embedded broker"); err != nil {
		return err
	}
	if _, err := eng.Exec(ctx, nexmark.Sources()); err != nil {
		return fmt.Errorf("declare nexmark sources: %w", err)
	}
	for _, q := range r.queries {
		res := r.results[q.Name]
		if res.Unsupported != nil {
			continue
		}
		m, events, out, unsupported, err := r.runQuery(ctx, eng, eng.KafkaAddrs(), q, "embedded", false)
		if err != nil {
			return err
		}
		if m == nil {
			res.Unsupported = unsupported
			continue
		}
		if events != res.Events {
			return fmt.Errorf("%s: the embedded run consumed %d records, the separate-broker run %d",
				q.Name, events, res.Events)
		}
		if out != res.Output {
			// A query whose output depends on how fetches of its inputs
			// interleave (a join of a table that another query writes)
			// may differ between runs: report it, do not abort the run.
			r.logf("%s: the embedded run wrote %d records, the separate-broker run %d", q.Name, out, res.Output)
		}
		res.Embedded, res.EmbeddedOutput = *m, out
		r.logf("%s embedded: %d events in %.2fs wall, %.2fs CPU: %.0f events/s per core",
			q.Name, events, m.wall.Seconds(), m.cpu.Seconds(), perCore(events, m.cpu))
	}
	return nil
}

// latency runs q on a running engine fed at a fixed wall-clock rate and
// measures end-to-end latency on its output topic.
func (r *runner) latency(ctx context.Context, q nexmark.Query, res *Result) error {
	rate := r.opts.FixedRate
	n := r.opts.LatencyEvents
	if n <= 0 {
		n = rate * 10
	}
	dir := filepath.Join(r.root, "latency-"+q.Name)
	eng, err := sluice.Open(ctx, sluice.WithDataDir(dir), sluice.WithKafkaAddr("127.0.0.1:0"),
		sluice.WithLogger(r.logger), sluice.WithProperties(map[string]string{"auto.offset.reset": "earliest", "processing.guarantee": r.guarantee()}))
	if err != nil {
		return err
	}
	defer eng.Close()
	brokers := eng.KafkaAddrs()
	if err := nexmark.CreateTopics(ctx, brokers, r.opts.Partitions); err != nil {
		return err
	}
	if _, err := eng.Exec(ctx, nexmark.Sources()); err != nil {
		return err
	}
	if _, err := eng.Exec(ctx, q.SQL); err != nil {
		return err
	}
	cfg := nexmark.FixedRate(r.opts.Generator, rate)
	gen := nexmark.NewGenerator(cfg)
	// The first second is warm-up (connections, first fetches).
	warm := cfg.BaseTime.Add(time.Second)

	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(q.OutputTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return err
	}
	defer consumer.Close()
	var (
		mu   sync.Mutex
		lats []time.Duration
		seen int64
	)
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for cctx.Err() == nil {
			fs := consumer.PollFetches(cctx)
			now := time.Now()
			mu.Lock()
			fs.EachRecord(func(rec *kgo.Record) {
				seen++
				if !rec.Timestamp.Before(warm) {
					lats = append(lats, now.Sub(rec.Timestamp))
				}
			})
			mu.Unlock()
		}
	})
	t0 := time.Now()
	err = nexmark.Load(ctx, gen, nexmark.LoadConfig{Brokers: brokers, Events: n, Partitions: r.opts.Partitions, WallRate: rate,
		Progress: func(k int64) {
			mu.Lock()
			s := seen
			mu.Unlock()
			r.logf("%s fixed rate %d/s: %d/%d events written, %d output records seen", q.Name, rate, k, n, s)
		}})
	achieved := float64(n) / time.Since(t0).Seconds()
	if err == nil {
		err = eng.RunUntilIdle(ctx)
	}
	if err == nil {
		// Wait until the latency consumer has seen the whole output.
		adm, aerr := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if aerr != nil {
			err = aerr
		} else {
			ends, eerr := endOffsets(ctx, kadm.NewClient(adm), q.OutputTopic)
			adm.Close()
			err = eerr
			deadline := time.Now().Add(30 * time.Second)
			for err == nil && time.Now().Before(deadline) {
				mu.Lock()
				done := seen >= sum(ends)
				mu.Unlock()
				if done {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	cancel()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("%s latency: %w", q.Name, err)
	}
	if len(lats) == 0 {
		r.logf("%s latency: no output after the warm-up second; no percentiles", q.Name)
		return nil
	}
	slices.Sort(lats)
	res.P50 = lats[len(lats)*50/100]
	res.P99 = lats[min(len(lats)*99/100, len(lats)-1)]
	res.LatencyRate = achieved
	r.logf("%s latency at %.0f events/s: p50 %.1f ms, p99 %.1f ms over %d output records",
		q.Name, achieved, float64(res.P50)/1e6, float64(res.P99)/1e6, len(lats))
	return nil
}

// verify compares the records written to topic a since offsets aStart with
// those written to b since bStart, as multisets of values (the engine and
// the baseline partition their output differently, so order cannot be
// compared).
func (r *runner) verify(ctx context.Context, admin *kadm.Client, a string, aStart map[int32]int64, b string, bStart map[int32]int64) (string, error) {
	seed := maphash.MakeSeed()
	digest := func(topic string, start map[int32]int64) (n int64, sumH, xorH uint64, first string, err error) {
		err = r.readTopic(ctx, admin, topic, start, func(rec *kgo.Record) {
			h := maphash.Bytes(seed, rec.Value)
			n, sumH, xorH = n+1, sumH+h, xorH^h
			if first == "" {
				first = string(rec.Value)
			}
		})
		return n, sumH, xorH, first, err
	}
	na, sa, xa, fa, err := digest(a, aStart)
	if err != nil {
		return "", err
	}
	nb, sb, xb, fb, err := digest(b, bStart)
	if err != nil {
		return "", err
	}
	if na == nb && sa == sb && xa == xb {
		return "ok", nil
	}
	return fmt.Sprintf("mismatch: engine %d records (first %s), baseline %d (first %s)", na, fa, nb, fb), nil
}

// readTopic calls fn with every committed record of topic from the
// offsets start to the topic's current end. Transaction markers
// (exactly-once runs) are read, so that the position reaches the end
// offsets, but not passed to fn.
func (r *runner) readTopic(ctx context.Context, admin *kadm.Client, topic string, start map[int32]int64, fn func(*kgo.Record)) error {
	ends, err := endOffsets(ctx, admin, topic)
	if err != nil {
		return err
	}
	offs := map[string]map[int32]kgo.Offset{topic: {}}
	for p := range ends {
		offs[topic][p] = kgo.NewOffset().At(start[p])
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.seedsOf(admin)...), kgo.ConsumePartitions(offs), kgo.FetchMaxWait(50*time.Millisecond),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	pos := map[int32]int64{}
	for p := range ends {
		pos[p] = start[p]
	}
	for {
		done := true
		for p, e := range ends {
			if pos[p] < e {
				done = false
			}
		}
		if done {
			return nil
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fs.EachRecord(func(rec *kgo.Record) {
			pos[rec.Partition] = rec.Offset + 1
			if !rec.Attrs.IsControl() {
				fn(rec)
			}
		})
	}
}

// seedsOf returns the seed brokers of the cluster admin talks to.
func (r *runner) seedsOf(admin *kadm.Client) []string {
	md, err := admin.BrokerMetadata(context.Background())
	if err != nil {
		return nil
	}
	var out []string
	for _, b := range md.Brokers {
		out = append(out, fmt.Sprintf("%s:%d", b.Host, b.Port))
	}
	return out
}

// endOffsets returns the end offset of every partition of the topics,
// keyed by partition; with several topics the partitions are merged, which
// only sum uses.
func endOffsets(ctx context.Context, admin *kadm.Client, topics ...string) (map[int32]int64, error) {
	lo, err := admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	var errs []error
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("end offset of %s[%d]: %w", o.Topic, o.Partition, o.Err))
			return
		}
		out[o.Partition] += o.Offset
	})
	return out, errors.Join(errs...)
}

func sum(m map[int32]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}
