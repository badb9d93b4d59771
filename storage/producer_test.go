package storage

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProducerCompressionRoundTrip(t *testing.T) {
	b := startBroker(t, "")
	k := dialKafka(t, b)
	for i, codec := range append(CompressionCodecs(), "", "LZ4") {
		t.Run("codec="+codec, func(t *testing.T) {
			topic := fmt.Sprintf("c-%d", i)
			if err := k.CreateTopic(testCtx(t), topic, 1, 0, nil); err != nil {
				t.Fatal(err)
			}
			p, err := NewProducer(b.Addrs(), ProducerOptions{Compression: codec, Linger: time.Millisecond, MaxBufferedRecords: 100})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			vals := []string{strings.Repeat("a", 500), "b", strings.Repeat("c", 500)}
			produce(t, p, topic, vals...)
			if got := consumeAll(t, b.Addrs(), topic, len(vals)); !slices.Equal(got, vals) {
				t.Fatalf("read back %d records, want %d equal ones", len(got), len(vals))
			}
		})
	}
}

func TestProducerOptionsValidation(t *testing.T) {
	seeds := []string{"127.0.0.1:9092"}
	_, err := NewProducer(seeds, ProducerOptions{Compression: "brotli"})
	if err == nil || !strings.Contains(err.Error(), `"brotli"`) || !strings.Contains(err.Error(), "gzip, lz4, none, snappy, zstd") {
		t.Fatalf("unknown codec: err = %v, want it to name the codec and list the valid ones", err)
	}
	if _, err := NewProducer(nil, ProducerOptions{}); err == nil {
		t.Fatal("no seeds accepted")
	}
	if _, err := NewProducer(seeds, ProducerOptions{Linger: -time.Second}); err == nil {
		t.Fatal("negative linger accepted")
	}
	if _, err := NewProducer(seeds, ProducerOptions{MaxBufferedRecords: -1}); err == nil {
		t.Fatal("negative MaxBufferedRecords accepted")
	}
}
