package codec

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// KAFKA is Kafka's primitive serdes: INT and BIGINT big-endian two's
// complement, DOUBLE big-endian IEEE 754 bits, STRING UTF-8, BYTES raw.
// A spec has at most one field (newPlan enforces it); with none, nothing is
// read or written (a key-less stream's key).

type kafkaDecoder struct {
	p *plan
}

func newKafkaDecoder(p *plan) *kafkaDecoder { return &kafkaDecoder{p: p} }

func (d *kafkaDecoder) Decode(data []byte, bs []array.Builder) error {
	fs := d.p.row.fields
	checkBuilders(bs, len(fs))
	if len(fs) == 0 {
		return nil
	}
	b := bs[0]
	if data == nil {
		b.AppendNull()
		return nil
	}
	n := fs[0]
	switch n.kind {
	case kInt32:
		if len(data) != 4 {
			return d.size(b, n, "IntegerDeserializer", 4, len(data))
		}
		b.(*array.Int32Builder).Append(int32(binary.BigEndian.Uint32(data)))
	case kInt64:
		if len(data) != 8 {
			return d.size(b, n, "LongDeserializer", 8, len(data))
		}
		b.(*array.Int64Builder).Append(int64(binary.BigEndian.Uint64(data)))
	case kFloat64:
		if len(data) != 8 {
			return d.size(b, n, "DoubleDeserializer", 8, len(data))
		}
		b.(*array.Float64Builder).Append(math.Float64frombits(binary.BigEndian.Uint64(data)))
	case kString:
		sb := b.(*array.StringBuilder)
		if utf8.Valid(data) {
			sb.BinaryBuilder.Append(data)
		} else {
			// Java's String(bytes, UTF_8) replaces malformed input; keep
			// the column valid UTF-8 the same way.
			sb.Append(string([]rune(string(data))))
		}
	case kBinary:
		b.(*array.BinaryBuilder).Append(data)
	default: // rejected by newPlan
		b.AppendNull()
		return &RecordError{Format: Kafka, Column: quoteIdent(n.name), Err: convertErr("The 'KAFKA' format does not support type '" + n.baseName() + "'")}
	}
	return nil
}

func (d *kafkaDecoder) size(b array.Builder, n *node, deser string, want, got int) error {
	b.AppendNull()
	return &RecordError{Format: Kafka, Column: quoteIdent(n.name),
		Err: malformed("Size of data received by " + deser + " is not " + strconv.Itoa(want) + " (got " + strconv.Itoa(got) + " bytes)")}
}

type kafkaEncoder struct {
	p *plan
}

func newKafkaEncoder(p *plan) *kafkaEncoder { return &kafkaEncoder{p: p} }

func (e *kafkaEncoder) Encode(dst []byte, cols []arrow.Array, row int) ([]byte, error) {
	fs := e.p.row.fields
	if len(fs) == 0 || cols[0].IsNull(row) {
		return nil, nil
	}
	if dst == nil {
		dst = []byte{} // an empty STRING or BYTES is not a Kafka null
	}
	a := cols[0]
	switch fs[0].kind {
	case kInt32:
		return binary.BigEndian.AppendUint32(dst, uint32(a.(*array.Int32).Value(row))), nil
	case kInt64:
		return binary.BigEndian.AppendUint64(dst, uint64(a.(*array.Int64).Value(row))), nil
	case kFloat64:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(a.(*array.Float64).Value(row))), nil
	case kString:
		return append(dst, a.(*array.String).Value(row)...), nil
	case kBinary:
		return append(dst, a.(*array.Binary).Value(row)...), nil
	}
	return nil, &EncodeError{Format: Kafka, Column: quoteIdent(fs[0].name), Err: convertErr("The 'KAFKA' format does not support type '" + fs[0].baseName() + "'")}
}
