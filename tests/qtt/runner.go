package qtt

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// DefaultTimeout bounds one case.
const DefaultTimeout = 20 * time.Second

// Runner plays cases against fresh engines.
type Runner struct {
	// Open starts the engine under test; nil means OpenSluice.
	Open OpenFunc
	// Timeout bounds each case; 0 means DefaultTimeout. A case that runs
	// out of time fails with that reason.
	Timeout time.Duration
	// TempDir is where per-case data directories are made; "" means the
	// system's temporary directory.
	TempDir string
}

// Run plays one case and reports its outcome. It never panics on a bad
// case: every problem becomes a failure with a reason.
func (r *Runner) Run(ctx context.Context, c *Case) *Result {
	start := time.Now()
	res := &Result{Case: c, Negative: c.expected() != nil}
	if reason := c.SkipReason(); reason != "" {
		res.Status = Skip
		res.Reason = reason
		return res
	}
	if ctx.Err() != nil {
		return res.failf("cancelled")
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan *Result, 1)
	go func() {
		out := &Result{Case: c, Negative: res.Negative}
		defer func() {
			if p := recover(); p != nil {
				out.failf("runner panic: %v", p)
				out.detail("%s", debug.Stack())
			}
			done <- out
		}()
		r.run(cctx, c, out)
		if cctx.Err() != nil && out.Status != Fail {
			out.failf("timed out after %s", timeout)
		}
	}()
	select {
	case out := <-done:
		if out.Status == Fail && cctx.Err() != nil && ctx.Err() == nil {
			// Whatever failed, it failed because the case ran out of time.
			out.Reason = fmt.Sprintf("timed out after %s (%s)", timeout, out.Reason)
		}
		out.Elapsed = time.Since(start)
		return out
	case <-cctx.Done():
		// The case goroutine is stuck in a call that ignores its context; it
		// cleans up after itself if that call ever returns.
		res.Elapsed = time.Since(start)
		if ctx.Err() != nil {
			return res.failf("cancelled")
		}
		return res.failf("timed out after %s", timeout)
	}
}

// expected returns the case's expected error (expectedException, or
// expectedError for REST files), or nil.
func (c *Case) expected() *ExpectedException {
	if c.Test.ExpectedException != nil {
		return c.Test.ExpectedException
	}
	return c.Test.ExpectedError
}

// run does the work of Run on the case's goroutine.
func (r *Runner) run(ctx context.Context, c *Case, res *Result) {
	b, err := newBroker()
	if err != nil {
		res.failf("%v", err)
		return
	}
	defer b.close()
	if err := createCaseTopics(ctx, b, c); err != nil {
		res.failf("%v", err)
		return
	}
	dir, err := os.MkdirTemp(r.TempDir, "qtt-case-")
	if err != nil {
		res.failf("%v", err)
		return
	}
	defer os.RemoveAll(dir)
	props := baseProperties()
	for k, v := range c.Properties {
		props[k] = v
	}
	open := r.Open
	if open == nil {
		open = OpenSluice
	}
	eng, err := open(ctx, TargetConfig{Brokers: b.addrs(), DataDir: dir, ServiceID: serviceID, Properties: props})
	if err != nil {
		res.failf("opening the engine: %v", err)
		return
	}
	defer eng.Close()
	if c.REST {
		runREST(ctx, c, b, eng, res)
	} else {
		runQTT(ctx, c, b, eng, res)
	}
	if res.Status != Fail && len(res.Diff) > 0 {
		res.Status = Fail
		res.Reason = res.Diff[0]
	}
}

// createCaseTopics creates the topics the Java harness creates before any
// statement runs (SPEC 3.4): the test's topics, the topics of CREATE
// statements that declare columns, and the topics of inputs.
func createCaseTopics(ctx context.Context, b *broker, c *Case) error {
	want := map[string]int32{}
	var order []string
	add := func(name string, partitions int32) {
		if _, ok := want[name]; !ok {
			order = append(order, name)
			want[name] = partitions
		} else if partitions > want[name] {
			want[name] = partitions
		}
	}
	for _, t := range c.Test.Topics {
		add(t.Name, t.Partitions)
	}
	for _, s := range c.Statements {
		if topic, parts, ok := declaredTopic(s); ok {
			add(topic, parts)
		}
	}
	for _, in := range c.Test.Inputs {
		add(in.Topic, 0)
	}
	for _, name := range order {
		if err := b.createTopic(ctx, name, want[name]); err != nil {
			return err
		}
	}
	return nil
}

type stage string

const (
	stageStatement stage = "statement"
	stageRuntime   stage = "runtime"
)

// runQTT plays a query-validation case (SPEC 3.6).
func runQTT(ctx context.Context, c *Case, b *broker, eng Target, res *Result) {
	exp := c.expected()
	for i, s := range c.Statements {
		res.detail("statement %d: %s", i+1, s)
		if err := eng.Exec(ctx, s); err != nil {
			switch {
			case ctx.Err() != nil:
				res.failf("statement %d: %v", i+1, err)
			case exp != nil && i == len(c.Statements)-1:
				checkError(res, exp, stageStatement, err, linesBefore(c.Statements[:i]))
			case exp != nil:
				res.failf("statement %d of %d failed; only the last may fail: %s", i+1, len(c.Statements), errText(err))
			default:
				res.failf("statement %d failed: %s", i+1, errText(err))
			}
			return
		}
	}
	recs, err := encodeInputs(c.Test.Inputs, eng.Sources())
	if err != nil {
		res.failf("%v", err)
		return
	}
	run := func() bool {
		err := eng.RunUntilIdle(ctx)
		switch {
		case err == nil:
			return true
		case exp != nil && ctx.Err() == nil:
			checkError(res, exp, stageRuntime, err, 0)
		default:
			res.failf("running the queries: %s", errText(err))
		}
		return false
	}
	// The Java harness pipes the inputs one by one, in file order, each
	// processed before the next (SPEC 3.6.4). Records of one topic keep
	// their order by themselves, so each run of consecutive inputs to one
	// topic is produced at once and processed before the next run: a join
	// sees its inputs' records in file order, whatever their timestamps.
	// A case without inputs is driven by INSERT VALUES: one run.
	for first := true; first || len(recs) > 0; first = false {
		n := 1
		for n < len(recs) && recs[n].Topic == recs[0].Topic {
			n++
		}
		n = min(n, len(recs))
		if err := b.produce(ctx, recs[:n]); err != nil {
			res.failf("producing inputs: %v", err)
			return
		}
		recs = recs[n:]
		if !run() {
			return
		}
	}
	if exp != nil {
		res.failf("expected an error (%s) but the statements and queries succeeded", describeExpected(exp))
		return
	}
	sources := eng.Sources()
	verifyOutputs(ctx, c, b, sources, res)
	if c.Test.Post != nil {
		verifyPost(ctx, c.Test.Post, b, sources, res)
	}
}

// encodeInputs serializes the inputs with the formats of the sources that
// own their topics, all to partition 0, in file order.
func encodeInputs(inputs []Record, sources []*sluice.Source) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, 0, len(inputs))
	for i := range inputs {
		in := &inputs[i]
		src := owningSource(sources, in.Topic, false)
		if src == nil {
			return nil, fmt.Errorf("input %d: no stream or table reads topic %s", i+1, in.Topic)
		}
		key, err := encodeKey(src, in)
		if err != nil {
			return nil, fmt.Errorf("input %d (topic %s, source %s): %w", i+1, in.Topic, src.Name, err)
		}
		val, err := encodeValue(src, in)
		if err != nil {
			return nil, fmt.Errorf("input %d (topic %s, source %s): %w", i+1, in.Topic, src.Name, err)
		}
		rec := &kgo.Record{Topic: in.Topic, Partition: 0, Key: key, Value: val, Timestamp: time.UnixMilli(0)}
		if in.Timestamp != nil {
			rec.Timestamp = time.UnixMilli(*in.Timestamp)
		}
		for _, h := range in.Headers {
			hdr := kgo.RecordHeader{Key: h.Key}
			if h.Value != nil {
				v, err := base64.StdEncoding.DecodeString(*h.Value)
				if err != nil {
					return nil, fmt.Errorf("input %d: header %s: %w", i+1, h.Key, err)
				}
				hdr.Value = v
			}
			rec.Headers = append(rec.Headers, hdr)
		}
		out = append(out, rec)
	}
	return out, nil
}

// checkError scores an error against the expected one (SPEC 3.8): the
// right stage (StreamsException is a runtime error, everything else a
// statement error) and, when a message is expected, the same message.
// linesBefore is the number of script lines before the failing statement
// (the Java harness numbers the lines of all the case's statements, one
// statement per line): a ksqlDB position "Line: L, Col: C: " in the
// expected message must be the error's position, that many lines on.
func checkError(res *Result, exp *ExpectedException, got stage, err error, linesBefore int) {
	want := stageStatement
	if strings.HasSuffix(exp.Type, "StreamsException") {
		want = stageRuntime
	}
	res.RightStage = got == want
	msg, at := ksqlMessage(exp.Message)
	res.SameMessage = res.RightStage && messageMatches(err, msg) && messageMatches(err, exp.CauseMessage) &&
		positionMatches(err, at, linesBefore)
	switch {
	case res.SameMessage:
		res.Status = Pass
	case !res.RightStage:
		res.failf("failed at the %s stage, expected a %s error: %s", got, want, errText(err))
	default:
		res.failf("error message differs")
		res.diff("expected message containing: %q", exp.Message)
		res.diff("actual error:                %q", errText(err))
	}
}

func describeExpected(exp *ExpectedException) string {
	var parts []string
	if exp.Type != "" {
		parts = append(parts, exp.Type[strings.LastIndexByte(exp.Type, '.')+1:])
	}
	if exp.Message != "" {
		parts = append(parts, fmt.Sprintf("%q", exp.Message))
	}
	return strings.Join(parts, ": ")
}

// ksqlWrappers are the prefixes ksqlDB's statement executor puts before
// the engine's message; sluice's errors carry the message alone.
var ksqlWrappers = []string{"Exception while preparing statement: ", "Failed to prepare statement: "}

// ksqlPosition is ksqlDB's rendering of a statement position.
var ksqlPosition = regexp.MustCompile(`^Line: (\d+), Col: (\d+): `)

// ksqlMessage splits an expected ksqlDB message into the engine's message
// and the position it names (the zero Pos when it names none).
func ksqlMessage(want string) (string, sql.Pos) {
	for _, w := range ksqlWrappers {
		want = strings.TrimPrefix(want, w)
	}
	m := ksqlPosition.FindStringSubmatch(want)
	if m == nil {
		return want, sql.Pos{}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	return want[len(m[0]):], sql.Pos{Line: line, Col: col}
}

// positionMatches reports whether err is at the script position at (any
// position matches the zero Pos), its statement starting linesBefore lines
// into the script.
func positionMatches(err error, at sql.Pos, linesBefore int) bool {
	if !at.IsValid() {
		return true
	}
	var se *sql.Error
	return errors.As(err, &se) && se.Pos.Line+linesBefore == at.Line && se.Pos.Col == at.Col
}

// linesBefore counts the script lines of stmts, one statement per line.
func linesBefore(stmts []string) int {
	n := 0
	for _, s := range stmts {
		n += 1 + strings.Count(s, "\n")
	}
	return n
}

// messageMatches reports whether the error, or any error it wraps, contains
// want (an empty want always matches). A trailing period of want is
// ignored: sluice's messages are sentences without one (sql.Error), and
// its hint follows the message.
func messageMatches(err error, want string) bool {
	want = strings.TrimSuffix(strings.TrimSpace(want), ".")
	if want == "" {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), want) {
			return true
		}
		var se *sql.Error
		if errors.As(e, &se) && strings.Contains(se.Msg, want) {
			return true
		}
	}
	return false
}

// errText renders an engine error with its SQLSTATE when it has one.
func errText(err error) string {
	var se *sql.Error
	if errors.As(err, &se) && se.Code != "" {
		return fmt.Sprintf("[%s] %s", se.Code, err.Error())
	}
	return err.Error()
}
