package sluice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

// query runs a SELECT statement: a push query (EMIT CHANGES) that streams
// until cancelled or its LIMIT, or a pull query over a stream, which scans
// the topic up to its current end and stops.
func (e *Engine) query(ctx context.Context, st *sql.Query, props map[string]string) (*Rows, error) {
	plan, err := planner.PlanQuery(e.cat, st.Select, planner.Props(props))
	if err != nil {
		return nil, err
	}
	pull := st.Select.Emit == sql.EmitNone
	if pull && plan.Input.Table {
		return e.pullTable(ctx, st, plan, props)
	}
	if pull {
		// A pull query reads what is there now, from the beginning.
		props = mergeProps(props, map[string]string{propOffsetReset: "earliest"})
	}
	if len(plan.Pre) > 0 {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, st.Position(),
			"a push query that needs a repartition (grouping or joining by a non-key column) is not supported yet").
			WithHint("create the result as a table with CREATE TABLE ... AS SELECT and query that table")
	}
	tq := &transientQuery{e: e, plan: plan, props: props, pull: pull, metrics: &exec.Metrics{},
		stateName: fmt.Sprintf("transient-%d", transientSeq.Add(1))}
	qctx, cancel := context.WithCancel(ctx)
	ch := make(chan Row, 256)
	if err := tq.open(qctx); err != nil {
		cancel()
		return nil, err
	}
	go tq.run(qctx, ch)
	// As in ksqlDB, only a pull query over a table reports key columns: the
	// rows of a stream or of a push query are events, not keyed rows.
	keyed := pull && plan.Input.Table
	return newStreamRows(columnsOf(plan.Output, keyed), ch, tq.err, func() { cancel() }), nil
}

// columnsOf converts plan output columns to API columns.
func columnsOf(cols []planner.Column, keyed bool) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: c.Name, Type: c.Type.String(),
			Key: keyed && (c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey)}
	}
	return out
}

var transientSeq atomic.Int64

// transientQuery is a push or pull query's run: it reads the source topic
// without a consumer group and hands result rows to the client.
type transientQuery struct {
	e        *Engine
	plan     *planner.Plan
	props    map[string]string
	pull     bool
	metrics  *exec.Metrics
	consumer *kgo.Client
	// topics are the input topics: the plan's input, then its joins'.
	topics []string
	ends   map[int32]int64 // pull: stop offsets
	// tasks are the per-partition tasks; a SingleTask plan has one, under
	// partition 0, that reads every partition.
	tasks  map[int32]*exec.Task
	states []*taskState
	// stateName keys the query's operator state; unique per run.
	stateName string
	emitted   int64

	mu      sync.Mutex
	failure error
}

func (tq *transientQuery) err() error {
	tq.mu.Lock()
	defer tq.mu.Unlock()
	return tq.failure
}

func (tq *transientQuery) fail(err error) {
	tq.mu.Lock()
	defer tq.mu.Unlock()
	if tq.failure == nil {
		tq.failure = err
	}
}

func (tq *transientQuery) open(ctx context.Context) error {
	e := tq.e
	tq.topics = []string{tq.plan.Input.Topic}
	for _, j := range tq.plan.Joins {
		tq.topics = append(tq.topics, j.Input.Topic)
	}
	offsets := map[string]map[int32]kgo.Offset{}
	for i, topic := range tq.topics {
		info, ok, err := e.kafka.DescribeTopic(ctx, topic)
		if err != nil {
			return err
		}
		if !ok {
			return sql.Errorf(sql.CodeUndefinedObject, sql.Pos{}, "Kafka topic does not exist: %s", topic)
		}
		// A read_committed consumer reaches the last stable offset, never
		// past an open transaction.
		ends, err := e.kafka.StableOffsets(ctx, topic)
		if err != nil {
			return err
		}
		if i == 0 {
			tq.ends = ends[topic]
		}
		offsets[topic] = map[int32]kgo.Offset{}
		for p := int32(0); p < info.Partitions; p++ {
			if tq.props[propOffsetReset] == "earliest" {
				offsets[topic][p] = kgo.NewOffset().AtStart()
			} else {
				offsets[topic][p] = kgo.NewOffset().At(ends[topic][p])
			}
		}
	}
	var err error
	tq.consumer, err = kgo.NewClient(
		kgo.SeedBrokers(e.seeds...),
		kgo.ConsumePartitions(offsets),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers are kept so that a pull query's position
		// reaches the end offsets of a topic written in transactions; they
		// are dropped before processing.
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(e.cfg.pollWait),
	)
	if err != nil {
		return fmt.Errorf("push query consumer: %w", err)
	}
	return nil
}

// run reads, processes and emits until the context ends, the LIMIT is
// reached, or (pull) the end offsets are reached. It closes ch when done.
func (tq *transientQuery) run(ctx context.Context, ch chan<- Row) {
	defer close(ch)
	defer tq.consumer.Close()
	tq.tasks = map[int32]*exec.Task{}
	defer func() {
		for _, t := range tq.tasks {
			t.Close()
		}
		for _, ts := range tq.states {
			ts.close()
		}
	}()
	limitReached := errors.New("limit reached")
	cols := resultCols(tq.plan)
	collect := func(ctx context.Context, b exec.Batch) error {
		for i := 0; i < b.Len(); i++ {
			if tq.plan.Limit != nil && tq.emitted >= *tq.plan.Limit {
				return limitReached
			}
			kind := b.Kind(i)
			if kind == exec.UpdateBefore {
				// ksqlDB streams a table's changes to a push query as the
				// new rows only: the retracted half of an update is not a
				// result row (and must not count against LIMIT). The
				// UpdateAfter that follows keeps its kind.
				continue
			}
			row := Row{Kind: kind, Values: rowValues(b.Rec, i, cols)}
			select {
			case ch <- row:
				tq.emitted++
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if tq.plan.Limit != nil && tq.emitted >= *tq.plan.Limit {
			return limitReached
		}
		return nil
	}
	pos := map[int32]int64{}
	for {
		if tq.pull && tq.caughtUp(pos) {
			return
		}
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := tq.consumer.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			tq.fail(ferr)
			return
		}
		if tq.plan.SingleTask {
			perr := tq.processAll(ctx, fetches, collect)
			switch {
			case perr == nil:
				continue
			case errors.Is(perr, limitReached), ctx.Err() != nil:
			default:
				tq.fail(perr)
			}
			return
		}
		var perr error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if perr != nil || len(fp.Records) == 0 {
				return
			}
			recs := fp.Records
			if tq.pull {
				// Records past the end offsets arrived after the query
				// started; a pull query does not see them.
				end := tq.ends[fp.Partition]
				k := len(recs)
				for k > 0 && recs[k-1].Offset >= end {
					k--
				}
				recs = recs[:k]
			}
			pos[fp.Partition] = fp.Records[len(fp.Records)-1].Offset + 1
			data := recs[:0:0]
			for _, r := range recs {
				if !r.Attrs.IsControl() {
					data = append(data, r)
				}
			}
			recs = data
			if len(recs) == 0 {
				return
			}
			t, err := tq.task(fp.Partition, collect)
			if err != nil {
				perr = err
				return
			}
			if err := t.Process(ctx, recs); err != nil {
				perr = err
				return
			}
			perr = t.Flush(ctx)
		})
		switch {
		case perr == nil:
		case errors.Is(perr, limitReached), ctx.Err() != nil:
			return
		default:
			tq.fail(perr)
			return
		}
	}
}

// processAll hands every record of a poll to the single task of a
// SingleTask plan, each input's records in one list (partitions one after
// the other), so that the task interleaves the inputs by time.
func (tq *transientQuery) processAll(ctx context.Context, fetches kgo.Fetches, collect func(context.Context, exec.Batch) error) error {
	recs := make([][]*kgo.Record, len(tq.topics))
	n := 0
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		i := slices.Index(tq.topics, fp.Topic)
		if i < 0 {
			return
		}
		for _, r := range fp.Records {
			if !r.Attrs.IsControl() {
				recs[i] = append(recs[i], r)
				n++
			}
		}
	})
	if n == 0 {
		return nil
	}
	t, err := tq.task(0, collect)
	if err != nil {
		return err
	}
	if err := t.ProcessInputs(ctx, recs); err != nil {
		return err
	}
	return t.Flush(ctx)
}

func (tq *transientQuery) caughtUp(pos map[int32]int64) bool {
	for p, end := range tq.ends {
		if pos[p] < end {
			return false
		}
	}
	return true
}

func (tq *transientQuery) task(p int32, collect func(context.Context, exec.Batch) error) (*exec.Task, error) {
	if t := tq.tasks[p]; t != nil {
		return t, nil
	}
	// A transient query's state lives only in an uncommitted batch: it is
	// never checkpointed nor mirrored to a changelog, and it is dropped with
	// the query.
	ts := newTaskState(tq.e, tq.stateName, p, false, func(*kgo.Record) {})
	ts.noChangelog = true
	tq.states = append(tq.states, ts)
	tc := &exec.TaskContext{QueryID: "transient", Partition: p, Metrics: tq.metrics,
		OnRecordError: tq.e.recordErrorLogger("transient", tq.metrics), OpenState: ts.open}
	t, err := newStageTask(tc, tq.plan.Input, tq.plan.Ops, tq.plan.Joins, exec.NewCollector(collect))
	if err != nil {
		return nil, err
	}
	if err := t.Open(); err != nil {
		return nil, err
	}
	tq.tasks[p] = t
	return t, nil
}

// rowValues converts row i of rec to Go values, leaving out hidden columns.
// resultCols are the columns of a plan's final batch that make up a
// result row, in order: the plan's visible output columns. Planners put
// the hidden columns (the row time, a windowed aggregation's window bounds
// that only its sink's key uses) after the visible ones, except that the
// row time may sit anywhere; so skip it and take as many columns as the
// plan shows.
func resultCols(plan *planner.Plan) []int {
	cols := make([]int, 0, len(plan.Output))
	for c := 0; len(cols) < len(plan.Output); c++ {
		if c != plan.OutputTimeCol {
			cols = append(cols, c)
		}
	}
	return cols
}

// rowValues returns row i's values of the columns cols of rec.
func rowValues(rec arrow.Record, i int, cols []int) []any {
	vals := make([]any, len(cols))
	for j, c := range cols {
		vals[j] = expr.ValueAt(rec.Column(c), i)
	}
	return vals
}
