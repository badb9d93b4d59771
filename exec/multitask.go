package exec

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ProcessInputs processes the records of every input of a multi-input
// task: recs[i] are input i's records of this task's partition, in offset
// order (nil or empty when the input has none this time). The contract of
// Process applies (point 4: when it returns nil, every record has been
// processed).
//
// Order across inputs. Each input is decoded in batches of at most the
// task's batch size; the rows are then pushed in event-time (ROWTIME)
// order across inputs, as Kafka Streams picks the partition whose head
// record has the smallest timestamp. Within an input the offset order is
// kept, even for out-of-order times. Ties are broken deterministically:
// table inputs before stream inputs, so a stream row sees a table update
// with the same timestamp (as a lookup of the table version valid at that
// time would); then the lower input index, the left side of a join before
// its right side (FROM order). A run of rows that stays first is
// pushed as one slice of the decoded batch, so a run never spans batches
// and results do not depend on the batch size.
//
// Only the records handed in are ordered. So that the order does not
// depend on when each topic's records were fetched, the engine hands a
// task only the prefix CutInputs picks, the part of the fetched records
// that Kafka Streams would process before it has to wait for an input that
// has more records in Kafka than were fetched.
//
// After each run that raised stream time, every head gets a Watermark;
// after the last run, stream time also covers records the decoders dropped.
func (t *Task) ProcessInputs(ctx context.Context, recs [][]*kgo.Record) error {
	if !t.opened || t.closed {
		return errors.New("task: ProcessInputs outside Open and Close")
	}
	n := t.NumInputs()
	if len(recs) != n {
		return fmt.Errorf("task: %d record lists for %d inputs", len(recs), n)
	}
	if n == 1 {
		return t.Process(ctx, recs[0])
	}
	cur := make([]*inputCursor, n)
	for i := range cur {
		in := t.input(i)
		cur[i] = &inputCursor{in: in, recs: recs[i], prio: i, timeCol: in.Decoder.rowtimeIdx}
		if !in.Decoder.spec.Table {
			cur[i].prio += n // streams after tables
		}
	}
	defer func() {
		for _, c := range cur {
			c.release()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		best := -1
		for i, c := range cur {
			if !c.fill(t.batchSize) {
				continue
			}
			if best < 0 || c.before(cur[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		c := cur[best]
		end := c.row + 1
		for ; end < c.b.Len(); end++ {
			if !c.beforeAt(end, cur, best) {
				break
			}
		}
		maxT := NoStreamTime
		for r := c.row; r < end; r++ {
			maxT = max(maxT, int64(c.times[r]))
		}
		if err := c.push(ctx, end); err != nil {
			return t.wrap(err)
		}
		if maxT > t.streamTime {
			if err := t.watermark(ctx, maxT); err != nil {
				return err
			}
		}
	}
	st := t.streamTime
	for _, c := range cur {
		st = max(st, c.in.Decoder.StreamTime())
	}
	if st > t.streamTime {
		return t.watermark(ctx, st)
	}
	return nil
}

// CutInputs returns how many of each input's records (recs as for
// ProcessInputs) can be processed now without depending on records not
// fetched yet. behind[i] says that input i has records in Kafka after
// recs[i] (its known end offset is past them).
//
// It replays Kafka Streams' choice (StreamTask with max.task.idle.ms 0):
// records are taken in the order ProcessInputs uses, the smallest record
// timestamp first across inputs (ties: tables, then the lower input), and
// taking stops when an input that is behind has no fetched record left,
// since its next record may come first. An input that is not behind (at
// its end, or of unknown end) is not waited for. The order is that of the
// Kafka record timestamps, which are the rows' event times unless a source
// declares a TIMESTAMP column. The result takes nothing when a behind
// input has no records at all; the caller bounds how long it waits
// (persistent.go, maxTaskIdle) and then hands everything.
func (t *Task) CutInputs(recs [][]*kgo.Record, behind []bool) []int {
	n := len(recs)
	take := make([]int, n)
	prio := func(i int) int {
		if i < t.NumInputs() && t.input(i).Decoder.spec.Table {
			return i
		}
		return i + n
	}
	for {
		for i := range recs {
			if behind[i] && take[i] == len(recs[i]) {
				return take
			}
		}
		best := -1
		for i := range recs {
			if take[i] == len(recs[i]) {
				continue
			}
			if best < 0 {
				best = i
				continue
			}
			bt, it := recs[best][take[best]].Timestamp, recs[i][take[i]].Timestamp
			if it.Before(bt) || it.Equal(bt) && prio(i) < prio(best) {
				best = i
			}
		}
		if best < 0 {
			return take
		}
		take[best]++
	}
}

func (t *Task) watermark(ctx context.Context, st int64) error {
	t.streamTime = st
	for i := 0; i < t.NumInputs(); i++ {
		if err := t.input(i).Head.Watermark(ctx, st); err != nil {
			return t.wrap(err)
		}
	}
	return nil
}

// inputCursor walks the decoded batches of one input.
type inputCursor struct {
	in      TaskInput
	recs    []*kgo.Record // not yet decoded
	prio    int           // tie order: lower first
	timeCol int
	b       Batch
	has     bool
	times   []arrow.Timestamp // ROWTIME of b's rows
	row     int               // next row of b to push
}

// fill makes sure the cursor has a row to push, decoding more records when
// the current batch is used up. It returns false when the input is done.
func (c *inputCursor) fill(batchSize int) bool {
	for !c.has || c.row >= c.b.Len() {
		c.release()
		if len(c.recs) == 0 {
			return false
		}
		k := min(len(c.recs), batchSize)
		for _, r := range c.recs[:k] {
			c.in.Decoder.Append(r)
		}
		c.recs = c.recs[k:]
		b, ok := c.in.Decoder.Flush()
		if !ok {
			continue
		}
		c.b, c.has, c.row = b, true, 0
		// The decoder builds ROWTIME as a non-NULL TIMESTAMP column.
		c.times = b.Rec.Column(c.timeCol).(*array.Timestamp).TimestampValues()
	}
	return true
}

func (c *inputCursor) release() {
	if c.has {
		c.b.Rec.Release()
		c.has = false
	}
}

// before reports whether c's next row goes before o's next row.
func (c *inputCursor) before(o *inputCursor) bool {
	ct, ot := c.times[c.row], o.times[o.row]
	return ct < ot || ct == ot && c.prio < o.prio
}

// beforeAt reports whether row r of c goes before the next row of every
// other input with rows left.
func (c *inputCursor) beforeAt(r int, all []*inputCursor, self int) bool {
	ct := c.times[r]
	for i, o := range all {
		if i == self || !o.has || o.row >= o.b.Len() {
			continue
		}
		ot := o.times[o.row]
		if ct > ot || ct == ot && c.prio > o.prio {
			return false
		}
	}
	return true
}

// push hands rows [row, end) of the batch to the input's head.
func (c *inputCursor) push(ctx context.Context, end int) error {
	b := c.b
	if c.row > 0 || end < b.Len() {
		rec := b.Rec.NewSlice(int64(c.row), int64(end))
		defer rec.Release()
		var kinds []ChangeKind
		if b.Kinds != nil {
			kinds = b.Kinds[c.row:end]
		}
		b = Batch{Rec: rec, Kinds: kinds}
	}
	c.row = end
	return c.in.Head.Push(ctx, b)
}
