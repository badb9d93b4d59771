package sluice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

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

	cancel context.CancelFunc
	done   chan struct{}

	errMu sync.Mutex
	state string // RUNNING, ERROR, STOPPED
}

// stage runs one sub-topology of a query. Its processing cycle, run by the
// stage's goroutine (or by RunUntilIdle in manual drive), is:
//
//  1. poll a set of fetches;
//  2. hand each partition's records to its task's goroutine and wait for all
//     tasks to finish them (tasks run in parallel, one goroutine each);
//  3. spill each task's state cache into its batch, producing the changelog
//     records, and flush the producer: every output and changelog record of
//     the cycle is acknowledged;
//  4. commit each task's state batch with its checkpoint (next offset);
//  5. commit the next offsets to the stage's consumer group.
//
// Offsets are committed only after 3 and 4, so a crash can repeat output
// (at-least-once) but never lose it; a clean stop finishes the cycle, so it
// neither loses nor repeats.
//
// A join stage reads several topics (its input and planner.Plan.Joins):
// they are co-partitioned, so partition p of every topic goes to task p,
// which interleaves them by event time (exec.Task.ProcessInputs). One
// consumer reads all the topics; a cycle hands each task what the poll
// fetched for its partition across the topics.
type stage struct {
	q      *persistentQuery
	name   string // state and group name: query id, or query id#n
	group  string
	input  exec.SourceSpec
	ops    []any
	sink   exec.SinkSpec
	joins  []planner.JoinInput
	topics []string // input topics: input's, then the joins' in order
	parts  int32
	states map[int32]*taskState
	// sinks recycle the memory of the records a cycle produced once the
	// producer acknowledged them.
	sinks map[int32]exec.RecordRecycler

	consumer *kgo.Client
	tasks    map[int32]*taskRunner
	pos      map[int32][]int64 // next offset to consume, per partition and input

	// producer is the stage's transactional producer under exactly-once,
	// else the query's shared one.
	producer *kgo.Client
	// offsetsTopic holds, under exactly-once, the stage's committed input
	// offsets per partition, written in the same transaction as the output.
	offsetsTopic string

	cycleMu sync.Mutex // one processing cycle at a time
	errMu   sync.Mutex
	lastErr error
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
	for i, pre := range plan.Pre {
		if err := e.kafka.CreateTopic(ctx, pre.Topic, pre.Partitions, 0, nil); err != nil {
			return fmt.Errorf("query %s: internal topic: %w", qi.ID, err)
		}
		q.stages = append(q.stages, &stage{q: q, name: qi.ID + "#" + strconv.Itoa(i), input: pre.Input, ops: pre.Ops,
			sink: pre.Sink, joins: pre.Joins})
	}
	final := &stage{q: q, name: qi.ID, input: plan.Input, ops: plan.Ops, joins: plan.Joins}
	if plan.Sink != nil {
		final.sink = *plan.Sink
	}
	q.stages = append(q.stages, final)
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

// open resolves start offsets and creates the consumer and the tasks.
func (s *stage) open(ctx context.Context) error {
	e := s.q.e
	s.group = e.groupFor(s.name)
	s.topics = []string{s.input.Topic}
	for _, j := range s.joins {
		s.topics = append(s.topics, j.Input.Topic)
	}
	s.tasks, s.pos, s.states = map[int32]*taskRunner{}, map[int32][]int64{}, map[int32]*taskState{}
	s.sinks = map[int32]exec.RecordRecycler{}
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
	if err := s.openProducer(ctx); err != nil {
		return err
	}
	committed, err := s.committedProgress(ctx)
	if err != nil {
		return err
	}
	n := len(s.topics)
	start := map[int32][]int64{}
	restore := map[int32]bool{}
	var missing []int32
	for p := int32(0); p < s.parts; p++ {
		local, ok, err := e.readCheckpoints(s.name, p, n)
		if err != nil {
			return err
		}
		kafka, have := committed[p]
		switch {
		case ok && (!s.q.eos || !have || equalOffsets(local, kafka)):
			// The local checkpoint matches the state. Under at-least-once
			// it is at least as new as the group's commit (it is written
			// first); under exactly-once it must equal the transaction's.
			start[p] = local
		case have:
			// Progress without matching local state (a new data
			// directory, a moved task, or a crash between the
			// transaction's commit and the local one): rebuild the state
			// from its changelogs, which the transaction committed.
			start[p] = kafka
			restore[p] = true
		default:
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		// Resolve auto.offset.reset to concrete offsets and commit them at
		// once: a query that starts at "latest" and is restarted before it
		// processed anything must not skip what arrived in between.
		// Internal topics are always read from their start; only the
		// user's topics honour auto.offset.reset.
		ends := map[string]map[int32]int64{}
		if s.q.info.Props[propOffsetReset] != "earliest" {
			for _, topic := range s.topics {
				if s.q.internalTopic(topic) {
					continue
				}
				end, err := e.kafka.EndOffsets(ctx, topic)
				if err != nil {
					return err
				}
				ends[topic] = end[topic]
			}
		}
		for _, p := range missing {
			offs := make([]int64, n)
			for i, topic := range s.topics {
				offs[i] = ends[topic][p]
			}
			start[p] = offs
		}
		if err := s.commitStart(ctx, start, missing); err != nil {
			return err
		}
	}
	offsets := map[string]map[int32]kgo.Offset{}
	for _, topic := range s.topics {
		offsets[topic] = map[int32]kgo.Offset{}
	}
	for p, offs := range start {
		for i, topic := range s.topics {
			offsets[topic][p] = kgo.NewOffset().At(offs[i])
		}
		s.pos[p] = offs
	}
	s.consumer, err = kgo.NewClient(
		kgo.SeedBrokers(e.seeds...),
		kgo.ConsumePartitions(offsets),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(e.cfg.pollWait),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return fmt.Errorf("query %s: consumer: %w", s.q.id, err)
	}
	for p := range start {
		t, err := s.newTask(p, restore[p])
		if err != nil {
			return err
		}
		s.tasks[p] = t
	}
	return nil
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

func (s *stage) newTask(p int32, restore bool) (*taskRunner, error) {
	q := s.q
	producer := s.producer
	produce := func(r *kgo.Record) { producer.Produce(context.Background(), r, s.onProduced) }
	ts := newTaskState(q.e, s.name, p, restore, produce)
	s.states[p] = ts
	metrics := q.metrics
	if s.name != q.id {
		// Internal stages keep their own counters: the query's records-in
		// and records-out are those of its user-facing topics.
		metrics = &exec.Metrics{}
	}
	tc := &exec.TaskContext{QueryID: q.id, Partition: p, Metrics: metrics,
		OnRecordError: q.e.recordErrorLogger(q.id, metrics), OpenState: ts.open}
	var err error
	emit := produce
	if s.name == q.id && s.sink.Table {
		// The final stage of a CTAS keeps the table it writes in Pebble, so
		// that pull queries answer from local state (pull.go).
		if emit, err = materializer(ts, produce); err != nil {
			return nil, fmt.Errorf("query %s: %w", q.id, err)
		}
	}
	sink, err := exec.NewSink(s.sink, emit)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.id, err)
	}
	if r, ok := sink.(exec.RecordRecycler); ok {
		s.sinks[p] = r
	}
	t, err := newStageTask(tc, s.input, s.ops, s.joins, sink)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.id, err)
	}
	if err := t.Open(); err != nil {
		t.Close()
		return nil, err
	}
	return newTaskRunner(t), nil
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
	for ctx.Err() == nil {
		_, err := s.cycle(ctx)
		switch {
		case err == nil:
			backoff = 100 * time.Millisecond
		case ctx.Err() != nil:
			return
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
			if err := s.rewind(ctx); err != nil {
				s.q.e.log.Error("rewind after failure", "query", s.q.id, "err", err)
			}
		}
	}
}

func (q *persistentQuery) setState(st string) {
	q.errMu.Lock()
	q.state = st
	q.errMu.Unlock()
}

// maxCycleRecords bounds the records one poll of a cycle takes.
const maxCycleRecords = 16384

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
	fetches := s.consumer.PollRecords(pollCtx, maxCycleRecords)
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
	// Group the fetched records by partition across the stage's topics:
	// a join's task needs all its inputs' records of the poll at once to
	// interleave them by time.
	n := 0
	work := map[int32][][]*kgo.Record{}
	collect := func(fp kgo.FetchTopicPartition) {
		i := s.inputIndex(fp.Topic)
		if len(fp.Records) == 0 || i < 0 || s.tasks[fp.Partition] == nil {
			return
		}
		recs := work[fp.Partition]
		if recs == nil {
			recs = make([][]*kgo.Record, len(s.topics))
			work[fp.Partition] = recs
		}
		// Control records (transaction markers) are kept by the consumer so
		// that the position moves past them: otherwise a topic written in
		// transactions would never look fully consumed. They are dropped
		// here.
		s.pos[fp.Partition][i] = fp.Records[len(fp.Records)-1].Offset + 1
		for _, r := range fp.Records {
			if !r.Attrs.IsControl() {
				recs[i] = append(recs[i], r)
				n++
			}
		}
	}
	fetches.EachPartition(collect)
	if n > 0 && len(s.topics) > 1 {
		// A join orders its inputs by time only within what it is handed
		// (exec.Task.ProcessInputs). One poll may bring one topic's
		// fetch before the other's, so gather what else is buffered or
		// arrives at once before processing, as Kafka Streams waits for
		// data on all of a task's partitions.
		for extra := 0; extra < joinExtraPolls; extra++ {
			waitCtx, cancel := context.WithTimeout(ctx, joinPollWait)
			more := s.consumer.PollRecords(waitCtx, maxCycleRecords)
			cancel()
			if more.IsClientClosed() || more.NumRecords() == 0 {
				break
			}
			more.EachPartition(collect)
		}
	}
	if n == 0 {
		if len(work) > 0 {
			// Only transaction markers: record the advanced position.
			return 0, s.commitOffsets(ctx, s.pos)
		}
		return 0, nil
	}
	if s.q.eos {
		if err := s.producer.BeginTransaction(); err != nil {
			return 0, fmt.Errorf("begin transaction: %w", err)
		}
	}
	running := make([]int32, 0, len(work))
	for p, recs := range work {
		empty := true
		for _, r := range recs {
			empty = empty && len(r) == 0
		}
		if empty {
			continue
		}
		s.tasks[p].submit(ctx, recs)
		running = append(running, p)
	}
	for _, p := range running {
		if err := s.tasks[p].wait(); err != nil {
			errs = append(errs, err)
		}
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
	if len(errs) == 0 && s.q.eos {
		// The input offsets travel in the transaction with the output and
		// the changelog records: all three commit or none does.
		for _, p := range running {
			s.producer.Produce(ctx, s.offsetsRecord(p, s.pos[p]), s.onProduced)
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
		if err := s.producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
			errs = append(errs, fmt.Errorf("commit transaction: %w", err))
		}
	}
	// Every record of the cycle is acknowledged (or failed) once the
	// flush returned; only then may the sinks reuse their memory.
	flushed := len(errs) == 0
	for _, p := range running {
		if r := s.sinks[p]; r != nil {
			r.RecycleRecords(flushed)
		}
	}
	if len(errs) > 0 {
		if s.q.eos {
			s.abort(ctx)
		}
		for _, p := range running {
			s.states[p].discard()
		}
		return n, errors.Join(errs...)
	}
	for _, p := range running {
		if err := s.states[p].commitInputs(s.pos[p]); err != nil {
			return n, err
		}
	}
	return n, s.commitOffsets(ctx, s.pos)
}

// commitOffsets records offsets (per partition, per input) as the stage's
// progress.
func (s *stage) commitOffsets(ctx context.Context, offsets map[int32][]int64) error {
	os := kadm.Offsets{}
	for p, offs := range offsets {
		for i, off := range offs {
			os.Add(kadm.Offset{Topic: s.topics[i], Partition: p, At: off, LeaderEpoch: -1})
		}
	}
	resp, err := s.q.e.kafka.Admin().CommitOffsets(ctx, s.group, os)
	if err != nil {
		return fmt.Errorf("commit offsets of %s: %w", s.name, err)
	}
	return resp.Error()
}

// rewind moves the consumer back to the checkpointed offsets after a failed
// cycle, so the failed work is redone against the matching state.
func (s *stage) rewind(ctx context.Context) error {
	committed, err := s.q.e.kafka.CommittedOffsets(ctx, s.group)
	if err != nil {
		return err
	}
	set := map[string]map[int32]kgo.EpochOffset{}
	for _, topic := range s.topics {
		set[topic] = map[int32]kgo.EpochOffset{}
	}
	for p := range s.tasks {
		offs := make([]int64, len(s.topics))
		for i, topic := range s.topics {
			offs[i] = committed[topic][p]
		}
		if cp, ok, err := s.q.e.readCheckpoints(s.name, p, len(s.topics)); err == nil && ok {
			offs = cp
		}
		for i, topic := range s.topics {
			set[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: offs[i]}
		}
		s.pos[p] = offs
	}
	s.consumer.SetOffsets(set)
	return nil
}

// catchUp processes until the stage has consumed everything that is in its
// input topic now (manual drive).
func (s *stage) catchUp(ctx context.Context) error {
	// The consumer reads committed records only, so the last stable offset
	// is the end it can reach.
	ends, err := s.stableOffsets(ctx)
	if err != nil {
		return err
	}
	idle := 0
	for {
		behind := false
		for p := range s.tasks {
			for i, topic := range s.topics {
				if s.pos[p][i] < ends[topic][p] {
					behind = true
				}
			}
		}
		if !behind {
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
		if s.consumer != nil {
			s.consumer.Close()
		}
		for _, t := range s.tasks {
			errs = append(errs, t.close())
		}
		for _, ts := range s.states {
			errs = append(errs, ts.close())
		}
		s.cycleMu.Unlock()
	}
	for _, s := range q.stages {
		if s.producer != nil && s.producer != q.producer {
			s.producer.Close()
		}
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
