package storage

import (
	"errors"
	"fmt"
	"log"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"
)

// State is the engine's local state store: one Pebble DB per engine
// (DESIGN.md decision 6). It is safe for concurrent use; each task writes
// only under its own Prefix, so tasks never contend on keys.
//
// Keys are built with the Append functions and Prefix of keys.go. Values are
// opaque bytes.
type State struct {
	db     *pebble.DB
	dir    string
	closed atomic.Bool
}

// Pebble tuning. The defaults (4 MiB memtables, 8 MiB block cache) are sized
// for embedded key-value use; streaming operators write continuously, and
// small memtables turn into many tiny L0 files and write stalls.
const (
	stateMemTableSize = 32 << 20
	stateCacheSize    = 64 << 20
)

// OpenState opens (creating if needed) the Pebble DB in dir. With inMemory
// the DB lives in memory (vfs.NewMem) and dir is only used in messages; its
// content is lost on Close.
func OpenState(dir string, inMemory bool) (*State, error) {
	cache := pebble.NewCache(stateCacheSize)
	// The DB holds its own reference; ours is released right away so the
	// cache is freed when the DB closes.
	defer cache.Unref()
	opts := &pebble.Options{
		Cache:        cache,
		MemTableSize: stateMemTableSize,
		Logger:       quietPebbleLogger{},
		Levels:       make([]pebble.LevelOptions, 7),
	}
	// Bloom filters let a point read of an absent key (a new group, a
	// join key not seen yet) skip the sstables instead of reading their
	// blocks.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].FilterType = pebble.TableFilter
	}
	if inMemory {
		opts.FS = vfs.NewMem()
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open state %q: %w", dir, err)
	}
	return &State{db: db, dir: dir}, nil
}

func (s *State) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

func writeOpts(sync bool) *pebble.WriteOptions {
	if sync {
		return pebble.Sync
	}
	return pebble.NoSync
}

// Get returns a copy of the value stored under key and whether it exists.
func (s *State) Get(key []byte) ([]byte, bool, error) {
	return s.GetInto(key, nil)
}

// GetInto is Get appending the value to dst (dst[:0] reuses its buffer), so
// a hot lookup makes no heap allocation once dst is large enough.
func (s *State) GetInto(key, dst []byte) ([]byte, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return dst, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state get: %w", err)
	}
	// v is only valid until closer.Close: copy it out first.
	dst = append(dst, v...)
	if err := closer.Close(); err != nil {
		return nil, false, fmt.Errorf("state get: %w", err)
	}
	return dst, true, nil
}

// Set stores val under key. With sync the write is on disk when Set
// returns; without it, it survives a process crash only once the WAL is
// synced by a later synced write, Flush or Close. Operators write without
// sync: their durable copy is the changelog topic.
func (s *State) Set(key, val []byte, sync bool) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := s.db.Set(key, val, writeOpts(sync)); err != nil {
		return fmt.Errorf("state set: %w", err)
	}
	return nil
}

// Delete removes key. Deleting a missing key is not an error.
func (s *State) Delete(key []byte, sync bool) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := s.db.Delete(key, writeOpts(sync)); err != nil {
		return fmt.Errorf("state delete: %w", err)
	}
	return nil
}

// DeleteRange removes every key in [start, end). Dropping a query's state is
// DeleteRange(q, PrefixEnd(q)) with q = QueryPrefix(...).
func (s *State) DeleteRange(start, end []byte, sync bool) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := s.db.DeleteRange(start, end, writeOpts(sync)); err != nil {
		return fmt.Errorf("state delete range: %w", err)
	}
	return nil
}

// DeletePrefix removes every key starting with prefix.
func (s *State) DeletePrefix(prefix []byte, sync bool) error {
	end := PrefixEnd(prefix)
	if end == nil {
		return fmt.Errorf("state delete prefix %x: prefix has no upper bound", prefix)
	}
	return s.DeleteRange(prefix, end, sync)
}

// PutMeta stores an engine metadata value (for example the catalog
// snapshot) under name, synchronously: metadata is the local checkpoint of
// things that are expensive or impossible to rebuild.
func (s *State) PutMeta(name string, val []byte) error {
	if err := s.Set(metaKey(name), val, true); err != nil {
		return fmt.Errorf("put meta %q: %w", name, err)
	}
	return nil
}

// GetMeta returns the metadata value stored under name.
func (s *State) GetMeta(name string) ([]byte, bool, error) {
	v, ok, err := s.Get(metaKey(name))
	if err != nil {
		return nil, false, fmt.Errorf("get meta %q: %w", name, err)
	}
	return v, ok, nil
}

// Flush syncs the WAL and writes the memtables to disk, so a later restart
// does not need to replay the WAL. Checkpoints call it before recording
// which changelog offsets the local state reflects.
func (s *State) Flush() error {
	if err := s.check(); err != nil {
		return err
	}
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("state flush: %w", err)
	}
	return nil
}

// Close closes the DB. Unsynced writes are written out first. Close is
// idempotent; every later call on s returns ErrClosed.
func (s *State) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state %q: %w", s.dir, err)
	}
	return nil
}

// Batch is a set of writes applied atomically by Commit. It is not safe for
// concurrent use; a task keeps one and reuses it across checkpoints.
type Batch struct {
	s *State
	b *pebble.Batch
}

// NewBatch returns an empty write batch. The caller must Close it.
func (s *State) NewBatch() *Batch {
	return &Batch{s: s, b: s.db.NewBatch()}
}

// Set adds a write of val under key. The batch copies key and val.
func (b *Batch) Set(key, val []byte) error { return b.b.Set(key, val, nil) }

// Delete adds a deletion of key.
func (b *Batch) Delete(key []byte) error { return b.b.Delete(key, nil) }

// DeleteRange adds a deletion of every key in [start, end).
func (b *Batch) DeleteRange(start, end []byte) error { return b.b.DeleteRange(start, end, nil) }

// Count is the number of operations in the batch.
func (b *Batch) Count() uint32 { return b.b.Count() }

// Len is the size of the batch's encoding in bytes.
func (b *Batch) Len() int { return b.b.Len() }

// Commit applies the batch atomically and empties it for reuse.
func (b *Batch) Commit(sync bool) error {
	if err := b.s.check(); err != nil {
		return err
	}
	if err := b.b.Commit(writeOpts(sync)); err != nil {
		return fmt.Errorf("state commit batch: %w", err)
	}
	b.b.Reset()
	return nil
}

// Close releases the batch without applying what is left in it.
func (b *Batch) Close() error { return b.b.Close() }

// Iter is an iterator over a key range of a State, positioned by First,
// Last or SeekGE. It sees a consistent snapshot taken when it was created.
// Key and Value are valid only until the next positioning call. The caller
// must Close it.
type Iter struct {
	it *pebble.Iterator
}

// Iter returns an iterator over every key starting with prefix.
func (s *State) Iter(prefix []byte) (*Iter, error) {
	return s.Scan(prefix, PrefixEnd(prefix))
}

// Scan returns an iterator over the keys in [lower, upper). A nil bound is
// unbounded.
func (s *State) Scan(lower, upper []byte) (*Iter, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("state scan: %w", err)
	}
	return &Iter{it: it}, nil
}

// First moves to the smallest key in range and reports whether there is one.
func (i *Iter) First() bool { return i.it.First() }

// Last moves to the largest key in range.
func (i *Iter) Last() bool { return i.it.Last() }

// SeekGE moves to the smallest key >= key.
func (i *Iter) SeekGE(key []byte) bool { return i.it.SeekGE(key) }

// SeekLT moves to the largest key < key.
func (i *Iter) SeekLT(key []byte) bool { return i.it.SeekLT(key) }

// Next moves to the next key.
func (i *Iter) Next() bool { return i.it.Next() }

// Prev moves to the previous key.
func (i *Iter) Prev() bool { return i.it.Prev() }

// Valid reports whether the iterator is on a key.
func (i *Iter) Valid() bool { return i.it.Valid() }

// Key returns the current key; it is valid until the next move.
func (i *Iter) Key() []byte { return i.it.Key() }

// Value returns the current value; it is valid until the next move.
func (i *Iter) Value() []byte { return i.it.Value() }

// Error returns the error, if any, that stopped the iteration.
func (i *Iter) Error() error { return i.it.Error() }

// Close releases the iterator and returns any iteration error.
func (i *Iter) Close() error { return i.it.Close() }

// quietPebbleLogger drops Pebble's informational messages (WAL replay
// notes and the like, which it prints to the standard logger on every
// open) and keeps its fatal ones.
type quietPebbleLogger struct{}

func (quietPebbleLogger) Infof(string, ...any) {}

func (quietPebbleLogger) Fatalf(format string, args ...any) { log.Fatalf("pebble: "+format, args...) }
