package sluice

import (
	"context"
	"encoding/binary"
	"errors"
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
	// partitions is the stage's task count, the partition count of its
	// changelogs (0 when unknown: the changelog then covers partition).
	partitions int32
	batch      *storage.WriteBatch
	stores     map[string]*opStore
	restore    bool // no local checkpoint: rebuild stores from their changelogs
	produce    func(*kgo.Record)
	// noChangelog: state of a transient query, which has no changelog.
	noChangelog bool
	// cached is the size of the stores' caches (see opStore), bounded by
	// cacheLimit (taskCacheBytes; tests set less).
	cached, cacheLimit int64
}

func newTaskState(e *Engine, stage string, partition int32, restore bool, produce func(*kgo.Record)) *taskState {
	return &taskState{e: e, stage: stage, partition: partition, batch: e.state.NewWriteBatch(),
		stores: map[string]*opStore{}, restore: restore, produce: produce, cacheLimit: taskCacheBytes}
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

// flush writes every store's cached changes to the batch and produces
// their changelog records. The cycle calls it after its tasks flushed and
// before it flushes the producer. Past the cache bound, the (now clean)
// caches are emptied.
func (ts *taskState) flush() error {
	for _, s := range ts.stores {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if ts.cached > ts.cacheLimit {
		ts.dropCaches()
	}
	return nil
}

// bound keeps the caches within cacheLimit during a cycle (a transient
// query's task never commits): past the bound, everything is spilled and
// the caches are emptied. Stores call it before they add to their cache.
func (ts *taskState) bound() error {
	if ts.cached <= ts.cacheLimit {
		return nil
	}
	return ts.flush()
}

// dropCaches empties the stores' caches, dirty entries included.
func (ts *taskState) dropCaches() {
	for _, s := range ts.stores {
		s.cache = nil
		clear(s.dirty)
		s.dirty = s.dirty[:0]
	}
	ts.cached = 0
}

// commit writes the task's state changes and its checkpoint atomically.
func (ts *taskState) commit(next int64) error { return ts.commitInputs([]int64{next}) }

// commitInputs is commit for a task with several inputs: next[i] is the
// next offset of input i. Changes still in the caches are spilled first;
// the cycle has already spilled them (flush) so that their changelog
// records were part of what the producer flushed.
func (ts *taskState) commitInputs(next []int64) error {
	if err := ts.flush(); err != nil {
		return err
	}
	b := make([]byte, 0, 8*len(next))
	for _, off := range next {
		b = binary.BigEndian.AppendUint64(b, uint64(off))
	}
	ts.closeIters()
	if err := ts.batch.Set(checkpointKey(ts.stage, ts.partition), b); err != nil {
		return err
	}
	return ts.batch.Commit(false)
}

// discard drops uncommitted state changes after a failed cycle.
func (ts *taskState) discard() {
	ts.closeIters()
	ts.dropCaches()
	ts.batch.Close()
	ts.batch = ts.e.state.NewWriteBatch()
}

func (ts *taskState) close() error {
	ts.closeIters()
	return ts.batch.Close()
}

// closeIters closes the stores' reused iterators.
func (ts *taskState) closeIters() {
	for _, s := range ts.stores {
		s.closeIter()
	}
}

// restoreTimeout bounds opening a store, restore included.
const restoreTimeout = time.Minute

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
	ctx, cancel := context.WithTimeout(ts.e.ctx, restoreTimeout)
	defer cancel()
	want := ts.partition + 1
	if ts.partitions > want {
		want = ts.partitions
	}
	if err := ts.e.ensureChangelog(ctx, s.topic, want); err != nil {
		return nil, err
	}
	if ts.restore {
		if err := s.restoreFromChangelog(ctx); err != nil {
			return nil, err
		}
	}
	ts.stores[name] = s
	return s, nil
}

// ensureChangelog makes the compacted changelog topic exist with at least
// partitions partitions. Every task of a stage asks for the stage's task
// count, so tasks of several instances opening their stores at once agree
// on it; a concurrent create or grow by another task is not an error, the
// topic is described again.
func (e *Engine) ensureChangelog(ctx context.Context, topic string, partitions int32) error {
	compact := "compact"
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		info, ok, err := e.kafka.DescribeTopic(ctx, topic)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			last = e.kafka.CreateTopic(ctx, topic, partitions, 0, map[string]*string{"cleanup.policy": &compact})
			var mismatch *storage.TopicMismatchError
			if last == nil || !errors.As(last, &mismatch) {
				if last != nil {
					return fmt.Errorf("create changelog %q: %w", topic, last)
				}
				return nil
			}
		case info.Partitions >= partitions:
			return nil
		default:
			resp, err := e.kafka.Admin().UpdatePartitions(ctx, int(partitions), topic)
			if err == nil {
				err = resp.Error()
			}
			if err == nil {
				return nil
			}
			last = err
		}
	}
	return fmt.Errorf("changelog %q does not reach %d partitions while other tasks change it: %w", topic, partitions, last)
}

// storeID is the operator id of a named store within its stage's key space.
func storeID(name string) uint32 { return crc32.ChecksumIEEE([]byte(name)) }

func (ts *taskState) newStore(name string) *opStore {
	p := storage.Prefix{Namespace: storage.NamespaceOperator, Query: ts.stage,
		Operator: storeID(name), Partition: ts.partition}
	return &opStore{ts: ts, prefix: p.Bytes(), topic: ts.e.changelogTopic(ts.stage, name)}
}

// opStore is one operator's exec.StateStore in one task.
//
// # Write-back cache
//
// Operators read and write their state row by row; a Pebble read through
// the indexed batch costs microseconds (iterators over the batch, the
// memtables and the sstables), so every store keeps an in-memory cache of
// the keys it touched in front of the batch:
//
//   - Get answers from the cache; a miss reads the batch (which sees the
//     cycle's spilled writes over the committed state) and caches the
//     answer, absent keys included.
//   - Put and Delete change only the cache and mark the key dirty.
//   - spill writes the dirty keys to the batch and produces their
//     changelog records: once per key with its last value, however often
//     the cycle changed it. Scan spills the store first, so a scan of the
//     batch sees every write.
//   - The cycle spills every store (taskState.flush) before it flushes the
//     producer, so the changelog records travel in the cycle's transaction
//     (or are acknowledged before the offsets commit), exactly as when they
//     were produced by each Put. commitInputs spills too, and then commits
//     the batch with the checkpoint.
//   - discard (a failed cycle) drops the cache with the batch: the
//     committed state is read again.
//
// The cache is bounded per task (taskCacheBytes): past the bound, the
// stores spill, which makes every entry clean, and the caches are emptied.
type opStore struct {
	ts     *taskState
	prefix []byte
	topic  string
	key    []byte // scratch: prefix + user key
	val    []byte // scratch for batch reads

	cache map[string]*cacheEntry
	dirty []string // keys of dirty entries, in first-change order

	// it is the store's batch iterator, reused by Scan until the batch
	// commits or is discarded; scanning is set during a Scan's callbacks.
	it       *storage.Iter
	scanning bool
}

// cacheEntry is a cached key's value as the task sees it.
type cacheEntry struct {
	val     []byte
	present bool // false: the key is absent (deleted or never written)
	dirty   bool // changed since the last spill
}

// taskCacheBytes bounds the bytes (keys, values and a fixed overhead per
// entry) that a task's stores cache.
const taskCacheBytes = 32 << 20

// cacheEntryOverhead approximates a cache entry's memory beyond its key
// and value bytes (map slot, entry struct, string and slice headers).
const cacheEntryOverhead = 96

var _ exec.StateStore = (*opStore)(nil)

func (s *opStore) full(key []byte) []byte {
	s.key = append(append(s.key[:0], s.prefix...), key...)
	return s.key
}

func (s *opStore) Get(key []byte) ([]byte, bool, error) {
	if e := s.cache[string(key)]; e != nil {
		return e.val, e.present, nil
	}
	if err := s.ts.bound(); err != nil {
		return nil, false, err
	}
	v, ok, err := s.ts.batch.Get(s.full(key), s.val)
	if err != nil {
		return nil, false, err
	}
	s.val = v
	e := &cacheEntry{present: ok}
	if ok {
		e.val = append([]byte(nil), v...)
	}
	s.insert(key, e)
	return e.val, ok, nil
}

// insert adds a new entry for key.
func (s *opStore) insert(key []byte, e *cacheEntry) {
	if s.cache == nil {
		s.cache = map[string]*cacheEntry{}
	}
	s.cache[string(key)] = e
	s.ts.cached += int64(2*len(key) + len(e.val) + cacheEntryOverhead)
}

// set records a write of key in the cache: val, or absent when del.
func (s *opStore) set(key, val []byte, del bool) error {
	e := s.cache[string(key)]
	if e == nil {
		if err := s.ts.bound(); err != nil {
			return err
		}
		e = &cacheEntry{}
		s.insert(key, e)
	}
	if !e.dirty {
		e.dirty = true
		s.dirty = append(s.dirty, string(key))
	}
	s.ts.cached += int64(len(val) - len(e.val))
	// A value returned by Get is valid until the next call on the store,
	// so the entry's buffer can be reused.
	e.val = append(e.val[:0], val...)
	e.present = !del
	return nil
}

func (s *opStore) Put(key, val []byte) error { return s.set(key, val, false) }

func (s *opStore) Delete(key []byte) error { return s.set(key, nil, true) }

// spill writes the store's dirty entries to the task's batch and produces
// their changelog records.
func (s *opStore) spill() error {
	for _, k := range s.dirty {
		e := s.cache[k]
		e.dirty = false
		fk := append(append(s.key[:0], s.prefix...), k...)
		s.key = fk
		var err error
		if e.present {
			err = s.ts.batch.Set(fk, e.val)
		} else {
			err = s.ts.batch.Delete(fk)
		}
		if err != nil {
			return err
		}
		if s.ts.noChangelog {
			continue
		}
		r := &kgo.Record{Topic: s.topic, Partition: s.ts.partition, Key: []byte(k)}
		if e.present {
			// The entry's buffer is reused by later writes; the producer
			// holds the record until it is acknowledged.
			r.Value = append([]byte{}, e.val...)
		}
		s.ts.produce(r)
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	return nil
}

func (s *opStore) Scan(lower, upper []byte, fn func(key, val []byte) bool) error {
	if err := s.spill(); err != nil {
		return err
	}
	lo := append(append([]byte(nil), s.prefix...), lower...)
	var hi []byte
	if upper == nil {
		hi = storage.PrefixEnd(s.prefix)
	} else {
		hi = append(append([]byte(nil), s.prefix...), upper...)
	}
	it := s.it
	switch {
	case s.scanning:
		// A Scan from a callback of a Scan: the reused iterator is busy.
		nested, err := s.ts.batch.Scan(lo, hi)
		if err != nil {
			return err
		}
		defer nested.Close()
		it = nested
	case it == nil:
		var err error
		if it, err = s.ts.batch.Scan(lo, hi); err != nil {
			return err
		}
		s.it = it
	default:
		it.Rescan(lo, hi)
	}
	if it == s.it {
		s.scanning = true
		defer func() { s.scanning = false }()
	}
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(it.Key()[len(s.prefix):], it.Value()) {
			break
		}
	}
	return it.Error()
}

// closeIter closes the store's reused iterator (before its batch commits
// or closes).
func (s *opStore) closeIter() {
	if s.it != nil {
		s.it.Close()
		s.it = nil
	}
}

// restoreFromChangelog rebuilds the store from its changelog partition: the
// task has no usable local checkpoint (a new data directory, or a task that
// moved here), so the changelog is the state's source of truth.
//
// It replaces the store's rows with those of the task's changelog
// partition, read (committed records only) up to its last stable offset.
func (s *opStore) restoreFromChangelog(ctx context.Context) error {
	topic := s.topic
	ends, err := s.ts.e.kafka.StableOffsets(ctx, topic)
	if err != nil {
		return err
	}
	// Local rows the topic does not have (written after the last
	// committed transaction, or before another instance advanced the
	// task) must not survive the restore.
	if err := s.ts.e.state.DeletePrefix(s.prefix, false); err != nil {
		return err
	}
	end := ends[topic][s.ts.partition]
	if end == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.ts.e.seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {s.ts.partition: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers count as positions, so the read reaches
		// end exactly; they are skipped below.
		kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	b := s.ts.e.state.NewWriteBatch()
	defer b.Close()
	// Compaction leaves gaps, so the last record may sit below end: stop
	// at end or when a poll finds nothing more.
	n := 0
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
			if r.Offset >= end {
				return
			}
			pos = r.Offset + 1
			if r.Attrs.IsControl() {
				return
			}
			n++
			k := append(append([]byte(nil), s.prefix...), r.Key...)
			if r.Value == nil {
				b.Delete(k)
			} else {
				b.Set(k, r.Value)
			}
		})
	}
	s.ts.e.log.Info("restored operator state", "topic", topic, "partition", s.ts.partition, "records", n)
	return b.Commit(false)
}
