package storage

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// WriteBatch is a batch of writes that its owner can read back before it is
// committed: Get and Scan see the batch's own writes over the committed
// state (a Pebble indexed batch). A task's stateful operators write into
// one per processing cycle; the cycle commits it atomically together with
// the task's checkpoint. It is not safe for concurrent use.
type WriteBatch struct {
	s *State
	b *pebble.Batch
}

// NewWriteBatch returns an empty readable batch. The caller must Close it.
func (s *State) NewWriteBatch() *WriteBatch {
	return &WriteBatch{s: s, b: s.db.NewIndexedBatch()}
}

// Get returns the value of key as the batch sees it. The returned slice is
// a copy owned by the caller's dst buffer (appended to dst[:0]).
func (w *WriteBatch) Get(key, dst []byte) ([]byte, bool, error) {
	v, closer, err := w.b.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return dst[:0], false, nil
	}
	if err != nil {
		return dst[:0], false, fmt.Errorf("state get: %w", err)
	}
	dst = append(dst[:0], v...)
	closer.Close()
	return dst, true, nil
}

// Set writes key = val. The batch copies both.
func (w *WriteBatch) Set(key, val []byte) error { return w.b.Set(key, val, nil) }

// Delete deletes key.
func (w *WriteBatch) Delete(key []byte) error { return w.b.Delete(key, nil) }

// Scan returns an iterator over [lower, upper) that sees the batch's writes
// over the committed state. A nil upper is unbounded.
func (w *WriteBatch) Scan(lower, upper []byte) (*Iter, error) {
	it, err := w.b.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("state scan: %w", err)
	}
	return &Iter{it: it}, nil
}

// Rescan moves an iterator of the batch (from Scan) to [lower, upper) and
// refreshes its view of the batch's writes. Re-seeking an open iterator is
// much cheaper than opening one per scan (which builds iterators over the
// memtables and every level). The bounds must not change until the next
// Rescan or Close.
func (it *Iter) Rescan(lower, upper []byte) {
	it.it.SetOptions(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
}

// Empty reports whether the batch holds no writes.
func (w *WriteBatch) Empty() bool { return w.b.Empty() }

// Commit applies the batch atomically and leaves it empty for reuse.
func (w *WriteBatch) Commit(sync bool) error {
	if err := w.s.check(); err != nil {
		return err
	}
	if err := w.b.Commit(writeOpts(sync)); err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	w.b.Reset()
	return nil
}

// Close releases the batch without applying what is left in it.
func (w *WriteBatch) Close() error { return w.b.Close() }
