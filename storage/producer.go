package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ProducerOptions configures NewProducer. The zero value is a valid,
// non-transactional, uncompressed producer that sends without lingering.
type ProducerOptions struct {
	// Linger is how long a partition's batch waits for more records before
	// it is sent. 0 sends as soon as possible (kgo's own default is 10ms;
	// we do not inherit it, so that the zero value means what it says).
	// Throughput-bound sinks set a few milliseconds.
	Linger time.Duration

	// Compression is the batch codec: "none" (or ""), "gzip", "snappy",
	// "lz4" or "zstd". Case-insensitive.
	Compression string

	// TransactionalID makes the producer transactional (exactly-once,
	// DESIGN.md decision 7). It must be stable across restarts of the same
	// task and unique among live producers: the broker fences an older
	// producer with the same id.
	TransactionalID string

	// MaxBufferedRecords bounds records buffered before Produce blocks.
	// 0 means kgo's default (50000).
	MaxBufferedRecords int

	// ClientID names the client in broker logs. Default "sluice".
	ClientID string
	// Manual, when set, names the topics whose records carry their own
	// partition (Record.Partition): a task's changelog and checkpoint
	// partitions are its input partition, never a hash of the key.
	Manual func(topic string) bool

	// Logger receives kgo's log. Default slog.Default().
	Logger *slog.Logger
}

var codecs = map[string]func() kgo.CompressionCodec{
	"none":   kgo.NoCompression,
	"gzip":   kgo.GzipCompression,
	"snappy": kgo.SnappyCompression,
	"lz4":    kgo.Lz4Compression,
	"zstd":   kgo.ZstdCompression,
}

// CompressionCodecs returns the valid codec names, sorted.
func CompressionCodecs() []string {
	names := make([]string, 0, len(codecs))
	for n := range codecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ClientOpts validates o and returns the kgo options of a producer for
// seeds. Use it instead of NewProducer when the producer is part of a
// larger client, such as a kgo.GroupTransactSession that also consumes.
func (o ProducerOptions) ClientOpts(seeds []string) ([]kgo.Opt, error) {
	if len(seeds) == 0 {
		return nil, errors.New("producer: no seed brokers")
	}
	name := strings.ToLower(strings.TrimSpace(o.Compression))
	if name == "" {
		name = "none"
	}
	codec, ok := codecs[name]
	if !ok {
		return nil, fmt.Errorf("producer: unknown compression %q (valid: %s)", o.Compression, strings.Join(CompressionCodecs(), ", "))
	}
	if o.Linger < 0 {
		return nil, fmt.Errorf("producer: negative linger %v", o.Linger)
	}
	if o.MaxBufferedRecords < 0 {
		return nil, fmt.Errorf("producer: negative max buffered records %d", o.MaxBufferedRecords)
	}
	clientID := o.ClientID
	if clientID == "" {
		clientID = "sluice"
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID(clientID),
		kgo.WithLogger(newKgoLogger(o.Logger)),
		kgo.ProducerLinger(o.Linger),
		kgo.ProducerBatchCompression(codec()),
		// acks=all and idempotence are kgo's defaults; spelled out because
		// exactly-once and the command log's total order depend on them.
		kgo.RequiredAcks(kgo.AllISRAcks()),
	}
	if o.MaxBufferedRecords > 0 {
		opts = append(opts, kgo.MaxBufferedRecords(o.MaxBufferedRecords))
	}
	if o.TransactionalID != "" {
		opts = append(opts, kgo.TransactionalID(o.TransactionalID))
	}
	if o.Manual != nil {
		opts = append(opts, kgo.RecordPartitioner(manualFor{o.Manual, kgo.StickyKeyPartitioner(nil)}))
	}
	return opts, nil
}

// manualFor partitions the records of topics for which manual(topic) is
// true by their Record.Partition, and all others by the default (Kafka's
// murmur2 key hash, sticky for null keys), so that one producer can write
// both a task's own changelog partition and user topics keyed like any
// Kafka client would.
type manualFor struct {
	manual func(topic string) bool
	def    kgo.Partitioner
}

func (m manualFor) ForTopic(topic string) kgo.TopicPartitioner {
	if m.manual(topic) {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return m.def.ForTopic(topic)
}

// NewProducer returns a producer client. It does not contact the brokers;
// the first Produce does. The caller owns and closes the client.
func NewProducer(seeds []string, o ProducerOptions) (*kgo.Client, error) {
	opts, err := o.ClientOpts(seeds)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	return cl, nil
}
