package crash

import (
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/tests/internal/sluicebin"
)

// binary is the sluice binary TestMain builds once for every test.
var binary string

func TestMain(m *testing.M) { sluicebin.Main(m, &binary) }

// scale returns the integer environment variable name, or def when it is
// unset. SLUICE_CRASH_RECORDS and SLUICE_CRASH_KILLS size the crash tests
// (the defaults are the issues' figures: 1M records, 5 kills).
func scale(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

func needPsql(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		if os.Getenv("SLUICE_REQUIRE_CLIENTS") != "" {
			t.Fatal("psql is required (SLUICE_REQUIRE_CLIENTS is set)")
		}
		t.Skip("psql not installed")
	}
}

// server is a `sluice serve` child process with its embedded broker. Its
// data directory holds the broker's log under broker/ and the engine's
// Pebble state (catalog snapshot, operator state, checkpoints) under
// state/.
type server struct {
	t        *testing.T
	dir      string // --data-dir
	pg, kafk string
	cmd      *exec.Cmd
	waitExit chan struct{} // closed when cmd has exited
	log      *os.File
	starts   int
}

func newServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	if os.Getenv("SLUICE_CRASH_KEEP") != "" {
		// Keep the data directory and log for a post-mortem.
		var err error
		if dir, err = os.MkdirTemp("", "sluice-crash-"+t.Name()+"-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("data directory and log kept in %s", dir)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dir: filepath.Join(dir, "data"), pg: sluicebin.FreeAddr(t), kafk: sluicebin.FreeAddr(t), log: logf}
	t.Cleanup(func() {
		s.kill()
		logf.Close()
	})
	return s
}

// start runs `sluice serve` and returns once the engine is open (its
// queries resumed, their state restored) and serves Postgres.
func (s *server) start() {
	s.t.Helper()
	s.launch()
	s.ready()
}

// launch starts the `sluice serve` process without waiting for it.
func (s *server) launch() {
	s.t.Helper()
	s.starts++
	fmt.Fprintf(s.log, "=== test: start %d\n", s.starts)
	s.cmd = exec.Command(binary, "serve", "--data-dir", s.dir, "--pg-addr", s.pg, "--kafka-addr", s.kafk)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func(cmd *exec.Cmd) {
		cmd.Wait()
		close(exited)
	}(s.cmd)
	s.waitExit = exited
}

// ready waits until the launched process logged that it started: the
// Postgres port listens before the engine is open, so a connection alone
// does not tell.
func (s *server) ready() {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.waitExit:
			s.cmd = nil
			s.t.Fatalf("sluice serve exited during start-up:\n%s", s.logTail())
		default:
		}
		log, _ := os.ReadFile(s.log.Name())
		since := fmt.Sprintf("=== test: start %d\n", s.starts)
		if _, this, _ := strings.Cut(string(log), since); strings.Contains(this, `msg="sluice started"`) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("sluice serve did not start within 2 minutes:\n%s", s.logTail())
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.waitExit
	s.cmd = nil
	fmt.Fprintf(s.log, "=== test: SIGKILL\n")
}

// stop ends the process with SIGTERM and waits for its clean shutdown.
func (s *server) stop() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.waitExit:
	case <-time.After(2 * time.Minute):
		s.t.Fatalf("sluice serve did not stop within 2 minutes of SIGTERM:\n%s", s.logTail())
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Fatalf("sluice serve exited with %d after SIGTERM:\n%s", code, s.logTail())
	}
	s.cmd = nil
}

// psql runs statements with psql and returns its unaligned, tuples-only
// output.
func (s *server) psql(sql string) string {
	s.t.Helper()
	host, port, _ := net.SplitHostPort(s.pg)
	out, err := exec.Command("psql", "-h", host, "-p", port, "-X", "-A", "-t", "-F", ",",
		"-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput()
	if err != nil {
		s.t.Fatalf("psql %q: %v\n%s", sql, err, out)
	}
	return string(out)
}

// logTail is the end of the server's log, for failure messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log.Name())
	lines := strings.Split(string(b), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	return strings.Join(lines, "\n")
}

// client is a Kafka client of the server's embedded broker.
func (s *server) client(opts ...kgo.Opt) *kgo.Client {
	s.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.kafk)}, opts...)...)
	if err != nil {
		s.t.Fatal(err)
	}
	return cl
}

// produce writes n records made by rec to the broker and waits for all of
// them to be acknowledged.
func (s *server) produce(ctx context.Context, n int, rec func(i int) *kgo.Record) {
	s.t.Helper()
	cl := s.client(kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	defer cl.Close()
	var failed error
	for i := 0; i < n; i++ {
		cl.Produce(ctx, rec(i), func(_ *kgo.Record, err error) {
			if err != nil && failed == nil {
				failed = err
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		s.t.Fatal(err)
	}
	if failed != nil {
		s.t.Fatalf("produce: %v", failed)
	}
}

// outputEnd sums the end offsets of a topic's partitions: the records a
// query has written to it, committed or not, plus transaction markers. It
// measures progress, not results.
func (s *server) outputEnd(ctx context.Context, adm *kadm.Client, topic string) int64 {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// crashes SIGKILLs and restarts the server kills times at random moments
// while a query writes about want records to topic: at random points of
// the output's progress, and one at a random point of a restart. It
// returns when the last restart is up.
func (s *server) crashes(ctx context.Context, rng *rand.Rand, topic string, want int64, kills int) {
	s.t.Helper()
	adm := kadm.NewClient(s.client())
	defer adm.Close()
	marks := make([]float64, kills)
	for i := range marks {
		marks[i] = 0.05 + 0.75*rng.Float64()
	}
	sort.Float64s(marks)
	// One kill (not the first) hits the restart after the previous one,
	// at a random point of start-up: while the broker loads its log, the
	// engine resumes its queries and restores their state.
	early := 1 + rng.Intn(max(kills-1, 1))
	for k, mark := range marks {
		if k == early {
			time.Sleep(time.Duration(rng.Intn(2000)) * time.Millisecond)
			s.t.Logf("kill %d during start-up", k+1)
		} else {
			for s.outputEnd(ctx, adm, topic) < int64(mark*float64(want)) {
				if ctx.Err() != nil {
					s.t.Fatalf("output %s did not reach %.0f%% of %d records before the deadline:\n%s", topic, 100*mark, want, s.logTail())
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(time.Duration(rng.Intn(200)) * time.Millisecond)
			s.t.Logf("kill %d at output offset %d of ~%d", k+1, s.outputEnd(ctx, adm, topic), want)
		}
		s.kill()
		if k+1 == early {
			s.launch()
		} else {
			s.start()
		}
	}
}

// reader reads a topic from its start with read_committed, as a
// downstream consumer of a query's output would.
type reader struct {
	t  *testing.T
	cl *kgo.Client
}

func (s *server) reader(topic string) *reader {
	r := &reader{t: s.t, cl: s.client(kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))}
	s.t.Cleanup(r.cl.Close)
	return r
}

// until hands records to handle until done says enough arrived or ctx
// ends, then reads for two more seconds: anything more that is there now
// would be a duplicate.
func (r *reader) until(ctx context.Context, handle func(*kgo.Record), done func() bool) {
	for !done() && ctx.Err() == nil {
		r.cl.PollFetches(ctx).EachRecord(handle)
	}
	tail, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for tail.Err() == nil {
		r.cl.PollFetches(tail).EachRecord(handle)
	}
}
