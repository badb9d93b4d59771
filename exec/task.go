package exec

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Task runs one query's pipeline over one input partition: it decodes
// records into batches, pushes them through the operators and moves stream
// time forward.
//
// The contract with its owner (the consumer loop of the root package):
//
//  1. A Task is driven by one goroutine. Call Open once, then any number of
//     Process and Flush calls, then Close once (also after an error).
//  2. Process takes the records of this task's partition in offset order.
//     It cuts them into batches of at most batchSize records; for each
//     batch it pushes the decoded rows to the head operator, and then, if
//     the batch raised stream time, calls head.Watermark with the new stream
//     time. So an operator sees a batch before the watermark that the
//     batch's own records caused; an operator that needs per-row stream time
//     (window closing, late-record checks) takes the running maximum of
//     ROWTIME inside the batch, starting from the last watermark, which
//     keeps results independent of batch sizes.
//  3. The task releases each batch after Push returns (see Batch for what an
//     operator must do to keep one).
//  4. When Process returns nil, every record passed to it has been fully
//     processed and its outputs emitted, so the owner may commit offsets up
//     to the last record after calling Flush (and flushing its producer).
//     When Process returns an error the task stops at an unspecified record:
//     the owner must not commit, and restarts from the last commit.
//  5. Stream time only grows. It is NoStreamTime until the first valid
//     record. Restore it with RestoreStreamTime before Open when a task is
//     resumed, so that windows close at the same points as before the
//     restart.
//
// A task with several inputs (NewMultiTask, for joins) takes the records of
// each input with ProcessInputs and interleaves them in event-time order
// (see ProcessInputs).
type Task struct {
	tc         *TaskContext
	src        *SourceDecoder
	head       Operator
	more       []TaskInput // inputs 1..n-1 of a multi-input task
	batchSize  int
	streamTime int64
	opened     bool
	closed     bool
}

// TaskInput is one input of a multi-input task: the decoder of its topic
// and the operator its rows are pushed into (an entry of the pipeline built
// by BuildJoinPipeline).
type TaskInput struct {
	Decoder *SourceDecoder
	Head    Operator
}

// DefaultBatchSize is the batch size used when NewTask is given none.
const DefaultBatchSize = 1024

// NewTask returns a task that decodes with src and pushes into head (the
// head of a chain built by BuildPipeline, usually). batchSize <= 0 means
// DefaultBatchSize.
func NewTask(tc *TaskContext, src *SourceDecoder, head Operator, batchSize int) *Task {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	return &Task{tc: tc, src: src, head: head, batchSize: batchSize, streamTime: NoStreamTime}
}

// NewMultiTask returns a task over several inputs (at least one); input 0
// is the one Process takes.
func NewMultiTask(tc *TaskContext, inputs []TaskInput, batchSize int) *Task {
	t := NewTask(tc, inputs[0].Decoder, inputs[0].Head, batchSize)
	t.more = append([]TaskInput(nil), inputs[1:]...)
	return t
}

// NumInputs is the number of inputs of the task.
func (t *Task) NumInputs() int { return 1 + len(t.more) }

// input returns input i.
func (t *Task) input(i int) TaskInput {
	if i == 0 {
		return TaskInput{Decoder: t.src, Head: t.head}
	}
	return t.more[i-1]
}

// RestoreStreamTime sets the stream time of a resumed task (for example from
// the metadata committed with its offsets). It must be called before Open.
func (t *Task) RestoreStreamTime(st int64) { t.streamTime = max(t.streamTime, st) }

// StreamTime is the largest event time the task has seen, or NoStreamTime.
func (t *Task) StreamTime() int64 { return t.streamTime }

// Open opens the operators.
func (t *Task) Open() error {
	if t.opened {
		return errors.New("task: opened twice")
	}
	t.opened = true
	for i := 0; i < t.NumInputs(); i++ {
		// Heads that end in the same join open it once (Join.Open is
		// idempotent), so every chain is opened.
		if err := t.input(i).Head.Open(t.tc); err != nil {
			return fmt.Errorf("open query %s partition %d: %w", t.tc.QueryID, t.tc.Partition, err)
		}
	}
	return nil
}

// Process decodes and processes recs (see Task for the contract).
func (t *Task) Process(ctx context.Context, recs []*kgo.Record) error {
	if !t.opened || t.closed {
		return errors.New("task: Process outside Open and Close")
	}
	for len(recs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(recs), t.batchSize)
		for _, r := range recs[:n] {
			t.src.Append(r)
		}
		recs = recs[n:]
		if b, ok := t.src.Flush(); ok {
			err := t.head.Push(ctx, b)
			b.Rec.Release()
			if err != nil {
				return t.wrap(err)
			}
		}
		if st := t.src.StreamTime(); st > t.streamTime {
			t.streamTime = st
			if err := t.head.Watermark(ctx, st); err != nil {
				return t.wrap(err)
			}
		}
	}
	return nil
}

// Flush asks the operators to hand everything they buffer downstream; call
// it before committing offsets and at checkpoints.
func (t *Task) Flush(ctx context.Context) error {
	if !t.opened || t.closed {
		return errors.New("task: Flush outside Open and Close")
	}
	for i := 0; i < t.NumInputs(); i++ {
		if err := t.input(i).Head.Flush(ctx); err != nil {
			return t.wrap(err)
		}
	}
	return nil
}

// Close closes the operators and frees the decoder. It is safe to call after
// any error, and more than once.
func (t *Task) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	for i := 0; i < t.NumInputs(); i++ {
		in := t.input(i)
		if t.opened {
			errs = append(errs, in.Head.Close())
		}
		in.Decoder.Release()
	}
	return t.wrap(errors.Join(errs...))
}

func (t *Task) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("query %s partition %d: %w", t.tc.QueryID, t.tc.Partition, err)
}

// discardMetrics absorbs the counts of a TaskContext without Metrics (tests,
// tools); its counters are atomic, so sharing it is safe.
var discardMetrics Metrics

func (t *TaskContext) metrics() *Metrics {
	if t == nil || t.Metrics == nil {
		return &discardMetrics
	}
	return t.Metrics
}

// recordError counts a bad record in counter, remembers the error in the
// metrics and hands it to OnRecordError.
func (t *TaskContext) recordError(counter *atomic.Int64, err error) {
	counter.Add(1)
	t.metrics().NoteError(err)
	if t != nil && t.OnRecordError != nil {
		t.OnRecordError(err)
	}
}
