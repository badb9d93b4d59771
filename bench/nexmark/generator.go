package nexmark

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Event proportions: out of every ProportionDenominator events, one is a
// Person, three are Auctions and the rest are Bids.
const (
	PersonProportion      = 1
	AuctionProportion     = 3
	BidProportion         = 46
	ProportionDenominator = PersonProportion + AuctionProportion + BidProportion
)

// Ids start here, as in the reference generator, so that they never collide
// with small constants in queries (q2 filters auction % 123).
const (
	FirstPersonID  = 1000
	FirstAuctionID = 1000
	FirstCategory  = 10
	NumCategories  = 5
)

// Kafka topics of the three event kinds.
const (
	TopicPerson  = "nexmark-person"
	TopicAuction = "nexmark-auction"
	TopicBid     = "nexmark-bid"
)

// Kind is the kind of an event.
type Kind uint8

// Event kinds.
const (
	KindPerson Kind = iota
	KindAuction
	KindBid
)

// String returns the kind's name as Nexmark spells it.
func (k Kind) String() string {
	switch k {
	case KindPerson:
		return "person"
	case KindAuction:
		return "auction"
	case KindBid:
		return "bid"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Topic returns the topic events of kind k are written to.
func (k Kind) Topic() string {
	switch k {
	case KindPerson:
		return TopicPerson
	case KindAuction:
		return TopicAuction
	}
	return TopicBid
}

// Topics lists the topics of all kinds.
func Topics() []string { return []string{TopicPerson, TopicAuction, TopicBid} }

// KindOf returns the kind of event n.
func KindOf(n int64) Kind {
	switch r := n % ProportionDenominator; {
	case r < PersonProportion:
		return KindPerson
	case r < PersonProportion+AuctionProportion:
		return KindAuction
	}
	return KindBid
}

// CountKind returns how many of the events 0..n-1 are of kind k.
func CountKind(n int64, k Kind) int64 {
	epochs, r := n/ProportionDenominator, n%ProportionDenominator
	switch k {
	case KindPerson:
		return epochs*PersonProportion + min(r, PersonProportion)
	case KindAuction:
		return epochs*AuctionProportion + min(max(r-PersonProportion, 0), AuctionProportion)
	}
	return epochs*BidProportion + max(r-PersonProportion-AuctionProportion, 0)
}

// Config parameterizes the generator. The zero value of a field means its
// default.
type Config struct {
	// Seed selects the stream; equal seeds give identical streams.
	Seed uint64
	// Rate is the event-time rate in events per second: event n happens
	// n/Rate seconds after BaseTime. Default 10,000 (the reference
	// generator's first-event rate).
	Rate int64
	// BaseTime is the event time of event 0. Default 2015-07-15 00:00 UTC,
	// the reference generator's.
	BaseTime time.Time
	// ActivePeople is how many of the most recent persons bid and sell.
	// Default 1000.
	ActivePeople int64
	// InFlightAuctions is how many of the most recent auctions receive
	// bids. Default 100.
	InFlightAuctions int64
	// HotAuctionRatio, HotBidderRatio and HotSellerRatio: 1 in N bids
	// (auctions) picks uniformly; the others pick the current hot auction
	// (bidder, seller). Defaults 2, 4, 4, as in the reference generator.
	HotAuctionRatio, HotBidderRatio, HotSellerRatio int64
	// PersonSize, AuctionSize and BidSize are the average JSON sizes in
	// bytes the "extra" field pads events to (an event already larger gets
	// no padding). Defaults 200, 500, 100.
	PersonSize, AuctionSize, BidSize int
}

func (c Config) withDefaults() Config {
	if c.Rate <= 0 {
		c.Rate = 10_000
	}
	if c.BaseTime.IsZero() {
		c.BaseTime = time.Date(2015, 7, 15, 0, 0, 0, 0, time.UTC)
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.ActivePeople, 1000)
	def(&c.InFlightAuctions, 100)
	def(&c.HotAuctionRatio, 2)
	def(&c.HotBidderRatio, 4)
	def(&c.HotSellerRatio, 4)
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt(&c.PersonSize, 200)
	defInt(&c.AuctionSize, 500)
	defInt(&c.BidSize, 100)
	return c
}

// Person is a new user of the auction site.
type Person struct {
	ID           int64
	Name         string
	EmailAddress string
	CreditCard   string
	City         string
	State        string
	DateTime     int64 // event time, milliseconds since the epoch
	Extra        string
}

// Auction is an item put up for auction.
type Auction struct {
	ID          int64
	ItemName    string
	Description string
	InitialBid  int64
	Reserve     int64
	DateTime    int64 // event time, milliseconds since the epoch
	Expires     int64 // milliseconds since the epoch
	Seller      int64
	Category    int64
	Extra       string
}

// Bid is a bid on an auction.
type Bid struct {
	Auction  int64
	Bidder   int64
	Price    int64 // cents
	Channel  string
	URL      string
	DateTime int64 // event time, milliseconds since the epoch
	Extra    string
}

// Event is one event of the stream: Kind says which of the three is set.
type Event struct {
	Kind    Kind
	Person  Person
	Auction Auction
	Bid     Bid
}

// DateTime returns the event's time in milliseconds since the epoch.
func (e *Event) DateTime() int64 {
	switch e.Kind {
	case KindPerson:
		return e.Person.DateTime
	case KindAuction:
		return e.Auction.DateTime
	}
	return e.Bid.DateTime
}

// Generator produces the events of one Config. Its methods are safe for
// concurrent use: the generator holds no mutable state.
type Generator struct {
	cfg        Config
	baseMs     int64
	horizonEvs int64 // events during which InFlightAuctions auctions appear
}

// NewGenerator returns a generator for cfg.
func NewGenerator(cfg Config) *Generator {
	cfg = cfg.withDefaults()
	return &Generator{
		cfg:        cfg,
		baseMs:     cfg.BaseTime.UnixMilli(),
		horizonEvs: cfg.InFlightAuctions * ProportionDenominator / AuctionProportion,
	}
}

// Config returns the generator's configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// TimeOf returns the event time of event n in milliseconds since the epoch.
// Split into whole seconds and the remainder so that n*1000 never overflows
// for any realistic n.
func (g *Generator) TimeOf(n int64) int64 {
	r := g.cfg.Rate
	return g.baseMs + (n/r)*1000 + (n%r)*1000/r
}

// rng is splitmix64: a tiny, fast generator whose whole state is one word,
// seeded per event from (seed, n) so events are independent of each other.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n > 0.
func (r *rng) intn(n int64) int64 { return int64(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (g *Generator) rngFor(n int64) rng {
	r := rng(g.cfg.Seed ^ (uint64(n) * 0xd1342543de82ef95))
	r.next()
	return r
}

// Event returns event n (n >= 0).
func (g *Generator) Event(n int64) Event {
	r := g.rngFor(n)
	ts := g.TimeOf(n)
	switch KindOf(n) {
	case KindPerson:
		return Event{Kind: KindPerson, Person: g.person(n, ts, &r)}
	case KindAuction:
		return Event{Kind: KindAuction, Auction: g.auction(n, ts, &r)}
	}
	return Event{Kind: KindBid, Bid: g.bid(n, ts, &r)}
}

// Small vocabularies, like the reference generator's: values repeat, as
// names and places do in real data, which matters to dictionary-friendly
// encoders and to filters on state or city.
var (
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	states     = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	cities     = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	channels   = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// numChannels is how many distinct channels bids come from; the first few
// have well-known names, the rest "channel-<n>".
const numChannels = 10_000

// lastID returns the id of the newest entity of a kind among events 0..n
// (inclusive of n when it is of that kind), given the kind's first id.
func lastID(n int64, k Kind, first int64) int64 { return first + CountKind(n+1, k) - 1 }

// pickRecent picks one of the `window` newest ids up to newest, never below
// first.
func pickRecent(r *rng, newest, first, window int64) int64 {
	span := min(newest-first+1, window)
	return newest - r.intn(span)
}

func (g *Generator) person(n, ts int64, r *rng) Person {
	p := Person{
		ID:       lastID(n, KindPerson, FirstPersonID),
		Name:     firstNames[r.intn(int64(len(firstNames)))] + " " + lastNames[r.intn(int64(len(lastNames)))],
		City:     cities[r.intn(int64(len(cities)))],
		State:    states[r.intn(int64(len(states)))],
		DateTime: ts,
	}
	p.EmailAddress = letters(r, 7) + "@" + letters(r, 5) + ".com"
	var cc [19]byte
	for i := range cc {
		if i%5 == 4 {
			cc[i] = ' '
		} else {
			cc[i] = byte('0' + r.intn(10))
		}
	}
	p.CreditCard = string(cc[:])
	p.Extra = g.extra(r, len(appendPerson(nil, &p)), g.cfg.PersonSize)
	return p
}

func (g *Generator) auction(n, ts int64, r *rng) Auction {
	a := Auction{
		ID:       lastID(n, KindAuction, FirstAuctionID),
		DateTime: ts,
		Category: FirstCategory + r.intn(NumCategories),
	}
	newestPerson := lastID(n, KindPerson, FirstPersonID)
	if r.intn(g.cfg.HotSellerRatio) > 0 {
		// The hot seller: the newest person rounded down to a multiple of
		// the ratio, so one seller stays hot for a stretch of auctions.
		a.Seller = max(FirstPersonID, (newestPerson/g.cfg.HotSellerRatio)*g.cfg.HotSellerRatio)
	} else {
		a.Seller = pickRecent(r, newestPerson, FirstPersonID, g.cfg.ActivePeople)
	}
	a.ItemName = letters(r, 5+int(r.intn(10)))
	a.Description = letters(r, 20+int(r.intn(80)))
	a.InitialBid = price(r)
	a.Reserve = a.InitialBid + price(r)
	// Lifetime: up to twice the event time in which InFlightAuctions new
	// auctions appear, so about InFlightAuctions are open at any time.
	horizonMs := max(g.TimeOf(n+g.horizonEvs)-ts, 1)
	a.Expires = ts + 1 + r.intn(2*horizonMs)
	a.Extra = g.extra(r, len(appendAuction(nil, &a)), g.cfg.AuctionSize)
	return a
}

func (g *Generator) bid(n, ts int64, r *rng) Bid {
	b := Bid{DateTime: ts}
	newestAuction := lastID(n, KindAuction, FirstAuctionID)
	if r.intn(g.cfg.HotAuctionRatio) > 0 {
		b.Auction = max(FirstAuctionID, (newestAuction/g.cfg.HotAuctionRatio)*g.cfg.HotAuctionRatio)
	} else {
		b.Auction = pickRecent(r, newestAuction, FirstAuctionID, g.cfg.InFlightAuctions)
	}
	newestPerson := lastID(n, KindPerson, FirstPersonID)
	if r.intn(g.cfg.HotBidderRatio) > 0 {
		b.Bidder = max(FirstPersonID, (newestPerson/g.cfg.HotBidderRatio)*g.cfg.HotBidderRatio+1)
		b.Bidder = min(b.Bidder, newestPerson)
	} else {
		b.Bidder = pickRecent(r, newestPerson, FirstPersonID, g.cfg.ActivePeople)
	}
	b.Price = price(r)
	ch := r.intn(numChannels)
	if ch < int64(len(channels)) {
		b.Channel = channels[ch]
	} else {
		b.Channel = "channel-" + strconv.FormatInt(ch, 10)
	}
	b.URL = "https://www.nexmark.com/" + letters(r, 5) + "/" + letters(r, 5) + "/item.htm?query=1&channel_id=" + strconv.FormatInt(ch, 10)
	b.Extra = g.extra(r, len(appendBid(nil, &b)), g.cfg.BidSize)
	return b
}

// price returns a price in cents, log-uniform between $1 and $1,000,000 like
// the reference generator's: most bids are small, a few are huge.
func price(r *rng) int64 { return int64(math.Round(math.Pow(10, r.float()*6) * 100)) }

// letters returns n random lower-case letters.
func letters(r *rng, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.intn(26))
	}
	return string(b)
}

// extra returns padding that brings an event of size current to about
// target bytes, varying by ±10% so sizes are not all equal.
func (g *Generator) extra(r *rng, current, target int) string {
	delta := target - current
	if delta <= 0 {
		return ""
	}
	spread := delta / 5
	n := delta - delta/10
	if spread > 0 {
		n += int(r.intn(int64(spread) + 1))
	}
	return letters(r, n)
}

// Key returns the event's Kafka key: the id, 8 bytes big-endian (ksqlDB's
// KAFKA format for BIGINT), for persons and auctions; nil for bids.
func (e *Event) Key() []byte {
	var id int64
	switch e.Kind {
	case KindPerson:
		id = e.Person.ID
	case KindAuction:
		id = e.Auction.ID
	default:
		return nil
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(id))
}

// AppendJSON appends the event's JSON object (Nexmark's field names) to dst.
func (e *Event) AppendJSON(dst []byte) []byte {
	switch e.Kind {
	case KindPerson:
		return appendPerson(dst, &e.Person)
	case KindAuction:
		return appendAuction(dst, &e.Auction)
	}
	return appendBid(dst, &e.Bid)
}

// The encoders are hand-written rather than encoding/json: the loader
// produces millions of events and reflection would dominate its CPU time.
// Every string the generator makes is plain ASCII without quotes or
// backslashes, but appendString escapes anyway so the output is valid JSON
// for any value a caller puts in an Event.

func appendPerson(b []byte, p *Person) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, p.ID, 10)
	b = appendField(b, "name", p.Name)
	b = appendField(b, "emailAddress", p.EmailAddress)
	b = appendField(b, "creditCard", p.CreditCard)
	b = appendField(b, "city", p.City)
	b = appendField(b, "state", p.State)
	b = appendIntField(b, "dateTime", p.DateTime)
	b = appendField(b, "extra", p.Extra)
	return append(b, '}')
}

func appendAuction(b []byte, a *Auction) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, a.ID, 10)
	b = appendField(b, "itemName", a.ItemName)
	b = appendField(b, "description", a.Description)
	b = appendIntField(b, "initialBid", a.InitialBid)
	b = appendIntField(b, "reserve", a.Reserve)
	b = appendIntField(b, "dateTime", a.DateTime)
	b = appendIntField(b, "expires", a.Expires)
	b = appendIntField(b, "seller", a.Seller)
	b = appendIntField(b, "category", a.Category)
	b = appendField(b, "extra", a.Extra)
	return append(b, '}')
}

func appendBid(b []byte, x *Bid) []byte {
	b = append(b, `{"auction":`...)
	b = strconv.AppendInt(b, x.Auction, 10)
	b = appendIntField(b, "bidder", x.Bidder)
	b = appendIntField(b, "price", x.Price)
	b = appendField(b, "channel", x.Channel)
	b = appendField(b, "url", x.URL)
	b = appendIntField(b, "dateTime", x.DateTime)
	b = appendField(b, "extra", x.Extra)
	return append(b, '}')
}

func appendIntField(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, fmt.Sprintf(`\u%04x`, c)...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
