package nexmark

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestKindsAndCounts(t *testing.T) {
	var counts [3]int64
	const n = 5000
	for i := int64(0); i < n; i++ {
		counts[KindOf(i)]++
		for k := KindPerson; k <= KindBid; k++ {
			if got := CountKind(i+1, k); got != counts[k] {
				t.Fatalf("CountKind(%d, %v) = %d, want %d", i+1, k, got, counts[k])
			}
		}
	}
	if counts != [3]int64{100, 300, 4600} {
		t.Fatalf("proportions of %d events: %v, want 1:3:46", n, counts)
	}
}

func TestDeterministicAndIndependent(t *testing.T) {
	a := NewGenerator(Config{Seed: 7})
	b := NewGenerator(Config{Seed: 7})
	c := NewGenerator(Config{Seed: 8})
	differ := false
	for _, n := range []int64{4, 0, 1, 999, 5, 123456} {
		ea, eb, ec := a.Event(n), b.Event(n), c.Event(n)
		ja, jb := ea.AppendJSON(nil), eb.AppendJSON(nil)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("event %d differs between equal seeds:\n%s\n%s", n, ja, jb)
		}
		differ = differ || !bytes.Equal(ja, ec.AppendJSON(nil))
	}
	if !differ {
		t.Fatal("seeds 7 and 8 generated the same events")
	}
}

func TestEventsAreValidAndConsistent(t *testing.T) {
	g := NewGenerator(Config{Seed: 1})
	const n = 50_000
	var size [3]int
	var num [3]int
	lastTime := int64(0)
	auctionTimes := map[int64]int64{}
	for i := int64(0); i < n; i++ {
		ev := g.Event(i)
		js := ev.AppendJSON(nil)
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatalf("event %d: invalid JSON %s: %v", i, js, err)
		}
		size[ev.Kind] += len(js)
		num[ev.Kind]++
		if ts := ev.DateTime(); ts < lastTime {
			t.Fatalf("event %d: time went back", i)
		} else {
			lastTime = ts
		}
		newestPerson := FirstPersonID + CountKind(i+1, KindPerson) - 1
		switch ev.Kind {
		case KindPerson:
			if ev.Person.ID != newestPerson {
				t.Fatalf("person %d has id %d, want %d", i, ev.Person.ID, newestPerson)
			}
		case KindAuction:
			a := ev.Auction
			if a.Seller < FirstPersonID || a.Seller > newestPerson || a.Expires <= a.DateTime ||
				a.Category < FirstCategory || a.Category >= FirstCategory+NumCategories {
				t.Fatalf("auction %d inconsistent: %+v", i, a)
			}
			auctionTimes[a.ID] = a.DateTime
		case KindBid:
			b := ev.Bid
			at, ok := auctionTimes[b.Auction]
			if !ok || at > b.DateTime {
				t.Fatalf("bid %d on an auction not yet opened: %+v", i, b)
			}
			newestAuction := FirstAuctionID + CountKind(i+1, KindAuction) - 1
			if newestAuction-b.Auction >= 100 || b.Bidder < newestPerson-1000 || b.Bidder > newestPerson || b.Price < 100 {
				t.Fatalf("bid %d outside the in-flight auctions or active people: %+v", i, b)
			}
		}
	}
	// The extra field pads to the target average sizes where events are
	// smaller than the target (bids are larger than 100 bytes already).
	for k, want := range map[Kind]int{KindPerson: 200, KindAuction: 500} {
		avg := size[k] / num[k]
		if avg < want*9/10 || avg > want*11/10 {
			t.Errorf("average %v size %d, want about %d", k, avg, want)
		}
	}
	if last, want := lastTime, g.TimeOf(n-1); last != want {
		t.Errorf("last event time %d, want %d", last, want)
	}
	if d := g.TimeOf(10_000) - g.TimeOf(0); d != 1000 {
		t.Errorf("10,000 events at the default rate span %d ms, want 1000", d)
	}
}

func TestQueriesAreEmbedded(t *testing.T) {
	for _, name := range QueryNames() {
		q, err := LookupQuery(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains([]byte(q.SQL), []byte("KAFKA_TOPIC='"+q.OutputTopic+"'")) {
			t.Errorf("%s does not write %s", name, q.OutputTopic)
		}
	}
	if _, err := LookupQuery("q6"); err == nil {
		t.Error("q6 should explain that the dialect cannot express it")
	}
}

func BenchmarkGenerate(b *testing.B) {
	g := NewGenerator(Config{})
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := g.Event(int64(i))
		buf = ev.AppendJSON(buf[:0])
		b.SetBytes(int64(len(buf)))
	}
}
