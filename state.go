package sluice

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/storage"
)

// taskState is the state of one task of a query stage: the Pebble write
// batch its stateful operators share during a processing cycle, and the
// changelog records those writes produce (DESIGN.md decision 6).
//
// Keys live under storage.Prefix{NamespaceOperator, stage, crc32(operator
// name), partition}; the task's checkpoint (the next input offset its state
// reflects) lives under Prefix{NamespaceCheckpoint, stage, 0, partition}.
// The cycle commits, in this order: the producer flush (output and
// changelog records acknowledged), the Pebble batch with the checkpoint,
// then the input offsets in Kafka. So local state, checkpoint and output
// always agree, and a restart resumes from the checkpoint.
type taskState struct {
	e         *Engine
	stage     string // query id, or query id + "#n" for stage n of a multi-stage query
	partition int32
	batch     *storage.WriteBatch
	stores    map[string]*opStore
	restore   bool // no local checkpoint: rebuild stores from their changelogs
	produce   func(*kgo.Record)
	// noChangelog: state of a transient query, which has no changelog.
	noChangelog bool
}

func newTaskState(e *Engine, stage string, partition int32, restore bool, produce func(*kgo.Record)) *taskState {
	return &taskState{e: e, stage: stage, partition: partition, batch: e.state.NewWriteBatch(),
		stores: map[string]*opStore{}, restore: restore, produce: produce}
}

func checkpointKey(stage string, partition int32) []byte {
	return storage.Prefix{Namespace: storage.NamespaceCheckpoint, Query: stage, Partition: partition}.Bytes()
}

// readCheckpoint returns the next input offset a task's local state
// reflects, if the state has a checkpoint.
func (e *Engine) readCheckpoint(stage string, partition int32) (int64, bool, error) {
	offs, ok, err := e.readCheckpoints(stage, partition, 1)
	if err != nil || !ok {
		return 0, false, err
	}
	return offs[0], true, nil
}

// readCheckpoints returns the next offsets of the n inputs of a task (a
// join stage reads several topics): the checkpoint value is 8 bytes big
// endian per input, in the stage's input order. A checkpoint of another
// length (the stage's inputs changed) counts as none.
func (e *Engine) readCheckpoints(stage string, partition int32, n int) ([]int64, bool, error) {
	v, ok, err := e.state.Get(checkpointKey(stage, partition))
	if err != nil || !ok || len(v) != 8*n {
		return nil, false, err
	}
	offs := make([]int64, n)
	for i := range offs {
		offs[i] = int64(binary.BigEndian.Uint64(v[8*i:]))
	}
	return offs, true, nil
}

// commit writes the task's state changes and its checkpoint atomically.
func (ts *taskState) commit(next int64) error { return ts.commitInputs([]int64{next}) }

// commitInputs is commit for a task with several inputs: next[i] is the
// next offset of input i.
func (ts *taskState) commitInputs(next []int64) error {
	b := make([]byte, 0, 8*len(next))
	for _, off := range next {
		b = binary.BigEndian.AppendUint64(b, uint64(off))
	}
	if err := ts.batch.Set(checkpointKey(ts.stage, ts.partition), b); err != nil {
		return err
	}
	return ts.batch.Commit(false)
}

// discard drops uncommitted state changes after a failed cycle.
func (ts *taskState) discard() {
	ts.batch.Close()
	ts.batch = ts.e.state.NewWriteBatch()
}

func (ts *taskState) close() error { return ts.batch.Close() }

// changelogTopic names the compacted topic that mirrors an operator's state.
func (e *Engine) changelogTopic(stage, op string) string {
	return "_sluice-" + e.cfg.serviceID + "-" + stage + "-" + op + "-changelog"
}

// open is the task's exec.StateOpener.
func (ts *taskState) open(name string) (exec.StateStore, error) {
	if s := ts.stores[name]; s != nil {
		return s, nil
	}
	s := ts.newStore(name)
	if ts.noChangelog {
		ts.stores[name] = s
		return s, nil
	}
	ctx, cancel := context.WithTimeout(ts.e.ctx, 30*time.Second)
	defer cancel()
	compact := "compact"
	info, ok, err := ts.e.kafka.DescribeTopic(ctx, s.topic)
	if err != nil {
		return nil, err
	}
	// Tasks open their stores one partition at a time, so the changelog
	// grows to cover each task's partition as it opens.
	switch {
	case !ok:
		if err := ts.e.kafka.CreateTopic(ctx, s.topic, ts.partition+1, 0, map[string]*string{"cleanup.policy": &compact}); err != nil {
			return nil, fmt.Errorf("create changelog %q: %w", s.topic, err)
		}
	case info.Partitions <= ts.partition:
		resp, err := ts.e.kafka.Admin().UpdatePartitions(ctx, int(ts.partition+1), s.topic)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("grow changelog %q to %d partitions: %w", s.topic, ts.partition+1, err)
		}
	}
	if ts.restore {
		if err := s.restoreFromChangelog(ctx); err != nil {
			return nil, err
		}
	}
	ts.stores[name] = s
	return s, nil
}

// storeID is the operator id of a named store within its stage's key space.
func storeID(name string) uint32 { return crc32.ChecksumIEEE([]byte(name)) }

func (ts *taskState) newStore(name string) *opStore {
	p := storage.Prefix{Namespace: storage.NamespaceOperator, Query: ts.stage,
		Operator: storeID(name), Partition: ts.partition}
	return &opStore{ts: ts, prefix: p.Bytes(), topic: ts.e.changelogTopic(ts.stage, name)}
}

// openLocal opens a store whose writes are not mirrored to a changelog of
// its own (its content is derived from a topic that serves as its log).
func (ts *taskState) openLocal(name string) *opStore {
	if s := ts.stores[name]; s != nil {
		return s
	}
	s := ts.newStore(name)
	s.local = true
	ts.stores[name] = s
	return s
}

// opStore is one operator's exec.StateStore in one task.
type opStore struct {
	ts     *taskState
	prefix []byte
	topic  string
	local  bool   // no changelog of its own
	key    []byte // scratch: prefix + user key
	val    []byte // scratch for Get
}

var _ exec.StateStore = (*opStore)(nil)

func (s *opStore) full(key []byte) []byte {
	s.key = append(append(s.key[:0], s.prefix...), key...)
	return s.key
}

func (s *opStore) Get(key []byte) ([]byte, bool, error) {
	v, ok, err := s.ts.batch.Get(s.full(key), s.val)
	s.val = v
	return v, ok, err
}

func (s *opStore) Put(key, val []byte) error {
	if err := s.ts.batch.Set(s.full(key), val); err != nil {
		return err
	}
	if s.local || s.ts.noChangelog {
		return nil
	}
	s.ts.produce(&kgo.Record{Topic: s.topic, Partition: s.ts.partition,
		Key: append([]byte(nil), key...), Value: append([]byte{}, val...)})
	return nil
}

func (s *opStore) Delete(key []byte) error {
	if err := s.ts.batch.Delete(s.full(key)); err != nil {
		return err
	}
	if s.local || s.ts.noChangelog {
		return nil
	}
	s.ts.produce(&kgo.Record{Topic: s.topic, Partition: s.ts.partition, Key: append([]byte(nil), key...)})
	return nil
}

func (s *opStore) Scan(lower, upper []byte, fn func(key, val []byte) bool) error {
	lo := append(append([]byte(nil), s.prefix...), lower...)
	var hi []byte
	if upper == nil {
		hi = storage.PrefixEnd(s.prefix)
	} else {
		hi = append(append([]byte(nil), s.prefix...), upper...)
	}
	it, err := s.ts.batch.Scan(lo, hi)
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(it.Key()[len(s.prefix):], it.Value()) {
			break
		}
	}
	return it.Error()
}

// restoreFromChangelog rebuilds the store from its changelog partition: the
// task has no local checkpoint (a new data directory, or a task that moved
// here), so the changelog is the state's source of truth.
func (s *opStore) restoreFromChangelog(ctx context.Context) error {
	topic := s.topic
	ends, err := s.ts.e.kafka.StableOffsets(ctx, topic)
	if err != nil {
		return err
	}
	end := ends[topic][s.ts.partition]
	if end == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.ts.e.seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {s.ts.partition: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return err
	}
	defer cl.Close()
	b := s.ts.e.state.NewWriteBatch()
	defer b.Close()
	// Local rows the changelog does not have (written after the last
	// committed transaction) must not survive the restore.
	if err := s.ts.e.state.DeletePrefix(s.prefix, false); err != nil {
		return err
	}
	// Compaction and transaction markers leave gaps, so the last record may
	// sit below end: stop at end or when a poll finds nothing more.
	for pos := int64(0); pos < end; {
		pollCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fs := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("restore %s[%d]: %w", topic, s.ts.partition, ctx.Err())
		}
		if fs.NumRecords() == 0 {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			pos = r.Offset + 1
			k := append(append([]byte(nil), s.prefix...), r.Key...)
			if r.Value == nil {
				b.Delete(k)
			} else {
				b.Set(k, r.Value)
			}
		})
	}
	s.ts.e.log.Info("restored operator state from changelog", "topic", topic, "partition", s.ts.partition, "records", end)
	return b.Commit(false)
}
