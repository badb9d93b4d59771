package exec

import (
	"context"
	"fmt"
)

// collector hands each batch to a callback; it is the tail of a transient
// query, whose rows go to a client instead of a topic.
type collector struct {
	fn func(ctx context.Context, b Batch) error
}

var _ Operator = (*collector)(nil)

// NewCollector returns an operator that calls fn with every batch it
// receives. The batch is borrowed for the duration of the call (see Batch):
// fn must Retain the record to keep it, or copy the rows out.
func NewCollector(fn func(ctx context.Context, b Batch) error) Operator {
	return &collector{fn: fn}
}

func (c *collector) Open(*TaskContext) error {
	if c.fn == nil {
		return fmt.Errorf("collector: no callback")
	}
	return nil
}

func (c *collector) Push(ctx context.Context, b Batch) error {
	if b.Len() == 0 {
		return nil
	}
	return c.fn(ctx, b)
}

func (c *collector) Watermark(context.Context, int64) error { return nil }
func (c *collector) Flush(context.Context) error            { return nil }
func (c *collector) Close() error                           { return nil }
