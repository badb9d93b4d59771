package bench

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"strconv"
	"time"

	json "github.com/goccy/go-json"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec/expr"
)

// auctionQ4 holds the auction fields q4 reads.
type auctionQ4 struct {
	ID       int64 `json:"id"`
	Category int64 `json:"category"`
	DateTime int64 `json:"dateTime"`
	Expires  int64 `json:"expires"`
}

// bidQ4 holds the bid fields q4 and q5 read.
type bidQ4 struct {
	Auction  int64 `json:"auction"`
	Price    int64 `json:"price"`
	DateTime int64 `json:"dateTime"`
}

// q4WithinMillis is q4's join band: a bid joins an auction of the same id
// from 0 to 10 seconds after it (WITHIN (0 SECONDS, 10 SECONDS)).
const q4WithinMillis = 10_000

// newQ4 computes bench/nexmark/sql/q4.sql (input 0: auctions, input 1:
// bids): the stream-stream join of bids with their auction within the
// band and the auction's lifetime, the running maximum price per auction
// (nexmark_q4_max, one update per joined bid), and the running average of
// those maxima per category, emitted for every update of the maximum
// table as the engine's table aggregation does (the old maximum retracted,
// the new one added, one output). The inputs are processed in event-time
// order, which makes the averages deterministic; both sides of the join
// expire behind the watermark.
func newQ4() baselineProc {
	type category struct{ sum, count int64 }
	type auction struct {
		category, t, expires int64
		max                  int64
		joined               bool // max holds a value
	}
	auctions := map[int64]*auction{}
	waiting := map[int64][]bidQ4{} // bids of auctions not seen yet
	cats := map[int64]*category{}
	var wm watermark
	join := func(out *baselineOut, a *auction, b bidQ4) {
		if b.DateTime < a.t || b.DateTime > a.t+q4WithinMillis || b.DateTime > a.expires {
			return
		}
		c := cats[a.category]
		if c == nil {
			c = &category{}
			cats[a.category] = c
		}
		switch {
		case !a.joined:
			a.max, a.joined = b.Price, true
			c.sum += b.Price
			c.count++
		case b.Price > a.max:
			c.sum += b.Price - a.max
			a.max = b.Price
		}
		key := out.appendKey(a.category)
		slab := out.begin()
		off := len(slab)
		slab = append(slab, `{"AVG_PRICE":`...)
		slab = appendJavaDouble(slab, float64(c.sum)/float64(c.count))
		slab = append(slab, '}')
		out.emit(key, out.end(slab, off), time.UnixMilli(max(a.t, b.DateTime)))
	}
	expire := func(cut int64) {
		for id, a := range auctions {
			if a.t < cut {
				delete(auctions, id)
			}
		}
		for id, bs := range waiting {
			if bs[len(bs)-1].DateTime < cut {
				delete(waiting, id)
			}
		}
	}
	// handle joins one event, in event-time order.
	handle := func(out *baselineOut, e *q4Event) {
		if e.input == 0 {
			a := &auction{category: e.a.Category, t: e.a.DateTime, expires: e.a.Expires}
			auctions[e.a.ID] = a
			if bs := waiting[e.a.ID]; bs != nil {
				delete(waiting, e.a.ID)
				for _, b := range bs {
					join(out, a, b)
				}
			}
		} else if a := auctions[e.b.Auction]; a != nil {
			join(out, a, e.b)
		} else {
			waiting[e.b.Auction] = append(waiting[e.b.Auction], e.b)
		}
		if cut, ok := wm.observe(e.input, e.part, e.t); ok {
			expire(cut)
		}
	}
	// The averages a category goes through depend on the order of its
	// auctions' updates: the events are processed in event-time order.
	var order timeOrder[q4Event]
	return func(input int, r *kgo.Record, out *baselineOut) error {
		if r == nil {
			order.flush(func(e *q4Event) { handle(out, e) })
			return nil
		}
		var e q4Event
		if input == 0 {
			if err := json.UnmarshalNoEscape(r.Value, &e.a); err != nil {
				return err
			}
			e.t = e.a.DateTime
		} else {
			if err := json.UnmarshalNoEscape(r.Value, &e.b); err != nil {
				return err
			}
			e.t = e.b.DateTime
		}
		e.input, e.part = input, r.Partition
		order.add(input, r, e.t, e, out.partitions, func(e *q4Event) { handle(out, e) })
		return nil
	}
}

// q4Event is an input record of q4, decoded.
type q4Event struct {
	t     int64
	input int
	part  int32
	a     auctionQ4 // input 0
	b     bidQ4     // input 1
}

// timeOrder holds decoded input records and hands them on in event-time
// order (ties by input, partition, offset): a record is released once
// every input partition has delivered a later one (each partition is in
// event-time order), and whatever is held when the input ends is released
// by flush. Without it, a baseline would see the partitions interleaved
// as the fetches happen to bring them, and its output would vary.
type timeOrder[T any] struct {
	held   orderHeap[T]
	latest map[[2]int32]int64 // (input, partition) -> latest time
}

type orderItem[T any] struct {
	t     int64
	input int
	part  int32
	off   int64
	v     T
}

// add holds v, the record r of input at time t, and passes fn every held
// value that is now complete; partitions is the number of input
// partitions.
func (o *timeOrder[T]) add(input int, r *kgo.Record, t int64, v T, partitions int, fn func(*T)) {
	if o.latest == nil {
		o.latest = map[[2]int32]int64{}
	}
	heap.Push(&o.held, orderItem[T]{t: t, input: input, part: r.Partition, off: r.Offset, v: v})
	o.latest[[2]int32{int32(input), r.Partition}] = t
	if len(o.latest) < partitions {
		return
	}
	low := int64(math.MaxInt64)
	for _, t := range o.latest {
		low = min(low, t)
	}
	o.release(low, fn)
}

// flush passes fn every held value.
func (o *timeOrder[T]) flush(fn func(*T)) { o.release(math.MaxInt64, fn) }

func (o *timeOrder[T]) release(below int64, fn func(*T)) {
	for len(o.held) > 0 && o.held[0].t < below {
		it := heap.Pop(&o.held).(orderItem[T])
		fn(&it.v)
	}
}

// orderHeap orders held records by time, input, partition and offset.
type orderHeap[T any] []orderItem[T]

func (h orderHeap[T]) Len() int { return len(h) }
func (h orderHeap[T]) Less(i, j int) bool {
	x, y := &h[i], &h[j]
	if x.t != y.t {
		return x.t < y.t
	}
	if x.input != y.input {
		return x.input < y.input
	}
	if x.part != y.part {
		return x.part < y.part
	}
	return x.off < y.off
}
func (h orderHeap[T]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *orderHeap[T]) Push(x any)   { *h = append(*h, x.(orderItem[T])) }
func (h *orderHeap[T]) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// appendJavaDouble appends f as the engine's JSON serializer writes a
// DOUBLE (Java's Double.toString): plain digits with ".0" for whole
// numbers in the common range, expr.FormatDouble elsewhere.
func appendJavaDouble(dst []byte, f float64) []byte {
	if abs := math.Abs(f); abs < 1e-3 || abs >= 1e7 {
		return append(dst, expr.FormatDouble(f)...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if slices.Contains(dst[start:], '.') {
		return dst
	}
	return append(dst, '.', '0')
}

// q5's hopping window: WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2
// SECONDS), no grace, which under EMIT FINAL closes a window at its end.
const (
	q5SizeMillis    = 10_000
	q5AdvanceMillis = 2_000
)

// newQ5 computes bench/nexmark/sql/q5.sql's chain over the bids, taken in
// event-time order: the count of bids per auction in each hopping window,
// emitted once when stream time reaches the window's end (EMIT FINAL),
// in auction order; the running maximum count per window start
// (nexmark_q5_max), updated by each count before the join sees it; and
// the join, which emits a count that reaches the maximum as it stands.
// This is the deterministic answer: the engine's join may see the maximum
// table behind or ahead of the counts (see BENCHMARKS.md).
func newQ5() baselineProc {
	counts := map[int64]map[int64]int64{} // window start -> auction -> bids
	streamTime := int64(math.MinInt64)
	type count struct{ auction, num int64 }
	var closing []count
	var starts []int64
	closeWindows := func(out *baselineOut) {
		starts = starts[:0]
		for s := range counts {
			if s+q5SizeMillis <= streamTime {
				starts = append(starts, s)
			}
		}
		slices.Sort(starts)
		for _, s := range starts {
			closing = closing[:0]
			for a, n := range counts[s] {
				closing = append(closing, count{a, n})
			}
			delete(counts, s)
			slices.SortFunc(closing, func(x, y count) int { return cmp.Compare(x.auction, y.auction) })
			maxn := int64(math.MinInt64)
			for _, c := range closing {
				maxn = max(maxn, c.num)
				if c.num < maxn {
					continue
				}
				key := out.appendKey(s)
				slab := out.begin()
				off := len(slab)
				slab = append(slab, `{"AUCTION":`...)
				slab = strconv.AppendInt(slab, c.auction, 10)
				slab = append(slab, `,"NUM":`...)
				slab = strconv.AppendInt(slab, c.num, 10)
				slab = append(slab, '}')
				out.emit(key, out.end(slab, off), time.UnixMilli(s+q5SizeMillis-1))
			}
		}
	}
	handle := func(out *baselineOut, b *bidQ4) {
		streamTime = max(streamTime, b.DateTime)
		first := max(0, b.DateTime-q5SizeMillis+q5AdvanceMillis) / q5AdvanceMillis * q5AdvanceMillis
		for s := first; s <= b.DateTime; s += q5AdvanceMillis {
			if s+q5SizeMillis <= streamTime {
				continue // late for this window
			}
			w := counts[s]
			if w == nil {
				w = map[int64]int64{}
				counts[s] = w
			}
			w[b.Auction]++
		}
		closeWindows(out)
	}
	var order timeOrder[bidQ4]
	return func(_ int, r *kgo.Record, out *baselineOut) error {
		if r == nil {
			order.flush(func(b *bidQ4) { handle(out, b) })
			return nil
		}
		var b bidQ4
		if err := json.UnmarshalNoEscape(r.Value, &b); err != nil {
			return err
		}
		order.add(0, r, b.DateTime, b, out.partitions, func(b *bidQ4) { handle(out, b) })
		return nil
	}
}
