// Package exectest runs operator scenarios for tests of package exec and of
// the operators built on it.
//
// A Scenario is a source, its input records, a pipeline and a tail (a sink
// or a collector). Run executes it once per batch size (1, 3 and 1024 by
// default) and requires every run to produce the same output, errors and
// counters: results must never depend on batch sizes (exec invariant 3).
// The output is rendered as text, one line per row or Kafka record, so
// tests compare it with golden text (datadriven files).
package exectest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
)

// DefaultBatchSizes are the batch sizes every scenario runs with.
var DefaultBatchSizes = []int{1, 3, 1024}

// Scenario is one operator test.
type Scenario struct {
	Source  exec.SourceSpec
	Records []*kgo.Record
	// Ops are FilterSpec and ProjectSpec values, as in planner.Plan.Ops.
	Ops []any
	// Sink, when set, ends the pipeline and the output is the Kafka records
	// it writes; otherwise a collector ends it and the output is the rows
	// (with their change kinds) that reach it.
	Sink       *exec.SinkSpec
	BatchSizes []int // nil: DefaultBatchSizes
	// RestartAfter, when > 0, closes the task after that many records
	// (after a Flush, as at a checkpoint) and continues with the rest in a
	// new task over the same state: results must not depend on restarts.
	// Stateful operators get a fresh MemState per run.
	RestartAfter int
}

// Result is what one run of a scenario produced.
type Result struct {
	// Output is one line per output row (FormatRow) or record
	// (FormatRecord), in order.
	Output []string
	// Errors are the messages reported through OnRecordError, sorted: the
	// relative order of decode and evaluation errors depends on batching.
	Errors []string
	// Counters renders the query's metrics.
	Counters   string
	StreamTime int64
}

// String renders r as golden text.
func (r *Result) String() string {
	var b strings.Builder
	for _, l := range r.Output {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	for _, e := range r.Errors {
		b.WriteString("error: ")
		b.WriteString(e)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s stream-time=%d\n", r.Counters, r.StreamTime)
	return b.String()
}

// Run runs s with each batch size and returns the common result, or an
// error saying which batch sizes disagree and how.
func Run(s Scenario) (*Result, error) {
	sizes := s.BatchSizes
	if len(sizes) == 0 {
		sizes = DefaultBatchSizes
	}
	var first *Result
	for _, bs := range sizes {
		r, err := RunOnce(s, bs)
		if err != nil {
			return nil, fmt.Errorf("batch=%d: %w", bs, err)
		}
		if first == nil {
			first = r
			continue
		}
		if a, b := first.String(), r.String(); a != b {
			return first, fmt.Errorf("batch=%d and batch=%d disagree:\n--- batch=%d\n%s--- batch=%d\n%s", sizes[0], bs, sizes[0], a, bs, b)
		}
	}
	return first, nil
}

// Check is Run for tests: it fails t when the runs disagree or fail.
func Check(t testing.TB, s Scenario) *Result {
	t.Helper()
	r, err := Run(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// RunOnce runs s with one batch size.
func RunOnce(s Scenario, batchSize int) (*Result, error) {
	res := &Result{}
	m := &exec.Metrics{}
	state := NewMemState()
	tc := &exec.TaskContext{
		QueryID:       "test",
		Metrics:       m,
		OnRecordError: func(err error) { res.Errors = append(res.Errors, err.Error()) },
		OpenState:     state.Open,
	}
	recs := s.Records
	streamTime := exec.NoStreamTime
	for {
		part := recs
		if s.RestartAfter > 0 && len(recs) > s.RestartAfter && len(recs) == len(s.Records) {
			part = recs[:s.RestartAfter]
		}
		st, err := runTask(s, tc, res, part, batchSize, streamTime)
		if err != nil {
			return nil, err
		}
		streamTime = st
		recs = recs[len(part):]
		if len(recs) == 0 {
			break
		}
	}
	res.StreamTime = streamTime
	slices.Sort(res.Errors)
	res.Counters = fmt.Sprintf("in=%d out=%d decode-errors=%d eval-errors=%d dropped-nulls=%d",
		m.RecordsIn.Load(), m.RecordsOut.Load(), m.DecodeErrors.Load(), m.EvalErrors.Load(), m.DroppedNulls.Load())
	if n := m.LateRecords.Load(); n > 0 {
		res.Counters += fmt.Sprintf(" late=%d", n)
	}
	if n := m.UnknownTombstones.Load(); n > 0 {
		res.Counters += fmt.Sprintf(" unknown-tombstones=%d", n)
	}
	return res, nil
}

// runTask runs recs through a new task built from s, resuming at
// streamTime, and returns the task's stream time.
func runTask(s Scenario, tc *exec.TaskContext, res *Result, recs []*kgo.Record, batchSize int, streamTime int64) (int64, error) {
	src, err := exec.NewSourceDecoder(s.Source, tc)
	if err != nil {
		return 0, err
	}
	var tail exec.Operator
	if s.Sink != nil {
		tail, err = exec.NewSink(*s.Sink, func(r *kgo.Record) { res.Output = append(res.Output, FormatRecord(r)) })
		if err != nil {
			src.Release()
			return 0, err
		}
	} else {
		tail = exec.NewCollector(func(_ context.Context, b exec.Batch) error {
			for i := 0; i < b.Len(); i++ {
				res.Output = append(res.Output, FormatRow(b, i))
			}
			return nil
		})
	}
	head, err := exec.BuildPipeline(s.Ops, tail)
	if err != nil {
		src.Release()
		return 0, err
	}
	task := exec.NewTask(tc, src, head, batchSize)
	task.RestoreStreamTime(streamTime)
	ctx := context.Background()
	if err := task.Open(); err != nil {
		task.Close()
		return 0, err
	}
	if err := task.Process(ctx, recs); err != nil {
		task.Close()
		return 0, err
	}
	if err := task.Flush(ctx); err != nil {
		task.Close()
		return 0, err
	}
	if err := task.Close(); err != nil {
		return 0, err
	}
	return task.StreamTime(), nil
}
