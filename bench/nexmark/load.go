package nexmark

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// LoadConfig says what Load writes and where.
type LoadConfig struct {
	// Brokers are the seed brokers.
	Brokers []string
	// Events is how many events to write (all kinds together).
	Events int64
	// Start is the number of the first event; a second Load with Start set
	// to the first one's Events continues the same stream.
	Start int64
	// Partitions is the partition count of topics Load creates. Existing
	// topics are used as they are. Default 1.
	Partitions int32
	// WallRate, when positive, paces writing at that many events per second
	// of wall-clock time (the fixed-rate mode); each record's timestamp is
	// then the moment it was handed to the producer, and the generator's
	// BaseTime and Rate should match (see FixedRate). Zero writes as fast
	// as the broker accepts.
	WallRate int64
	// Progress, if set, is called about once a second, and once at the end,
	// with the number of events written and acknowledged so far.
	Progress func(acked int64)
}

// FixedRate returns a copy of cfg whose event times follow the wall clock
// from now at rate events per second, for a Load with WallRate = rate.
func FixedRate(cfg Config, rate int64) Config {
	cfg.Rate = rate
	cfg.BaseTime = time.Now()
	return cfg
}

// CreateTopics creates the three Nexmark topics with the given partition
// count, leaving topics that already exist alone.
func CreateTopics(ctx context.Context, brokers []string, partitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, max(partitions, 1), 1, nil, Topics()...)
	if err != nil {
		return fmt.Errorf("create nexmark topics: %w", err)
	}
	for _, t := range resp.Sorted() {
		if t.Err != nil && !errors.Is(t.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t.Topic, t.Err)
		}
	}
	return nil
}

// Load writes events Start..Start+Events-1 of g's stream to the Nexmark
// topics, creating them when missing, and returns once every record is
// acknowledged. Records go to partition n % partitions of their topic, which
// keeps each partition in event-time order.
func Load(ctx context.Context, g *Generator, lc LoadConfig) error {
	if lc.Partitions <= 0 {
		lc.Partitions = 1
	}
	if err := CreateTopics(ctx, lc.Brokers, lc.Partitions); err != nil {
		return err
	}
	parts, err := partitionCounts(ctx, lc.Brokers)
	if err != nil {
		return err
	}
	// A bulk load lingers to fill batches; a paced load (the latency
	// phase) sends each record at once, as a latency-sensitive producer
	// would, so that the measured latency is the engine's, not the time
	// the input sat in this producer's batch.
	linger := 5 * time.Millisecond
	if lc.WallRate > 0 {
		linger = 0
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(lc.Brokers...),
		kgo.RecordPartitioner(loadPartitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.ProducerLinger(linger),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(200_000),
	)
	if err != nil {
		return err
	}
	defer cl.Close()

	var (
		acked   atomic.Int64
		errOnce sync.Once
		failed  error
	)
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			errOnce.Do(func() { failed = err })
			return
		}
		acked.Add(1)
	}
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				if lc.Progress != nil {
					lc.Progress(acked.Load())
				}
			}
		}
	}()
	defer func() {
		close(stopProgress)
		<-progressDone
	}()

	start := time.Now()
	// One buffer per chunk of records: the producer keeps each record's
	// Value until it is acknowledged, so values cannot share a reused
	// buffer, but carving them out of a large slab saves an allocation
	// per record.
	var slab []byte
	for i := int64(0); i < lc.Events; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			break
		}
		n := lc.Start + i
		if lc.WallRate > 0 {
			due := start.Add(time.Duration(float64(i) / float64(lc.WallRate) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		ev := g.Event(n)
		if cap(slab)-len(slab) < 1024 {
			slab = make([]byte, 0, 1<<20)
		}
		off := len(slab)
		slab = ev.AppendJSON(slab)
		val := slab[off:len(slab):len(slab)]
		topic := ev.Kind.Topic()
		rec := &kgo.Record{
			Topic:     topic,
			Key:       ev.Key(),
			Value:     val,
			Partition: int32(n % int64(parts[topic])),
			Timestamp: time.UnixMilli(ev.DateTime()),
		}
		if lc.WallRate > 0 {
			rec.Timestamp = time.Now()
		}
		cl.Produce(ctx, rec, done)
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("nexmark load: %w", err)
	}
	if lc.Progress != nil {
		lc.Progress(acked.Load())
	}
	if failed != nil {
		return fmt.Errorf("nexmark load: %w", failed)
	}
	return ctx.Err()
}

// partitionCounts returns the partition count of each Nexmark topic.
func partitionCounts(ctx context.Context, brokers []string) (map[string]int32, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(ctx, Topics()...)
	if err != nil {
		return nil, fmt.Errorf("describe nexmark topics: %w", err)
	}
	out := map[string]int32{}
	for _, t := range Topics() {
		d, ok := td[t]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return nil, fmt.Errorf("describe nexmark topic %s: %v", t, d.Err)
		}
		out[t] = int32(len(d.Partitions))
	}
	return out, nil
}

// loadPartitioner places keyed records (persons and auctions, keyed by id)
// by Kafka's default key hash, as any Kafka producer would: a TABLE over
// the topic (q3's persons) must be partitioned by its key to be
// co-partitioned with the streams a join re-keys. Bids have no key and go
// round robin by event number (the record's Partition).
type loadPartitioner struct{ keyed kgo.Partitioner }

func (p loadPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == TopicBid {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return p.keyed.ForTopic(topic)
}
