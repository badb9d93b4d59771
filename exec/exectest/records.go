package exectest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Record returns a record of topic with the given bytes (nil for a null key
// or a tombstone) and timestamp in ms. Partition and offset are set by
// Number.
func Record(topic string, key, value []byte, ts int64, headers ...kgo.RecordHeader) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: key, Value: value, Timestamp: time.UnixMilli(ts), Headers: headers}
}

// JSONRecord returns a record whose key and value are the JSON encodings of
// key and value; a nil key or value gives null bytes (not JSON null).
func JSONRecord(topic string, key, value any, ts int64, headers ...kgo.RecordHeader) *kgo.Record {
	return Record(topic, jsonBytes(key), jsonBytes(value), ts, headers...)
}

func jsonBytes(v any) []byte {
	switch v := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		return []byte(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("exectest: JSON of %T: %v", v, err)) // a bug in the test itself
	}
	return b
}

// Number gives recs partition 0 and offsets 0, 1, ... in order, as the
// ksqlDB test driver does, and returns recs.
func Number(recs []*kgo.Record) []*kgo.Record {
	for i, r := range recs {
		r.Partition = 0
		r.Offset = int64(i)
	}
	return recs
}

// ParseRecord reads one record line of the datadriven notation:
//
//	<ts> | <key> | <value> [| <hkey>=<hvalue>,...]
//
// where key, value and header values use ParseBytes' notation (<nil> is a
// null key or a tombstone).
func ParseRecord(topic, line string) (*kgo.Record, error) {
	parts := strings.Split(line, " | ")
	if len(parts) < 3 || len(parts) > 4 {
		return nil, fmt.Errorf("record %q: want <ts> | <key> | <value> [| headers]", line)
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(parts[0]), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("record %q: timestamp: %w", line, err)
	}
	key, err := ParseBytes(strings.TrimSpace(parts[1]))
	if err != nil {
		return nil, fmt.Errorf("record %q: key: %w", line, err)
	}
	value, err := ParseBytes(strings.TrimSpace(parts[2]))
	if err != nil {
		return nil, fmt.Errorf("record %q: value: %w", line, err)
	}
	var hs []kgo.RecordHeader
	if len(parts) == 4 {
		for _, h := range strings.Split(strings.TrimSpace(parts[3]), ",") {
			k, v, ok := strings.Cut(h, "=")
			if !ok {
				return nil, fmt.Errorf("record %q: header %q: want key=value", line, h)
			}
			b, err := ParseBytes(v)
			if err != nil {
				return nil, fmt.Errorf("record %q: header %q: %w", line, h, err)
			}
			hs = append(hs, kgo.RecordHeader{Key: k, Value: b})
		}
	}
	return Record(topic, key, value, ts, hs...), nil
}
