package sluice

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/storage"
)

// Exactly-once (DESIGN.md decision 7), the default processing guarantee of
// persistent queries (processing.guarantee=exactly_once_v2).
//
// Each stage has a transactional producer whose id is stable across
// restarts ("_sluice-<service>-<stage>"), so that a restarted or duplicate
// instance fences the old one. A processing cycle is one transaction: the
// output records, the changelog records of the tasks' state, and one record
// per processed partition in the stage's offsets topic (the next input
// offsets) commit together or not at all. Consumers read with
// read_committed, so nobody sees the output of an aborted cycle.
//
// The stage's committed progress is the last record per partition of its
// offsets topic, not the consumer group's commit (which is still written
// after each cycle, for monitoring and for RunUntilIdle). The local Pebble
// state is committed after the transaction, with a checkpoint holding the
// same offsets: on start, a task whose local checkpoint equals the
// transaction's reuses its local state; any other task (a crash between the
// two commits, a new data directory, a moved task) rebuilds its state from
// the changelogs.

const (
	guaranteeAtLeastOnce = "at_least_once"
	guaranteeExactlyOnce = "exactly_once_v2"
)

// isTaskTopic reports whether topic is partitioned by task, not by key: a
// changelog or an offsets topic, whose partition p belongs to task p.
func (e *Engine) isTaskTopic(topic string) bool {
	return strings.HasPrefix(topic, "_sluice-"+e.cfg.serviceID+"-") &&
		(strings.HasSuffix(topic, "-changelog") || strings.HasSuffix(topic, "-offsets"))
}

// openProducer gives the stage its producer: a transactional one under
// exactly-once, the query's otherwise. It also creates the offsets topic.
func (s *stage) openProducer(ctx context.Context) error {
	q := s.q
	if !q.eos {
		s.producer = q.producer
		return nil
	}
	e := q.e
	s.offsetsTopic = "_sluice-" + e.cfg.serviceID + "-" + s.name + "-offsets"
	compact := "compact"
	if err := e.kafka.CreateTopic(ctx, s.offsetsTopic, s.parts, 0, map[string]*string{"cleanup.policy": &compact}); err != nil {
		return fmt.Errorf("query %s: offsets topic: %w", q.id, err)
	}
	o := q.prodO
	o.TransactionalID = "_sluice-" + e.cfg.serviceID + "-" + s.name
	p, err := storage.NewProducer(e.seeds, o)
	if err != nil {
		return fmt.Errorf("query %s: transactional producer: %w", q.id, err)
	}
	s.producer = p
	return nil
}

// committedProgress returns, per partition, the next input offsets (one per
// input topic) that the stage has committed: from the offsets topic under
// exactly-once, from the consumer group otherwise. Partitions without
// complete progress are absent.
func (s *stage) committedProgress(ctx context.Context) (map[int32][]int64, error) {
	e := s.q.e
	n := len(s.topics)
	out := map[int32][]int64{}
	if !s.q.eos {
		committed, err := e.kafka.CommittedOffsets(ctx, s.group)
		if err != nil {
			return nil, err
		}
		for p := int32(0); p < s.parts; p++ {
			offs := make([]int64, n)
			have := 0
			for i, topic := range s.topics {
				if off, ok := committed[topic][p]; ok {
					offs[i] = off
					have++
				}
			}
			if have == n {
				out[p] = offs
			}
		}
		return out, nil
	}
	ends, err := e.kafka.StableOffsets(ctx, s.offsetsTopic)
	if err != nil {
		return nil, err
	}
	want := map[string]map[int32]kgo.Offset{s.offsetsTopic: {}}
	left := 0
	for p, end := range ends[s.offsetsTopic] {
		if end > 0 {
			want[s.offsetsTopic][p] = kgo.NewOffset().AtStart()
			left++
		}
	}
	if left == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.seeds...), kgo.ConsumePartitions(want),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	pos := map[int32]int64{}
	for idle := 0; idle < 3; {
		done := true
		for p, end := range ends[s.offsetsTopic] {
			if end > 0 && pos[p] < end {
				done = false
			}
		}
		if done {
			break
		}
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if fs.NumRecords() == 0 {
			// Transaction markers sit past the last record.
			idle++
			continue
		}
		fs.EachRecord(func(r *kgo.Record) {
			pos[r.Partition] = r.Offset + 1
			if len(r.Value) == 8*n {
				offs := make([]int64, n)
				for i := range offs {
					offs[i] = int64(binary.BigEndian.Uint64(r.Value[8*i:]))
				}
				out[r.Partition] = offs
			}
		})
	}
	return out, nil
}

// offsetsRecord is the offsets-topic record of partition p.
func (s *stage) offsetsRecord(p int32, next []int64) *kgo.Record {
	v := make([]byte, 0, 8*len(next))
	for _, off := range next {
		v = binary.BigEndian.AppendUint64(v, uint64(off))
	}
	return &kgo.Record{Topic: s.offsetsTopic, Partition: p,
		Key: binary.BigEndian.AppendUint32(nil, uint32(p)), Value: v}
}

// commitStart records the start offsets of partitions that had no progress
// (auto.offset.reset resolved to concrete offsets), so that a restart
// before the first cycle does not skip what arrived meanwhile.
func (s *stage) commitStart(ctx context.Context, start map[int32][]int64, parts []int32) error {
	if s.q.eos {
		if err := s.producer.BeginTransaction(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		for _, p := range parts {
			s.producer.Produce(ctx, s.offsetsRecord(p, start[p]), s.onProduced)
		}
		err := s.producer.Flush(ctx)
		if err == nil {
			err = s.takeErr()
		}
		if err == nil {
			err = s.producer.EndTransaction(ctx, kgo.TryCommit)
		}
		if err != nil {
			s.abort(ctx)
			return fmt.Errorf("query %s: commit start offsets: %w", s.q.id, err)
		}
	}
	return s.commitOffsets(ctx, start)
}

// abort ends the cycle's transaction without committing it; the cycle's
// output, changelog and offsets records are never visible to read_committed
// consumers.
func (s *stage) abort(ctx context.Context) {
	if err := s.producer.AbortBufferedRecords(ctx); err != nil {
		s.q.e.log.Warn("abort buffered records", "query", s.q.id, "err", err)
	}
	if err := s.producer.EndTransaction(ctx, kgo.TryAbort); err != nil {
		s.q.e.log.Warn("abort transaction", "query", s.q.id, "err", err)
	}
}

func equalOffsets(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
