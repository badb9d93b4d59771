package exectest

import (
	"bytes"
	"sort"

	"github.com/sluicedb/sluice/exec"
)

// MemState is an in-memory exec.StateStore per operator name: a sorted map
// for tests. Opening a name twice returns the same contents, so a test can
// close a task and open a new one over the same state, as the engine does
// after a checkpoint.
type MemState struct {
	stores map[string]*MemStore
}

// NewMemState returns an empty state.
func NewMemState() *MemState { return &MemState{stores: map[string]*MemStore{}} }

// Open is an exec.StateOpener.
func (m *MemState) Open(name string) (exec.StateStore, error) {
	s, ok := m.stores[name]
	if !ok {
		s = &MemStore{}
		m.stores[name] = s
	}
	return s, nil
}

// Len is the number of keys in all stores (for tests that check expiry).
func (m *MemState) Len() int {
	n := 0
	for _, s := range m.stores {
		n += len(s.keys)
	}
	return n
}

// MemStore is one operator's store: keys kept sorted, values copied.
type MemStore struct {
	keys [][]byte
	vals [][]byte
}

var _ exec.StateStore = (*MemStore)(nil)

func (s *MemStore) find(key []byte) (int, bool) {
	i := sort.Search(len(s.keys), func(i int) bool { return bytes.Compare(s.keys[i], key) >= 0 })
	return i, i < len(s.keys) && bytes.Equal(s.keys[i], key)
}

// Get implements exec.StateStore.
func (s *MemStore) Get(key []byte) ([]byte, bool, error) {
	i, ok := s.find(key)
	if !ok {
		return nil, false, nil
	}
	return s.vals[i], true, nil
}

// Put implements exec.StateStore.
func (s *MemStore) Put(key, val []byte) error {
	v := append([]byte{}, val...)
	i, ok := s.find(key)
	if ok {
		s.vals[i] = v
		return nil
	}
	s.keys = append(s.keys, nil)
	s.vals = append(s.vals, nil)
	copy(s.keys[i+1:], s.keys[i:])
	copy(s.vals[i+1:], s.vals[i:])
	s.keys[i], s.vals[i] = append([]byte{}, key...), v
	return nil
}

// Delete implements exec.StateStore.
func (s *MemStore) Delete(key []byte) error {
	if i, ok := s.find(key); ok {
		s.keys = append(s.keys[:i], s.keys[i+1:]...)
		s.vals = append(s.vals[:i], s.vals[i+1:]...)
	}
	return nil
}

// Scan implements exec.StateStore. fn may write to the store: the scan
// continues after the last key it returned.
func (s *MemStore) Scan(lower, upper []byte, fn func(key, val []byte) bool) error {
	i, _ := s.find(lower)
	for i < len(s.keys) {
		k := s.keys[i]
		if upper != nil && bytes.Compare(k, upper) >= 0 {
			return nil
		}
		if !fn(k, s.vals[i]) {
			return nil
		}
		// Re-find: fn may have inserted or deleted keys.
		j, found := s.find(k)
		if found {
			j++
		}
		i = j
	}
	return nil
}
