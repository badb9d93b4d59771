package sluice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
)

// persistentQuery runs a CSAS/CTAS/INSERT INTO ... SELECT: it consumes the
// source topic's partitions, runs one task per partition, produces to the
// sink topic and commits the consumed offsets after the sink acknowledged
// (at-least-once; exactly-once wraps the same cycle in a Kafka transaction).
//
// The processing cycle, run by one goroutine (or by RunUntilIdle in manual
// drive), is:
//
//  1. poll a set of fetches;
//  2. hand each partition's records to its task's goroutine and wait for all
//     tasks to finish them (tasks run in parallel, one goroutine each);
//  3. flush the producer: every output record of the cycle is acknowledged;
//  4. commit the next offsets of the cycle's partitions to the query's group.
//
// Because offsets are committed only after step 3, a crash can repeat output
// (at-least-once) but never lose it, and a clean stop (which finishes the
// cycle) neither loses nor repeats.
type persistentQuery struct {
	e       *Engine
	id      string
	info    *queryInfo
	plan    *planner.Plan
	group   string
	metrics *exec.Metrics

	consumer *kgo.Client
	tasks    map[int32]*taskRunner
	pos      map[int32]int64 // next offset to consume, per partition

	cycleMu sync.Mutex // one processing cycle at a time
	cancel  context.CancelFunc
	done    chan struct{}

	errMu   sync.Mutex
	lastErr error
	state   string // RUNNING, ERROR, STOPPED
}

func (e *Engine) groupFor(id string) string { return "_sluice-" + e.cfg.serviceID + "-query-" + id }

// startQuery plans a catalog query again (at start-up) and starts it.
func (e *Engine) startQuery(ctx context.Context, qi *queryInfo) error {
	st, err := sql.ParseOne(qi.SQL)
	if err != nil {
		return err
	}
	plan, _, err := planner.PlanPersistent(e.cat, st, qi.ID, planner.Props(qi.Props))
	if err != nil {
		return err
	}
	return e.startPlanned(ctx, qi, plan)
}

// startPlanned starts a planned persistent query.
func (e *Engine) startPlanned(ctx context.Context, qi *queryInfo, plan *planner.Plan) error {
	q := &persistentQuery{
		e: e, id: qi.ID, info: qi, plan: plan, group: e.groupFor(qi.ID),
		metrics: &exec.Metrics{}, tasks: map[int32]*taskRunner{}, pos: map[int32]int64{},
		done: make(chan struct{}), state: "RUNNING",
	}
	if err := q.open(ctx); err != nil {
		q.closeTasks()
		return err
	}
	e.mu.Lock()
	e.queries[q.id] = q
	e.mu.Unlock()
	if e.cfg.manualDrive {
		close(q.done)
		return nil
	}
	runCtx, cancel := context.WithCancel(e.ctx)
	q.cancel = cancel
	go q.run(runCtx)
	return nil
}

// open resolves start offsets and creates the consumer and the tasks.
func (q *persistentQuery) open(ctx context.Context) error {
	e := q.e
	topic := q.plan.Input.Topic
	info, ok, err := e.kafka.DescribeTopic(ctx, topic)
	if err != nil {
		return err
	}
	if !ok {
		return sql.Errorf(sql.CodeUndefinedObject, sql.Pos{}, "Kafka topic does not exist: %s", topic)
	}
	committed, err := e.kafka.CommittedOffsets(ctx, q.group)
	if err != nil {
		return err
	}
	start := map[int32]int64{}
	var missing []int32
	for p := int32(0); p < info.Partitions; p++ {
		if off, ok := committed[topic][p]; ok {
			start[p] = off
		} else {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		// Resolve auto.offset.reset to concrete offsets and commit them at
		// once: a query that starts at "latest" and is restarted before it
		// processed anything must not skip what arrived in between.
		var ends map[string]map[int32]int64
		if q.info.Props[propOffsetReset] != "earliest" {
			if ends, err = e.kafka.EndOffsets(ctx, topic); err != nil {
				return err
			}
		}
		for _, p := range missing {
			start[p] = ends[topic][p] // 0 (earliest retained is found by the consumer) when earliest
		}
		if err := q.commit(ctx, start); err != nil {
			return err
		}
	}
	offsets := map[string]map[int32]kgo.Offset{topic: {}}
	for p, off := range start {
		offsets[topic][p] = kgo.NewOffset().At(off)
		q.pos[p] = off
	}
	q.consumer, err = kgo.NewClient(
		kgo.SeedBrokers(e.seeds...),
		kgo.ConsumePartitions(offsets),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(e.cfg.pollWait),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return fmt.Errorf("query %s: consumer: %w", q.id, err)
	}
	for p := range start {
		t, err := q.newTask(p)
		if err != nil {
			return err
		}
		q.tasks[p] = t
	}
	return nil
}

func (q *persistentQuery) newTask(p int32) (*taskRunner, error) {
	tc := &exec.TaskContext{QueryID: q.id, Partition: p, Metrics: q.metrics,
		OnRecordError: q.e.recordErrorLogger(q.id, q.metrics)}
	src, err := exec.NewSourceDecoder(q.plan.Input, tc)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.id, err)
	}
	producer := q.e.producer
	sink, err := exec.NewSink(*q.plan.Sink, func(r *kgo.Record) {
		q.metrics.RecordsOut.Add(1)
		producer.Produce(context.Background(), r, q.onProduced)
	})
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.id, err)
	}
	head, err := exec.BuildPipeline(q.plan.Ops, sink)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.id, err)
	}
	t := exec.NewTask(tc, src, head, batchSize)
	if err := t.Open(); err != nil {
		return nil, err
	}
	return newTaskRunner(t), nil
}

// batchSize is the number of records decoded into one Arrow batch.
const batchSize = 1024

func (q *persistentQuery) onProduced(r *kgo.Record, err error) {
	if err != nil {
		q.setErr(fmt.Errorf("produce to %s: %w", r.Topic, err))
	}
}

func (q *persistentQuery) setErr(err error) {
	q.errMu.Lock()
	defer q.errMu.Unlock()
	if q.lastErr == nil {
		q.lastErr = err
	}
	q.metrics.NoteError(err)
}

func (q *persistentQuery) takeErr() error {
	q.errMu.Lock()
	defer q.errMu.Unlock()
	err := q.lastErr
	q.lastErr = nil
	return err
}

// run is the query's own loop (not in manual drive).
func (q *persistentQuery) run(ctx context.Context) {
	defer close(q.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		_, err := q.cycle(ctx)
		switch {
		case err == nil:
			backoff = 100 * time.Millisecond
		case ctx.Err() != nil:
			return
		default:
			q.e.log.Error("query cycle failed; retrying", "query", q.id, "err", err, "backoff", backoff)
			q.setState("ERROR")
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff < 10*time.Second {
				backoff *= 2
			}
			// Uncommitted work is redone from the committed offsets.
			if err := q.rewind(ctx); err != nil {
				q.e.log.Error("rewind after failure", "query", q.id, "err", err)
			}
		}
	}
}

func (q *persistentQuery) setState(s string) {
	q.errMu.Lock()
	q.state = s
	q.errMu.Unlock()
}

// cycleTimeout bounds the work of a cycle after its poll: processing,
// flushing the sink and committing.
const cycleTimeout = 60 * time.Second

// cycle runs one processing cycle: only the poll is bound to pollCtx. Once
// records are fetched, the cycle finishes (process, flush, commit) even when
// the query is being stopped, so that a clean stop neither loses nor repeats
// output. It returns the number of records processed.
func (q *persistentQuery) cycle(pollCtx context.Context) (int, error) {
	q.cycleMu.Lock()
	defer q.cycleMu.Unlock()
	fetches := q.consumer.PollFetches(pollCtx)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(pollCtx), cycleTimeout)
	defer cancel()
	if fetches.IsClientClosed() {
		return 0, context.Canceled
	}
	var errs []error
	fetches.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, fmt.Errorf("fetch %s[%d]: %w", t, p, err))
		}
	})
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	n := 0
	var running []*taskRunner
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		t := q.tasks[fp.Partition]
		if t == nil {
			return
		}
		n += len(fp.Records)
		q.pos[fp.Partition] = fp.Records[len(fp.Records)-1].Offset + 1
		t.submit(ctx, fp.Records)
		running = append(running, t)
	})
	if n == 0 {
		return 0, nil
	}
	for _, t := range running {
		if err := t.wait(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return n, errors.Join(errs...)
	}
	for _, t := range running {
		if err := t.task.Flush(ctx); err != nil {
			return n, err
		}
	}
	if err := q.e.producer.Flush(ctx); err != nil {
		return n, fmt.Errorf("flush sink: %w", err)
	}
	if err := q.takeErr(); err != nil {
		return n, err
	}
	return n, q.commit(ctx, q.pos)
}

// commit records offsets as the query's progress.
func (q *persistentQuery) commit(ctx context.Context, offsets map[int32]int64) error {
	os := kadm.Offsets{}
	for p, off := range offsets {
		os.Add(kadm.Offset{Topic: q.plan.Input.Topic, Partition: p, At: off, LeaderEpoch: -1})
	}
	resp, err := q.e.kafka.Admin().CommitOffsets(ctx, q.group, os)
	if err != nil {
		return fmt.Errorf("commit offsets of %s: %w", q.id, err)
	}
	return resp.Error()
}

// rewind moves the consumer back to the committed offsets after a failed
// cycle, so the failed work is redone.
func (q *persistentQuery) rewind(ctx context.Context) error {
	committed, err := q.e.kafka.CommittedOffsets(ctx, q.group)
	if err != nil {
		return err
	}
	topic := q.plan.Input.Topic
	set := map[string]map[int32]kgo.EpochOffset{topic: {}}
	for p := range q.tasks {
		off := committed[topic][p]
		set[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: off}
		q.pos[p] = off
	}
	q.consumer.SetOffsets(set)
	return nil
}

// catchUp processes until the query has consumed everything that is in its
// source topic now (manual drive).
func (q *persistentQuery) catchUp(ctx context.Context) error {
	topic := q.plan.Input.Topic
	// The consumer reads committed records only, so the last stable offset
	// is the end it can reach.
	ends, err := q.e.kafka.StableOffsets(ctx, topic)
	if err != nil {
		return err
	}
	idle := 0
	for {
		behind := false
		for p := range q.tasks {
			if q.pos[p] < ends[topic][p] {
				behind = true
				break
			}
		}
		if !behind {
			return nil
		}
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		n, err := q.cycle(pollCtx)
		cancel()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("query %s: %w", q.id, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if n == 0 {
			// Offsets past the last record can be transaction markers,
			// which are never returned as records.
			if idle++; idle >= 3 {
				return nil
			}
		} else {
			idle = 0
		}
	}
}

// stop ends the query: it finishes the running cycle (which commits), then
// closes the consumer and the tasks.
func (q *persistentQuery) stop() error {
	if q.cancel != nil {
		q.cancel()
	}
	<-q.done
	q.cycleMu.Lock()
	defer q.cycleMu.Unlock()
	q.setState("STOPPED")
	if q.consumer != nil {
		q.consumer.Close()
	}
	return q.closeTasks()
}

func (q *persistentQuery) closeTasks() error {
	var errs []error
	for _, t := range q.tasks {
		errs = append(errs, t.close())
	}
	return errors.Join(errs...)
}

// stopQuery stops and forgets a running query.
func (e *Engine) stopQuery(id string) error {
	e.mu.Lock()
	q := e.queries[id]
	delete(e.queries, id)
	e.mu.Unlock()
	if q == nil {
		return nil
	}
	return q.stop()
}

// RunUntilIdle runs every persistent query, in creation order, until each
// has consumed everything currently in its source topics. It is the test
// driver of WithManualDrive; without it, it waits until the running queries
// have caught up with their topics' current ends.
func (e *Engine) RunUntilIdle(ctx context.Context) error {
	for _, qi := range e.cat.queryList() {
		e.mu.Lock()
		q := e.queries[qi.ID]
		e.mu.Unlock()
		if q == nil {
			continue
		}
		if e.cfg.manualDrive {
			if err := q.catchUp(ctx); err != nil {
				return err
			}
			continue
		}
		if err := q.waitCaughtUp(ctx); err != nil {
			return err
		}
	}
	return nil
}

// waitCaughtUp waits until a running query's committed offsets reach its
// source topic's current end.
func (q *persistentQuery) waitCaughtUp(ctx context.Context) error {
	topic := q.plan.Input.Topic
	ends, err := q.e.kafka.EndOffsets(ctx, topic)
	if err != nil {
		return err
	}
	for {
		committed, err := q.e.kafka.CommittedOffsets(ctx, q.group)
		if err != nil {
			return err
		}
		done := true
		for p, end := range ends[topic] {
			if committed[topic][p] < end {
				done = false
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
