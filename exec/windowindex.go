package exec

import (
	"slices"
	"strings"
)

// windowIndex is an aggregation's in-memory index of the time windows that
// have state in its store, by window start. It replaces a stored index that
// was scanned for every row to find the windows to close and expire: such
// a scan walks over the tombstones of every window expired since the last
// compaction, so its cost grew with the input. The index is rebuilt from
// the store when the operator opens (the store is the source of truth; the
// index holds no value of its own), and it changes only together with the
// store, in the same task goroutine.
//
// Windows of one start are few and starts are mostly added in ascending
// order (late rows within the grace period add to an older start), so the
// starts are a sorted slice and each start's group keys a slice, sorted
// when the windows are visited.
type windowIndex struct {
	starts []int64            // ascending, distinct
	keys   map[int64][]string // start -> encoded group keys, unique
}

// add records the window of group key gkey starting at start. The caller
// adds each window once, when it creates the window's state.
func (x *windowIndex) add(start int64, gkey []byte) {
	if x.keys == nil {
		x.keys = map[int64][]string{}
	}
	ks, ok := x.keys[start]
	if !ok {
		i, _ := slices.BinarySearch(x.starts, start)
		x.starts = slices.Insert(x.starts, i, start)
	}
	x.keys[start] = append(ks, string(gkey))
}

// visit calls fn for every window with start in [from, to], by start and
// then by group key (bytewise), the order of the stored keys. fn must not
// change the index.
func (x *windowIndex) visit(from, to int64, fn func(start int64, gkey string) error) error {
	i, _ := slices.BinarySearch(x.starts, from)
	for ; i < len(x.starts) && x.starts[i] <= to; i++ {
		start := x.starts[i]
		ks := x.keys[start]
		slices.SortFunc(ks, strings.Compare)
		for _, k := range ks {
			if err := fn(start, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeBefore removes the windows with start < cut and calls fn for each
// (in the order of visit) before it is removed.
func (x *windowIndex) removeBefore(cut int64, fn func(start int64, gkey string) error) error {
	n := 0
	for n < len(x.starts) && x.starts[n] < cut {
		n++
	}
	if n == 0 {
		return nil
	}
	if err := x.visit(x.starts[0], x.starts[n-1], fn); err != nil {
		return err
	}
	for _, s := range x.starts[:n] {
		delete(x.keys, s)
	}
	x.starts = slices.Delete(x.starts, 0, n)
	return nil
}
