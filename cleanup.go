package sluice

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicedb/sluice/storage"
)

// Cleanup. What a persistent query leaves behind is removed when nothing
// needs it any more, as ksqlDB's query cleanup does:
//
//   - TERMINATE (on the instance that runs it, and on every other
//     instance when the command reaches it): the query's local state and
//     checkpoints are deleted at once; its stages' consumer groups are
//     deleted once every instance has left them (each instance tries, and
//     retries while another still is a member); the instance that deletes
//     the final stage's group, the last to stop the query, then deletes
//     the query's internal topics (repartition and changelog topics). The
//     sink topic stays (DROP ... DELETE TOPIC deletes it).
//   - A task whose partition moved to another instance: its local state
//     and checkpoint are deleted once the new owner has committed progress
//     for the partition (the group's offsets are past the local
//     checkpoint), when the local copy could only be rebuilt anyway
//     (sweepMoved, every sweepInterval). Until then it stays, so that a
//     partition that comes back unchanged needs no restore.

// sweepInterval is how often a running stage looks for the state of
// partitions that moved away.
const sweepInterval = 5 * time.Second

// groupCleanupTimeout bounds how long an instance keeps trying to delete
// the groups of a terminated query while other instances still are
// members.
const groupCleanupTimeout = time.Minute

// terminated cleans up after q, which TERMINATE stopped here.
func (e *Engine) terminated(q *persistentQuery) {
	for _, s := range q.stages {
		if err := e.dropStageState(s.name); err != nil {
			e.log.Warn("delete the state of a terminated query", "query", q.id, "stage", s.name, "err", err)
		}
	}
	if e.cfg.manualDrive {
		e.deleteQueryGroups(e.ctx, q, 1)
		return
	}
	go e.deleteQueryGroups(e.ctx, q, int(groupCleanupTimeout/time.Second))
}

// deleteQueryGroups deletes the consumer groups of q's stages, trying up
// to attempts times a second apart while other instances still are
// members; when it deleted the final stage's group, it deletes the
// query's internal topics.
func (e *Engine) deleteQueryGroups(ctx context.Context, q *persistentQuery, attempts int) {
	left := slices.Clone(q.stages)
	lastDeleted := false
	for i := 0; i < attempts && len(left) > 0 && ctx.Err() == nil; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		var still []*stage
		for _, s := range left {
			resp, err := e.kafka.Admin().DeleteGroup(ctx, s.group)
			if err == nil {
				err = resp.Err
			}
			switch {
			case err == nil:
				lastDeleted = lastDeleted || s == q.stages[len(q.stages)-1]
			case errors.Is(err, kerr.GroupIDNotFound):
				// Deleted by another instance.
			case errors.Is(err, kerr.NonEmptyGroup):
				still = append(still, s)
			default:
				e.log.Warn("delete the group of a terminated query", "query", q.id, "group", s.group, "err", err)
				still = append(still, s)
			}
		}
		left = still
	}
	if len(left) > 0 {
		e.log.Info("groups of a terminated query left to the other instances", "query", q.id, "groups", len(left))
	}
	if lastDeleted {
		e.deleteInternalTopics(ctx, q)
	}
}

// deleteInternalTopics deletes q's repartition and changelog topics.
func (e *Engine) deleteInternalTopics(ctx context.Context, q *persistentQuery) {
	var topics []string
	for _, pre := range q.plan.Pre {
		topics = append(topics, pre.Topic)
	}
	all, err := e.kafka.ListTopics(ctx)
	if err != nil {
		e.log.Warn("list the internal topics of a terminated query", "query", q.id, "err", err)
	}
	for _, t := range all {
		for _, s := range q.stages {
			if strings.HasPrefix(t.Name, "_sluice-"+e.cfg.serviceID+"-"+s.name+"-") && strings.HasSuffix(t.Name, "-changelog") {
				topics = append(topics, t.Name)
			}
		}
	}
	for _, t := range topics {
		if err := e.kafka.DeleteTopic(ctx, t); err != nil && !errors.Is(err, storage.ErrTopicNotFound) {
			e.log.Warn("delete an internal topic of a terminated query", "query", q.id, "topic", t, "err", err)
		}
	}
	e.log.Info("deleted the internal topics of a terminated query", "query", q.id, "topics", topics)
}

// dropStageState deletes a stage's state and checkpoints on this instance.
func (e *Engine) dropStageState(stage string) error {
	for _, ns := range []storage.Namespace{storage.NamespaceOperator, storage.NamespaceCheckpoint} {
		if err := e.state.DeletePrefix(storage.QueryPrefix(ns, stage), false); err != nil {
			return err
		}
	}
	return nil
}

// dropTaskState deletes partition p's state of a stage on this instance:
// each operator's key range (operators found by skipping over the stage's
// keys) and the task's checkpoint.
func (e *Engine) dropTaskState(stage string, p int32) error {
	stagePrefix := storage.QueryPrefix(storage.NamespaceOperator, stage)
	it, err := e.state.Iter(stagePrefix)
	if err != nil {
		return err
	}
	var ops []uint32
	for ok := it.First(); ok; {
		pre, _, err := storage.DecodePrefix(it.Key())
		if err != nil {
			it.Close()
			return err
		}
		ops = append(ops, pre.Operator)
		ok = it.SeekGE(storage.PrefixEnd(storage.AppendUint32(slices.Clone(stagePrefix), pre.Operator)))
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, op := range ops {
		pre := storage.Prefix{Namespace: storage.NamespaceOperator, Query: stage, Operator: op, Partition: p}
		if err := e.state.DeletePrefix(pre.Bytes(), false); err != nil {
			return err
		}
	}
	return e.state.Delete(checkpointKey(stage, p), false)
}

// sweepMoved deletes the local state of the stage's partitions that run
// elsewhere now and whose new owner has committed progress since: the
// group's committed offsets are past the local checkpoint.
func (s *stage) sweepMoved(ctx context.Context) {
	e := s.q.e
	away := func() []int32 {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.assigned == 0 {
			return nil // not assigned anything yet: nothing is known to have moved
		}
		var out []int32
		for p := int32(0); p < s.parts; p++ {
			_, running := s.tasks[p]
			_, pending := s.pending[p]
			if !running && !pending {
				out = append(out, p)
			}
		}
		return out
	}
	var stale []int32
	var local map[int32][]int64
	for _, p := range away() {
		offs, ok, err := e.readCheckpoints(s.name, p, len(s.topics))
		if err != nil || !ok {
			continue
		}
		if local == nil {
			local = map[int32][]int64{}
		}
		local[p] = offs
		stale = append(stale, p)
	}
	if len(stale) == 0 {
		return
	}
	committed, err := e.kafka.CommittedOffsets(ctx, s.group)
	if err != nil {
		return
	}
	// Under mu, so that no assignment of these partitions (adjustOffsets,
	// which reads the checkpoint) runs in between.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range stale {
		_, running := s.tasks[p]
		_, pending := s.pending[p]
		if running || pending {
			continue
		}
		// The new owner can only move the committed offsets on from
		// where this instance left them; offsets behind the local
		// checkpoint are this instance's own commit still on its way
		// (at-least-once writes the checkpoint first).
		moved := false
		for i, topic := range s.topics {
			if c, ok := committed[topic][p]; ok && c > local[p][i] {
				moved = true
			}
		}
		if !moved {
			continue
		}
		if err := e.dropTaskState(s.name, p); err != nil {
			e.log.Warn("delete the state of a partition that moved", "query", s.q.id, "stage", s.name, "partition", p, "err", err)
			continue
		}
		e.log.Info("deleted the state of a partition another instance owns now", "query", s.q.id, "stage", s.name, "partition", p)
	}
}
