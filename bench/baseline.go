package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	json "github.com/goccy/go-json"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

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

// baselines are the hand-written queries; only the ones sluice can run
// today have one, since the yardstick is the ratio between the two.
var baselines = map[string]baselineFunc{
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
	input    string // topic
	output   string // topic
	group    string
	progress func(consumed int64)
}

// run consumes the input topic from the start to its current end and
// returns the number of records consumed and produced.
func (b baselineRun) run(ctx context.Context) (consumed, produced int64, err error) {
	fn := baselines[b.query]
	if fn == nil {
		return 0, 0, fmt.Errorf("no baseline for %s", b.query)
	}
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...))
	if err != nil {
		return 0, 0, err
	}
	defer adm.Close()
	admin := kadm.NewClient(adm)
	ends, err := admin.ListEndOffsets(ctx, b.input)
	if err != nil {
		return 0, 0, fmt.Errorf("baseline: end offsets: %w", err)
	}
	end := map[int32]int64{}
	start := map[string]map[int32]kgo.Offset{b.input: {}}
	ends.Each(func(o kadm.ListedOffset) {
		end[o.Partition] = o.Offset
		start[b.input][o.Partition] = kgo.NewOffset().AtStart()
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
	pos := map[int32]int64{}
	var slab []byte
	lastProgress := time.Now()
	for {
		done := true
		for p, e := range end {
			if pos[p] < e {
				done = false
			}
		}
		if done {
			return consumed, produced, nil
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
			pos[r.Partition] = r.Offset + 1
			if cap(slab)-len(slab) < 4096 {
				slab = make([]byte, 0, 1<<20)
			}
			off := len(slab)
			out, ok, err := fn(slab, r.Value)
			if err != nil {
				// Like the engine, a record that does not decode is
				// skipped, not fatal.
				return
			}
			slab = out
			if !ok {
				return
			}
			produced++
			producer.Produce(ctx, &kgo.Record{Topic: b.output, Value: slab[off:len(slab):len(slab)], Timestamp: r.Timestamp}, onProduced)
		})
		if err := producer.Flush(ctx); err != nil {
			return consumed, produced, err
		}
		if produceErr != nil {
			return consumed, produced, fmt.Errorf("baseline: produce: %w", produceErr)
		}
		offs := kadm.Offsets{}
		for p, o := range pos {
			offs.Add(kadm.Offset{Topic: b.input, Partition: p, At: o, LeaderEpoch: -1})
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
