package bench

import (
	"strconv"
	"time"

	json "github.com/goccy/go-json"
	"github.com/twmb/franz-go/pkg/kgo"
)

// bidEnrich holds the bid fields the enrichment reads.
type bidEnrich struct {
	Auction  int64 `json:"auction"`
	Bidder   int64 `json:"bidder"`
	Price    int64 `json:"price"`
	DateTime int64 `json:"dateTime"`
}

// newEnrich joins every bid to its auction (input 0: auctions, input 1:
// bids), keyed by auction, as bench/nexmark/sql/enrich.sql. A bid whose
// auction has not arrived yet (the auction topic's fetch may lag the bid
// topic's) waits for it, as in newQ3.
func newEnrich() baselineProc {
	type auction struct{ seller, category int64 }
	auctions := map[int64]auction{}
	waiting := map[int64][]bidEnrich{}
	emit := func(out *baselineOut, b bidEnrich, a auction) {
		key := out.appendKey(b.Auction)
		slab := out.begin()
		off := len(slab)
		slab = append(slab, `{"BIDDER":`...)
		slab = strconv.AppendInt(slab, b.Bidder, 10)
		slab = append(slab, `,"PRICE":`...)
		slab = strconv.AppendInt(slab, b.Price, 10)
		slab = append(slab, `,"SELLER":`...)
		slab = strconv.AppendInt(slab, a.seller, 10)
		slab = append(slab, `,"CATEGORY":`...)
		slab = strconv.AppendInt(slab, a.category, 10)
		slab = append(slab, '}')
		out.emit(key, out.end(slab, off), time.UnixMilli(b.DateTime))
	}
	return func(input int, r *kgo.Record, out *baselineOut) error {
		if input == 0 {
			var a auctionQ
			if err := json.UnmarshalNoEscape(r.Value, &a); err != nil {
				return err
			}
			au := auction{seller: a.Seller, category: a.Category}
			auctions[a.ID] = au
			if w := waiting[a.ID]; w != nil {
				delete(waiting, a.ID)
				for _, b := range w {
					emit(out, b, au)
				}
			}
			return nil
		}
		var b bidEnrich
		if err := json.UnmarshalNoEscape(r.Value, &b); err != nil {
			return err
		}
		if a, ok := auctions[b.Auction]; ok {
			emit(out, b, a)
		} else {
			waiting[b.Auction] = append(waiting[b.Auction], b)
		}
		return nil
	}
}
