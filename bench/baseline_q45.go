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

	"github.com/sluicedb/sluice/exec"
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
	// auctions' updates, so events are held in a heap and processed in
	// event-time order (ties by input, partition, offset): an event is
	// released once every input partition has delivered a later one,
	// and whatever is held when the input ends is released then.
	var held q4Heap
	latest := map[[2]int32]int64{} // (input, partition) -> latest time
	release := func(out *baselineOut, below int64) {
		for len(held) > 0 && held[0].t < below {
			e := heap.Pop(&held).(*q4Event)
			handle(out, e)
		}
	}
	return func(input int, r *kgo.Record, out *baselineOut) error {
		if r == nil {
			release(out, math.MaxInt64)
			return nil
		}
		e := &q4Event{input: input, part: r.Partition, off: r.Offset}
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
		heap.Push(&held, e)
		latest[[2]int32{int32(input), r.Partition}] = e.t
		if len(latest) < out.partitions {
			return nil
		}
		low := int64(math.MaxInt64)
		for _, t := range latest {
			low = min(low, t)
		}
		release(out, low)
		return nil
	}
}

// q4Event is an input record of q4, decoded, waiting for its turn.
type q4Event struct {
	t     int64
	input int
	part  int32
	off   int64
	a     auctionQ4 // input 0
	b     bidQ4     // input 1
}

// q4Heap orders held events by time, input, partition and offset.
type q4Heap []*q4Event

func (h q4Heap) Len() int { return len(h) }
func (h q4Heap) Less(i, j int) bool {
	x, y := h[i], h[j]
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
func (h q4Heap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *q4Heap) Push(x any)   { *h = append(*h, x.(*q4Event)) }
func (h *q4Heap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
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

// q5's hopping window (WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2
// SECONDS)), with the grace the engine gives a window that names none.
const (
	q5SizeMillis    = 10_000
	q5AdvanceMillis = 2_000
)

var q5GraceMillis = exec.DefaultGrace(q5SizeMillis)

// newQ5 computes bench/nexmark/sql/q5.sql's chain over the bids: the
// count of bids per auction in each hopping window, emitted once when the
// window closes (EMIT FINAL: stream time passed its end plus the grace),
// in auction order; the running maximum count per window start
// (nexmark_q5_max), updated by each count before the join sees it; and
// the join, which emits a count that reaches the maximum as it stands.
// This is the deterministic answer: the engine's join may see the maximum
// table behind or ahead of the counts (see BENCHMARKS.md). With the
// default grace of 24 hours, no window closes in less than a day of event
// time.
func newQ5() baselineProc {
	counts := map[int64]map[int64]int64{} // window start -> auction -> bids
	streamTime := int64(math.MinInt64)
	lastClose := int64(math.MinInt64)
	type count struct{ auction, num int64 }
	var closing []count
	closeWindows := func(out *baselineOut, closeTime int64) {
		var starts []int64
		for s := range counts {
			if s+q5SizeMillis <= closeTime {
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
	return func(_ int, r *kgo.Record, out *baselineOut) error {
		var b bidQ4
		if err := json.UnmarshalNoEscape(r.Value, &b); err != nil {
			return err
		}
		streamTime = max(streamTime, b.DateTime)
		closeTime := streamTime - q5GraceMillis
		first := max(0, b.DateTime-q5SizeMillis+q5AdvanceMillis) / q5AdvanceMillis * q5AdvanceMillis
		for s := first; s <= b.DateTime; s += q5AdvanceMillis {
			if s+q5SizeMillis <= closeTime {
				continue // late: the window has closed
			}
			w := counts[s]
			if w == nil {
				w = map[int64]int64{}
				counts[s] = w
			}
			w[b.Auction]++
		}
		if closeTime > lastClose {
			lastClose = closeTime
			closeWindows(out, closeTime)
		}
		return nil
	}
}
