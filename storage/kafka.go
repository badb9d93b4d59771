package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicInfo describes a topic.
type TopicInfo struct {
	Name       string
	Partitions int32
	Replicas   int16
}

// Kafka is the engine's administrative connection to a Kafka cluster (the
// embedded broker or a real one). It is safe for concurrent use. Producers
// and consumers are separate clients (NewProducer, the exec package), so
// that a slow admin call never queues behind a data fetch.
type Kafka struct {
	seeds  []string
	logger *slog.Logger
	cl     *kgo.Client
	adm    *kadm.Client
	closed atomic.Bool
}

// DialKafka connects to the cluster at seeds and checks that it answers
// before returning, so a wrong address fails here and not at the first DDL.
func DialKafka(ctx context.Context, seeds []string, logger *slog.Logger) (*Kafka, error) {
	return DialKafkaWait(ctx, seeds, logger, 0)
}

// DialKafkaWait is DialKafka for a cluster that may still be starting: while
// the brokers do not answer it retries, with a growing pause (up to 5 s)
// and a warning per attempt, for at most wait, then fails with the last
// error. A wait of 0 tries once. It returns early when ctx is done.
func DialKafkaWait(ctx context.Context, seeds []string, logger *slog.Logger, wait time.Duration) (*Kafka, error) {
	if logger == nil {
		logger = slog.Default()
	}
	deadline := time.Now().Add(wait)
	pause := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		k, err := dialKafkaOnce(ctx, seeds, logger)
		if err == nil || ctx.Err() != nil || len(seeds) == 0 || !time.Now().Add(pause).Before(deadline) {
			return k, err
		}
		logger.Warn("waiting for the Kafka brokers to answer", "brokers", strings.Join(seeds, ","),
			"attempt", attempt, "retry_in", pause, "gives_up_in", time.Until(deadline).Round(time.Second), "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dial kafka %v: %w", seeds, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

func dialKafkaOnce(ctx context.Context, seeds []string, logger *slog.Logger) (*Kafka, error) {
	if len(seeds) == 0 {
		return nil, errors.New("dial kafka: no seed brokers")
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.WithLogger(newKgoLogger(logger)),
		kgo.ClientID("sluice-admin"),
	)
	if err != nil {
		return nil, fmt.Errorf("dial kafka %v: %w", seeds, err)
	}
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("dial kafka %v: %w", seeds, err)
	}
	return &Kafka{
		seeds:  append([]string(nil), seeds...),
		logger: logger,
		cl:     cl,
		adm:    kadm.NewClient(cl),
	}, nil
}

// Seeds returns the seed brokers, for creating further clients.
func (k *Kafka) Seeds() []string { return append([]string(nil), k.seeds...) }

// Client returns the underlying admin kgo.Client. It must not be used to
// consume (it has no consumer configuration) and must not be closed.
func (k *Kafka) Client() *kgo.Client { return k.cl }

// Admin returns the kadm client for operations this type does not wrap.
func (k *Kafka) Admin() *kadm.Client { return k.adm }

// Close closes the client. It is idempotent.
func (k *Kafka) Close() {
	if !k.closed.Swap(true) {
		k.cl.Close()
	}
}

func (k *Kafka) check() error {
	if k.closed.Load() {
		return ErrClosed
	}
	return nil
}

// CreateTopic creates a topic. partitions <= 0 and replicas <= 0 ask for
// the broker's defaults (on the embedded broker: 1 partition for
// AutoCreatePartitions 0, and 1 replica, its only node).
//
// It is idempotent: if the topic already exists with the requested
// partition count (any count when partitions <= 0), it returns nil. If it
// exists with another count, it returns *TopicMismatchError. Configs of an
// existing topic are not compared or changed.
func (k *Kafka) CreateTopic(ctx context.Context, name string, partitions int32, replicas int16, configs map[string]*string) error {
	if err := k.check(); err != nil {
		return fmt.Errorf("create topic %q: %w", name, err)
	}
	if partitions <= 0 {
		partitions = -1
	}
	if replicas <= 0 {
		replicas = -1
	}
	_, err := k.adm.CreateTopic(ctx, partitions, replicas, configs, name)
	// Drop kgo's cached metadata for the name (kadm's offset listing reads
	// it), so the topic's new state is visible to the next call at once.
	k.cl.PurgeTopicsFromClient(name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", name, err)
	}
	info, ok, err := k.DescribeTopic(ctx, name)
	switch {
	case err != nil:
		return fmt.Errorf("create topic %q: %w", name, err)
	case !ok:
		// Deleted between our create and describe; another engine is
		// changing the catalog concurrently, so do not guess.
		return fmt.Errorf("create topic %q: topic exists but could not be described (deleted concurrently?)", name)
	case partitions > 0 && info.Partitions != partitions:
		return &TopicMismatchError{Topic: name, Partitions: partitions, Existing: info.Partitions}
	}
	return nil
}

// DescribeTopic returns the topic's partition and replica counts, and false
// if it does not exist. It never auto-creates the topic.
func (k *Kafka) DescribeTopic(ctx context.Context, name string) (TopicInfo, bool, error) {
	if err := k.check(); err != nil {
		return TopicInfo{}, false, fmt.Errorf("describe topic %q: %w", name, err)
	}
	topics, err := k.metadata(ctx, name)
	if err != nil {
		return TopicInfo{}, false, fmt.Errorf("describe topic %q: %w", name, err)
	}
	for _, t := range topics {
		if t.Topic == nil || *t.Topic != name {
			continue
		}
		err := kerr.ErrorForCode(t.ErrorCode)
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return TopicInfo{}, false, nil
		}
		if err != nil {
			return TopicInfo{}, false, fmt.Errorf("describe topic %q: %w", name, err)
		}
		return topicInfo(t), true, nil
	}
	return TopicInfo{}, false, nil
}

// metadata asks the cluster for the named topics (all with none), always
// from a broker: kadm's metadata helpers answer from kgo's cache for up to
// MetadataMinAge (5s), which would show a topic we just deleted, or hide
// one another engine just created.
func (k *Kafka) metadata(ctx context.Context, topics ...string) ([]kmsg.MetadataResponseTopic, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	// A nil topic list asks for every topic.
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, k.cl)
	if err != nil {
		return nil, err
	}
	return resp.Topics, nil
}

func topicInfo(t kmsg.MetadataResponseTopic) TopicInfo {
	info := TopicInfo{Partitions: int32(len(t.Partitions))}
	if t.Topic != nil {
		info.Name = *t.Topic
	}
	if len(t.Partitions) > 0 {
		info.Replicas = int16(len(t.Partitions[0].Replicas))
	}
	return info
}

// ListTopics returns the cluster's topics sorted by name, without internal
// topics (those the broker flags internal, and every name starting with
// "__", Kafka's convention for __consumer_offsets, __transaction_state and
// friends).
func (k *Kafka) ListTopics(ctx context.Context) ([]TopicInfo, error) {
	if err := k.check(); err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	topics, err := k.metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	out := make([]TopicInfo, 0, len(topics))
	for _, t := range topics {
		if t.IsInternal || t.Topic == nil || strings.HasPrefix(*t.Topic, "__") || t.ErrorCode != 0 {
			continue
		}
		out = append(out, topicInfo(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeleteTopic deletes a topic. A missing topic yields an error wrapping
// ErrTopicNotFound, which DROP ... IF EXISTS callers can ignore.
func (k *Kafka) DeleteTopic(ctx context.Context, name string) error {
	if err := k.check(); err != nil {
		return fmt.Errorf("delete topic %q: %w", name, err)
	}
	_, err := k.adm.DeleteTopic(ctx, name)
	k.cl.PurgeTopicsFromClient(name)
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("delete topic %q: %w", name, ErrTopicNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete topic %q: %w", name, err)
	}
	return nil
}

// EndOffsets returns each partition's high watermark: the offset the next
// record will get. With transactions in flight, records below it may not
// be readable yet by read_committed consumers; use StableOffsets to know
// how far such a consumer can get.
func (k *Kafka) EndOffsets(ctx context.Context, topics ...string) (map[string]map[int32]int64, error) {
	return k.listOffsets(ctx, "end offsets", k.adm.ListEndOffsets, topics)
}

// StableOffsets returns each partition's last stable offset: the high
// watermark minus any open transaction's records. It is where a
// read_committed consumer's reading stops, and so the end offset to use
// when "read everything so far" must terminate.
func (k *Kafka) StableOffsets(ctx context.Context, topics ...string) (map[string]map[int32]int64, error) {
	return k.listOffsets(ctx, "stable offsets", k.adm.ListCommittedOffsets, topics)
}

// StartOffsets returns each partition's log start offset (the oldest
// offset still retained).
func (k *Kafka) StartOffsets(ctx context.Context, topics ...string) (map[string]map[int32]int64, error) {
	return k.listOffsets(ctx, "start offsets", k.adm.ListStartOffsets, topics)
}

func (k *Kafka) listOffsets(ctx context.Context, what string, list func(context.Context, ...string) (kadm.ListedOffsets, error), topics []string) (map[string]map[int32]int64, error) {
	if err := k.check(); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	if len(topics) == 0 {
		// kadm reads "no topics" as "every topic"; callers always name
		// their topics, so an empty call is a bug upstream, not a request
		// to list the whole cluster.
		return map[string]map[int32]int64{}, nil
	}
	lo, err := list(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list %s of %v: %w", what, topics, err)
	}
	out := make(map[string]map[int32]int64, len(lo))
	for t, ps := range lo {
		m := make(map[int32]int64, len(ps))
		for p, o := range ps {
			if o.Err != nil {
				if errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
					return nil, fmt.Errorf("list %s of topic %q: %w", what, t, ErrTopicNotFound)
				}
				return nil, fmt.Errorf("list %s of %s[%d]: %w", what, t, p, o.Err)
			}
			m[p] = o.Offset
		}
		out[t] = m
	}
	for _, t := range topics {
		if _, ok := out[t]; !ok {
			return nil, fmt.Errorf("list %s of topic %q: %w", what, t, ErrTopicNotFound)
		}
	}
	return out, nil
}

// CommittedOffsets returns the offsets consumer group has committed, per
// topic and partition. A group that never committed yields an empty map.
// Offsets committed by a transaction still open are waited for (Kafka's
// "require stable"), so a restarting exactly-once query never resumes from
// an offset that its own aborted transaction had staged.
func (k *Kafka) CommittedOffsets(ctx context.Context, group string) (map[string]map[int32]int64, error) {
	if err := k.check(); err != nil {
		return nil, fmt.Errorf("committed offsets of group %q: %w", group, err)
	}
	resps, err := k.adm.FetchOffsets(kadm.RequireStable(ctx), group)
	for err == nil && errors.Is(resps.Error(), kerr.UnstableOffsetCommit) {
		// A transaction that commits offsets of the group is open: wait
		// for its end (the broker aborts it after its timeout at worst).
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("committed offsets of group %q: %w", group, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		resps, err = k.adm.FetchOffsets(kadm.RequireStable(ctx), group)
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		// Apache Kafka answers an unknown group with no offsets, kfake
		// with this error; both mean "nothing committed".
		return map[string]map[int32]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %q: %w", group, err)
	}
	if err := resps.Error(); err != nil {
		return nil, fmt.Errorf("committed offsets of group %q: %w", group, err)
	}
	out := make(map[string]map[int32]int64, len(resps))
	for t, ps := range resps {
		m := make(map[int32]int64, len(ps))
		for p, o := range ps {
			m[p] = o.At
		}
		out[t] = m
	}
	return out, nil
}

// FenceTransactionalID initializes the producer id of transactional id txnID
// (InitProducerID), which bumps its epoch: a previous producer with that id
// is fenced and its open transaction aborted at once, instead of when the
// transaction times out. A restarted exactly-once query does this before it
// reads its group's committed offsets, which its own aborted transaction
// may still be holding.
func (k *Kafka) FenceTransactionalID(ctx context.Context, txnID string, timeout time.Duration) error {
	if err := k.check(); err != nil {
		return fmt.Errorf("fence transactional id %q: %w", txnID, err)
	}
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = &txnID
	req.TransactionTimeoutMillis = int32(timeout / time.Millisecond)
	req.ProducerID, req.ProducerEpoch = -1, -1
	for {
		resp, err := req.RequestWith(ctx, k.cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		// Apache Kafka answers CONCURRENT_TRANSACTIONS while it aborts
		// the open transaction; ask again until it is done.
		if !errors.Is(err, kerr.ConcurrentTransactions) && !errors.Is(err, kerr.CoordinatorLoadInProgress) {
			if err != nil {
				return fmt.Errorf("fence transactional id %q: %w", txnID, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fence transactional id %q: %w", txnID, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
