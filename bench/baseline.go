package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	json "github.com/goccy/go-json"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/bench/nexmark"
	"github.com/sluicedb/sluice/storage"
)

// The baseline is what a competent Go programmer would write by hand for a
// query, with none of the engine's generality: a franz-go consumer, a fast
// reflection-free JSON decoder (goccy/go-json) into a struct holding only
// the fields the query uses, the query's logic in plain Go, JSON output
// appended by hand, and the same sink and progress protocol as the engine's
// at-least-once queries: produce, flush, then commit the consumed offsets
// to a consumer group, once per poll. It writes the same bytes as the engine
// (field names upper-cased as ksqlDB's serializer does), which lets a run
// check that both computed the same answer.

// baselineFunc maps one input value to an output value appended to dst, or
// reports that the record produces no output.
type baselineFunc func(dst, value []byte) (out []byte, ok bool, err error)

// baselineQuery is a hand-written query: the topics it reads and its
// processor, made once per run. A processor sees every input record, of
// all partitions, in the order the consumer delivers them, and keeps its
// state in plain Go maps: a single program needs no repartitioning.
type baselineQuery struct {
	inputs []nexmark.Kind
	new    func() baselineProc
	// atEnd: the processor holds records back (to see them in event-time
	// order) and is called once more, with a nil record, when the input
	// is exhausted, to process and emit what it holds.
	atEnd bool
}

// baselineProc handles one input record (of inputs[input]) and appends the
// records it produces to out.
type baselineProc func(input int, r *kgo.Record, out *baselineOut) error

// baselineOut produces a baseline's output records; keys and values are
// carved out of a slab (the producer holds them until acknowledged, so a
// slab is never reused, only replaced when full).
type baselineOut struct {
	slab    []byte
	topic   string
	produce func(*kgo.Record)
	n       int64 // records produced
	// partitions is the number of input partitions, over all inputs.
	partitions int
}

// begin returns the slab with room for a record's bytes; the caller
// appends to it and hands it back to end.
func (o *baselineOut) begin() []byte {
	if cap(o.slab)-len(o.slab) < 4096 {
		o.slab = make([]byte, 0, 1<<20)
	}
	return o.slab
}

// end takes the slab back after the bytes of slab[from:] were appended.
func (o *baselineOut) end(slab []byte, from int) []byte {
	o.slab = slab
	return slab[from:len(slab):len(slab)]
}

// emit produces an output record with the given key and value (from end).
func (o *baselineOut) emit(key, value []byte, ts time.Time) {
	o.n++
	o.produce(&kgo.Record{Topic: o.topic, Key: key, Value: value, Timestamp: ts})
}

// appendKey appends a BIGINT key as ksqlDB's KAFKA format writes it (8
// bytes big endian) and returns it.
func (o *baselineOut) appendKey(v int64) []byte {
	slab := o.begin()
	off := len(slab)
	return o.end(binary.BigEndian.AppendUint64(slab, uint64(v)), off)
}

// baselines are the hand-written queries. The yardstick is the ratio
// between the engine and its baseline, so every query the engine runs
// should have one.
var baselines = map[string]baselineQuery{
	"q0": stateless("q0"),
	"q1": stateless("q1"),
	"q2": stateless("q2"),
	"q3": {inputs: []nexmark.Kind{nexmark.KindPerson, nexmark.KindAuction}, new: newQ3},
	"q4": {inputs: []nexmark.Kind{nexmark.KindAuction, nexmark.KindBid}, new: newQ4, atEnd: true},
	"q5": {inputs: []nexmark.Kind{nexmark.KindBid}, new: newQ5, atEnd: true},
	"q7": {inputs: []nexmark.Kind{nexmark.KindBid}, new: newQ7},
	"q8": {inputs: []nexmark.Kind{nexmark.KindPerson, nexmark.KindAuction}, new: newQ8},
	// Stream-table enrichment (bench/nexmark/sql/enrich.sql).
	"enrich": {inputs: []nexmark.Kind{nexmark.KindAuction, nexmark.KindBid}, new: newEnrich},
}

func stateless(name string) baselineQuery {
	fn := statelessBaselines[name]
	return baselineQuery{inputs: []nexmark.Kind{nexmark.KindBid}, new: func() baselineProc {
		return func(_ int, r *kgo.Record, out *baselineOut) error {
			slab := out.begin()
			off := len(slab)
			slab, ok, err := fn(slab, r.Value)
			if err != nil || !ok {
				return err
			}
			out.emit(nil, out.end(slab, off), r.Timestamp)
			return nil
		}
	}}
}

// bidQ0 holds the fields q0 and q1 read. Fields the struct lacks are
// skipped by the decoder without being materialized.
type bidQ0 struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

// bidQ2 holds the fields q2 reads.
type bidQ2 struct {
	Auction int64 `json:"auction"`
	Price   int64 `json:"price"`
}

// statelessBaselines are the hand-written stateless queries (q0-q2): a
// function of each bid.
var statelessBaselines = map[string]baselineFunc{
	"q0": func(dst, v []byte) ([]byte, bool, error) {
		var b bidQ0
		if err := json.UnmarshalNoEscape(v, &b); err != nil {
			return dst, false, err
		}
		dst = append(dst, `{"AUCTION":`...)
		dst = strconv.AppendInt(dst, b.Auction, 10)
		dst = append(dst, `,"BIDDER":`...)
		dst = strconv.AppendInt(dst, b.Bidder, 10)
		dst = append(dst, `,"PRICE":`...)
		dst = strconv.AppendInt(dst, b.Price, 10)
		dst = append(dst, `,"DATETIME":`...)
		dst = strconv.AppendInt(dst, b.DateTime, 10)
		dst = append(dst, `,"EXTRA":`...)
		dst = strconv.AppendQuote(dst, b.Extra)
		return append(dst, '}'), true, nil
	},
	"q1": func(dst, v []byte) ([]byte, bool, error) {
		var b bidQ0
		if err := json.UnmarshalNoEscape(v, &b); err != nil {
			return dst, false, err
		}
		dst = append(dst, `{"AUCTION":`...)
		dst = strconv.AppendInt(dst, b.Auction, 10)
		dst = append(dst, `,"BIDDER":`...)
		dst = strconv.AppendInt(dst, b.Bidder, 10)
		dst = append(dst, `,"PRICE":`...)
		// 0.908 * price as an exact decimal with scale 3, like the SQL's
		// DECIMAL arithmetic: price*908 thousandths.
		dst = appendScaled(dst, b.Price*908, 3)
		dst = append(dst, `,"DATETIME":`...)
		dst = strconv.AppendInt(dst, b.DateTime, 10)
		dst = append(dst, `,"EXTRA":`...)
		dst = strconv.AppendQuote(dst, b.Extra)
		return append(dst, '}'), true, nil
	},
	"q2": func(dst, v []byte) ([]byte, bool, error) {
		var b bidQ2
		if err := json.UnmarshalNoEscape(v, &b); err != nil {
			return dst, false, err
		}
		if b.Auction%123 != 0 {
			return dst, false, nil
		}
		dst = append(dst, `{"AUCTION":`...)
		dst = strconv.AppendInt(dst, b.Auction, 10)
		dst = append(dst, `,"PRICE":`...)
		dst = strconv.AppendInt(dst, b.Price, 10)
		return append(dst, '}'), true, nil
	},
}

// appendScaled appends v / 10^scale as a decimal with exactly scale digits
// after the point.
func appendScaled(dst []byte, v int64, scale int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	pow := int64(1)
	for range scale {
		pow *= 10
	}
	dst = strconv.AppendInt(dst, v/pow, 10)
	dst = append(dst, '.')
	frac := strconv.AppendInt(nil, v%pow, 10)
	for range scale - len(frac) {
		dst = append(dst, '0')
	}
	return append(dst, frac...)
}

// baselineRun is one execution of a baseline.
type baselineRun struct {
	brokers  []string
	query    string
	output   string // topic
	group    string
	progress func(consumed int64)
}

// run consumes the input topics from the start to their current ends and
// returns the number of records consumed and produced.
func (b baselineRun) run(ctx context.Context) (consumed, produced int64, err error) {
	bq, ok := baselines[b.query]
	if !ok {
		return 0, 0, fmt.Errorf("no baseline for %s", b.query)
	}
	proc := bq.new()
	var inputs []string
	for _, k := range bq.inputs {
		inputs = append(inputs, k.Topic())
	}
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...))
	if err != nil {
		return 0, 0, err
	}
	defer adm.Close()
	admin := kadm.NewClient(adm)
	ends, err := admin.ListEndOffsets(ctx, inputs...)
	if err != nil {
		return 0, 0, fmt.Errorf("baseline: end offsets: %w", err)
	}
	type tp struct {
		topic string
		part  int32
	}
	end := map[tp]int64{}
	start := map[string]map[int32]kgo.Offset{}
	for _, t := range inputs {
		start[t] = map[int32]kgo.Offset{}
	}
	ends.Each(func(o kadm.ListedOffset) {
		end[tp{o.Topic, o.Partition}] = o.Offset
		start[o.Topic][o.Partition] = kgo.NewOffset().AtStart()
	})
	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(b.brokers...),
		kgo.ConsumePartitions(start),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	if err != nil {
		return 0, 0, err
	}
	defer consumer.Close()
	producer, err := storage.NewProducer(b.brokers, storage.ProducerOptions{ClientID: "nexmark-baseline", Linger: 5 * time.Millisecond})
	if err != nil {
		return 0, 0, err
	}
	defer producer.Close()

	var produceErr error
	onProduced := func(_ *kgo.Record, err error) {
		if err != nil && produceErr == nil {
			produceErr = err
		}
	}
	input := map[string]int{}
	for i, t := range inputs {
		input[t] = i
	}
	pos := map[tp]int64{}
	out := baselineOut{topic: b.output, partitions: len(end),
		produce: func(r *kgo.Record) { producer.Produce(ctx, r, onProduced) }}
	lastProgress := time.Now()
	for {
		done := true
		for k, e := range end {
			if pos[k] < e {
				done = false
			}
		}
		if done {
			if bq.atEnd {
				if err := proc(-1, nil, &out); err != nil {
					return consumed, out.n, err
				}
				if err := producer.Flush(ctx); err != nil {
					return consumed, out.n, err
				}
				if produceErr != nil {
					return consumed, out.n, fmt.Errorf("baseline: produce: %w", produceErr)
				}
			}
			return consumed, out.n, nil
		}
		fetches := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return consumed, produced, err
		}
		var errs []error
		fetches.EachError(func(t string, p int32, err error) { errs = append(errs, fmt.Errorf("fetch %s[%d]: %w", t, p, err)) })
		if len(errs) > 0 {
			return consumed, produced, errors.Join(errs...)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			consumed++
			pos[tp{r.Topic, r.Partition}] = r.Offset + 1
			// Like the engine, a record that does not decode is skipped,
			// not fatal.
			_ = proc(input[r.Topic], r, &out)
		})
		produced = out.n
		if err := producer.Flush(ctx); err != nil {
			return consumed, produced, err
		}
		if produceErr != nil {
			return consumed, produced, fmt.Errorf("baseline: produce: %w", produceErr)
		}
		offs := kadm.Offsets{}
		for k, o := range pos {
			offs.Add(kadm.Offset{Topic: k.topic, Partition: k.part, At: o, LeaderEpoch: -1})
		}
		resp, err := admin.CommitOffsets(ctx, b.group, offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return consumed, produced, fmt.Errorf("baseline: commit: %w", err)
		}
		if b.progress != nil && time.Since(lastProgress) >= time.Second {
			b.progress(consumed)
			lastProgress = time.Now()
		}
	}
}
