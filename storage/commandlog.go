package storage

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// CommandLog is the catalog's source of truth (DESIGN.md decision 2): a
// single-partition Kafka topic holding statements in the order they were
// accepted. Every engine of a service appends to it and replays it into its
// local catalog.
//
// Invariants:
//
//  1. One partition, so the log's offsets are a total order over every
//     append of every engine. OpenCommandLog refuses a topic with more.
//  2. Nothing is ever deleted: cleanup.policy=delete with infinite time and
//     size retention (no compaction, which would keep only the last
//     statement per key). OpenCommandLog repairs a topic whose retention
//     says otherwise, for example one auto-created by a stray consumer.
//  3. Appends use an idempotent producer with acks=all, so a retried
//     append is never duplicated and an acknowledged one survives.
//  4. Readers are read_committed, so a record written by a transactional
//     producer that aborted is never applied.
type CommandLog struct {
	k      *Kafka
	topic  string
	prod   *kgo.Client
	closed atomic.Bool
}

// commandLogConfigs makes the topic keep everything forever.
var commandLogConfigs = map[string]string{
	"cleanup.policy":  "delete",
	"retention.ms":    "-1",
	"retention.bytes": "-1",
}

// OpenCommandLog opens the command log in topic, creating the topic if it
// does not exist.
func OpenCommandLog(ctx context.Context, k *Kafka, topic string) (*CommandLog, error) {
	configs := make(map[string]*string, len(commandLogConfigs))
	for name, v := range commandLogConfigs {
		configs[name] = kadm.StringPtr(v)
	}
	if err := k.CreateTopic(ctx, topic, 1, -1, configs); err != nil {
		return nil, fmt.Errorf("open command log: %w", err)
	}
	if err := ensureTopicConfigs(ctx, k, topic, commandLogConfigs); err != nil {
		return nil, fmt.Errorf("open command log %q: %w", topic, err)
	}
	opts, err := ProducerOptions{ClientID: "sluice-command-log", Logger: k.logger}.ClientOpts(k.seeds)
	if err != nil {
		return nil, fmt.Errorf("open command log %q: %w", topic, err)
	}
	opts = append(opts,
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	prod, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("open command log %q: %w", topic, err)
	}
	return &CommandLog{k: k, topic: topic, prod: prod}, nil
}

// ensureTopicConfigs sets the topic configs in want whose current value
// differs.
func ensureTopicConfigs(ctx context.Context, k *Kafka, topic string, want map[string]string) error {
	rcs, err := k.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe configs: %w", err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return fmt.Errorf("describe configs: %w", err)
	}
	if rc.Err != nil {
		return fmt.Errorf("describe configs: %w", rc.Err)
	}
	have := make(map[string]string, len(rc.Configs))
	for _, c := range rc.Configs {
		have[c.Key] = c.MaybeValue()
	}
	var alter []kadm.AlterConfig
	for name, v := range want {
		if have[name] != v {
			k.logger.Warn("repairing topic config", "topic", topic, "config", name, "was", have[name], "now", v)
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: name, Value: kadm.StringPtr(v)})
		}
	}
	if len(alter) == 0 {
		return nil
	}
	resps, err := k.adm.AlterTopicConfigs(ctx, alter, topic)
	if err != nil {
		return fmt.Errorf("alter configs: %w", err)
	}
	for _, r := range resps {
		if r.Err != nil {
			return fmt.Errorf("alter configs: %w", r.Err)
		}
	}
	return nil
}

// Topic returns the command log's topic.
func (c *CommandLog) Topic() string { return c.topic }

// Append writes one command and returns its offset once the broker has
// acknowledged it on all in-sync replicas. Concurrent appends, from this
// engine or others, are totally ordered by their offsets.
func (c *CommandLog) Append(ctx context.Context, key string, value []byte) (int64, error) {
	if c.closed.Load() {
		return 0, fmt.Errorf("append to command log %q: %w", c.topic, ErrClosed)
	}
	rec := &kgo.Record{Key: []byte(key), Value: value, Partition: 0}
	if err := c.prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return 0, fmt.Errorf("append to command log %q: %w", c.topic, err)
	}
	return rec.Offset, nil
}

// End returns the offset after the last readable command: Replay from 0
// applies every command below it.
func (c *CommandLog) End(ctx context.Context) (int64, error) {
	offs, err := c.k.StableOffsets(ctx, c.topic)
	if err != nil {
		return 0, fmt.Errorf("command log %q end: %w", c.topic, err)
	}
	return offs[c.topic][0], nil
}

// Replay calls fn for every command from offset from up to the log's end as
// of the call (End), in offset order, and returns the offset to continue
// from. It does not wait for commands appended after the call started; use
// Tail for that.
//
// If fn fails, Replay stops and returns fn's error (wrapped) together with
// the failing command's offset, so that a retry starts with it. The key and
// value passed to fn are valid only during the call.
func (c *CommandLog) Replay(ctx context.Context, from int64, fn func(offset int64, key string, value []byte) error) (next int64, err error) {
	if c.closed.Load() {
		return from, fmt.Errorf("replay command log %q: %w", c.topic, ErrClosed)
	}
	if from < 0 {
		return from, fmt.Errorf("replay command log %q: negative offset %d", c.topic, from)
	}
	end, err := c.End(ctx)
	if err != nil {
		return from, fmt.Errorf("replay: %w", err)
	}
	if from > end {
		return from, fmt.Errorf("replay command log %q from %d: beyond its end %d (was the topic recreated?)", c.topic, from, end)
	}
	if from == end {
		return from, nil
	}
	return c.read(ctx, from, end, fn)
}

// Tail is Replay that does not stop at the end: it waits for new commands
// and calls fn for each until ctx is done or fn fails. It returns the offset
// to continue from and ctx's error (or fn's). Followers run it to apply DDL
// issued on other engines.
func (c *CommandLog) Tail(ctx context.Context, from int64, fn func(offset int64, key string, value []byte) error) (next int64, err error) {
	if c.closed.Load() {
		return from, fmt.Errorf("tail command log %q: %w", c.topic, ErrClosed)
	}
	return c.read(ctx, from, -1, fn)
}

// read consumes the log from from until end (exclusive; -1 for no end).
func (c *CommandLog) read(ctx context.Context, from, end int64, fn func(int64, string, []byte) error) (int64, error) {
	if from < 0 {
		return from, fmt.Errorf("read command log %q: negative offset %d", c.topic, from)
	}
	starts, err := c.k.StartOffsets(ctx, c.topic)
	if err != nil {
		return from, fmt.Errorf("read command log: %w", err)
	}
	// kgo clamps an offset below the log start to the start without error,
	// which would silently skip commands; check it ourselves.
	if start := starts[c.topic][0]; from < start {
		return from, fmt.Errorf("read command log %q from %d: log starts at %d: %w", c.topic, from, start, ErrCommandLogTruncated)
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.k.seeds...),
		kgo.ClientID("sluice-command-log"),
		kgo.WithLogger(newKgoLogger(c.k.logger)),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: {0: kgo.NewOffset().At(from)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers take offsets too. Without them, a log whose
		// last offset below end is a commit marker would never show a
		// record at end-1, and a bounded read would wait forever.
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
	)
	if err != nil {
		return from, fmt.Errorf("read command log %q: %w", c.topic, err)
	}
	defer cl.Close()

	next := from
	for end < 0 || next < end {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return next, fmt.Errorf("read command log %q at %d: %w", c.topic, next, err)
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			all := make([]error, len(errs))
			for i, fe := range errs {
				all[i] = fe.Err
			}
			return next, fmt.Errorf("read command log %q at %d: %w", c.topic, next, errors.Join(all...))
		}
		var ferr error
		fetches.EachRecord(func(r *kgo.Record) {
			if ferr != nil || r.Offset < next || (end >= 0 && r.Offset >= end) {
				return
			}
			if !r.Attrs.IsControl() {
				if err := fn(r.Offset, string(r.Key), r.Value); err != nil {
					ferr = fmt.Errorf("apply command log %q offset %d: %w", c.topic, r.Offset, err)
					return
				}
			}
			next = r.Offset + 1
		})
		if ferr != nil {
			return next, ferr
		}
	}
	return next, nil
}

// Close closes the producer. The Kafka it was opened with stays open.
func (c *CommandLog) Close() {
	if !c.closed.Swap(true) {
		c.prod.Close()
	}
}
