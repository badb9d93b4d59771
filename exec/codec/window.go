package codec

import (
	"encoding/binary"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Windowed keys use Kafka Streams' layouts: a time window (tumbling,
// hopping) appends the 8-byte big-endian start to the inner key; a session
// window appends the 8-byte end, then the 8-byte start. The columns
// WINDOWSTART and WINDOWEND (TIMESTAMP) follow the key fields; a time
// window's end is start + WindowSize, since it is not in the bytes.

func windowSuffix(w WindowType) int {
	if w == SessionWindow {
		return 16
	}
	return 8
}

type windowDecoder struct {
	inner Decoder
	spec  Spec
	nf    int // key fields before the two window columns
}

func (w *windowDecoder) Decode(data []byte, bs []array.Builder) error {
	checkBuilders(bs, w.nf+2)
	if data == nil {
		appendNulls(bs)
		return nil
	}
	suffix := windowSuffix(w.spec.Window)
	if len(data) < suffix {
		appendNulls(bs)
		return &RecordError{Format: w.spec.Format, Err: malformed("windowed key has " + strconv.Itoa(len(data)) +
			" bytes, fewer than its " + strconv.Itoa(suffix) + "-byte window")}
	}
	k := len(data) - suffix
	key := data[:k]
	var start, end int64
	if w.spec.Window == SessionWindow {
		end = int64(binary.BigEndian.Uint64(data[k:]))
		start = int64(binary.BigEndian.Uint64(data[k+8:]))
	} else {
		start = int64(binary.BigEndian.Uint64(data[k:]))
		end = start + w.spec.WindowSize
	}
	if k == 0 && (w.spec.Format == JSON || w.spec.Format == Delimited) {
		// The encoder writes a NULL inner key as no bytes; in these formats
		// no bytes cannot be a value, so read them back as NULL.
		key = nil
	}
	err := w.inner.Decode(key, bs[:w.nf])
	bs[w.nf].(*array.TimestampBuilder).Append(arrow.Timestamp(start))
	bs[w.nf+1].(*array.TimestampBuilder).Append(arrow.Timestamp(end))
	return err
}

type windowEncoder struct {
	inner Encoder
	spec  Spec
	nf    int
}

func (w *windowEncoder) Encode(dst []byte, cols []arrow.Array, row int) ([]byte, error) {
	ws, we := cols[w.nf], cols[w.nf+1]
	if ws.IsNull(row) || (w.spec.Window == SessionWindow && we.IsNull(row)) {
		return nil, &EncodeError{Format: w.spec.Format, Column: "WINDOWSTART/WINDOWEND", Err: convertErr("a windowed key needs its window bounds")}
	}
	base := len(dst)
	out, err := w.inner.Encode(dst, cols[:w.nf], row)
	if err != nil {
		return nil, err
	}
	if out == nil {
		// NULL inner key: Kafka Streams would fail; write the window alone.
		out = dst[:base]
		if out == nil {
			out = []byte{}
		}
	}
	if w.spec.Window == SessionWindow {
		out = binary.BigEndian.AppendUint64(out, uint64(we.(*array.Timestamp).Value(row)))
	}
	return binary.BigEndian.AppendUint64(out, uint64(ws.(*array.Timestamp).Value(row))), nil
}
