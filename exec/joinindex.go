package exec

import (
	"container/heap"
	"slices"
)

// joinWindowIndex is a stream-stream join's in-memory index of the rows in
// its window state (0x01 s K t n): per side, the times and sequence numbers
// of each join key's rows, and the rows in time order for expiry. A probe
// finds the other side's candidate rows of its key and window without
// touching the store (most probes find none, and then cost a map lookup);
// only the values of the rows found are read. Before it, every row
// scanned the store: a Pebble seek through the memtables and sstable
// levels, after spilling the write-back cache.
//
// The index holds no values and is rebuilt from the store when the
// operator opens; it changes only with the store, in the task's goroutine.
type joinWindowIndex struct {
	keys [2]map[string]*joinKeyRows
	age  [2]joinAgeHeap // every row, oldest first
}

// joinKeyRows are the rows of one join key, ascending (t, n). The expiry
// heap's entries point here, so a row costs its joinRef twice and one
// pointer, not a copy of its key.
type joinKeyRows struct {
	key  string
	refs []joinRef
}

// joinRef names a row of a join key: its time and sequence number.
type joinRef struct{ t, n int64 }

func (r joinRef) less(o joinRef) bool { return r.t < o.t || r.t == o.t && r.n < o.n }

// add records a row of side under key.
func (x *joinWindowIndex) add(side int, key []byte, r joinRef) {
	if x.keys[side] == nil {
		x.keys[side] = map[string]*joinKeyRows{}
	}
	rows := x.keys[side][string(key)]
	if rows == nil {
		rows = &joinKeyRows{key: string(key)}
		x.keys[side][rows.key] = rows
	}
	i := len(rows.refs)
	for i > 0 && r.less(rows.refs[i-1]) {
		i--
	}
	rows.refs = slices.Insert(rows.refs, i, r)
	heap.Push(&x.age[side], joinAged{joinRef: r, rows: rows})
}

// find returns the rows of side under key with time in [lo, hi], in
// (t, n) order. The slice belongs to the index: it is valid until the
// index changes.
func (x *joinWindowIndex) find(side int, key []byte, lo, hi int64) []joinRef {
	var rs []joinRef
	if rows := x.keys[side][string(key)]; rows != nil {
		rs = rows.refs
	}
	i, _ := slices.BinarySearchFunc(rs, lo, func(r joinRef, t int64) int {
		if r.t < t {
			return -1
		}
		if r.t > t {
			return 1
		}
		return 0
	})
	// BinarySearchFunc finds the first row at lo or above when several
	// rows share lo: it returns the smallest such index.
	j := i
	for j < len(rs) && rs[j].t <= hi {
		j++
	}
	return rs[i:j]
}

// expire removes the rows of side with time at or below cut, oldest
// first, calling fn for each before it is removed.
func (x *joinWindowIndex) expire(side int, cut int64, fn func(key string, r joinRef) error) error {
	h := &x.age[side]
	for h.Len() > 0 && (*h)[0].t <= cut {
		old := (*h)[0]
		if err := fn(old.rows.key, old.joinRef); err != nil {
			return err
		}
		heap.Pop(h)
		rows := old.rows
		if i := slices.Index(rows.refs, old.joinRef); i >= 0 {
			rows.refs = slices.Delete(rows.refs, i, i+1)
		}
		if len(rows.refs) == 0 {
			// Every heap entry of these rows has been popped.
			delete(x.keys[side], rows.key)
		}
	}
	return nil
}

// joinAged is a row in the expiry heap.
type joinAged struct {
	joinRef
	rows *joinKeyRows
}

// joinAgeHeap is a min-heap of rows by (t, n) (container/heap).
type joinAgeHeap []joinAged

func (h joinAgeHeap) Len() int           { return len(h) }
func (h joinAgeHeap) Less(i, j int) bool { return h[i].less(h[j].joinRef) }
func (h joinAgeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *joinAgeHeap) Push(v any)        { *h = append(*h, v.(joinAged)) }
func (h *joinAgeHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
