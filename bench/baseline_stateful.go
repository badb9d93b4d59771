package bench

import (
	"strconv"
	"time"

	json "github.com/goccy/go-json"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The stateful baselines (q3, q7, q8): one Go program sees every partition
// of its inputs, so a join or an aggregation is a map, with no
// repartitioning, no changelog and no state store. They compute the
// standard Nexmark answer in the rewrites of bench/nexmark/sql, which is
// what the engine computes when its inputs arrive in event-time order.

// windowMillis is the 10-second tumbling window of q7 and q8.
const windowMillis = 10_000

// expireAfterMillis is how far behind its watermark a baseline keeps
// window state: disorder must still find its partner. The first fetches
// may bring one topic's partition well ahead of a partition not fetched
// yet (which the watermark cannot know of); a minute was too little.
const expireAfterMillis = 600_000

// watermark tracks the largest event time seen per input partition; its
// value is the smallest of them. The consumer reads the partitions of
// several topics at different speeds (the person topic is a quarter of
// the auction topic), so expiring by the largest time seen anywhere would
// drop state whose partners are still to come.
type watermark struct {
	seen    map[[2]int32]int64 // (input, partition) -> largest time
	expired int64              // largest time at the last expiry
}

// observe records time t of a record of input i, partition p, and reports
// whether state older than the returned cut may now be expired.
func (w *watermark) observe(i int, p int32, t int64) (cut int64, expire bool) {
	if w.seen == nil {
		w.seen = map[[2]int32]int64{}
	}
	k := [2]int32{int32(i), p}
	if t <= w.seen[k] {
		return 0, false
	}
	w.seen[k] = t
	if t-w.expired <= expireAfterMillis {
		return 0, false
	}
	low := t
	for _, v := range w.seen {
		low = min(low, v)
	}
	if low-w.expired <= expireAfterMillis {
		return 0, false
	}
	w.expired = low
	return low - expireAfterMillis, true
}

// personQ holds the person fields q3 and q8 read.
type personQ struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	City     string `json:"city"`
	State    string `json:"state"`
	DateTime int64  `json:"dateTime"`
}

// auctionQ holds the auction fields q3 and q8 read.
type auctionQ struct {
	ID       int64 `json:"id"`
	Seller   int64 `json:"seller"`
	Category int64 `json:"category"`
	DateTime int64 `json:"dateTime"`
}

// newQ3 joins auctions of category 10 with their sellers from Oregon,
// Idaho and California. An auction whose seller has not arrived yet (the
// person topic's fetch may lag the auction topic's) waits for it.
func newQ3() baselineProc {
	type seller struct {
		name, city, state string
		local             bool // in OR, ID or CA
	}
	persons := map[int64]*seller{}
	waiting := map[int64][]auctionQ{}
	emit := func(out *baselineOut, a auctionQ, p *seller) {
		if !p.local {
			return
		}
		key := out.appendKey(a.Seller)
		slab := out.begin()
		off := len(slab)
		slab = append(slab, `{"NAME":`...)
		slab = strconv.AppendQuote(slab, p.name)
		slab = append(slab, `,"CITY":`...)
		slab = strconv.AppendQuote(slab, p.city)
		slab = append(slab, `,"STATE":`...)
		slab = strconv.AppendQuote(slab, p.state)
		slab = append(slab, `,"ID":`...)
		slab = strconv.AppendInt(slab, a.ID, 10)
		slab = append(slab, '}')
		out.emit(key, out.end(slab, off), time.UnixMilli(a.DateTime))
	}
	return func(input int, r *kgo.Record, out *baselineOut) error {
		if input == 0 {
			var p personQ
			if err := json.UnmarshalNoEscape(r.Value, &p); err != nil {
				return err
			}
			s := &seller{name: p.Name, city: p.City, state: p.State,
				local: p.State == "OR" || p.State == "ID" || p.State == "CA"}
			persons[p.ID] = s
			if w := waiting[p.ID]; w != nil {
				delete(waiting, p.ID)
				for _, a := range w {
					emit(out, a, s)
				}
			}
			return nil
		}
		var a auctionQ
		if err := json.UnmarshalNoEscape(r.Value, &a); err != nil {
			return err
		}
		if a.Category != 10 {
			return nil
		}
		if p := persons[a.Seller]; p != nil {
			emit(out, a, p)
		} else {
			waiting[a.Seller] = append(waiting[a.Seller], a)
		}
		return nil
	}
}

// bidQ7 holds the bid fields q7 reads.
type bidQ7 struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

// newQ7 emits every bid that reaches its window's running maximum price.
func newQ7() baselineProc {
	maxPrice := map[int64]int64{}
	var wm watermark
	return func(_ int, r *kgo.Record, out *baselineOut) error {
		var b bidQ7
		if err := json.UnmarshalNoEscape(r.Value, &b); err != nil {
			return err
		}
		if cut, ok := wm.observe(0, r.Partition, b.DateTime); ok {
			for w := range maxPrice {
				if w < cut {
					delete(maxPrice, w)
				}
			}
		}
		w := b.DateTime / windowMillis * windowMillis
		if m, ok := maxPrice[w]; ok && b.Price < m {
			return nil
		}
		maxPrice[w] = b.Price
		key := out.appendKey(w)
		slab := out.begin()
		off := len(slab)
		slab = append(slab, `{"AUCTION":`...)
		slab = strconv.AppendInt(slab, b.Auction, 10)
		slab = append(slab, `,"PRICE":`...)
		slab = strconv.AppendInt(slab, b.Price, 10)
		slab = append(slab, `,"BIDDER":`...)
		slab = strconv.AppendInt(slab, b.Bidder, 10)
		slab = append(slab, `,"DATETIME":`...)
		slab = strconv.AppendInt(slab, b.DateTime, 10)
		slab = append(slab, `,"EXTRA":`...)
		slab = strconv.AppendQuote(slab, b.Extra)
		slab = append(slab, '}')
		out.emit(key, out.end(slab, off), time.UnixMilli(b.DateTime))
		return nil
	}
}

// newQ8 joins persons with the auctions they opened in the same 10-second
// window, in either arrival order.
func newQ8() baselineProc {
	type person struct {
		name string
		t    int64
	}
	persons := map[int64]person{}
	auctions := map[int64][]int64{} // seller -> auction times
	var wm watermark
	emit := func(out *baselineOut, id int64, p person, at int64) {
		key := out.appendKey(id)
		slab := out.begin()
		off := len(slab)
		slab = append(slab, `{"NAME":`...)
		slab = strconv.AppendQuote(slab, p.name)
		slab = append(slab, `,"STARTTIME":`...)
		slab = strconv.AppendInt(slab, p.t/windowMillis*windowMillis, 10)
		slab = append(slab, '}')
		out.emit(key, out.end(slab, off), time.UnixMilli(max(p.t, at)))
	}
	expire := func(cut int64) {
		for id, p := range persons {
			if p.t < cut {
				delete(persons, id)
			}
		}
		for s, ts := range auctions {
			if ts[len(ts)-1] < cut {
				delete(auctions, s)
			}
		}
	}
	return func(input int, r *kgo.Record, out *baselineOut) error {
		var t int64
		if input == 0 {
			var p personQ
			if err := json.UnmarshalNoEscape(r.Value, &p); err != nil {
				return err
			}
			t = p.DateTime
			pp := person{name: p.Name, t: p.DateTime}
			persons[p.ID] = pp
			for _, at := range auctions[p.ID] {
				if at/windowMillis == p.DateTime/windowMillis {
					emit(out, p.ID, pp, at)
				}
			}
		} else {
			var a auctionQ
			if err := json.UnmarshalNoEscape(r.Value, &a); err != nil {
				return err
			}
			t = a.DateTime
			auctions[a.Seller] = append(auctions[a.Seller], a.DateTime)
			if p, ok := persons[a.Seller]; ok && p.t/windowMillis == a.DateTime/windowMillis {
				emit(out, a.Seller, p, a.DateTime)
			}
		}
		if cut, ok := wm.observe(input, r.Partition, t); ok {
			expire(cut)
		}
		return nil
	}
}
