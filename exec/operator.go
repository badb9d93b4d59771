package exec

import "context"

// Operator is a push-based operator of a task's pipeline (DESIGN.md
// decision 5). The task loop calls, in this order and from one goroutine:
// Open once; then any sequence of Push, Watermark and Checkpoint; then Close
// once. An operator forwards its own output to the next operator by calling
// that operator's methods synchronously; it never starts goroutines.
type Operator interface {
	// Open prepares the operator for a task.
	Open(t *TaskContext) error
	// Push processes a batch of changes. See Batch for ownership.
	Push(ctx context.Context, b Batch) error
	// Watermark says that stream time (the largest event time seen by the
	// task, in ms) has reached t. Windowed operators close windows here.
	Watermark(ctx context.Context, t int64) error
	// Flush asks the operator to hand everything it buffers downstream; the
	// task calls it before committing offsets and at checkpoints.
	Flush(ctx context.Context) error
	// Close releases resources. It is called even after an error.
	Close() error
}

// TaskContext is what a task gives its operators: identity and the counters
// where bad records are reported.
type TaskContext struct {
	QueryID   string
	Partition int32
	Metrics   *Metrics
	// OnRecordError is called for a record that could not be processed
	// (decode or evaluation error). It must not block.
	OnRecordError func(err error)
	// OpenState opens a stateful operator's store (see StateStore). It is
	// nil for pipelines without state.
	OpenState StateOpener
}
