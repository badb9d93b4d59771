package qtt

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// broker is one case's private in-memory Kafka cluster (kfake) with the
// runner's own client. No state is shared between cases.
type broker struct {
	cluster *kfake.Cluster // nil for a client of someone else's cluster
	seeds   []string
	client  *kgo.Client
	admin   *kadm.Client
}

func newBroker() (*broker, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, fmt.Errorf("start kfake: %w", err)
	}
	b, err := dialBroker(c.ListenAddrs())
	if err != nil {
		c.Close()
		return nil, err
	}
	b.cluster = c
	return b, nil
}

// dialBroker connects the runner's clients to a cluster.
func dialBroker(seeds []string) (*broker, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(100000),
	)
	if err != nil {
		return nil, err
	}
	return &broker{seeds: seeds, client: cl, admin: kadm.NewClient(cl)}, nil
}

func (b *broker) addrs() []string { return b.seeds }

func (b *broker) close() {
	b.client.Close()
	if b.cluster != nil {
		b.cluster.Close()
	}
}

// createTopic creates a topic; an existing topic is not an error.
func (b *broker) createTopic(ctx context.Context, name string, partitions int32) error {
	if partitions <= 0 {
		partitions = 1
	}
	resp, err := b.admin.CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	return nil
}

// topics lists every topic of the cluster.
func (b *broker) topics(ctx context.Context) (map[string]int32, error) {
	td, err := b.admin.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int32, len(td))
	for name, d := range td {
		out[name] = int32(len(d.Partitions))
	}
	return out, nil
}

// produce writes records synchronously, in order, each to the partition it
// names (the runner always uses partition 0).
func (b *broker) produce(ctx context.Context, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return b.client.ProduceSync(ctx, recs...).FirstErr()
}

// errNoTopic reports that a topic to read does not exist.
var errNoTopic = errors.New("topic does not exist")

// readTopic reads every committed record of a topic, from the start of
// each partition to its end offset, with read_committed isolation. With
// several partitions, records are merged by timestamp (stable, then by
// partition), which is the order a single-partition test driver would have
// seen for deterministic tests.
func (b *broker) readTopic(ctx context.Context, topic string) ([]*kgo.Record, error) {
	starts, err := b.admin.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	ends, err := b.admin.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	if ends.Error() != nil {
		if errors.Is(ends.Error(), kerr.UnknownTopicOrPartition) {
			return nil, errNoTopic
		}
		return nil, ends.Error()
	}
	from := map[int32]kgo.Offset{}
	want := map[int32]int64{} // partition -> last offset to see
	for _, lo := range ends[topic] {
		start := int64(0)
		if so, ok := starts.Lookup(topic, lo.Partition); ok {
			start = so.Offset
		}
		if lo.Offset > start {
			from[lo.Partition] = kgo.NewOffset().At(start)
			want[lo.Partition] = lo.Offset - 1
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(b.addrs()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	seen := map[int32]int64{}
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(rctx)
		if rctx.Err() != nil {
			var parts []string
			for p, last := range want {
				parts = append(parts, fmt.Sprintf("partition %d at offset %d of %d", p, seen[p], last+1))
			}
			sort.Strings(parts)
			return nil, fmt.Errorf("reading %s: did not reach the end offset (%v): an open transaction?", topic, parts)
		}
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
				return nil, fmt.Errorf("reading %s: %w", topic, e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if last, ok := want[r.Partition]; ok && r.Offset >= last {
				delete(want, r.Partition)
			}
		})
	}
	return mergeByTimestamp(out), nil
}

// mergeByTimestamp keeps each partition's order and interleaves partitions
// by record timestamp (ties go to the lower partition).
func mergeByTimestamp(recs []*kgo.Record) []*kgo.Record {
	byPart := map[int32][]*kgo.Record{}
	var parts []int32
	for _, r := range recs {
		if _, ok := byPart[r.Partition]; !ok {
			parts = append(parts, r.Partition)
		}
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	if len(parts) <= 1 {
		return recs
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	out := make([]*kgo.Record, 0, len(recs))
	for len(out) < len(recs) {
		best := int32(-1)
		for _, p := range parts {
			q := byPart[p]
			if len(q) == 0 {
				continue
			}
			if best < 0 || q[0].Timestamp.Before(byPart[best][0].Timestamp) {
				best = p
			}
		}
		out = append(out, byPart[best][0])
		byPart[best] = byPart[best][1:]
	}
	return out
}
