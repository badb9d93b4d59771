package sluice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/planner"
	"github.com/sluicedb/sluice/sql"
	"github.com/sluicedb/sluice/storage"
)

// persistentQuery runs a CSAS/CTAS/INSERT INTO ... SELECT. A query is one
// or more stages (sub-topologies connected by internal repartition topics,
// planner.Plan.Pre); each stage consumes its input topic's partitions, runs
// one task per partition, and produces to its sink topic.
type persistentQuery struct {
	e       *Engine
	id      string
	info    *queryInfo
	plan    *planner.Plan
	metrics *exec.Metrics
	stages  []*stage
	// producer writes the query's output and changelog records, configured
	// from the query's properties (compression.type, linger.ms). Under
	// exactly-once each stage has its own transactional producer instead.
	producer *kgo.Client
	// eos: processing.guarantee is exactly_once_v2 (the default).
	eos   bool
	prodO storage.ProducerOptions
	// timing is the commit interval and group timeouts of the query's
	// properties.
	timing queryTiming

	cancel context.CancelFunc
	done   chan struct{}

	errMu sync.Mutex
	state string // RUNNING, ERROR, STOPPED
}

// stage runs one sub-topology of a query. Its processing cycle, run by the
// stage's goroutine (or by RunUntilIdle in manual drive), is:
//
//  1. poll a set of fetches (which blocks rebalances until the cycle ends);
//  2. create the tasks of partitions assigned since the last cycle;
//  3. hand each partition's records to its task's goroutine and wait for all
//     tasks to finish them (tasks run in parallel, one goroutine each);
//  4. spill each task's state cache into its batch, producing the changelog
//     records, and flush the producer: every output and changelog record of
//     the cycle is acknowledged;
//  5. commit the next offsets to the stage's consumer group and each task's
//     state batch with its checkpoint: under exactly-once the offsets
//     commit in the cycle's transaction, then the local state; under
//     at-least-once the local state first, then the offsets.
//
// So a crash can repeat output under at-least-once but never lose it, and
// neither under exactly-once; a clean stop finishes the cycle, so it
// neither loses nor repeats.
//
// The stage's partitions are shared by the instances of the service
// through the stage's consumer group (group.go): this instance runs tasks
// for the partitions the group assigned it.
//
// A join stage reads several topics (its input and planner.Plan.Joins):
// they are co-partitioned, so partition p of every topic goes to task p,
// which interleaves them by event time (exec.Task.ProcessInputs). One
// consumer reads all the topics; a cycle hands each task what the poll
// fetched for its partition across the topics, cut where a later fetch
// could change the order (joinorder.go).
type stage struct {
	stageSpec
	q      *persistentQuery
	group  string
	topics []string // input topics: input's, then the joins' in order
	parts  int32

	// consumer is the stage's group member; under exactly-once it is the
	// client of sess and also the producer.
	consumer *kgo.Client
	sess     *kgo.GroupTransactSession
	// producer writes the stage's records: the session's client under
	// exactly-once, else the query's shared producer.
	producer *kgo.Client

	// mu guards the maps below against the group callbacks and readers
	// (DESCRIBE, pull queries). The cycle changes them only while it
	// blocks rebalances, so it reads them without mu.
	mu       sync.Mutex
	tasks    map[int32]*taskRunner
	states   map[int32]*taskState
	pos      map[int32][]int64 // next offset to consume, per partition and input
	done     map[int32][]int64 // committed next offsets, per partition and input
	pending  map[int32]assignment
	assigned uint64 // assignments so far (assignment.seq)
	// ends are the known end offsets per partition and input, and
	// idleSince when a task began waiting for an input (joinorder.go).
	ends      map[int32][]int64
	idleSince map[int32]time.Time

	cycleMu sync.Mutex // one processing cycle at a time
	// commits counts the at-least-once offset commits in flight
	// (commitOffsets); closing the stage waits for them.
	commits sync.WaitGroup
	// cycleLimit bounds the records of a cycle's poll (guarded by
	// cycleMu; 0 means maxCycleRecords). A cycle that runs out of
	// cycleTimeout shrinks it, so that redoing the work makes progress;
	// cycles that succeed grow it back.
	cycleLimit int
	errMu      sync.Mutex
	lastErr    error
	// cycles counts the cycles that committed on this instance.
	cycles atomic.Int64
}

// stageSpec is what the plan says about a stage.
type stageSpec struct {
	name  string // state and group name: query id, or query id#n
	input exec.SourceSpec
	ops   []any
	sink  exec.SinkSpec
	joins []planner.JoinInput
}

// stageSpecs lists a plan's stages in order: the Pre stages, then the
// final one.
func stageSpecs(id string, plan *planner.Plan) []stageSpec {
	var out []stageSpec
	for i, pre := range plan.Pre {
		out = append(out, stageSpec{name: id + "#" + strconv.Itoa(i), input: pre.Input, ops: pre.Ops,
			sink: pre.Sink, joins: pre.Joins})
	}
	final := stageSpec{name: id, input: plan.Input, ops: plan.Ops, joins: plan.Joins}
	if plan.Sink != nil {
		final.sink = *plan.Sink
	}
	return append(out, final)
}

// inputTopics lists the stage's input topics: input's, then the joins' in
// order.
func (sp stageSpec) inputTopics() []string {
	topics := []string{sp.input.Topic}
	for _, j := range sp.joins {
		topics = append(topics, j.Input.Topic)
	}
	return topics
}

func (e *Engine) groupFor(stage string) string {
	return "_sluice-" + e.cfg.serviceID + "-query-" + stage
}

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
	q := &persistentQuery{e: e, id: qi.ID, info: qi, plan: plan, metrics: &exec.Metrics{},
		done: make(chan struct{}), state: "RUNNING"}
	props := mergeProps(e.cfg.props, qi.Props)
	q.eos = props[propGuarantee] != guaranteeAtLeastOnce
	timing, err := timingOf(props)
	if err != nil {
		return err
	}
	q.timing = timing
	q.prodO = storage.ProducerOptions{
		Linger:      lingerOf(props),
		Compression: props[propCompression],
		ClientID:    "sluice-" + qi.ID,
		Manual:      e.isTaskTopic,
	}
	producer, err := storage.NewProducer(e.seeds, q.prodO)
	if err != nil {
		return sql.Errorf(sql.CodeInvalidParameter, sql.Pos{}, "query %s: %v", qi.ID, err).
			WithHint("set %s to one of %s", propCompression, strings.Join(storage.CompressionCodecs(), ", "))
	}
	q.producer = producer
	for _, pre := range plan.Pre {
		if err := e.kafka.CreateTopic(ctx, pre.Topic, pre.Partitions, 0, nil); err != nil {
			return fmt.Errorf("query %s: internal topic: %w", qi.ID, err)
		}
	}
	for _, spec := range stageSpecs(qi.ID, plan) {
		q.stages = append(q.stages, &stage{stageSpec: spec, q: q})
	}
	for _, s := range q.stages {
		if err := s.open(ctx); err != nil {
			q.closeStages()
			return err
		}
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
	var wg sync.WaitGroup
	for _, s := range q.stages {
		wg.Add(1)
		go func(s *stage) {
			defer wg.Done()
			s.run(runCtx)
		}(s)
	}
	go func() {
		wg.Wait()
		close(q.done)
	}()
	return nil
}

// open checks the stage's topics and joins the stage's consumer group; the
// group assigns the partitions whose tasks run here.
func (s *stage) open(ctx context.Context) error {
	e := s.q.e
	s.group = e.groupFor(s.name)
	s.topics = s.inputTopics()
	s.tasks, s.states = map[int32]*taskRunner{}, map[int32]*taskState{}
	s.pos, s.done, s.pending = map[int32][]int64{}, map[int32][]int64{}, map[int32]assignment{}
	s.parts = -1
	for _, topic := range s.topics {
		info, ok, err := e.kafka.DescribeTopic(ctx, topic)
		if err != nil {
			return err
		}
		if !ok {
			return sql.Errorf(sql.CodeUndefinedObject, sql.Pos{}, "Kafka topic does not exist: %s", topic)
		}
		switch {
		case s.parts < 0:
			s.parts = info.Partitions
		case info.Partitions != s.parts:
			// The planner checks the sources' declared partition counts;
			// this catches topics changed behind the catalog's back.
			return sql.Errorf(sql.CodeInvalidParameter, sql.Pos{},
				"query %s: cannot join topics %s (%d partitions) and %s (%d partitions): a join needs co-partitioned inputs",
				s.q.id, s.topics[0], s.parts, topic, info.Partitions).
				WithHint("repartition one side to the other's partition count, e.g. CREATE STREAM ... WITH (PARTITIONS=%d) AS SELECT * FROM ...", s.parts)
		}
	}
	return s.openClient(ctx)
}

// inputIndex returns the index of topic among the stage's inputs, or -1.
func (s *stage) inputIndex(topic string) int {
	for i, t := range s.topics {
		if t == topic {
			return i
		}
	}
	return -1
}

// internalTopic reports whether topic is written by one of the query's own
// stages (a repartition topic).
func (q *persistentQuery) internalTopic(topic string) bool {
	for _, pre := range q.plan.Pre {
		if pre.Topic == topic {
			return true
		}
	}
	return false
}

// newTask creates partition p's task and state; with restore, the state is
// rebuilt from the changelogs (and a CTAS's materialized table from its
// sink topic) as the operators open it.
func (s *stage) newTask(p int32, restore bool) (_ *taskRunner, _ *taskState, err error) {
	q := s.q
	producer := s.producer
	produce := func(r *kgo.Record) { producer.Produce(context.Background(), r, s.onProduced) }
	ts := newTaskState(q.e, s.name, p, restore, produce)
	ts.partitions = s.parts
	defer func() {
		if err != nil {
			ts.close()
		}
	}()
	metrics := q.metrics
	if s.name != q.id {
		// Internal stages keep their own counters: the query's records-in
		// and records-out are those of its user-facing topics.
		metrics = &exec.Metrics{}
	}
	tc := &exec.TaskContext{QueryID: q.id, Partition: p, Metrics: metrics,
		OnRecordError: q.e.recordErrorLogger(q.id, metrics), OpenState: ts.open}
	emit := produce
	if s.name == q.id && s.sink.Table {
		// The final stage of a CTAS keeps the table it writes in Pebble, so
		// that pull queries answer from local state (pull.go).
		if emit, err = materializer(ts, produce); err != nil {
			return nil, nil, fmt.Errorf("query %s: %w", q.id, err)
		}
	}
	sink, err := exec.NewSink(s.sink, emit)
	if err != nil {
		return nil, nil, fmt.Errorf("query %s: %w", q.id, err)
	}
	t, err := newStageTask(tc, s.input, s.ops, s.joins, sink)
	if err != nil {
		return nil, nil, fmt.Errorf("query %s: %w", q.id, err)
	}
	if err := t.Open(); err != nil {
		t.Close()
		return nil, nil, err
	}
	r := newTaskRunner(t)
	r.recycler, _ = sink.(exec.RecordRecycler)
	return r, ts, nil
}

// renewTask replaces partition p's task and state, after a failed cycle,
// by new ones opened on the committed state. Operators keep part of their
// state in memory (stream time, window indexes) and the failed cycle moved
// it on; the records it processed are processed again. When the new task
// cannot be created, the old one stays (its state discarded) and the error
// is returned.
func (s *stage) renewTask(p int32) error {
	t, ts, err := s.newTask(p, false)
	if err != nil {
		return fmt.Errorf("renew the task of partition %d: %w", p, err)
	}
	s.mu.Lock()
	old, oldState := s.tasks[p], s.states[p]
	s.tasks[p], s.states[p] = t, ts
	s.mu.Unlock()
	if err := old.close(); err != nil {
		s.q.e.log.Warn("close task", "query", s.q.id, "partition", p, "err", err)
	}
	oldState.close()
	return nil
}

// newStageTask builds the task of a stage: one decoder per input topic
// and the pipeline into tail (with a join's side chains when joins is not
// empty).
func newStageTask(tc *exec.TaskContext, input exec.SourceSpec, ops []any, joins []planner.JoinInput, tail exec.Operator) (*exec.Task, error) {
	specs := []exec.SourceSpec{input}
	var sides [][]any
	for _, j := range joins {
		specs = append(specs, j.Input)
		sides = append(sides, j.Ops)
	}
	heads, err := exec.BuildJoinPipeline(ops, sides, tail)
	if err != nil {
		return nil, err
	}
	inputs := make([]exec.TaskInput, len(specs))
	for i, spec := range specs {
		src, err := exec.NewSourceDecoder(spec, tc)
		if err != nil {
			for _, in := range inputs[:i] {
				in.Decoder.Release()
			}
			return nil, err
		}
		inputs[i] = exec.TaskInput{Decoder: src, Head: heads[i]}
	}
	return exec.NewMultiTask(tc, inputs, batchSize), nil
}

// joinExtraPolls and joinPollWait bound how long a join stage's cycle
// gathers more fetches after its first one (see stage.cycle).
const (
	joinExtraPolls = 8
	joinPollWait   = 20 * time.Millisecond
)

// batchSize is the number of records decoded into one Arrow batch.
const batchSize = 1024

func (s *stage) onProduced(r *kgo.Record, err error) {
	if err != nil {
		s.setErr(fmt.Errorf("produce to %s: %w", r.Topic, err))
	}
}

func (s *stage) setErr(err error) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.lastErr == nil {
		s.lastErr = err
	}
	s.q.metrics.NoteError(err)
}

func (s *stage) takeErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	err := s.lastErr
	s.lastErr = nil
	return err
}

// run is the stage's own loop (not in manual drive).
func (s *stage) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	swept := time.Now()
	for ctx.Err() == nil {
		if time.Since(swept) >= sweepInterval {
			s.sweepMoved(ctx)
			swept = time.Now()
		}
		// A bounded poll: a cycle also creates the tasks of newly
		// assigned partitions (restoring their state for pull queries)
		// when no records arrive.
		pollCtx, cancel := context.WithTimeout(ctx, idlePoll)
		_, err := s.cycle(pollCtx)
		cancel()
		switch {
		case err == nil:
			backoff = 100 * time.Millisecond
		case ctx.Err() != nil:
			return
		case errors.Is(err, errRebalanced):
			s.q.e.log.Info("cycle aborted by a rebalance; redoing it", "query", s.q.id, "stage", s.name)
		default:
			s.q.e.log.Error("query cycle failed; retrying", "query", s.q.id, "stage", s.name, "err", err, "backoff", backoff)
			s.q.setState("ERROR")
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff < 10*time.Second {
				backoff *= 2
			}
			// Uncommitted work is redone from the committed offsets.
			s.rewind()
		}
	}
}

func (q *persistentQuery) setState(st string) {
	q.errMu.Lock()
	q.state = st
	q.errMu.Unlock()
}

// idlePoll bounds how long a stage's loop waits for records before it runs
// a cycle anyway.
const idlePoll = time.Second

// maxCycleRecords bounds the records one poll of a cycle takes;
// minCycleRecords is the least a cycle that timed out shrinks it to.
const (
	maxCycleRecords = 16384
	minCycleRecords = 16
)

// readyWait is how long a cycle's further polls wait for records before the
// cycle commits (see commit.interval.ms in stage.cycle).
const readyWait = 10 * time.Millisecond

// cycleTimeout bounds the work of a cycle after its poll: processing,
// flushing the sink and committing.
const cycleTimeout = 60 * time.Second

// cycle runs one processing cycle: only the poll is bound to pollCtx. Once
// records are fetched, the cycle finishes (process, flush, commit) even when
// the query is being stopped, so that a clean stop neither loses nor repeats
// output. It returns the number of records processed.
func (s *stage) cycle(pollCtx context.Context) (int, error) {
	s.cycleMu.Lock()
	defer s.cycleMu.Unlock()
	// A cycle is bounded: its work (and, under exactly-once, its
	// transaction) must finish well within cycleTimeout even when a large
	// backlog is buffered, and smaller cycles commit (and emit) sooner.
	limit := s.cycleLimit
	if limit == 0 {
		limit = maxCycleRecords
	}
	fetches := s.consumer.PollRecords(pollCtx, limit)
	// The poll blocked rebalances (kgo.BlockRebalanceOnPoll): partitions
	// move between cycles, never inside one.
	defer s.consumer.AllowRebalance()
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
	if err := s.takeAssigned(); err != nil {
		return 0, err
	}
	if fetches.NumRecords() == 0 {
		return 0, nil
	}
	// Group the fetched records by partition across the stage's topics:
	// a join's task needs all its inputs' records of the poll at once to
	// interleave them by time.
	n := 0
	// work holds every partition the cycle processed records of; round
	// the records of the current poll.
	work := map[int32][][]*kgo.Record{}
	var round map[int32][][]*kgo.Record
	collect := func(fp kgo.FetchTopicPartition) {
		i := s.inputIndex(fp.Topic)
		if len(fp.Records) == 0 || i < 0 {
			return
		}
		if s.tasks[fp.Partition] == nil {
			// Cannot happen (a partition's records follow its
			// assignment, and takeAssigned ran); skipping them would
			// commit their offsets unprocessed, so fail the cycle.
			errs = append(errs, fmt.Errorf("records of %s[%d] without a task here", fp.Topic, fp.Partition))
			return
		}
		recs := round[fp.Partition]
		if recs == nil {
			recs = make([][]*kgo.Record, len(s.topics))
			round[fp.Partition] = recs
		}
		// Control records (transaction markers) are kept by the consumer so
		// that the position moves past them: otherwise a topic written in
		// transactions would never look fully consumed. They are dropped
		// here.
		s.pos[fp.Partition][i] = fp.Records[len(fp.Records)-1].Offset + 1
		if len(s.topics) > 1 {
			s.noteEnd(fp.Partition, i, fp.FetchPartition)
		}
		for _, r := range fp.Records {
			if !r.Attrs.IsControl() {
				recs[i] = append(recs[i], r)
				n++
			}
		}
	}
	// The cycle keeps taking records that are ready until
	// commit.interval.ms has passed since it began, then commits: a
	// backlog commits (under exactly-once: one transaction) once per
	// interval, while a poll that finds nothing ready ends the cycle at
	// once, so light traffic is not held back. Manual drive, a join stage
	// and a cycle shrunk after a timeout take one poll.
	began := time.Now()
	var running []int32
	inTxn := false
	for {
		round = map[int32][][]*kgo.Record{}
		fetches.EachPartition(collect)
		if len(errs) > 0 {
			break
		}
		if n > 0 && len(s.topics) > 1 {
			// A join orders its inputs by time only within what it is
			// handed (exec.Task.ProcessInputs). One poll may bring one
			// topic's fetch before the other's, so gather what else is
			// buffered or arrives at once before processing, as Kafka
			// Streams waits for data on all of a task's partitions.
			for extra := 0; extra < joinExtraPolls; extra++ {
				waitCtx, cancel := context.WithTimeout(ctx, joinPollWait)
				more := s.consumer.PollRecords(waitCtx, limit)
				cancel()
				if more.IsClientClosed() || more.NumRecords() == 0 {
					break
				}
				more.EachPartition(collect)
			}
			// Hand each task the part of its records whose order no
			// later fetch can change; the rest is fetched again
			// (joinorder.go).
			n -= s.orderInputs(ctx, round)
			if n == 0 {
				// Every task waits for an input: give its fetch a
				// moment.
				select {
				case <-pollCtx.Done():
				case <-time.After(joinPollWait):
				}
				return 0, nil
			}
		}
		if len(round) > 0 && s.q.eos && !inTxn {
			if err := s.sess.Begin(); err != nil {
				errs = append(errs, fmt.Errorf("begin transaction: %w", err))
				break
			}
			inTxn = true
		}
		var now []int32
		for p, recs := range round {
			work[p] = recs
			empty := true
			for _, r := range recs {
				empty = empty && len(r) == 0
			}
			if empty {
				continue
			}
			s.tasks[p].submit(ctx, recs)
			now = append(now, p)
			if !slices.Contains(running, p) {
				running = append(running, p)
			}
		}
		for _, p := range now {
			if err := s.tasks[p].wait(); err != nil {
				errs = append(errs, err)
			}
		}
		left := s.q.timing.commitInterval - time.Since(began)
		// A join stage takes one poll: its records' order across
		// inputs is settled per poll (orderInputs).
		if len(errs) > 0 || left <= 0 || s.q.e.cfg.manualDrive || s.cycleLimit != 0 || len(s.topics) > 1 {
			break
		}
		readyCtx, cancel := context.WithTimeout(ctx, min(left, readyWait))
		fetches = s.consumer.PollRecords(readyCtx, limit)
		cancel()
		if fetches.IsClientClosed() || fetches.NumRecords() == 0 {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				errs = append(errs, fmt.Errorf("fetch %s[%d]: %w", t, p, err))
			}
		})
	}
	if len(work) == 0 && len(errs) == 0 {
		return 0, nil
	}
	if len(errs) == 0 {
		for _, p := range running {
			if err := s.tasks[p].task.Flush(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		// The state caches' changes and their changelog records: before
		// the producer flush, so that the changelog travels with the
		// cycle's output.
		for _, p := range running {
			if err := s.states[p].flush(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		if err := s.producer.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush sink: %w", err))
		}
	}
	if err := s.takeErr(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 && s.q.eos {
		// The input offsets (the consumer's positions) commit to the
		// group in the transaction with the output and the changelog
		// records: all three commit or none does. The session aborts
		// when the group rebalanced meanwhile (this member may no longer
		// own the partitions).
		committed, err := s.sess.End(ctx, kgo.TryCommit)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("commit transaction: %w", err))
		case !committed:
			errs = append(errs, errRebalanced)
		}
	} else if inTxn {
		if _, err := s.sess.End(ctx, kgo.TryAbort); err != nil {
			errs = append(errs, fmt.Errorf("abort transaction: %w", err))
		}
	}
	// Every record of the cycle is acknowledged (or failed) once the
	// flush returned; only then may the sinks reuse their memory.
	flushed := len(errs) == 0
	for _, p := range running {
		if r := s.tasks[p].recycler; r != nil {
			r.RecycleRecords(flushed)
		}
	}
	if len(errs) > 0 {
		for p := range work {
			s.states[p].discard()
			s.pos[p] = slices.Clone(s.done[p])
			if err := s.renewTask(p); err != nil {
				errs = append(errs, err)
			}
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && limit > minCycleRecords {
			// The same work would time out again: redo it in smaller
			// cycles.
			s.cycleLimit = max(limit/4, minCycleRecords)
			s.q.e.log.Warn("cycle ran out of time; smaller cycles follow", "query", s.q.id, "stage", s.name,
				"records", n, "timeout", cycleTimeout, "next_limit", s.cycleLimit)
		}
		return n, errors.Join(errs...)
	}
	if s.cycleLimit != 0 {
		if s.cycleLimit *= 2; s.cycleLimit >= maxCycleRecords {
			s.cycleLimit = 0
		}
	}
	for p := range work {
		if err := s.states[p].commitInputs(s.pos[p]); err != nil {
			return n, err
		}
		s.done[p] = slices.Clone(s.pos[p])
	}
	if !s.q.eos {
		s.commitOffsets(work)
	}
	s.cycles.Add(1)
	return n, nil
}

// errRebalanced reports a cycle whose transaction aborted because the group
// rebalanced during it; its work is redone by whichever member owns the
// partitions now.
var errRebalanced = errors.New("transaction aborted: the group rebalanced during the cycle")

// commitOffsets commits the positions of the partitions in work to the
// stage's group (at-least-once) without waiting for the broker's answer:
// the commit overlaps the next cycle's poll and processing, so a cycle's
// latency does not include its commit's round trip. The commit carries the
// member's generation, so a member that lost the partitions cannot move
// them; kgo issues commits in order, and a rebalance's join waits for a
// commit in flight. A failed commit fails the next cycle (takeErr), which
// rewinds to the local positions (s.done); a later commit carries them.
// Until the commit lands, a crash repeats the cycle's output (at-least-once
// allows it); the local checkpoint, written before, already holds it.
func (s *stage) commitOffsets(work map[int32][][]*kgo.Record) {
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for p := range work {
		for i, off := range s.pos[p] {
			if offsets[s.topics[i]] == nil {
				offsets[s.topics[i]] = map[int32]kgo.EpochOffset{}
			}
			offsets[s.topics[i]][p] = kgo.EpochOffset{Epoch: -1, Offset: off}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cycleTimeout)
	s.commits.Add(1)
	s.consumer.CommitOffsets(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		defer s.commits.Done()
		defer cancel()
		if err == nil {
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && err == nil {
						err = fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, perr)
					}
				}
			}
		}
		if err != nil {
			s.setErr(fmt.Errorf("commit offsets of %s: %w", s.name, err))
		}
	})
}

// rewind moves the consumer back to the committed offsets after a failed
// cycle, so the failed work is redone against the matching state.
func (s *stage) rewind() {
	// The group's committed offsets, for partitions without a task too;
	// the tasks' own record of them where they have one.
	// nil when the consumer is not in the group now (the brokers are
	// unreachable, or it is rejoining).
	set := s.consumer.CommittedOffsets()
	if set == nil {
		set = map[string]map[int32]kgo.EpochOffset{}
	}
	for _, topic := range s.topics {
		if set[topic] == nil {
			set[topic] = map[int32]kgo.EpochOffset{}
		}
	}
	s.mu.Lock()
	for p, offs := range s.done {
		for i, topic := range s.topics {
			set[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: offs[i]}
		}
	}
	s.mu.Unlock()
	s.consumer.SetOffsets(set)
}

// catchUp processes until the stage has consumed everything that is in its
// input topics now (manual drive). Manual drive runs one instance, so the
// stage's group assigns it every partition; catchUp first waits for that.
func (s *stage) catchUp(ctx context.Context) error {
	// The consumer reads committed records only, so the last stable offset
	// is the end it can reach.
	ends, err := s.stableOffsets(ctx)
	if err != nil {
		return err
	}
	idle := 0
	for {
		assigned, behind := s.progress(ends)
		if assigned && !behind {
			// Manual drive's callers read the group's offsets: let the
			// last commit land.
			s.commits.Wait()
			return nil
		}
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		n, err := s.cycle(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("query %s: %w", s.q.id, err)
		}
		switch {
		case n > 0 || !assigned:
			idle = 0
		default:
			// Offsets past the last record can be transaction markers,
			// which are never returned as records.
			if idle++; idle >= 3 {
				s.commits.Wait()
				return nil
			}
		}
	}
}

// progress reports whether every partition of the stage has its task here
// (assigned, and created by a cycle, so that pull queries see its state)
// and whether any is behind ends.
func (s *stage) progress(ends map[string]map[int32]int64) (assigned, behind bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := int32(0); p < s.parts; p++ {
		pos := s.pos[p]
		if pos == nil {
			return false, true
		}
		for i, topic := range s.topics {
			if pos[i] < ends[topic][p] {
				behind = true
			}
		}
	}
	return true, behind
}

// commitsText describes how many cycles each stage committed on this
// instance and the interval they follow (DESCRIBE EXTENDED).
func (q *persistentQuery) commitsText() string {
	var b strings.Builder
	for i, s := range q.stages {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %d", s.name, s.cycles.Load())
	}
	fmt.Fprintf(&b, " (%s: %d)", propCommitInterval, q.timing.commitInterval.Milliseconds())
	return b.String()
}

// stop ends the query: each stage finishes its running cycle (which
// commits), then the consumers and tasks close.
func (q *persistentQuery) stop() error {
	if q.cancel != nil {
		q.cancel()
	}
	<-q.done
	q.setState("STOPPED")
	return q.closeStages()
}

func (q *persistentQuery) closeStages() error {
	var errs []error
	for _, s := range q.stages {
		s.cycleMu.Lock()
		// The last cycle's offsets reach the group before the client
		// closes, so a clean stop repeats nothing on another instance.
		s.commits.Wait()
		// Closing revokes the partitions, which releases the tasks.
		if s.sess != nil {
			s.sess.Close()
		} else if s.consumer != nil {
			s.consumer.Close()
		}
		if s.consumer != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.leaveGroup(ctx)
			cancel()
		}
		s.mu.Lock()
		for p := range s.tasks {
			s.releaseLocked(p)
		}
		s.mu.Unlock()
		s.cycleMu.Unlock()
	}
	if q.producer != nil {
		q.producer.Close()
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
// has consumed everything currently in its source topics (each stage in
// turn, so that a stage sees all of the previous stage's output). It is the
// test driver of WithManualDrive; without it, it waits until the running
// queries have caught up with their topics' current ends.
func (e *Engine) RunUntilIdle(ctx context.Context) error {
	for _, qi := range e.cat.queryList() {
		e.mu.Lock()
		q := e.queries[qi.ID]
		e.mu.Unlock()
		if q == nil {
			continue
		}
		for _, s := range q.stages {
			var err error
			if e.cfg.manualDrive {
				err = s.catchUp(ctx)
			} else {
				err = s.waitCaughtUp(ctx)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// waitCaughtUp waits until a running stage's committed offsets reach its
// input topic's current end.
func (s *stage) waitCaughtUp(ctx context.Context) error {
	ends, err := s.stableOffsets(ctx)
	if err != nil {
		return err
	}
	for {
		committed, err := s.q.e.kafka.CommittedOffsets(ctx, s.group)
		if err != nil {
			return err
		}
		done := true
		for topic, parts := range ends {
			for p, end := range parts {
				if committed[topic][p] < end {
					done = false
				}
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

// stableOffsets returns the last stable offsets of the stage's topics.
func (s *stage) stableOffsets(ctx context.Context) (map[string]map[int32]int64, error) {
	ends := map[string]map[int32]int64{}
	for _, topic := range s.topics {
		end, err := s.q.e.kafka.StableOffsets(ctx, topic)
		if err != nil {
			return nil, err
		}
		ends[topic] = end[topic]
	}
	return ends, nil
}
